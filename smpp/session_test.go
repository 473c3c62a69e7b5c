package smpp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smscast/internal/stacks"
)

// waitLimit bounds every wait in these tests. Reaching it fails the test; it is never a
// measurement, so a slow machine only makes the tests slower.
const waitLimit = 10 * time.Second

// leakCheck verifies, after the test and all its cleanups, that no goroutine is left.
func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

// recv waits for one value from ch, failing the test after waitLimit. Only the test
// goroutine may call it; fake SMSC scripts use tryRecv.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	v, ok := tryRecv(t, ch, what)
	if !ok {
		t.FailNow()
	}
	return v
}

// tryRecv waits for one value from ch; after waitLimit it reports an error and false.
func tryRecv[T any](t *testing.T, ch <-chan T, what string) (T, bool) {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v, true
	case <-timer.C:
		t.Errorf("gave up waiting for %s after %v", what, waitLimit)
		var zero T
		return zero, false
	}
}

// fakeSMSC is the SMSC end of one connection. A test script drives it on its own
// goroutine, reporting problems with t.Errorf.
type fakeSMSC struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	rbuf []byte
}

// read returns the next PDU the session sent.
func (f *fakeSMSC) read() (Header, PDU, error) {
	f.conn.SetReadDeadline(time.Now().Add(waitLimit))
	pdu, err := ReadPDU(f.br, f.rbuf, 0)
	if err != nil {
		return Header{}, nil, err
	}
	f.rbuf = pdu
	return Decode(pdu)
}

// expect reads the next PDU and reports whether it is a valid id.
func (f *fakeSMSC) expect(id CommandID) (Header, PDU, bool) {
	f.t.Helper()
	h, p, err := f.read()
	switch {
	case err != nil:
		f.t.Errorf("fake SMSC: waiting for %v: %v", id, err)
		return h, p, false
	case h.ID != id:
		f.t.Errorf("fake SMSC: got %v (sequence_number %d), want %v", h.ID, h.Sequence, id)
		return h, p, false
	}
	return h, p, true
}

// send writes one PDU to the session.
func (f *fakeSMSC) send(seq uint32, st Status, p PDU) bool {
	f.t.Helper()
	b, err := AppendPDU(nil, seq, st, p)
	if err != nil {
		f.t.Errorf("fake SMSC: encode %v: %v", p.CommandID(), err)
		return false
	}
	return f.sendRaw(b)
}

// sendRaw writes b as it is, for malformed PDUs.
func (f *fakeSMSC) sendRaw(b []byte) bool {
	f.t.Helper()
	f.conn.SetWriteDeadline(time.Now().Add(waitLimit))
	if _, err := f.conn.Write(b); err != nil {
		f.t.Errorf("fake SMSC: write: %v", err)
		return false
	}
	return true
}

// acceptBind answers the session's bind with system_id "fake".
func (f *fakeSMSC) acceptBind() bool {
	f.t.Helper()
	h, p, err := f.read()
	b, ok := p.(*Bind)
	if err != nil || !ok {
		f.t.Errorf("fake SMSC: want a bind, got %v, %T, %v", h.ID, p, err)
		return false
	}
	return f.send(h.Sequence, StatusOK, &BindResp{Mode: b.Mode, SystemID: "fake"})
}

// finish expects the session's unbind and nothing else, answers it, and waits for the
// session to close the connection.
func (f *fakeSMSC) finish() {
	f.t.Helper()
	h, _, ok := f.expect(UnbindID)
	if !ok || !f.send(h.Sequence, StatusOK, &UnbindResp{}) {
		return
	}
	f.expectEOF()
}

// expectEOF waits for the session to close the connection without sending anything more.
func (f *fakeSMSC) expectEOF() {
	f.t.Helper()
	if h, _, err := f.read(); !errors.Is(err, io.EOF) {
		f.t.Errorf("fake SMSC: want the connection closed, got %v (sequence_number %d), %v",
			h.ID, h.Sequence, err)
	}
}

// runPeer runs script over conn on a new goroutine; the channel closes when it is done.
func runPeer(t *testing.T, conn net.Conn, script func(f *fakeSMSC)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		script(&fakeSMSC{t: t, conn: conn, br: bufio.NewReader(conn)})
	}()
	return done
}

// dialFake dials a fake SMSC on 127.0.0.1 that runs script (bind included). Cleanup closes
// the session and waits for the script.
func dialFake(t *testing.T, opt Options, script func(f *fakeSMSC)) (*Session, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return dialListener(t, ln, opt, script)
}

