package smsc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

// submitUntil submits until one answer has status want, at most max times, and returns how
// many were sent.
func submitUntil(t *testing.T, s *smpp.Session, want smpp.Status, max int) int {
	t.Helper()
	p := textSubmits(t, "B", "447010", "burst", coding.Options{}, 0)[0]
	for i := 1; i <= max; i++ {
		_, err := s.Submit(testContext(t), p)
		if err == nil {
			continue
		}
		if st := statusOf(t, err); st != want {
			t.Fatalf("submit %d: %v, want OK or %v", i, st, want)
		}
		return i
	}
	t.Fatalf("no %v in %d submits", want, max)
	return 0
}

func TestServer_ThrottleTPS(t *testing.T) {
	srv := startServer(t, Config{ThrottleTPS: 5})
	s := dial(t, srv, smpp.Options{})
	// Sequential submits reach the sixth of one second long before 10,000 submits.
	submitUntil(t, s, smpp.StatusThrottled, 10000)
	st := srv.Stats()
	if st.Throttled < 1 || st.Accepted+st.Throttled != st.Submits {
		t.Errorf("Stats %+v", st)
	}
	for _, b := range st.Buckets {
		if b.Accepted > 5 {
			t.Errorf("second %v accepted %d, more than --throttle-tps 5", b.Second, b.Accepted)
		}
	}
	if !smpp.StatusThrottled.Temporary() {
		t.Error("ESME_RTHROTTLED is not transient: clients would give up")
	}
}

func TestServer_QueueFullAfter(t *testing.T) {
	srv := startServer(t, Config{QueueFullAfter: 3})
	s := dial(t, srv, smpp.Options{})
	submitUntil(t, s, smpp.StatusMsgQFul, 10000)
	st := srv.Stats()
	if st.QueueFull < 1 || st.Accepted+st.QueueFull != st.Submits {
		t.Errorf("Stats %+v", st)
	}
	for _, b := range st.Buckets {
		if b.Accepted > 3 {
			t.Errorf("second %v accepted %d, more than --queue-full-after 3", b.Second, b.Accepted)
		}
	}
}

func TestStats_Buckets(t *testing.T) {
	srv := startServer(t, Config{})
	s := dial(t, srv, smpp.Options{})
	for range 7 {
		submitText(t, s, "447011", "count me")
	}
	st := srv.Stats()
	total := 0
	for i, b := range st.Buckets {
		total += b.Submits
		if i > 0 && !b.Second.After(st.Buckets[i-1].Second) {
			t.Errorf("buckets out of order: %v after %v", b.Second, st.Buckets[i-1].Second)
		}
		if b.Second.Nanosecond() != 0 {
			t.Errorf("bucket %v does not start on a second", b.Second)
		}
	}
	if total != 7 || st.MaxSubmitsPerSecond() < 1 || st.MaxSubmitsPerSecond() > 7 {
		t.Errorf("buckets %+v: %d submits, max %d per second", st.Buckets, total, st.MaxSubmitsPerSecond())
	}
}

func TestServer_RespDelayShowsTheWindow(t *testing.T) {
	const delay = 200 * time.Millisecond
	srv := startServer(t, Config{RespDelay: delay})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	// Ten submits in one write: all are outstanding at the simulator while it holds the
	// first response back.
	var batch []byte
	p := textSubmits(t, "B", "447012", "slow", coding.Options{}, 0)[0]
	for i := range 10 {
		batch = append(batch, mustPDU(t, uint32(100+i), smpp.StatusOK, p)...)
	}
	start := time.Now()
	r.write(batch)
	for range 10 {
		if h, _ := r.read(); h.ID != smpp.SubmitSMRespID || h.Status != smpp.StatusOK {
			t.Fatalf("got %v %v", h.ID, h.Status)
		}
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("responses after %v, want at least %v", elapsed, delay)
	}
	if st := srv.Stats(); st.MaxOutstanding < 2 || st.MaxOutstanding > 10 {
		t.Errorf("MaxOutstanding %d, want 2..10", st.MaxOutstanding)
	}
}

