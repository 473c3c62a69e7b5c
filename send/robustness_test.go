package send

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// Regression tests for the engine's behaviour under failures: what is judged sent, when it
// backs off and gives up, and what outcome a row whose fate is unknown ends with.

func TestJudge(t *testing.T) {
	timeout := &smpp.TimeoutError{Seq: 7}
	lost := fmt.Errorf("%w: read: EOF", smpp.ErrConnectionLost)
	// What the session returns for a request it refused because it had just died: both
	// ErrNotSent and the session's end (ErrConnectionLost).
	notSentOnDead := fmt.Errorf("%w: %w", smpp.ErrNotSent, lost)
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"nil", nil, vAccepted},
		{"permanent", smpp.StatusInvDstAdr, vRejected},
		{"transient", smpp.StatusSysErr, vRetry},
		{"throttled", smpp.StatusThrottled, vThrottled},
		{"queue full", smpp.StatusMsgQFul, vThrottled},
		{"timeout", timeout, vTimeout},
		{"lost in flight", lost, vLost},
		{"not sent", fmt.Errorf("%w: %w", smpp.ErrNotSent, context.Canceled), vNotSent},
		{"not sent on a dead session", notSentOnDead, vNotSent},
		{"cancelled", context.Canceled, vNotSent},
		{"encode error", errors.New("smpp: encode submit_sm: too long"), vRejected},
		{"another command's response", fmt.Errorf("%w: enquire_link_resp to submit_sm", smpp.ErrUnexpectedResponse), vLost},
	}
	for _, tt := range tests {
		if got := judge(tt.err); got != tt.want {
			t.Errorf("%s: judge(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// A submit on a session that has just died is refused unwritten: it must be judged not
// sent (no attempt burned, no resubmitted mark), not lost.
func TestJudge_notSentOnDeadSession(t *testing.T) {
	srv := newSim(t, smsc.Config{DropAfter: []int{1}})
	s, err := smpp.Dial(context.Background(), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "a", Password: "b"}, RespTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := testRows(t, 2, "x %d")
	c, err := New(Config{Addr: "x", Book: report.NewBook(report.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), c.submitSM(&rows[0], 0, nil)); judge(err) != vLost && judge(err) != vAccepted {
		t.Fatalf("first submit: %v (%v), want lost or accepted", err, judge(err))
	}
	<-s.Done()
	_, err = s.Submit(context.Background(), c.submitSM(&rows[1], 0, nil))
	if v := judge(err); v != vNotSent {
		t.Errorf("a request never written: %v judged %v, want not_sent", err, v)
	}
	if n := srv.Stats().Submits; n != 1 {
		t.Errorf("simulator saw %d submit_sm, want 1", n)
	}
}

// bindThenDrop is an SMSC that accepts every bind and closes the connection a moment later,
// without reading anything else. It returns its address and a count of connections.
func bindThenDrop(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				pdu, err := smpp.ReadPDU(c, nil, 0)
				if err != nil {
					return
				}
				h, _ := smpp.DecodeHeader(pdu)
				b, _ := smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.BindResp{Mode: smpp.BindTransceiver, SystemID: "flaky"})
				c.Write(b)
				time.Sleep(5 * time.Millisecond)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String(), &conns
}

// closedHours are sending hours that are not now: the campaign starts paused.
func closedHours(t *testing.T) Hours {
	t.Helper()
	from := time.Now().UTC().Add(2 * time.Hour)
	h, err := ParseHours(from.Format("15:04")+"-"+from.Add(time.Hour).Format("15:04"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// An SMSC that binds and drops at once is an outage: the campaign backs off and gives up
// after GiveUpAfter with a ConnectError, sending or paused, instead of redialling without
// pause for ever; the rows whose submits were written and lost end uncertain, never
// rejected, the others not_sent.
func TestCampaign_bindThenDropGivesUp(t *testing.T) {
	for _, paused := range []bool{false, true} {
		t.Run(fmt.Sprintf("paused=%v", paused), func(t *testing.T) {
			addr, conns := bindThenDrop(t)
			cfg := Config{
				Addr:        addr,
				Session:     smpp.Options{RespTimeout: time.Second},
				Retry:       Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
				Reconnect:   Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
				GiveUpAfter: 500 * time.Millisecond,
				Book:        report.NewBook(report.Options{}),
			}
			if paused {
				cfg.Hours = closedHours(t)
			}
			rows := testRows(t, 50, "x %d")
			_, err := run(t, cfg, rows)
			var ce *ConnectError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want a ConnectError", err)
			}
			for n, r := range bookRows(cfg.Book) {
				switch {
				case r.SubmitStatus == report.SubmitUncertain && !paused:
				case r.SubmitStatus == report.SubmitNotSent:
				default:
					t.Errorf("row %d: %s %q, want uncertain or not_sent", n, r.SubmitStatus, r.SubmitError)
				}
			}
			t.Logf("%d connections", conns.Load())
		})
	}
}

// The wait before the next bind attempt never goes past the give-up time, so a campaign
// gives up on time however long the backoff has grown.
func TestCampaign_reconnectBackoffClampedToGiveUp(t *testing.T) {
	addr := acceptEach(t, func(c net.Conn) { c.Close() }) // reachable, never bound
	var log eventLog
	cfg := Config{
		Addr:        addr,
		Session:     smpp.Options{BindTimeout: time.Second},
		Reconnect:   Backoff{Initial: 20 * time.Second, Max: 20 * time.Second},
		GiveUpAfter: 300 * time.Millisecond,
		Book:        report.NewBook(report.Options{}),
		OnEvent:     log.add,
	}
	_, err := run(t, cfg, testRows(t, 2, "x"))
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConnectError", err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	for _, e := range log.events {
		if e.Kind == EventBindFailed && e.Until.Sub(e.Time) > cfg.GiveUpAfter {
			t.Errorf("next bind attempt scheduled %v ahead, past --give-up-after %v", e.Until.Sub(e.Time), cfg.GiveUpAfter)
		}
	}
}

// Paused before the first submit, the connection drops and the SMSC refuses the rebind with
// ESME_RBINDFAIL (it still holds the old bind): a bind succeeded before, so this is not a
// credentials problem; the bind is retried.
func TestCampaign_rebindRefusedWhilePausedIsRetried(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.refuseRebinds = 1
	cfg.Hours = closedHours(t)
	var log eventLog
	cfg.OnEvent = log.add
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 3, "n %d"))
	waitFor(t, ctx, func() bool { return log.count(EventBound) >= 1 })
	proxy.mu.Lock()
	for _, cn := range proxy.conns {
		cn.Close()
	}
	proxy.mu.Unlock()
	waitFor(t, ctx, func() bool { return log.count(EventBound) >= 2 || isDone(ctx.Done()) })
	c.Stop()
	err := (<-done).Err
	var be *BindError
	if errors.As(err, &be) {
		t.Errorf("a refused rebind after a drop ended the campaign: %v", err)
	}
	if log.count(EventBound) < 2 || log.count(EventBindFailed) < 1 {
		t.Errorf("bound %d times, %d failed binds: want the refused rebind retried", log.count(EventBound), log.count(EventBindFailed))
	}
}

// waitFor polls cond until it holds; it fails the test when ctx ends first.
func waitFor(t *testing.T, ctx context.Context, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("gave up waiting")
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// scriptedAnswer is what scriptedSMSC does with one submit_sm.
type scriptedAnswer struct {
	status  smpp.Status
	hold    bool // do not answer now: keep an acceptance for a later release
	release bool // first write every held acceptance (late responses), then answer
	// receiptFirst writes the accepted message's DELIVRD receipt before its submit_sm_resp,
	// as some SMSCs do under load.
	receiptFirst bool
	// after > 0 writes the answer that much later, from another goroutine: a submit_sm_resp
	// with status (and id, when it is ok), or afterAs with status.
	after   time.Duration
	afterAs smpp.PDU
}

// scriptedSMSC answers binds, enquire_link and unbind, and each submit_sm (numbered from 1
// over the whole server) as script says. Answers are written in order by the connection's
// reader, so a released late response reaches the client before the answer that follows it.
func scriptedSMSC(t *testing.T, script func(i int) scriptedAnswer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	n := 0
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				var held []uint32
				var buf []byte
				var wmu sync.Mutex // the reader and delayed answers write
				write := func(b []byte) error {
					wmu.Lock()
					defer wmu.Unlock()
					_, err := c.Write(b)
					return err
				}
				for {
					pdu, err := smpp.ReadPDU(c, buf, 0)
					if err != nil {
						return
					}
					buf = pdu[:0]
					h, err := smpp.DecodeHeader(pdu)
					if err != nil {
						return
					}
					var out []byte
					switch h.ID {
					case smpp.BindTransceiverID:
						out, _ = smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.BindResp{Mode: smpp.BindTransceiver, SystemID: "script"})
					case smpp.EnquireLinkID:
						out, _ = smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.EnquireLinkResp{})
					case smpp.UnbindID:
						out, _ = smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.UnbindResp{})
					case smpp.SubmitSMID:
						mu.Lock()
						n++
						i := n
						mu.Unlock()
						a := script(i)
						if a.release {
							for _, seq := range held {
								out, _ = smpp.AppendPDU(out, seq, smpp.StatusOK, &smpp.SubmitSMResp{MessageID: fmt.Sprintf("late%d", seq)})
							}
							held = nil
						}
						if a.receiptFirst {
							receipt := &smpp.DeliverSM{ESMClass: 0x04, ShortMessage: []byte(fmt.Sprintf(
								"id:id%d sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:x", i))}
							out, _ = smpp.AppendPDU(out, uint32(1000+i), smpp.StatusOK, receipt)
						}
						switch {
						case a.hold:
							held = append(held, h.Sequence)
						case a.after > 0:
							resp := a.afterAs
							if resp == nil {
								resp = &smpp.SubmitSMResp{MessageID: fmt.Sprintf("id%d", i)}
							}
							late, _ := smpp.AppendPDU(nil, h.Sequence, a.status, resp)
							wg.Add(1)
							time.AfterFunc(a.after, func() {
								defer wg.Done()
								_ = write(late)
							})
						case a.status == smpp.StatusOK:
							out, _ = smpp.AppendPDU(out, h.Sequence, smpp.StatusOK, &smpp.SubmitSMResp{MessageID: fmt.Sprintf("id%d", i)})
						default:
							out, _ = smpp.AppendPDU(out, h.Sequence, a.status, nil)
						}
					}
					if err := write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// runOneScripted sends one one-part row to the scripted SMSC at addr, with up to three tries
// and a fixed backoff, recording in jr, and returns the row as the Book ends it.
func runOneScripted(t *testing.T, addr string, window int, timeout, backoff time.Duration, jr *fakeJournal) report.Row {
	t.Helper()
	cfg := Config{
		Addr:        addr,
		Session:     smpp.Options{Window: window, RespTimeout: timeout},
		Retry:       Backoff{Initial: backoff, Max: backoff},
		MaxAttempts: 3,
		Book:        report.NewBook(report.Options{}),
		Journal:     jr,
	}
	if _, err := run(t, cfg, testRows(t, 1, "one")); err != nil {
		t.Fatal(err)
	}
	r, _ := cfg.Book.Row(1)
	return r
}

// A try whose outcome is unknown (its response timed out) is remembered: later tries that
// are refused, transiently or for good, cannot make the row rejected (and journaled so, so
// that --resume never looks at it again); it ends uncertain, and an acceptance of the
// timed-out try that arrives late makes it accepted (resubmitted) whatever came after.
func TestCampaign_unknownOutcomeIsSticky(t *testing.T) {
	hold := scriptedAnswer{hold: true}
	sysErr := scriptedAnswer{status: smpp.StatusSysErr}
	tests := []struct {
		name   string
		script []scriptedAnswer // by submit number; beyond the list: ESME_RSYSERR
		want   report.SubmitStatus
	}{
		{"late acceptance before the last transient error", []scriptedAnswer{hold, sysErr, {status: smpp.StatusSysErr, release: true}}, report.SubmitResubmitted},
		{"late acceptance before a permanent error", []scriptedAnswer{hold, {status: smpp.StatusInvDstAdr, release: true}}, report.SubmitResubmitted},
		{"transient errors after a timeout", []scriptedAnswer{hold, sysErr, sysErr}, report.SubmitUncertain},
		{"permanent error after a timeout", []scriptedAnswer{hold, {status: smpp.StatusInvDstAdr}}, report.SubmitUncertain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := scriptedSMSC(t, func(i int) scriptedAnswer {
				if i <= len(tt.script) {
					return tt.script[i-1]
				}
				return sysErr
			})
			var jr fakeJournal
			// Window 2: the timed-out try keeps its slot until the late response.
			r := runOneScripted(t, addr, 2, 100*time.Millisecond, 10*time.Millisecond, &jr)
			if r.SubmitStatus != tt.want {
				t.Errorf("row: %s %q ids %v, want %s", r.SubmitStatus, r.SubmitError, r.IDs, tt.want)
			}
			jr.mu.Lock()
			defer jr.mu.Unlock()
			for _, call := range jr.calls {
				if strings.HasPrefix(call, "rejected") {
					t.Errorf("journal recorded a rejection: %v", jr.calls)
				}
			}
		})
	}
}

// A try that timed out and was then refused late is not at the SMSC: when the refusal comes
// before the resend, the resend is a first copy, not a resubmission (the row was marked
// resubmitted, and a resume would have resent it). A refusal that comes after the resend was
// written cannot take the mark back: the journal has it already.
func TestCampaign_lateRefusalBeforeTheResend(t *testing.T) {
	tests := []struct {
		name        string
		late        scriptedAnswer // the first try's
		window      int
		timeout     time.Duration // the response timeout
		backoff     time.Duration // before the resend
		want        report.SubmitStatus
		resubmitted bool // the journal's record
	}{
		// The backoff waits half to all of it: the resend goes at 1.1-2.1s in the first
		// case, at 125-150ms in the second (wide margins for a loaded machine).
		{"refused before the resend", scriptedAnswer{status: smpp.StatusSysErr, after: 150 * time.Millisecond}, 2, 100 * time.Millisecond, 2 * time.Second, report.SubmitAccepted, false},
		{"refused after the resend", scriptedAnswer{status: smpp.StatusSysErr, after: 1500 * time.Millisecond}, 2, 100 * time.Millisecond, 50 * time.Millisecond, report.SubmitResubmitted, true},
		// The timed-out try holds the only window slot, so the resend waits for it: the
		// refusal frees it, always before the resend is written (which checked too early).
		// It comes 1.3s after the submit: after the timeout, before the session gives up
		// on a window that only timed-out requests hold (a timeout later).
		{"refused while the resend waits for the window", scriptedAnswer{status: smpp.StatusSysErr, after: 1300 * time.Millisecond}, 1, time.Second, 20 * time.Millisecond, report.SubmitAccepted, false},
		{"a generic_nack", scriptedAnswer{status: smpp.StatusSysErr, after: 1300 * time.Millisecond, afterAs: &smpp.GenericNack{}}, 1, time.Second, 20 * time.Millisecond, report.SubmitAccepted, false},
		{"a generic_nack with status 0", scriptedAnswer{after: 1300 * time.Millisecond, afterAs: &smpp.GenericNack{}}, 1, time.Second, 20 * time.Millisecond, report.SubmitAccepted, false},
		{"another response with an error status", scriptedAnswer{status: smpp.StatusSysErr, after: 1300 * time.Millisecond, afterAs: &smpp.EnquireLinkResp{}}, 1, time.Second, 20 * time.Millisecond, report.SubmitAccepted, false},
		// Status 0 in another command's response says nothing of the submit: in time the
		// message is sent again as a resubmission, and late too.
		{"another command's response, status 0", scriptedAnswer{after: 1300 * time.Millisecond, afterAs: &smpp.DataSMResp{MessageID: "x"}}, 1, time.Second, 20 * time.Millisecond, report.SubmitResubmitted, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := scriptedSMSC(t, func(i int) scriptedAnswer {
				if i == 1 {
					return tt.late
				}
				return scriptedAnswer{}
			})
			var jr fakeJournal
			r := runOneScripted(t, addr, tt.window, tt.timeout, tt.backoff, &jr)
			if r.SubmitStatus != tt.want || len(r.IDs) != 1 || r.IDs[0].ID != "id2" {
				t.Errorf("row: %s %q ids %v, want %s with the second try's id2", r.SubmitStatus, r.SubmitError, r.IDs, tt.want)
			}
			jr.mu.Lock()
			defer jr.mu.Unlock()
			if got := slices.ContainsFunc(jr.calls, func(c string) bool { return strings.HasPrefix(c, "resubmitted") }); got != tt.resubmitted {
				t.Errorf("journal %v: resubmitted record %v, want %v", jr.calls, got, tt.resubmitted)
			}
			// Refused during the backoff: a crash then leaves a row a resume sends as new.
			second := slices.Index(jr.calls[slices.Index(jr.calls, "attempt 1/0")+1:], "attempt 1/0")
			if notAccepted := slices.Index(jr.calls, "not accepted 1/0"); tt.window > 1 && !tt.resubmitted && (notAccepted < 0 || second < 0 || notAccepted > second+1) {
				t.Errorf("journal %v: want not accepted recorded before the second attempt", jr.calls)
			}
		})
	}
}

