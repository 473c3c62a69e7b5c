package smsc

import (
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

// idGenerator hands out message ids: a random base plus a counter, so ids are unique within
// a server and, in practice, across simulator runs (a receipt from an earlier run must not
// match a message of the next one).
type idGenerator struct {
	base uint64
	n    atomic.Uint64
}

// newIDGenerator starts at first (Config.FirstID), or at random when it is 0.
func newIDGenerator(first uint64) idGenerator {
	if first > 0 {
		return idGenerator{base: first - 1}
	}
	// Between 2^36 and 2^40: ten hex digits, twelve or thirteen decimal ones.
	return idGenerator{base: 1<<36 + rand.Uint64N(1<<40-1<<36-1<<32)}
}

func (g *idGenerator) next() uint64 { return g.base + g.n.Add(1) }

func formatID(n uint64, f IDFormat) string {
	if f == IDDec {
		return strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 16)
}

// outcome applies the destination rules of Config: the status to answer a submit with
// (StatusOK to accept) and the final state its receipts will report.
func (s *Server) outcome(dest string) (smpp.Status, smpp.MessageState) {
	if dest == "" || hasAnyPrefix(dest, s.cfg.RejectPrefixes) {
		return smpp.StatusInvDstAdr, smpp.StateRejected
	}
	if hasAnyPrefix(dest, s.cfg.UndelivPrefixes) {
		return smpp.StatusOK, smpp.StateUndeliverable
	}
	if hasAnyPrefix(dest, s.cfg.ExpirePrefixes) {
		return smpp.StatusOK, smpp.StateExpired
	}
	if s.cfg.UndelivRatio > 0 && destinationFraction(s.cfg.Seed, dest) < s.cfg.UndelivRatio {
		return smpp.StatusOK, smpp.StateUndeliverable
	}
	return smpp.StatusOK, smpp.StateDelivered
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if p != "" && strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// destinationFraction maps (seed, destination) to a number in [0, 1) that is the same on
// every run, so that --undeliv-ratio picks the same destinations whatever the order of
// submits.
func destinationFraction(seed int64, dest string) float64 {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(dest))
	// FNV alone barely moves its top bits for destinations that differ in the last digits;
	// the splitmix64 finaliser spreads every input bit over the whole word.
	x := h.Sum64()
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}

// admission counts submit_sm and data_sm per wall-clock second and applies the throttle and
// queue-full limits. One mutex guards it all: the decision and the counts must agree.
type admission struct {
	throttleTPS, queueFullAfter int

	mu                          sync.Mutex
	curSec                      int64  // Unix second of cur; 0 before the first submit
	cur                         Bucket // the current second
	past                        []Bucket
	submits, accepted, rejected int64
	throttled, queueFull        int64
}

// admit decides a submit_sm or data_sm received at now. state is the status the session
// state imposes (StatusOK when bound to submit) and rule the one the destination rules gave.
// It returns the status to answer and, when that is StatusOK, the message's position in the
// server-wide count of accepted messages (1 for the first).
func (a *admission) admit(now time.Time, state, rule smpp.Status) (smpp.Status, int64) {
	sec := now.Unix()
	a.mu.Lock()
	defer a.mu.Unlock()
	if sec != a.curSec {
		if a.curSec != 0 {
			a.past = append(a.past, a.cur)
		}
		a.curSec, a.cur = sec, Bucket{Second: time.Unix(sec, 0)}
	}
	a.submits++
	a.cur.Submits++
	var status smpp.Status
	switch {
	case state != smpp.StatusOK:
		status = state
		a.rejected++
	case a.throttleTPS > 0 && a.cur.Submits > a.throttleTPS:
		status = smpp.StatusThrottled
		a.throttled++
	case a.queueFullAfter > 0 && a.cur.Accepted >= a.queueFullAfter:
		status = smpp.StatusMsgQFul
		a.queueFull++
	case rule != smpp.StatusOK:
		status = rule
		a.rejected++
	default:
		a.accepted++
		a.cur.Accepted++
		return smpp.StatusOK, a.accepted
	}
	return status, 0
}

// snapshot fills the admission counters of st.
func (a *admission) snapshot(st *Stats) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st.Submits = int(a.submits)
	st.Accepted = int(a.accepted)
	st.Rejected = int(a.rejected)
	st.Throttled = int(a.throttled)
	st.QueueFull = int(a.queueFull)
	st.Buckets = make([]Bucket, len(a.past), len(a.past)+1)
	copy(st.Buckets, a.past)
	if a.curSec != 0 {
		st.Buckets = append(st.Buckets, a.cur)
	}
}

