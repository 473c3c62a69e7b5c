package send

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/internal/stacks"
	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// fakeJournal records the engine's calls; with failReceipts every receipt fails, as with a
// full disk (a *journal.Writer takes no record after a failed write).
type fakeJournal struct {
	mu           sync.Mutex
	calls        []string
	failReceipts bool
	closed       int
}

func (j *fakeJournal) add(format string, a ...any) {
	j.mu.Lock()
	j.calls = append(j.calls, fmt.Sprintf(format, a...))
	j.mu.Unlock()
}

func (j *fakeJournal) AttemptSent(row, part int, _ time.Time) (time.Time, error) {
	j.add("attempt %d/%d", row, part)
	return time.Now(), nil
}

func (j *fakeJournal) Accepted(row, part int, id string, _ time.Time) error {
	j.add("accepted %d/%d", row, part)
	return nil
}

func (j *fakeJournal) Rejected(row int, err string, _ time.Time) error {
	j.add("rejected %d %s", row, err)
	return nil
}

func (j *fakeJournal) Resubmitted(row, part int, _ time.Time) error {
	j.add("resubmitted %d/%d", row, part)
	return nil
}

func (j *fakeJournal) NotAccepted(row, part int, _ time.Time) error {
	j.add("not accepted %d/%d", row, part)
	return nil
}

func (j *fakeJournal) ReceiptThen(r smpp.Receipt, _ time.Time, done func(error)) {
	j.mu.Lock()
	var err error
	if j.failReceipts {
		err = errors.New("disk full")
	} else {
		j.calls = append(j.calls, "receipt "+r.Stat)
	}
	j.mu.Unlock()
	done(err)
}

func (j *fakeJournal) Close() error {
	j.mu.Lock()
	j.closed++
	j.mu.Unlock()
	return nil
}

func (j *fakeJournal) index(call string) int {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, c := range j.calls {
		if c == call {
			return i
		}
	}
	return -1
}

func TestCampaign_journal(t *testing.T) {
	srv := newSim(t, smsc.Config{RejectPrefixes: []string{"4917100000002"}})
	cfg := testConfig(srv)
	cfg.Wait = 10 * time.Second
	j := &fakeJournal{}
	cfg.Journal = j
	rows := testRows(t, 3, "journal %d")
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	for _, row := range []int{1, 3} {
		a, b := j.index(fmt.Sprintf("attempt %d/0", row)), j.index(fmt.Sprintf("accepted %d/0", row))
		if a < 0 || b < a {
			t.Errorf("row %d: attempt at %d, accepted at %d; want the attempt first", row, a, b)
		}
	}
	if j.index("rejected 2 0x0000000B ESME_RINVDSTADR") < 0 {
		t.Errorf("no rejection journaled for row 2: %v", j.calls)
	}
	if n := strings.Count(strings.Join(j.calls, "\n"), "receipt DELIVRD"); n != 2 {
		t.Errorf("%d receipts journaled, want 2: %v", n, j.calls)
	}
	if cfg.Book.Pending() != 0 {
		t.Errorf("%d rows pending, want none", cfg.Book.Pending())
	}
	if j.closed != 1 {
		t.Errorf("journal closed %d times, want once", j.closed)
	}
}

// Receipts the journal cannot make durable are refused (ESME_RX_T_APPN), so that the SMSC
// sends them again later, and said once. A journal that failed takes no record any more, so
// the wait for receipts ends at once instead of refusing every receipt until --wait is over
// (an hour here: the test's own limit would end it first).
func TestCampaign_journalFailsReceipts(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Wait = time.Hour
	cfg.Journal = &fakeJournal{failReceipts: true}
	var log eventLog
	cfg.OnEvent = log.add
	if _, err := run(t, cfg, testRows(t, 3, "journal %d")); err != nil {
		t.Fatal(err)
	}
	if n := cfg.Book.Pending(); n != 3 {
		t.Errorf("%d rows pending, want the 3 whose receipts could not be kept", n)
	}
	if st := srv.Stats(); st.DeliverSMResp == 0 || st.ReceiptsAcked != 0 {
		t.Errorf("the simulator got %d deliver_sm_resp, %d of them acknowledging; want refusals only", st.DeliverSMResp, st.ReceiptsAcked)
	}
	said := log.countOf(func(e Event) bool { return e.Kind == EventWarning && strings.Contains(e.Err.Error(), "not recorded") })
	if said != 1 {
		t.Errorf("%d warnings of a receipt not recorded, want 1 (a full disk fails them all)", said)
	}
}

