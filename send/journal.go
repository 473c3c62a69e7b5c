package send

import (
	"time"

	"smscast/csvin"
	"smscast/smpp"
)

// Journal records campaign events durably; nil means no journal. The engine calls it at
// exactly these points, from many goroutines at once, so implementations must be safe for
// concurrent use:
//   - Attempt before each submit_sm is written (part is 0-based; a resend is a new attempt),
//     with the row's planned send time, which a resumed run's report takes as the latency
//     base (as the live run does);
//   - Accepted when a submit_sm_resp with status 0 arrives, late ones included;
//   - Rejected when a row ends refused by the SMSC (permanent status, transient statuses
//     until the attempts are used up, throttling beyond GiveUpAfter), with the error text the
//     report shows, such as "0x0000000B ESME_RINVDSTADR". A row whose outcome stayed unknown
//     (uncertain) or that was not sent is not Rejected: it has attempts and no response, which
//     is what makes a resumed run send it again;
//   - Resubmitted before the Attempt that sends a part again after an unknown outcome (a
//     timeout or a lost connection, in this run or, for a resumed row, in an earlier one);
//   - NotAccepted after an Attempt that the SMSC refused with an error status (throttled, or
//     a transient error) or that was never written, unless an earlier try of the part had an
//     unknown outcome: no try so far can have been accepted, so a resumed run sends the row
//     as never sent instead of marking it resubmitted;
//   - ReceiptThen for each delivery receipt that matches a message of the campaign; the
//     deliver_sm_resp waits for done, which must be called exactly once, with nil only once
//     the receipt is durable, because the SMSC forgets a receipt once it is acknowledged
//     (Config.Spool takes the others). done may run on any goroutine;
//   - Close once, after the last call.
//
// An error from AttemptSent stops the row before it is sent (it is reported not_sent); an error
// given to ReceiptThen's done makes the engine answer the deliver_sm with ESME_RX_T_APPN so
// the SMSC redelivers it later; other errors are reported as events. Any error is taken to
// be for good, as *journal.Writer's are (it takes no record after a failed write): the wait
// for receipts then ends, since none could be kept. *journal.Writer implements it.
type Journal interface {
	// AttemptSent records an attempt and returns the send time it records, which the Book
	// takes too, so that a rebuilt report judges receipts against the same instant.
	AttemptSent(row, part int, at time.Time) (sent time.Time, err error)
	Accepted(row, part int, messageID string, at time.Time) error
	Rejected(row int, err string, at time.Time) error
	Resubmitted(row, part int, at time.Time) error
	NotAccepted(row, part int, at time.Time) error
	ReceiptThen(r smpp.Receipt, at time.Time, done func(error))
	Close() error
}

// Spool keeps delivery receipts that match no message of the running campaign (carriers
// deliver receipts on whatever session is bound, so they often belong to an earlier run).
// ReceiptThen calls done exactly once, with nil only once the receipt is durable; an error
// makes the engine answer ESME_RX_T_APPN, as for Journal.ReceiptThen. It must be safe for
// concurrent use; the engine does not close it. *journal.Spool implements it.
type Spool interface {
	ReceiptThen(r smpp.Receipt, at time.Time, done func(error))
}

// Resume decides, for a rerun of an interrupted campaign, what to do with a row before it is
// sent: skip it because an earlier run settled it (the hook puts that outcome in the Book), or
// send it from part from on (the parts before were accepted by an earlier run, whose ids the
// hook puts in the Book), marking it resubmitted once written if resend says an earlier run
// wrote one of those parts but recorded no response (the SMSC may have it already). The
// engine calls it from one goroutine, in input
// order, right after Book.Add, for every row; for a row that is not to be sent (invalid,
// duplicate, excluded) the answer is ignored, but the hook may still record what an earlier
// run did with it. A nil Resume sends every row once. See Resumption.
type Resume func(row *csvin.Row) (skip bool, from int, resend bool)
