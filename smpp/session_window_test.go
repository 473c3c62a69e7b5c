package smpp

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request that timed out is still outstanding at the SMSC: it keeps its window slot until
// its late response arrives, so a resend cannot exceed the window.
func TestSession_TimedOutRequestKeepsItsSlot(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	late := make(chan uint32, 1)
	opt := Options{
		Window:      1,
		RespTimeout: 100 * time.Millisecond,
		OnLateResponse: func(seq uint32, h Header, p PDU) {
			late <- seq
		},
	}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		if _, ok := tryRecv(t, release, "the test to release the late response"); !ok {
			return
		}
		// Nothing else may have been written meanwhile: the window is 1.
		if !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "late"}) {
			return
		}
		if h, _, ok = f.expect(SubmitSMID); ok && f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "next"}) {
			f.finish()
		}
	})
	_, err := s.Submit(context.Background(), testSubmit("447700900001"))
	var te *TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("Submit = %v, want a *TimeoutError", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = s.Submit(ctx, testSubmit("447700900002"))
	cancel()
	if !errors.Is(err, ErrNotSent) {
		t.Errorf("Submit while the only slot is held by a timed-out request = %v, want ErrNotSent", err)
	}
	close(release)
	if seq := recv(t, late, "the late response"); seq != te.Seq {
		t.Errorf("late response for sequence_number %d, want %d", seq, te.Seq)
	}
	resp, err := s.Submit(context.Background(), testSubmit("447700900003"))
	if err != nil || resp.MessageID != "next" {
		t.Errorf("Submit after the late response = %+v, %v; want message_id next", resp, err)
	}
}

// A window held entirely by timed-out requests for another RespTimeout ends the session
// with ErrDeadPeer, so that the caller binds again instead of waiting for ever.
func TestSession_WindowOfTimeoutsEndsSession(t *testing.T) {
	leakCheck(t)
	opt := Options{Window: 2, RespTimeout: 100 * time.Millisecond, EnquireLinkInterval: time.Hour}
	s := startSession(t, opt, func(f *fakeSMSC) {
		for range 2 {
			if _, _, ok := f.expect(SubmitSMID); !ok {
				return
			}
		}
		f.expectEOF() // never answered: the session gives up on the connection
	})
	for range 2 {
		if _, err := s.Submit(context.Background(), testSubmit("447700900001")); !errors.Is(err, ErrResponseTimeout) {
			t.Fatalf("Submit = %v, want a timeout", err)
		}
	}
	recv(t, s.Done(), "the session to end")
	if err := s.Err(); !errors.Is(err, ErrDeadPeer) {
		t.Errorf("Err() = %v, want ErrDeadPeer", err)
	}
}

// Abort ends a Close that waits for an unbind_resp that never comes.
func TestSession_AbortCutsCloseShort(t *testing.T) {
	leakCheck(t)
	unbinding := make(chan struct{})
	s := startSession(t, Options{RespTimeout: time.Minute}, func(f *fakeSMSC) {
		if _, _, ok := f.expect(UnbindID); ok {
			close(unbinding) // never answered
			f.expectEOF()
		}
	})
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	recv(t, unbinding, "the unbind")
	s.Abort()
	recv(t, closed, "Close to return after Abort")
	if err := s.Err(); err != nil {
		t.Errorf("Err() = %v after Abort, want nil", err)
	}
}
