package smsc

import "time"

// Stats counts what the simulator saw since it started.
//
// Every submit_sm and data_sm that decoded is counted once in Submits and once in exactly
// one of Accepted, Rejected, Throttled and QueueFull.
type Stats struct {
	Sessions     int `json:"sessions"`      // binds accepted
	BindFailures int `json:"bind_failures"` // binds refused (wrong credentials, already bound, over MaxBinds)

	Submits   int `json:"submits"`    // submit_sm and data_sm received
	Accepted  int `json:"accepted"`   // answered with a message id (or dropped by DropAfter)
	Rejected  int `json:"rejected"`   // refused by a destination rule or the session state
	Throttled int `json:"throttled"`  // answered ESME_RTHROTTLED
	QueueFull int `json:"queue_full"` // answered ESME_RMSGQFUL

	ReceiptsSent      int `json:"receipts_sent"`      // deliver_sm receipts written, resends included
	ReceiptsResent    int `json:"receipts_resent"`    // of which resends
	ReceiptsAcked     int `json:"receipts_acked"`     // receipts (and reply parts) answered with deliver_sm_resp status 0
	ReceiptsAbandoned int `json:"receipts_abandoned"` // receipts (and reply parts) given up after Config.ReceiptAttempts
	ReceiptsPending   int `json:"receipts_pending"`   // receipts (and reply parts) scheduled, queued or awaiting their response
	DeliverSMResp     int `json:"deliver_sm_resp"`    // deliver_sm_resp received, whatever the status
	RepliesSent       int `json:"replies_sent"`       // deliver_sm of handsets' replies (Config.ReplyPrefixes) written, resends included

	Drops   int `json:"drops"`   // connections closed by DropAfter
	Unbinds int `json:"unbinds"` // unbinds sent by UnbindAfter
	// ForgottenBinds counts the sessions whose bind ForgetBindAfter forgot.
	ForgottenBinds int `json:"forgotten_binds"`
	GenericNacks   int `json:"generic_nacks"` // malformed or unhandled PDUs answered with generic_nack

	EnquireLinksSent     int `json:"enquire_links_sent"`     // enquire_link probes sent (Config.EnquireLinkInterval)
	EnquireLinksAnswered int `json:"enquire_links_answered"` // probes answered with enquire_link_resp, whatever the status
	EnquireLinkDrops     int `json:"enquire_link_drops"`     // connections closed for a probe left unanswered

	// MaxOutstanding is the largest number of submit_sm and data_sm one session had
	// outstanding at the simulator (received, response not yet sent): never more than the
	// client's window. enquire_link and unbind are not counted, since a client may send
	// them outside its window.
	MaxOutstanding int `json:"max_outstanding"`

	// Buckets has one entry per wall-clock second in which submits arrived, oldest first.
	Buckets []Bucket `json:"-"`
}

// Bucket counts the submit_sm and data_sm of one wall-clock second.
type Bucket struct {
	Second   time.Time // the start of the second
	Submits  int       // received, whatever the answer
	Accepted int
}

// MaxSubmitsPerSecond is the largest Submits of any bucket: what a rate limit must keep
// under the carrier's.
func (s Stats) MaxSubmitsPerSecond() int {
	m := 0
	for _, b := range s.Buckets {
		m = max(m, b.Submits)
	}
	return m
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	var st Stats
	s.adm.snapshot(&st)
	s.receipts.snapshot(&st)
	st.Sessions = int(s.sessions.Load())
	st.BindFailures = int(s.bindFailures.Load())
	st.Drops = int(s.drops.Load())
	st.Unbinds = int(s.unbinds.Load())
	st.ForgottenBinds = int(s.forgets.Load())
	st.GenericNacks = int(s.genericNacks.Load())
	st.EnquireLinksSent = int(s.enquireLinksSent.Load())
	st.EnquireLinksAnswered = int(s.enquireLinksAnswered.Load())
	st.EnquireLinkDrops = int(s.enquireLinkDrops.Load())
	st.MaxOutstanding = int(s.maxOutstanding.Load())
	return st
}
