package smpp

import (
	"bufio"
	"context"
	"encoding/binary"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// TestSession_HandlerWorkers checks the handler workers: each deliver_sm starts its handler
// call at once, even while every earlier call blocks; once the calls return, at most
// maxIdleHandlers workers wait for more, and the next deliver_sm goes to one of them.
func TestSession_HandlerWorkers(t *testing.T) {
	leakCheck(t)
	const burst = maxIdleHandlers + 36
	entered := make(chan struct{}, 2*burst)
	release := make(chan struct{}, 2*burst)
	opt := Options{Handler: func(ctx context.Context, p PDU) Status {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return StatusOK
	}}
	waves := make(chan int)         // the script sends that many deliver_sm ...
	answered := make(chan struct{}) // ... and reports when all are answered
	s := startSession(t, opt, func(f *fakeSMSC) {
		seq := uint32(0)
		for n := range waves {
			for range n {
				seq++
				if !f.send(seq, StatusOK, &DeliverSM{ShortMessage: []byte("mo")}) {
					return
				}
			}
			for range n {
				if h, _, ok := f.expect(DeliverSMRespID); !ok || h.Status != StatusOK {
					t.Errorf("deliver_sm_resp %d has status %v, want 0", h.Sequence, h.Status)
					return
				}
			}
			answered <- struct{}{}
		}
		f.finish()
	})
	idle := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.idle
	}
	wave := func(n int) {
		t.Helper()
		waves <- n
		for range n {
			recv(t, entered, "a handler call to start while the others block")
		}
	}

	wave(burst)
	if n := idle(); n != 0 {
		t.Errorf("%d idle workers while %d calls run, want 0", n, burst)
	}
	for range burst {
		release <- struct{}{}
	}
	recv(t, answered, "the answers of the first wave")
	for deadline := time.Now().Add(waitLimit); idle() < maxIdleHandlers; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle workers after %d calls returned, want %d", idle(), burst, maxIdleHandlers)
		}
	}
	if n := idle(); n > maxIdleHandlers {
		t.Fatalf("%d idle workers, want at most %d", n, maxIdleHandlers)
	}

	wave(10)
	if n := idle(); n >= maxIdleHandlers {
		t.Errorf("%d idle workers while 10 calls run: no idle worker took a call", n)
	}
	for range 10 {
		release <- struct{}{}
	}
	recv(t, answered, "the answers of the second wave")
	close(waves)
}

// BenchmarkSessionDeliver measures the session's cost per deliver_sm handed to a Handler and
// answered, over 127.0.0.1 TCP, with a peer that keeps 100 deliver_sm outstanding (as an
// SMSC sending receipts at full speed does). The figure that matters is cpu-ns/deliver.
func BenchmarkSessionDeliver(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	start := make(chan int)
	served := make(chan error, 1)
	go func() { served <- deliverFast(ln, start) }()
	handled := make(chan struct{}, 1)
	var count, want atomic.Int64
	s, err := Dial(context.Background(), ln.Addr().String(), Options{Handler: func(_ context.Context, p PDU) Status {
		if count.Add(1) == want.Load() {
			handled <- struct{}{}
		}
		return StatusOK
	}})
	if err != nil {
		b.Fatal(err)
	}
	want.Store(int64(b.N))
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	b.ResetTimer()
	start <- b.N
	<-handled
	if err := <-served; err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "delivers/s")
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/deliver")
	if err := s.Close(); err != nil {
		b.Error(err)
	}
}