// submission is what the simulator needs of a submit_sm or data_sm.
type submission struct {
	cmd                          smpp.CommandID
	serviceType                  string
	src, dst                     Address
	esm, regDelivery, dataCoding uint8
	shortMessage                 []byte // nil for data_sm
	tlvs                         smpp.TLVs
	schedule, validity           string // submit_sm's schedule_delivery_time and validity_period
	priority, replaceIfPresent   uint8  // submit_sm's; 0 for data_sm
}

// check refuses what a real SMSC refuses in a submit_sm or data_sm, with the status SMPP.md
// gives for it, so that a client's encoder bugs show in a rehearsal: OK when nothing is wrong.
func (s *submission) check() smpp.Status {
	switch {
	case s.esm&0x3C != 0 && s.esm&0x3C != 0x08 && s.esm&0x3C != 0x10:
		return smpp.StatusInvESMClass // message type: normal, delivery ack or user ack only
	case s.priority > 3:
		return smpp.StatusInvPrtFlg
	case s.replaceIfPresent > 1:
		return smpp.StatusInvRepFlag
	case s.src.TON > 6:
		return smpp.StatusInvSrcTON
	case s.dst.TON > 6:
		return smpp.StatusInvDstTON
	case s.dst.TON != 5 && !allDigits(s.dst.Addr):
		return smpp.StatusInvDstAdr // only an alphanumeric address may hold other than digits
	case len(s.shortMessage) > 254:
		return smpp.StatusInvMsgLen // sm_length 255 is not allowed
	}
	if _, ok := s.tlvs.Get(smpp.TagMessagePayload); ok && len(s.shortMessage) > 0 {
		return smpp.StatusInvMsgLen // the text goes in one of the two, never both
	}
	return s.checkSAR()
}

// checkSAR checks the sar_* TLVs: all three or none, of their sizes, the segment within the
// total, and not together with a UDH.
func (s *submission) checkSAR() smpp.Status {
	ref, hasRef := s.tlvs.Get(smpp.TagSarMsgRefNum)
	total, hasTotal := s.tlvs.Get(smpp.TagSarTotalSegments)
	seq, hasSeq := s.tlvs.Get(smpp.TagSarSegmentSeqnum)
	switch {
	case !hasRef && !hasTotal && !hasSeq:
		return smpp.StatusOK
	case !hasRef || !hasTotal || !hasSeq:
		return smpp.StatusMissingOptParam
	case len(ref) != 2 || len(total) != 1 || len(seq) != 1:
		return smpp.StatusInvParLen
	case total[0] == 0 || seq[0] == 0 || seq[0] > total[0]:
		return smpp.StatusInvOptParamVal
	case s.esm&esmUDHI != 0:
		return smpp.StatusOptParNotAllwd // a UDH already says how the message is split
	}
	return smpp.StatusOK
}

// allDigits reports whether s is a non-empty string of ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// times reads schedule_delivery_time and validity_period at now (zero when not set), or the
// status that refuses a malformed one.
func (s *submission) times(now time.Time) (schedule, validity time.Time, status smpp.Status) {
	parse := func(v string) (time.Time, bool) {
		if v == "" {
			return time.Time{}, true
		}
		t, err := smpp.ParseTime(v, now)
		return t, err == nil
	}
	schedule, ok := parse(s.schedule)
	if !ok {
		return schedule, validity, smpp.StatusInvSched
	}
	if validity, ok = parse(s.validity); !ok {
		return schedule, validity, smpp.StatusInvExpiry
	}
	return schedule, validity, smpp.StatusOK
}

// esmUDHI is the esm_class bit saying user data starts with a UDH.
const esmUDHI = 0x40

