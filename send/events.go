package send

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// EventKind says what happened in an Event.
type EventKind uint8

// The events a campaign reports while it runs. The engine never prints: progress output and
// logs are made from these and from Snapshot.
const (
	EventBound          EventKind = iota + 1 // a session is bound (Bind, Detail = the SMSC's system_id)
	EventBindFailed                          // connecting or binding failed; retried at Until (Bind, Err)
	EventConnectionLost                      // a session ended; requests in flight are resent (Bind, Err)
	EventRate                                // the pacing rate changed (Rate; Err = the throttling status on a cut)
	EventPaused                              // outside --send-between: sending pauses until Until
	EventResumed                             // inside --send-between again
	EventStopping                            // Stop was called: no new rows are taken (Detail "receipts": it ended the wait for receipts)
	EventLateResponse                        // a submit_sm_resp arrived after its timeout (Row, Detail = message id)
	EventWarning                             // something failed that does not stop the campaign (Err)
)

var eventNames = [...]string{
	EventBound:          "bound",
	EventBindFailed:     "bind_failed",
	EventConnectionLost: "connection_lost",
	EventRate:           "rate",
	EventPaused:         "paused",
	EventResumed:        "resumed",
	EventStopping:       "stopping",
	EventLateResponse:   "late_response",
	EventWarning:        "warning",
}

// String is the event's name in logs, such as "connection_lost".
func (k EventKind) String() string {
	if int(k) < len(eventNames) && eventNames[k] != "" {
		return eventNames[k]
	}
	return fmt.Sprintf("event(%d)", uint8(k))
}

// Event is one notable thing that happened during a campaign.
type Event struct {
	Time time.Time
	Kind EventKind
	Bind int // 1-based bind number; 0 when the event is not about one bind
	// Receiver marks the events of the receiver session (Config.Receiver), numbered after
	// the binds that send.
	Receiver bool
	Row      int       // data-row number; 0 when the event is not about one row
	Rate     float64   // EventRate: PDUs per second now in force; +Inf = unlimited
	Until    time.Time // EventPaused: when sending resumes; EventBindFailed: the next attempt
	Detail   string
	Err      error
}

// String is the event as one line of text for a log, without the time.
func (e Event) String() string {
	switch e.Kind {
	case EventBound:
		return fmt.Sprintf("%s: bound to the SMSC %q", e.bindName(), e.Detail)
	case EventBindFailed:
		// The wait, not a clock reading: the log line's own time may be in another zone.
		from := e.Time
		if from.IsZero() {
			from = time.Now()
		}
		return fmt.Sprintf("%s: %v; retrying in %v", e.bindName(), e.Err, max(e.Until.Sub(from), 0).Round(100*time.Millisecond))
	case EventConnectionLost:
		var forgotten *bindForgottenError
		if errors.As(e.Err, &forgotten) {
			// The connection stayed up and every request got its answer: nothing is resent
			// that the SMSC accepted; the refused ones go out on the new bind.
			return fmt.Sprintf("%s: %v; binding again, the submits it refused go out on the new bind", e.bindName(), e.Err)
		}
		if e.Receiver {
			return fmt.Sprintf("%s: connection lost (%v); rebinding (receipts wait at the SMSC meanwhile)", e.bindName(), e.Err)
		}
		return fmt.Sprintf("%s: connection lost (%v); rebinding, requests in flight will be resent", e.bindName(), e.Err)
	case EventRate:
		if e.Err != nil {
			return fmt.Sprintf("SMSC answered %v: rate lowered to %s", e.Err, FormatRate(e.Rate))
		}
		return "rate raised to " + FormatRate(e.Rate)
	case EventPaused:
		return "outside the sending hours: paused until " + e.Until.Format("2006-01-02 15:04 MST")
	case EventResumed:
		return "inside the sending hours: resumed"
	case EventStopping:
		if e.Detail == stoppingTheWait {
			return "stopping: no longer waiting for receipts; the report has those collected so far"
		}
		return "stopping: no new rows; waiting for responses in flight"
	case EventLateResponse:
		return fmt.Sprintf("row %d: submit_sm_resp arrived after its timeout (message id %q)", e.Row, e.Detail)
	case EventWarning:
		return fmt.Sprintf("warning: %v", e.Err)
	}
	return e.Kind.String()
}

// bindName names the event's bind: "bind 2", or "bind 3 (receiver)".
func (e Event) bindName() string {
	if e.Receiver {
		return fmt.Sprintf("bind %d (receiver)", e.Bind)
	}
	return fmt.Sprintf("bind %d", e.Bind)
}

// FormatRate is a pacing rate for people: "250/s", or "unlimited".
func FormatRate(perSecond float64) string {
	if math.IsInf(perSecond, 1) || perSecond <= 0 {
		return "unlimited"
	}
	switch {
	case perSecond < 1: // two significant digits: 0.04/s is not 0/s, which reads as none
		two, _ := strconv.ParseFloat(strconv.FormatFloat(perSecond, 'g', 2, 64), 64)
		return strconv.FormatFloat(two, 'f', -1, 64) + "/s" // no exponent: 0.00001/s
	case perSecond < 10: // one decimal where it matters: "2.5/s", but "5/s" as given
		return strconv.FormatFloat(math.Round(perSecond*10)/10, 'f', -1, 64) + "/s"
	}
	return fmt.Sprintf("%.0f/s", perSecond)
}

// Snapshot is the campaign's progress at one moment; Campaign.Snapshot takes one.
type Snapshot struct {
	Time    time.Time // when the snapshot was taken
	Started time.Time // when Run started

	Total       int // rows expected in all (Config.Total; the rows read once the input ended); 0 = unknown
	Rows        int // rows read from the input so far
	Done        int // rows with an outcome: accepted, rejected, skipped or not sent
	Accepted    int // rows whose every part the SMSC accepted (resubmitted ones included)
	Failed      int // rows rejected by the SMSC or given up
	Skipped     int // rows not sent on purpose: invalid, duplicate, excluded, or done in an earlier run
	Resubmitted int // rows sent again after an unknown outcome

	PDUs      int64 // submit_sm written, every part and every attempt
	Receipts  int   // rows with a final receipt state, as in the summary (earlier runs' included)
	Pending   int   // accepted rows still waiting for a final receipt (earlier runs' included)
	Throttled int64 // ESME_RTHROTTLED and ESME_RMSGQFUL answers
	InFlight  int   // submit_sm awaiting a response, all binds
	Bound     int   // sessions bound now

	Rate   float64 // pacing rate in force, PDUs per second; +Inf = unlimited
	Paused bool    // outside --send-between
	// PausedFor is the time spent outside --send-between so far, the pause under way
	// included: not sending time, for a rate or an ETA.
	PausedFor time.Duration
}
