package journal

import (
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"smscast/smpp"
)

// RowStatus is what a journal knows about one row, which is what --resume needs to decide
// whether to send it again.
type RowStatus uint8

const (
	// NotSent: nothing is recorded and no run could have submitted the row: send it.
	NotSent RowStatus = iota
	// MaybeSent: nothing is recorded, but a run that crashed may have submitted the row
	// without its attempt record reaching the disk (it lies within that run's horizon).
	// Treat it like InFlight.
	MaybeSent
	// InFlight: submitted, but not every part has an accepted response and the row was not
	// rejected. The SMSC may have it: resend and mark it resubmitted, or mark it uncertain.
	InFlight
	// Accepted: every part has an accepted response: do not send it again.
	Accepted
	// Rejected: the row ended without being accepted (Row.Err says why).
	Rejected
)

var rowStatusNames = [...]string{NotSent: "not sent", MaybeSent: "maybe sent", InFlight: "in flight",
	Accepted: "accepted", Rejected: "rejected"}

func (s RowStatus) String() string {
	if int(s) < len(rowStatusNames) {
		return rowStatusNames[s]
	}
	return fmt.Sprintf("RowStatus(%d)", uint8(s))
}

// State is what a journal records about its campaign, rebuilt by Load: the identity, each row
// that any run touched, the receipts, and how the last run ended.
type State struct {
	Path     string
	Identity Identity // from the first run's start record; empty when no run is recorded
	Runs     int      // start records: the first send, each resume and each receipts run
	// RunStarts holds when each of those runs began, in order: a latency whose sample spans
	// one also spans the time between two runs.
	RunStarts []time.Time
	Clean     bool // the last run closed the journal cleanly (nothing it did was lost)
	// Horizon is the highest row that a run which crashed may have submitted: rows up to it
	// without a record are MaybeSent. 0 when no run crashed.
	Horizon  int
	Rows     map[int]*Row     // by data-row number; rows never attempted are absent
	Receipts []*ReceiptRecord // pointers: a million-receipt campaign would otherwise grow one slice of ~200 MB
	Size     int64            // bytes of intact records: where the next run appends
	Torn     *TornTail        // the torn tail that Open cuts, nil if the file ended cleanly

	// ReportPath is where the campaign's report is, as the last run that recorded it said,
	// and ReportJournal where the journal was then (both absolute, through directory links)
	// (an absolute path); "" for a journal of an smscast that did not record it.
	ReportPath, ReportJournal string
	// ReportSize and ReportModTime (Unix ns) are those of the report as a run last wrote it
	// (0 when no run recorded it): a file that still has them is that report, wherever it is.
	ReportSize, ReportModTime int64
	// PrevReportSize and PrevReportModTime are those of the write before: the report as it
	// still is when a run recorded its new report and then died before putting it in place.
	PrevReportSize, PrevReportModTime int64

	runHorizon int  // highest horizon of the run being replayed
	runClean   bool // the run being replayed has ended cleanly
}

// Row is the journal's record of one row, accumulated over every run.
type Row struct {
	Num   int
	Parts []Part // by 0-based part index, up to the highest part recorded
	// Rejected is set when the row ended without being accepted, with Err (the text the
	// report shows) and RejectedAt; a later attempt (a retry in a resumed run) clears it.
	Rejected   bool
	Err        string
	RejectedAt time.Time
	// Resubmitted is set when the row was sent again after an attempt whose outcome was
	// unknown, in the same run or after a crash: the recipient may get it twice.
	Resubmitted bool

	unresolved bool // in flight or maybe sent when a run crashed; resent → Resubmitted
	// crashed says a run that crashed may have been sending the row: a part after its last
	// recorded one may have gone out without its record reaching the disk.
	crashed bool
}

// Part is the record of one part of a row.
type Part struct {
	Attempts     int       // submit attempts recorded
	FirstAttempt time.Time // when the first was planned (the latency base); zero if never attempted
	// FirstSent is when the first went out (its planned time in journals of earlier builds).
	FirstSent time.Time
	// MessageIDs are the ids of the accepted responses, as the SMSC sent them, in the order
	// they arrived. More than one means a resend was accepted too.
	MessageIDs []string
	AcceptedAt time.Time // when the first accepted response arrived; zero if none
	// NotAccepted is set when no attempt so far can have been accepted (refused with an
	// error status, or never written); the next attempt clears it.
	NotAccepted bool
}

// Accepted reports whether each of the parts (a message's part count; less than 1 counts as
// 1) has an accepted response.
func (r *Row) Accepted(parts int) bool {
	parts = max(parts, 1)
	if len(r.Parts) < parts {
		return false
	}
	for _, p := range r.Parts[:parts] {
		if len(p.MessageIDs) == 0 {
			return false
		}
	}
	return true
}