func dialListener(t *testing.T, ln net.Listener, opt Options, script func(f *fakeSMSC)) (*Session, error) {
	t.Helper()
	accepted := make(chan (<-chan struct{}), 1)
	go func() {
		conn, err := ln.Accept()
		ln.Close()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- runPeer(t, conn, script)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := Dial(ctx, ln.Addr().String(), opt)
	ln.Close() // unblocks Accept if Dial never connected
	peerDone := recv(t, accepted, "the fake SMSC to accept")
	t.Cleanup(func() {
		if s != nil {
			s.Close()
		}
		if peerDone != nil {
			recv(t, peerDone, "the fake SMSC script to finish")
		}
	})
	return s, err
}

// startSession dials a fake SMSC that accepts the bind and then runs script.
func startSession(t *testing.T, opt Options, script func(f *fakeSMSC)) *Session {
	t.Helper()
	s, err := dialFake(t, opt, func(f *fakeSMSC) {
		if f.acceptBind() {
			script(f)
		}
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return s
}

// submitAsync runs Submit on its own goroutine; the channel delivers its outcome.
func submitAsync(s *Session, ctx context.Context, p *SubmitSM) <-chan submitResult {
	ch := make(chan submitResult, 1)
	go func() {
		resp, err := s.Submit(ctx, p)
		ch <- submitResult{resp, err}
	}()
	return ch
}

type submitResult struct {
	resp *SubmitSMResp
	err  error
}

func testSubmit(dest string) *SubmitSM {
	return &SubmitSM{SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: dest,
		ShortMessage: []byte("Hello @ 12:00")}
}

func TestSession_WindowNeverExceeded(t *testing.T) {
	leakCheck(t)
	const window, total = 4, 40
	most := make(chan int, 1)
	s := startSession(t, Options{Window: window}, func(f *fakeSMSC) {
		type held struct {
			seq  uint32
			dest string
		}
		var outstanding []held
		peak := 0
		for n := 0; n < total; {
			h, p, ok := f.expect(SubmitSMID)
			if !ok {
				return
			}
			n++
			outstanding = append(outstanding, held{h.Sequence, p.(*SubmitSM).DestinationAddr})
			peak = max(peak, len(outstanding))
			if len(outstanding) < window && n < total {
				continue // hold the answers until the window is full
			}
			for i := len(outstanding) - 1; i >= 0; i-- { // out of order on purpose
				r := outstanding[i]
				if !f.send(r.seq, StatusOK, &SubmitSMResp{MessageID: "id-" + r.dest}) {
					return
				}
			}
			outstanding = outstanding[:0]
		}
		most <- peak
		f.finish()
	})

	results := make(chan error, total)
	for i := range total {
		go func() {
			dest := fmt.Sprint(447700900000 + i)
			resp, err := s.Submit(context.Background(), testSubmit(dest))
			if err == nil && resp.MessageID != "id-"+dest {
				err = fmt.Errorf("destination %s got message_id %q: responses crossed", dest, resp.MessageID)
			}
			results <- err
		}()
	}
	for range total {
		if err := recv(t, results, "a submit to finish"); err != nil {
			t.Error(err)
		}
	}
	if peak := recv(t, most, "the fake SMSC's count"); peak != window {
		t.Errorf("the SMSC saw at most %d requests outstanding, want exactly the window %d", peak, window)
	}
	if n := s.Outstanding(); n != 0 {
		t.Errorf("Outstanding() = %d after every response, want 0", n)
	}
}

func TestSession_ResponseTimeoutThenLateResponse(t *testing.T) {
	leakCheck(t)
	timedOut := make(chan uint32, 1)
	late := make(chan uint32, 1)
	opt := Options{
		RespTimeout: 200 * time.Millisecond,
		OnLateResponse: func(seq uint32, h Header, p PDU) {
			if r, ok := p.(*SubmitSMResp); ok && r.MessageID == "late" && h.Sequence == seq {
				late <- seq
			}
		},
	}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		seq, ok := tryRecv(t, timedOut, "the submit to time out")
		if !ok {
			return
		}
		if seq != h.Sequence {
			t.Errorf("TimeoutError.Seq = %d, the SMSC received sequence_number %d", seq, h.Sequence)
		}
		f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "late"})
		if h, _, ok = f.expect(SubmitSMID); ok && f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "prompt"}) {
			f.finish()
		}
	})

	_, err := s.Submit(context.Background(), testSubmit("447700900001"))
	var te *TimeoutError
	if !errors.As(err, &te) || !errors.Is(err, ErrResponseTimeout) {
		t.Fatalf("Submit = %v, want a *TimeoutError", err)
	}
	if errors.Is(err, ErrNotSent) || errors.Is(err, ErrConnectionLost) {
		t.Errorf("a written request that timed out must not claim %v", err)
	}
	timedOut <- te.Seq
	if seq := recv(t, late, "the late response"); seq != te.Seq {
		t.Errorf("OnLateResponse got sequence_number %d, want %d", seq, te.Seq)
	}
	resp, err := s.Submit(context.Background(), testSubmit("447700900002"))
	if err != nil || resp.MessageID != "prompt" {
		t.Errorf("Submit after a timeout = %+v, %v; want message_id prompt", resp, err)
	}
}

// Close waits for the answer to a request that timed out before it unbinds: the SMSC may
// have accepted it, and its answer says so, where an unbind at once would leave it unknown.
func TestSession_CloseWaitsForATimedOutRequest(t *testing.T) {
	leakCheck(t)
	late := make(chan string, 1)
	closing := make(chan struct{})
	opt := Options{
		RespTimeout: 200 * time.Millisecond,
		OnLateResponse: func(_ uint32, _ Header, p PDU) {
			if r, ok := p.(*SubmitSMResp); ok {
				late <- r.MessageID
			}
		},
	}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		if _, ok := tryRecv(t, closing, "Close to wait"); !ok {
			return
		}
		if f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "late"}) {
			f.finish()
		}
	})
	if _, err := s.Submit(context.Background(), testSubmit("447700900001")); !errors.Is(err, ErrResponseTimeout) {
		t.Fatalf("Submit = %v, want a timeout", err)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	// Parked in Close: waiting for the answer, or (had it not waited) for unbind_resp.
	for _, g := range stacks.Await(t, "smscast/smpp.(*Session).shutdown", 1, waitLimit) {
		if strings.Contains(g, "smscast/smpp.(*Session).unbind(") {
			t.Errorf("Close sent unbind while a timed-out request could still be answered")
		}
	}
	close(closing)
	if id := recv(t, late, "the late answer"); id != "late" {
		t.Errorf("late answer with message_id %q, want late", id)
	}
	if err := recv(t, closed, "Close"); err != nil {
		t.Errorf("Close = %v", err)
	}
}

// What Close waits for: requests awaiting their answers and handlers for RespTimeout;
// requests that timed out only until RespTimeout after their deadlines, so that one the SMSC
// never answered long ago does not hold Close for RespTimeout once the others are answered.
func TestSession_CloseWaitsForFreshTimeoutsOnly(t *testing.T) {
	const rt = 10 * time.Second
	now := time.Now()
	tests := []struct {
		name        string
		outstanding int
		timedOut    []time.Duration // deadlines, relative to the start of Close
		awaited     int
		wait        time.Duration
	}{
		{"nothing", 0, nil, 0, 0},
		{"outstanding", 2, nil, 2, rt},
		{"a timeout long ago", 0, []time.Duration{-2 * rt}, 0, 0},
		{"a fresh timeout", 0, []time.Duration{-rt / 4}, 1, 3 * rt / 4},
		{"both", 0, []time.Duration{-2 * rt, -rt / 2}, 1, rt / 2},
		{"outstanding and a timeout long ago", 1, []time.Duration{-3 * rt}, 1, rt},
	}
	for _, tt := range tests {
		s := &Session{opt: Options{RespTimeout: rt}, timedOut: map[uint32]time.Time{}, outstanding: tt.outstanding, closeStart: now}
		for i, d := range tt.timedOut {
			s.timedOut[uint32(i+1)] = now.Add(d)
		}
		if got := s.awaitedLocked(); got != tt.awaited {
			t.Errorf("%s: awaited %d, want %d", tt.name, got, tt.awaited)
		}
		if got := s.closeWaitLocked(); got != tt.wait {
			t.Errorf("%s: Close waits %v, want %v", tt.name, got, tt.wait)
		}
	}
}

// A response that matches no request — the SMSC repeating one, or a generic_nack with
// sequence_number 0 — is dropped, not passed on as late: nobody could ever claim it, and a
// caller keeping such responses for a timeout that never comes would grow without bound.
func TestSession_StrayResponsesAreNotLate(t *testing.T) {
	leakCheck(t)
	var late, strays atomic.Int32
	opt := Options{OnLateResponse: func(uint32, Header, PDU) { late.Add(1) }, OnStray: func(Header) { strays.Add(1) }}
	s := startSession(t, opt, func(f *fakeSMSC) {
		for _, id := range []string{"first", "second"} {
			h, _, ok := f.expect(SubmitSMID)
			if !ok {
				return
			}
			resp, _ := AppendPDU(nil, h.Sequence, StatusOK, &SubmitSMResp{MessageID: id})
			dup := append(append([]byte(nil), resp...), resp...)
			dup, _ = AppendPDU(dup, 0, StatusSysErr, &GenericNack{})
			if !f.sendRaw(dup) {
				return
			}
		}
		f.finish()
	})
	for _, want := range []string{"first", "second"} {
		resp, err := s.Submit(context.Background(), testSubmit("447700900001"))
		if err != nil || resp.MessageID != want {
			t.Fatalf("Submit = %+v, %v; want message_id %s", resp, err, want)
		}
	}
	s.Close() // the reader has handled every stray once the session has ended
	if n := late.Load(); n != 0 {
		t.Errorf("OnLateResponse called %d times for stray responses, want never", n)
	}
	if n := strays.Load(); n != 4 {
		t.Errorf("OnStray called %d times, want 4 (a repeated response and a generic_nack, twice)", n)
	}
}

