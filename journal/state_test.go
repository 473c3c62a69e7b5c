package journal

import (
	"reflect"
	"testing"
	"time"
)

func start() Record {
	id := testIdentity()
	return Record{Kind: KindStart, At: t0, Identity: &id}
}

func attempt(row, part int) Record { return Record{Kind: KindAttempt, At: t0, Row: row, Part: part} }
func accepted(row, part int, id string) Record {
	return Record{Kind: KindAccepted, At: t0.Add(time.Second), Row: row, Part: part, MessageID: id}
}
func horizon(row int) Record { return Record{Kind: KindHorizon, At: t0, Row: row} }
func notAccepted(row, part int) Record {
	return Record{Kind: KindNotAccepted, At: t0, Row: row, Part: part}
}
func end() Record { return Record{Kind: KindEnd, At: t0} }

func loadRecords(t *testing.T, recs ...Record) *State {
	t.Helper()
	st, err := Load(writeTemp(t, encodeFile(recs...)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return st
}

func TestLoad_RowStatus(t *testing.T) {
	type check struct {
		row, parts  int
		want        RowStatus
		resubmitted bool
	}
	tests := []struct {
		name    string
		recs    []Record
		clean   bool
		horizon int
		checks  []check
	}{
		{
			name: "clean run: accepted, rejected, in flight; nothing beyond is sent",
			recs: []Record{start(), horizon(40),
				attempt(1, 0), accepted(1, 0, "a1"),
				attempt(2, 0), {Kind: KindRejected, At: t0, Row: 2, Err: "0x0000000B ESME_RINVDSTADR"},
				attempt(3, 0),
				end()},
			clean: true,
			checks: []check{{1, 1, Accepted, false}, {2, 1, Rejected, false}, {3, 1, InFlight, false},
				{4, 1, NotSent, false}, {41, 1, NotSent, false}},
		},
		{
			name: "crashed run: rows within its horizon without a record may have been sent",
			recs: []Record{start(), horizon(20), attempt(1, 0), accepted(1, 0, "a1"), attempt(2, 0),
				attempt(4, 0), notAccepted(4, 0)}, // row 4 may have gone out again unrecorded
			horizon: 20,
			checks: []check{{1, 1, Accepted, false}, {2, 1, InFlight, false}, {3, 1, MaybeSent, false},
				{4, 1, InFlight, false}, {20, 1, MaybeSent, false}, {21, 1, NotSent, false}},
		},
		{
			name: "multipart: accepted only when every part is",
			recs: []Record{start(), horizon(20),
				attempt(1, 0), accepted(1, 0, "p0"), attempt(1, 1), // part 2 never attempted
				attempt(2, 0), attempt(2, 1), accepted(2, 1, "q1"), accepted(2, 0, "q0"),
				end()},
			clean: true,
			checks: []check{{1, 3, InFlight, false}, {1, 1, Accepted, false}, {2, 2, Accepted, false},
				{2, 3, InFlight, false}, {2, 0, Accepted, false}},
		},
		{
			name: "resume after a crash: what was unresolved and is sent again is resubmitted",
			recs: []Record{
				start(), horizon(10), attempt(1, 0), accepted(1, 0, "a1"), attempt(2, 0), // crash
				start(), horizon(30),
				attempt(2, 0), accepted(2, 0, "a2"), // was in flight
				attempt(5, 0), accepted(5, 0, "a5"), // was maybe sent
				attempt(12, 0), accepted(12, 0, "a12"), // beyond the crashed horizon: new
				end()},
			clean: true, horizon: 10,
			checks: []check{{1, 1, Accepted, false}, {2, 1, Accepted, true}, {5, 1, Accepted, true},
				{12, 1, Accepted, false}, {6, 1, MaybeSent, false}, {13, 1, NotSent, false}},
		},
		{
			name: "the last run crashed too: horizons of both count, the clean one's not",
			recs: []Record{
				start(), horizon(10), attempt(1, 0), end(),
				start(), horizon(50), attempt(2, 0), // crash
			},
			horizon: 50,
			checks:  []check{{1, 1, InFlight, false}, {30, 1, MaybeSent, false}, {51, 1, NotSent, false}},
		},
		{
			name: "a rejected row retried by a later run reopens",
			recs: []Record{
				start(), horizon(10), attempt(1, 0), {Kind: KindRejected, At: t0, Row: 1, Err: "gave up"}, end(),
				start(), horizon(10), attempt(1, 0), accepted(1, 0, "a1"), end()},
			clean:  true,
			checks: []check{{1, 1, Accepted, false}},
		},
		{
			name: "a resubmission recorded by the engine marks the row",
			recs: []Record{start(), horizon(10), attempt(1, 0), {Kind: KindResubmitted, At: t0, Row: 1},
				attempt(1, 0), accepted(1, 0, "a1"), end()},
			clean:  true,
			checks: []check{{1, 1, Accepted, true}},
		},
		{
			name: "refused or never written: not sent, until a later attempt goes out",
			recs: []Record{start(), horizon(10),
				attempt(1, 0), notAccepted(1, 0), // throttled, then the run stopped
				attempt(2, 0), notAccepted(2, 0), attempt(2, 0), // retried: in flight again
				attempt(3, 0), accepted(3, 0, "p0"), attempt(3, 1), notAccepted(3, 1), // half a message is out
				attempt(4, 0), {Kind: KindResubmitted, At: t0, Row: 4}, attempt(4, 0), notAccepted(4, 0),
				end()},
			clean: true,
			checks: []check{{1, 1, NotSent, false}, {2, 1, InFlight, false}, {3, 2, InFlight, false},
				{4, 1, InFlight, true}},
		},
		{
			name: "refused within a crashed run's horizon: a later try may have left unrecorded",
			recs: []Record{
				start(), horizon(10), attempt(1, 0), notAccepted(1, 0), // crash
				start(), horizon(30), attempt(1, 0), accepted(1, 0, "a1"), // sent again
				attempt(20, 0), notAccepted(20, 0), end()},
			clean: true, horizon: 10,
			checks: []check{{1, 1, Accepted, true}, {20, 1, NotSent, false}},
		},
		{
			name:   "an empty journal",
			recs:   nil,
			checks: []check{{1, 1, NotSent, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := loadRecords(t, tt.recs...)
			if st.Clean != tt.clean || st.Horizon != tt.horizon {
				t.Errorf("Clean = %v, Horizon = %d; want %v, %d", st.Clean, st.Horizon, tt.clean, tt.horizon)
			}
			for _, c := range tt.checks {
				if got := st.Status(c.row, c.parts); got != c.want {
					t.Errorf("Status(%d, %d) = %v, want %v", c.row, c.parts, got, c.want)
				}
				if r := st.Rows[c.row]; r != nil && r.Resubmitted != c.resubmitted {
					t.Errorf("row %d: Resubmitted = %v, want %v", c.row, r.Resubmitted, c.resubmitted)
				}
			}
		})
	}
}

func TestLoad_RowDetails(t *testing.T) {
	late := t0.Add(time.Minute)
	st := loadRecords(t, start(), horizon(10),
		attempt(1, 0), attempt(1, 1), accepted(1, 1, "B"), accepted(1, 0, "A"),
		Record{Kind: KindAccepted, At: late, Row: 1, Part: 0, MessageID: "A2"}, // a late response to a resend
		Record{Kind: KindAccepted, At: late, Row: 1, Part: 0, MessageID: "A"},  // a duplicate record
		Record{Kind: KindRejected, At: late, Row: 2, Err: "0x00000058 ESME_RTHROTTLED"},
		Record{Kind: KindReceipt, At: late, Receipt: testReceipt("A")},
		end())
	r := st.Rows[1]
	if got, want := [][]string{r.Parts[0].MessageIDs, r.Parts[1].MessageIDs}, [][]string{{"A", "A2"}, {"B"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("message ids by part = %v, want %v", got, want)
	}
	if p := r.Parts[0]; p.Attempts != 1 || !p.FirstAttempt.Equal(t0) || !p.AcceptedAt.Equal(t0.Add(time.Second)) {
		t.Errorf("part 0 = %+v", p)
	}
	if r2 := st.Rows[2]; !r2.Rejected || r2.Err != "0x00000058 ESME_RTHROTTLED" || !r2.RejectedAt.Equal(late) {
		t.Errorf("row 2 = %+v", r2)
	}
	if len(st.Receipts) != 1 || !reflect.DeepEqual(*st.Receipts[0], ReceiptRecord{Receipt: testReceipt("A"), At: late}) {
		t.Errorf("Receipts = %+v", st.Receipts)
	}
	if id := testIdentity(); st.Identity.Sum() != id.Sum() || st.Runs != 1 {
		t.Errorf("identity %v runs %d", st.Identity, st.Runs)
	}
}

// Each run's start is kept, for a report that leaves out the latencies spanning a restart.
func TestLoad_RunStarts(t *testing.T) {
	resumed := start()
	resumed.At = t0.Add(time.Hour)
	st := loadRecords(t, start(), attempt(1, 0), end(), resumed, end())
	if want := []time.Time{t0, t0.Add(time.Hour)}; st.Runs != 2 || !reflect.DeepEqual(st.RunStarts, want) {
		t.Errorf("Runs %d, RunStarts %v; want 2 at %v", st.Runs, st.RunStarts, want)
	}
}

func report(path string) Record {
	return Record{Kind: KindReport, At: t0, Report: path, JournalAt: "/data/a.csv.journal"}
}

// Each run records where it writes the report; the last one is where the report is now. A
// journal of a version that recorded none gives "", and the check that needs it is skipped.
func TestLoad_ReportPath(t *testing.T) {
	tests := []struct {
		name string
		recs []Record
		want string
	}{
		{"an earlier version's journal", []Record{start(), attempt(1, 0), end(), start(), end()}, ""},
		{"one run", []Record{start(), report("/data/a.csv"), attempt(1, 0), end()}, "/data/a.csv"},
		{"the report moved in a later run", []Record{start(), report("/data/a.csv"), end(),
			start(), report("/data/moved/a.csv"), end()}, "/data/moved/a.csv"},
		{"a later run of an earlier version", []Record{start(), report("/data/a.csv"), end(), start(), end()}, "/data/a.csv"},
		{"recorded after the run's end (the report went beside another run's)", []Record{start(), report("/data/a.csv"),
			attempt(1, 0), end(), report("/data/a-2.csv")}, "/data/a-2.csv"},
		{"a crashed run", []Record{start(), report("/data/a.csv"), horizon(10), attempt(1, 0)}, "/data/a.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadRecords(t, tt.recs...).ReportPath; got != tt.want {
				t.Errorf("ReportPath = %q, want %q", got, tt.want)
			}
		})
	}
	// A report record is no part of a run's ending: after a clean end it keeps the run clean.
	if st := loadRecords(t, start(), end(), report("/data/a-2.csv")); !st.Clean || st.Runs != 1 {
		t.Errorf("a report record after the end: clean %v, runs %d; want clean, 1 run", st.Clean, st.Runs)
	}
}

func TestRowStatus_String(t *testing.T) {
	for s, want := range map[RowStatus]string{NotSent: "not sent", MaybeSent: "maybe sent", InFlight: "in flight",
		Accepted: "accepted", Rejected: "rejected", 9: "RowStatus(9)"} {
		if s.String() != want {
			t.Errorf("%d.String() = %q, want %q", s, s.String(), want)
		}
	}
}

// A message went out after its row was first sent (planned, when the send is not recorded)
// and after the start of the run that got its id.
func TestRow_EarliestSend(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	starts := []time.Time{t0, t0.Add(time.Hour)}
	for _, tt := range []struct {
		name string
		part Part
		want time.Time
	}{
		{"accepted in its first run", Part{FirstSent: t0.Add(time.Minute), AcceptedAt: t0.Add(2 * time.Minute)}, t0.Add(time.Minute)},
		{"a later part: its own send", Part{FirstSent: t0.Add(3 * time.Minute), AcceptedAt: t0.Add(4 * time.Minute)}, t0.Add(3 * time.Minute)},
		{"resent in the second run", Part{FirstSent: t0.Add(time.Minute), AcceptedAt: t0.Add(61 * time.Minute)}, t0.Add(time.Hour)},
		{"no send recorded: planned", Part{FirstAttempt: t0.Add(3 * time.Minute), AcceptedAt: t0.Add(4 * time.Minute)}, t0.Add(3 * time.Minute)},
		{"never accepted", Part{FirstSent: t0.Add(5 * time.Minute)}, t0.Add(5 * time.Minute)},
		{"nothing recorded", Part{}, time.Time{}},
	} {
		first := Part{FirstSent: t0.Add(time.Minute), AcceptedAt: t0.Add(2 * time.Minute)} // the row's part 1
		if tt.part.FirstSent.IsZero() && tt.part.FirstAttempt.IsZero() && tt.part.AcceptedAt.IsZero() {
			first = Part{}
		} else if tt.part.FirstSent.IsZero() {
			first = Part{FirstAttempt: tt.part.FirstAttempt}
		}
		r := &Row{Parts: []Part{first, tt.part}}
		if got := r.EarliestSend(&r.Parts[1], starts); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