// AcceptedParts is how many parts, from the first, have an accepted response: the parts of a
// message go out one after another, each once the one before was accepted, so a resumed run
// sends the rest from there.
func (r *Row) AcceptedParts() int {
	n := 0
	for n < len(r.Parts) && len(r.Parts[n].MessageIDs) > 0 {
		n++
	}
	return n
}

// MayHaveFrom reports whether the SMSC may have one of the parts from part on without the
// journal recording it accepted: one was written and no refusal recorded, or a run crashed
// with the row in flight or within its horizon (the next part may then have gone out with
// its attempt record lost).
func (r *Row) MayHaveFrom(part int) bool {
	if r.unresolved || r.crashed {
		return true
	}
	for _, p := range r.Parts[min(part, len(r.Parts)):] {
		if len(p.MessageIDs) > 0 || p.Attempts > 0 && !p.NotAccepted {
			return true
		}
	}
	return false
}

// FirstAttempt is the planned time of the earliest attempt recorded for any part of the row;
// zero if none.
func (r *Row) FirstAttempt() time.Time {
	return r.earliest(func(p *Part) time.Time { return p.FirstAttempt })
}

// FirstSent is when the row first went out (the earliest FirstSent of its parts); zero if
// never.
func (r *Row) FirstSent() time.Time {
	return r.earliest(func(p *Part) time.Time { return p.FirstSent })
}

