package report

import (
	"iter"
	"slices"
	"time"

	"smscast/smpp"
)

// PartID is one message id of a row: the part (0-based) it was returned for.
type PartID struct {
	Part int
	ID   string // exactly as the SMSC sent it
}

// Row is a snapshot of one row of the ledger: one line of the report.
type Row struct {
	Row      int
	MSISDN   string
	Template string
	Encoding string
	Parts    int
	// IDs are the message ids, ordered by part, then by arrival (a part resent after an
	// unknown outcome may have two).
	IDs          []PartID
	SubmitStatus SubmitStatus // never "": a row with no outcome is SubmitNotSent
	SubmitError  string       // reject error, skip reason or SetStatus reason
	PlannedAt    time.Time    // zero when never planned
	SubmittedAt  time.Time    // when all parts were accepted, or the row was rejected; zero if neither
	// ReceiptStatus is the row's delivery state: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED,
	// UNKNOWN (final states, as smpp.MessageState.Stat spells them), PENDING (accepted, no
	// final receipt yet), or "" for a row with no accepted part.
	ReceiptStatus string
	ReceiptError  string    // err of the receipt that decided the row (and network error), when not DELIVRD
	DoneAt        time.Time // when the receipt that made the state final was received; zero if not final
	Resubmitted   bool      // sent again after an unknown outcome: the SMSC may have it twice
}

// ReceiptPending is the ReceiptStatus of an accepted row still waiting for a final receipt.
const ReceiptPending = "PENDING"

// MessageIDs returns the row's message ids in report order.
func (r Row) MessageIDs() []string {
	ids := make([]string, len(r.IDs))
	for i, p := range r.IDs {
		ids[i] = p.ID
	}
	return ids
}

// Final reports whether the row needs nothing more: it was not sent, or it has a final
// receipt state.
func (r Row) Final() bool { return r.ReceiptStatus != ReceiptPending }

// Row returns a snapshot of row number n, or false if it was never added.
func (b *Book) Row(n int) (Row, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ri, ok := b.find(n)
	if !ok {
		return Row{}, false
	}
	return b.view(ri), true
}

// rowsBatch is how many rows Rows copies per lock hold, so that events keep flowing while a
// report of millions of rows is written.
const rowsBatch = 1024

// Rows returns an iterator over snapshots of every row in row order, e.g. for the engine to
// find what --resume must still send. It does not hold the lock while the loop body runs, so
// the body may call the Book; each row is consistent, rows added during the loop are included.
func (b *Book) Rows() iter.Seq[Row] {
	return func(yield func(Row) bool) {
		batch := make([]Row, 0, rowsBatch)
		for i := 0; ; {
			batch = batch[:0]
			b.mu.Lock()
			for ; i < b.rows.len() && len(batch) < rowsBatch; i++ {
				batch = append(batch, b.view(i))
			}
			b.mu.Unlock()
			if len(batch) == 0 {
				return
			}
			for _, r := range batch {
				if !yield(r) {
					return
				}
			}
		}
	}
}

// view builds the snapshot of row index ri. Called with b.mu held.
func (b *Book) view(ri int) Row {
	r := b.rows.at(ri)
	v := Row{
		Row:          int(r.row),
		MSISDN:       b.strs.string(r.msisdn),
		Template:     b.names.string(r.template),
		Encoding:     b.names.string(r.encoding),
		Parts:        int(r.parts),
		SubmitStatus: submitStatuses[r.status],
		SubmitError:  b.strs.string(r.reason),
		PlannedAt:    fromUnixNano(r.planned),
		SubmittedAt:  fromUnixNano(r.submitted),
		Resubmitted:  r.flags&flagResubmitted != 0,
	}
	if r.status == stToSend {
		v.SubmitStatus = SubmitNotSent
	}
	for next := r.firstID; next != 0; {
		rec := b.ids.at(int(next) - 1)
		v.IDs = append(v.IDs, PartID{Part: int(rec.part), ID: b.strs.string(rec.id)})
		next = rec.next
	}
	switch {
	case r.flags&flagFinal != 0:
		v.ReceiptStatus = smpp.MessageState(r.rstate - 1).Stat()
		v.ReceiptError = b.strs.string(r.rerr)
		v.DoneAt = fromUnixNano(r.done)
	case b.isPending(r):
		v.ReceiptStatus = ReceiptPending
	}
	return v
}