// concatenation locates one PDU's user data and its place in a concatenated message: a UDH
// (IEI 0x00 or 0x08) or the sar_* TLVs. total is 1 for a single message.
func (s *submission) concatenation() (part recordPart, ref uint16, total uint8) {
	data := s.shortMessage
	if len(data) == 0 {
		if payload, ok := s.tlvs.Get(smpp.TagMessagePayload); ok {
			data = payload
		}
	}
	part = recordPart{seq: 1, data: data}
	if s.esm&esmUDHI != 0 && len(data) > 0 {
		udhLen := 1 + int(data[0])
		if udhLen > len(data) {
			return part, 0, 1 // UDHI set but no room for the UDH it announces: keep it all
		}
		part.data, part.udhLen = data[udhLen:], uint16(udhLen)
		if r, t, seq, _, ok := coding.ParseUDH(data); ok {
			part.seq = seq
			return part, r, t
		}
		return part, 0, 1 // a UDH without concatenation (ports, ...)
	}
	r, ok1 := s.tlvs.Uint16(smpp.TagSarMsgRefNum)
	t, ok2 := s.tlvs.Uint8(smpp.TagSarTotalSegments)
	seq, ok3 := s.tlvs.Uint8(smpp.TagSarSegmentSeqnum)
	if ok1 && ok2 && ok3 && t > 0 && seq > 0 && seq <= t {
		part.seq = seq
		return part, r, t
	}
	return part, 0, 1
}

// wantsReceipt applies registered_delivery bits 1–0 (SMPP.md §6.2): 1 always, 2 on failure
// only, 3 (reserved in 3.4) on success only as in v5.0.
func wantsReceipt(registeredDelivery uint8, fate smpp.MessageState) bool {
	switch registeredDelivery & 0x03 {
	case 1:
		return true
	case 2:
		return fate != smpp.StateDelivered
	case 3:
		return fate == smpp.StateDelivered
	}
	return false
}

// submit handles submit_sm and data_sm: admission, record, receipt, response, and the
// drop and unbind faults. It reports false when the connection was dropped.
func (c *conn) submit(h smpp.Header, sub submission) bool {
	c.noteRequest()
	state := smpp.StatusOK
	// SMPP.md §11.1: a receiver may send data_sm but not submit_sm.
	if !c.bound || c.unbinding || (c.mode == smpp.BindReceiver && sub.cmd == smpp.SubmitSMID) {
		state = smpp.StatusInvBndSts
	}
	srv := c.srv
	now := time.Now()
	schedule, validity, timeStatus := sub.times(now)
	if state == smpp.StatusOK {
		state = timeStatus
	}
	if state == smpp.StatusOK {
		state = sub.check()
	}
	rule, fate := srv.outcome(sub.dst.Addr)
	status, n := srv.adm.admit(now, state, rule)
	if status != smpp.StatusOK {
		c.respondMessage(h.Sequence, sub.cmd, status, "")
		return true
	}
	// The receipt comes after the delay from the scheduled time; a message whose validity
	// ends before that expires then, unless it was rejected anyway.
	due := now
	if schedule.After(now) {
		due = schedule
	}
	due = due.Add(srv.receiptDelay()) // the receipt's, and the reply's just before it
	if !validity.IsZero() && validity.Before(due) && fate == smpp.StateDelivered {
		fate, due = smpp.StateExpired, validity
		if due.Before(now) {
			due = now
		}
	}
	num := srv.ids.next()
	id := formatID(num, srv.cfg.IDFormat)
	part, ref, total := sub.concatenation()
	part.id = id
	rec := record{
		systemID: c.systemID, serviceType: sub.serviceType, srcAddr: sub.src.Addr, dstAddr: sub.dst.Addr, accepted: now.UnixNano(),
		srcTON: sub.src.TON, srcNPI: sub.src.NPI, dstTON: sub.dst.TON, dstNPI: sub.dst.NPI,
		esm: sub.esm, dataCoding: sub.dataCoding, regDelivery: sub.regDelivery,
		fate: fate, total: total, dataSM: sub.cmd == smpp.DataSMID,
	}
	srv.rec.add(&rec, part, ref)
	var rcpt *receipt
	if wantsReceipt(sub.regDelivery, fate) {
		rcpt = &receipt{
			systemID:   c.systemID,
			id:         formatID(num, srv.cfg.ReceiptIDFormat),
			src:        sub.src,
			dst:        sub.dst,
			fate:       fate,
			submitted:  now,
			due:        due,
			part:       part,
			dataCoding: sub.dataCoding,
		}
	}
	if len(srv.dropAt) > 0 && srv.dropAt[n] {
		// Accepted, but the response is lost with the connection: the receipt still comes,
		// on a later session.
		c.scheduleReceipt(rcpt)
		srv.drops.Add(1)
		c.close()
		return false
	}
	c.respondMessage(h.Sequence, sub.cmd, smpp.StatusOK, id)
	// Only now: the receipt goes through the same outbox after the response, so it can never
	// reach the client before the message id it refers to. A reply goes just before the
	// receipt, so that a campaign that waits for its receipts has the replies too.
	if part.seq <= 1 && fate == smpp.StateDelivered && hasAnyPrefix(sub.dst.Addr, srv.cfg.ReplyPrefixes) {
		for _, r := range srv.reply(c.systemID, sub, due) {
			c.scheduleReceipt(r)
		}
	}
	c.scheduleReceipt(rcpt)
	if len(srv.unbindAt) > 0 && srv.unbindAt[n] {
		c.startUnbind()
	}
	if len(srv.forgetAt) > 0 && srv.forgetAt[n] && !c.unbinding {
		c.leaveReceipts() // no more submits or receipts on it; the connection stays
		srv.forgets.Add(1)
	}
	return true
}

