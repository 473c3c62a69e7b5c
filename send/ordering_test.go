package send

import (
	"sync"
	"testing"
	"time"

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