func TestSession_PeerDropsMidWindow(t *testing.T) {
	leakCheck(t)
	const window = 5
	// RespTimeout is far beyond waitLimit: only the connection loss can end the calls in time.
	s := startSession(t, Options{Window: window, RespTimeout: time.Hour}, func(f *fakeSMSC) {
		for range window {
			if _, _, ok := f.expect(SubmitSMID); !ok {
				return
			}
		}
		// Returning closes the connection with every submit unanswered.
	})
	results := make([]<-chan submitResult, window)
	for i := range results {
		results[i] = submitAsync(s, context.Background(), testSubmit(fmt.Sprint(447700900000+i)))
	}
	for _, ch := range results {
		r := recv(t, ch, "a submit to fail")
		if !errors.Is(r.err, ErrConnectionLost) || errors.Is(r.err, ErrNotSent) {
			t.Errorf("in-flight Submit = %v, want ErrConnectionLost", r.err)
		}
	}
	recv(t, s.Done(), "the session to end")
	if err := s.Err(); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Err() = %v, want ErrConnectionLost", err)
	}
	if _, err := s.Submit(context.Background(), testSubmit("447700900009")); !errors.Is(err, ErrNotSent) {
		t.Errorf("Submit after the loss = %v, want ErrNotSent", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after the loss = %v", err)
	}
}

func TestSession_AnswersEnquireLink(t *testing.T) {
	leakCheck(t)
	answered := make(chan struct{})
	startSession(t, Options{}, func(f *fakeSMSC) {
		if !f.send(77, StatusOK, &EnquireLink{}) {
			return
		}
		h, _, ok := f.expect(EnquireLinkRespID)
		if ok && (h.Sequence != 77 || h.Status != StatusOK) {
			t.Errorf("enquire_link_resp has sequence_number %d, status %v; want 77, 0", h.Sequence, h.Status)
		}
		close(answered)
		f.finish()
	})
	recv(t, answered, "the enquire_link_resp")
}

func TestSession_ProbesIdleLink(t *testing.T) {
	leakCheck(t)
	const probes = 3
	probed := make(chan struct{})
	s := startSession(t, Options{EnquireLinkInterval: 20 * time.Millisecond}, func(f *fakeSMSC) {
		for range probes {
			h, _, ok := f.expect(EnquireLinkID)
			if !ok || !f.send(h.Sequence, StatusOK, &EnquireLinkResp{}) {
				return
			}
		}
		close(probed)
		// More probes may come before Close's unbind; answer them too.
		for {
			h, _, err := f.read()
			switch {
			case err != nil:
				t.Errorf("fake SMSC: waiting for unbind: %v", err)
				return
			case h.ID == EnquireLinkID:
				f.send(h.Sequence, StatusOK, &EnquireLinkResp{})
			case h.ID == UnbindID:
				f.send(h.Sequence, StatusOK, &UnbindResp{})
				f.expectEOF()
				return
			default:
				t.Errorf("fake SMSC: unexpected %v", h.ID)
				return
			}
		}
	})
	recv(t, probed, "three answered probes")
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
}

func TestSession_DeadPeer(t *testing.T) {
	leakCheck(t)
	opt := Options{EnquireLinkInterval: 20 * time.Millisecond, RespTimeout: 100 * time.Millisecond}
	s := startSession(t, opt, func(f *fakeSMSC) {
		if _, _, ok := f.expect(EnquireLinkID); ok { // and never answer it
			f.expectEOF()
		}
	})
	recv(t, s.Done(), "the session to give up on the silent SMSC")
	if err := s.Err(); !errors.Is(err, ErrDeadPeer) {
		t.Errorf("Err() = %v, want ErrDeadPeer", err)
	}
}

// An SMSC that answers enquire_link with another sequence_number is as good as silent, but
// the error says what it did, rather than that it stopped answering.
func TestSession_ProbeAnsweredWithAnotherSequence(t *testing.T) {
	leakCheck(t)
	opt := Options{EnquireLinkInterval: 20 * time.Millisecond, RespTimeout: 100 * time.Millisecond}
	s := startSession(t, opt, func(f *fakeSMSC) {
		if h, _, ok := f.expect(EnquireLinkID); ok && f.send(h.Sequence+1000, StatusOK, &EnquireLinkResp{}) {
			f.expectEOF()
		}
	})
	recv(t, s.Done(), "the session to give up on the SMSC")
	if err := s.Err(); !errors.Is(err, ErrDeadPeer) || !strings.Contains(err.Error(), "numbers its answers wrongly") {
		t.Errorf("Err() = %v, want ErrDeadPeer saying the answer had another sequence_number", err)
	}
}

func TestSession_PeerUnbinds(t *testing.T) {
	leakCheck(t)
	s := startSession(t, Options{RespTimeout: time.Hour}, func(f *fakeSMSC) {
		if _, _, ok := f.expect(SubmitSMID); !ok { // left unanswered: in flight at the unbind
			return
		}
		if !f.send(9, StatusOK, &Unbind{}) {
			return
		}
		if h, _, ok := f.expect(UnbindRespID); ok && (h.Sequence != 9 || h.Status != StatusOK) {
			t.Errorf("unbind_resp has sequence_number %d, status %v; want 9, 0", h.Sequence, h.Status)
		}
		f.expectEOF()
	})
	r := recv(t, submitAsync(s, context.Background(), testSubmit("447700900001")), "the submit")
	if !errors.Is(r.err, ErrConnectionLost) || !errors.Is(r.err, ErrUnboundByPeer) {
		t.Errorf("in-flight Submit = %v, want ErrConnectionLost and ErrUnboundByPeer", r.err)
	}
	recv(t, s.Done(), "the session to end")
	if err := s.Err(); !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Err() = %v, want ErrUnboundByPeer", err)
	}
}

