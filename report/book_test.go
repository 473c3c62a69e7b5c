package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"smscast/smpp"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// at returns t0 plus ms milliseconds.
func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// rcpt builds a receipt for id in state s.
func rcpt(id string, s smpp.MessageState) smpp.Receipt {
	return smpp.Receipt{ID: id, Stat: s.Stat(), State: s}
}

// onePartBook is a Book of rows 1..n, one-part messages to be sent.
func onePartBook(n int) *Book {
	b := NewBook(Options{})
	for row := 1; row <= n; row++ {
		b.Add(Entry{Row: row, MSISDN: fmt.Sprint(row), Parts: 1})
	}
	return b
}

// mustRow returns row n of b or fails the test.
func mustRow(t *testing.T, b *Book, n int) Row {
	t.Helper()
	r, ok := b.Row(n)
	if !ok {
		t.Fatalf("row %d not in the book", n)
	}
	return r
}

// addSent adds rows 1..n, each to be sent in one part, planned at t0.
func addSent(b *Book, n int) {
	for i := 1; i <= n; i++ {
		b.Add(Entry{Row: i, MSISDN: fmt.Sprint(491710000000 + i), Template: "t", Encoding: "gsm7", Parts: 1})
		b.Planned(i, t0)
	}
}

func TestBook_ReceiptIDMatching(t *testing.T) {
	tests := []struct {
		name     string
		format   smpp.IDFormat
		sent, rx string // id in submit_sm_resp, id in the receipt
		want     bool
	}{
		{"same id", smpp.IDAuto, "5f1e0b7a", "5f1e0b7a", true},
		{"case differs", smpp.IDAuto, "3f3a6fac-1b2c", "3F3A6FAC-1B2C", true},
		{"case differs exact", smpp.IDExact, "3f3a6fac-1b2c", "3F3A6FAC-1B2C", false},
		{"hex resp, decimal receipt", smpp.IDAuto, "1A2B", "6699", true},
		{"decimal resp, hex receipt", smpp.IDAuto, "6699", "1a2b", true},
		{"hex without letters, hex format", smpp.IDHex, "1234", "4660", true},
		{"hex never read with dec", smpp.IDDec, "1A2B", "6699", false},
		{"leading zeros", smpp.IDAuto, "0000029095", "29095", true},
		{"leading zeros dec", smpp.IDDec, "29095", "0000029095", true},
		{"leading zeros exact", smpp.IDExact, "0000029095", "29095", false},
		{"hex zero padded", smpp.IDAuto, "00a1", "A1", true},
		{"32-hex id, case", smpp.IDAuto, "a29f6845555647139e5c8f3b817f2c9a", "A29F6845555647139E5C8F3B817F2C9A", true},
		{"different id", smpp.IDAuto, "123", "124", false},
		{"empty receipt id", smpp.IDAuto, "123", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBook(Options{IDFormat: tt.format})
			addSent(b, 1)
			b.Accepted(1, 0, tt.sent, at(10))
			got := b.Receipt(rcpt(tt.rx, smpp.StateDelivered), at(500))
			if got != tt.want {
				t.Fatalf("Receipt(%q) after Accepted(%q) = %v, want %v", tt.rx, tt.sent, got, tt.want)
			}
			if same := smpp.SameMessageID(tt.sent, tt.rx, tt.format); same != tt.want {
				t.Errorf("smpp.SameMessageID = %v disagrees with the table", same)
			}
			r := mustRow(t, b, 1)
			wantStatus, wantUnmatched := "DELIVRD", 0
			if !tt.want {
				wantStatus, wantUnmatched = ReceiptPending, 1
			}
			if r.ReceiptStatus != wantStatus || len(b.Unmatched()) != wantUnmatched {
				t.Errorf("receipt status %q, %d unmatched; want %q, %d", r.ReceiptStatus, len(b.Unmatched()), wantStatus, wantUnmatched)
			}
			if ids := r.MessageIDs(); !slices.Equal(ids, []string{tt.sent}) {
				t.Errorf("stored ids %q, want exactly %q as sent", ids, tt.sent)
			}
		})
	}
}

// An all-digit id read as hex is trusted only once the SMSC has shown it uses hex ids: with
// decimal ids, a receipt that overtakes its own response would otherwise land on the row
// whose id, read as hex, has its value.
func TestBook_CrossBaseNeedsHexEvidence(t *testing.T) {
	t.Run("decimal SMSC: receipt waits for its own id", func(t *testing.T) {
		b := NewBook(Options{})
		addSent(b, 2)
		b.Accepted(1, 0, "100", at(10))
		if b.Receipt(rcpt("256", smpp.StateDelivered), at(20)) {
			t.Fatal(`receipt "256" matched "100" read as hex although no hex id was seen`)
		}
		b.Accepted(2, 0, "256", at(30))
		if got := mustRow(t, b, 2).ReceiptStatus; got != "DELIVRD" {
			t.Errorf("row 2 receipt %q, want DELIVRD once its own id is accepted", got)
		}
		if got := mustRow(t, b, 1).ReceiptStatus; got != ReceiptPending {
			t.Errorf("row 1 receipt %q, want %s", got, ReceiptPending)
		}
	})
	t.Run("hex SMSC: digits-only hex id matches its decimal receipt", func(t *testing.T) {
		b := NewBook(Options{})
		addSent(b, 2)
		b.Accepted(1, 0, "1234", at(10))
		if b.Receipt(rcpt("4660", smpp.StateDelivered), at(20)) {
			t.Fatal("matched before any hex id was seen")
		}
		b.Accepted(2, 0, "5f1e0b7a", at(30)) // evidence: this SMSC writes hex ids
		if got := mustRow(t, b, 1).ReceiptStatus; got != "DELIVRD" {
			t.Errorf("row 1 receipt %q, want DELIVRD after hex ids were seen (held receipt retried)", got)
		}
		if !b.Receipt(rcpt("1595804538", smpp.StateDelivered), at(40)) {
			t.Error("decimal receipt for hex id 5f1e0b7a did not match")
		}
	})
}