func TestCampaign_resume(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	rows := testRows(t, 6, "resume %d")
	// Rows 1 and 2 were accepted by an earlier run; row 3 was in flight when it died.
	cfg.Resume = func(row *csvin.Row) (bool, int, bool) { return row.Num <= 2, 0, row.Num == 3 }
	res, err := run(t, cfg, rows)
	if err != nil {
		t.Fatal(err)
	}
	sent := sentCount(srv)
	book := bookRows(cfg.Book)
	for _, r := range rows {
		switch {
		case r.Num <= 2:
			if sent[r.MSISDN] != 0 {
				t.Errorf("row %d was done before and sent again", r.Num)
			}
		case r.Num == 3:
			if sent[r.MSISDN] != 1 || book[3].SubmitStatus != report.SubmitResubmitted {
				t.Errorf("row 3 (in flight before): sent %d times, %s; want sent once and resubmitted", sent[r.MSISDN], book[3].SubmitStatus)
			}
		default:
			if sent[r.MSISDN] != 1 || book[r.Num].SubmitStatus != report.SubmitAccepted {
				t.Errorf("row %d: sent %d times, %s", r.Num, sent[r.MSISDN], book[r.Num].SubmitStatus)
			}
		}
	}
	if res.Skipped != 2 || res.Accepted != 4 {
		t.Errorf("result %+v, want 2 skipped and 4 accepted", res.Snapshot)
	}
}

