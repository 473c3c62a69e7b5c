package send

import (
	"slices"
	"time"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
)

// ResumeMode says what a run continuing a campaign does with the rows its journal shows
// submitted without a recorded response (in flight or maybe sent): the SMSC may have them.
type ResumeMode uint8

const (
	// ResendUncertain sends them again and marks them resubmitted: the recipient may get the
	// message twice, but nobody is left without it. The default of --resume.
	ResendUncertain ResumeMode = iota
	// KeepUncertain marks them uncertain and does not send them (--no-resend-uncertain).
	KeepUncertain
	// SendNothing sends no row at all, for a run that only collects receipts (smscast
	// receipts): rows in flight are reported uncertain, rows never sent not_sent.
	SendNothing
)

// Reasons the report gives for rows a resumed run leaves alone.
const (
	reasonKeptUncertain = "outcome unknown: an earlier run sent it and stopped before the response was recorded; " +
		"not sent again (--no-resend-uncertain)"
	reasonCollectUncertain = "outcome unknown: sent, but no response was recorded; smscast send --resume sends it again"
	reasonCollectNotSent   = "not sent yet; smscast send --resume sends it"
	// reasonRestNotSentYet ends the reason of a row partly sent (see partlySent).
	reasonRestNotSentYet = "not sent yet; smscast send --resume sends them"
)

// Resumption continues a campaign from what its journal recorded. Its Row method is the
// engine's Resume hook (Config.Resume): for each row it puts what earlier runs did into the
// Book — message ids, rejection, resubmission — and decides:
//
//   - accepted (every part has an id): not sent again;
//   - rejected: not sent again, reported with its error (a permanent refusal does not change
//     by asking again; transient errors were retried before the row was rejected);
//   - partly sent, its first parts accepted and the others surely not with the SMSC: the
//     others are sent (except with SendNothing), whatever the ResumeMode, since nothing can
//     arrive twice;
//   - in flight or maybe sent: according to the ResumeMode, from the first part not
//     accepted;
//   - not sent: sent, except with SendNothing.
//
// The Book gets the receipts the journal holds as the rows they are about are replayed, so
// that the report covers every row from every run and receipts of earlier runs match; the
// Book holds each until every row with its id is in (Book.Expect: an SMSC gives ids again).
// AllRead (Config.ResumeRead) gives it the rest once the engine has read every row: receipts
// whose id is written otherwise than the message's (hex for decimal), and those of no row.
// Row takes each row's record out of the state once it has used it. A Resumption is used by
// one campaign; its counters are complete once Campaign.Run has returned.
type Resumption struct {
	state *journal.State
	book  *report.Book
	mode  ResumeMode
	// receipts holds the journal's receipts by message id until Row replays a row with the
	// id, later those whose id is written otherwise until AllRead (see NewResumption).
	receipts map[string][]*journal.ReceiptRecord
	later    []*journal.ReceiptRecord

	// What the journal said about the rows to be sent, counted as the engine reads them.
	Accepted  int // accepted before: skipped
	Rejected  int // rejected before: skipped
	Resent    int // in flight or maybe sent: sent again, marked resubmitted
	Completed int // partly sent (its first parts accepted, the others surely not): the others sent
	Uncertain int // in flight or maybe sent: left alone, marked uncertain
	// OptedOut counts the rows among Uncertain whose number joined --exclude after an earlier
	// run may have sent them: no resume sends them.
	OptedOut int
	Unsent   int // never sent: sent now (or, with SendNothing, left not_sent)
}