func TestBook_AmbiguousIDs(t *testing.T) {
	type sent struct {
		row, part int
		id        string
	}
	tests := []struct {
		name    string
		format  smpp.IDFormat
		sent    []sent
		rx      string
		wantRow int    // 0 = no match
		reason  string // part of the unmatched reason
	}{
		{"exact beats zero padding", smpp.IDAuto, []sent{{1, 0, "0012"}, {2, 0, "12"}}, "12", 2, ""},
		{"exact beats zero padding, other row", smpp.IDAuto, []sent{{1, 0, "0012"}, {2, 0, "12"}}, "0012", 1, ""},
		{"only the number fits, two rows", smpp.IDAuto, []sent{{1, 0, "0012"}, {2, 0, "12"}}, "012", 0, "ambiguous: the id fits messages of rows 1, 2"},
		{"exact beats hex value", smpp.IDAuto, []sent{{1, 0, "26"}, {2, 0, "1A"}}, "26", 1, ""},
		{"case-folded beats hex value", smpp.IDAuto, []sent{{1, 0, "26"}, {2, 0, "1A"}}, "1a", 2, ""},
		{"only the value fits, dec and hex rows", smpp.IDAuto, []sent{{1, 0, "26"}, {2, 0, "1A"}}, "001A", 0, "ambiguous"},
		{"id reused by the SMSC", smpp.IDAuto, []sent{{1, 0, "77"}, {2, 0, "77"}}, "77", 0, "rows 1, 2"},
		{"two parts of one row", smpp.IDAuto, []sent{{1, 0, "0012"}, {1, 1, "12"}}, "012", 0, "several parts of row 1"},
		{"one part resent: still one part", smpp.IDAuto, []sent{{1, 0, "0a1"}, {1, 0, "A1"}}, "00A1", 1, ""},
		{"exact format: no loose key", smpp.IDExact, []sent{{1, 0, "0012"}, {2, 0, "12"}}, "012", 0, reasonUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBook(Options{IDFormat: tt.format})
			for i := 1; i <= 2; i++ {
				b.Add(Entry{Row: i, MSISDN: fmt.Sprint(i), Parts: 2})
			}
			for _, s := range tt.sent {
				b.Accepted(s.row, s.part, s.id, at(10))
			}
			matched := b.Receipt(rcpt(tt.rx, smpp.StateUndeliverable), at(20))
			if matched != (tt.wantRow != 0) {
				t.Fatalf("Receipt(%q) matched = %v, want row %d", tt.rx, matched, tt.wantRow)
			}
			var got []int // rows with an id that took the receipt
			for i := range b.ids.len() {
				if rec := b.ids.at(i); rec.state != 0 {
					got = append(got, int(b.rows.at(int(rec.row)).row))
				}
			}
			if want := []int{tt.wantRow}; tt.wantRow != 0 && !slices.Equal(got, want) || tt.wantRow == 0 && got != nil {
				t.Errorf("receipt applied to rows %v, want row %d", got, tt.wantRow)
			}
			if tt.wantRow == 0 {
				u := b.Unmatched()
				if len(u) != 1 || !strings.Contains(u[0].Reason, tt.reason) {
					t.Fatalf("unmatched = %+v, want one with reason containing %q", u, tt.reason)
				}
			}
		})
	}
}

// TestBook_AmbiguousResolvedLater checks that a held ambiguous receipt is matched once an id
// that fits it more specifically is accepted.
func TestBook_AmbiguousResolvedLater(t *testing.T) {
	b := NewBook(Options{})
	addSent(b, 3)
	b.Accepted(1, 0, "0012", at(1))
	b.Accepted(2, 0, "12", at(2))
	if b.Receipt(rcpt("012", smpp.StateDelivered), at(3)) {
		t.Fatal("ambiguous receipt matched")
	}
	b.Accepted(3, 0, "012", at(4))
	if u := b.Unmatched(); len(u) != 0 {
		t.Fatalf("still unmatched: %+v", u)
	}
	for n, want := range map[int]string{1: ReceiptPending, 2: ReceiptPending, 3: "DELIVRD"} {
		if got := mustRow(t, b, n).ReceiptStatus; got != want {
			t.Errorf("row %d receipt %q, want %q", n, got, want)
		}
	}
}

func TestBook_MultipartAggregation(t *testing.T) {
	type rx struct {
		part  int
		state smpp.MessageState
	}
	const (
		D = smpp.StateDelivered
		U = smpp.StateUndeliverable
		E = smpp.StateExpired
		R = smpp.StateRejected
		N = smpp.StateEnroute
		A = smpp.StateAccepted
	)
	tests := []struct {
		name     string
		mode     PartReceipts
		receipts []rx
		want     string
		doneIdx  int // index in receipts of the receipt whose time is done_at; -1 = none
	}{
		{"all: every part delivered", PartsAll, []rx{{0, D}, {2, D}, {1, D}}, "DELIVRD", 2},
		{"all: one undelivered", PartsAll, []rx{{0, D}, {1, U}, {2, D}}, "UNDELIV", 2},
		{"all: worst state wins", PartsAll, []rx{{0, E}, {1, U}, {2, D}}, "UNDELIV", 2},
		{"all: rejected is worst", PartsAll, []rx{{0, R}, {1, U}, {2, E}}, "REJECTD", 2},
		{"all: a part missing", PartsAll, []rx{{0, D}, {1, D}}, ReceiptPending, -1},
		{"all: a failed part still waits for the rest", PartsAll, []rx{{0, U}}, ReceiptPending, -1},
		{"all: intermediate only", PartsAll, []rx{{0, N}, {1, A}, {2, N}}, ReceiptPending, -1},
		{"all: intermediate then final", PartsAll, []rx{{0, N}, {1, D}, {2, A}, {0, D}, {2, D}}, "DELIVRD", 4},
		{"any: first final decides", PartsAny, []rx{{0, N}, {1, U}, {2, D}}, "UNDELIV", 1},
		{"any: last part first", PartsAny, []rx{{2, D}, {0, U}}, "DELIVRD", 0},
		{"any: intermediate only", PartsAny, []rx{{0, A}}, ReceiptPending, -1},
		{"last: only the last part counts", PartsLast, []rx{{0, U}, {2, D}}, "DELIVRD", 1},
		{"last: other parts ignored", PartsLast, []rx{{0, D}, {1, D}}, ReceiptPending, -1},
		{"last: expired", PartsLast, []rx{{2, E}}, "EXPIRED", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBook(Options{PartReceipts: tt.mode})
			b.Add(Entry{Row: 1, MSISDN: "491711234567", Parts: 3})
			b.Planned(1, t0)
			for p := range 3 {
				b.Accepted(1, p, fmt.Sprintf("id-%d", p), at(10+p))
			}
			for i, x := range tt.receipts {
				if !b.Receipt(rcpt(fmt.Sprintf("id-%d", x.part), x.state), at(1000*(i+1))) {
					t.Fatalf("receipt %d not matched", i)
				}
			}
			r := mustRow(t, b, 1)
			if r.ReceiptStatus != tt.want {
				t.Errorf("receipt status %q, want %q", r.ReceiptStatus, tt.want)
			}
			var wantDone time.Time
			if tt.doneIdx >= 0 {
				wantDone = at(1000 * (tt.doneIdx + 1))
			}
			if !r.DoneAt.Equal(wantDone) {
				t.Errorf("done at %v, want %v", r.DoneAt, wantDone)
			}
			wantPending := 0
			if tt.want == ReceiptPending {
				wantPending = 1
			}
			if got := b.Pending(); got != wantPending {
				t.Errorf("Pending() = %d, want %d", got, wantPending)
			}
		})
	}
}

