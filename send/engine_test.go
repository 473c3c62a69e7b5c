package send

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"smscast/internal/stacks"
	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

func TestCampaign_sendsEveryRowAndCollectsReceipts(t *testing.T) {
	srv := newSim(t, smsc.Config{SystemID: "test", Password: "secret"})
	cfg := testConfig(srv)
	cfg.Wait = 10 * time.Second
	rows := testRows(t, 60, "Hello %d, your code is ready")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if !res.Sent || res.Accepted != len(rows) || res.Done != len(rows) || res.Failed != 0 {
		t.Errorf("result %+v, want %d accepted and done", res.Snapshot, len(rows))
	}
	if cfg.Book.Pending() != 0 {
		t.Errorf("%d rows still pending after waiting for receipts", cfg.Book.Pending())
	}
	for n, r := range bookRows(cfg.Book) {
		if r.ReceiptStatus != "DELIVRD" || len(r.IDs) != 1 || r.PlannedAt.IsZero() {
			t.Errorf("row %d: receipt %q, ids %v, planned %v", n, r.ReceiptStatus, r.IDs, r.PlannedAt)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != len(rows) {
		t.Fatalf("simulator accepted %d messages, want %d", len(msgs), len(rows))
	}
	texts := map[string]string{}
	for _, m := range msgs {
		texts[m.Destination.Addr] = m.Text
		if m.Source.Addr != "smscast" || m.Source.TON != 5 || m.Destination.TON != 1 || m.Destination.NPI != 1 || m.RegisteredDelivery != 1 {
			t.Errorf("message %+v: wrong addresses or registered_delivery", m)
		}
	}
	for _, r := range rows {
		if texts[r.MSISDN] != r.Text {
			t.Errorf("row %d arrived as %q, want %q", r.Num, texts[r.MSISDN], r.Text)
		}
	}
}

func TestCampaign_throttling(t *testing.T) {
	// The SMSC allows 50 submits per second; we ask for 400/s, or for no limit at all. The
	// pacer must slow down and every row must still be accepted.
	for _, rate := range []float64{400, 0} {
		t.Run(FormatRate(rate), func(t *testing.T) {
			srv := newSim(t, smsc.Config{ThrottleTPS: 50})
			cfg := testConfig(srv)
			cfg.Rate = rate
			cfg.MaxAttempts = 2 // throttling must not use up tries
			var log eventLog
			cfg.OnEvent = log.add
			rows := testRows(t, 150, "throttled %d")
			res, err := run(t, cfg, rows)
			if err != nil {
				t.Fatal(err)
			}
			checkAllAccepted(t, cfg.Book, srv, rows)
			if res.Failed != 0 {
				t.Errorf("%d rows failed", res.Failed)
			}
			st := srv.Stats()
			if st.Throttled == 0 || res.Throttled == 0 {
				t.Errorf("the SMSC throttled %d submits, the engine saw %d: the test did not throttle", st.Throttled, res.Throttled)
			}
			if log.count(EventRate) == 0 {
				t.Error("no rate event: the pacer never lowered the rate")
			}
			if st.Accepted != len(rows) {
				t.Errorf("simulator accepted %d, want %d (no duplicates)", st.Accepted, len(rows))
			}
		})
	}
}

func TestCampaign_drops(t *testing.T) {
	// The SMSC drops the connection after the 300th and 900th accepted message, as if it
	// crashed after committing them: requests in flight are resent and marked resubmitted.
	srv := newSim(t, smsc.Config{DropAfter: []int{300, 900}})
	cfg := testConfig(srv)
	cfg.Binds = 2
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 1200, "drop test %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if log.count(EventConnectionLost) < 2 {
		t.Errorf("%d connection losses seen, want 2", log.count(EventConnectionLost))
	}
	book := bookRows(cfg.Book)
	sent := sentCount(srv)
	twice := 0
	for _, r := range rows {
		n := sent[r.MSISDN]
		if n > 1 {
			twice++
			if !book[r.Num].Resubmitted || book[r.Num].SubmitStatus != report.SubmitResubmitted {
				t.Errorf("row %d reached the SMSC %d times but is %s", r.Num, n, book[r.Num].SubmitStatus)
			}
		}
	}
	limit := cfg.Session.Window * cfg.Binds
	if twice == 0 || twice > limit {
		t.Errorf("%d rows sent twice, want 1..%d (window × binds)", twice, limit)
	}
	if res.Resubmitted > 2*cfg.Session.Window {
		t.Errorf("%d rows resubmitted, want at most %d (the window, per drop)", res.Resubmitted, 2*cfg.Session.Window)
	}
}

func TestCampaign_rebindRefusedAfterDrop(t *testing.T) {
	// After a drop the SMSC refuses the new bind twice (it still holds the old one): that is
	// retried, not fatal, because something was sent already.
	srv := newSim(t, smsc.Config{DropAfter: []int{20}})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.refuseRebinds = 2
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 60, "rebind %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	refused := 0
	log.mu.Lock()
	for _, e := range log.events {
		if e.Kind == EventBindFailed && errors.Is(e.Err, smpp.StatusBindFail) {
			refused++
		}
	}
	log.mu.Unlock()
	if refused != 2 {
		t.Errorf("%d refused rebinds reported, want 2", refused)
	}
}

func TestCampaign_rejects(t *testing.T) {
	srv := newSim(t, smsc.Config{RejectPrefixes: []string{"491710000001"}})
	cfg := testConfig(srv)
	rows := testRows(t, 30, "reject test %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	book := bookRows(cfg.Book)
	rejected := 0
	for _, r := range rows {
		got := book[r.Num]
		if strings.HasPrefix(r.MSISDN, "491710000001") {
			rejected++
			if got.SubmitStatus != report.SubmitRejected || got.SubmitError != "0x0000000B ESME_RINVDSTADR" {
				t.Errorf("row %d: %s %q, want rejected 0x0000000B ESME_RINVDSTADR", r.Num, got.SubmitStatus, got.SubmitError)
			}
		} else if got.SubmitStatus != report.SubmitAccepted {
			t.Errorf("row %d: %s %q, want accepted", r.Num, got.SubmitStatus, got.SubmitError)
		}
	}
	if rejected == 0 || res.Failed != rejected || res.Accepted != len(rows)-rejected {
		t.Errorf("result %+v, want %d failed", res.Snapshot, rejected)
	}
	if st := srv.Stats(); st.Rejected != rejected {
		t.Errorf("simulator rejected %d submits, want %d (a permanent error is not retried)", st.Rejected, rejected)
	}
}

func TestCampaign_unbindFromSMSC(t *testing.T) {
	srv := newSim(t, smsc.Config{UnbindAfter: []int{20}})
	cfg := testConfig(srv)
	rows := testRows(t, 60, "unbind test %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if st := srv.Stats(); st.Sessions < 2 || st.Unbinds != 1 {
		t.Errorf("sessions %d, unbinds %d: want a rebind after the SMSC's unbind", st.Sessions, st.Unbinds)
	}
	if st := srv.Stats(); st.Accepted != len(rows) {
		t.Errorf("simulator accepted %d, want %d", st.Accepted, len(rows))
	}
}

func TestCampaign_deadPeer(t *testing.T) {
	// The SMSC answers submits but never enquire_link: each idle pause makes the session
	// probe, time out and end as a dead peer; the campaign rebinds and finishes.
	srv := newSim(t, smsc.Config{NoEnquireResp: true})
	cfg := testConfig(srv)
	cfg.Rate = 4 // 250ms between submits: longer than the probe interval
	cfg.Session.EnquireLinkInterval = 50 * time.Millisecond
	cfg.Session.RespTimeout = 100 * time.Millisecond
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 6, "dead peer %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	lost := 0
	log.mu.Lock()
	for _, e := range log.events {
		if e.Kind == EventConnectionLost && errors.Is(e.Err, smpp.ErrDeadPeer) {
			lost++
		}
	}
	log.mu.Unlock()
	if lost == 0 {
		t.Error("no connection loss for a dead peer was reported")
	}
}

func TestCampaign_windowIsHonoured(t *testing.T) {
	srv := newSim(t, smsc.Config{RespDelay: 20 * time.Millisecond})
	cfg, proxy := proxiedConfig(t, srv)
	cfg.Session.Window = 4
	cfg.Binds = 2
	rows := testRows(t, 80, "window %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if got := proxy.Max(); got != cfg.Session.Window {
		t.Errorf("largest outstanding count on one connection %d, want the window, %d", got, cfg.Session.Window)
	}
	// The simulator sees a lower bound of the same figure.
	if got := srv.Stats().MaxOutstanding; got < 2 || got > cfg.Session.Window {
		t.Errorf("simulator's largest outstanding count %d, want 2..%d", got, cfg.Session.Window)
	}
}

func TestCampaign_severalBinds(t *testing.T) {
	// Slow responses make the campaign outlast the binding of all three sessions: the
	// engine starts sending on the first bind that is up and does not wait for the others.
	srv := newSim(t, smsc.Config{RespDelay: 20 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Binds = 3
	rows := testRows(t, 90, "binds %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	st := srv.Stats()
	if st.Sessions != 3 {
		t.Errorf("%d sessions, want 3", st.Sessions)
	}
	if st.Accepted != len(rows) {
		t.Errorf("simulator accepted %d, want %d", st.Accepted, len(rows))
	}
}

// A carrier that allows fewer binds than --binds refuses the others (ESME_RALYBND): the
// binds it takes carry the whole campaign, the refused ones keep retrying in the background
// without failing it, and nothing is lost or sent twice.
func TestCampaign_moreBindsThanAllowed(t *testing.T) {
	srv := newSim(t, smsc.Config{MaxBinds: 2, RespDelay: 20 * time.Millisecond}) // outlasts the binding
	cfg := testConfig(srv)
	cfg.Binds = 3
	rows := testRows(t, 60, "capped binds %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	st := srv.Stats()
	// A third bind can get in only as the campaign ends and the others unbind.
	if st.Sessions < 2 || st.BindFailures == 0 {
		t.Errorf("%d sessions, %d refused binds; want 2 and at least one refused", st.Sessions, st.BindFailures)
	}
	// The summary says which bind never was bound, and why.
	wantDown := 3 - st.Sessions
	if len(res.BindsDown) != wantDown {
		t.Errorf("%d binds said never bound (%v), want %d of 3 (%d sessions)", len(res.BindsDown), res.BindsDown, wantDown, st.Sessions)
	}
	for _, down := range res.BindsDown {
		if !strings.Contains(down.Err.Error(), "ESME_RALYBND") {
			t.Errorf("bind %d never bound: %v, want the SMSC's refusal", down.Bind, down.Err)
		}
	}
}

func TestCampaign_multipart(t *testing.T) {
	long := strings.Repeat("A long message that needs three parts. ", 10) // 390 septets
	for _, pr := range []report.PartReceipts{report.PartsAll, report.PartsLast} {
		t.Run(pr.String(), func(t *testing.T) {
			srv := newSim(t, smsc.Config{})
			cfg := testConfig(srv)
			cfg.PartReceipts = pr
			cfg.Book = report.NewBook(report.Options{PartReceipts: pr})
			cfg.Wait = 10 * time.Second
			rows := testRows(t, 12, long+"%d")
			res, err := run(t, cfg, rows)
			if err != nil {
				t.Fatal(err)
			}
			checkAllAccepted(t, cfg.Book, srv, rows)
			if res.PDUs != int64(3*len(rows)) {
				t.Errorf("%d PDUs written, want %d", res.PDUs, 3*len(rows))
			}
			msgs := srv.Messages()
			if len(msgs) != len(rows) {
				t.Fatalf("simulator has %d messages, want %d", len(msgs), len(rows))
			}
			want := map[string]string{}
			for _, r := range rows {
				want[r.MSISDN] = r.Text
			}
			for _, m := range msgs {
				if !m.Complete() || m.TotalParts != 3 || m.Text != want[m.Destination.Addr] {
					t.Errorf("message to %s: complete %v, %d/%d parts, text %q", m.Destination.Addr, m.Complete(), m.Parts, m.TotalParts, m.Text)
				}
			}
			for n, r := range bookRows(cfg.Book) {
				if r.ReceiptStatus != "DELIVRD" || len(r.IDs) != 3 {
					t.Errorf("row %d: receipt %q with ids %v", n, r.ReceiptStatus, r.IDs)
				}
			}
			wantReceipts := 3 * len(rows)
			if pr == report.PartsLast {
				wantReceipts = len(rows)
			}
			if got := srv.Stats().ReceiptsAcked; got != wantReceipts {
				t.Errorf("%d receipts, want %d", got, wantReceipts)
			}
			// Progress counts rows with a final receipt, as the summary does, not receipts.
			if res.Receipts != len(rows) || res.Pending != 0 {
				t.Errorf("progress: receipts %d, pending %d; want %d rows, 0", res.Receipts, res.Pending, len(rows))
			}
		})
	}
}

// A TLS certificate the campaign does not trust stops it at once, with what to set, instead
// of being retried as an outage until --give-up-after; one it trusts (the CA given) works.
func TestCampaign_certificateRefused(t *testing.T) {
	srv := newSim(t, smsc.Config{TLSSelfSigned: true})
	cfg := testConfig(srv)
	cfg.GiveUpAfter = time.Minute
	cfg.Session.TLS = &tls.Config{ServerName: "127.0.0.1"} // the system's CAs only
	res, err := run(t, cfg, testRows(t, 3, "never sent"))
	var ce *CertificateError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--tls-ca") || res.Sent {
		t.Fatalf("err = %v (sent: %v), want a CertificateError naming --tls-ca and nothing sent", err, res.Sent)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg = testConfig(srv)
	cfg.Session.TLS = &tls.Config{ServerName: "127.0.0.1", RootCAs: pool}
	if res, err := run(t, cfg, testRows(t, 3, "over TLS %d")); err != nil || res.Accepted != 3 {
		t.Errorf("with the CA: %v, %d accepted; want 3", err, res.Accepted)
	}
}

// --tls against a plain SMPP port stops at once with what to change, as a refused
// certificate does, instead of being retried as an outage until --give-up-after.
func TestCampaign_TLSToPlainPort(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.GiveUpAfter = time.Minute
	cfg.Session.TLS = &tls.Config{InsecureSkipVerify: true}
	res, err := run(t, cfg, testRows(t, 3, "never sent"))
	var te *TLSMismatchError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "turn TLS off") || res.Sent {
		t.Fatalf("err = %v (sent: %v), want a TLSMismatchError saying to turn TLS off and nothing sent", err, res.Sent)
	}
}

func TestCampaign_bindRefused(t *testing.T) {
	srv := newSim(t, smsc.Config{SystemID: "test", Password: "right"})
	cfg := testConfig(srv)
	cfg.Session.Bind.Password = "wrong"
	res, err := run(t, cfg, testRows(t, 5, "never sent"))
	var be *BindError
	if !errors.As(err, &be) || be.Status != smpp.StatusInvPaswd {
		t.Fatalf("err = %v, want a BindError with ESME_RINVPASWD", err)
	}
	if !strings.Contains(err.Error(), "ESME_RINVPASWD") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q must name the status and never the password", err)
	}
	if res.Sent || srv.Stats().BindFailures != 1 {
		t.Errorf("sent %v, bind attempts refused %d: want nothing sent and a single bind attempt", res.Sent, srv.Stats().BindFailures)
	}
}

// A bind that times out names the setting behind its timeout (--resp-timeout): the session
// knows it only as its bind timeout.
func TestCampaign_bindTimeoutNamesTheFlag(t *testing.T) {
	addr := acceptEach(t, func(net.Conn) {}) // an SMSC that takes the connection and never answers the bind
	cfg := Config{
		Addr:        addr,
		Session:     smpp.Options{BindTimeout: 100 * time.Millisecond},
		Reconnect:   Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		GiveUpAfter: 300 * time.Millisecond,
		Book:        report.NewBook(report.Options{}),
	}
	_, err := run(t, cfg, testRows(t, 1, "silent"))
	var ce *ConnectError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "the bind timeout is --resp-timeout (100ms)") {
		t.Errorf("err = %v, want a ConnectError naming --resp-timeout", err)
	}
}

func TestCampaign_unreachable(t *testing.T) {
	// An SMSC that hangs up on every connection: closing the listener instead would free
	// the port for any other test on the machine to take.
	addr := acceptEach(t, func(c net.Conn) { c.Close() })
	cfg := Config{
		Addr:        addr,
		Session:     smpp.Options{BindTimeout: time.Second},
		Reconnect:   Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond},
		GiveUpAfter: 300 * time.Millisecond,
		Book:        report.NewBook(report.Options{}),
	}
	var log eventLog
	cfg.OnEvent = log.add
	res, err := run(t, cfg, testRows(t, 3, "nobody there"))
	var ce *ConnectError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ConnectError", err)
	}
	if res.Sent || log.count(EventBindFailed) == 0 {
		t.Errorf("sent %v, %d bind failures reported: want retries and nothing sent", res.Sent, log.count(EventBindFailed))
	}
	wantNotSent(t, cfg.Book)
	if res.Done != res.Rows {
		t.Errorf("%d rows read, %d with an outcome", res.Rows, res.Done)
	}
}

// Stop while the bind is under way: the rows the workers hold, waiting for a session, were
// never sent and must not go out once the bind completes; they end not_sent.
func TestCampaign_stopWhileBinding(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, held, release := holdBind(t, srv, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 8, "n %d"))
	held(ctx)
	c.Stop()
	release()
	res := <-done
	if n := srv.Stats().Submits; n != 0 {
		t.Errorf("%d submit_sm reached the SMSC after Stop", n)
	}
	wantNotSent(t, cfg.Book)
	if !res.Stopped || res.Done != res.Rows {
		t.Errorf("stopped %v, %d rows read, %d with an outcome", res.Stopped, res.Rows, res.Done)
	}
}