// NewResumption returns the resumption of the campaign recorded in st, feeding book. Call it
// before Campaign.Run and pass its Row method as Config.Resume, its AllRead method as
// Config.ResumeRead; then give book this run's start as its journal records it
// (book.RunStarted(journal.Writer.Started())): what this run sends goes out after it, however
// early an earlier run first sent the row.
func NewResumption(st *journal.State, book *report.Book, mode ResumeMode) *Resumption {
	for _, at := range st.RunStarts {
		book.RunStarted(at)
	}
	// Every id of the journal is expected before any receipt is matched: a receipt, the
	// journal's or one that comes during the run, with the id of a row still to be read waits
	// for it, and then finds every message with its id (see Book.Expect).
	for _, row := range st.Rows {
		for _, p := range row.Parts {
			for _, id := range p.MessageIDs {
				book.Expect(id)
			}
		}
	}
	// In the order they came (the spool's are appended to the journal's): each id's list, and
	// the rest, keep it.
	byArrival := func(a, b *journal.ReceiptRecord) int { return a.At.Compare(b.At) }
	if !slices.IsSortedFunc(st.Receipts, byArrival) { // the journal's own are, as a rule
		slices.SortStableFunc(st.Receipts, byArrival)
	}
	// A receipt whose id is a message id of a row, as written, and that came after such a
	// message went out, waits here for Row to replay that row, then goes to the Book (which
	// holds it while another row with the id is still to be read): the id decides it. Given
	// to the Book now, each would wait there, in a larger form (hundreds of bytes a receipt,
	// on top of the journal's). The others wait for AllRead: an id written otherwise (hex for
	// decimal), of no row, or only of messages sent after the receipt came is matched by a
	// looser reading of the id, which the Book does not expect, so matched earlier such a
	// receipt would take the first row read where the live run had found two.
	byID := make(map[string][]*journal.ReceiptRecord, len(st.Receipts))
	for _, rec := range st.Receipts {
		byID[rec.Receipt.ID] = append(byID[rec.Receipt.ID], rec)
	}
	starts := st.SortedRunStarts()
	firstSend := make(map[string]time.Time, len(byID)) // by id with receipts: its earliest send
	for _, row := range st.Rows {
		for i := range row.Parts {
			for _, id := range row.Parts[i].MessageIDs {
				if _, ok := byID[id]; !ok {
					continue
				}
				at := row.EarliestSend(&row.Parts[i], starts)
				if was, ok := firstSend[id]; !ok || at.Before(was) {
					firstSend[id] = at
				}
			}
		}
	}
	waiting := make(map[string][]*journal.ReceiptRecord, len(firstSend))
	var later []*journal.ReceiptRecord // in the order they came once AllRead sorts them
	for id, recs := range byID {
		first, ok := firstSend[id]
		if !ok {
			later = append(later, recs...)
			continue
		}
		i := 0 // recs are in the order they came: those from before the first send first
		for i < len(recs) && recs[i].At.Before(first) {
			i++
		}
		later = append(later, recs[:i]...)
		if i < len(recs) {
			waiting[id] = recs[i:]
		}
	}
	return &Resumption{state: st, book: book, mode: mode, receipts: waiting, later: later}
}

// AllRead is the engine's ResumeRead hook: the engine has read the input, every row (all),
// or up to an error. The receipts kept for it (see NewResumption) go to the Book now, with
// those still kept for a row of the journal that was not read, in the order they came. After
// an error, a receipt with the id of a row not read stays unmatched, with that reason: matched
// with the rows read, it would be guessed where the live run found a tie.
func (r *Resumption) AllRead(all bool) {
	if all {
		r.book.ExpectNoMore()
	}
	rest := r.later
	for _, recs := range r.receipts {
		rest = append(rest, recs...)
	}
	slices.SortStableFunc(rest, func(a, b *journal.ReceiptRecord) int { return a.At.Compare(b.At) })
	r.giveReceipts(rest)
	r.later, r.receipts = nil, nil
}

// giveReceipts gives the Book receipts from the journal, in the order given.
func (r *Resumption) giveReceipts(recs []*journal.ReceiptRecord) {
	for _, rec := range recs {
		r.book.Receipt(rec.Receipt, rec.At)
	}
}