func TestPartReceipts_WantsReceipt(t *testing.T) {
	for _, tt := range []struct {
		mode        PartReceipts
		part, parts int
		want        bool
	}{
		{PartsAll, 0, 3, true}, {PartsAny, 1, 3, true}, {PartsLast, 0, 3, false},
		{PartsLast, 2, 3, true}, {PartsLast, 0, 1, true},
	} {
		if got := tt.mode.WantsReceipt(tt.part, tt.parts); got != tt.want {
			t.Errorf("%v.WantsReceipt(%d, %d) = %v, want %v", tt.mode, tt.part, tt.parts, got, tt.want)
		}
	}
}

func TestBook_ReceiptBeforeResponse(t *testing.T) {
	b := NewBook(Options{})
	addSent(b, 2)
	// The SMSC's receipts overtake the submit_sm_resp: ENROUTE, then DELIVRD, for row 1; the
	// id differs in case as well.
	if b.Receipt(rcpt("ABC1", smpp.StateEnroute), at(5)) || b.Receipt(rcpt("ABC1", smpp.StateDelivered), at(6)) {
		t.Fatal("receipt matched before its id was known")
	}
	if n := len(b.Unmatched()); n != 2 {
		t.Fatalf("%d receipts held, want 2", n)
	}
	b.Accepted(2, 0, "ffff", at(7)) // unrelated id: the held receipts stay held
	if n := len(b.Unmatched()); n != 2 {
		t.Fatalf("%d receipts held after an unrelated id, want 2", n)
	}
	b.Accepted(1, 0, "abc1", at(8))
	if u := b.Unmatched(); len(u) != 0 {
		t.Fatalf("still unmatched after the response: %+v", u)
	}
	r := mustRow(t, b, 1)
	if r.ReceiptStatus != "DELIVRD" || !r.DoneAt.Equal(at(6)) || r.SubmitStatus != SubmitAccepted {
		t.Errorf("row 1 = %s/%s done %v, want accepted/DELIVRD done %v", r.SubmitStatus, r.ReceiptStatus, r.DoneAt, at(6))
	}
	if got := b.Pending(); got != 1 {
		t.Errorf("Pending() = %d, want 1 (row 2)", got)
	}
}

// The first final state by arrival wins, in whatever order the receipts are applied: a
// rebuild applies the journal's once every row is read, after receipts of the live run.
func TestBook_DuplicateReceipts(t *testing.T) {
	steps := []struct {
		r    smpp.Receipt
		when time.Time
	}{
		{rcpt("42", smpp.StateEnroute), at(100)},
		{rcpt("42", smpp.StateDelivered), at(200)},
		{rcpt("42", smpp.StateDelivered), at(300)},       // resent by the SMSC
		{rcpt("0042", smpp.StateUndeliverable), at(400)}, // contradicting, after final
		{rcpt("42", smpp.StateEnroute), at(500)},         // late intermediate
	}
	// Every order of the five: Heap's algorithm over the indexes.
	order := []int{0, 1, 2, 3, 4}
	var orders [][]int
	var permute func(k int)
	permute = func(k int) {
		if k == 1 {
			orders = append(orders, slices.Clone(order))
			return
		}
		for i := range k {
			permute(k - 1)
			if k%2 == 0 {
				order[i], order[k-1] = order[k-1], order[i]
			} else {
				order[0], order[k-1] = order[k-1], order[0]
			}
		}
	}
	permute(len(order))
	if len(orders) != 120 {
		t.Fatalf("%d orders, want 120", len(orders))
	}
	for _, o := range orders {
		b := NewBook(Options{})
		addSent(b, 1)
		b.Accepted(1, 0, "42", at(10))
		for _, i := range o {
			if !b.Receipt(steps[i].r, steps[i].when) {
				t.Fatalf("order %v, step %d: receipt not matched", o, i)
			}
		}
		r := mustRow(t, b, 1)
		if r.ReceiptStatus != "DELIVRD" || !r.DoneAt.Equal(at(200)) {
			t.Errorf("order %v: row = %s done %v, want DELIVRD done %v", o, r.ReceiptStatus, r.DoneAt, at(200))
		}
		s := b.Summary(t0, at(1000))
		if s.Receipts["DELIVRD"] != 1 || s.Receipts["UNDELIV"] != 0 || s.Receipts[ReceiptPending] != 0 || b.Pending() != 0 {
			t.Errorf("order %v: receipt counts %v, pending %d; want 1 DELIVRD only", o, s.Receipts, b.Pending())
		}
	}
}