// An SMSC that unbinds and then answers the requests it still had (some flush their last
// answers so): the answers are taken, rather than the connection closed under them, which
// left the messages unknown and made the campaign send them again. The late answer of a
// request that had timed out is taken too.
func TestSession_PeerUnbindsThenAnswers(t *testing.T) {
	leakCheck(t)
	late := make(chan string, 1)
	timedOut := make(chan struct{})
	opt := Options{RespTimeout: 300 * time.Millisecond, OnLateResponse: func(_ uint32, _ Header, p PDU) {
		if r, ok := p.(*SubmitSMResp); ok {
			late <- r.MessageID
		}
	}}
	s := startSession(t, opt, func(f *fakeSMSC) {
		first, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		if _, ok := tryRecv(t, timedOut, "the first submit to time out"); !ok {
			return
		}
		second, _, ok := f.expect(SubmitSMID)
		if !ok || !f.send(9, StatusOK, &Unbind{}) {
			return
		}
		if _, _, ok := f.expect(UnbindRespID); ok &&
			f.send(second.Sequence, StatusOK, &SubmitSMResp{MessageID: "after-unbind"}) &&
			f.send(first.Sequence, StatusOK, &SubmitSMResp{MessageID: "late"}) {
			f.expectEOF()
		}
	})
	if _, err := s.Submit(context.Background(), testSubmit("447700900001")); !errors.Is(err, ErrResponseTimeout) {
		t.Fatalf("first Submit = %v, want a timeout", err)
	}
	second := submitAsync(s, context.Background(), testSubmit("447700900002"))
	close(timedOut)
	r := recv(t, second, "the submit in flight at the unbind")
	if r.err != nil || r.resp.MessageID != "after-unbind" {
		t.Errorf("Submit in flight at the unbind = %+v, %v; want the answer sent after the unbind", r.resp, r.err)
	}
	if id := recv(t, late, "the late answer"); id != "late" {
		t.Errorf("late answer %q, want late", id)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Err(); !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Err() = %v, want ErrUnboundByPeer", err)
	}
}

// Once the SMSC has unbound, the session takes no request, while it may still read the
// answers to those in flight: Done is closed at once, with Err saying why, and a submit is
// refused unsent before its BeforeWrite hook runs (which would record it as going out). An
// Abort then keeps that Err.
func TestSession_NoRequestAfterThePeerUnbinds(t *testing.T) {
	leakCheck(t)
	unbound := make(chan struct{})
	s := startSession(t, Options{RespTimeout: time.Hour}, func(f *fakeSMSC) {
		if _, _, ok := f.expect(SubmitSMID); !ok || !f.send(9, StatusOK, &Unbind{}) {
			return
		}
		if _, _, ok := f.expect(UnbindRespID); ok {
			close(unbound)
			f.expectEOF() // the submit stays unanswered
		}
	})
	first := submitAsync(s, context.Background(), testSubmit("447700900001"))
	recv(t, unbound, "the unbind_resp")
	recv(t, s.Done(), "Done after the SMSC's unbind")
	if err := s.Err(); !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Err() once Done = %v, want ErrUnboundByPeer", err)
	}
	var before atomic.Int32
	hooks := &SubmitHooks{BeforeWrite: func() error { before.Add(1); return nil }}
	if _, err := s.SubmitNotify(context.Background(), testSubmit("447700900002"), hooks); !errors.Is(err, ErrNotSent) || !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Submit after the unbind = %v, want ErrNotSent and ErrUnboundByPeer", err)
	}
	if n := before.Load(); n != 0 {
		t.Errorf("BeforeWrite ran %d times for a request refused unsent", n)
	}
	s.Abort()
	if r := recv(t, first, "the submit in flight"); !errors.Is(r.err, ErrConnectionLost) {
		t.Errorf("Submit in flight = %v, want ErrConnectionLost", r.err)
	}
	if err := s.Err(); !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Err() after an Abort = %v, want ErrUnboundByPeer", err)
	}
}

// An SMSC that closes the connection as soon as it has sent unbind (or once it read the
// unbind_resp, before the writer ended the session itself) unbound the session: the end of
// the connection must not turn that into a lost connection.
func TestSession_PeerUnbindsAndCloses(t *testing.T) {
	leakCheck(t)
	s := startSession(t, Options{}, func(f *fakeSMSC) {
		f.send(9, StatusOK, &Unbind{}) // the script's end closes the connection at once
	})
	recv(t, s.Done(), "the session to end")
	if err := s.Err(); !errors.Is(err, ErrUnboundByPeer) {
		t.Errorf("Err() = %v, want ErrUnboundByPeer", err)
	}
}

func TestSession_ReceiptBeforeSubmitResp(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	handled := make(chan *DeliverSM, 1)
	respStatus := make(chan Status, 1)
	opt := Options{
		RespTimeout: time.Hour,
		Handler: func(ctx context.Context, p PDU) Status {
			if d, ok := p.(*DeliverSM); ok {
				handled <- d
			}
			select { // a slow handler: busy until the test has seen the submit complete
			case <-release:
			case <-ctx.Done():
			}
			return StatusOK
		},
	}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		receipt := &DeliverSM{ESMClass: 0x04,
			ShortMessage: []byte("id:42 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Hello")}
		receipt.TLVs.SetCString(TagReceiptedMessageID, "42")
		if !f.send(100, StatusOK, receipt) || !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "42"}) {
			return
		}
		if dh, _, ok := f.expect(DeliverSMRespID); ok {
			if dh.Sequence != 100 {
				t.Errorf("deliver_sm_resp has sequence_number %d, want 100", dh.Sequence)
			}
			respStatus <- dh.Status
		}
		f.finish()
	})
	submitted := submitAsync(s, context.Background(), testSubmit("447700900001"))
	d := recv(t, handled, "the handler to receive the receipt")
	if id, _ := d.TLVs.CString(TagReceiptedMessageID); id != "42" {
		t.Errorf("handler got receipted_message_id %q, want 42", id)
	}
	// The handler is still busy: the submit_sm_resp behind the receipt must get through.
	if r := recv(t, submitted, "the submit while the handler is busy"); r.err != nil || r.resp.MessageID != "42" {
		t.Errorf("Submit = %+v, %v; want message_id 42", r.resp, r.err)
	}
	close(release)
	if st := recv(t, respStatus, "the deliver_sm_resp"); st != StatusOK {
		t.Errorf("deliver_sm_resp status %v, want 0", st)
	}
}

func TestSession_HandlerStatusIsAnswered(t *testing.T) {
	payload := func() TLVs {
		var ts TLVs
		ts.Set(TagMessagePayload, []byte("id:7 stat:UNDELIV"))
		return ts
	}
	cases := []struct {
		name   string
		pdu    PDU
		status Status
		resp   CommandID
	}{
		{"deliver_sm accepted", &DeliverSM{ShortMessage: []byte("hi")}, StatusOK, DeliverSMRespID},
		{"deliver_sm redeliver later", &DeliverSM{ShortMessage: []byte("hi")}, StatusXTAppn, DeliverSMRespID},
		{"data_sm accepted", &DataSM{TLVs: payload()}, StatusOK, DataSMRespID},
		{"data_sm refused", &DataSM{TLVs: payload()}, StatusXPAppn, DataSMRespID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			got := make(chan PDU, 1)
			opt := Options{Handler: func(ctx context.Context, p PDU) Status {
				got <- p
				return tc.status
			}}
			// Over net.Pipe: NewSession works on any net.Conn.
			client, server := net.Pipe()
			peerDone := runPeer(t, server, func(f *fakeSMSC) {
				if !f.acceptBind() || !f.send(31, StatusOK, tc.pdu) {
					return
				}
				if h, _, ok := f.expect(tc.resp); ok && (h.Sequence != 31 || h.Status != tc.status) {
					t.Errorf("%v has sequence_number %d, status %v; want 31, %v", tc.resp, h.Sequence, h.Status, tc.status)
				}
				f.finish()
			})
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			s, err := NewSession(ctx, client, opt)
			if err != nil {
				t.Fatalf("NewSession: %v", err)
			}
			if p := recv(t, got, "the handler call"); p.CommandID() != tc.pdu.CommandID() {
				t.Errorf("handler got %v, want %v", p.CommandID(), tc.pdu.CommandID())
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close = %v", err)
			}
			recv(t, peerDone, "the fake SMSC script to finish")
		})
	}
}

