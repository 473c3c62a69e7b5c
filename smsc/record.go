package smsc

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

// Address is an SMPP address with its type of number and numbering plan indicator.
type Address struct {
	TON  uint8  `json:"ton"`
	NPI  uint8  `json:"npi"`
	Addr string `json:"addr"`
}

// Message is one accepted message as the simulator recorded it; the parts of a concatenated
// message (UDH or SAR TLVs) are reassembled into one Message.
type Message struct {
	Command     string   `json:"command"`                // "submit_sm" or "data_sm"
	SystemID    string   `json:"system_id"`              // of the session that sent the first part received
	ServiceType string   `json:"service_type,omitempty"` // of the first part received
	IDs         []string `json:"ids"`                    // message ids as sent in the responses, in part order
	Source      Address  `json:"source"`
	Destination Address  `json:"destination"`
	DataCoding  uint8    `json:"data_coding"`
	ESMClass    uint8    `json:"esm_class"` // of the first part received; 0x40 (UDHI) with a UDH
	// RegisteredDelivery is the client's receipt request (SMPP.md §6.2).
	RegisteredDelivery uint8 `json:"registered_delivery"`
	Parts              int   `json:"parts"`       // parts received
	TotalParts         int   `json:"total_parts"` // parts announced (1 for a single message)
	// Text is the decoded text, parts in order; "" with TextError when the octets do not
	// decode in their data_coding.
	Text      string `json:"text"`
	TextError string `json:"text_error,omitempty"`
	// Data is the user data of every part received, in part order, UDHs removed, as sent.
	Data []byte `json:"-"`
	// State is the fate the receipts report: DELIVRD, UNDELIV or EXPIRED.
	State    string    `json:"state"`
	Accepted time.Time `json:"accepted"` // when the first part received was accepted, in UTC
}

// Complete reports whether every announced part arrived.
func (m Message) Complete() bool { return m.Parts == m.TotalParts }

// recordPart is one accepted PDU of a message.
type recordPart struct {
	id     string
	data   []byte // user data after the UDH; shares the decoded PDU's copy
	seq    uint8  // position in the message, 1 for a single message
	udhLen uint16 // octets of UDH that preceded data (for packed septets' fill bits)
}

// record is a message as stored: cheap to create on the submit path, decoded only when
// Messages or the log asks for it. Its layout is compact because a load test keeps
// millions of them.
type record struct {
	systemID         string
	serviceType      string
	srcAddr, dstAddr string
	accepted         int64 // Unix nanoseconds, smaller than a time.Time
	first            recordPart
	more             []recordPart // parts 2.. in arrival order
	srcTON, srcNPI   uint8
	dstTON, dstNPI   uint8
	esm              uint8
	dataCoding       uint8
	regDelivery      uint8
	fate             smpp.MessageState
	total            uint8 // parts announced, 1 for a single message
	dataSM           bool  // received as data_sm rather than submit_sm
	closed           bool  // complete, or superseded: no part joins any more
}

func (r *record) parts() int { return 1 + len(r.more) }

func (r *record) hasPart(seq uint8) bool {
	return r.first.seq == seq || slices.ContainsFunc(r.more, func(p recordPart) bool { return p.seq == seq })
}

// groupKey identifies the parts of one concatenated message: same account, same addresses,
// same reference and total.
type groupKey struct {
	systemID, src, dst string
	ref                uint16
	total              uint8
}

// recordChunk is how many records one allocation holds: records never move, so an open
// multipart message can be updated in place, and the garbage collector sees few objects.
const recordChunk = 1024

// recorder keeps the accepted messages and reassembles multipart ones.
type recorder struct {
	discard bool
	packed  bool
	log     *messageLog

	mu     sync.Mutex
	chunks [][]record
	open   map[groupKey]*record
}

func (rc *recorder) init(discard, packed bool, log *messageLog) {
	rc.discard, rc.packed, rc.log = discard, packed, log
	rc.open = make(map[groupKey]*record)
}

// newRecord stores h and returns a stable pointer to it. Called with mu held.
func (rc *recorder) newRecord(h *record) *record {
	if rc.discard {
		r := *h
		return &r
	}
	if len(rc.chunks) == 0 || len(rc.chunks[len(rc.chunks)-1]) == recordChunk {
		rc.chunks = append(rc.chunks, make([]record, 0, recordChunk))
	}
	last := &rc.chunks[len(rc.chunks)-1]
	*last = append(*last, *h)
	return &(*last)[len(*last)-1]
}