func TestBook_SubmitStatuses(t *testing.T) {
	b := NewBook(Options{})
	b.Add(Entry{Row: 1, MSISDN: "1", Parts: 1})
	b.Add(Entry{Row: 2, MSISDN: "2", Parts: 1})
	b.Add(Entry{Row: 3, MSISDN: "3", Parts: 2})
	b.Add(Entry{Row: 4, MSISDN: "4", Parts: 1})
	b.Add(Entry{Row: 5, MSISDN: "5", Parts: 1})
	b.Add(Entry{Row: 6, MSISDN: "x", Status: SubmitInvalid, Reason: "not a phone number"})
	b.Add(Entry{Row: 7, MSISDN: "7", Parts: 1})

	b.Rejected(2, "0x0000000B ESME_RINVDSTADR", at(20))
	b.Accepted(3, 0, "p0", at(30))
	if got := mustRow(t, b, 3).SubmitStatus; got != SubmitNotSent {
		t.Errorf("half-accepted row 3 is %q, want %q until every part is accepted", got, SubmitNotSent)
	}
	b.Rejected(3, "0x00000045 ESME_RSUBMITFAIL", at(31))
	b.Accepted(4, 0, "first", at(40))
	b.Resubmitted(4)
	b.Accepted(4, 0, "second", at(41)) // the late response of the first send, then the resend's
	b.Accepted(4, 0, "second", at(42)) // replayed: changes nothing
	b.Resubmitted(5)
	b.Accepted(5, 0, "r5", at(50))
	b.SetStatus(7, SubmitUncertain, "in flight when the run stopped")

	tests := []struct {
		row     int
		status  SubmitStatus
		err     string
		ids     []string
		receipt string
	}{
		{1, SubmitNotSent, "", nil, ""},
		{2, SubmitRejected, "0x0000000B ESME_RINVDSTADR", nil, ""},
		{3, SubmitRejected, "0x00000045 ESME_RSUBMITFAIL", []string{"p0"}, ReceiptPending}, // its accepted part's receipt is awaited
		{4, SubmitResubmitted, "", []string{"first", "second"}, ReceiptPending},
		{5, SubmitResubmitted, "", []string{"r5"}, ReceiptPending},
		{6, SubmitInvalid, "not a phone number", nil, ""},
		{7, SubmitUncertain, "in flight when the run stopped", nil, ""},
	}
	for _, tt := range tests {
		r := mustRow(t, b, tt.row)
		if r.SubmitStatus != tt.status || r.SubmitError != tt.err || !slices.Equal(r.MessageIDs(), tt.ids) || r.ReceiptStatus != tt.receipt {
			t.Errorf("row %d = %s %q %q %q, want %s %q %q %q", tt.row, r.SubmitStatus, r.SubmitError, r.MessageIDs(), r.ReceiptStatus,
				tt.status, tt.err, tt.ids, tt.receipt)
		}
	}
	if got := b.Pending(); got != 3 {
		t.Errorf("Pending() = %d, want 3 (rows 3, 4 and 5)", got)
	}
	// A receipt for the part of row 3 that was accepted still shows: the customer may get it.
	b.Receipt(rcpt("p0", smpp.StateDelivered), at(60))
	// Either copy of row 4 delivered: the row is delivered.
	b.Receipt(rcpt("first", smpp.StateUndeliverable), at(61))
	b.Receipt(rcpt("second", smpp.StateDelivered), at(62))
	if r := mustRow(t, b, 3); r.ReceiptStatus != "DELIVRD" {
		t.Errorf("row 3 receipt %q, want DELIVRD", r.ReceiptStatus)
	}
	if r := mustRow(t, b, 4); r.ReceiptStatus != "DELIVRD" || !r.DoneAt.Equal(at(62)) {
		t.Errorf("row 4 receipt %q done %v, want DELIVRD at %v", r.ReceiptStatus, r.DoneAt, at(62))
	}
	if got := b.Pending(); got != 1 {
		t.Errorf("Pending() = %d, want 1", got)
	}
}

// A response that comes after its row ended uncertain (its try timed out and was not sent
// again) accepts the row, which then waits for its receipt: Pending counted it once too few
// (it went negative with the receipt), which ended --wait early.
func TestBook_LateAcceptanceOfAnUncertainRow(t *testing.T) {
	b := onePartBook(2)
	b.Accepted(1, 0, "a1", at(10))
	b.SetStatus(2, SubmitUncertain, "outcome unknown after 1 try: the response timed out")
	if got := b.Pending(); got != 1 {
		t.Fatalf("Pending() = %d before the late response, want 1 (row 1)", got)
	}
	b.Accepted(2, 0, "a2", at(20))
	if r := mustRow(t, b, 2); r.SubmitStatus != SubmitAccepted || r.SubmitError != "" || r.ReceiptStatus != ReceiptPending {
		t.Errorf("row 2 after its late response = %s %q %q, want accepted, no error, PENDING", r.SubmitStatus, r.SubmitError, r.ReceiptStatus)
	}
	if got := b.Pending(); got != 2 {
		t.Errorf("Pending() = %d after the late response, want 2", got)
	}
	b.Receipt(rcpt("a2", smpp.StateDelivered), at(30))
	if got, sum := b.Pending(), b.Summary(t0, at(40)).Receipts[ReceiptPending]; got != 1 || sum != 1 {
		t.Errorf("Pending() = %d, summary %d after row 2's receipt, want 1 (row 1)", got, sum)
	}
}

// A receipt that came before a message was sent cannot be about it, whatever its id: an SMSC
// that restarts or wraps its counter gives the same ids again, and a stale receipt (or one of
// another campaign, from the spool) once marked new messages DELIVRD or UNDELIV.
func TestBook_ReceiptBeforeTheMessageWasSent(t *testing.T) {
	b := onePartBook(4)
	// Row 1 is sent at 100 ms; a receipt with its id came at 50 ms, another at 120 ms.
	b.Planned(1, at(100))
	b.Accepted(1, 0, "7", at(110))
	if b.Matches(rcpt("7", smpp.StateUndeliverable), at(50)) {
		t.Error("Matches: a receipt from before the message was sent matches it")
	}
	if b.Receipt(rcpt("7", smpp.StateUndeliverable), at(50)) {
		t.Error("a receipt from before the message was sent was applied to it")
	}
	if !b.Receipt(rcpt("7", smpp.StateDelivered), at(120)) {
		t.Error("the message's own receipt did not match")
	}
	// Row 2's id comes after a stale receipt with that id was held; row 3's receipt overtakes
	// its submit_sm_resp (it comes after the submit, before the response).
	b.Receipt(rcpt("9", smpp.StateUndeliverable), at(10))
	b.Planned(2, at(20))
	b.Accepted(2, 0, "9", at(30))
	b.Planned(3, at(40))
	b.Receipt(rcpt("11", smpp.StateDelivered), at(45))
	b.Accepted(3, 0, "11", at(50))
	// Row 4 was planned at 60 ms but went out at 90 ms (the window was full): a receipt with
	// its id that came at 70 ms is not about it.
	b.Planned(4, at(60))
	b.Sent(4, at(90))
	b.Receipt(rcpt("13", smpp.StateUndeliverable), at(70))
	b.Accepted(4, 0, "13", at(95))
	want := map[int]string{1: "DELIVRD", 2: ReceiptPending, 3: "DELIVRD", 4: ReceiptPending}
	for row, status := range want {
		if r := mustRow(t, b, row); r.ReceiptStatus != status {
			t.Errorf("row %d: receipt status %q, want %q", row, r.ReceiptStatus, status)
		}
	}
	um := b.Unmatched()
	if len(um) != 3 {
		t.Fatalf("%d unmatched receipts, want the three stale ones: %+v", len(um), um)
	}
	for _, u := range um {
		if u.Reason != reasonBefore {
			t.Errorf("unmatched %q: reason %q, want %q", u.Receipt.ID, u.Reason, reasonBefore)
		}
	}
}

