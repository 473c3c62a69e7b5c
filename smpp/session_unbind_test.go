package smpp

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smscast/internal/stacks"
)

// gatedConn holds every Write while its gate is shut: a writer stalled on a slow network.
type gatedConn struct {
	net.Conn
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (c *gatedConn) shut() { c.mu.Lock(); c.gate = make(chan struct{}); c.mu.Unlock() }

func (c *gatedConn) open() {
	c.mu.Lock()
	if c.gate != nil {
		close(c.gate)
		c.gate = nil
	}
	c.mu.Unlock()
}

func (c *gatedConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	g := c.gate
	c.mu.Unlock()
	if g != nil {
		<-g
	}
	return c.Conn.Write(b)
}

// startGated starts a session over a gatedConn to a fake SMSC that runs script after the
// bind; the channel closes when the script is done.
func startGated(t *testing.T, opt Options, script func(f *fakeSMSC)) (*Session, *gatedConn, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer := make(chan struct{})
	go func() {
		defer close(peer)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		f := &fakeSMSC{t: t, conn: c, br: bufio.NewReader(c)}
		if f.acceptBind() {
			script(f)
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	gc := &gatedConn{Conn: nc}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := NewSession(ctx, gc, opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, gc, peer
}

// Requests handed to the writer before the SMSC's unbind was read, and not written yet, are
// refused unsent once it is: nothing but the unbind_resp may follow the SMSC's unbind (SMPP
// 3.4 §4.2), and Done has told the callers that the session takes no more. The writer is
// held in a write while they queue; then it picks between them and the unbind_resp.
func TestSession_NothingWrittenAfterThePeerUnbinds(t *testing.T) {
	leakCheck(t)
	const window = 12
	for range 5 {
		var s *Session
		var late atomic.Int32 // submit_sm registered once the session had read the unbind
		hooks := &SubmitHooks{Written: func() {
			if s.peerUnbound { // Written runs under s.mu
				late.Add(1)
			}
		}}
		queued := make(chan struct{})
		sess, gc, peer := startGated(t, Options{Window: window, RespTimeout: 2 * time.Second}, func(f *fakeSMSC) {
			if _, ok := tryRecv(t, queued, "the submits to queue"); !ok || !f.send(77, StatusOK, &Unbind{}) {
				return
			}
			for {
				h, _, err := f.read()
				if err != nil || h.ID == UnbindRespID {
					return
				}
				if h.ID == SubmitSMID {
					f.send(h.Sequence, StatusInvBndSts, &SubmitSMResp{})
				}
			}
		})
		s = sess
		gc.shut()
		var wg sync.WaitGroup
		results := make(chan error, window)
		for range window {
			wg.Go(func() {
				_, err := s.SubmitNotify(context.Background(), testSubmit("447700900001"), hooks)
				results <- err
			})
		}
		// Every submit handed over (one in the held write, the others queued), then the unbind.
		stacks.Await(t, "smscast/smpp.(*Session).await", window, waitLimit)
		close(queued)
		recv(t, s.Done(), "Done after the SMSC's unbind")
		gc.open()
		wg.Wait()
		close(results)
		for err := range results {
			if err != nil && !errors.Is(err, ErrNotSent) && !errors.Is(err, ErrConnectionLost) && !errors.Is(err, StatusInvBndSts) {
				t.Errorf("Submit = %v, want it refused unsent, lost with the connection, or answered", err)
			}
		}
		s.Close()
		recv(t, peer, "the fake SMSC")
		if n := late.Load(); n > 0 {
			t.Fatalf("%d submit_sm written after the session had read the SMSC's unbind, want them refused unsent", n)
		}
	}
}

// While the session reads on after the SMSC's unbind, the replies the reader queues (to
// enquire_link, deliver_sm) are never written: they must not fill the queue and stop the
// reader before an answer behind them.
func TestSession_ReadsOnPastRepliesAfterThePeerUnbinds(t *testing.T) {
	leakCheck(t)
	s := startSession(t, Options{RespTimeout: time.Hour}, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok || !f.send(9, StatusOK, &Unbind{}) {
			return
		}
		if _, _, ok := f.expect(UnbindRespID); !ok {
			return
		}
		var buf []byte
		for i := range maxControlQueue + 10 {
			buf, _ = AppendPDU(buf, uint32(100+i), StatusOK, &EnquireLink{})
		}
		buf, _ = AppendPDU(buf, h.Sequence, StatusOK, &SubmitSMResp{MessageID: "after-the-flood"})
		if f.sendRaw(buf) {
			f.expectEOF()
		}
	})
	first := submitAsync(s, context.Background(), testSubmit("447700900001"))
	recv(t, s.Done(), "Done")
	if r := recv(t, first, "the submit"); r.err != nil || r.resp.MessageID != "after-the-flood" {
		t.Errorf("Submit = %+v, %v; want the answer sent after %d enquire_link", r.resp, r.err, maxControlQueue+10)
	}
	s.Close()
}