// deliverFast serves one connection: it answers the bind, then sends n deliver_sm receipts
// (n from start), at most 100 unanswered, and returns once all are answered; it answers
// unbind while it reads.
func deliverFast(ln net.Listener, start <-chan int) error {
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(conn, 64<<10)
	bw := bufio.NewWriterSize(conn, 64<<10)
	pdu, err := ReadPDU(br, nil, 0)
	if err != nil {
		return err
	}
	bindResp, _ := AppendPDU(nil, binary.BigEndian.Uint32(pdu[12:16]), StatusOK, &BindResp{Mode: BindTransceiver, SystemID: "bench"})
	if _, err := conn.Write(bindResp); err != nil {
		return err
	}
	n := <-start
	deliver, _ := AppendPDU(nil, 0, StatusOK, &DeliverSM{ESMClass: 0x04, SourceAddr: "447700900001",
		ShortMessage: []byte(receiptText)})
	tokens := make(chan struct{}, 100)
	readDone := make(chan error, 1)
	go func() {
		var buf []byte
		for got := 0; got < n; {
			pdu, err := ReadPDU(br, buf, 0)
			if err != nil {
				readDone <- err
				return
			}
			buf = pdu
			if CommandID(binary.BigEndian.Uint32(pdu[4:8])) == DeliverSMRespID {
				got++
				<-tokens
			}
		}
		readDone <- nil
		// Answer the unbind of Close, then let the connection end.
		for {
			pdu, err := ReadPDU(br, buf, 0)
			if err != nil {
				conn.Close()
				return
			}
			buf = pdu
			if CommandID(binary.BigEndian.Uint32(pdu[4:8])) == UnbindID {
				resp, _ := AppendPDU(nil, binary.BigEndian.Uint32(pdu[12:16]), StatusOK, &UnbindResp{})
				conn.Write(resp)
			}
		}
	}()
	for seq := 1; seq <= n; seq++ {
		select {
		case tokens <- struct{}{}:
		default:
			if err := bw.Flush(); err != nil {
				return err
			}
			tokens <- struct{}{}
		}
		binary.BigEndian.PutUint32(deliver[12:16], uint32(seq))
		if _, err := bw.Write(deliver); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return <-readDone
}

// TestSession_AsyncHandler checks AsyncHandler: the calls return at once while their answers
// come later, out of order and from another goroutine; each deliver_sm_resp carries the status
// its answer gave, a second answer changes nothing, and Close waits for an answer still due
// before it unbinds.
func TestSession_AsyncHandler(t *testing.T) {
	leakCheck(t)
	const n = 5
	type call struct {
		seq    int // from the short message: the calls may start in any order
		answer func(Status)
	}
	calls := make(chan call, n)
	opt := Options{AsyncHandler: func(_ context.Context, p PDU, answer func(Status)) {
		calls <- call{int(p.(*DeliverSM).ShortMessage[0]), answer} // the buffer holds every call
	}}
	got := make(chan Header, n)
	s := startSession(t, opt, func(f *fakeSMSC) {
		for seq := uint32(1); seq <= n; seq++ {
			if !f.send(seq, StatusOK, &DeliverSM{ShortMessage: []byte{byte(seq)}}) {
				return
			}
		}
		for range n {
			h, _, ok := f.expect(DeliverSMRespID)
			if !ok {
				return
			}
			got <- h
		}
		f.finish()
	})

	pending := make([]func(Status), n) // by sequence_number - 1
	for range n {
		c := recv(t, calls, "an AsyncHandler call")
		pending[c.seq-1] = c.answer
	}
	// Answer from another goroutine, last first; sequence i+1 gets status i (0 = ESME_ROK).
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := n - 1; i >= 1; i-- {
			pending[i](Status(i))
			pending[i](StatusSysErr) // ignored
		}
	}()
	recv(t, done, "the answers to be given")
	for range n - 1 {
		h := recv(t, got, "a deliver_sm_resp")
		if want := Status(h.Sequence - 1); h.Status != want {
			t.Errorf("deliver_sm_resp %d has status %v, want %v", h.Sequence, h.Status, want)
		}
	}

	// One answer is still due: Close must wait for it before the unbind.
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while an answer was still due", err)
	case <-time.After(50 * time.Millisecond): // only a chance for a wrong Close to return
	}
	pending[0](StatusOK)
	if h := recv(t, got, "the last deliver_sm_resp"); h.Sequence != 1 || h.Status != StatusOK {
		t.Errorf("last deliver_sm_resp: sequence %d status %v, want 1 and ESME_ROK", h.Sequence, h.Status)
	}
	if err := recv(t, closed, "Close"); err != nil {
		t.Errorf("Close: %v", err)
	}
}