// Stop while rebinding after a drop: nothing goes out on the new session. The rows in
// flight when the connection dropped end uncertain (the SMSC may have them), not resent;
// the rows never sent end not_sent.
func TestCampaign_stopWhileRebinding(t *testing.T) {
	srv := newSim(t, smsc.Config{DropAfter: []int{3}})
	cfg, held, release := holdBind(t, srv, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 20, "n %d"))
	held(ctx)
	before := srv.Stats().Submits
	c.Stop()
	release()
	<-done
	if n := srv.Stats().Submits; n != before {
		t.Errorf("%d submit_sm reached the SMSC after Stop", n-before)
	}
	counts := map[report.SubmitStatus]int{}
	for n, r := range bookRows(cfg.Book) {
		counts[r.SubmitStatus]++
		if r.Resubmitted {
			t.Errorf("row %d marked resubmitted: nothing was sent twice", n)
		}
	}
	// The SMSC saw `before` submit_sm; the client had up to a window in flight when the
	// connection dropped, and which responses it read before is timing.
	sent := counts[report.SubmitAccepted] + counts[report.SubmitUncertain]
	if counts[report.SubmitAccepted] > before || sent < before || counts[report.SubmitUncertain] > cfg.Session.Window ||
		sent+counts[report.SubmitNotSent] != 20 {
		t.Errorf("outcomes %v after %d submit_sm reached the SMSC: want those in flight accepted or uncertain, the rest not_sent", counts, before)
	}
}