// A long message whose first part was accepted and whose second never got an answer says
// it is partly sent, as one whose second part was refused does: the recipient may have the
// start of the message.
func TestCampaign_partlySentWhenALaterPartIsUncertain(t *testing.T) {
	addr := scriptedSMSC(t, func(i int) scriptedAnswer { return scriptedAnswer{hold: i > 1} })
	cfg := Config{
		Addr:        addr,
		Session:     smpp.Options{Window: 4, RespTimeout: 100 * time.Millisecond},
		Retry:       Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond},
		MaxAttempts: 2,
		Book:        report.NewBook(report.Options{}),
	}
	rows := testRows(t, 1, strings.Repeat("Two parts. ", 18)+"%d")
	if len(rows[0].Message.Parts) != 2 {
		t.Fatalf("the row has %d parts, want 2", len(rows[0].Message.Parts))
	}
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	r, _ := cfg.Book.Row(1)
	want := "partly sent: 1 of 2 parts accepted, the rest unconfirmed: part 2: outcome unknown after 2 tries"
	if r.SubmitStatus != report.SubmitUncertain || !strings.HasPrefix(r.SubmitError, want) || len(r.IDs) != 1 {
		t.Errorf("row: %s %q ids %v; want uncertain, part 1's id, and %q", r.SubmitStatus, r.SubmitError, r.IDs, want)
	}
}