// A resend in a later run goes out after that run started, however early its row was first
// sent: a receipt that came between the runs is not about it. Row 2 went out at 20 ms with
// no answer, and was sent again in the run of 100 ms, where it got the id row 1 had.
func TestBook_ReceiptBeforeTheRunThatSentTheID(t *testing.T) {
	b := onePartBook(2)
	b.RunStarted(at(0))
	b.RunStarted(at(100))
	b.Sent(1, at(10))
	b.Accepted(1, 0, "7", at(15))
	b.Sent(2, at(20))
	b.Accepted(2, 0, "7", at(110))
	b.Receipt(rcpt("7", smpp.StateDelivered), at(50))      // between the runs: row 1's
	b.Receipt(rcpt("7", smpp.StateUndeliverable), at(120)) // after both sends: either
	if r := mustRow(t, b, 1); r.ReceiptStatus != "DELIVRD" {
		t.Errorf("row 1: receipt status %q, want DELIVRD", r.ReceiptStatus)
	}
	if r := mustRow(t, b, 2); r.ReceiptStatus != ReceiptPending {
		t.Errorf("row 2: receipt status %q, want %s", r.ReceiptStatus, ReceiptPending)
	}
	if um := b.Unmatched(); len(um) != 1 || !strings.HasPrefix(um[0].Reason, "ambiguous") {
		t.Errorf("unmatched %+v, want the later receipt, ambiguous", um)
	}
}

// A receipt that may be about an id a resumption has yet to replay (Expect) waits for it, so
// that it meets every message with its id; one that fits no expected id matches at once, and
// ExpectNoMore releases the rest (the expected rows never came).
func TestBook_ReceiptWaitsForExpectedIDs(t *testing.T) {
	b := NewBook(Options{})
	b.Expect("a") // row 4's
	b.Expect("a")
	b.Expect("9") // a row the input never has
	b.Add(Entry{Row: 1, MSISDN: "1", Parts: 1})
	b.Sent(1, at(10))
	b.Accepted(1, 0, "a", at(11)) // the SMSC gave row 4's id again
	b.Add(Entry{Row: 2, MSISDN: "2", Parts: 1})
	b.Sent(2, at(12))
	b.Accepted(2, 0, "b", at(13))
	b.Add(Entry{Row: 3, MSISDN: "3", Parts: 1})
	b.Sent(3, at(14))
	b.Accepted(3, 0, "9", at(15))

	if b.Receipt(rcpt("a", smpp.StateUndeliverable), at(20)) || !b.Matches(rcpt("a", smpp.StateUndeliverable), at(20)) {
		t.Fatal("a receipt for an expected id matched at once, or does not count as the campaign's")
	}
	if !b.Receipt(rcpt("b", smpp.StateDelivered), at(21)) {
		t.Error("a receipt that fits no expected id waited")
	}
	if b.Receipt(rcpt("9", smpp.StateDelivered), at(22)) {
		t.Error("a receipt for an id expected of a row not read yet matched")
	}
	b.Add(Entry{Row: 4, MSISDN: "4", Parts: 1})
	b.Sent(4, at(5))
	b.Accepted(4, 0, "a", at(6))
	b.Arrived("a")
	if r := mustRow(t, b, 1); r.ReceiptStatus != ReceiptPending {
		t.Errorf("row 1: receipt %q with one of two expected copies in, want PENDING", r.ReceiptStatus)
	}
	b.Arrived("a") // the second copy (a part accepted twice, say) was expected too
	for row, want := range map[int]string{1: ReceiptPending, 2: "DELIVRD", 3: ReceiptPending, 4: ReceiptPending} {
		if r := mustRow(t, b, row); r.ReceiptStatus != want {
			t.Errorf("row %d: receipt %q, want %s", row, r.ReceiptStatus, want)
		}
	}
	b.ExpectNoMore()
	if r := mustRow(t, b, 3); r.ReceiptStatus != "DELIVRD" {
		t.Errorf("row 3 after ExpectNoMore: receipt %q, want DELIVRD", r.ReceiptStatus)
	}
	um := b.Unmatched()
	if len(um) != 1 || um[0].Receipt.ID != "a" || !strings.HasPrefix(um[0].Reason, "ambiguous: the id fits messages of rows 1, 4") {
		t.Errorf("unmatched %+v, want the receipt a, ambiguous between rows 1 and 4", um)
	}
}

// A part that went out after its row's first part (a long message, or a part sent again)
// was not sent before its own first send: a receipt from before is not about its id, which
// the SMSC gave again after a restart.
func TestBook_ReceiptBeforeALaterPartWasSent(t *testing.T) {
	b := onePartBook(1)
	b.Add(Entry{Row: 2, MSISDN: "2", Parts: 2})
	b.Sent(1, at(10))
	b.Accepted(1, 0, "5", at(11))
	b.Sent(2, at(20))
	b.AcceptedSent(2, 0, "6", at(21), at(20))
	b.AcceptedSent(2, 1, "5", at(41), at(40)) // the id again, for part 2
	// Applied now, as a rebuild does: row 1's, since row 2's part 2 was not out yet.
	b.Receipt(rcpt("5", smpp.StateDelivered), at(30))
	b.Receipt(rcpt("5", smpp.StateUndeliverable), at(50))
	if r := mustRow(t, b, 1); r.ReceiptStatus != "DELIVRD" {
		t.Errorf("row 1: receipt %q, want DELIVRD (the receipt came before row 2's part 2 went out)", r.ReceiptStatus)
	}
	if um := b.Unmatched(); len(um) != 1 || um[0].Receipt.Stat != "UNDELIV" || !strings.HasPrefix(um[0].Reason, "ambiguous") {
		t.Errorf("unmatched %+v, want the later receipt, ambiguous", um)
	}
}