func TestSession_WithoutHandlerAsksForRedelivery(t *testing.T) {
	leakCheck(t)
	answered := make(chan Status, 1)
	startSession(t, Options{}, func(f *fakeSMSC) {
		if !f.send(5, StatusOK, &DeliverSM{ShortMessage: []byte("x")}) {
			return
		}
		if h, _, ok := f.expect(DeliverSMRespID); ok {
			answered <- h.Status
		}
		f.finish()
	})
	if st := recv(t, answered, "the deliver_sm_resp"); st != StatusXTAppn {
		t.Errorf("without a Handler deliver_sm_resp has status %v, want %v", st, StatusXTAppn)
	}
}

// TestSession_HandlerCapAsksForRedelivery checks that a deliver_sm beyond maxHandlers
// running handler calls is answered ESME_RX_T_APPN at once, and the others as their handlers
// decide.
func TestSession_HandlerCapAsksForRedelivery(t *testing.T) {
	leakCheck(t)
	release := make(chan struct{})
	capped, answered := make(chan struct{}), make(chan struct{})
	calls := make(chan struct{}, maxHandlers+1)
	opt := Options{Handler: func(ctx context.Context, p PDU) Status {
		calls <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return StatusOK
	}}
	startSession(t, opt, func(f *fakeSMSC) {
		for seq := uint32(1); seq <= maxHandlers+1; seq++ {
			if !f.send(seq, StatusOK, &DeliverSM{ShortMessage: []byte("mo")}) {
				return
			}
		}
		// Every handler is still running: only the last deliver_sm can have an answer.
		h, _, ok := f.expect(DeliverSMRespID)
		if !ok {
			return
		}
		if h.Sequence != maxHandlers+1 || h.Status != StatusXTAppn {
			t.Errorf("first answer: sequence_number %d, status %v; want %d, %v", h.Sequence, h.Status, maxHandlers+1, StatusXTAppn)
		}
		close(capped)
		for range maxHandlers {
			h, _, ok := f.expect(DeliverSMRespID)
			if !ok {
				return
			}
			if h.Sequence > maxHandlers || h.Status != StatusOK {
				t.Errorf("answer after release: sequence_number %d, status %v; want 1..%d, 0", h.Sequence, h.Status, maxHandlers)
				return
			}
		}
		close(answered)
		f.finish()
	})
	recv(t, capped, "the answer beyond the cap")
	close(release)
	recv(t, answered, "the handlers' answers")
	if n := len(calls); n != maxHandlers {
		t.Errorf("%d handler calls, want %d", n, maxHandlers)
	}
}

func TestSession_AnswersBadRequests(t *testing.T) {
	header := func(length uint32, id CommandID, seq uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, length)
		b = binary.BigEndian.AppendUint32(b, uint32(id))
		b = binary.BigEndian.AppendUint32(b, 0)
		return binary.BigEndian.AppendUint32(b, seq)
	}
	truncated := append(header(19, DeliverSMID, 6), 'C', 'M', 'T') // service_type without NUL
	_, _, truncErr := Decode(truncated)
	cases := []struct {
		name   string
		pdu    []byte
		resp   CommandID
		seq    uint32
		status Status
	}{
		{"unknown command_id", header(16, 0x00000222, 5), GenericNackID, 5, StatusInvCmdID},
		{"undecodable deliver_sm: its response, with the error", truncated, DeliverSMRespID, 6, nackStatus(truncErr)},
		{"undecodable data_sm", append(header(19, DataSMID, 6), 'C', 'M', 'T'), DataSMRespID, 6, nackStatus(truncErr)},
		{"request an ESME does not serve", header(16, QuerySMID, 7), GenericNackID, 7, StatusInvCmdID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			handled := make(chan struct{}, 1)
			opt := Options{Handler: func(context.Context, PDU) Status { handled <- struct{}{}; return StatusOK }}
			finished := make(chan struct{})
			startSession(t, opt, func(f *fakeSMSC) {
				if !f.sendRaw(tc.pdu) {
					return
				}
				h, _, ok := f.expect(tc.resp)
				if ok && (h.Sequence != tc.seq || h.Status != tc.status) {
					t.Errorf("%v has sequence_number %d, status %v; want %d, %v", tc.resp, h.Sequence, h.Status, tc.seq, tc.status)
				}
				// The session carries on.
				if f.send(8, StatusOK, &EnquireLink{}) {
					f.expect(EnquireLinkRespID)
				}
				close(finished)
				f.finish()
			})
			recv(t, finished, "the session to answer")
			if len(handled) != 0 {
				t.Error("the handler saw a PDU that failed to decode")
			}
		})
	}
}

func TestSession_InvalidCommandLengthEndsSession(t *testing.T) {
	const maxLen = 1024
	cases := []struct {
		name   string
		length uint32
	}{
		{"shorter than a header", 8},
		{"over MaxPDULen", maxLen + 1},
		{"absurd", 0xFFFFFFFF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			s := startSession(t, Options{MaxPDULen: maxLen}, func(f *fakeSMSC) {
				bad := binary.BigEndian.AppendUint32(nil, tc.length)
				bad = append(bad, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1)
				if !f.sendRaw(bad) {
					return
				}
				if h, _, ok := f.expect(GenericNackID); ok && (h.Sequence != 0 || h.Status != StatusInvCmdLen) {
					t.Errorf("generic_nack has sequence_number %d, status %v; want 0, %v", h.Sequence, h.Status, StatusInvCmdLen)
				}
				f.expectEOF()
			})
			recv(t, s.Done(), "the session to end")
			if err := s.Err(); !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "command_length") {
				t.Errorf("Err() = %v, want ErrConnectionLost naming command_length", err)
			}
		})
	}
}

