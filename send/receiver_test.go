package send

import (
	"testing"
	"time"

	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// With Config.Receiver the binds that send are transmitters and one receiver session beside
// them collects the receipts: every row of a campaign on two transmitters ends DELIVRD.
func TestCampaign_receiverCollectsTheReceipts(t *testing.T) {
	srv := newSim(t, smsc.Config{ReceiptDelay: 20 * time.Millisecond})
	cfg, proxy := proxiedConfig(t, srv)
	cfg.Session.Bind.Mode = smpp.BindTransmitter
	cfg.Binds, cfg.Receiver, cfg.Wait = 2, true, 20*time.Second
	var events eventLog
	cfg.OnEvent = events.add
	rows := testRows(t, 30, "Hello")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	for n, r := range bookRows(cfg.Book) {
		if r.ReceiptStatus != "DELIVRD" {
			t.Errorf("row %d: receipt %q, want DELIVRD", n, r.ReceiptStatus)
		}
	}
	proxy.mu.Lock()
	tx, rx, trx := proxy.bindsOf[smpp.BindTransmitterID], proxy.bindsOf[smpp.BindReceiverID], proxy.bindsOf[smpp.BindTransceiverID]
	proxy.mu.Unlock()
	if tx != 2 || rx != 1 || trx != 0 {
		t.Errorf("binds: %d transmitters, %d receivers, %d transceivers; want 2, 1, 0", tx, rx, trx)
	}
	if events.countOf(func(e Event) bool { return e.Kind == EventBound && e.Receiver && e.Bind == 3 }) != 1 {
		t.Error("no event says the receiver (bind 3) bound")
	}
}

// A receiver the SMSC refuses, even for what would be its credentials on a bind that sends,
// never ends the campaign: every row is sent, and the receipts stay pending at the SMSC.
func TestCampaign_receiverRefusedDoesNotEndTheCampaign(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg, proxy := proxiedConfig(t, srv)
	proxy.mu.Lock()
	proxy.refuseReceivers = true
	proxy.mu.Unlock()
	cfg.Session.Bind.Mode = smpp.BindTransmitter
	cfg.Receiver, cfg.Wait = true, 300*time.Millisecond
	cfg.GiveUpAfter = 100 * time.Millisecond // the receiver's refusals outlast it: it must not apply
	var events eventLog
	cfg.OnEvent = events.add
	rows := testRows(t, 10, "Hello")
	_, err := run(t, cfg, rows)
	if err != nil {
		t.Fatalf("Run = %v, want the campaign to end well without its receiver", err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if p := cfg.Book.Pending(); p != len(rows) {
		t.Errorf("%d rows wait for a receipt, want all %d", p, len(rows))
	}
	proxy.mu.Lock()
	refused := proxy.receiversRefused
	proxy.mu.Unlock()
	failed := events.countOf(func(e Event) bool { return e.Kind == EventBindFailed && e.Receiver })
	// The last refusal may cross the campaign's end: a bind cut short by the end is not told.
	if failed < 2 || refused-failed > 1 || failed > refused {
		t.Errorf("the receiver was refused %d times with %d events, want it retried (at least twice), each told but perhaps the last", refused, failed)
	}
}

// An SMSC that allows one bind: the transmitter binds first and gets it, so the campaign is
// sent; the receiver, refused, keeps trying without ending anything (its receipts wait).
func TestCampaign_receiverAfterTheTransmitter(t *testing.T) {
	srv := newSim(t, smsc.Config{MaxBinds: 1})
	cfg := testConfig(srv)
	cfg.Session.Bind.Mode = smpp.BindTransmitter
	cfg.Receiver, cfg.Wait = true, 200*time.Millisecond
	rows := testRows(t, 5, "one bind %d")
	for range 5 { // the order was a race: a few runs would show it
		cfg.Book = report.NewBook(report.Options{})
		if _, err := run(t, cfg, rows); err != nil {
			t.Fatalf("Run = %v, want every row sent on the one bind", err)
		}
		checkAllAccepted(t, cfg.Book, srv, rows)
	}
}
