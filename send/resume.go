package send

import (
	"slices"

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
// Once the engine has read every row, AllRead (Config.ResumeRead) gives the Book the receipts
// the journal holds, so that the report covers every row from every run and receipts of
// earlier runs match. Row takes each row's record out of the state once it has used it. A
// Resumption is used by one campaign; its counters are complete once Campaign.Run has
// returned.
type Resumption struct {
	state *journal.State
	book  *report.Book
	mode  ResumeMode
	// receipts are the journal's, in the order they came, until AllRead matches them.
	receipts []*journal.ReceiptRecord

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
// Config.ResumeRead.
func NewResumption(st *journal.State, book *report.Book, mode ResumeMode) *Resumption {
	for _, at := range st.RunStarts {
		book.RunStarted(at)
	}
	// A receipt that comes while rows of earlier runs are still to be read waits for those
	// with its id, as the journal's do (see AllRead).
	for _, row := range st.Rows {
		for _, p := range row.Parts {
			for _, id := range p.MessageIDs {
				book.Expect(id)
			}
		}
	}
	// In the order they came (the spool's are appended to the journal's).
	slices.SortStableFunc(st.Receipts, func(a, b *journal.ReceiptRecord) int { return a.At.Compare(b.At) })
	return &Resumption{state: st, book: book, mode: mode, receipts: st.Receipts}
}

// AllRead is the engine's ResumeRead hook: every row has been read (and replayed), so the
// journal's receipts, matched now, find every message of the campaign with their id, as they
// did when they came. Matched earlier, a receipt would take the first row replayed with its id
// where the live run had found two (an SMSC gives ids again), or a later row's receipt.
func (r *Resumption) AllRead() {
	r.book.ExpectNoMore() // rows of the journal not in the input (an input error) never come
	for _, rec := range r.receipts {
		r.book.Receipt(rec.Receipt, rec.At)
	}
	r.receipts = nil
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
			r.book.Accepted(jr.Num, part, id, p.AcceptedAt)
			r.book.Arrived(id)
		}
	}
}