func TestSession_PeerStopsReading(t *testing.T) {
	leakCheck(t)
	// net.Pipe has no buffer: once the SMSC stops reading, every write blocks, and only the
	// write deadline (RespTimeout) can free the writer.
	client, server := net.Pipe()
	stopped := make(chan struct{})
	release := make(chan struct{})
	peerDone := runPeer(t, server, func(f *fakeSMSC) {
		if f.acceptBind() {
			close(stopped)
			tryRecv(t, release, "the test to finish") // reading nothing meanwhile
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := NewSession(ctx, client, Options{RespTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	recv(t, stopped, "the bind")
	if _, err := s.Submit(context.Background(), testSubmit("447700900001")); !errors.Is(err, ErrConnectionLost) {
		t.Errorf("Submit to a peer that stopped reading = %v, want ErrConnectionLost", err)
	}
	recv(t, s.Done(), "the session to end")
	if err := s.Err(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Err() = %v, want the write deadline", err)
	}
	s.Close()
	close(release)
	recv(t, peerDone, "the fake SMSC script to finish")
}

func TestSession_HandlerContextEndsWithConnection(t *testing.T) {
	leakCheck(t)
	started := make(chan struct{})
	ended := make(chan error, 1)
	opt := Options{Handler: func(ctx context.Context, p PDU) Status {
		close(started)
		<-ctx.Done() // a handler stuck on something that honours ctx
		ended <- ctx.Err()
		return StatusOK
	}}
	s := startSession(t, opt, func(f *fakeSMSC) {
		if f.send(4, StatusOK, &DeliverSM{ShortMessage: []byte("mo")}) {
			tryRecv(t, started, "the handler to start")
		} // returning drops the connection
	})
	recv(t, s.Done(), "the session to end")
	if err := recv(t, ended, "the handler to see its context end"); !errors.Is(err, context.Canceled) {
		t.Errorf("handler context ended with %v, want context.Canceled", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
}

func TestSession_SequenceNumbersWrap(t *testing.T) {
	leakCheck(t)
	seqs := make(chan uint32, 3)
	opt := Options{lastSeq: maxSequence - 2} // the bind takes 0x7FFFFFFE
	s := startSession(t, opt, func(f *fakeSMSC) {
		for range 3 {
			h, _, ok := f.expect(SubmitSMID)
			if !ok || !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: fmt.Sprint(h.Sequence)}) {
				return
			}
			seqs <- h.Sequence
		}
		f.finish()
	})
	for _, want := range []uint32{0x7FFFFFFF, 1, 2} {
		resp, err := s.Submit(context.Background(), testSubmit("447700900001"))
		if err != nil {
			t.Fatalf("Submit: %v", err)
		}
		if got := recv(t, seqs, "a sequence number"); got != want || resp.MessageID != fmt.Sprint(want) {
			t.Errorf("sequence_number %d (answer %s), want %d", got, resp.MessageID, want)
		}
	}
}

func TestSession_SubmitRefusedByStatus(t *testing.T) {
	cases := []struct {
		name   string
		answer PDU
		status Status
	}{
		{"submit_sm_resp throttled", &SubmitSMResp{}, StatusThrottled},
		{"submit_sm_resp bad destination", &SubmitSMResp{}, StatusInvDstAdr},
		{"generic_nack", &GenericNack{}, StatusInvCmdLen},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			s := startSession(t, Options{}, func(f *fakeSMSC) {
				if h, _, ok := f.expect(SubmitSMID); ok && f.send(h.Sequence, tc.status, tc.answer) {
					f.finish()
				}
			})
			_, err := s.Submit(context.Background(), testSubmit("447700900001"))
			var st Status
			if !errors.As(err, &st) || st != tc.status {
				t.Errorf("Submit = %v, want status %v", err, tc.status)
			}
			if errors.Is(err, ErrNotSent) || errors.Is(err, ErrConnectionLost) {
				t.Errorf("an answered submit must not claim %v", err)
			}
		})
	}
}

// TestSession_DataSMDeliveryFailure checks that a refused data_sm returns the response body
// with the Status, so that its delivery_failure_reason can decide about a retry.
func TestSession_DataSMDeliveryFailure(t *testing.T) {
	leakCheck(t)
	s := startSession(t, Options{}, func(f *fakeSMSC) {
		h, _, ok := f.expect(DataSMID)
		if !ok {
			return
		}
		resp := &DataSMResp{}
		resp.TLVs.SetUint8(TagDeliveryFailureReason, 3)
		if f.send(h.Sequence, StatusDeliveryFailure, resp) {
			f.finish()
		}
	})
	var p DataSM
	p.DestinationAddr = "447700900001"
	p.TLVs.Set(TagMessagePayload, []byte("Hello"))
	_, body, err := s.Request(context.Background(), &p)
	var st Status
	if !errors.As(err, &st) || st != StatusDeliveryFailure || st.Temporary() {
		t.Fatalf("Request = %v, want %v (not temporary by itself)", err, StatusDeliveryFailure)
	}
	resp, ok := body.(*DataSMResp)
	if !ok || !DeliveryFailureTemporary(resp.TLVs) {
		t.Errorf("body %#v: want a data_sm_resp whose delivery_failure_reason is temporary", body)
	}
}

func TestSession_ContextEndsWhileWaitingForSlot(t *testing.T) {
	leakCheck(t)
	holding := make(chan struct{})
	release := make(chan struct{})
	s := startSession(t, Options{Window: 1}, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		close(holding)
		if _, ok := tryRecv(t, release, "the test to release the window"); ok && f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "first"}) {
			f.finish() // a second submit_sm here would fail the test
		}
	})
	first := submitAsync(s, context.Background(), testSubmit("447700900001"))
	recv(t, holding, "the first submit to fill the window")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Submit(ctx, testSubmit("447700900002")); !errors.Is(err, ErrNotSent) || !errors.Is(err, context.Canceled) {
		t.Errorf("Submit with an ended context = %v, want ErrNotSent and context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := s.Submit(ctx, testSubmit("447700900003")); !errors.Is(err, ErrNotSent) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Submit whose context expires in the queue = %v, want ErrNotSent and DeadlineExceeded", err)
	}
	close(release)
	if r := recv(t, first, "the first submit"); r.err != nil || r.resp.MessageID != "first" {
		t.Errorf("first Submit = %+v, %v", r.resp, r.err)
	}
}

func TestSession_RequestRefusesSessionPDUs(t *testing.T) {
	leakCheck(t)
	s := startSession(t, Options{MaxPDULen: 1024}, func(f *fakeSMSC) { f.finish() })
	var big SubmitSM
	big.TLVs.Set(TagMessagePayload, make([]byte, 2000))
	for _, p := range []PDU{nil, &Bind{}, &Unbind{}, &SubmitSMResp{}, &Outbind{}, &big} {
		if _, _, err := s.Request(context.Background(), p); err == nil || errors.Is(err, ErrNotSent) {
			t.Errorf("Request(%T) = %v, want an error that is not ErrNotSent (resending cannot help)", p, err)
		}
	}
}