func TestServer_MaxOutstandingNeverExceedsClientWindow(t *testing.T) {
	srv := startServer(t, Config{RespDelay: 20 * time.Millisecond})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Window: 4, Handler: in.handle})
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			p := textSubmits(t, "B", "447013", "window", coding.Options{}, 1)[0]
			if _, err := s.Submit(testContext(t), p); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	in.wait(t, 12) // receipts are requests of the simulator: they must not count
	if st := srv.Stats(); st.MaxOutstanding < 1 || st.MaxOutstanding > 4 {
		t.Errorf("MaxOutstanding %d with a client window of 4", st.MaxOutstanding)
	}
}

func TestServer_DropAfter(t *testing.T) {
	srv := startServer(t, Config{DropAfter: []int{3, 5}})
	p := textSubmits(t, "B", "447014", "drop", coding.Options{}, 0)[0]
	s := dial(t, srv, smpp.Options{})
	var lost []int
	for i := 1; i <= 7; i++ {
		_, err := s.Submit(testContext(t), p)
		if err == nil {
			continue
		}
		if !errors.Is(err, smpp.ErrConnectionLost) {
			t.Fatalf("submit %d: %v, want ErrConnectionLost", i, err)
		}
		lost = append(lost, i)
		s = dial(t, srv, smpp.Options{})
	}
	if len(lost) != 2 || lost[0] != 3 || lost[1] != 5 {
		t.Errorf("connections dropped at submits %v, want [3 5]", lost)
	}
	st := srv.Stats()
	if st.Drops != 2 || st.Accepted != 7 || st.Sessions != 3 {
		t.Errorf("Stats %+v; want 2 drops, 7 accepted (dropped ones included), 3 sessions", st)
	}
	if n := len(srv.Messages()); n != 7 {
		t.Errorf("%d messages recorded, want 7: a dropped submit was accepted before the drop", n)
	}
}

func TestServer_UnbindAfter(t *testing.T) {
	srv := startServer(t, Config{UnbindAfter: []int{2}})
	s := dial(t, srv, smpp.Options{})
	submitText(t, s, "447015", "one")
	submitText(t, s, "447015", "two") // answered, then the simulator unbinds
	select {
	case <-s.Done():
	case <-time.After(testTimeout):
		t.Fatal("session not unbound")
	}
	if !errors.Is(s.Err(), smpp.ErrUnboundByPeer) {
		t.Errorf("session ended with %v, want ErrUnboundByPeer", s.Err())
	}
	if st := srv.Stats(); st.Unbinds != 1 || st.Accepted != 2 {
		t.Errorf("Stats %+v", st)
	}
	// The count is the server's: a new session is not unbound again.
	s2 := dial(t, srv, smpp.Options{})
	for range 3 {
		submitText(t, s2, "447015", "more")
	}
}

// oneAccepted binds a raw client to a server of cfg and has one submit accepted; it returns
// the client and the submit, to send again.
func oneAccepted(t *testing.T, cfg Config, mode smpp.BindMode) (*Server, *rawConn, smpp.PDU) {
	t.Helper()
	srv := startServer(t, cfg)
	r := dialRaw(t, srv)
	r.bind(mode)
	p := textSubmits(t, "B", "447016", "x", coding.Options{}, 0)[0]
	r.send(p)
	if h, _ := r.read(); h.ID != smpp.SubmitSMRespID || h.Status != smpp.StatusOK {
		t.Fatalf("first answer %v %v, want submit_sm_resp OK", h.ID, h.Status)
	}
	return srv, r, p
}

func TestServer_UnbindAfterRefusesLaterSubmits(t *testing.T) {
	_, r, p := oneAccepted(t, Config{UnbindAfter: []int{1}}, smpp.BindTransmitter)
	h, _ := r.read()
	if h.ID != smpp.UnbindID {
		t.Fatalf("got %v, want unbind", h.ID)
	}
	r.send(p)
	if h2, _ := r.read(); h2.ID != smpp.SubmitSMRespID || h2.Status != smpp.StatusInvBndSts {
		t.Fatalf("submit after unbind: %v %v, want ESME_RINVBNDSTS", h2.ID, h2.Status)
	}
	r.write(mustPDU(t, h.Sequence, smpp.StatusOK, &smpp.UnbindResp{}))
	r.expectClosed(0)
}