func TestCampaign_handleMO(t *testing.T) {
	var got []report.MO
	c, err := New(Config{Addr: "127.0.0.1:1", Book: report.NewBook(report.Options{}), OnMO: func(m report.MO) error {
		if m.Text == "fail" {
			return errors.New("inbox unwritable")
		}
		got = append(got, m)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	udh := append([]byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x01}, "STOP"...)
	tests := []struct {
		name string
		pdu  smpp.PDU
		want smpp.Status
		text string
	}{
		{"plain GSM", &smpp.DeliverSM{SourceAddr: "491711", DestinationAddr: "ACME", ShortMessage: []byte("STOP")}, smpp.StatusOK, "STOP"},
		{"with a UDH", &smpp.DeliverSM{SourceAddr: "491712", ESMClass: 0x40, ShortMessage: udh}, smpp.StatusOK, "STOP"},
		{"UCS-2", &smpp.DeliverSM{SourceAddr: "491713", DataCoding: 0x08, ShortMessage: []byte{0x00, 0x48, 0x00, 0x69}}, smpp.StatusOK, "Hi"},
		{"binary", &smpp.DeliverSM{SourceAddr: "491714", DataCoding: 0x04, ShortMessage: []byte{0xCA, 0xFE}}, smpp.StatusOK, "0xcafe"},
		{"inbox fails: redeliver", &smpp.DeliverSM{SourceAddr: "491715", ShortMessage: []byte("fail")}, smpp.StatusXTAppn, ""},
	}
	for _, tt := range tests {
		got = nil
		if st := handleNow(t, c, tt.pdu); st != tt.want {
			t.Errorf("%s: answered %v, want %v", tt.name, st, tt.want)
		}
		if tt.text != "" && (len(got) != 1 || got[0].Text != tt.text) {
			t.Errorf("%s: MO %+v, want text %q", tt.name, got, tt.text)
		}
	}
	// A receipt that cannot be parsed still reaches the Book (as unmatched), never dropped.
	if st := handleNow(t, c, &smpp.DeliverSM{ESMClass: 0x04, ShortMessage: []byte("garbage")}); st != smpp.StatusOK {
		t.Errorf("unparseable receipt answered %v", st)
	}
	if n := len(c.book.Unmatched()); n != 1 {
		t.Errorf("%d unmatched receipts in the book, want the unparseable one", n)
	}
	// esm_class 0x08 (SME delivery acknowledgement, never asked for) that reads as a receipt
	// is taken as one, as some SMSCs mark their receipts so; one that does not is a message.
	ack := "id:7a1b submit date:2503140900 done date:2503140901 stat:DELIVRD err:000 text:hello"
	got = nil
	if st := handleNow(t, c, &smpp.DeliverSM{SourceAddr: "491716", ESMClass: 0x08, ShortMessage: []byte(ack)}); st != smpp.StatusOK || len(got) != 0 {
		t.Errorf("receipt marked 0x08: answered %v, MO %+v; want a receipt", st, got)
	}
	if n := len(c.book.Unmatched()); n != 2 {
		t.Errorf("%d unmatched receipts in the book, want the one marked 0x08 too", n)
	}
	if st := handleNow(t, c, &smpp.DeliverSM{SourceAddr: "491717", ESMClass: 0x08, ShortMessage: []byte("STOP")}); st != smpp.StatusOK || len(got) != 1 || got[0].Text != "STOP" {
		t.Errorf("message marked 0x08: answered %v, MO %+v; want an incoming message", st, got)
	}
}

func TestCampaign_submitSM(t *testing.T) {
	long := strings.Repeat("x", 200) // two parts
	rows := testRows(t, 1, long)
	c, err := New(Config{
		Addr:         "127.0.0.1:1",
		Book:         report.NewBook(report.Options{}),
		Schedule:     TimeSpec{At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)},
		Validity:     TimeSpec{After: 6 * time.Hour},
		PartReceipts: report.PartsLast,
		ServiceType:  "CMT",
	})
	if err != nil {
		t.Fatal(err)
	}
	first, last := c.submitSM(&rows[0], 0, nil), c.submitSM(&rows[0], 1, nil)
	if first.ServiceType != "CMT" || last.ServiceType != "CMT" {
		t.Errorf("service_type %q, %q; want CMT on every part", first.ServiceType, last.ServiceType)
	}
	// service_type is the submit_sm's first field: it follows the 16-octet header.
	if pdu, err := smpp.AppendPDU(nil, 1, smpp.StatusOK, first); err != nil || string(pdu[16:20]) != "CMT\x00" {
		t.Errorf("encoded service_type % x (%v), want CMT and its NUL", pdu[16:min(20, len(pdu))], err)
	}
	if first.ScheduleDeliveryTime != "300102030405000+" || first.ValidityPeriod != "000000060000000R" {
		t.Errorf("schedule %q validity %q", first.ScheduleDeliveryTime, first.ValidityPeriod)
	}
	if first.RegisteredDelivery != 0 || last.RegisteredDelivery != 1 {
		t.Errorf("--part-receipts last: registered_delivery %d then %d, want 0 then 1", first.RegisteredDelivery, last.RegisteredDelivery)
	}
	if first.ESMClass&0x40 == 0 || first.DestinationAddr != rows[0].MSISDN || first.DestAddrTON != 1 || first.SourceAddr != "smscast" {
		t.Errorf("first part %+v", first)
	}
}

// A service_type submit_sm cannot carry is refused before anything is sent.
func TestNew_serviceType(t *testing.T) {
	for _, st := range []string{"", "CMT", "WAP12"} {
		if _, err := New(Config{Addr: "127.0.0.1:1", Book: report.NewBook(report.Options{}), ServiceType: st}); err != nil {
			t.Errorf("service type %q: %v", st, err)
		}
	}
	for _, st := range []string{"TOOLONG", "C\x00T", "CMT\n", "Ä"} {
		if _, err := New(Config{Addr: "127.0.0.1:1", Book: report.NewBook(report.Options{}), ServiceType: st}); err == nil || !strings.Contains(err.Error(), "--service-type") {
			t.Errorf("service type %q: %v, want an error naming --service-type", st, err)
		}
	}
}

func TestCampaign_sendingHoursPause(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	// Hours that are closed now: nothing is sent; Stop ends the pause.
	now := time.Now().UTC()
	from := now.Add(2 * time.Hour)
	h, err := ParseHours(from.Format("15:04")+"-"+from.Add(time.Hour).Format("15:04"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hours = h
	var log eventLog
	cfg.OnEvent = log.add
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 5, "night %d"))
	for i := 0; log.count(EventPaused) == 0 && i < 1000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if s := c.Snapshot(); !s.Paused || s.PausedFor <= 0 {
		t.Errorf("snapshot: paused %v for %v, want paused and counting", s.Paused, s.PausedFor)
	}
	c.Stop()
	res := (<-done).Result
	if res.PDUs != 0 || srv.Stats().Submits != 0 {
		t.Errorf("%d PDUs sent outside the sending hours", res.PDUs)
	}
	wantNotSent(t, cfg.Book)
}

// A --schedule duration moves the last moment a row can go out within an absolute validity
// earlier by as much: a message the SMSC would deliver after its validity ended (a resume, or
// a pause, that came too late) is not sent; one that still fits is.
func TestCampaign_scheduleDurationAgainstValidity(t *testing.T) {
	for name, validity := range map[string]time.Duration{"too late": time.Hour, "in time": 3 * time.Hour} {
		t.Run(name, func(t *testing.T) {
			srv := newSim(t, smsc.Config{})
			cfg := testConfig(srv)
			cfg.Schedule = TimeSpec{After: 2 * time.Hour}
			cfg.Validity = TimeSpec{At: time.Now().Add(validity)}
			res, err := run(t, cfg, testRows(t, 3, "scheduled %d"))
			if err != nil {
				t.Fatal(err)
			}
			if validity > 2*time.Hour {
				if res.Accepted != 3 {
					t.Errorf("%d accepted, want 3", res.Accepted)
				}
				return
			}
			if res.PDUs != 0 || res.Expired != 3 {
				t.Errorf("%d PDUs, %d expired; want none sent, 3 ended for the validity", res.PDUs, res.Expired)
			}
			for n, r := range bookRows(cfg.Book) {
				if r.SubmitStatus != report.SubmitNotSent || !strings.Contains(r.SubmitError, "before the delivery --schedule 2h asks for") {
					t.Errorf("row %d: %s %q, want not_sent for the validity and the schedule", n, r.SubmitStatus, r.SubmitError)
				}
			}
		})
	}
}

// A row whose absolute validity has ended (a resume after it, the end of a pause) is not
// sent: it would only expire at the SMSC. A pause that outlasts the validity warns.
func TestCampaign_validityEnded(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Validity = TimeSpec{At: time.Now().Add(-time.Minute)}
	res, err := run(t, cfg, testRows(t, 3, "late %d"))
	if err != nil || res.PDUs != 0 || srv.Stats().Submits != 0 {
		t.Fatalf("Run = %v, %d PDUs sent; want none", err, res.PDUs)
	}
	for n, r := range bookRows(cfg.Book) {
		if r.SubmitStatus != report.SubmitNotSent || !strings.Contains(r.SubmitError, "validity (--validity) ended") {
			t.Errorf("row %d: %s %q, want not_sent for the validity", n, r.SubmitStatus, r.SubmitError)
		}
	}
	// not_sent in the report (exit status 3, and no resume for them), and in the progress
	// counts too: not failed, since nothing was tried.
	if res.Failed != 0 || res.Done != 3 || res.Expired != 3 {
		t.Errorf("%d rows failed, %d done, %d expired; want 0, 3, 3", res.Failed, res.Done, res.Expired)
	}

	// Hours closed now (they open in about 2 h), validity before they open, or a --schedule
	// duration that makes rows go out before then: a warning when the pause starts.
	for _, tt := range []struct {
		validity, schedule time.Duration
		want               string
	}{
		{time.Hour, 0, "ends at %s, before the sending hours open again"},
		{3 * time.Hour, 90 * time.Minute, "for --schedule 1h30m to deliver them before the validity (--validity) ends at %s, and the sending hours open again only after that"},
	} {
		cfg = testConfig(srv)
		cfg.Hours = closedHours(t)
		validity := time.Now().Add(tt.validity)
		cfg.Validity, cfg.Schedule = TimeSpec{At: validity}, TimeSpec{After: tt.schedule}
		var log eventLog
		cfg.OnEvent = log.add
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, done := startRun(t, ctx, cfg, testRows(t, 2, "night %d"))
		want := fmt.Sprintf(tt.want, validity.UTC().Format(time.RFC3339))
		warned := func(e Event) bool {
			return e.Kind == EventWarning && strings.Contains(e.Err.Error(), want)
		}
		for i := 0; log.countOf(warned) == 0 && i < 1000; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		c.Stop()
		<-done
		cancel()
		if n := log.countOf(warned); n != 1 {
			t.Errorf("validity in %v, schedule %v: %d warnings saying %q, want 1", tt.validity, tt.schedule, n, want)
		}
	}
}

// The schedule starts with the first bind: a row is not planned before the SMSC took the
// bind (a bind_resp that comes 500 ms late here), so the wait for it is not in the rows'
// latency.
func TestCampaign_plannedFromTheFirstBind(t *testing.T) {
	const bindDelay = 500 * time.Millisecond
	srv := newSim(t, smsc.Config{RespDelay: bindDelay})
	cfg := testConfig(srv)
	cfg.Rate = 50
	start := time.Now()
	if _, err := run(t, cfg, testRows(t, 3, "bind first %d")); err != nil {
		t.Fatal(err)
	}
	for n, r := range bookRows(cfg.Book) {
		// No bind can be up before the delayed bind_resp: a row planned earlier was planned
		// from the run's start.
		if r.PlannedAt.IsZero() || r.PlannedAt.Sub(start) < bindDelay {
			t.Errorf("row %d planned %v after the start, before the bind (%v)", n, r.PlannedAt.Sub(start), bindDelay)
		}
	}
}

// Rows whose validity has ended are ended before they wait for a session or a pacing token:
// a resume of many such rows at a low --rate took a token each to send nothing, and failed
// without a bind. Here no SMSC listens at all.
func TestCampaign_validityEndedNeedsNoTokenNorBind(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Addr = "127.0.0.1:1" // nothing listens there
	cfg.Rate = 10
	cfg.Validity = TimeSpec{At: time.Now().Add(-time.Minute)}
	c, res, err := runCampaign(t, cfg, testRows(t, 30, "late %d"))
	if err != nil || res.PDUs != 0 || res.Done != 30 {
		t.Fatalf("Run = %v, %d PDUs, %d done; want every row ended, none sent", err, res.PDUs, res.Done)
	}
	if tokens := c.pacer.sent.Load(); tokens != 0 {
		t.Errorf("%d pacing tokens taken for rows that cannot be sent", tokens)
	}
	wantNotSent(t, cfg.Book)
}

// Outside the sending hours with the validity ended (before the run, or during its pause),
// the rows end at once (or when it ends) instead of waiting, bound, for the hours to open (the
// next morning) only to be ended then: not_sent for the validity, and the pause is over.
func TestCampaign_validityEndsDuringAPause(t *testing.T) {
	for name, validity := range map[string]time.Duration{"ended before": -time.Second, "ends during": 300 * time.Millisecond} {
		t.Run(name, func(t *testing.T) {
			srv := newSim(t, smsc.Config{})
			cfg := testConfig(srv)
			cfg.Hours = closedHours(t)
			cfg.Validity = TimeSpec{At: time.Now().Add(validity)}
			res, err := run(t, cfg, testRows(t, 4, "closed %d")) // fails the test if it waits for the hours
			if err != nil || res.PDUs != 0 || res.Expired != 4 || res.Failed != 0 {
				t.Errorf("Run = %v, %d PDUs, %d expired, %d failed; want the 4 rows ended for the validity, none sent", err, res.PDUs, res.Expired, res.Failed)
			}
			if res.Paused {
				t.Error("paused at the end; want the pause over")
			}
			wantValidityEnded(t, cfg.Book)
		})
	}
}

// A stop after the validity ended says the validity is why the rows were not sent, rather
// than the stop (a resume could not send them): the rows waiting for a bind and those not
// yet read.
func TestCampaign_stopAfterTheValidityEnded(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Addr = "127.0.0.1:1" // nothing listens there: the rows wait for a bind
	cfg.GiveUpAfter = time.Minute
	cfg.Session.Window = 2
	validity := time.Now().Add(300 * time.Millisecond)
	cfg.Validity = TimeSpec{At: validity}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, done := startRun(t, ctx, cfg, testRows(t, 20, "waiting %d"))
	time.Sleep(time.Until(validity) + 50*time.Millisecond)
	c.Stop()
	res := (<-done).Result
	if res.PDUs != 0 || res.Expired != 20 {
		t.Errorf("%d PDUs, %d expired; want none sent, the 20 rows ended for the validity", res.PDUs, res.Expired)
	}
	wantValidityEnded(t, cfg.Book)
}

// wantValidityEnded fails t unless every row of book is not_sent for its validity.
func wantValidityEnded(t *testing.T, book *report.Book) {
	t.Helper()
	for n, r := range bookRows(book) {
		if r.SubmitStatus != report.SubmitNotSent || !strings.Contains(r.SubmitError, "validity (--validity) ended") {
			t.Errorf("row %d: %s %q, want not_sent for the validity", n, r.SubmitStatus, r.SubmitError)
		}
	}
}

// A --validity of 45 days reaches an SMSC that checks the fields of relative times (the
// simulator does, as strict SMSCs do): it goes out as the instant it ends, and is accepted.
func TestCampaign_longValidityAccepted(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Validity = TimeSpec{After: 45 * 24 * time.Hour}
	cfg.Schedule = TimeSpec{After: 40 * 24 * time.Hour}
	res, err := run(t, cfg, testRows(t, 3, "for weeks %d"))
	if err != nil || res.Accepted != 3 {
		t.Fatalf("%v, %d accepted; want 3", err, res.Accepted)
	}
}

// An absolute schedule that has passed (a resumed campaign) is not sent: delivery at once is
// what it asks for by now. A duration over 31 days counts from the submit, and then the other
// field does too: both go out as instants from the same second, keeping their gap.
func TestCampaign_timesAt(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 600e6, time.UTC)
	day := 24 * time.Hour
	for _, tt := range []struct {
		schedule, validity   TimeSpec
		wantSched, wantValid string
	}{
		{TimeSpec{At: now.Add(-time.Minute)}, TimeSpec{}, "", ""},
		{TimeSpec{At: now.Add(time.Hour)}, TimeSpec{After: 6 * time.Hour}, "300102040405600+", "000000060000000R"},
		{TimeSpec{After: time.Hour}, TimeSpec{}, "000000010000000R", ""},
		{TimeSpec{After: 45 * day}, TimeSpec{}, "300216030405000+", ""},
		{TimeSpec{After: 31*day + 23*time.Hour + 59*time.Minute + 59*time.Second}, TimeSpec{After: 32 * day},
			"300203030404000+", "300203030405000+"},
		{TimeSpec{}, TimeSpec{After: 40 * day}, "", "300211030405000+"},
		{TimeSpec{At: now.Add(-time.Minute)}, TimeSpec{After: 40 * day}, "", "300211030405000+"},
	} {
		c := &Campaign{cfg: Config{Schedule: tt.schedule, Validity: tt.validity}, times: newWireTimes(tt.schedule, tt.validity)}
		for range 2 { // the second from the cache
			if s, v := c.timesAt(now); s != tt.wantSched || v != tt.wantValid {
				t.Errorf("schedule %v, validity %v: %q, %q; want %q, %q", tt.schedule, tt.validity, s, v, tt.wantSched, tt.wantValid)
			}
		}
	}
}

