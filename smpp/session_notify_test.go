package smpp

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestSession_SubmitNotifyBeforeLaterPDUs: Accepted runs once, with the response, before
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
	resp, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), &SubmitHooks{Accepted: func(r *SubmitSMResp) {
		calls++
		recorded.Store(r.MessageID)
	}})
	if err != nil || resp.MessageID != "5f1e0b7a" {
		t.Fatalf("SubmitNotify = %+v, %v", resp, err)
	}
	if calls != 1 || recorded.Load() != "5f1e0b7a" {
		t.Errorf("Accepted called %d times, recorded %v; want once, with the response", calls, recorded.Load())
	}
	if got := recv(t, seenByHandler, "the receipt"); got != "5f1e0b7a" {
		t.Errorf("the Handler saw the receipt while Accepted had recorded %v: it must run first", got)
	}
}

// TestSession_SubmitWritten: Written runs once per submit, after BeforeWrite, with the time
// the submit went into the write buffer, before the SMSC could have read it; a submit that
// BeforeWrite withdraws never reaches it.
func TestSession_SubmitWritten(t *testing.T) {
	leakCheck(t)
	var readAt atomic.Int64 // when the fake SMSC had read the submit, Unix nanoseconds
	s := startSession(t, Options{}, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		readAt.Store(time.Now().UnixNano())
		if f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "w1"}) {
			f.finish()
		}
	})
	var beforeWrite time.Time
	var written []time.Time
	hooks := &SubmitHooks{
		BeforeWrite: func() error { beforeWrite = time.Now(); return nil },
		Written:     func() { written = append(written, time.Now()) },
	}
	withdrawn := &SubmitHooks{
		BeforeWrite: func() error { return errors.New("journal full") },
		Written:     func() { t.Error("Written called for a withdrawn submit") },
	}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), withdrawn); !errors.Is(err, ErrNotSent) {
		t.Fatalf("withdrawn SubmitNotify = %v, want ErrNotSent", err)
	}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), hooks); err != nil {
		t.Fatalf("SubmitNotify = %v", err)
	}
	if len(written) != 1 {
		t.Fatalf("Written called %d times, want once", len(written))
	}
	if at := written[0]; at.Before(beforeWrite) || at.UnixNano() > readAt.Load() {
		t.Errorf("Written at %v, want between BeforeWrite (%v) and the SMSC reading it (%v)",
			at, beforeWrite, time.Unix(0, readAt.Load()))
	}
}

// TestSession_SubmitNotifyOnlyOnSuccess: a refused submit, and a response that comes after
// the request timed out, never reach Accepted.
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
	notify := &SubmitHooks{Accepted: func(r *SubmitSMResp) { called <- r }}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), notify); !errors.Is(err, StatusThrottled) {
		t.Fatalf("first SubmitNotify = %v, want %v", err, StatusThrottled)
	}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), notify); !errors.Is(err, ErrResponseTimeout) {
		t.Fatalf("second SubmitNotify = %v, want a timeout", err)
	}
	close(timedOut)
	recv(t, late, "the late response")
	if len(called) != 0 {
		t.Errorf("Accepted called for %+v: only a successful, timely response may reach it", <-called)
	}
}

// TestSession_SubmitBeforeWrite: BeforeWrite runs once the submit holds a window slot, so
// with the window full it waits for the slot; an error from it withdraws the submit unsent
// (the SMSC never sees it) and frees the slot.
func TestSession_SubmitBeforeWrite(t *testing.T) {
	leakCheck(t)
	answer := make(chan struct{})
	s := startSession(t, Options{Window: 1}, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		if _, ok := tryRecv(t, answer, "the go-ahead to answer the first submit"); !ok {
			return
		}
		if !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "first"}) {
			return
		}
		// The withdrawn submit never arrives: the next PDU is the third submit.
		if h, _, ok = f.expect(SubmitSMID); ok && f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "third"}) {
			f.finish()
		}
	})
	first := submitAsync(s, context.Background(), testSubmit("447700900001"))
	for deadline := time.Now().Add(waitLimit); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		n := s.outstanding
		s.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first submit is not outstanding")
		}
	}

	entered := make(chan struct{}, 1)
	refused := errors.New("journal full")
	second := make(chan error, 1)
	go func() {
		_, err := s.SubmitNotify(context.Background(), testSubmit("447700900002"), &SubmitHooks{BeforeWrite: func() error {
			entered <- struct{}{}
			return refused
		}})
		second <- err
	}()
	select {
	case <-entered:
		t.Fatal("BeforeWrite ran while the window was full")
	case <-time.After(50 * time.Millisecond): // only a chance for a wrong BeforeWrite to run
	}
	close(answer)
	if r := recv(t, first, "the first submit"); r.err != nil || r.resp.MessageID != "first" {
		t.Fatalf("first submit = %+v, %v", r.resp, r.err)
	}
	recv(t, entered, "BeforeWrite once the slot is free")
	if err := recv(t, second, "the withdrawn submit"); !errors.Is(err, ErrNotSent) || !errors.Is(err, refused) {
		t.Fatalf("withdrawn submit = %v, want ErrNotSent wrapping the hook's error", err)
	}
	wrote := false
	resp, err := s.SubmitNotify(context.Background(), testSubmit("447700900003"), &SubmitHooks{BeforeWrite: func() error {
		wrote = true
		return nil
	}})
	if err != nil || resp.MessageID != "third" || !wrote {
		t.Fatalf("third submit = %+v, %v (BeforeWrite ran: %v); the withdrawn one must have freed its slot", resp, err, wrote)
	}
}