func TestSession_CloseUnbindsAfterOutstandingWork(t *testing.T) {
	leakCheck(t)
	closing := make(chan struct{})
	opt := Options{Handler: func(ctx context.Context, p PDU) Status {
		<-closing // still running when Close starts
		return StatusOK
	}}
	written := make(chan struct{})
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok || !f.send(3, StatusOK, &DeliverSM{ShortMessage: []byte("mo")}) {
			return
		}
		close(written)
		if _, ok := tryRecv(t, closing, "Close to start"); !ok || !f.send(h.Sequence, StatusOK, &SubmitSMResp{MessageID: "last"}) {
			return
		}
		// The handler finished after Close started: its answer must precede the unbind.
		if h, _, ok := f.expect(DeliverSMRespID); !ok || h.Sequence != 3 {
			return
		}
		f.finish()
	})
	submitted := submitAsync(s, context.Background(), testSubmit("447700900001"))
	recv(t, written, "the SMSC to hold the submit and send a deliver_sm")
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	recv(t, s.stopping, "Close to refuse new requests")
	if _, err := s.Submit(context.Background(), testSubmit("447700900002")); !errors.Is(err, ErrNotSent) {
		t.Errorf("Submit during Close = %v, want ErrNotSent", err)
	}
	close(closing)
	if r := recv(t, submitted, "the outstanding submit"); r.err != nil || r.resp.MessageID != "last" {
		t.Errorf("outstanding Submit during Close = %+v, %v; want message_id last", r.resp, r.err)
	}
	if err := recv(t, closed, "Close to return"); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestDial_Bind(t *testing.T) {
	cases := []struct {
		name   string
		mode   BindMode
		want   CommandID
		status Status
		hint   string // in the error: the credentials only for a refusal of them
	}{
		{"transceiver", BindTransceiver, BindTransceiverID, StatusOK, ""},
		{"transmitter", BindTransmitter, BindTransmitterID, StatusOK, ""},
		{"receiver", BindReceiver, BindReceiverID, StatusOK, ""},
		{"wrong password", BindTransceiver, BindTransceiverID, StatusInvPaswd, "check system_id, password"},
		{"bind failed", BindTransmitter, BindTransmitterID, StatusBindFail, "check system_id, password"},
		{"system error", BindReceiver, BindReceiverID, StatusSysErr, ""},
		{"unknown bind", BindReceiver, BindReceiverID, StatusInvCmdID, "it does not know this bind"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			opt := Options{Bind: Bind{Mode: tc.mode, SystemID: "user1", Password: "s3cret", SystemType: "bulk"}}
			s, err := dialFake(t, opt, func(f *fakeSMSC) {
				h, p, ok := f.expect(tc.want)
				if !ok {
					return
				}
				b := p.(*Bind)
				if b.SystemID != "user1" || b.Password != "s3cret" || b.SystemType != "bulk" || b.InterfaceVersion != 0x34 {
					t.Errorf("bind body %+v", b)
				}
				resp := &BindResp{Mode: tc.mode}
				if tc.status == StatusOK {
					resp.SystemID = "SMSC"
				}
				if f.send(h.Sequence, tc.status, resp) && tc.status == StatusOK {
					f.finish()
				}
			})
			if tc.status == StatusOK {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if s.SystemID() != "SMSC" {
					t.Errorf("SystemID() = %q, want SMSC", s.SystemID())
				}
				return
			}
			var st Status
			if !errors.As(err, &st) || st != tc.status {
				t.Fatalf("Dial = %v, want an error with status %v", err, tc.status)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.status.Name()) || strings.Contains(msg, "s3cret") {
				t.Errorf("error %q must name %s and never show the password", msg, tc.status.Name())
			}
			if msg := err.Error(); !strings.Contains(msg, tc.hint) || tc.hint == "" && strings.Contains(msg, "check system_id") {
				t.Errorf("error %q: want the hint %q, and the credentials named only for a refusal of them", msg, tc.hint)
			}
		})
	}
}

func TestDial_NoBindResponse(t *testing.T) {
	leakCheck(t)
	_, err := dialFake(t, Options{BindTimeout: 100 * time.Millisecond}, func(f *fakeSMSC) {
		for { // read the bind, if it comes before the deadline, and stay silent
			if _, _, err := f.read(); err != nil {
				return
			}
		}
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial against a silent peer = %v, want a deadline error", err)
	}
}

func TestDial_TLS(t *testing.T) {
	cert, caFile := selfSignedCert(t)
	cases := []struct {
		name     string
		caFile   string
		insecure bool
		ok       bool
	}{
		{"trusted CA", caFile, false, true},
		{"insecure", "", true, true},
		{"unknown authority", "", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := TLSConfig(tc.caFile, "", tc.insecure)
			if err != nil {
				t.Fatal(err)
			}
			s, err := dialListener(t, ln, Options{TLS: cfg}, func(f *fakeSMSC) {
				if !tc.ok {
					f.read() // the handshake fails: nothing to serve
					return
				}
				if f.acceptBind() {
					f.finish()
				}
			})
			if tc.ok && (err != nil || s.SystemID() != "fake") {
				t.Errorf("Dial over TLS = %v", err)
			}
			if !tc.ok && err == nil {
				t.Error("Dial trusted a certificate from an unknown authority")
			}
		})
	}
}

// TLS on one side only, or a handshake never answered: the error says to look at TLS.
func TestDial_TLSMismatch(t *testing.T) {
	cert, _ := selfSignedCert(t)
	insecure, err := TLSConfig("", "", true)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		opt   Options
		serve func(net.Conn) // the server's side of the one connection
		want  string
		sure  bool // the error is ErrTLSMismatch: the peer's answer proves it
	}{
		{"bind in the clear to a TLS port", Options{}, func(c net.Conn) {
			tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake() // fails on the bind
		}, "closed the connection without an answer: EOF (does it expect TLS", false},
		{"bind in the clear answered with a TLS alert", Options{}, func(c net.Conn) {
			// What OpenSSL-based fronts may answer: a fatal protocol_version alert.
			c.Read(make([]byte, 64))
			c.Write([]byte{0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46})
		}, "the SMSC answered with a TLS record", true},
		{"TLS hello answered in plain SMPP", Options{TLS: insecure}, func(c net.Conn) {
			c.Read(make([]byte, 512))
			nack, _ := AppendPDU(nil, 0, StatusInvCmdLen, &GenericNack{})
			c.Write(nack)
		}, "the SMSC answered in plain text", true},
		{"a malformed record from a TLS peer", Options{TLS: insecure}, func(c net.Conn) {
			c.Read(make([]byte, 512))
			c.Write([]byte{0x16, 0x03, 0x03, 0xff, 0xff}) // a handshake record too long for TLS: not plain text
		}, "TLS handshake: tls: oversized record", false},
		{"handshake never answered", Options{TLS: insecure, BindTimeout: 200 * time.Millisecond}, func(c net.Conn) {
			io.Copy(io.Discard, c) // reads the ClientHello, answers nothing, until the client gives up
		}, "no answer to the TLS handshake within 200ms", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			leakCheck(t)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			served := make(chan struct{})
			go func() {
				defer close(served)
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				tc.serve(c)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			s, err := Dial(ctx, ln.Addr().String(), tc.opt)
			if err == nil {
				s.Close()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Dial = %v, want an error saying %q", err, tc.want)
			}
			if errors.Is(err, ErrTLSMismatch) != tc.sure {
				t.Errorf("errors.Is(%v, ErrTLSMismatch) = %v, want %v", err, !tc.sure, tc.sure)
			}
			ln.Close()
			recv(t, served, "the server to end")
		})
	}
}

func TestTLSConfig_Errors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{filepath.Join(dir, "missing.pem"), notPEM} {
		if _, err := TLSConfig(file, "", false); err == nil || !strings.Contains(err.Error(), filepath.Base(file)) {
			t.Errorf("TLSConfig(%s) = %v, want an error naming the file", file, err)
		}
	}
}