func TestBook_UnmatchedReceipts(t *testing.T) {
	b := NewBook(Options{})
	addSent(b, 1)
	b.Accepted(1, 0, "1", at(1))
	b.Receipt(rcpt("2", smpp.StateDelivered), at(2))
	b.Receipt(rcpt("", smpp.StateDelivered), at(3))
	u := b.Unmatched()
	if len(u) != 2 || u[0].Receipt.ID != "2" || u[0].Reason != reasonUnknown || u[1].Reason != reasonNoID || !u[1].ReceivedAt.Equal(at(3)) {
		t.Fatalf("unmatched = %+v", u)
	}
	if s := b.Summary(t0, at(10)); s.Unmatched != 2 {
		t.Errorf("summary counts %d unmatched, want 2", s.Unmatched)
	}
}

// A receipt the earlier run's file lists and the journal replays again is listed and counted
// once: each rebuild of the report (smscast receipts run after run) added it anew.
func TestBook_KeepUnmatchedListsAReplayedReceiptOnce(t *testing.T) {
	b := NewBook(Options{})
	addSent(b, 1)
	received := at(2).Add(400 * time.Microsecond) // the file keeps milliseconds
	r := rcpt("lost-1", smpp.StateDelivered)
	b.KeepUnmatched([]Unmatched{{Receipt: r, ReceivedAt: at(2), Reason: reasonUnknown}})
	b.Receipt(r, received)                                // the journal's copy of the same receipt
	b.Receipt(rcpt("lost-2", smpp.StateDelivered), at(3)) // a new one
	if u := b.Unmatched(); len(u) != 2 || u[0].Receipt.ID != "lost-1" || u[1].Receipt.ID != "lost-2" {
		t.Errorf("unmatched %+v, want lost-1 once, then lost-2", u)
	}
	if s := b.Summary(t0, at(10)); s.Unmatched != 2 {
		t.Errorf("summary counts %d unmatched, want 2", s.Unmatched)
	}
}

// An earlier run's unmatched line whose receipt a message now holds (a later run, reading ids
// as hex, matched the journal's copy) is left out; a line whose id matches a message that
// holds another receipt stays, and so do copies beyond those the file lists.
func TestBook_KeepUnmatchedLeavesOutWhatAMessageHolds(t *testing.T) {
	b := NewBook(Options{IDFormat: smpp.IDHex})
	addSent(b, 2)
	b.Accepted(1, 0, "1A", at(1))
	b.Accepted(2, 0, "1B", at(1))
	held := rcpt("26", smpp.StateDelivered)      // row 1's receipt, in decimal
	other := rcpt("27", smpp.StateUndeliverable) // row 2's id, but not the receipt row 2 holds
	twice := rcpt("lost", smpp.StateDelivered)
	b.KeepUnmatched([]Unmatched{
		{Receipt: held, ReceivedAt: at(2), Reason: reasonUnknown},
		{Receipt: other, ReceivedAt: at(3), Reason: reasonUnknown},
		{Receipt: twice, ReceivedAt: at(4), Reason: reasonUnknown},
	})
	b.Receipt(held, at(2).Add(300*time.Microsecond))  // the journal's copy: matches row 1
	b.Receipt(rcpt("27", smpp.StateDelivered), at(5)) // row 2's own receipt, another one
	b.Receipt(twice, at(4))                           // replayed: the file has it
	b.Receipt(twice, at(4))                           // a second copy the file does not
	if r := mustRow(t, b, 1); r.ReceiptStatus != "DELIVRD" {
		t.Fatalf("row 1: %q, want DELIVRD", r.ReceiptStatus)
	}
	var ids []string
	for _, u := range b.Unmatched() {
		ids = append(ids, u.Receipt.ID)
	}
	if want := []string{"27", "lost", "lost"}; !slices.Equal(ids, want) {
		t.Errorf("unmatched %v, want %v", ids, want)
	}
	if s := b.Summary(t0, at(10)); s.Unmatched != 3 {
		t.Errorf("summary counts %d unmatched, want 3", s.Unmatched)
	}
}

// The unmatched receipts an earlier run wrote survive a rewrite of the report by a later run
// (a resume, smscast receipts): read back, they come out byte for byte as they were, ahead of
// the new run's, and the summary counts them all.
func TestBook_KeepUnmatched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.csv")
	first := NewBook(Options{})
	addSent(first, 1)
	full := smpp.Receipt{ID: "dup-1", Stat: "DELIVRD", Err: "000", NetworkError: []byte{3, 0, 1}, Sub: "001", Dlvrd: "001",
		SubmitDate: time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC), DoneDate: time.Date(2025, 3, 14, 9, 31, 0, 0, time.UTC), Text: "Hallo \"x\""}
	first.Receipt(full, at(2))
	first.Receipt(rcpt("", smpp.StateDelivered), at(3))
	if err := first.WriteReport(path, FormatCSV, false); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(UnmatchedPath(path))
	if err != nil {
		t.Fatal(err)
	}

	kept, err := ReadUnmatched(UnmatchedPath(path))
	if err != nil || len(kept) != 2 {
		t.Fatalf("ReadUnmatched = %d receipts, %v; want 2", len(kept), err)
	}
	again := NewBook(Options{})
	addSent(again, 1)
	again.KeepUnmatched(kept)
	again.Receipt(rcpt("new-1", smpp.StateDelivered), at(5))
	if err := again.WriteReport(path, FormatCSV, true); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(UnmatchedPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, before) || bytes.Count(after, []byte("\n")) != 3 || !bytes.Contains(after[len(before):], []byte(`"new-1"`)) {
		t.Errorf("unmatched file after the rewrite:\n%s\nwant the earlier lines unchanged, then the new receipt:\n%s", after, before)
	}
	if s := again.Summary(t0, at(10)); s.Unmatched != 3 {
		t.Errorf("summary counts %d unmatched, want 3", s.Unmatched)
	}

	if list, err := ReadUnmatched(filepath.Join(dir, "missing")); list != nil || err != nil {
		t.Errorf("a missing file: %v, %v; want none", list, err)
	}
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, append(before, "{\"received_at\":\"yesterday\"}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadUnmatched(bad); err == nil || !strings.Contains(err.Error(), "receipt 3") {
		t.Errorf("a damaged line: %v, want an error naming receipt 3", err)
	}
}