// fullJournal fails every acceptance record, as a full disk does.
type fullJournal struct{ fakeJournal }

func (j *fullJournal) Accepted(int, int, string, time.Time) error {
	return errors.New("write: no space left on device")
}

// fullBeforeSend fails every attempt record: no submit may then go out.
type fullBeforeSend struct{ fakeJournal }

func (j *fullBeforeSend) AttemptSent(int, int, time.Time) (time.Time, error) {
	return time.Time{}, errors.New("write: no space left on device")
}

// A journal that fails every record is said once, then counted at the end: a full disk
// printed one line per record in flight, thousands, burying the one that matters. Both the
// records after a submit (acceptances) and those before it (attempts, which keep the submit
// from going out).
func TestCampaign_journalFailuresSaidOnce(t *testing.T) {
	for name, j := range map[string]Journal{"acceptances": &fullJournal{}, "attempts": &fullBeforeSend{}} {
		t.Run(name, func(t *testing.T) {
			srv := newSim(t, smsc.Config{})
			cfg := testConfig(srv)
			cfg.Journal = j
			var log eventLog
			cfg.OnEvent = log.add
			if _, err := run(t, cfg, testRows(t, 5, "full %d")); err != nil {
				t.Fatal(err)
			}
			first := log.countOf(func(e Event) bool {
				return e.Kind == EventWarning && strings.Contains(e.Err.Error(), "no space left on device")
			})
			more := log.countOf(func(e Event) bool {
				return e.Kind == EventWarning && strings.Contains(e.Err.Error(), "4 more records could not be written")
			})
			if first != 1 || more != 1 {
				t.Errorf("%d warnings with the failure and %d with the count, want 1 and 1", first, more)
			}
		})
	}
}