// reply is the handset's answer to a message: its parts, from the message's destination to
// its sender, due at due. GSM 7-bit goes packed with Config.GSM7Packed, as the SMSC wants it.
func (s *Server) reply(systemID string, sub submission, due time.Time) []*receipt {
	opt := coding.Options{Split: coding.SplitUDH, Ref: uint16(s.nextReplyRef(sub.dst.Addr)), Packed: s.cfg.GSM7Packed}
	msg, err := coding.SplitText(s.cfg.ReplyText, opt)
	if err != nil {
		return nil // checked by NewServer
	}
	rs := make([]*receipt, len(msg.Parts))
	for i, p := range msg.Parts {
		rs[i] = &receipt{systemID: systemID, src: sub.src, dst: sub.dst, due: due, dataCoding: msg.DataCoding,
			reply: p.ShortMessage, replyESM: p.ESMClass}
	}
	return rs
}

// nextReplyRef is the concatenation reference of handset's next reply: one more than its
// last, starting anywhere, as a handset's does, so that replies of one handset differ (a
// client recognises a part sent again by its reference and octets).
func (s *Server) nextReplyRef(handset string) uint8 {
	s.replyMu.Lock()
	defer s.replyMu.Unlock()
	ref, ok := s.replyRefs[handset]
	if !ok {
		ref = uint8(rand.Uint32())
	}
	ref++
	s.replyRefs[handset] = ref
	return ref
}

// scheduleReceipt queues r (nil = no receipt) for the receipt goroutine, which the reader
// wakes once per burst.
func (c *conn) scheduleReceipt(r *receipt) {
	if r != nil && c.srv.receipts.schedule(r) {
		c.wakeReceipts = true
	}
}

// respondMessage answers a submit_sm or data_sm; id is "" when status is not 0, and the
// response is then header only.
func (c *conn) respondMessage(seq uint32, cmd smpp.CommandID, status smpp.Status, id string) {
	if cmd == smpp.DataSMID {
		c.dataResp.MessageID = id
		c.respond(seq, status, &c.dataResp, true)
		return
	}
	c.submitResp.MessageID = id
	c.respond(seq, status, &c.submitResp, true)
}

// receiptDelay is Config.ReceiptDelay plus a random share of Config.ReceiptJitter.
func (s *Server) receiptDelay() time.Duration {
	d := s.cfg.ReceiptDelay
	if s.cfg.ReceiptJitter > 0 {
		d += rand.N(s.cfg.ReceiptJitter)
	}
	return d
}
