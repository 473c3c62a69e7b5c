package send

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"smscast/journal"
	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// lockedSpool is a spool that records the ids it was given, safe for concurrent use.
type lockedSpool struct {
	mu  sync.Mutex
	ids []string
}

func (s *lockedSpool) ReceiptThen(r smpp.Receipt, _ time.Time, done func(error)) {
	s.mu.Lock()
	s.ids = append(s.ids, r.ID)
	s.mu.Unlock()
	done(nil)
}

// TestCampaign_receiptsRightBehindResponsesAreTheCampaigns: with receipts sent the moment a
// message is accepted (right behind its submit_sm_resp), every receipt matches when it is
// handled, so none goes to the spool of other campaigns' receipts: the message id is recorded
// as the response is read, not whenever the worker that sent it runs next.
func TestCampaign_receiptsRightBehindResponsesAreTheCampaigns(t *testing.T) {
	srv := newSim(t, smsc.Config{SystemID: "test", Password: "secret"})
	cfg := testConfig(srv)
	cfg.Session.Window = 50
	cfg.Wait = 10 * time.Second
	spool := &lockedSpool{}
	cfg.Spool = spool
	rows := testRows(t, 2000, "Hello %d, your code is ready")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	checkAllAccepted(t, cfg.Book, srv, rows)
	if cfg.Book.Pending() != 0 {
		t.Errorf("%d rows still pending after waiting for receipts", cfg.Book.Pending())
	}
	spool.mu.Lock()
	defer spool.mu.Unlock()
	if len(spool.ids) != 0 {
		t.Errorf("%d of the campaign's receipts were taken for other campaigns' and spooled, e.g. %q", len(spool.ids), spool.ids[0])
	}
}

// A receipt that overtakes its submit_sm_resp matches no row when it comes, so it goes to the
// spool; once the response is read it matches, and the campaign's journal gets it too, so
// that a report rebuilt from the journal without that spool file still has it.
func TestCampaign_earlyReceiptReachesTheJournal(t *testing.T) {
	addr := scriptedSMSC(t, func(int) scriptedAnswer { return scriptedAnswer{receiptFirst: true} })
	path := filepath.Join(t.TempDir(), "c.journal")
	w, err := journal.Create(path, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Addr:    addr,
		Session: smpp.Options{Bind: smpp.Bind{SystemID: "test"}, Window: 1, RespTimeout: 5 * time.Second},
		Book:    report.NewBook(report.Options{}),
		Journal: w,
		Spool:   &lockedSpool{},
		Wait:    5 * time.Second,
	}
	if _, err := run(t, cfg, testRows(t, 3, "early %d")); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Spool.(*lockedSpool).ids; len(got) != 3 {
		t.Fatalf("%d receipts spooled, want the 3 that came before their responses", len(got))
	}
	st, err := journal.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Receipts) != 3 {
		t.Errorf("the journal holds %d receipts, want the 3 early ones", len(st.Receipts))
	}
}