// Workers that waited for the bind do not leave together once it is up: a window larger than
// the rate, held back by a slow bind, must still reach the SMSC paced, never more than the
// rate in any one second (before, every worker had taken its token while waiting and the
// whole window left at once).
func TestCampaign_pacedAfterASlowBind(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, held, release := holdBind(t, srv, 1)
	cfg.Rate, cfg.Session.Window = 20, 60
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, done := startRun(t, ctx, cfg, testRows(t, 60, "n %d"))
	held(ctx)
	time.Sleep(3200 * time.Millisecond) // long enough for every worker to be due a token at 20/s
	release()
	if res := <-done; res.Err != nil || res.Accepted != 60 {
		t.Fatalf("run: %v, %d accepted; want 60", res.Err, res.Accepted)
	}
	if most := srv.Stats().MaxSubmitsPerSecond(); most > 23 { // the fault sent all 60 at once
		t.Errorf("%d submit_sm in one second at --rate 20: the workers that waited for the bind left together", most)
	}
}

// From its first PDU the campaign keeps to --rate in every second, as an SMSC counts: one
// that throttles above the rate throttles nothing. The simulator allows two PDUs over the
// rate: a stall of the machine can push a PDU of one second into the next one, and the fault
// this guards against sent 26–28 in a second.
func TestCampaign_rateFromTheStart(t *testing.T) {
	srv := newSim(t, smsc.Config{ThrottleTPS: 22})
	cfg := testConfig(srv)
	cfg.Rate, cfg.Session.Window = 20, 10
	res, err := run(t, cfg, testRows(t, 50, "n %d"))
	if err != nil || res.Accepted != 50 {
		t.Fatalf("run: %v, %d accepted; want 50", err, res.Accepted)
	}
	if st := srv.Stats(); st.Throttled != 0 || st.MaxSubmitsPerSecond() > 22 {
		t.Errorf("%d throttled, %d submit_sm in the busiest second; want none above --rate 20 (and 2 of slack)", st.Throttled, st.MaxSubmitsPerSecond())
	}
}