// handleNow runs the campaign's handler on p and returns the status it answered with (at
// once for receipts, with the fake journal and spools; from another goroutine for incoming
// messages), checking that it answers exactly once.
func handleNow(t *testing.T, c *Campaign, p smpp.PDU) smpp.Status {
	t.Helper()
	answers := make(chan smpp.Status, 2)
	c.handle(context.Background(), p, func(st smpp.Status) { answers <- st })
	st := recvStatus(t, answers)
	select {
	case again := <-answers:
		t.Fatalf("handle answered twice: %v, then %v", st, again)
	default:
	}
	return st
}

func recvStatus(t *testing.T, ch <-chan smpp.Status) smpp.Status {
	t.Helper()
	select {
	case st := <-ch:
		return st
	case <-time.After(10 * time.Second):
		t.Fatal("handle did not answer within 10 s")
		return 0
	}
}

// hangingJournal's Close never returns until the test ends, as on a stuck network mount.
type hangingJournal struct {
	fakeJournal
	release chan struct{}
}

func (j *hangingJournal) Close() error {
	<-j.release
	return nil
}

// An abort does not wait for a journal that cannot close: Run returns after abortGrace, with
// a warning, so the report is still written.
func TestCampaign_abortDoesNotWaitForAHungJournal(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	j := &hangingJournal{release: make(chan struct{})}
	t.Cleanup(func() { close(j.release) })
	cfg.Journal = j
	cfg.Rate = 50
	var log eventLog
	cfg.OnEvent = log.add
	ctx, abort := context.WithCancel(context.Background())
	defer abort()
	c, done := startRun(t, ctx, cfg, testRows(t, 200, "n %d"))
	for i := 0; c.Snapshot().Accepted < 5 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	abort()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run still waits for the journal 30s after the abort")
	}
	found := false
	log.mu.Lock()
	for _, e := range log.events {
		found = found || (e.Kind == EventWarning && strings.Contains(e.Err.Error(), "not closed within"))
	}
	log.mu.Unlock()
	if !found {
		t.Error("no warning that the journal was not closed")
	}
}