func TestBook_AddAgainKeepsEvents(t *testing.T) {
	b := NewBook(Options{})
	addSent(b, 2)
	b.Accepted(1, 0, "a", at(1))
	b.Add(Entry{Row: 1, MSISDN: "491711234567", Template: "t2", Encoding: "ucs2", Parts: 1})
	r := mustRow(t, b, 1)
	if r.SubmitStatus != SubmitAccepted || r.Template != "t2" || !slices.Equal(r.MessageIDs(), []string{"a"}) {
		t.Errorf("row after re-Add = %+v", r)
	}
	if s := b.Summary(t0, at(1)); s.Rows != 2 || s.Submit[SubmitAccepted] != 1 || s.Submit[SubmitNotSent] != 1 {
		t.Errorf("summary after re-Add: %d rows, %v", s.Rows, s.Submit)
	}
}

func TestBook_Panics(t *testing.T) {
	tests := map[string]func(b *Book){
		"event before Add":   func(b *Book) { b.Accepted(9, 0, "x", t0) },
		"rows out of order":  func(b *Book) { b.Add(Entry{Row: 1}) },
		"row 0":              func(b *Book) { b.Add(Entry{Row: 0}) },
		"Add as accepted":    func(b *Book) { b.Add(Entry{Row: 5, Status: SubmitAccepted}) },
		"unknown SetStatus":  func(b *Book) { b.SetStatus(2, "gone", "") },
		"negative part":      func(b *Book) { b.Accepted(2, -1, "x", t0) },
		"Planned before Add": func(b *Book) { b.Planned(3, t0) },
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			b := NewBook(Options{})
			b.Add(Entry{Row: 2})
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f(b)
		})
	}
}

// TestBook_Find checks row lookups with the row numbers --shard leaves (every k-th) and with
// irregular gaps.
func TestBook_Find(t *testing.T) {
	for name, rows := range map[string][]int{
		"contiguous": {1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		"shard 3/4":  {3, 7, 11, 15, 19, 23, 27},
		"irregular":  {2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233},
		"single":     {17},
	} {
		t.Run(name, func(t *testing.T) {
			b := NewBook(Options{})
			for _, n := range rows {
				b.Add(Entry{Row: n, MSISDN: fmt.Sprint(n)})
			}
			for n := 0; n <= rows[len(rows)-1]+2; n++ {
				r, ok := b.Row(n)
				if want := slices.Contains(rows, n); ok != want || ok && (r.Row != n || r.MSISDN != fmt.Sprint(n)) {
					t.Errorf("Row(%d) = %d %q %v, want present=%v", n, r.Row, r.MSISDN, ok, want)
				}
			}
			var got []int
			for r := range b.Rows() {
				got = append(got, r.Row)
			}
			if !slices.Equal(got, rows) {
				t.Errorf("Rows() = %v, want %v", got, rows)
			}
		})
	}
}

// TestBook_RowsAcrossBatches iterates more rows than one batch holds, calling the Book from
// the loop body (which must not deadlock), and stops early.
func TestBook_RowsAcrossBatches(t *testing.T) {
	b := NewBook(Options{})
	const n = 2*rowsBatch + 7
	addSent(b, n)
	count := 0
	for r := range b.Rows() {
		count++
		if r.Row != count {
			t.Fatalf("row %d at position %d", r.Row, count)
		}
		b.Accepted(r.Row, 0, fmt.Sprint(r.Row), at(1))
	}
	if count != n || b.Pending() != n {
		t.Fatalf("iterated %d rows, %d pending; want %d", count, b.Pending(), n)
	}
	for r := range b.Rows() {
		if r.Row == 3 {
			break
		}
	}
}

// TestBook_Concurrent feeds a book from several goroutines, receipts (in decimal, for hex
// ids) racing their responses.
func TestBook_Concurrent(t *testing.T) {
	const workers, perWorker = 4, 500
	b := NewBook(Options{PartReceipts: PartsAll})
	for i := 1; i <= workers*perWorker; i++ {
		b.Add(Entry{Row: i, MSISDN: fmt.Sprint(i), Parts: 2})
	}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		first, last := w*perWorker+1, (w+1)*perWorker
		go func() { // the sender
			defer wg.Done()
			for i := first; i <= last; i++ {
				b.Planned(i, t0)
				b.Accepted(i, 0, fmt.Sprintf("%x", 0xa0000000+2*i), at(i))
				b.Accepted(i, 1, fmt.Sprintf("%x", 0xa0000000+2*i+1), at(i))
			}
		}()
		go func() { // the receipts, in decimal, often ahead of the responses
			defer wg.Done()
			for i := first; i <= last; i++ {
				b.Receipt(rcpt(fmt.Sprint(0xa0000000+2*i+1), smpp.StateDelivered), at(i+1000))
				b.Receipt(rcpt(fmt.Sprint(0xa0000000+2*i), smpp.StateDelivered), at(i+1000))
				_ = b.Pending()
			}
		}()
	}
	wg.Wait()
	if u := b.Unmatched(); len(u) != 0 {
		t.Fatalf("%d unmatched receipts, first %+v", len(u), u[0])
	}
	s := b.Summary(t0, at(5000))
	if b.Pending() != 0 || s.Receipts["DELIVRD"] != workers*perWorker || s.PartsAccepted != 2*workers*perWorker {
		t.Fatalf("pending %d, receipts %v, parts accepted %d", b.Pending(), s.Receipts, s.PartsAccepted)
	}
}