func TestCampaign_stop(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Rate = 100
	rows := testRows(t, 300, "stop %d")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, rows)
	for i := 0; c.Snapshot().Accepted < 20 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Stop() || c.Stop() {
		t.Error("Stop must report true once, then false")
	}
	out := <-done
	if out.Err != nil {
		t.Fatal(out.Err)
	}
	if res := out.Result; !res.Stopped || res.Accepted < 20 || res.Accepted == len(rows) {
		t.Fatalf("result %+v: want stopped part-way", res.Snapshot)
	}
	book := bookRows(cfg.Book)
	if len(book) != len(rows) {
		t.Fatalf("book has %d rows, want all %d (unsent ones as not_sent)", len(book), len(rows))
	}
	accepted, notSent := 0, 0
	for _, r := range book {
		switch r.SubmitStatus {
		case report.SubmitAccepted:
			accepted++
		case report.SubmitNotSent:
			notSent++
		default:
			t.Errorf("row %d: %s %q", r.Row, r.SubmitStatus, r.SubmitError)
		}
	}
	if accepted+notSent != len(rows) || srv.Stats().Accepted != accepted {
		t.Errorf("%d accepted + %d not sent of %d; simulator accepted %d", accepted, notSent, len(rows), srv.Stats().Accepted)
	}
}