// ForgetBindAfter: the session keeps its connection and answers enquire_link, but every
// later submit gets ESME_RINVBNDSTS, as from an SMSC that restarted its bind table.
func TestServer_ForgetBindAfter(t *testing.T) {
	srv, r, p := oneAccepted(t, Config{ForgetBindAfter: []int{1}}, smpp.BindTransceiver)
	r.send(p)
	if h, _ := r.read(); h.ID != smpp.SubmitSMRespID || h.Status != smpp.StatusInvBndSts {
		t.Fatalf("submit after the bind was forgotten: %v %v, want ESME_RINVBNDSTS", h.ID, h.Status)
	}
	r.send(&smpp.EnquireLink{})
	if h, _ := r.read(); h.ID != smpp.EnquireLinkRespID {
		t.Fatalf("enquire_link answered with %v, want enquire_link_resp", h.ID)
	}
	if st := srv.Stats(); st.ForgottenBinds != 1 || st.Unbinds != 0 {
		t.Errorf("stats: %d forgotten, %d unbinds; want 1 and 0", st.ForgottenBinds, st.Unbinds)
	}
}

func TestServer_NoEnquireResp(t *testing.T) {
	srv := startServer(t, Config{NoEnquireResp: true})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	r.send(&smpp.EnquireLink{})
	seq := r.send(textSubmits(t, "B", "447017", "still here", coding.Options{}, 0)[0])
	// The submit is answered; the enquire_link before it never is.
	if h, _ := r.read(); h.ID != smpp.SubmitSMRespID || h.Sequence != seq {
		t.Fatalf("got %v seq %d, want submit_sm_resp seq %d", h.ID, h.Sequence, seq)
	}

	s := dial(t, srv, smpp.Options{EnquireLinkInterval: 20 * time.Millisecond, RespTimeout: 100 * time.Millisecond})
	select {
	case <-s.Done():
	case <-time.After(testTimeout):
		t.Fatal("session still up with a peer that never answers enquire_link")
	}
	if !errors.Is(s.Err(), smpp.ErrDeadPeer) {
		t.Errorf("session ended with %v, want ErrDeadPeer", s.Err())
	}
}

func TestServer_EnquireLinkAnswered(t *testing.T) {
	srv := startServer(t, Config{})
	r := dialRaw(t, srv)
	seq := r.send(&smpp.EnquireLink{}) // allowed before bind too
	if h, _ := r.read(); h.ID != smpp.EnquireLinkRespID || h.Sequence != seq || h.Status != smpp.StatusOK {
		t.Fatalf("got %v seq %d status %v", h.ID, h.Sequence, h.Status)
	}
	s := dial(t, srv, smpp.Options{})
	if _, _, err := s.Request(testContext(t), &smpp.EnquireLink{}); err != nil {
		t.Fatal(err)
	}
}

// probeInterval is long enough that a client on a busy test machine answers each probe
// before the next one is due (an unanswered probe closes the connection then).
const probeInterval = 250 * time.Millisecond

func TestServer_EnquireLinkProbesTheClient(t *testing.T) {
	srv := startServer(t, Config{EnquireLinkInterval: probeInterval})
	s := dial(t, srv, smpp.Options{}) // answers the SMSC's enquire_link itself
	deadline := time.Now().Add(testTimeout)
	for srv.Stats().EnquireLinksAnswered < 2 && time.Now().Before(deadline) {
		time.Sleep(probeInterval / 4)
	}
	if len(submitText(t, s, "447031", "still bound")) != 1 {
		t.Fatal("submit after the probes got no message id")
	}
	st := srv.Stats()
	if st.EnquireLinksAnswered < 2 || st.EnquireLinksSent < st.EnquireLinksAnswered || st.EnquireLinkDrops != 0 {
		t.Errorf("sent %d, answered %d, drops %d; want at least 2 answered and no drop",
			st.EnquireLinksSent, st.EnquireLinksAnswered, st.EnquireLinkDrops)
	}
}

