// Package report keeps the ledger of a campaign — every input row, its submit outcome, message
// ids and delivery receipts — and writes it as the receipt report and the end-of-run summary.
//
// The send engine feeds a Book with events (Add, Planned, Accepted, Rejected, Resubmitted,
// SetStatus, Receipt); the journal replays the same events, in the same order, to rebuild a
// Book for --resume. A Book is safe for concurrent use and stores rows compactly (about 100
// bytes per row plus its phone number and message ids), so a few million rows fit in memory.
package report

import (
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"smscast/smpp"
)

// SubmitStatus is what happened to a row on the sending side (report column submit_status).
type SubmitStatus string

// The submit statuses. A row that was to be sent and has no outcome yet is reported as
// SubmitNotSent.
const (
	SubmitAccepted    SubmitStatus = "accepted"    // every part accepted by the SMSC
	SubmitRejected    SubmitStatus = "rejected"    // refused with a permanent error (submit_error)
	SubmitInvalid     SubmitStatus = "invalid"     // skipped: the row could not be sent (submit_error says why)
	SubmitDuplicate   SubmitStatus = "duplicate"   // skipped: same number as an earlier row
	SubmitExcluded    SubmitStatus = "excluded"    // skipped: number on the --exclude list
	SubmitNotSent     SubmitStatus = "not_sent"    // the run stopped before the row was sent
	SubmitResubmitted SubmitStatus = "resubmitted" // accepted, but sent again after an unknown outcome: it may arrive twice
	SubmitUncertain   SubmitStatus = "uncertain"   // sent, outcome unknown, deliberately not sent again
)

// submitStatuses lists the statuses in report order; a row stores the index (0 = to be sent,
// no outcome yet), so the order must never change within a process.
var submitStatuses = [...]SubmitStatus{"", SubmitAccepted, SubmitResubmitted, SubmitRejected,
	SubmitInvalid, SubmitDuplicate, SubmitExcluded, SubmitNotSent, SubmitUncertain}

// Row status codes, indexes into submitStatuses.
const (
	stToSend uint8 = iota
	stAccepted
	stResubmitted
	stRejected
)

// statusCode returns the code of s, or false if s is not a SubmitStatus.
func statusCode(s SubmitStatus) (uint8, bool) {
	for i, v := range submitStatuses {
		if v == s {
			return uint8(i), true
		}
	}
	return 0, false
}

// PartReceipts says how receipts of a multipart message decide the row's receipt status
// (--part-receipts). The zero value is PartsAll.
type PartReceipts uint8

const (
	// PartsAll expects one receipt per part: the row is DELIVRD when every part is, otherwise
	// it takes the worst final state; it is PENDING until every part has a final receipt.
	PartsAll PartReceipts = iota
	// PartsAny lets the first final receipt of any part decide, for carriers that send one
	// receipt per message on the first part (or on any part).
	PartsAny
	// PartsLast counts only the last part's receipt; the engine asks for a receipt on the last
	// part only (see WantsReceipt), so the carrier sends one per message.
	PartsLast
)

var partReceiptsNames = [...]string{"all", "any", "last"}

// ParsePartReceipts parses a --part-receipts value: all, any or last (any case).
func ParsePartReceipts(s string) (PartReceipts, error) {
	for i, n := range partReceiptsNames {
		if strings.EqualFold(s, n) {
			return PartReceipts(i), nil
		}
	}
	return 0, fmt.Errorf("unknown --part-receipts %q: use all, any or last", s)
}

// String returns the flag value: "all", "any" or "last".
func (p PartReceipts) String() string {
	if int(p) < len(partReceiptsNames) {
		return partReceiptsNames[p]
	}
	return fmt.Sprintf("PartReceipts(%d)", uint8(p))
}

// WantsReceipt reports whether part (0-based) of a message of parts parts should ask the SMSC
// for a delivery receipt (registered_delivery): every part, except with PartsLast where only
// the last part does.
func (p PartReceipts) WantsReceipt(part, parts int) bool {
	return p != PartsLast || part == parts-1
}

// Format is the report file format (--report-format). The zero value is FormatCSV.
type Format uint8