// TestSession_InterfaceVersion: the sc_interface_version of the bind response, and whether
// there was one.
func TestSession_InterfaceVersion(t *testing.T) {
	leakCheck(t)
	for _, tt := range []struct {
		name      string
		tlv       bool
		version   uint8
		announced bool
	}{
		{"3.4 announced", true, 0x34, true},
		{"3.3 announced", true, 0x33, true},
		{"none", false, 0, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := dialFake(t, Options{}, func(f *fakeSMSC) {
				h, p, ok := f.expect(BindTransceiverID)
				if !ok {
					return
				}
				resp := &BindResp{Mode: p.(*Bind).Mode, SystemID: "fake"}
				if tt.tlv {
					resp.TLVs.SetUint8(TagSCInterfaceVersion, tt.version)
				}
				if f.send(h.Sequence, StatusOK, resp) {
					f.finish()
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			if v, announced := s.InterfaceVersion(); v != tt.version || announced != tt.announced {
				t.Errorf("InterfaceVersion() = 0x%02X, %v; want 0x%02X, %v", v, announced, tt.version, tt.announced)
			}
		})
	}
}

// TestSession_WriterHoldsBatchOnlyBriefly: while the reader is still handling PDUs that
// arrived together, the writer holds its batch back so that the requests those PDUs wake go
// out in one write; but only for readerWaitMax. Here the first of two deliver_sm in one write
// blocks in the AsyncHandler until the SMSC has seen a submit_sm made meanwhile: a writer
// that waited for the reader to finish would never send it.
func TestSession_WriterHoldsBatchOnlyBriefly(t *testing.T) {
	leakCheck(t)
	handling := make(chan struct{})
	seen := make(chan struct{})
	var calls atomic.Int32
	opt := Options{AsyncHandler: func(_ context.Context, _ PDU, answer func(Status)) {
		if calls.Add(1) == 1 {
			close(handling)
			select {
			case <-seen:
			case <-time.After(waitLimit):
				t.Error("the submit_sm made while the reader was busy was not written")
			}
		}
		answer(StatusOK)
	}}
	s := startSession(t, opt, func(f *fakeSMSC) {
		dsm := &DeliverSM{SourceAddr: "447700900001", ShortMessage: []byte("hi")}
		first, _ := AppendPDU(nil, 1, StatusOK, dsm)
		both, _ := AppendPDU(first, 2, StatusOK, dsm)
		if !f.sendRaw(both) {
			return
		}
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		close(seen)
		if !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "m1"}) {
			return
		}
		for range 2 {
			if _, _, ok := f.expect(DeliverSMRespID); !ok {
				return
			}
		}
		f.finish()
	})
	recv(t, handling, "the first deliver_sm")
	if resp, err := s.Submit(context.Background(), testSubmit("447700900002")); err != nil || resp.MessageID != "m1" {
		t.Fatalf("Submit = %+v, %v", resp, err)
	}
}

// A response of another command to a request leaves its outcome unknown: the error says so
// (ErrUnexpectedResponse), apart from a refusal.
func TestResponseError(t *testing.T) {
	if err := responseError(SubmitSMID, Header{ID: EnquireLinkRespID, Sequence: 7}); !errors.Is(err, ErrUnexpectedResponse) {
		t.Errorf("enquire_link_resp to submit_sm: %v, want ErrUnexpectedResponse", err)
	}
	if err := responseError(SubmitSMID, Header{ID: SubmitSMRespID, Status: StatusInvDstAdr}); err != StatusInvDstAdr {
		t.Errorf("a refusal: %v, want its status", err)
	}
	if err := responseError(SubmitSMID, Header{ID: SubmitSMRespID}); err != nil {
		t.Errorf("an acceptance: %v", err)
	}
}