// Rows handed to workers that wait for a pacing token when Stop comes are not sent: Stop
// ends the wait (it used to last until the work was halted, RespTimeout later, with a
// submit_sm going out at every token meanwhile).
func TestCampaign_stopEndsTheWaitForAToken(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Rate = 0.5 // one token now, the next in 2s
	cfg.Session.Window = 5
	cfg.Session.RespTimeout = 20 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 20, "stop %d"))
	waitFor(t, ctx, func() bool { return c.Snapshot().Accepted >= 1 })
	atStop := srv.Stats().Submits
	c.Stop()
	res := (<-done).Result
	if ctx.Err() != nil {
		t.Fatal("Run did not return")
	}
	// One more may have had its token just before Stop.
	if after := srv.Stats().Submits - atStop; after > 1 {
		t.Errorf("%d submit_sm went out after Stop", after)
	}
	if !res.Stopped {
		t.Error("Result.Stopped is false")
	}
	for n, r := range bookRows(cfg.Book) {
		if r.SubmitStatus != report.SubmitAccepted && r.SubmitStatus != report.SubmitNotSent {
			t.Errorf("row %d: %s %q, want accepted or not_sent", n, r.SubmitStatus, r.SubmitError)
		}
	}
}

// Responses slower than the response timeout: the requests that timed out are still
// outstanding at the SMSC, so resends wait for their window slots, and the SMSC never sees
// more than the window; every row ends accepted (the late responses count).
func TestCampaign_windowHonouredWhenResponsesAreLate(t *testing.T) {
	// Late, but within the grace the session gives a window full of timed-out requests.
	srv := newSim(t, smsc.Config{RespDelay: 150 * time.Millisecond})
	cfg, proxy := proxiedConfig(t, srv)
	cfg.Session.Window = 4
	cfg.Session.RespTimeout = 100 * time.Millisecond
	cfg.MaxAttempts = 10
	rows := testRows(t, 20, "slow %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	if got := proxy.Max(); got > cfg.Session.Window {
		t.Errorf("largest outstanding count on one connection %d, window %d", got, cfg.Session.Window)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	t.Logf("%d submit_sm for %d rows", srv.Stats().Submits, len(rows))
}

// Every response comes after its timeout. With a window of one, the resend of a part can
// only wait for the slot its own timed-out try holds, so the late acceptance always arrives
// before the resend is written: it cancels the resend, and nothing is sent twice.
func TestCampaign_lateAcceptanceCancelsTheQueuedResend(t *testing.T) {
	// The response comes well after the timeout, and well before the window has been held
	// by the timed-out try for another RespTimeout (which would end the session).
	srv := newSim(t, smsc.Config{RespDelay: 300 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Session.Window = 1
	cfg.Session.RespTimeout = 200 * time.Millisecond
	cfg.MaxAttempts = 10
	jr := &fakeJournal{}
	cfg.Journal = jr
	rows := testRows(t, 5, "late %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	parts := 0
	for _, r := range rows {
		parts += len(r.Message.Parts)
	}
	if got := srv.Stats().Submits; got != parts {
		t.Errorf("%d submit_sm at the SMSC for %d parts, want no duplicates", got, parts)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	simIDs := map[string]bool{}
	for _, m := range srv.Messages() {
		for _, id := range m.IDs {
			simIDs[id] = true
		}
	}
	book := bookRows(cfg.Book)
	for _, r := range rows {
		br := book[r.Num]
		if br.Resubmitted || br.SubmitStatus != report.SubmitAccepted {
			t.Errorf("row %d: %s, resubmitted %v; want accepted, not resubmitted", r.Num, br.SubmitStatus, br.Resubmitted)
		}
		if len(br.IDs) != len(r.Message.Parts) {
			t.Errorf("row %d: ids %v, want one per part", r.Num, br.IDs)
		}
		for _, id := range br.IDs {
			if !simIDs[id.ID] {
				t.Errorf("row %d: id %q is not one the SMSC gave", r.Num, id.ID)
			}
		}
	}
	if res.Resubmitted != 0 {
		t.Errorf("%d rows counted resubmitted, want 0", res.Resubmitted)
	}
	// The journal records an attempt only once it is sure to be written, so the cancelled
	// resends left no trace: one attempt per part and no resubmitted record, which a resume
	// would otherwise report as sent twice.
	attempts, resubmitted := 0, 0
	for _, c := range jr.calls {
		switch {
		case strings.HasPrefix(c, "attempt "):
			attempts++
		case strings.HasPrefix(c, "resubmitted "):
			resubmitted++
		}
	}
	if attempts != parts || resubmitted != 0 {
		t.Errorf("journal: %d attempts and %d resubmitted records for %d parts sent once; want %d and 0",
			attempts, resubmitted, parts, parts)
	}
}

// A second signal (Run's ctx cancelled after Stop) cuts the orderly unbind short: the
// connection is closed at once instead of after the response timeout, even when the SMSC
// never answers the unbind.
func TestCampaign_abortCutsTheUnbindShort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	inUnbind := make(chan struct{})
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var buf []byte
		for {
			pdu, err := smpp.ReadPDU(c, buf, 0)
			if err != nil {
				close(closed) // the engine closed the connection
				return
			}
			buf = pdu[:0]
			h, _ := smpp.DecodeHeader(pdu)
			var out []byte
			switch h.ID {
			case smpp.BindTransceiverID:
				out, _ = smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.BindResp{Mode: smpp.BindTransceiver, SystemID: "mute"})
			case smpp.SubmitSMID:
				out, _ = smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, &smpp.SubmitSMResp{MessageID: "1"})
			case smpp.UnbindID:
				close(inUnbind) // never answered
			}
			c.Write(out)
		}
	}()
	cfg := Config{Addr: ln.Addr().String(), Session: smpp.Options{RespTimeout: time.Minute},
		Book: report.NewBook(report.Options{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, done := startRun(t, ctx, cfg, testRows(t, 1, "x"))
	limit := time.NewTimer(20 * time.Second) // far below the minute the unbind could take
	defer limit.Stop()
	select {
	case <-inUnbind: // the row is done and the session is unbinding
	case <-limit.C:
		t.Fatal("no unbind")
	}
	cancel() // the second signal
	select {
	case <-closed:
	case <-limit.C:
		t.Fatal("the connection was not closed after the abort")
	}
	<-done
}

// Resumed rows an earlier run sent without a recorded response are marked resubmitted only
// when this run really writes them again; those Stop leaves unsent end uncertain (the SMSC
// may have them from the earlier run), not not_sent.
func TestCampaign_resumedRowsLeftAtStopAreUncertain(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Rate = 0.5 // one token now, the next in 2s
	cfg.Session.Window = 5
	cfg.Session.RespTimeout = 20 * time.Second
	cfg.Resume = func(*csvin.Row) (bool, int, bool) { return false, 0, true }
	rows := testRows(t, 20, "again %d")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, rows)
	waitFor(t, ctx, func() bool { return c.Snapshot().Accepted >= 1 })
	c.Stop()
	<-done
	sent := sentCount(srv)
	for n, r := range bookRows(cfg.Book) {
		switch again := sent[rows[n-1].MSISDN] > 0; {
		case again && (r.SubmitStatus != report.SubmitResubmitted || !r.Resubmitted):
			t.Errorf("row %d sent again: %s resubmitted=%v, want resubmitted", n, r.SubmitStatus, r.Resubmitted)
		case !again && (r.SubmitStatus != report.SubmitUncertain || r.Resubmitted):
			t.Errorf("row %d not sent again: %s resubmitted=%v %q, want uncertain and not resubmitted", n, r.SubmitStatus, r.Resubmitted, r.SubmitError)
		}
	}
}

// Rows written and unanswered when the run is aborted end uncertain: the SMSC may have them.
func TestCampaign_rowsInFlightAtAbortAreUncertain(t *testing.T) {
	addr := scriptedSMSC(t, func(int) scriptedAnswer { return scriptedAnswer{hold: true} })
	cfg := Config{Addr: addr, Session: smpp.Options{Window: 3, RespTimeout: time.Minute},
		Book: report.NewBook(report.Options{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	limit, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	c, done := startRun(t, ctx, cfg, testRows(t, 5, "held %d"))
	waitFor(t, limit, func() bool { return c.Snapshot().InFlight == 3 })
	cancel()
	<-done
	got := map[report.SubmitStatus]int{}
	for _, r := range bookRows(cfg.Book) {
		got[r.SubmitStatus]++
	}
	if got[report.SubmitUncertain] != 3 || got[report.SubmitNotSent] != 2 {
		t.Errorf("statuses %v, want 3 uncertain (in flight) and 2 not_sent", got)
	}
}

// singleBindProxy forwards connections to target like an SMSC that allows one bind per
// system_id: while one connection holds the bind, every other bind is refused with refusal.
type singleBindProxy struct {
	ln      net.Listener
	target  string
	refusal smpp.Status
	wg      sync.WaitGroup
	mu      sync.Mutex
	held    bool
	refused int
	conns   []net.Conn
}

func newSingleBindProxy(t *testing.T, target string, refusal smpp.Status) *singleBindProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &singleBindProxy{ln: ln, target: target, refusal: refusal}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, client)
			p.mu.Unlock()
			p.wg.Add(1)
			go p.serve(client)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *singleBindProxy) Addr() string { return p.ln.Addr().String() }

func (p *singleBindProxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

// serve takes the bind of client if it is free (it is held from the bind request on, so a
// concurrent bind is refused before the first one's answer) and pipes to target until either
// side closes.
func (p *singleBindProxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	bindPDU, err := smpp.ReadPDU(client, nil, 0)
	if err != nil {
		return
	}
	p.mu.Lock()
	refuse := p.held
	if refuse {
		p.refused++
	} else {
		p.held = true
	}
	p.mu.Unlock()
	if refuse {
		h, err := smpp.DecodeHeader(bindPDU)
		if err != nil {
			return
		}
		b, _ := smpp.AppendPDU(nil, h.Sequence, p.refusal, nil)
		binary.BigEndian.PutUint32(b[4:], uint32(h.ID)|0x80000000)
		client.Write(b)
		return
	}
	defer func() { p.mu.Lock(); p.held = false; p.mu.Unlock() }()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	if _, err := server.Write(bindPDU); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(client, server)
		client.Close()
	}()
	io.Copy(server, client)
	server.Close()
	<-done
}

// With --binds 2 against an SMSC that allows one bind per system_id, the second bind is
// refused (ESME_RALYBND, or ESME_RBINDFAIL even while the first bind is being accepted) for
// the whole campaign: it keeps retrying in the background, its failures neither end the
// campaign nor count towards --give-up-after while the first bind works, and the rows go on
// the working bind: every row accepted, in order, nothing sent twice.
func TestCampaign_secondBindRefusedWhileTheFirstWorks(t *testing.T) {
	long := strings.Repeat("Parts of one message go out in order. ", 5) // two parts
	for _, refusal := range []smpp.Status{smpp.StatusAlyBnd, smpp.StatusBindFail} {
		t.Run(refusal.Name(), func(t *testing.T) {
			srv := newSim(t, smsc.Config{})
			proxy := newSingleBindProxy(t, srv.Addr(), refusal)
			cfg := testConfig(srv)
			cfg.Addr = proxy.Addr()
			cfg.Binds = 2
			// Far shorter than the campaign (paced at 200 PDUs/s), so that a failing bind
			// counting its own outage would give up in the middle of it.
			cfg.GiveUpAfter = 200 * time.Millisecond
			cfg.Rate = 200
			cfg.Reconnect = Backoff{Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond}
			var log eventLog
			cfg.OnEvent = log.add
			rows := testRows(t, 60, long+"%d")
			res, err := run(t, cfg, rows)
			if err != nil {
				t.Fatalf("campaign failed although one bind worked: %v", err)
			}
			checkAllAccepted(t, cfg.Book, srv, rows)
			for dest, n := range sentCount(srv) {
				if n != 1 {
					t.Errorf("%s received %d messages, want 1", dest, n)
				}
			}
			want := map[string]string{}
			for _, r := range rows {
				want[r.MSISDN] = r.Text
			}
			for _, m := range srv.Messages() {
				if !m.Complete() || m.TotalParts != 2 || m.Text != want[m.Destination.Addr] {
					t.Errorf("message to %s: complete %v, %d/%d parts, text %q", m.Destination.Addr, m.Complete(), m.Parts, m.TotalParts, m.Text)
				}
			}
			if res.Resubmitted != 0 || res.PDUs != int64(2*len(rows)) {
				t.Errorf("%d PDUs written, %d rows resubmitted: want %d and 0", res.PDUs, res.Resubmitted, 2*len(rows))
			}
			if proxy.Refused() == 0 || log.count(EventBindFailed) == 0 {
				t.Errorf("%d binds refused, %d failed binds reported: the second bind was never refused", proxy.Refused(), log.count(EventBindFailed))
			}
		})
	}
}

// A bind refused for its credentials before any bind succeeded still ends the campaign at
// once with a BindError when every bind is refused.
func TestCampaign_bindRefusedWithSeveralBinds(t *testing.T) {
	srv := newSim(t, smsc.Config{SystemID: "test", Password: "right"})
	cfg := testConfig(srv)
	cfg.Binds = 2
	cfg.Session.Bind.Password = "wrong"
	res, err := run(t, cfg, testRows(t, 5, "never sent"))
	var be *BindError
	if !errors.As(err, &be) || be.Status != smpp.StatusInvPaswd {
		t.Fatalf("err = %v, want a BindError with ESME_RINVPASWD", err)
	}
	if res.Sent || srv.Stats().BindFailures > cfg.Binds {
		t.Errorf("sent %v, bind attempts refused %d: want nothing sent and one attempt per bind", res.Sent, srv.Stats().BindFailures)
	}
}

// An SMSC that forgets a bind but keeps its connection (a restarted bind table) answers every
// submit on it with ESME_RINVBNDSTS: the campaign binds again instead of spending every row's
// tries on that session, and every row is accepted.
func TestCampaign_forgottenBindRebinds(t *testing.T) {
	srv := newSim(t, smsc.Config{ForgetBindAfter: []int{5}})
	cfg := testConfig(srv)
	cfg.MaxAttempts = 1 // a forgotten bind is no try of the message's
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 30, "forgotten %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if st := srv.Stats(); st.ForgottenBinds != 1 || st.Sessions < 2 {
		t.Errorf("simulator: %d binds forgotten, %d sessions; want 1 and a new bind", st.ForgottenBinds, st.Sessions)
	}
	if n := log.countOf(func(e Event) bool {
		return e.Kind == EventConnectionLost && errors.Is(e.Err, smpp.StatusInvBndSts)
	}); n != 1 {
		t.Errorf("%d connection-lost events name ESME_RINVBNDSTS, want 1", n)
	}
	// Nothing was in flight unanswered: the log line must not promise resends.
	if n := log.countOf(func(e Event) bool {
		line := e.String()
		return errors.Is(e.Err, smpp.StatusInvBndSts) && (strings.Contains(line, "resent") || !strings.Contains(line, "binding again"))
	}); n != 0 {
		t.Errorf("%d log lines about the forgotten bind promise resends or do not say it binds again", n)
	}
}

// A part throttled for --give-up-after was never accepted: its row ends not_sent, so that a
// --resume sends it once the SMSC is well, and it counts as failed; "rejected" would have
// kept it from being sent ever again.
func TestCampaign_throttledTooLongIsNotSent(t *testing.T) {
	srv := newSim(t, smsc.Config{ThrottleTPS: 1})
	cfg := testConfig(srv)
	cfg.GiveUpAfter = 200 * time.Millisecond
	cfg.Session.Window = 10
	rows := testRows(t, 10, "throttled %d")
	c, res, err := runCampaign(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	gaveUp := 0
	for n, r := range bookRows(cfg.Book) {
		switch {
		case r.SubmitStatus == report.SubmitAccepted:
		case r.SubmitStatus == report.SubmitNotSent && strings.Contains(r.SubmitError, "ESME_RTHROTTLED") && strings.Contains(r.SubmitError, "--resume sends it again"):
			gaveUp++
		default:
			t.Errorf("row %d: %s %q, want accepted, or not_sent for throttling", n, r.SubmitStatus, r.SubmitError)
		}
	}
	if gaveUp == 0 {
		t.Fatal("no row gave up on throttling; the test needs a lower ThrottleTPS or a shorter GiveUpAfter")
	}
	if snap := c.Snapshot(); snap.Failed != gaveUp || res.Accepted+gaveUp != len(rows) {
		t.Errorf("failed %d, accepted %d; want %d rows that gave up counted as failed, the rest accepted", snap.Failed, res.Accepted, gaveUp)
	}
}

// An SMSC that answers ESME_RINVBNDSTS to every submit, also right after a new bind: the
// rebinds do not go on for ever. After --give-up-after either each row gives up, or the
// campaign does (no bind ever worked: an outage), whichever comes first; every row ends
// not_sent, none having counted a try per refusal.
func TestCampaign_bindForgottenAgainAndAgain(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.mu.Lock()
	proxy.refuseSubmits = smpp.StatusInvBndSts
	proxy.mu.Unlock()
	cfg.GiveUpAfter = 300 * time.Millisecond
	cfg.MaxAttempts = 100 // were the refusals tries, the rows would end "(after 100 tries)"
	rows := testRows(t, 3, "forgotten %d")
	var ce *ConnectError
	if _, err := run(t, cfg, rows); err != nil && (!errors.As(err, &ce) || !errors.Is(err, smpp.StatusInvBndSts)) {
		t.Fatalf("Run = %v, want nil or giving up on the SMSC, naming ESME_RINVBNDSTS", err)
	}
	for n, r := range bookRows(cfg.Book) {
		if r.SubmitStatus != report.SubmitNotSent || strings.Contains(r.SubmitError, "tries") {
			t.Errorf("row %d: %s %q, want not_sent, no tries counted", n, r.SubmitStatus, r.SubmitError)
		}
	}
	proxy.mu.Lock()
	binds := proxy.bindsOf[smpp.BindTransceiverID]
	proxy.mu.Unlock()
	if binds < 2 {
		t.Errorf("%d binds, want the forgotten bind replaced", binds)
	}
}

// A submit answered with another command's response may have been accepted: it is sent
// again, marked resubmitted, and the campaign warns once, since only the carrier can say why.
func TestCampaign_answeredWithAnotherCommand(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.mu.Lock()
	proxy.wrongResponses = 2
	proxy.mu.Unlock()
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 4, "wrong %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	resubmitted := 0
	for _, r := range bookRows(cfg.Book) {
		if r.Resubmitted {
			resubmitted++
		}
	}
	if resubmitted != 2 {
		t.Errorf("%d rows resubmitted, want the 2 answered with deliver_sm_resp", resubmitted)
	}
	if n := log.countOf(func(e Event) bool {
		return e.Kind == EventWarning && errors.Is(e.Err, smpp.ErrUnexpectedResponse)
	}); n != 1 {
		t.Errorf("%d warnings about the wrong responses, want 1", n)
	}
}

// An SMSC that accepts submits without a message id breaks SMPP 3.4: the rows are accepted,
// but no receipt can ever be matched to them, so they get receipt status UNKNOWN with the
// reason instead of staying PENDING for ever (and smscast receipts with them), and the
// campaign warns once.
func TestCampaign_acceptedWithoutMessageID(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.mu.Lock()
	proxy.blankIDs = true
	proxy.mu.Unlock()
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 4, "no id %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	for n, r := range bookRows(cfg.Book) {
		if r.SubmitStatus != report.SubmitAccepted || r.ReceiptStatus != "UNKNOWN" || r.ReceiptError != report.NoMessageID {
			t.Errorf("row %d: %s, receipt %s %q; want accepted, UNKNOWN, %q", n, r.SubmitStatus, r.ReceiptStatus, r.ReceiptError, report.NoMessageID)
		}
	}
	if p := cfg.Book.Pending(); p != 0 {
		t.Errorf("%d rows pending, want none", p)
	}
	if n := log.countOf(func(e Event) bool {
		return e.Kind == EventWarning && strings.Contains(e.Err.Error(), "without a message id")
	}); n != 1 {
		t.Errorf("%d warnings about the missing message ids, want 1", n)
	}
}