// When the sending hours end, the rows waiting for their turn (for their place in the
// schedule, or a token) wait for the next opening instead of going out after the end: at a
// low rate a window of them would otherwise be sent for up to window/rate after it.
func TestCampaign_sendingHoursEndWhileRowsWait(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Rate, cfg.Session.Window = 5, 5
	c, end, done := hoursRun(t, cfg, testRows(t, 20, "evening %d"))
	for i := 0; c.Snapshot().Accepted < 3 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	end()
	atEnd := srv.Stats().Submits
	// Until every worker waits for the next opening, rows could still go out.
	stacks.Await(t, awaitHoursFn, cfg.Session.Window, 20*time.Second)
	// One may have been on its way to the connection when the clock moved.
	stopCountingLate(t, c, done, srv.Stats().Submits-atEnd, 1)
}

// awaitHoursFn is where a worker waits for the sending hours to open: once every worker is
// there, nothing more is sent until they do.
const awaitHoursFn = "smscast/send.(*Campaign).awaitHours"

// stopCountingLate stops the run of hoursRun and fails if more than allowed of the late
// submit_sm (those the SMSC received after the hours ended) came.
func stopCountingLate(t *testing.T, c *Campaign, done <-chan runResult, late, allowed int) {
	t.Helper()
	c.Stop()
	if res := <-done; res.Err != nil {
		t.Fatal(res.Err)
	}
	if late > allowed {
		t.Errorf("%d submit_sm after the sending hours ended, want at most %d", late, allowed)
	}
}