// fromUnixNano is the inverse of unixNano, in UTC.
func fromUnixNano(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// Unmatched is a receipt that matched no message of the book.
type Unmatched struct {
	Receipt    smpp.Receipt
	ReceivedAt time.Time
	Reason     string // e.g. "no message of this campaign has this id", or "ambiguous: ..."
}

// Unmatched returns the receipts that have matched no message so far, in arrival order,
// after those of earlier runs (KeepUnmatched). A receipt of this run still counts as matched
// later if its id is accepted afterwards.
func (b *Book) Unmatched() []Unmatched {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.unmatchedLocked()
}

// unmatchedLocked is Unmatched, with b.mu held. A receipt of this run that an earlier run's
// file lists already (the journal replays the receipts it recorded, which the file has too)
// is listed once, or every rebuild of the report would add it again; and an earlier line
// whose receipt a message now holds (matched in this run, from the journal or the spool,
// where it stays) is left out: it would say "no message has this id" beside that message.
func (b *Book) unmatchedLocked() []Unmatched {
	out := make([]Unmatched, 0, len(b.earlier)+b.held.open)
	listed := make(map[unmatchedKey]int) // how often, to leave out no more copies than listed
	for _, u := range b.earlier {
		if b.holdsLocked(u) {
			continue
		}
		out = append(out, u)
		listed[keyOfUnmatched(u.Receipt, u.ReceivedAt)]++
	}
	ours := len(out)
	for _, h := range b.held.list {
		if h.matched {
			continue
		}
		if k := keyOfUnmatched(h.r, h.at); listed[k] > 0 {
			listed[k]--
			continue
		}
		out = append(out, Unmatched{Receipt: h.r, ReceivedAt: h.at, Reason: h.reason})
	}
	// A rebuild gives the Book the journal's receipts as their rows are read, not as they
	// came: the list is in the order they came all the same, every rebuild alike.
	slices.SortStableFunc(out[ours:], func(a, b Unmatched) int { return a.ReceivedAt.Compare(b.ReceivedAt) })
	return out
}

// holdsLocked reports whether a message of the book holds u, an earlier run's unmatched
// receipt: its id matches (as this run reads ids), and the message's final state is u's,
// set at u's time to the millisecond (the file's precision). b.mu must be held.
func (b *Book) holdsLocked(u Unmatched) bool {
	if u.Receipt.ID == "" {
		return false
	}
	keys := smpp.MessageIDKeys(u.Receipt.ID, b.opt.IDFormat)
	// The file keeps the time to the millisecond: the receipt came within it, which may be
	// after a row sent in the same millisecond.
	came := unixNano(u.ReceivedAt.Truncate(time.Millisecond).Add(time.Millisecond - 1))
	id, _ := b.match(u.Receipt.ID, keys, b.appendKeyHashes(nil, keys), came)
	if id < 0 {
		return false
	}
	rec := b.ids.at(id)
	return rec.final() && rec.at/int64(time.Millisecond) == u.ReceivedAt.UnixMilli() &&
		smpp.MessageState(rec.state-1).Stat() == u.Receipt.Stat
}

// unmatchedKey tells one receipt from another as the unmatched file keeps it (its times to
// the millisecond).
type unmatchedKey struct {
	id, stat string
	at       int64 // Unix milliseconds
}

func keyOfUnmatched(r smpp.Receipt, at time.Time) unmatchedKey {
	return unmatchedKey{id: r.ID, stat: r.Stat, at: at.UnixMilli()}
}

// KeepUnmatched adds the unmatched receipts that earlier runs of the campaign wrote (see
// ReadUnmatched), so that a rewritten report keeps them in its unmatched file and counts them
// in the summary: such a receipt can be the only sign that a recipient got a message twice.
func (b *Book) KeepUnmatched(list []Unmatched) {
	b.mu.Lock()
	b.earlier = append(b.earlier, list...)
	b.mu.Unlock()
}

// Counts is a snapshot of the book's counters, cheap enough for every tick of a progress
// display.
type Counts struct {
	Rows          int // rows added
	Accepted      int // rows accepted or resubmitted
	Rejected      int // rows rejected
	Skipped       int // rows invalid, duplicate or excluded
	Unsent        int // rows with no outcome yet, not_sent or uncertain
	Receipts      int // rows with a final receipt state
	Delivered     int // rows DELIVRD
	Pending       int // accepted rows waiting for a final receipt (Pending)
	PartsAccepted int // submit_sm PDUs accepted (a resent part counts again)
}

// Counts returns the current counters in O(1).
func (b *Book) Counts() Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := Counts{Rows: b.rows.len(), Pending: b.pending, PartsAccepted: b.acceptedN,
		Delivered: b.byReceipt[smpp.StateDelivered+1]}
	for code, n := range b.bySubmit {
		switch st := submitStatuses[code]; {
		case st == SubmitAccepted || st == SubmitResubmitted:
			c.Accepted += n
		case st == SubmitRejected:
			c.Rejected += n
		case skipped(uint8(code)):
			c.Skipped += n
		default:
			c.Unsent += n
		}
	}
	for _, n := range b.byReceipt {
		c.Receipts += n
	}
	return c
}