func TestParseFlags(t *testing.T) {
	for s, want := range map[string]PartReceipts{"all": PartsAll, "ANY": PartsAny, "last": PartsLast} {
		if got, err := ParsePartReceipts(s); err != nil || got != want {
			t.Errorf("ParsePartReceipts(%q) = %v, %v", s, got, err)
		}
	}
	for s, want := range map[string]Format{"csv": FormatCSV, "JSONL": FormatJSONL} {
		if got, err := ParseFormat(s); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParsePartReceipts("first"); err == nil || !strings.Contains(err.Error(), "all, any or last") {
		t.Errorf("ParsePartReceipts(first) error = %v", err)
	}
	if _, err := ParseFormat("json"); err == nil || !strings.Contains(err.Error(), "csv or jsonl") {
		t.Errorf("ParseFormat(json) error = %v", err)
	}
}

func TestArena_LongString(t *testing.T) {
	var a arena
	short := a.add("4917")
	long := strings.Repeat("é", maxSpan) // 2 bytes each: far too long
	sp := a.add(long)
	got := a.string(sp)
	if len(got) > maxSpan || !strings.HasSuffix(got, truncMark) || !strings.HasPrefix(long, strings.TrimSuffix(got, truncMark)) {
		t.Errorf("long string stored as %d bytes ending %q", len(got), got[len(got)-8:])
	}
	if a.string(short) != "4917" || a.string(span{}) != "" {
		t.Errorf("short strings corrupted")
	}
}

func TestBook_Counts(t *testing.T) {
	b := campaign()
	want := Counts{Rows: 11, Accepted: 5, Rejected: 1, Skipped: 3, Unsent: 2, Receipts: 3, Delivered: 2, Pending: 2, PartsAccepted: 8}
	if got := b.Counts(); got != want {
		t.Errorf("Counts() = %+v\nwant       %+v", got, want)
	}
}

// TestSummary_RateAndLatencyAfterResume: a resumed run (or `smscast receipts`, which sends
// nothing) replays acceptances journaled by an earlier run. The average rate counts them over
// the time from the first to the last acceptance, never over this run's duration alone (it
// once printed 300 parts/s average with a 199 parts/s peak), and a latency that began before
// the restart is left out instead of counting the time between runs — also by a later rebuild,
// which knows the restart from the journal (RunStarted).
func TestSummary_RateAndLatencyAfterResume(t *testing.T) {
	b := onePartBook(4)
	// First run: rows 1 and 2 accepted within second 0; row 3 attempted, outcome lost.
	b.Planned(1, at(0))
	b.Accepted(1, 0, "a1", at(100))
	b.Planned(2, at(0))
	b.Accepted(2, 0, "a2", at(900))
	b.Planned(3, at(950))
	// The resumed run starts ten minutes later and sends rows 3 and 4 in its first second.
	start := at(600_000)
	b.Accepted(3, 0, "a3", at(600_050))
	b.Planned(4, at(600_000))
	b.Accepted(4, 0, "a4", at(600_200))

	s := b.Summary(start, at(600_300))
	if s.PeakRate != 2 {
		t.Errorf("peak = %d, want 2", s.PeakRate)
	}
	if wantSpan := 600100 * time.Millisecond; s.RateSpan != wantSpan || s.AverageRate != 3/wantSpan.Seconds() {
		t.Errorf("rate = %v over %v, want %v over %v", s.AverageRate, s.RateSpan, 3/wantSpan.Seconds(), wantSpan)
	}
	// Rows 1, 2 (earlier run) and 4 (this run) count; row 3 spans the restart.
	if s.SubmitLatency.Count != 3 || s.SubmitLatency.Max != 900*time.Millisecond || s.LatencyStraddled != 1 {
		t.Errorf("submit latency %+v, %d left out; want 3 samples, max 900ms, 1 left out", s.SubmitLatency, s.LatencyStraddled)
	}
	var text strings.Builder
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"over the 10m0s from first to last acceptance; busiest second 2 parts", "leave out 1 sample begun in an earlier run"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, text.String())
		}
	}

	// `smscast receipts` sends nothing: its run adds no acceptance, the rate stays the campaign's,
	// and with the resumed run's start replayed from the journal the latencies stay the same.
	b.RunStarted(start)
	r := b.Summary(at(900_000), at(903_000))
	if r.AverageRate != s.AverageRate || r.RateSpan != s.RateSpan {
		t.Errorf("receipts run: rate %v over %v, want %v over %v", r.AverageRate, r.RateSpan, s.AverageRate, s.RateSpan)
	}
	if r.SubmitLatency != s.SubmitLatency || r.LatencyStraddled != s.LatencyStraddled {
		t.Errorf("receipts run: submit latency %+v, %d left out; want the resumed run's %+v, %d",
			r.SubmitLatency, r.LatencyStraddled, s.SubmitLatency, s.LatencyStraddled)
	}
	if e := NewBook(Options{}).Summary(t0, at(1000)); e.AverageRate != 0 || e.RateSpan != 0 {
		t.Errorf("nothing accepted: rate %v over %v, want 0", e.AverageRate, e.RateSpan)
	}
}

// The average rate is the acceptances' own: a campaign paced at 10 parts/s shows 10.0, not
// the fewer per second of the calendar seconds it touched (it showed 6.7 over "the 3s" of a
// 1.9 s run).
func TestSummary_AverageRate(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accepted []int // ms
		want     string
	}{
		{"paced at 10/s", []int{500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2100, 2200, 2300, 2400},
			"rate              10.0 parts/s average over the 1.9s from first to last acceptance; busiest second 10 parts"},
		{"within a second", []int{100, 350}, "rate              2 parts accepted within 250ms"},
		{"one part", []int{100}, "rate              - (1 part accepted)"},
		{"none", nil, "rate              - (no part accepted)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBook(Options{})
			for i, ms := range tc.accepted {
				b.Add(Entry{Row: i + 1, MSISDN: fmt.Sprint(i + 1), Parts: 1})
				b.Planned(i+1, at(ms))
				b.Accepted(i+1, 0, fmt.Sprint("id", i), at(ms))
			}
			var text strings.Builder
			if err := b.Summary(t0, at(3000)).WriteText(&text); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text.String(), tc.want) {
				t.Errorf("summary lacks %q:\n%s", tc.want, text.String())
			}
		})
	}
}

// TestBook_Reserve: a book reserved for n ids indexes n ids without rebuilding its index, and
// still matches every receipt, also when more ids come than were reserved, or a reservation
// comes after ids were indexed.
func TestBook_Reserve(t *testing.T) {
	const n = 5000
	b := NewBook(Options{})
	b.Reserve(n)
	size := len(b.index.slots)
	addSent(b, n+2000)
	for row := 1; row <= n; row++ {
		b.Accepted(row, 0, fmt.Sprintf("m%d", row), t0)
	}
	if len(b.index.slots) != size {
		t.Fatalf("index rebuilt from %d to %d slots for %d reserved ids", size, len(b.index.slots), n)
	}
	for row := n + 1; row <= n+2000; row++ {
		b.Accepted(row, 0, fmt.Sprintf("m%d", row), t0)
	}
	b.Reserve(3 * n) // after the fact: moves the entries
	for row := 1; row <= n+2000; row++ {
		if !b.Receipt(rcpt(fmt.Sprintf("m%d", row), smpp.StateDelivered), at(1)) {
			t.Fatalf("receipt for row %d not matched", row)
		}
	}
}