// add records one accepted part. h carries the message fields (total 1 for a single
// message); concatenated parts are grouped by ref. A part whose position the open group
// already holds (a client resending after a lost response) closes that group as incomplete
// and starts a new one, so a message sent twice is recorded twice.
func (rc *recorder) add(h *record, p recordPart, ref uint16) {
	if h.total == 1 && rc.discard && rc.log == nil {
		return // nobody will ever read it
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if h.total == 1 {
		h.first, h.closed = p, true
		rc.finished(rc.newRecord(h))
		return
	}
	key := groupKey{systemID: h.systemID, src: h.srcAddr, dst: h.dstAddr, ref: ref, total: h.total}
	r := rc.open[key]
	if r != nil && r.hasPart(p.seq) {
		rc.closeGroup(key, r)
		r = nil
	}
	if r == nil {
		h.first = p
		r = rc.newRecord(h)
		rc.open[key] = r
	} else {
		r.more = append(r.more, p)
	}
	if r.parts() == int(r.total) {
		rc.closeGroup(key, r)
	}
}

func (rc *recorder) closeGroup(key groupKey, r *record) {
	r.closed = true
	delete(rc.open, key)
	rc.finished(r)
}

// finished hands a closed record to the log. Called with mu held.
func (rc *recorder) finished(r *record) {
	if rc.log != nil {
		rc.log.push(r)
	}
}

// closeOpenGroups closes every multipart message still waiting for parts (at Close).
func (rc *recorder) closeOpenGroups() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	open := make([]*record, 0, len(rc.open))
	for _, r := range rc.open {
		open = append(open, r)
	}
	slices.SortFunc(open, func(a, b *record) int { return cmp.Compare(a.accepted, b.accepted) })
	for _, r := range open {
		r.closed = true
		rc.finished(r)
	}
	clear(rc.open)
}

// Messages returns every accepted message in the order its first part was accepted,
// multipart messages still waiting for parts included (Complete reports false). With
// Config.DiscardMessages only the latter are kept.
func (s *Server) Messages() []Message {
	rc := &s.rec
	rc.mu.Lock()
	var snap []record
	if rc.discard {
		for _, r := range rc.open {
			snap = append(snap, r.snapshot())
		}
		slices.SortFunc(snap, func(a, b record) int { return cmp.Compare(a.accepted, b.accepted) })
	} else {
		n := 0
		for _, c := range rc.chunks {
			n += len(c)
		}
		snap = make([]record, 0, n)
		for _, c := range rc.chunks {
			for i := range c {
				snap = append(snap, c[i].snapshot())
			}
		}
	}
	rc.mu.Unlock()
	msgs := make([]Message, len(snap))
	for i := range snap {
		msgs[i] = snap[i].message(rc.packed)
	}
	return msgs
}

// snapshot copies r so that it can be read without the lock while parts may still join r.
func (r *record) snapshot() record {
	c := *r
	c.more = slices.Clone(r.more)
	return c
}

// message decodes a record that no goroutine modifies any more.
func (r *record) message(packed bool) Message {
	parts := make([]recordPart, 0, r.parts())
	parts = append(parts, r.first)
	parts = append(parts, r.more...)
	slices.SortStableFunc(parts, func(a, b recordPart) int { return cmp.Compare(a.seq, b.seq) })
	m := Message{
		Command:            "submit_sm",
		SystemID:           r.systemID,
		ServiceType:        r.serviceType,
		IDs:                make([]string, len(parts)),
		Source:             Address{TON: r.srcTON, NPI: r.srcNPI, Addr: r.srcAddr},
		Destination:        Address{TON: r.dstTON, NPI: r.dstNPI, Addr: r.dstAddr},
		DataCoding:         r.dataCoding,
		ESMClass:           r.esm,
		RegisteredDelivery: r.regDelivery,
		Parts:              len(parts),
		TotalParts:         int(r.total),
		State:              r.fate.Stat(),
		Accepted:           time.Unix(0, r.accepted).UTC(),
	}
	if r.dataSM {
		m.Command = "data_sm"
	}
	for i, p := range parts {
		m.IDs[i] = p.id
		m.Data = append(m.Data, p.data...)
	}
	text, err := decodeParts(parts, r.dataCoding, packed)
	if err != nil {
		m.TextError = err.Error()
	} else {
		m.Text = text
	}
	return m
}

// decodeParts decodes the user data of parts (in order) as one text. GSM 7-bit parts are
// joined as septets first, since an escape pair can straddle a part boundary in sloppy
// clients; with packed, data_coding 0 octets are packed septets after each part's UDH.
func decodeParts(parts []recordPart, dataCoding uint8, packed bool) (string, error) {
	if dataCoding == 0 && packed {
		var septets []byte
		for _, p := range parts {
			septets = append(septets, coding.UnpackUserData(p.data, int(p.udhLen))...)
		}
		return coding.DecodeGSM7(septets)
	}
	if len(parts) == 1 {
		return coding.Decode(parts[0].data, dataCoding)
	}
	var data []byte
	for _, p := range parts {
		data = append(data, p.data...)
	}
	return coding.Decode(data, dataCoding)
}