const (
	FormatCSV   Format = iota // comma-separated, header row, spreadsheet-safe cells
	FormatJSONL               // one JSON object per row, exact values
)

var formatNames = [...]string{"csv", "jsonl"}

// ParseFormat parses a --report-format value: csv or jsonl (any case).
func ParseFormat(s string) (Format, error) {
	for i, n := range formatNames {
		if strings.EqualFold(s, n) {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("unknown --report-format %q: use csv or jsonl", s)
}

// String returns the flag value: "csv" or "jsonl".
func (f Format) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Options configures a Book. The zero value matches ids with smpp.IDAuto and expects a receipt
// for every part.
type Options struct {
	IDFormat     smpp.IDFormat // how receipt ids are compared with submit_sm_resp ids (--receipt-id-format)
	PartReceipts PartReceipts  // how multipart receipts decide a row (--part-receipts)
}

// Entry is one input row as the engine hands it to Add.
type Entry struct {
	Row      int    // data-row number, 1 = first row after the header; strictly increasing across Add calls
	MSISDN   string // destination as normalised (or as written, for an invalid row)
	Template string // template id used
	Encoding string // "gsm7", "ucs2", "latin1"; empty when unknown
	Parts    int    // submit_sm PDUs the message needs (at most 65,535 are recorded)
	// Status is "" for a row to be sent, or SubmitInvalid, SubmitDuplicate or SubmitExcluded
	// for a row that is skipped.
	Status SubmitStatus
	Reason string // why the row is skipped (report column submit_error)
}

// Row flags.
const (
	flagResubmitted uint8 = 1 << iota // Resubmitted was called
	flagFinal                         // the receipt state is final
)

// rowRec is one row of the ledger. It holds no pointers (see store.go). Times are Unix
// nanoseconds, 0 = unknown.
type rowRec struct {
	planned   int64 // first Planned time: the latency base
	sent      int64 // first Sent time: no receipt from before is about the row (see sentAfter)
	submitted int64 // when the row's outcome (all parts accepted, or rejected) was known
	done      int64 // when the row's receipt state became final
	msisdn    span
	reason    span // submit_error: skip reason, reject error or SetStatus reason
	rerr      span // receipt_error of the receipt that decided the row
	row       int32
	firstID   int32 // index+1 in Book.ids of the row's first id (ordered by part); 0 = none
	template  uint32
	encoding  uint32
	parts     uint16
	status    uint8 // index in submitStatuses
	rstate    uint8 // smpp.MessageState+1 of the row's receipt state; 0 = none
	flags     uint8
}

// idRec is one message id returned by a submit_sm_resp, with the receipt state for that id.
type idRec struct {
	at   int64 // when state was last set (Unix ns)
	id   span  // exactly as the SMSC sent it
	err  span  // receipt error text of the receipt that set state
	row  int32 // index of the row in Book.rows
	next int32 // index+1 of the row's next id; 0 = last
	part uint16
	// run is 1 + the index in Book.runStarts of the last run that started before the id
	// was accepted, in which it was sent (a session lives in one run); 0 = none.
	run   uint8
	state uint8 // smpp.MessageState+1; 0 = no receipt yet
	// partSent is how long after its row's first send (or plan) the part first went out, in
	// that run, in milliseconds (rounded down, capped): a later part, or a part sent again,
	// went out after the row's first message. 0 = not known, or with the first.
	partSent uint32
}

// Book is the ledger of one campaign. Create it with NewBook; it is safe for concurrent use.
// Every method that names a row must come after Add for that row: an unknown row is a bug in
// the caller and panics.
type Book struct {
	opt  Options
	seed maphash.Seed

	mu    sync.Mutex
	rows  blocks[rowRec]
	ids   blocks[idRec]
	strs  arena
	names interner
	index idIndex
	held  heldReceipts
	// earlier holds the unmatched receipts that earlier runs wrote (KeepUnmatched), kept
	// ahead of this run's.
	earlier []Unmatched
	scratch []int32 // per-part work space for settle

	// Counters kept up to date by update, so that Pending and Counts are O(1).
	bySubmit  [len(submitStatuses)]int
	byReceipt [16]int // final rows by rstate
	pending   int
	parts     int              // parts of rows meant to be sent (not skipped)
	accepted  map[int64]uint32 // accepted PDUs per Unix second (peak rate)
	acceptedN int              // accepted PDUs (a resent part counts again)
	// firstAccepted and lastAccepted bound the acceptances, Unix nanoseconds (average rate).
	firstAccepted, lastAccepted int64
	runStarts                   []int64 // runs' starts, Unix nanoseconds, in order (RunStarted)
	// expected counts, by the hash of the id, the ids of rows an earlier run sent that are
	// not in the book yet (Expect).
	expected expectedKeys

	// looseIndexed is set (under mu) once the index holds every key of every id; until then
	// it holds only the ids themselves (see indexLooseKeys). Read without mu by Accepted.
	looseIndexed atomic.Bool

	// hexSeen is set once an accepted id was hexadecimal with a letter a–f. Until then the
	// cross-base keys of all-digit ids (smpp.IsCrossBaseKey) are not trusted: with an SMSC
	// whose ids are decimal, "256" read as hex would pair a receipt that overtook its own
	// submit_sm_resp with the message "100".
	hexSeen bool
}

// NewBook returns an empty ledger.
func NewBook(opt Options) *Book {
	return &Book{opt: opt, seed: maphash.MakeSeed(), accepted: make(map[int64]uint32)}
}

// Reserve prepares the book for about ids message ids (accepted parts), so that indexing
// them does not rebuild its index as it fills. It is only a hint.
func (b *Book) Reserve(ids int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.index.reserve(ids)
}

// Add records an input row. Call it for every row, skipped ones included, in input order
// (strictly increasing Row), before any other event for that row. Adding a row that is
// already in the book replaces its Entry fields and keeps its events, so a resumed run may
// add the rows again before the journal replays their events.
func (b *Book) Add(e Entry) {
	code, ok := statusCode(e.Status)
	if !ok || code == stAccepted || code == stResubmitted || code == stRejected {
		panic(fmt.Sprintf("report: Add row %d with status %q: want \"\", invalid, duplicate or excluded", e.Row, e.Status))
	}
	if e.Row < 1 || int64(e.Row) > 1<<31-1 {
		panic(fmt.Sprintf("report: Add row %d: row numbers start at 1", e.Row))
	}
	parts := min(max(e.Parts, 0), 1<<16-1)
	b.mu.Lock()
	defer b.mu.Unlock()
	ri, found := b.find(e.Row)
	if !found {
		if n := b.rows.len(); n > 0 && int(b.rows.at(n-1).row) > e.Row {
			panic(fmt.Sprintf("report: Add row %d after row %d: add rows in input order", e.Row, b.rows.at(n-1).row))
		}
		ri = b.rows.add(rowRec{row: int32(e.Row)})
		b.bySubmit[stToSend]++
	}
	b.update(ri, func(r *rowRec) {
		r.msisdn = b.strs.add(e.MSISDN)
		r.template = b.names.code(e.Template)
		r.encoding = b.names.code(e.Encoding)
		r.parts = uint16(parts)
		if r.status == stToSend || code != stToSend {
			r.status = code
			r.reason = b.strs.add(e.Reason)
		}
	})
}

// find returns the index of row number n in b.rows. Rows are sorted by number; the first
// guess assumes evenly spaced numbers (every row, or every k-th row with --shard), so that
// lookups are O(1) in practice and O(log n) otherwise.
func (b *Book) find(n int) (int, bool) {
	count := b.rows.len()
	if count == 0 {
		return 0, false
	}
	first, last := int(b.rows.at(0).row), int(b.rows.at(count-1).row)
	if n < first || n > last {
		return 0, false
	}
	if count > 1 && last > first {
		guess := int(int64(n-first) * int64(count-1) / int64(last-first))
		if int(b.rows.at(guess).row) == n {
			return guess, true
		}
	}
	lo, hi := 0, count
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if int(b.rows.at(mid).row) < n {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < count && int(b.rows.at(lo).row) == n
}

// mustFind is find for event methods: an event for a row never added is a caller bug.
func (b *Book) mustFind(event string, n int) int {
	ri, ok := b.find(n)
	if !ok {
		panic(fmt.Sprintf("report: %s for row %d, which was never added", event, n))
	}
	return ri
}

// update applies change to row ri, then re-derives its receipt state and keeps the counters
// in step. Every mutation of a row goes through here. Called with b.mu held.
func (b *Book) update(ri int, change func(r *rowRec)) {
	r := b.rows.at(ri)
	b.count(r, -1)
	change(r)
	b.settle(r)
	b.count(r, +1)
}

// count adds d to the counters that r contributes to.
func (b *Book) count(r *rowRec, d int) {
	b.bySubmit[r.status] += d
	if r.flags&flagFinal != 0 {
		b.byReceipt[r.rstate] += d
	}
	if b.isPending(r) {
		b.pending += d
	}
	if !skipped(r.status) {
		b.parts += d * int(r.parts)
	}
}

// isPending reports whether r still waits for its final receipt state: it was accepted, or
// it ended with some parts accepted (rejected half way, or partly sent and uncertain), whose
// receipts say whether the recipient got the start of the message.
func (b *Book) isPending(r *rowRec) bool {
	if r.flags&flagFinal != 0 {
		return false
	}
	switch submitStatuses[r.status] {
	case SubmitAccepted, SubmitResubmitted:
		return true
	case SubmitRejected, SubmitUncertain:
		return r.firstID != 0
	}
	return false
}

// skipped reports whether status code c marks a row that was never meant to be sent.
func skipped(c uint8) bool {
	s := submitStatuses[c]
	return s == SubmitInvalid || s == SubmitDuplicate || s == SubmitExcluded
}

// unixNano converts t to the stored form; the zero time is 0 (unknown).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Planned records when the pacer scheduled the row's first part. Latencies are measured from
// this time, not from when the PDU left, so a stalled window shows in the figures (coordinated
// omission). Only the first call counts: a resend keeps the original plan.
func (b *Book) Planned(row int, at time.Time) {
	b.setFirst("Planned", row, at, func(r *rowRec) *int64 { return &r.planned })
}

// Sent records when the row first went out, right before its first submit_sm was written
// (Planned may be seconds earlier, while the window is full): a receipt that came before
// cannot be about it. Only the first call counts.
func (b *Book) Sent(row int, at time.Time) {
	b.setFirst("Sent", row, at, func(r *rowRec) *int64 { return &r.sent })
}

// setFirst sets the time that field picks of row to at, unless a call did before; method
// names the caller in the panic of an unknown row.
func (b *Book) setFirst(method string, row int, at time.Time, field func(*rowRec) *int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := field(b.rows.at(b.mustFind(method, row))); *t == 0 {
		*t = unixNano(at)
	}
}

// Accepted records that the SMSC accepted part (0-based) of row with messageID at time at.
// The row becomes accepted (or resubmitted) when every part has an id. Another id for the
// same part (a late response after a resend) is kept as well; the same id again changes
// nothing. Receipts that arrived before this response and match the id are applied now.
// It reports whether this call made the row accepted (or resubmitted), as a late response
// does for a row that had ended uncertain.
func (b *Book) Accepted(row, part int, messageID string, at time.Time) (nowAccepted bool) {
	return b.AcceptedSent(row, part, messageID, at, time.Time{})
}

// AcceptedSent is Accepted for a part that first went out at sent in the run that got the id
// (the first try, should a late answer to it come after a resend): a receipt that came before
// cannot be about it, although its row went out earlier. A zero sent says no more than
// Accepted.
func (b *Book) AcceptedSent(row, part int, messageID string, at, sent time.Time) (nowAccepted bool) {
	if part < 0 || part >= 1<<16 {
		panic(fmt.Sprintf("report: Accepted row %d part %d: parts are numbered from 0", row, part))
	}
	var buf [6]uint64
	loose := b.looseIndexed.Load()
	hashes := b.idKeyHashes(buf[:0], messageID, loose)
	b.mu.Lock()
	defer b.mu.Unlock()
	if !loose && b.looseIndexed.Load() { // a receipt needed the looser keys meanwhile
		hashes = b.idKeyHashes(buf[:0], messageID, true)
	}
	ri := b.mustFind("Accepted", row)
	wasAccepted := b.rows.at(ri).accepted()
	if !b.addID(ri, uint16(part), messageID, unixNano(at), unixNano(sent), hashes) {
		return false
	}
	nowAccepted = !wasAccepted && b.rows.at(ri).accepted()
	if messageID == "" {
		// No receipt can name this part (the SMSC broke SMPP by giving no id): its fate is
		// unknown for good, rather than pending for ever.
		b.applyReceipt(b.ids.len()-1, smpp.Receipt{State: smpp.StateUnknown, Err: NoMessageID}, at)
	}
	b.accepted[at.Unix()]++
	if ns := unixNano(at); b.acceptedN == 0 {
		b.firstAccepted, b.lastAccepted = ns, ns
	} else {
		b.firstAccepted, b.lastAccepted = min(b.firstAccepted, ns), max(b.lastAccepted, ns)
	}
	b.acceptedN++
	if !b.hexSeen && hasHexLetter(messageID) {
		b.hexSeen = true
		b.retryAllHeld()
	}
	b.retryHeld(hashes)
	return nowAccepted
}

// accepted reports whether every part of the row was accepted.
func (r *rowRec) accepted() bool { return r.status == stAccepted || r.status == stResubmitted }

// NoMessageID is the receipt error of a part the SMSC accepted without a message id.
const NoMessageID = "no message id from the SMSC: no receipt can be matched"

// hasHexLetter reports whether id is a hexadecimal number with at least one letter a–f.
func hasHexLetter(id string) bool {
	letter := false
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			letter = true
		default:
			return false
		}
	}
	return letter
}

// addID links a new id to row ri, keeping the row's ids ordered by part, indexes it and
// updates the row's status. It returns false if the part already had this exact id.
func (b *Book) addID(ri int, part uint16, id string, at, sent int64, hashes []uint64) bool {
	r := b.rows.at(ri)
	// Find the insertion point (after the last id of a part <= part) and check for a repeat.
	prev := int32(0)
	for next := r.firstID; next != 0; next = b.ids.at(int(next) - 1).next {
		rec := b.ids.at(int(next) - 1)
		if rec.part > part {
			break
		}
		if rec.part == part && string(b.strs.bytes(rec.id)) == id {
			return false
		}
		prev = next
	}
	rec := idRec{id: b.strs.add(id), row: int32(ri), part: part, run: b.runOf(at), partSent: partSentOf(r, sent)}
	if prev == 0 {
		rec.next = r.firstID
	} else {
		rec.next = b.ids.at(int(prev) - 1).next
	}
	x := int32(b.ids.add(rec)) + 1
	b.index.add(hashes, uint32(x-1))

	// The id is linked within update: a row's first id can make it pending (an uncertain
	// row that a late response accepts), and the counters must see it before and after.
	b.update(ri, func(r *rowRec) {
		if prev == 0 {
			r.firstID = x
		} else {
			b.ids.at(int(prev) - 1).next = x
		}
		if r.status == stRejected || !b.allPartsHaveIDs(r) {
			return
		}
		if !r.accepted() {
			r.submitted = at
			// A late response can accept a row already ended uncertain or not_sent: why
			// it was is no longer so.
			r.reason = span{}
		}
		r.status = stAccepted
		if r.flags&flagResubmitted != 0 {
			r.status = stResubmitted
		}
	})
	return true
}

// allPartsHaveIDs reports whether every part of r has at least one message id.
func (b *Book) allPartsHaveIDs(r *rowRec) bool {
	want := uint16(max(r.parts, 1))
	seen := uint16(0) // parts 0..seen-1 have an id; ids are ordered by part
	for next := r.firstID; next != 0; next = b.ids.at(int(next) - 1).next {
		p := b.ids.at(int(next) - 1).part
		if p == seen {
			seen++
		}
	}
	return seen >= want
}

// Resubmitted records that the row was sent again after an unknown outcome (timeout or lost
// connection): the SMSC may have accepted it twice. An accepted row is then reported as
// resubmitted.
func (b *Book) Resubmitted(row int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(b.mustFind("Resubmitted", row), func(r *rowRec) {
		r.flags |= flagResubmitted
		if r.status == stAccepted {
			r.status = stResubmitted
		}
	})
}

// Rejected records that the SMSC refused the row (a part of it) with a permanent error, such
// as "0x0000000B ESME_RINVDSTADR", at time at. Ids of parts accepted before stay in the report.
func (b *Book) Rejected(row int, err string, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(b.mustFind("Rejected", row), func(r *rowRec) {
		r.status = stRejected
		r.reason = b.strs.add(err)
		r.submitted = unixNano(at)
	})
}

// SetStatus sets the row's submit status and submit_error explicitly, e.g. SubmitNotSent for
// rows left when the run stops or SubmitUncertain with --no-resend-uncertain. A status that is
// not one of the SubmitStatus constants is a caller bug and panics.
func (b *Book) SetStatus(row int, s SubmitStatus, reason string) {
	code, ok := statusCode(s)
	if !ok || s == "" {
		panic(fmt.Sprintf("report: SetStatus row %d: unknown status %q", row, s))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(b.mustFind("SetStatus", row), func(r *rowRec) {
		if code == stResubmitted {
			r.flags |= flagResubmitted
		}
		r.status = code
		r.reason = b.strs.add(reason)
	})
}

// RunStarted records that a run of the campaign (an earlier one replayed from its journal, or
// this one) began at at. Summary leaves out of the latencies the samples that span it, as
// those that span the current run's start: they would count the time between the runs. So
// every rebuild of the report shows the same latencies.
//
// An id accepted after a run's start was sent in that run, however early its row was first
// sent: a receipt that came before cannot be about it. Call RunStarted before Accepted for the
// ids of that run.
func (b *Book) RunStarted(at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ns := unixNano(at)
	i, _ := slices.BinarySearch(b.runStarts, ns)
	b.runStarts = slices.Insert(b.runStarts, i, ns)
}

// runOf returns what idRec.run says of an id accepted at at (capped: an earlier run's start
// only weakens the bound). Called with b.mu held.
func (b *Book) runOf(at int64) uint8 {
	i, _ := slices.BinarySearch(b.runStarts, at+1) // runs that started at or before at
	return uint8(min(i, math.MaxUint8))
}

// partSentOf returns what idRec.partSent says of a part of r that first went out at sent
// (Unix ns; 0 = not known). Called with b.mu held.
func partSentOf(r *rowRec, sent int64) uint32 {
	base := r.firstSend()
	if sent == 0 || base == 0 || sent <= base {
		return 0
	}
	return uint32(min((sent-base)/int64(time.Millisecond), math.MaxUint32))
}

// firstSend is when the row first went out: Sent, or Planned, which comes before it, when the
// send was not recorded; 0 when neither was.
func (r *rowRec) firstSend() int64 {
	if r.sent != 0 {
		return r.sent
	}
	return r.planned
}

// Expect says that a row not in the book yet has message id id, from an earlier run (a
// resumption adds it later): a receipt that may be about it waits until Arrived or
// ExpectNoMore, rather than match another message with the same id alone (an SMSC gives ids
// again). Call it once for each time the id will be Accepted, before any receipt. Only the id
// as written counts: a receipt that gives it otherwise (hex for decimal) does not wait, which
// costs a resumed campaign of a million rows a fraction of a second, not several seconds and
// hundreds of megabytes.
func (b *Book) Expect(id string) {
	h := maphash.String(b.seed, id)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected.add(h)
}

// Arrived says that an id given to Expect has been Accepted: the receipts waiting for it are
// matched once no other expected row has it.
func (b *Book) Arrived(id string) {
	h := maphash.String(b.seed, id)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.expected.arrive(h) {
		b.retryHeld([]uint64{h})
	}
}

// ExpectNoMore says that no expected id will arrive any more (the input was read, or could not
// be): the receipts still waiting for one are matched with what the book has.
func (b *Book) ExpectNoMore() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.expected.clear() {
		b.retryAllHeld()
	}
}

// Pending returns the number of accepted rows that have no final receipt state yet; --wait
// stays bound until it is 0.
func (b *Book) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.pending
}

// Len returns the number of rows added.
func (b *Book) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rows.len()
}