func TestCampaign_lateResponseSettlesTheRow(t *testing.T) {
	// Every response comes after the response timeout. With a backoff longer than the delay
	// the late response arrives before the resend and completes the row: nothing is sent twice.
	srv := newSim(t, smsc.Config{RespDelay: 150 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Session.RespTimeout = 50 * time.Millisecond
	cfg.Retry = Backoff{Initial: 2 * time.Second, Max: 2 * time.Second} // at least 1s
	rows := testRows(t, 4, "late %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	for n, r := range bookRows(cfg.Book) {
		if r.Resubmitted || len(r.IDs) != 1 {
			t.Errorf("row %d: resubmitted %v with ids %v, want one id and no resend", n, r.Resubmitted, r.IDs)
		}
	}
	if st := srv.Stats(); st.Submits != len(rows) {
		t.Errorf("simulator got %d submits, want %d", st.Submits, len(rows))
	}
}

// lateAnswers is a campaign whose one try per part times out, against a simulator that
// answers 100 ms after the timeout: while the session still waits for it (Close waits up to a
// timeout more).
func lateAnswers(t *testing.T) (*smsc.Server, Config) {
	t.Helper()
	srv := newSim(t, smsc.Config{RespDelay: 600 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Session.RespTimeout = 500 * time.Millisecond
	cfg.MaxAttempts = 1
	return srv, cfg
}

// Rows whose only try timed out end uncertain, but the session waits for their answers
// before it unbinds: an answer that comes then accepts the row (uncertain rows are what a
// --resume sends again), counted as accepted in the progress and awaiting its receipt.
func TestCampaign_lateResponseAfterTheRowEnded(t *testing.T) {
	srv, cfg := lateAnswers(t)
	rows := testRows(t, 3, "late %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if res.Accepted != len(rows) || res.Failed != 0 {
		t.Errorf("progress: %d accepted, %d failed; want %d accepted, none failed", res.Accepted, res.Failed, len(rows))
	}
	if sum := cfg.Book.Summary(time.Now(), time.Now()); sum.Receipts[report.ReceiptPending]+sum.Receipts["DELIVRD"] != len(rows) {
		t.Errorf("receipts %v, want each of the %d rows PENDING or DELIVRD", sum.Receipts, len(rows))
	}
	for n, r := range bookRows(cfg.Book) {
		if r.SubmitError != "" || len(r.IDs) != 1 {
			t.Errorf("row %d: ids %v, submit_error %q; want one id and no error", n, r.IDs, r.SubmitError)
		}
	}
}

// A two-part row whose first part's only try timed out ends uncertain, its second part never
// sent. The late answer to the first puts the start with the SMSC: the row stays uncertain, but
// its reason says so, as a report rebuilt from the journal does, and that a resume sends the rest.
func TestCampaign_lateResponseToTheFirstPartOfAnEndedRow(t *testing.T) {
	srv, cfg := lateAnswers(t)
	rows := testRows(t, 1, strings.Repeat("Two parts. ", 18)+"%d")
	if len(rows[0].Message.Parts) != 2 {
		t.Fatalf("the row has %d parts, want 2", len(rows[0].Message.Parts))
	}
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	r := bookRows(cfg.Book)[1]
	want := partlySent(1, 2, reasonRestNotSentYet)
	if r.SubmitStatus != report.SubmitUncertain || len(r.IDs) != 1 || r.SubmitError != want {
		t.Errorf("row 1: %s, ids %v, submit_error %q; want uncertain with part 1's id and %q", r.SubmitStatus, r.IDs, r.SubmitError, want)
	}
	if res.Failed != 1 || srv.Stats().Submits != 1 {
		t.Errorf("%d rows failed, %d submits; want the row failed after its one submit", res.Failed, srv.Stats().Submits)
	}
}

// A row that ended uncertain once the validity had ended is counted expired (no run can send
// it); a late acceptance takes it out again: Result.Expired counted accepted rows, and the
// advice to resume the rest was off by them.
func TestCampaign_lateAcceptanceOfAnExpiredRow(t *testing.T) {
	srv := newSim(t, smsc.Config{RespDelay: 1200 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Session.RespTimeout, cfg.Session.BindTimeout = time.Second, 5*time.Second
	cfg.MaxAttempts = 1
	// The bind is answered after 1.2 s, the submits too. The validity (whole seconds, as SMPP
	// writes it) ends half a second after the submits, before their timeout.
	end := time.Now().Truncate(time.Second).Add(3 * time.Second)
	time.Sleep(time.Until(end.Add(-1700 * time.Millisecond)))
	cfg.Validity = TimeSpec{At: end}
	rows := testRows(t, 2, "late %d")
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	sum := cfg.Book.Summary(time.Now(), time.Now())
	if unsent := sum.Submit[report.SubmitNotSent] + sum.Submit[report.SubmitUncertain]; res.Expired > unsent {
		t.Errorf("Result.Expired = %d, but %d rows are not_sent or uncertain", res.Expired, unsent)
	}
	if res.Accepted+res.Failed != len(rows) || res.Failed < 0 {
		t.Errorf("progress: %d accepted, %d failed, want %d rows in all", res.Accepted, res.Failed, len(rows))
	}
}

func TestCampaign_lateResponseAfterResend(t *testing.T) {
	// The first answer is held back until the resend has gone out: the row keeps both ids
	// and is resubmitted.
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.holdFirst = true
	cfg.Session.RespTimeout = 50 * time.Millisecond
	cfg.Retry = Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	var log eventLog
	cfg.OnEvent = log.add
	rows := testRows(t, 1, "late resend")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	r, _ := cfg.Book.Row(1)
	if !r.Resubmitted || len(r.IDs) != 2 || r.SubmitStatus != report.SubmitResubmitted {
		t.Errorf("row: %s, resubmitted %v, ids %v; want resubmitted with both ids", r.SubmitStatus, r.Resubmitted, r.IDs)
	}
	if log.count(EventLateResponse) != 1 {
		t.Errorf("%d late_response events, want 1", log.count(EventLateResponse))
	}
	if got := srv.Stats().Accepted; got != 2 {
		t.Errorf("simulator accepted %d, want 2 (the message and its resend)", got)
	}
}

// BenchmarkCampaign runs whole campaigns against an in-process simulator at --rate 0 with a
// window of 100 and reports submit_sm per second and CPU-free wall time per message. The
// end-to-end figure with the simulator in another process comes from scripts/bench-send.sh.
func BenchmarkCampaign(b *testing.B) {
	srv := newSim(b, smsc.Config{DiscardMessages: true})
	rows := testRows(b, 20000, "Hallo Kunde %d, Ihr Paket ist da.")
	b.ResetTimer()
	var sent int64
	start := time.Now()
	for range b.N {
		cfg := testConfig(srv)
		cfg.Session.Window = 100
		cfg.Book = report.NewBook(report.Options{})
		res, err := run(b, cfg, rows)
		if err != nil || res.Accepted != len(rows) {
			b.Fatalf("accepted %d of %d: %v", res.Accepted, len(rows), err)
		}
		sent += res.PDUs
	}
	b.ReportMetric(float64(sent)/time.Since(start).Seconds(), "msg/s")
}

// A campaign whose messages travel in TLVs (--split sar or payload) must not go to an SMSC
// whose bind response announces no TLV support: it might drop them and deliver the parts
// unjoined. It fails before anything is sent, unless AssumeTLVSupport; campaigns without
// TLVs, and SMSCs that announce 3.4, are not affected.
func TestCampaign_tlvSupport(t *testing.T) {
	tests := []struct {
		name                   string
		noVersion, uses, trust bool
		wantErr                bool
	}{
		{"SMSC announces 3.4", false, true, false, false},
		{"no TLVs needed", true, false, false, false},
		{"TLVs needed, none announced", true, true, false, true},
		{"TLVs needed, none announced, assumed", true, true, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSim(t, smsc.Config{SystemID: "test", Password: "secret", NoInterfaceVersion: tt.noVersion})
			cfg := testConfig(srv)
			cfg.UsesTLVs, cfg.AssumeTLVSupport = tt.uses, tt.trust
			rows := testRows(t, 5, "tlv %d")
			res, err := run(t, cfg, rows)
			var te *TLVSupportError
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				checkAllAccepted(t, cfg.Book, srv, rows)
				return
			}
			if !errors.As(err, &te) || te.Announced {
				t.Fatalf("err = %v, want a TLVSupportError for a missing sc_interface_version", err)
			}
			if !strings.Contains(err.Error(), "--split udh") || !strings.Contains(err.Error(), "--assume-tlv-support") {
				t.Errorf("error %q must say what to do", err)
			}
			if res.Sent || srv.Stats().Submits != 0 {
				t.Errorf("sent %v, %d submit_sm at the SMSC: want nothing sent", res.Sent, srv.Stats().Submits)
			}
		})
	}
}

// stallingJournal holds every attempt record while the one of row stallRow waits for stall,
// as a journal held up by a slow disk does: the PDUs the pacer let go meanwhile reach the
// connection together when it ends.
type stallingJournal struct {
	fakeJournal
	mu       sync.Mutex
	stallRow int
	stall    time.Duration
}

func (j *stallingJournal) AttemptSent(row, part int, at time.Time) (time.Time, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if row == j.stallRow {
		time.Sleep(j.stall)
	}
	return j.fakeJournal.AttemptSent(row, part, at)
}

// The pacer counts a PDU where the SMSC does, when it reaches the connection: the PDUs that
// a stall between the pacer and the connection held back, and that then leave together, count
// in the second they arrive, so that second does not exceed the rate. Before, the one-second
// window after such a stall held the held-back PDUs on top of a full second's worth (about
// 1.5 times the rate here).
func TestCampaign_rateCountsWhatReachedTheSMSC(t *testing.T) {
	var log lockedLog
	srv := newSim(t, smsc.Config{Log: &log})
	cfg := testConfig(srv)
	const rate = 20
	cfg.Rate, cfg.Session.Window = rate, 20
	cfg.Journal = &stallingJournal{stallRow: 21, stall: 600 * time.Millisecond}
	res, err := run(t, cfg, testRows(t, 70, "n %d"))
	if err != nil || res.Accepted != 70 {
		t.Fatalf("run: %v, %d accepted; want 70", err, res.Accepted)
	}
	srv.Close() // the log is complete once the simulator has closed
	times := log.acceptedTimes(t)
	if len(times) != 70 {
		t.Fatalf("the simulator logged %d messages, want 70", len(times))
	}
	// Two PDUs of slack: a stall of the simulator's reader can bunch its own timestamps.
	if most, at := busiestSecond(times); most > rate+2 {
		t.Errorf("%d submit_sm within one second from %v at --rate %d", most, at.Format("15:04:05.000"), rate)
	}
}

// lockedLog collects the simulator's message log.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// acceptedTimes returns when the simulator accepted each logged message, in order.
func (l *lockedLog) acceptedTimes(t *testing.T) []time.Time {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var times []time.Time
	for line := range strings.Lines(l.buf.String()) {
		var m struct {
			Accepted time.Time `json:"accepted"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("simulator log line %q: %v", line, err)
		}
		times = append(times, m.Accepted)
	}
	slices.SortFunc(times, time.Time.Compare)
	return times
}

// busiestSecond returns the most times within any one-second window, and where it starts.
func busiestSecond(times []time.Time) (most int, at time.Time) {
	j := 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		if n := i - j + 1; n > most {
			most, at = n, times[j]
		}
	}
	return most, at
}

// A row that waits for the bind spends no pacing token on the wait: the rows leave on one
// token each once the bind is up, so the first goes at once. Before, every worker took a token,
// waited for the bind and took another, and a one-row campaign at --rate 1 took a second.
func TestCampaign_noTokenSpentWaitingForTheBind(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, held, release := holdBind(t, srv, 1)
	cfg.Rate, cfg.Session.Window = 4, 3
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 3, "n %d"))
	held(ctx)
	stacks.Await(t, "smscast/send.(*Campaign).session", cfg.Session.Window, 30*time.Second) // every worker waits for the bind
	release()
	res := <-done
	if res.Err != nil || res.Accepted != 3 {
		t.Fatalf("run: %v, %d accepted; want 3", res.Err, res.Accepted)
	}
	if tokens := c.pacer.sent.Load(); tokens != res.PDUs {
		t.Errorf("the pacer let %d PDUs through for %d written: tokens were spent on waiting for the bind", tokens, res.PDUs)
	}
}

// A row refused at its first part gives back the places it planned for its other parts, so
// the schedule (the latency base of the rows after it) stays with what is really sent.
func TestCampaign_scheduleGivesBackUnsentParts(t *testing.T) {
	srv := newSim(t, smsc.Config{RejectPrefixes: []string{"4917100000001"}})
	cfg := testConfig(srv)
	cfg.Rate = 20
	rows := testRows(t, 2, strings.Repeat("A long message that needs three parts. ", 10)+"%d")
	c, res, err := runCampaign(t, cfg, rows)
	if err != nil || res.Accepted != 1 || res.PDUs != 4 {
		t.Fatalf("run: %v, %d accepted, %d PDUs; want row 1 refused at its first part, row 2 sent", err, res.Accepted, res.PDUs)
	}
	// Row 1 used one place, row 2 three, from the first place (at the first bind).
	var first time.Time
	for _, r := range bookRows(cfg.Book) {
		if first.IsZero() || r.PlannedAt.Before(first) {
			first = r.PlannedAt
		}
	}
	if got, want := c.plan.next.Sub(first), 4*time.Second/20; got != want {
		t.Errorf("the schedule is %v past its start, want %v (the places of 4 PDUs)", got, want)
	}
}

func TestCheckServiceType(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"", true}, {"CMT", true}, {"WAP", true}, {"A B", true}, {"12345", true},
		{"123456", false}, {"CMT\x00", false}, {"CMT\n", false}, {"é", false},
		{"   ", false}, {"CMT ", false}, {" CMT", false},
	} {
		if err := CheckServiceType(tc.in); (err == nil) != tc.ok {
			t.Errorf("CheckServiceType(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

// Config.Total is an estimate (a line count: a quoted line break or a blank line throws it
// off); once the input has ended, the snapshot's total is the rows read, so the last
// progress line does not end at "43/45 (96%)".
func TestCampaign_totalBecomesTheRowsRead(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Total = 5 // the estimate
	c, res, err := runCampaign(t, cfg, testRows(t, 3, "estimated %d"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || c.Snapshot().Total != 3 {
		t.Errorf("total %d (snapshot after the run %d), want the 3 rows read", res.Total, c.Snapshot().Total)
	}
}

// Stop while only receipts are awaited says so: "waiting for responses in flight" read as if
// something were still being sent.
func TestCampaign_stopDuringTheWaitForReceipts(t *testing.T) {
	srv := newSim(t, smsc.Config{ReceiptDelay: time.Minute})
	cfg := testConfig(srv)
	cfg.Wait = time.Minute
	var mu sync.Mutex
	var stopping []string
	cfg.OnEvent = func(e Event) {
		if e.Kind == EventStopping {
			mu.Lock()
			stopping = append(stopping, e.String())
			mu.Unlock()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 5, "wait %d"))
	waitFor(t, ctx, func() bool { return !c.Sending() })
	if c.Snapshot().Accepted != 5 {
		t.Fatalf("not sending any more with %d of 5 rows accepted", c.Snapshot().Accepted)
	}
	c.Stop()
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "stopping: no longer waiting for receipts; the report has those collected so far"; len(stopping) != 1 || stopping[0] != want {
		t.Errorf("stopping events %q, want one: %q", stopping, want)
	}
}