// Row is the Resume hook; see Resumption.
func (r *Resumption) Row(row *csvin.Row) (skip bool, from int, resend bool) {
	jr := r.state.Rows[row.Num]
	// Each row is asked for once: its record is in the Book after this, and need not stay in
	// memory for the rest of the run (a million rows are hundreds of megabytes).
	defer delete(r.state.Rows, row.Num)
	// Only rows with a record of their own: an excluded row within a crashed run's horizon
	// but without one is as likely to have been on the list from the start, never sent.
	if jr != nil && row.Status == csvin.StatusExcluded && len(row.Message.Parts) > 0 {
		r.excludedSince(row, jr)
		return true, 0, false
	}
	if jr != nil {
		r.replay(jr)
	}
	if row.Status != csvin.StatusOK {
		// Not to be sent now (e.g. the sender opted out after it was sent): the ids and
		// rejection replayed above keep what an earlier run did visible.
		if jr != nil && jr.Rejected {
			r.book.Rejected(row.Num, jr.Err, jr.RejectedAt)
		}
		return true, 0, false
	}
	switch r.state.Status(row.Num, len(row.Message.Parts)) {
	case journal.Accepted:
		r.Accepted++
		return true, 0, false
	case journal.Rejected:
		r.Rejected++
		r.book.Rejected(row.Num, jr.Err, jr.RejectedAt)
		return true, 0, false
	case journal.InFlight, journal.MaybeSent:
		if jr != nil {
			// The parts accepted before stay sent; the rest goes with the same reference,
			// so the handset joins them, and nobody gets the start twice.
			from = jr.AcceptedParts()
		}
		if jr != nil && !jr.MayHaveFrom(from) {
			if from == 0 {
				break // none of it can be at the SMSC: a row never sent
			}
			// Only the first parts went out: the rest is new to the SMSC.
			if r.mode == SendNothing {
				r.Uncertain++
				r.book.SetStatus(row.Num, report.SubmitUncertain,
					partlySent(from, len(row.Message.Parts), reasonRestNotSentYet))
				return true, 0, false
			}
			r.Completed++
			return false, from, false
		}
		switch r.mode {
		case ResendUncertain:
			r.Resent++
			return false, from, true
		case KeepUncertain:
			r.Uncertain++
			r.book.SetStatus(row.Num, report.SubmitUncertain, reasonKeptUncertain)
		default:
			r.Uncertain++
			r.book.SetStatus(row.Num, report.SubmitUncertain, reasonCollectUncertain)
		}
		return true, 0, false
	}
	r.Unsent++
	if r.mode == SendNothing {
		r.book.SetStatus(row.Num, report.SubmitNotSent, reasonCollectNotSent)
		return true, 0, false
	}
	return false, 0, false
}

// replay gives the Book what the journal recorded of a row: when it was first attempted (the
// latency base), whether it was sent twice, and every accepted message id.
// excludedSince reports a row whose number joined the --exclude list after an earlier run
// sent it, or tried to: what went out stays in the report as sent, and nothing more goes.
func (r *Resumption) excludedSince(row *csvin.Row, jr *journal.Row) {
	parts := len(row.Message.Parts)
	// The Book has the row excluded, without parts: it gets them before the replay, so that
	// the ids count for the parts they are, and a reason the acceptance would not clear.
	r.book.Add(report.Entry{Row: row.Num, MSISDN: row.MSISDN, Template: row.Template,
		Encoding: row.Message.Encoding.String(), Parts: parts})
	r.book.SetStatus(row.Num, report.SubmitNotSent, "")
	r.replay(jr)
	from := jr.AcceptedParts()
	mayHave := jr.MayHaveFrom(from)
	notAgain := "not sent again: " + row.Reason
	switch r.state.Status(row.Num, parts) {
	case journal.Accepted:
		r.Accepted++ // the replayed ids made it accepted
	case journal.Rejected:
		r.Rejected++
		r.book.Rejected(row.Num, jr.Err, jr.RejectedAt)
	case journal.InFlight, journal.MaybeSent:
		switch {
		case !mayHave && from == 0:
			r.unsentSince(row) // none of it is at the SMSC
		case !mayHave:
			r.Uncertain++
			r.OptedOut++
			r.book.SetStatus(row.Num, report.SubmitUncertain, partlySent(from, parts, notAgain))
		default:
			r.Uncertain++
			r.OptedOut++
			r.book.SetStatus(row.Num, report.SubmitUncertain,
				"outcome unknown: an earlier run sent it and stopped before the response was recorded; "+notAgain)
		}
	default:
		r.unsentSince(row)
	}
}

// unsentSince reports a row excludedSince found never at the SMSC as any excluded row.
func (r *Resumption) unsentSince(row *csvin.Row) {
	r.book.Add(entryOf(*row))
	r.book.SetStatus(row.Num, report.SubmitExcluded, row.Reason)
}

func (r *Resumption) replay(jr *journal.Row) {
	if first := jr.FirstAttempt(); !first.IsZero() {
		r.book.Planned(jr.Num, first)
	}
	if sent := jr.FirstSent(); !sent.IsZero() {
		r.book.Sent(jr.Num, sent)
	}
	if jr.Resubmitted {
		r.book.Resubmitted(jr.Num)
	}
	for part, p := range jr.Parts {
		for _, id := range p.MessageIDs {
			r.book.AcceptedSent(jr.Num, part, id, p.AcceptedAt, p.FirstSent)
			r.book.Arrived(id)
		}
	}
	for _, p := range jr.Parts {
		for _, id := range p.MessageIDs {
			if recs, ok := r.receipts[id]; ok {
				r.giveReceipts(recs)
				delete(r.receipts, id)
			}
		}
	}
}
