package send

import (
	"context"
	"errors"

	"smscast/smpp"
)

// verdict is what the engine does with the outcome of one submit_sm.
type verdict uint8

const (
	vAccepted  verdict = iota // status 0: the part is done
	vRejected                 // a permanent status or a PDU that cannot be built: the row is rejected
	vRetry                    // a transient status: retry after a backoff; counts an attempt
	vThrottled                // ESME_RTHROTTLED / ESME_RMSGQFUL: slow down and retry; no attempt counted
	vTimeout                  // no response in time: outcome unknown; a late response may still settle it
	vLost                     // connection lost while in flight: outcome unknown; resend on the next session
	vNotSent                  // never written (session closing, window wait ended): try again
)

var verdictNames = [...]string{"accepted", "rejected", "retry", "throttled", "timeout", "lost", "not_sent"}

func (v verdict) String() string { return verdictNames[v] }

// judge classifies the error of Session.Submit (nil = accepted). The status classes come from
// package smpp: transient statuses are retried; session-state statuses (such as
// ESME_RINVBNDSTS from an SMSC that is unbinding) are retried too, because the next session
// fixes them; bind-class statuses cannot answer a submit_sm and are treated the same way;
// every other status is permanent for this message.
func judge(err error) verdict {
	if err == nil {
		return vAccepted
	}
	var st smpp.Status
	switch {
	case errors.As(err, &st):
		switch {
		case st == smpp.StatusOK:
			return vAccepted
		case st == smpp.StatusThrottled || st == smpp.StatusMsgQFul:
			return vThrottled
		case st.Temporary(), st.Class() == smpp.ClassSession, st.Class() == smpp.ClassBind:
			return vRetry
		}
		return vRejected
	case errors.Is(err, smpp.ErrNotSent):
		// First: a request refused by a session that had just died wraps the session's
		// end (ErrConnectionLost) too, but it never left, so resending it is no resubmission.
		return vNotSent
	case errors.Is(err, smpp.ErrResponseTimeout):
		return vTimeout
	case errors.Is(err, smpp.ErrConnectionLost), errors.Is(err, smpp.ErrUnexpectedResponse):
		// A response of another command leaves the outcome as unknown as a drop does.
		return vLost
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return vNotSent
	}
	// Anything else (a field too long for its PDU, say) will fail the same way every time.
	return vRejected
}

// bindRefused reports whether a bind error means the SMSC will not take this bind, so
// retrying before any bind succeeded only hammers it: the credentials (ESME_RINVPASWD,
// ESME_RINVSYSID, ESME_RBINDFAIL, ESME_RINVSYSTYP), or the bind itself (ESME_RINVCMDID: an
// SMSC from before SMPP 3.4 knows no bind_transceiver). Once a bind has succeeded the same
// ESME_RBINDFAIL usually means the SMSC still holds a dropped bind, and is retried.
func bindRefused(err error) (smpp.Status, bool) {
	var st smpp.Status
	if !errors.As(err, &st) {
		return 0, false
	}
	switch st {
	case smpp.StatusInvPaswd, smpp.StatusInvSysID, smpp.StatusBindFail, smpp.StatusInvSysTyp, smpp.StatusInvCmdID:
		return st, true
	}
	return st, false
}