func TestServer_EnquireLinkUnansweredCloses(t *testing.T) {
	srv := startServer(t, Config{EnquireLinkInterval: probeInterval})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	h, _ := r.read()
	if h.ID != smpp.EnquireLinkID {
		t.Fatalf("got %v, want the simulator's enquire_link", h.ID)
	}
	// An answer to another sequence number is no answer; any status to the right one is.
	r.write(enquireLinkResp(t, h.Sequence+1, smpp.StatusOK))
	r.write(enquireLinkResp(t, h.Sequence, smpp.StatusSysErr))
	if h, _ = r.read(); h.ID != smpp.EnquireLinkID {
		t.Fatalf("got %v, want the second enquire_link", h.ID)
	}
	r.expectClosed(0) // the second is left unanswered
	st := srv.Stats()
	if st.EnquireLinksSent != 2 || st.EnquireLinksAnswered != 1 || st.EnquireLinkDrops != 1 {
		t.Errorf("sent %d, answered %d, drops %d; want 2, 1, 1",
			st.EnquireLinksSent, st.EnquireLinksAnswered, st.EnquireLinkDrops)
	}
}

// enquireLinkResp is the PDU of an enquire_link_resp.
func enquireLinkResp(t *testing.T, seq uint32, st smpp.Status) []byte {
	t.Helper()
	b, err := smpp.AppendPDU(nil, seq, st, &smpp.EnquireLinkResp{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServer_ClientThatNeverReads(t *testing.T) {
	defer func(q int) { maxQueued = q }(maxQueued)
	maxQueued = 64 << 10
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := dialRaw(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		// Far more responses than the simulator buffers: it must stop reading, not grow.
		defer close(done)
		batch := make([]byte, 0, 16*4096)
		for i := range 4096 {
			batch = append(batch, mustPDU(t, uint32(i+1), smpp.StatusOK, &smpp.EnquireLink{})...)
		}
		for ctx.Err() == nil {
			if _, err := r.nc.Write(batch); err != nil {
				return
			}
		}
	}()
	// Wait until the simulator holds back, then Close must still finish.
	deadline := time.Now().Add(testTimeout)
	for {
		if held, queued := heldBack(srv); held {
			// At most one response beyond the limit piles up before the reader stops.
			if queued > maxQueued+smpp.HeaderLen {
				t.Errorf("%d octets queued, the limit is %d", queued, maxQueued)
			}
			break
		}
		if time.Now().After(deadline) {
			srv.Close()
			t.Fatal("the simulator never stopped reading a client that does not read")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
}

// heldBack reports whether a connection's reader waits for its client to read, and how
// many octets that connection has queued.
func heldBack(srv *Server) (bool, int) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if c.heldBack.Load() {
			return true, c.out.queued()
		}
	}
	return false, 0
}

// MaxBinds refuses binds beyond the limit with ESME_RALYBND, counts them as failed binds, and
// takes binds again once a session has ended.
func TestServer_MaxBinds(t *testing.T) {
	srv := startServer(t, Config{MaxBinds: 2})
	first := dial(t, srv, smpp.Options{})
	dial(t, srv, smpp.Options{})
	_, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "tester"}, BindTimeout: testTimeout})
	if !errors.Is(err, smpp.StatusAlyBnd) {
		t.Fatalf("third bind: %v, want ESME_RALYBND", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	// The server notices the first session's end after its unbind: the next bind waits for it.
	var s *smpp.Session
	for i := 0; ; i++ {
		s, err = smpp.Dial(testContext(t), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "tester"}, BindTimeout: testTimeout})
		if err == nil {
			break
		}
		if !errors.Is(err, smpp.StatusAlyBnd) || i == 200 {
			t.Fatalf("bind after a session ended: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	defer s.Close()
	if st := srv.Stats(); st.Sessions < 3 || st.BindFailures < 1 {
		t.Errorf("Stats %+v: want 3 sessions and the refused bind counted", st)
	}
}