// selfSignedCert makes a throwaway certificate for 127.0.0.1 and writes it, as its own
// certificate authority, to a PEM file.
func selfSignedCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smscast test SMSC"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

// A full queue of responses makes the reader wait for the writer instead of ending the
// session (a backlog of receipts pushed faster than the answers go out); the wait ends with
// the session.
func TestSession_replyWaitsForRoom(t *testing.T) {
	s := &Session{quit: make(chan struct{})}
	s.ctl.signal, s.ctl.space = make(chan struct{}, 1), make(chan struct{}, 1)
	for seq := range uint32(maxControlQueue) {
		if !s.ctl.push(control{id: DeliverSMRespID, seq: seq + 1}) {
			t.Fatalf("push %d refused below the cap", seq+1)
		}
	}
	replied := make(chan struct{})
	go func() {
		s.reply(control{id: DeliverSMRespID, seq: maxControlQueue + 1})
		close(replied)
	}()
	select {
	case <-replied:
		t.Fatal("reply returned with the queue full")
	case <-time.After(50 * time.Millisecond): // it waits (a slow machine only makes this pass more surely)
	}
	if got := len(s.ctl.take()); got != maxControlQueue {
		t.Fatalf("the writer took %d responses, want %d", got, maxControlQueue)
	}
	recv(t, replied, "reply to queue its response once the writer made room")
	if got := s.ctl.take(); len(got) != 1 || got[0].seq != maxControlQueue+1 {
		t.Errorf("after the wait the queue holds %v, want the waiting response", got)
	}

	for range maxControlQueue {
		s.ctl.push(control{id: DeliverSMRespID})
	}
	// A handler's answer never waits (it may come from the journal's goroutine, which serves
	// every session): only the reader does.
	s.handlers = 1
	s.answer(control{id: DeliverSMRespID, seq: 7}, StatusOK)
	if got := s.ctl.take(); len(got) != maxControlQueue+1 || got[maxControlQueue].seq != 7 {
		t.Fatalf("an answer with the queue full: %d queued, want it queued beyond the cap", len(got))
	}
	for range maxControlQueue {
		s.ctl.push(control{id: DeliverSMRespID})
	}
	ended := make(chan struct{})
	go func() {
		s.reply(control{id: DeliverSMRespID})
		close(ended)
	}()
	close(s.quit)
	recv(t, ended, "reply to give up once the session ended")
}

// The session's unbind never follows a response that must be the last PDU: the unbind_resp
// to the SMSC's unbind, or the generic_nack to a PDU that could not be framed (after which
// the reader has stopped, so an unbind would wait RespTimeout for an answer nobody reads).
// The writer takes Close's unbind and such a response in either order; this is the order
// that went wrong, set up directly.
func TestSession_unbindNeverFollowsALastResponse(t *testing.T) {
	for _, last := range []struct {
		name   string
		id     CommandID
		status Status
	}{{"the SMSC's unbind", UnbindRespID, StatusOK}, {"an unframeable PDU", GenericNackID, StatusInvCmdLen}} {
		t.Run(last.name, func(t *testing.T) {
			var out bytes.Buffer
			s := &Session{bw: bufio.NewWriterSize(&out, 4096), pending: map[uint32]*request{}, timedOut: map[uint32]time.Time{}}
			s.ctl.signal = make(chan struct{}, 1)
			cause := errors.New("the SMSC ended the session")
			s.ctl.push(control{id: last.id, status: last.status, seq: 7, then: cause})
			unbind := &request{id: UnbindID, internal: true, done: make(chan result, 1)}
			unbind.buf, _ = AppendPDU(nil, 0, StatusOK, &Unbind{})

			n, then, err := s.writeRequest(unbind)
			if err := s.bw.Flush(); err != nil {
				t.Fatal(err)
			}
			if n != 1 || then != cause || err != nil {
				t.Errorf("writeRequest = %d, %v, %v; want 1 PDU and the response's cause to end with", n, then, err)
			}
			h, err := DecodeHeader(out.Bytes())
			if err != nil || h.ID != last.id || int(h.Length) != out.Len() {
				t.Errorf("wrote % x; want the %v alone", out.Bytes(), last.id)
			}
			select { // completed before writeRequest returned, or never
			case res := <-unbind.done:
				if !errors.Is(res.err, ErrNotSent) {
					t.Errorf("the unbind ended with %v, want ErrNotSent (Close then has nothing to wait for)", res.err)
				}
			default:
				t.Error("the unbind was left waiting for an unbind_resp")
			}
		})
	}
}

// With --tls-insecure the ClientHello still names the host (SNI), as tls.Dialer did before the
// TCP/handshake split: a TLS front that routes by SNI must be able to route the session.
func TestDial_insecureTLSSendsSNI(t *testing.T) {
	cert, _ := selfSignedCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tls.Server(c, &tls.Config{GetCertificate: func(h *tls.ClientHelloInfo) (*tls.Certificate, error) {
			got <- h.ServerName
			return &cert, nil
		}}).Handshake()
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	insecure, err := TLSConfig("", "", true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if s, err := Dial(ctx, net.JoinHostPort("localhost", port), Options{TLS: insecure, BindTimeout: waitLimit}); err == nil {
		s.Close()
	}
	if name := <-got; name != "localhost" {
		t.Errorf("SNI server name %q, want %q (as tls.Dialer sends)", name, "localhost")
	}
}

// A peer that floods deliver_sm and reads none of our answers: the reader waits for room
// before it starts a handler, so the queue of answers stays within maxControlQueue plus the
// handlers running, and the peer's writes stall (TCP back-pressure).
func TestSession_floodNotReadingOurAnswersIsSlowedDown(t *testing.T) {
	client, server := net.Pipe()
	const flood = 40000
	sent := make(chan int, 1)
	release := make(chan struct{})
	peerDone := runPeer(t, server, func(f *fakeSMSC) {
		if !f.acceptBind() {
			return
		}
		n := 0
		for i := range flood {
			b, _ := AppendPDU(nil, uint32(i+10), StatusOK, &DeliverSM{ShortMessage: []byte("x")})
			f.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			if _, err := f.conn.Write(b); err != nil {
				break // the reader stopped reading: back-pressure
			}
			n++
		}
		sent <- n
		<-release
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := NewSession(ctx, client, Options{RespTimeout: 20 * time.Second,
		Handler: func(context.Context, PDU) Status { return StatusOK }})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	n := <-sent
	stacks.Await(t, "smscast/smpp.(*Session).roomForReply", 1, waitLimit) // the reader has stopped reading
	s.ctl.mu.Lock()
	queued := len(s.ctl.items)
	s.ctl.mu.Unlock()
	t.Logf("peer wrote %d deliver_sm without reading; %d responses queued (cap %d, + maxHandlers %d)", n, queued, maxControlQueue, maxHandlers)
	if queued > maxControlQueue+maxHandlers {
		t.Errorf("control queue holds %d responses: unbounded, and the reader never stopped reading", queued)
	}
	close(release)
	client.Close()
	s.Close()
	<-peerDone
}
