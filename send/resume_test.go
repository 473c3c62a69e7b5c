package send

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
	"smscast/smpp"
	"smscast/smpp/coding"
	"smscast/smsc"
)

// firstRun writes the journal of a first run into dir and returns two images of it: clean
// (closed properly) and crashed (everything durable, but no end marker, as after kill -9).
// Row 1 accepted with a DELIVRD receipt; row 2 accepted after a resend; row 3 in flight;
// row 4 rejected; row 5 never attempted; row 6 accepted.
func firstRun(t *testing.T, dir string) (clean, crashed string) {
	t.Helper()
	clean = filepath.Join(dir, "clean.journal")
	crashed = filepath.Join(dir, "crashed.journal")
	w, err := journal.Create(clean, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The journal records when each attempt went out (now): the receipt comes after it.
	at := time.Now().UTC()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, row := range []int{1, 2, 3, 4, 6} {
		must(w.Attempt(row, 0, at))
	}
	must(w.Accepted(1, 0, "0000aa01", at))
	must(w.Resubmitted(2, 0, at))
	must(w.Attempt(2, 0, at))
	must(w.Accepted(2, 0, "0000aa02", at))
	must(w.Rejected(4, "0x0000000B ESME_RINVDSTADR", at))
	must(w.Accepted(6, 0, "0000aa06", at))
	must(w.Receipt(smpp.Receipt{ID: "0000aa01", Stat: "DELIVRD", State: smpp.StateDelivered}, at.Add(time.Minute)))
	must(w.Sync())
	b, err := os.ReadFile(clean)
	must(err)
	must(os.WriteFile(crashed, b, 0o600))
	must(w.Close())
	return clean, crashed
}

// resumeFrom opens the journal at path for a rerun against a new simulator, and returns the
// campaign config writing to it, the simulator and the journal's state.
func resumeFrom(t *testing.T, path string) (Config, *smsc.Server, *journal.State) {
	t.Helper()
	w, st, err := journal.Open(path, nil, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Journal = w
	return cfg, srv, st
}

func TestResumption(t *testing.T) {
	dir := t.TempDir()
	clean, crashed := firstRun(t, dir)
	tests := []struct {
		name    string
		image   string
		mode    ResumeMode
		sent    []int                       // rows the rerun sends
		status  map[int]report.SubmitStatus // expected report statuses
		counts  Resumption                  // expected counters
		resubOK bool                        // the journal must say rows 3 and 5 were resubmitted
	}{
		{"crash, resend", crashed, ResendUncertain, []int{3, 5},
			map[int]report.SubmitStatus{1: report.SubmitAccepted, 2: report.SubmitResubmitted, 3: report.SubmitResubmitted,
				4: report.SubmitRejected, 5: report.SubmitResubmitted, 6: report.SubmitAccepted},
			Resumption{Accepted: 2, Rejected: 1, Resent: 2}, true},
		{"crash, keep uncertain", crashed, KeepUncertain, nil,
			map[int]report.SubmitStatus{1: report.SubmitAccepted, 2: report.SubmitResubmitted, 3: report.SubmitUncertain,
				4: report.SubmitRejected, 5: report.SubmitUncertain, 6: report.SubmitAccepted},
			Resumption{Accepted: 2, Rejected: 1, Uncertain: 2}, false},
		{"clean, resend", clean, ResendUncertain, []int{3, 5},
			map[int]report.SubmitStatus{3: report.SubmitResubmitted, 5: report.SubmitAccepted},
			Resumption{Accepted: 2, Rejected: 1, Resent: 1, Unsent: 1}, false},
		{"clean, collect only", clean, SendNothing, nil,
			map[int]report.SubmitStatus{1: report.SubmitAccepted, 3: report.SubmitUncertain, 4: report.SubmitRejected, 5: report.SubmitNotSent},
			Resumption{Accepted: 2, Rejected: 1, Uncertain: 1, Unsent: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			b, err := os.ReadFile(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, srv, st := resumeFrom(t, path)
			rows := testRows(t, 6, "resume %d")
			// Row 6 was sent, then its recipient opted out: excluded now, accepted in the report.
			rows[5].Status, rows[5].Message = csvin.StatusExcluded, coding.Message{}
			rs := NewResumption(st, cfg.Book, tt.mode)
			cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
			if _, err := run(t, cfg, rows); err != nil {
				t.Fatal(err)
			}
			sent := sentCount(srv)
			want := map[int]bool{}
			for _, n := range tt.sent {
				want[n] = true
			}
			for _, r := range rows {
				if n := sent[r.MSISDN]; (n == 1) != want[r.Num] || n > 1 {
					t.Errorf("row %d sent %d times, want %v", r.Num, n, want[r.Num])
				}
			}
			book := bookRows(cfg.Book)
			for row, st := range tt.status {
				if book[row].SubmitStatus != st {
					t.Errorf("row %d: %s %q, want %s", row, book[row].SubmitStatus, book[row].SubmitError, st)
				}
			}
			if r := book[1]; r.ReceiptStatus != "DELIVRD" || len(r.IDs) != 1 || r.IDs[0].ID != "0000aa01" {
				t.Errorf("row 1: receipt %q ids %v; want the first run's id and receipt", r.ReceiptStatus, r.IDs)
			}
			if book[4].SubmitError != "0x0000000B ESME_RINVDSTADR" {
				t.Errorf("row 4: error %q, want the first run's", book[4].SubmitError)
			}
			got := Resumption{Accepted: rs.Accepted, Rejected: rs.Rejected, Resent: rs.Resent, Uncertain: rs.Uncertain, Unsent: rs.Unsent}
			if !reflect.DeepEqual(got, tt.counts) { // the counters only: both have no receipts
				t.Errorf("counts %+v, want %+v", got, tt.counts)
			}
			after, err := journal.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range tt.sent {
				r := after.Rows[n]
				if r == nil || !r.Accepted(1) {
					t.Errorf("row %d: the journal has no acceptance from the rerun", n)
				} else if tt.resubOK && !r.Resubmitted {
					t.Errorf("row %d: the journal does not say it was resubmitted", n)
				}
			}
		})
	}
}

// fakeSpool records spooled receipt ids; fail makes Receipt fail.
type fakeSpool struct {
	ids  []string
	fail bool
}

func (s *fakeSpool) ReceiptThen(r smpp.Receipt, _ time.Time, done func(error)) {
	if s.fail {
		done(os.ErrPermission)
		return
	}
	s.ids = append(s.ids, r.ID)
	done(nil)
}

// TestCampaign_receiptRouting: a receipt of the campaign goes to the journal, any other to
// the spool, each before it is acknowledged; one that cannot be kept is refused and stays out
// of the Book, so that its redelivery is what counts.
func TestCampaign_receiptRouting(t *testing.T) {
	book := report.NewBook(report.Options{})
	book.Add(report.Entry{Row: 1, MSISDN: "491711", Parts: 1})
	book.Accepted(1, 0, "abc123", time.Now())
	j := &fakeJournal{}
	sp := &fakeSpool{}
	c, err := New(Config{Addr: "127.0.0.1:1", Book: book, Journal: j, Spool: sp})
	if err != nil {
		t.Fatal(err)
	}
	receipt := func(id string) smpp.PDU {
		return &smpp.DeliverSM{ESMClass: 0x04, ShortMessage: []byte("id:" + id + " sub:001 dlvrd:001 submit date:2503140900 done date:2503140901 stat:DELIVRD err:000 text:")}
	}
	if st := handleNow(t, c, receipt("abc123")); st != smpp.StatusOK {
		t.Errorf("own receipt answered %v", st)
	}
	if st := handleNow(t, c, receipt("ffff01")); st != smpp.StatusOK {
		t.Errorf("foreign receipt answered %v", st)
	}
	if j.index("receipt DELIVRD") < 0 || len(j.calls) != 1 {
		t.Errorf("journal calls %v, want the campaign's receipt only", j.calls)
	}
	if len(sp.ids) != 1 || sp.ids[0] != "ffff01" {
		t.Errorf("spooled %v, want the foreign receipt", sp.ids)
	}
	sp.fail = true
	if st := handleNow(t, c, receipt("ffff02")); st != smpp.StatusXTAppn {
		t.Errorf("a receipt the spool could not keep answered %v, want ESME_RX_T_APPN", st)
	}
	if n := len(book.Unmatched()); n != 1 {
		t.Errorf("%d unmatched receipts in the book, want 1 (the refused one is not recorded)", n)
	}
	if book.Pending() != 0 {
		t.Error("the campaign's receipt did not reach the book")
	}
}

// A row the SMSC refused with a transient status (ESME_RTHROTTLED) right before a clean stop
// was never accepted: the journal says so (NotAccepted), so --resume sends it as a row never
// sent, not as a possible duplicate marked resubmitted.
func TestResume_refusedBeforeStopIsNotResubmitted(t *testing.T) {
	rows := testRows(t, 4, "refused %d")
	cfg, path := throttledThenStopped(t, rows, func(s Snapshot) bool {
		return s.Throttled > 0 && int64(s.Accepted)+s.Throttled >= int64(len(rows))
	})
	first := bookRows(cfg.Book)
	st, err := journal.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, r := range rows {
		want := journal.Accepted
		if first[r.Num].SubmitStatus != report.SubmitAccepted {
			want = journal.NotSent
			refused++
		}
		if got := st.Status(r.Num, 1); got != want {
			t.Errorf("row %d (%s in the first run): journal status %v, want %v", r.Num, first[r.Num].SubmitStatus, got, want)
		}
	}
	if refused == 0 {
		t.Fatal("no row was left refused by the stop")
	}

	// The resume, against an SMSC that no longer throttles.
	srv2 := newSim(t, smsc.Config{})
	cfg2 := testConfig(srv2)
	w2, st2, err := journal.Open(path, nil, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg2.Journal = w2
	rs := NewResumption(st2, cfg2.Book, ResendUncertain)
	cfg2.Resume, cfg2.ResumeRead = rs.Row, rs.AllRead
	if _, err := run(t, cfg2, rows); err != nil {
		t.Fatal(err)
	}
	for num, r := range bookRows(cfg2.Book) {
		if r.SubmitStatus != report.SubmitAccepted {
			t.Errorf("row %d after the resume: %s, want accepted (not resubmitted: the SMSC refused the first try)", num, r.SubmitStatus)
		}
	}
	if rs.Unsent != refused || rs.Resent != 0 {
		t.Errorf("resume sent %d rows as never sent and %d as resends; want %d and 0", rs.Unsent, rs.Resent, refused)
	}
	if got := srv2.Stats().Accepted; got != refused {
		t.Errorf("the resume's SMSC accepted %d, want the %d refused rows", got, refused)
	}
}

// A long message whose first part was accepted and whose next part was throttled when the
// run stopped is with the SMSC in part: the report says uncertain ("partly sent"), not
// not_sent, and the journal keeps it in flight, so a resume sends the whole message again
// and marks it resubmitted.
func TestCampaign_partlySentAtStopIsUncertain(t *testing.T) {
	for attempt := 1; ; attempt++ { // a second boundary between two parts lets both through
		rows := testRows(t, 3, strings.Repeat("Two parts. ", 18)+"%d") // 200 characters
		cfg, path := throttledThenStopped(t, rows, func(s Snapshot) bool { return s.Throttled >= int64(len(rows)) })
		st, err := journal.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		partly := 0
		for num, r := range bookRows(cfg.Book) {
			switch accepted := len(r.IDs); {
			case accepted == 2:
				continue
			case accepted == 1:
				partly++
				if r.SubmitStatus != report.SubmitUncertain || !strings.HasPrefix(r.SubmitError, "partly sent: 1 of 2 parts accepted") {
					t.Errorf("row %d, one part of two accepted: %s %q, want uncertain, partly sent", num, r.SubmitStatus, r.SubmitError)
				}
				if got := st.Status(num, 2); got != journal.InFlight {
					t.Errorf("row %d: journal status %v, want in flight", num, got)
				}
			default:
				if r.SubmitStatus != report.SubmitNotSent {
					t.Errorf("row %d, no part accepted: %s, want not_sent", num, r.SubmitStatus)
				}
			}
		}
		if partly > 0 {
			return
		}
		if attempt == 3 {
			t.Fatal("no message was left partly sent in three runs")
		}
	}
}

// throttledThenStopped runs rows as a journaled campaign against a simulator that accepts one
// submit_sm a second and throttles the rest. Once ready says enough was refused and nothing
// is in flight (the workers wait a second to retry), it stops the campaign, and returns the
// campaign's config (its Book) and the journal's path.
func throttledThenStopped(t *testing.T, rows []csvin.Row, ready func(Snapshot) bool) (Config, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "campaign.journal")
	w, err := journal.Create(path, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := newSim(t, smsc.Config{ThrottleTPS: 1})
	cfg := testConfig(srv)
	cfg.Journal = w
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := c.Run(ctx, &rowSource{rows: rows})
		done <- err
	}()
	for i := 0; ; i++ {
		if s := c.Snapshot(); s.InFlight == 0 && ready(s) {
			break
		}
		if i == 2000 {
			t.Fatalf("no throttling seen: %+v", c.Snapshot())
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return cfg, path
}

// The journal's receipts reach their rows on resume, once every row is read, whichever way
// they match: by the exact message id or by a looser form of it; one of no row stays
// unmatched.
func TestResumption_receipts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := journal.Create(path, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC() // the journal records when each attempt went out: now
	for row, id := range map[int]string{1: "0000aa01", 2: "0000aa02", 3: "0000aa03"} {
		must(t, w.Attempt(row, 0, at))
		must(t, w.Accepted(row, 0, id, at))
	}
	for _, r := range []smpp.Receipt{
		{ID: "0000aa01", Stat: "DELIVRD", State: smpp.StateDelivered},
		{ID: "AA02", Stat: "UNDELIV", State: smpp.StateUndeliverable}, // the hex value, written otherwise
		{ID: "0000ff09", Stat: "DELIVRD", State: smpp.StateDelivered}, // of no row
	} {
		must(t, w.Receipt(r, at.Add(time.Minute)))
	}
	must(t, w.Close())
	st, err := journal.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	book := report.NewBook(report.Options{})
	got := collectOnly(t, st, book, testRows(t, 3, "receipt %d"))
	for row, want := range map[int]string{1: "DELIVRD", 2: "UNDELIV", 3: report.ReceiptPending} {
		if got[row].ReceiptStatus != want {
			t.Errorf("row %d: receipt %q, want %s", row, got[row].ReceiptStatus, want)
		}
	}
	if un := book.Unmatched(); len(un) != 1 || un[0].Receipt.ID != "0000ff09" {
		t.Errorf("unmatched %v, want the receipt of no row", un)
	}
}

// An SMSC that restarted gave row 2 the id it had given row 1. The receipt that came between
// the two sends is row 1's; the one after both fits either and is ambiguous, as it was when
// it arrived. A rebuild matches each receipt with every row that has its id in the Book, in
// the order the receipts came, whatever the journal's order (the spool's are appended).
func TestResumption_receiptsOfAReusedID(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sentAt := func(n int, sent time.Time) *journal.Row {
		return &journal.Row{Num: n, Parts: []journal.Part{{Attempts: 1, FirstAttempt: sent, FirstSent: sent,
			MessageIDs: []string{"7"}, AcceptedAt: sent}}}
	}
	st := &journal.State{
		Rows: map[int]*journal.Row{1: sentAt(1, t0), 2: sentAt(2, t0.Add(10*time.Second))},
		Receipts: []*journal.ReceiptRecord{
			{Receipt: smpp.Receipt{ID: "7", Stat: "UNDELIV", State: smpp.StateUndeliverable}, At: t0.Add(20 * time.Second)},
			{Receipt: smpp.Receipt{ID: "7", Stat: "DELIVRD", State: smpp.StateDelivered}, At: t0.Add(5 * time.Second)},
		},
	}
	book := report.NewBook(report.Options{})
	got := collectOnly(t, st, book, testRows(t, 2, "reused %d"))
	for row, want := range map[int]string{1: "DELIVRD", 2: report.ReceiptPending} {
		if got[row].ReceiptStatus != want {
			t.Errorf("row %d: receipt %q, want %s", row, got[row].ReceiptStatus, want)
		}
	}
	if un := book.Unmatched(); len(un) != 1 || un[0].Receipt.Stat != "UNDELIV" || !strings.HasPrefix(un[0].Reason, "ambiguous") {
		t.Errorf("unmatched %+v, want the later receipt, ambiguous", un)
	}
}

// A resumed run resends row 1 to an SMSC that restarted its ids: it gets id 1, which row 5 got
// from the earlier run. The journal's receipt for id 1 came before this run started, so it is
// row 5's, although it is matched (once every row is read) after row 1 has the id, and row 1
// was first sent before it came.
func TestCampaign_resumedIDIsSentInThisRun(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	attempt := journal.Part{Attempts: 1, FirstAttempt: t0, FirstSent: t0}
	accepted := attempt
	accepted.MessageIDs, accepted.AcceptedAt = []string{"1"}, t0
	st := &journal.State{
		RunStarts: []time.Time{t0.Add(-time.Second)},
		Rows:      map[int]*journal.Row{1: {Num: 1, Parts: []journal.Part{attempt}}, 5: {Num: 5, Parts: []journal.Part{accepted}}},
		Receipts: []*journal.ReceiptRecord{
			{Receipt: smpp.Receipt{ID: "1", Stat: "DELIVRD", State: smpp.StateDelivered}, At: t0.Add(30 * time.Minute)},
		},
	}
	srv := newSim(t, smsc.Config{FirstID: 1, ReceiptDelay: time.Hour})
	cfg := testConfig(srv)
	// One row at a time, so that row 1 is accepted before the input's end is read.
	cfg.Session.Window = 1
	rs := NewResumption(st, cfg.Book, ResendUncertain)
	cfg.Book.RunStarted(time.Now()) // this run's start, from its journal (as smscast does)
	cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
	if _, err := run(t, cfg, testRows(t, 5, "restarted %d")); err != nil {
		t.Fatal(err)
	}
	got := bookRows(cfg.Book)
	if r := got[1]; r.SubmitStatus != report.SubmitResubmitted || len(r.IDs) != 1 || r.IDs[0].ID != "1" || r.ReceiptStatus != report.ReceiptPending {
		t.Fatalf("row 1: %s, ids %v, receipt %s; want resubmitted with id 1, its receipt pending", r.SubmitStatus, r.IDs, r.ReceiptStatus)
	}
	if r := got[5]; r.ReceiptStatus != "DELIVRD" {
		t.Errorf("row 5: receipt %q, want DELIVRD (the receipt came before row 1 was sent again)", r.ReceiptStatus)
	}
	if un := cfg.Book.Unmatched(); len(un) != 0 {
		t.Errorf("unmatched %+v, want none", un)
	}
}

// A receipt that comes while rows of earlier runs are still to be read waits for the ones with
// its id: row 1, sent again to an SMSC that restarted its ids, gets id 1, which row 21 got
// from the earlier run, and row 1's receipt comes long before row 21 is read. Both were sent
// before it came: it is ambiguous, as a report rebuilt from the journal finds, not row 1's.
func TestCampaign_receiptWaitsForTheEarlierRunsRows(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	st := &journal.State{
		RunStarts: []time.Time{t0.Add(-time.Second)},
		Rows: map[int]*journal.Row{21: {Num: 21, Parts: []journal.Part{{Attempts: 1, FirstAttempt: t0, FirstSent: t0,
			MessageIDs: []string{"1"}, AcceptedAt: t0}}}},
	}
	srv := newSim(t, smsc.Config{FirstID: 1})
	cfg := testConfig(srv)
	cfg.Session.Window = 1 // the input's end is read long after row 1's receipt came
	cfg.Wait = time.Minute // ended by Stop once every receipt is in (rows 1 and 21 stay pending)
	rs := NewResumption(st, cfg.Book, ResendUncertain)
	cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 21, "restarted %d"))
	for i := 0; srv.Stats().ReceiptsAcked < 20; i++ {
		if i == 2000 {
			t.Fatalf("the simulator's receipts were not all acknowledged: %+v", srv.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	c.Stop()
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
	got := bookRows(cfg.Book)
	if r := got[1]; len(r.IDs) != 1 || r.IDs[0].ID != "1" || r.ReceiptStatus != report.ReceiptPending {
		t.Fatalf("row 1: ids %v, receipt %s; want id 1, its receipt pending", r.IDs, r.ReceiptStatus)
	}
	if r := got[21]; r.ReceiptStatus != report.ReceiptPending {
		t.Errorf("row 21: receipt %q, want PENDING", r.ReceiptStatus)
	}
	if un := cfg.Book.Unmatched(); len(un) != 1 || un[0].Reason != "ambiguous: the id fits messages of rows 1, 21" {
		t.Errorf("unmatched %+v, want row 1's receipt, ambiguous", un)
	}
}

// A journal receipt whose id is, as written, only the id of a message sent after it came
// ("10", which a later run got again) is about others by a looser reading (10 = 0xa: rows 5
// and 8, decimal receipts for hex responses), and a rebuild finds it ambiguous between them,
// as the live run did: it waits for every row, not only for row 2, whose id it has. Stale
// receipts of no row are listed unmatched in the order they came, every rebuild alike.
func TestResumption_receiptMatchedByALooserReading(t *testing.T) {
	t0 := time.Now().Add(-2 * time.Hour).UTC()
	part := func(sent, accepted time.Time, id string) journal.Part {
		return journal.Part{Attempts: 1, FirstAttempt: sent, FirstSent: sent, MessageIDs: []string{id}, AcceptedAt: accepted}
	}
	receipt := func(id string, at time.Time) *journal.ReceiptRecord {
		return &journal.ReceiptRecord{Receipt: smpp.Receipt{ID: id, Stat: "DELIVRD", State: smpp.StateDelivered}, At: at}
	}
	for range 5 { // map order must not show
		st := &journal.State{
			RunStarts: []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(40 * time.Minute)},
			Rows: map[int]*journal.Row{
				// sent in run 1 without a response, sent again in run 3: "10"
				2: {Num: 2, Resubmitted: true, Parts: []journal.Part{part(t0.Add(time.Second), t0.Add(41*time.Minute), "10")}},
				5: {Num: 5, Parts: []journal.Part{part(t0.Add(2*time.Second), t0.Add(3*time.Second), "a")}},
				8: {Num: 8, Parts: []journal.Part{part(t0.Add(11*time.Minute), t0.Add(11*time.Minute), "a")}}, // run 2
				9: {Num: 9, Parts: []journal.Part{part(t0.Add(50*time.Minute), t0.Add(50*time.Minute), "z9")}},
				6: {Num: 6, Parts: []journal.Part{part(t0.Add(50*time.Minute), t0.Add(50*time.Minute), "z6")}},
			},
			Receipts: []*journal.ReceiptRecord{
				receipt("z9", t0.Add(5*time.Minute)), receipt("z6", t0.Add(6*time.Minute)), // before their messages
				receipt("10", t0.Add(20*time.Minute)),
			},
		}
		book := report.NewBook(report.Options{})
		got := collectOnly(t, st, book, testRows(t, 10, "row %d"))
		if got[5].ReceiptStatus != report.ReceiptPending || got[8].ReceiptStatus != report.ReceiptPending {
			t.Fatalf("row 5 %q, row 8 %q: want both PENDING (the receipt fits both)", got[5].ReceiptStatus, got[8].ReceiptStatus)
		}
		var order []string
		for _, u := range book.Unmatched() {
			order = append(order, u.Receipt.ID)
		}
		if want := []string{"z9", "z6", "10"}; !slices.Equal(order, want) {
			t.Fatalf("unmatched %v, want %v: the order they came", order, want)
		}
	}
}

// collectOnly replays rows from st into book as smscast receipts does (SendNothing), the engine
// reading them in order, and returns the book's rows.
func collectOnly(t *testing.T, st *journal.State, book *report.Book, rows []csvin.Row) map[int]report.Row {
	t.Helper()
	rs := NewResumption(st, book, SendNothing)
	for _, row := range rows {
		book.Add(entryOf(row))
		rs.Row(&row)
	}
	rs.AllRead(true)
	return bookRows(book)
}

// failingSource gives the rows of rowSource up to after, then an input error.
type failingSource struct {
	rowSource
	after int
}

func (s *failingSource) Next() (csvin.Row, error) {
	if s.next >= s.after {
		return csvin.Row{}, errors.New("line 12: bad quote")
	}
	return s.rowSource.Next()
}

// An input that fails before row 30 leaves the receipt that fitted rows 1 and 30 (both sent
// before it came: ambiguous when it came) unmatched, saying why: matched with the rows read,
// it would go to row 1 alone.
func TestCampaign_inputErrorLeavesATieUnmatched(t *testing.T) {
	t0 := time.Now().Add(-time.Hour)
	sentAt := func(n int, sent time.Time) *journal.Row {
		return &journal.Row{Num: n, Parts: []journal.Part{{Attempts: 1, FirstAttempt: sent, FirstSent: sent,
			MessageIDs: []string{"7"}, AcceptedAt: sent}}}
	}
	st := &journal.State{
		RunStarts: []time.Time{t0, t0.Add(time.Minute)},
		Rows:      map[int]*journal.Row{1: sentAt(1, t0.Add(time.Second)), 30: sentAt(30, t0.Add(61*time.Second))},
		Receipts: []*journal.ReceiptRecord{{Receipt: smpp.Receipt{ID: "7", Stat: "DELIVRD", State: smpp.StateDelivered},
			At: t0.Add(90 * time.Second)}},
	}
	cfg := Config{Offline: true, Book: report.NewBook(report.Options{})}
	rs := NewResumption(st, cfg.Book, SendNothing)
	cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Run(t.Context(), &failingSource{rowSource: rowSource{rows: testRows(t, 40, "row %d")}, after: 10}); !errors.Is(err, ErrInput) {
		t.Fatalf("Run = %v, want the input error", err)
	}
	if r := bookRows(cfg.Book)[1]; r.ReceiptStatus != report.ReceiptPending {
		t.Errorf("row 1: receipt %q, want PENDING", r.ReceiptStatus)
	}
	if un := cfg.Book.Unmatched(); len(un) != 1 || !strings.Contains(un[0].Reason, "was not read (the input ended early)") {
		t.Errorf("unmatched %+v, want the receipt, its row of an earlier run not read", un)
	}
}

// A three-part message whose first two parts an earlier run had accepted: the rerun sends
// only the third, with the same concatenation reference, so the handset joins it to the
// others and nobody gets the start twice. It is resubmitted only when the third part may
// have reached the SMSC before (written, no response); refused, it is new to the SMSC.
func TestResumption_partlySent(t *testing.T) {
	long := strings.Repeat("Dear customer, your order has shipped. ", 10) // three parts
	for _, tt := range []struct {
		name     string
		third    func(w *journal.Writer, at time.Time) error // what the first run recorded of part 3
		crash    bool                                        // the first run was killed (no end marker)
		status   report.SubmitStatus
		resent   int // Resumption.Resent
		complete int // Resumption.Completed
	}{
		{"third part refused", func(w *journal.Writer, at time.Time) error {
			if err := w.Attempt(1, 2, at); err != nil {
				return err
			}
			return w.NotAccepted(1, 2, at)
		}, false, report.SubmitAccepted, 0, 1},
		{"third part never written", func(*journal.Writer, time.Time) error { return nil }, false, report.SubmitAccepted, 0, 1},
		{"third part in flight", func(w *journal.Writer, at time.Time) error { return w.Attempt(1, 2, at) }, false,
			report.SubmitResubmitted, 1, 0},
		// A killed run may have written the third part without its attempt record reaching
		// the disk: it may arrive twice.
		{"killed after the second part", func(*journal.Writer, time.Time) error { return nil }, true,
			report.SubmitResubmitted, 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			w, err := journal.Create(path, journal.Identity{}, journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
			for part, id := range []string{"0000bb01", "0000bb02"} {
				if err := w.Attempt(1, part, at); err != nil {
					t.Fatal(err)
				}
				if err := w.Accepted(1, part, id, at); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.third(w, at); err != nil {
				t.Fatal(err)
			}
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			image, err := os.ReadFile(path) // as kill -9 would leave it
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if tt.crash {
				if err := os.WriteFile(path, image, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg, srv, st := resumeFrom(t, path)
			rows := testRows(t, 1, long)
			if n := len(rows[0].Message.Parts); n != 3 {
				t.Fatalf("%d parts, want 3", n)
			}
			rs := NewResumption(st, cfg.Book, ResendUncertain)
			cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
			if _, err := run(t, cfg, rows); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || msgs[0].Parts != 1 || msgs[0].TotalParts != 3 ||
				!strings.HasSuffix(long, msgs[0].Text) || !bytes.Equal(msgs[0].Data, rows[0].Message.Parts[2].ShortMessage[6:]) {
				t.Fatalf("the SMSC got %+v; want the third part only", msgs)
			}
			r := bookRows(cfg.Book)[1]
			if r.SubmitStatus != tt.status || len(r.IDs) != 3 || r.IDs[0].ID != "0000bb01" {
				t.Errorf("row 1: %s %q, ids %v; want %s with the first run's two ids and a new one", r.SubmitStatus, r.SubmitError, r.IDs, tt.status)
			}
			if rs.Resent != tt.resent || rs.Completed != tt.complete {
				t.Errorf("resent %d, completed %d; want %d and %d", rs.Resent, rs.Completed, tt.resent, tt.complete)
			}
		})
	}
}

// Rows an earlier run sent, or tried to, whose numbers joined the --exclude list before the
// resume: what went out stays in the report as sent (with the template and parts it had),
// what may have gone out is uncertain, and nothing is sent again.
func TestResumption_excludedSinceSent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := journal.Create(path, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, err := range []error{
		// Row 1: both parts accepted. Row 2: sent, no response (in flight at the crash).
		// Row 3: part 1 accepted, part 2 in flight. Row 4: part 1 accepted, part 2 refused
		// (surely not at the SMSC). Row 5: attempted and refused. Row 6: never attempted.
		w.Attempt(1, 0, at), w.Accepted(1, 0, "a1", at), w.Attempt(1, 1, at), w.Accepted(1, 1, "a2", at),
		w.Attempt(2, 0, at),
		w.Attempt(3, 0, at), w.Accepted(3, 0, "c1", at), w.Attempt(3, 1, at),
		w.Attempt(4, 0, at), w.Accepted(4, 0, "d1", at), w.Attempt(4, 1, at), w.NotAccepted(4, 1, at),
		w.Attempt(5, 0, at), w.NotAccepted(5, 0, at),
		w.Sync(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.Close() // after a crash the records are the same; only the end marker differs
	cfg, srv, st := resumeFrom(t, path)
	rows := testRows(t, 6, strings.Repeat("two parts, row %d. ", 9))
	for i := range rows {
		if len(rows[i].Message.Parts) != 2 {
			t.Fatalf("row %d has %d parts, want 2", rows[i].Num, len(rows[i].Message.Parts))
		}
		rows[i].Status, rows[i].Reason = csvin.StatusExcluded, "on the opt-out list optouts.txt"
	}
	rs := NewResumption(st, cfg.Book, ResendUncertain)
	cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("the resume sent %d messages, want none", n)
	}
	want := map[int]struct {
		status report.SubmitStatus
		ids    int
		reason string
	}{
		1: {report.SubmitAccepted, 2, ""},
		2: {report.SubmitUncertain, 0, "outcome unknown: an earlier run sent it"},
		3: {report.SubmitUncertain, 1, "outcome unknown: an earlier run sent it"},
		4: {report.SubmitUncertain, 1, "partly sent: 1 of 2 parts accepted, the rest not sent again: on the opt-out list"},
		5: {report.SubmitExcluded, 0, "on the opt-out list"},
		6: {report.SubmitExcluded, 0, "on the opt-out list"},
	}
	for n, r := range bookRows(cfg.Book) {
		w := want[n]
		if r.SubmitStatus != w.status || len(r.IDs) != w.ids || !strings.HasPrefix(r.SubmitError, w.reason) || (w.reason == "") != (r.SubmitError == "") {
			t.Errorf("row %d: %s %q with %d ids; want %s %q… with %d", n, r.SubmitStatus, r.SubmitError, len(r.IDs), w.status, w.reason, w.ids)
		}
		if w.ids > 0 && (r.Parts != 2 || r.Template != rows[n-1].Template || r.Encoding == "") {
			t.Errorf("row %d: parts %d, template %q, encoding %q; want what was sent", n, r.Parts, r.Template, r.Encoding)
		}
		if w.status == report.SubmitExcluded && (r.Parts != 0 || r.Encoding != "") {
			t.Errorf("row %d: excluded with parts %d, encoding %q; want none, as any excluded row", n, r.Parts, r.Encoding)
		}
		if n == 1 && r.ReceiptStatus != report.ReceiptPending {
			t.Errorf("row 1: receipt %q, want its receipts awaited", r.ReceiptStatus)
		}
	}
	if rs.Accepted != 1 || rs.Uncertain != 3 || rs.OptedOut != 3 || rs.Resent+rs.Unsent+rs.Completed != 0 {
		t.Errorf("accepted %d, uncertain %d (opted out %d), sent %d; want 1 accepted and 3 uncertain, opted out, none sent",
			rs.Accepted, rs.Uncertain, rs.OptedOut, rs.Resent+rs.Unsent+rs.Completed)
	}
}

// An excluded row without a record of its own stays excluded, even within a crashed run's
// horizon: its number is as likely to have been on the list from the start, never sent.
func TestResumption_excludedWithoutARecord(t *testing.T) {
	st := &journal.State{Horizon: 10, Rows: map[int]*journal.Row{}}
	book := report.NewBook(report.Options{})
	rs := NewResumption(st, book, ResendUncertain)
	rows := testRows(t, 12, "maybe %d")
	for _, n := range []int{5, 12} {
		row := rows[n-1]
		row.Status, row.Reason = csvin.StatusExcluded, "on the opt-out list optouts.txt"
		book.Add(entryOf(row))
		if skip, _, _ := rs.Row(&row); !skip {
			t.Errorf("row %d: to be sent, want it skipped", n)
		}
	}
	for n, r := range bookRows(book) {
		if r.SubmitStatus != report.SubmitExcluded || r.Parts != 0 {
			t.Errorf("row %d: %s with %d parts, want excluded", n, r.SubmitStatus, r.Parts)
		}
	}
	if rs.Uncertain != 0 || rs.OptedOut != 0 {
		t.Errorf("uncertain %d, opted out %d; want none", rs.Uncertain, rs.OptedOut)
	}
}

// A resume after an absolute validity ended sends nothing, so it binds only to wait for the
// receipts of rows an earlier run had accepted: with none pending, the SMSC is not called.
func TestResumption_validityEndedBindsOnlyForReceipts(t *testing.T) {
	for _, tt := range []struct {
		name     string
		accepted bool // the earlier run had row 1 accepted: its receipt is pending
		binds    bool
	}{
		{"nothing pending", false, false},
		{"a receipt pending", true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			w, err := journal.Create(path, journal.Identity{}, journal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-time.Hour)
			if tt.accepted {
				if err := errors.Join(w.Attempt(1, 0, at), w.Accepted(1, 0, "a1", at)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			cfg, srv, st := resumeFrom(t, path)
			cfg.Validity = TimeSpec{At: time.Now().Add(-time.Minute)}
			cfg.Wait = time.Minute // the simulator never heard of a1: the wait ends with Stop
			var log eventLog
			cfg.OnEvent = log.add
			rs := NewResumption(st, cfg.Book, ResendUncertain)
			cfg.Resume, cfg.ResumeRead = rs.Row, rs.AllRead
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var dials atomic.Int32
			if !tt.binds {
				// A listener that only counts connections: a dial that the end of the run
				// cancels before its bind completes is counted too.
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
				go func() {
					for {
						conn, err := ln.Accept()
						if err != nil {
							return
						}
						dials.Add(1)
						conn.Close()
					}
				}()
				cfg.Addr = ln.Addr().String()
			}
			c, done := startRun(t, ctx, cfg, testRows(t, 3, "late %d"))
			if tt.binds {
				for i := 0; log.count(EventBound) == 0 && i < 2000; i++ {
					time.Sleep(5 * time.Millisecond)
				}
				c.Stop()
			}
			end := <-done
			if end.Err != nil || end.PDUs != 0 {
				t.Fatalf("Run = %v, %d PDUs; want none sent", end.Err, end.PDUs)
			}
			if bound := log.count(EventBound) > 0 || srv.Stats().Sessions > 0 || dials.Load() > 0; bound != tt.binds {
				t.Errorf("bound %v, want %v", bound, tt.binds)
			}
			want := 3
			if tt.accepted {
				want = 2 // row 1 stays accepted
			}
			if end.Expired != want {
				t.Errorf("%d rows expired, want %d", end.Expired, want)
			}
		})
	}
}
