package send

import (
	"time"

	"smscast/smpp"
)

// Journal records campaign events durably; nil means no journal. The engine calls it at
// exactly these points, from many goroutines at once, so implementations must be safe for
// concurrent use:
//   - Attempt before each submit_sm is written (part is 0-based; a resend is a new attempt);
//   - Accepted when a submit_sm_resp with status 0 arrives, late ones included;
//   - Rejected when a row ends without being accepted (permanent status, attempts used up,
//     given up), with the error text the report shows, such as "0x0000000B ESME_RINVDSTADR";
//   - Receipt for each delivery receipt, before the deliver_sm_resp is sent: it must return only
//     once the receipt is durable, because the SMSC forgets a receipt once it is acknowledged;
//   - Close once, after the last call.
//
// An error from Attempt stops the row before it is sent (it is reported not_sent); an error
// from Receipt makes the engine answer the deliver_sm with ESME_RX_T_APPN so the SMSC
// redelivers it later; other errors are reported as events.
type Journal interface {
	Attempt(row, part int, at time.Time) error
	Accepted(row, part int, messageID string, at time.Time) error
	Rejected(row int, err string, at time.Time) error
	Receipt(r smpp.Receipt, at time.Time) error
	Close() error
}

// Resume decides, for a rerun of an interrupted campaign, what to do with a row before it is
// sent: skip it because an earlier run has it accepted (the caller has already put its state in
// the report), or send it again and mark it resubmitted because an earlier run wrote it but
// recorded no response (the SMSC may have it already). A nil Resume sends every row once.
type Resume func(row int) (skip, resend bool)