func (r *Row) earliest(of func(*Part) time.Time) time.Time {
	var first time.Time
	for i := range r.Parts {
		if t := of(&r.Parts[i]); !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

// EarliestSend is the earliest time a message with an id of part p of r can have gone out: not
// before the part first went out (the row's first send or plan, when that was not recorded),
// nor before the start of the run that got the part's ids (a session lives in one run; the
// SMSC may give an earlier run's ids again). starts are the campaign's run starts, sorted.
// Zero when nothing was recorded: any time. A receipt that came before cannot be about that
// message, as the report's matching has it.
func (r *Row) EarliestSend(p *Part, starts []time.Time) time.Time {
	first := p.FirstSent
	if first.IsZero() {
		first = r.FirstSent()
	}
	if first.IsZero() {
		first = r.FirstAttempt()
	}
	if p.AcceptedAt.IsZero() {
		return first
	}
	i, _ := slices.BinarySearchFunc(starts, p.AcceptedAt, func(s, t time.Time) int {
		if s.After(t) {
			return 1
		}
		return -1 // s at or before t: look further on
	})
	if i > 0 && starts[i-1].After(first) {
		return starts[i-1]
	}
	return first
}

// SortedRunStarts returns the run starts of st in order.
func (st *State) SortedRunStarts() []time.Time {
	starts := slices.Clone(st.RunStarts)
	slices.SortFunc(starts, time.Time.Compare)
	return starts
}

// ReceiptRecord is a receipt as the journal recorded it.
type ReceiptRecord struct {
	Receipt smpp.Receipt
	At      time.Time // when it was received
}

// Status says what to do with row, a message of parts parts, on resume.
func (st *State) Status(row, parts int) RowStatus {
	r := st.Rows[row]
	switch {
	case r == nil && row >= 1 && row <= st.Horizon:
		return MaybeSent
	case r == nil:
		return NotSent
	case r.Rejected:
		return Rejected
	case r.Accepted(parts):
		return Accepted
	case r.neverAccepted():
		return NotSent
	default:
		return InFlight
	}
}

// neverAccepted reports whether the SMSC cannot have any part of r: none was accepted, every
// attempt recorded was refused or never written, and no run sent the row without a record
// (a crash within its horizon) or twice.
func (r *Row) neverAccepted() bool {
	if r.unresolved || r.Resubmitted {
		return false
	}
	for _, p := range r.Parts {
		if len(p.MessageIDs) > 0 || p.Attempts > 0 && !p.NotAccepted {
			return false
		}
	}
	return true
}

// Load reads the journal at path and rebuilds its state without changing the file. A torn
// tail is reported in State.Torn; damage before the end is a *CorruptError.
func Load(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return load(f, fi.Size(), path)
}

func load(ra io.ReaderAt, size int64, path string) (*State, error) {
	st := &State{Path: path, Rows: make(map[int]*Row)}
	torn, err := replay(ra, size, path, func(rec Record) error {
		st.apply(&rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Torn = torn
	st.Size = size
	if torn != nil {
		st.Size = torn.Offset
	}
	if st.Runs > 0 && !st.runClean {
		st.endCrashedRun()
	}
	st.Clean = st.Runs > 0 && st.runClean
	return st, nil
}

// apply folds one record into the state.
func (st *State) apply(rec *Record) {
	switch rec.Kind {
	case KindStart:
		if st.Runs > 0 && !st.runClean {
			st.endCrashedRun()
		}
		if st.Runs == 0 {
			st.Identity = *rec.Identity
		}
		st.Runs++
		st.RunStarts = append(st.RunStarts, rec.At)
		st.runHorizon, st.runClean = 0, false
	case KindHorizon:
		st.runHorizon = max(st.runHorizon, rec.Row)
	case KindAttempt:
		r := st.row(rec.Row)
		if r.unresolved {
			r.Resubmitted, r.unresolved = true, false
		}
		r.Rejected = false
		p := r.part(rec.Part)
		if p.Attempts == 0 {
			p.FirstAttempt, p.FirstSent = rec.At, rec.Sent
			if p.FirstSent.IsZero() {
				p.FirstSent = rec.At
			}
		}
		p.Attempts++
		p.NotAccepted = false
	case KindNotAccepted:
		st.row(rec.Row).part(rec.Part).NotAccepted = true
	case KindAccepted:
		p := st.row(rec.Row).part(rec.Part)
		if !slices.Contains(p.MessageIDs, rec.MessageID) {
			p.MessageIDs = append(p.MessageIDs, rec.MessageID)
		}
		if p.AcceptedAt.IsZero() {
			p.AcceptedAt = rec.At
		}
	case KindRejected:
		r := st.row(rec.Row)
		r.Rejected, r.Err, r.RejectedAt = true, rec.Err, rec.At
	case KindResubmitted:
		st.row(rec.Row).Resubmitted = true
	case KindReceipt:
		st.Receipts = append(st.Receipts, &ReceiptRecord{Receipt: rec.Receipt, At: rec.At})
	case KindReport:
		st.applyReport(rec)
	case KindEnd:
		st.runClean = true
	}
}

// row returns the entry for n, creating it. A row first seen in this run that lies within a
// crashed run's horizon was MaybeSent, so sending it now may duplicate it.
func (st *State) row(n int) *Row {
	r := st.Rows[n]
	if r == nil {
		r = &Row{Num: n, unresolved: n <= st.Horizon}
		st.Rows[n] = r
	}
	return r
}

func (r *Row) part(i int) *Part {
	if i >= len(r.Parts) {
		r.Parts = append(r.Parts, make([]Part, i+1-len(r.Parts))...)
	}
	return &r.Parts[i]
}

// endCrashedRun accounts for a run that ended without its end marker: its horizon becomes
// a bound on what it may have sent, and its rows still waiting for a response (or refused
// within its horizon) are unresolved, so that sending them again marks them resubmitted.
func (st *State) endCrashedRun() {
	st.Horizon = max(st.Horizon, st.runHorizon)
	for _, r := range st.Rows {
		if r.Num <= st.runHorizon {
			r.crashed = true
		}
		if r.Rejected {
			continue
		}
		for _, p := range r.Parts {
			// A part refused within the crashed run's horizon may have been sent once more
			// without that attempt's record reaching the disk.
			if p.Attempts > 0 && len(p.MessageIDs) == 0 && (!p.NotAccepted || r.Num <= st.runHorizon) {
				r.unresolved = true
				break
			}
		}
	}
}

// applyReport folds a report record into the state: the last one says where the report is,
// the last one with a size and time says what it was when written.
func (st *State) applyReport(rec *Record) {
	st.ReportPath, st.ReportJournal = rec.Report, rec.JournalAt
	if rec.ReportModTime != 0 {
		st.PrevReportSize, st.PrevReportModTime = st.ReportSize, st.ReportModTime
		st.ReportSize, st.ReportModTime = rec.ReportSize, rec.ReportModTime
	}
}

// LoadFacts reads what the journal at path says about its campaign, without building the
// rows: a State with Path, Identity, Runs, the first of RunStarts, and the report's fields
// (ReportPath, ReportJournal, ReportSize, ReportModTime and the previous size and time). For telling whose report a file is and which
// settings a campaign had, where Load would replay a whole campaign's rows. It does not
// wait for a run that has the journal: what it reads may be a moment old (see
// LoadFactsIdle).
func LoadFacts(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	return loadFacts(path, f)
}

// LoadFactsIdle is LoadFacts for a journal no run has open, or ErrLocked. A run holds its
// journal from its start until it has recorded the report it wrote, so the facts cannot
// be those of a report written but not yet recorded: the report's place is decided on them.
func LoadFactsIdle(path string) (*State, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	if err := inUseLock(f); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return loadFacts(path, f)
}

func loadFacts(path string, f *os.File) (*State, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	st := &State{Path: path}
	_, err = replay(f, fi.Size(), path, func(r Record) error {
		switch r.Kind {
		case KindReport:
			st.applyReport(&r)
		case KindStart:
			if st.Runs == 0 {
				st.Identity, st.RunStarts = *r.Identity, []time.Time{r.At}
			}
			st.Runs++
		}
		return nil
	})
	return st, err
}