// hoursRun runs rows with --send-between hours open now and a clock the test can move past
// their end; it returns the campaign, the move and the run's outcome.
func hoursRun(t *testing.T, cfg Config, rows []csvin.Row) (*Campaign, func(), <-chan runResult) {
	t.Helper()
	now := time.Now().UTC()
	h, err := ParseHours(now.Add(-time.Hour).Format("15:04")+"-"+now.Add(time.Hour).Format("15:04"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hours = h
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var shift atomic.Int64 // the test's clock runs this far ahead of the real one
	c.hoursNow = func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	done := make(chan runResult, 1)
	go func() {
		res, err := c.Run(ctx, &rowSource{rows: rows})
		done <- runResult{res, err}
	}()
	return c, func() { shift.Store(int64(2 * time.Hour)) }, done
}

// A row whose first part was only refused (throttled) has reached nobody: when the hours end
// it waits for them like a row not tried yet, instead of being retried after the end.
func TestCampaign_sendingHoursEndForThrottledRows(t *testing.T) {
	srv := newSim(t, smsc.Config{ThrottleTPS: 2})
	cfg := testConfig(srv)
	cfg.Rate, cfg.Session.Window = 10, 5
	cfg.GiveUpAfter = 20 * time.Second
	c, end, done := hoursRun(t, cfg, testRows(t, 40, "evening %d"))
	for i := 0; srv.Stats().Throttled < 3 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	end()
	time.Sleep(300 * time.Millisecond) // PDUs already on their way
	atEnd := srv.Stats().Submits
	stacks.Await(t, awaitHoursFn, cfg.Session.Window, 20*time.Second) // no retry can go after this
	stopCountingLate(t, c, done, srv.Stats().Submits-atEnd, 0)
}

// A row whose session died during its pacing wait, and which then waited for the next bind,
// checks the hours again before it goes: they may have ended meanwhile.
func TestCampaign_sendingHoursEndWhileRebinding(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	proxy := newWindowProxy(t, srv.Addr())
	proxy.bindSeen, proxy.releaseBind, proxy.holdBind = make(chan struct{}), make(chan struct{}), 2
	var release sync.Once
	t.Cleanup(func() { release.Do(func() { close(proxy.releaseBind) }) })
	cfg := testConfig(srv)
	cfg.Addr = proxy.Addr()
	cfg.Rate, cfg.Session.Window = 1, 4
	cfg.GiveUpAfter = 20 * time.Second
	c, end, done := hoursRun(t, cfg, testRows(t, 20, "evening %d"))
	for i := 0; srv.Stats().Accepted < 2 && i < 1000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the response is back; the next token is about 0.95 s away
	proxy.mu.Lock()
	for _, cn := range proxy.conns {
		cn.Close() // the SMSC drops the session while rows wait for tokens
	}
	proxy.mu.Unlock()
	select {
	case <-proxy.bindSeen: // the rebind is held
	case <-time.After(10 * time.Second):
		t.Fatal("no rebind")
	}
	time.Sleep(1500 * time.Millisecond) // a token came due meanwhile: its row found the session dead
	end()                               // the hours end while no bind is up
	atEnd := srv.Stats().Submits
	release.Do(func() { close(proxy.releaseBind) }) // the bind comes back after the end
	stacks.Await(t, awaitHoursFn, cfg.Session.Window, 20*time.Second)
	stopCountingLate(t, c, done, srv.Stats().Submits-atEnd, 0)
}

// A response that matches no request with an error status (the SMSC could not read a PDU)
// is warned about once per session; a repeated success is not worth a warning.
func TestCampaign_strayWarning(t *testing.T) {
	var log eventLog
	cfg := Config{Addr: "127.0.0.1:1", Book: report.NewBook(report.Options{}), OnEvent: log.add}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stray := c.strayWarner(2)
	stray(smpp.Header{ID: smpp.SubmitSMRespID, Status: smpp.StatusOK, Sequence: 7})
	stray(smpp.Header{ID: smpp.GenericNackID, Status: smpp.StatusInvCmdLen})
	stray(smpp.Header{ID: smpp.GenericNackID, Status: smpp.StatusInvCmdLen})
	if n := log.count(EventWarning); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
	log.mu.Lock()
	msg := log.events[0].Err.Error()
	log.mu.Unlock()
	if !strings.Contains(msg, "bind 2") || !strings.Contains(msg, "ESME_RINVCMDLEN") || !strings.Contains(msg, "generic_nack") {
		t.Errorf("warning %q: want the bind, the command and the status", msg)
	}

	// A deliver_sm refused because it could not be read: warned about once per session too.
	unreadable := c.unreadableWarner(3)
	for range 2 {
		unreadable(smpp.Header{ID: smpp.DeliverSMID, Sequence: 9}, errors.New("source_addr: longer than 20 characters"))
	}
	if n := log.count(EventWarning); n != 2 {
		t.Fatalf("%d warnings, want 2", n)
	}
	log.mu.Lock()
	msg = log.events[1].Err.Error()
	log.mu.Unlock()
	if !strings.Contains(msg, "bind 3") || !strings.Contains(msg, "deliver_sm") || !strings.Contains(msg, "source_addr") || !strings.Contains(msg, "receipt") {
		t.Errorf("warning %q: want the bind, the command, the problem and what it may cost", msg)
	}
}

// Rows the SMSC keeps throttling past the validity end then, as not_sent for the validity:
// they are not retried after it (each would only expire at the SMSC), nor given up on with
// "--resume sends it again" (a resume would only end them again).
func TestCampaign_throttledPastTheValidity(t *testing.T) {
	srv := newSim(t, smsc.Config{ThrottleTPS: 2})
	cfg := testConfig(srv)
	cfg.Validity = TimeSpec{At: time.Now().Add(500 * time.Millisecond)}
	res, err := run(t, cfg, testRows(t, 10, "throttled %d"))
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for n, r := range bookRows(cfg.Book) {
		switch {
		case r.SubmitStatus == report.SubmitAccepted:
			accepted++
		case r.SubmitStatus != report.SubmitNotSent || !strings.Contains(r.SubmitError, "validity (--validity) ended") || strings.Contains(r.SubmitError, "--resume"):
			t.Errorf("row %d: %s %q, want accepted, or not_sent for the validity", n, r.SubmitStatus, r.SubmitError)
		}
	}
	// The simulator takes 2 a second: within the validity's half second (two of its seconds
	// at most) and from the tries in flight when it ended, 6 at most. Retried past the
	// validity, all 10 got through within --give-up-after.
	if accepted > 6 || res.Expired != 10-accepted || res.Failed != 0 {
		t.Errorf("%d accepted, %d expired, %d failed; want at most 6 accepted, the others expired and none failed", accepted, res.Expired, res.Failed)
	}
	if got := srv.Stats().Accepted; got != accepted {
		t.Errorf("the simulator accepted %d, the report has %d", got, accepted)
	}
}

// The validity ends while the rows wait out a pause of the sending hours, the hours still
// closed: every row waiting ends then, and the run with it. Rows waiting for a token when the
// hours ended went round taking tokens and coming back to the closed hours without end.
func TestCampaign_validityEndsWhileRowsWaitForClosedHours(t *testing.T) {
	srv := newSim(t, smsc.Config{})
	cfg := testConfig(srv)
	cfg.Rate, cfg.Session.Window = 10, 5
	cfg.Validity = TimeSpec{At: time.Now().Add(1500 * time.Millisecond)}
	_, end, done := hoursRun(t, cfg, testRows(t, 40, "late evening %d"))
	for i := 0; srv.Stats().Accepted < 3 && i < 1000; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	end() // the hours close, with the rows behind these waiting for tokens
	select {
	case res := <-done:
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		accepted := srv.Stats().Accepted
		if res.Expired != 40-accepted || res.Accepted != accepted {
			t.Errorf("%d accepted, %d expired; want the other %d expired", res.Accepted, res.Expired, 40-accepted)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run goes on 20 s after the validity ended with the hours closed")
	}
}

// sentJournal says part p of every row went out at sentAt(p).
type sentJournal struct {
	fakeJournal
	sentAt func(part int) time.Time
}

func (j *sentJournal) AttemptSent(row, part int, at time.Time) (time.Time, error) {
	if _, err := j.fakeJournal.AttemptSent(row, part, at); err != nil {
		return time.Time{}, err
	}
	return j.sentAt(part), nil
}

// judgedAgainst sends one row with text through a journal that says part p went out at
// sentAt(p), and checks that a receipt for the id of the row's part last came before sent
// matches nothing and one after it matches.
func judgedAgainst(t *testing.T, text string, sentAt func(part int) time.Time, sent time.Time) {
	t.Helper()
	srv := newSim(t, smsc.Config{ReceiptDelay: time.Hour})
	cfg := testConfig(srv)
	cfg.Journal = &sentJournal{sentAt: sentAt}
	rows := testRows(t, 1, text)
	if _, err := run(t, cfg, rows); err != nil {
		t.Fatal(err)
	}
	r := bookRows(cfg.Book)[1]
	if len(r.IDs) != len(rows[0].Message.Parts) {
		t.Fatalf("row 1: ids %v, want one for each of its %d parts", r.IDs, len(rows[0].Message.Parts))
	}
	receipt := smpp.Receipt{ID: r.IDs[len(r.IDs)-1].ID, Stat: "DELIVRD", State: smpp.StateDelivered}
	if cfg.Book.Receipt(receipt, sent.Add(-30*time.Minute)) {
		t.Error("a receipt from before the part went out matched its id")
	}
	if !cfg.Book.Receipt(receipt, sent.Add(30*time.Minute)) {
		t.Error("a receipt from after the part went out did not match its id")
	}
}

// The Book takes a row's send time from the journal's attempt record, as a rebuilt report will
// read it: a receipt from before that instant is not about the row, live or rebuilt. (The
// Book took its own time, before the journal's, which may wait for the disk.)
func TestCampaign_sendTimeIsTheJournals(t *testing.T) {
	sent := time.Now().Add(time.Hour)
	judgedAgainst(t, "sent", func(int) time.Time { return sent }, sent)
}

// An id is judged against when its own part went out, not the row's first part: a receipt
// from between the two sends is not about part 2's id (which the SMSC may have given before).
func TestCampaign_partSendTimeJudgesItsID(t *testing.T) {
	base := time.Now().Add(time.Hour)
	judgedAgainst(t, strings.Repeat("Two parts. ", 18)+"%d",
		func(part int) time.Time { return base.Add(time.Duration(part) * time.Hour) }, base.Add(time.Hour))
}
