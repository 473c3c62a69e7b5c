package smpp

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestSession_SubmitNotifyBeforeLaterPDUs: onAccepted runs once, with the response, before
// the Handler sees the receipt that the SMSC sent right behind the response (in the same
// write), and before SubmitNotify returns.
func TestSession_SubmitNotifyBeforeLaterPDUs(t *testing.T) {
	leakCheck(t)
	var recorded atomic.Value // the message id onAccepted recorded
	seenByHandler := make(chan any, 1)
	opt := Options{Handler: func(_ context.Context, p PDU) Status {
		seenByHandler <- recorded.Load()
		return StatusOK
	}}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		resp, _ := AppendPDU(nil, h.Sequence, StatusOK, &SubmitSMResp{MessageID: "5f1e0b7a"})
		both, _ := AppendPDU(resp, 1, StatusOK, &DeliverSM{ESMClass: 0x04, ShortMessage: []byte(receiptText)})
		if !f.sendRaw(both) {
			return
		}
		if _, _, ok := f.expect(DeliverSMRespID); ok {
			f.finish()
		}
	})
	calls := 0
	resp, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), func(r *SubmitSMResp) {
		calls++
		recorded.Store(r.MessageID)
	})
	if err != nil || resp.MessageID != "5f1e0b7a" {
		t.Fatalf("SubmitNotify = %+v, %v", resp, err)
	}
	if calls != 1 || recorded.Load() != "5f1e0b7a" {
		t.Errorf("onAccepted called %d times, recorded %v; want once, with the response", calls, recorded.Load())
	}
	if got := recv(t, seenByHandler, "the receipt"); got != "5f1e0b7a" {
		t.Errorf("the Handler saw the receipt while onAccepted had recorded %v: it must run first", got)
	}
}

// TestSession_SubmitNotifyOnlyOnSuccess: a refused submit, and a response that comes after
// the request timed out, never reach onAccepted.
func TestSession_SubmitNotifyOnlyOnSuccess(t *testing.T) {
	leakCheck(t)
	late := make(chan struct{}, 1)
	timedOut := make(chan struct{})
	opt := Options{RespTimeout: 200 * time.Millisecond, OnLateResponse: func(uint32, Header, PDU) { late <- struct{}{} }}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok || !f.send(h.Sequence, StatusThrottled, &SubmitSMResp{}) {
			return
		}
		if h, _, ok = f.expect(SubmitSMID); !ok {
			return
		}
		if _, ok := tryRecv(t, timedOut, "the submit to time out"); !ok {
			return
		}
		if f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "late"}) {
			f.finish()
		}
	})
	called := make(chan *SubmitSMResp, 2)
	notify := func(r *SubmitSMResp) { called <- r }
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), notify); !errors.Is(err, StatusThrottled) {
		t.Fatalf("first SubmitNotify = %v, want %v", err, StatusThrottled)
	}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), notify); !errors.Is(err, ErrResponseTimeout) {
		t.Fatalf("second SubmitNotify = %v, want a timeout", err)
	}
	close(timedOut)
	recv(t, late, "the late response")
	if len(called) != 0 {
		t.Errorf("onAccepted called for %+v: only a successful, timely response may reach it", <-called)
	}
}
