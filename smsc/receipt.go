package smsc

import (
	"container/heap"
	"slices"
	"sync"
	"time"

	"smscast/smpp"
)

// receipt is one delivery receipt (one per accepted part), or one part of a handset's reply
// (Config.ReplyPrefixes), on its way to the client.
type receipt struct {
	systemID   string
	id         string  // the message id, in Config.ReceiptIDFormat
	src, dst   Address // of the submitted message; the receipt travels from dst to src
	fate       smpp.MessageState
	submitted  time.Time
	due        time.Time // when to send it (next)
	done       time.Time // the receipt's done date: when it was first sent
	part       recordPart
	dataCoding uint8
	attempts   int    // times sent so far
	order      uint64 // tie-break for equal due times: first scheduled, first sent

	// A reply: its short_message (with its UDH, if any) and esm_class; nil for a receipt.
	reply    []byte
	replyESM uint8
}

// networkError is a receipt's err: field and the code in its network_error_code TLV (GSM,
// then a 2-octet MAP error).
type networkError struct {
	err  string
	code uint16
}

// networkErrors per fate: 1 unknown subscriber for UNDELIV, 27 absent subscriber for
// EXPIRED, none for DELIVRD.
var networkErrors = map[smpp.MessageState]networkError{
	smpp.StateDelivered:     {"000", 0},
	smpp.StateUndeliverable: {"001", 1},
	smpp.StateExpired:       {"027", 27},
}

// deliverSM builds the receipt PDU into p, with its octets in buf (reused, returned grown):
// the App. B text and the receipted_message_id, message_state and network_error_code TLVs.
func (r *receipt) deliverSM(p *smpp.DeliverSM, buf []byte, packed bool) []byte {
	if r.reply != nil {
		*p = smpp.DeliverSM{
			SourceAddrTON: r.dst.TON, SourceAddrNPI: r.dst.NPI, SourceAddr: r.dst.Addr,
			DestAddrTON: r.src.TON, DestAddrNPI: r.src.NPI, DestinationAddr: r.src.Addr,
			ESMClass: r.replyESM, DataCoding: r.dataCoding, ShortMessage: r.reply, TLVs: p.TLVs[:0],
		}
		return buf
	}
	ne := networkErrors[r.fate]
	code := ne.code
	// The text: field comes last, so the excerpt (at most 20 characters, one octet each)
	// can follow the rest of the text directly.
	v := smpp.AppendReceiptText(buf[:0], smpp.Receipt{
		ID:         r.id,
		SubmitDate: r.submitted,
		DoneDate:   r.done,
		State:      r.fate,
		Err:        ne.err,
	})
	v = appendReceiptExcerpt(v, r.part, r.dataCoding, packed)
	textLen := len(v) // the TLV values follow the text in v
	n := textLen
	// receipted_message_id is the id as submit_sm_resp gave it: ReceiptIDFormat's quirk
	// (another format) is the text's, as at the carriers it imitates.
	v = append(append(v, r.part.id...), 0, byte(r.fate), 3, byte(code>>8), byte(code))
	id := v[n : n+len(r.part.id)+1 : n+len(r.part.id)+1]
	n += len(id)
	tlvs := append(p.TLVs[:0],
		smpp.TLV{Tag: smpp.TagReceiptedMessageID, Value: id},
		smpp.TLV{Tag: smpp.TagMessageState, Value: v[n : n+1 : n+1]},
		smpp.TLV{Tag: smpp.TagNetworkErrorCode, Value: v[n+1:]})
	*p = smpp.DeliverSM{
		SourceAddrTON: r.dst.TON, SourceAddrNPI: r.dst.NPI, SourceAddr: r.dst.Addr,
		DestAddrTON: r.src.TON, DestAddrNPI: r.src.NPI, DestinationAddr: r.src.Addr,
		ESMClass:     0x04, // SMSC delivery receipt
		ShortMessage: v[:textLen:textLen],
		TLVs:         tlvs,
	}
	return v
}

// appendReceiptExcerpt appends the start of the part's text for the receipt's text: field,
// at most 20 characters, limited to characters that GSM 7-bit and ASCII encode alike: the
// receipt goes out with data_coding 0, and parsers read it either way. Others become '?'.
func appendReceiptExcerpt(dst []byte, p recordPart, dataCoding uint8, packed bool) []byte {
	// 80 octets hold 20 characters in every encoding (UCS-2 surrogate pairs and GSM escapes
	// included); a prefix that cuts a pair in two does not decode, then the whole part is.
	prefix := p
	prefix.data = p.data[:min(len(p.data), 80)]
	text, err := decodeParts([]recordPart{prefix}, dataCoding, packed)
	if err != nil {
		if text, err = decodeParts([]recordPart{p}, dataCoding, packed); err != nil {
			return dst
		}
	}
	n := 0
	for _, r := range text {
		if n == 20 {
			break
		}
		n++
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == ' ', r == '!', r == '"', r == '#', r >= '%' && r <= '/', r >= ':' && r <= '?':
			dst = append(dst, byte(r))
		case r == '\n' || r == '\r':
			dst = append(dst, ' ')
		default:
			dst = append(dst, '?')
		}
	}
	return dst
}

// receiptHeap orders receipts by due time.
type receiptHeap []*receipt

func (h receiptHeap) Len() int { return len(h) }
func (h receiptHeap) Less(i, j int) bool {
	if c := h[i].due.Compare(h[j].due); c != 0 {
		return c < 0
	}
	return h[i].order < h[j].order
}
func (h receiptHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *receiptHeap) Push(x any)   { *h = append(*h, x.(*receipt)) }
func (h *receiptHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}

// ackWait is a receipt sent on c with sequence number seq, awaiting deliver_sm_resp until
// deadline.
type ackWait struct {
	deadline time.Time
	r        *receipt
	c        *conn
	seq      uint32
}

// settled reports whether the wait is over: the receipt was answered, or sent again.
// Called with receiptQueue.mu held.
func (w *ackWait) settled() bool { return w.c.inflight[w.seq] != w.r }

// ackQueue is a FIFO of ackWait that reuses its array: receipts flow through it at submit
// rates, and a slice popped at the front would reallocate all the time.
type ackQueue struct {
	items []ackWait
	head  int
}

func (a *ackQueue) len() int        { return len(a.items) - a.head }
func (a *ackQueue) front() *ackWait { return &a.items[a.head] }

func (a *ackQueue) push(w ackWait) {
	if a.head > 0 && a.head >= len(a.items)/2 {
		n := copy(a.items, a.items[a.head:])
		clear(a.items[n:])
		a.items, a.head = a.items[:n], 0
	}
	a.items = append(a.items, w)
}

func (a *ackQueue) pop() ackWait {
	w := a.items[a.head]
	a.items[a.head] = ackWait{}
	a.head++
	return w
}

// route is the receiver and transceiver sessions of one system_id, served round-robin.
type route struct {
	conns []*conn
	next  int
	// full holds receipts that fell due while every session had its window full, in
	// order: each deliver_sm_resp (or a session that binds) lets the next one go.
	full []*receipt
}

// receiptQueue schedules receipts, routes them to a session of the submitter's system_id,
// waits for their deliver_sm_resp and sends them again when it does not come. Its goroutine
// (run) does the sending; the rest only queue.
type receiptQueue struct {
	retry    time.Duration
	attempts int
	packed   bool
	window   int // Config.DeliverWindow

	mu      sync.Mutex
	due     receiptHeap
	acks    ackQueue              // in deadline order: every wait is as long
	waiting map[string][]*receipt // ready, but no receiver of that system_id is bound
	routes  map[string]*route
	order   uint64
	pending int            // scheduled, waiting or in flight
	touched []*conn        // sessions given receipts in this batch, to wake their writers
	pdu     smpp.DeliverSM // the receipt being sent, with its octets in buf
	buf     []byte

	sent, resent, acked, abandoned, deliverSMResp int64
	repliesSent                                   int64

	wake chan struct{} // capacity 1
}

// batchSize bounds the receipts handled in one hold of the lock, so that submits (which
// schedule receipts) are not stalled behind a burst of due receipts.
const batchSize = 1024

func (q *receiptQueue) init(cfg Config) {
	q.retry, q.attempts, q.packed, q.window = cfg.ReceiptRetry, cfg.ReceiptAttempts, cfg.GSM7Packed, cfg.DeliverWindow
	q.waiting = make(map[string][]*receipt)
	q.routes = make(map[string]*route)
	q.wake = make(chan struct{}, 1)
}

func (q *receiptQueue) kick() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// schedule queues a new receipt for r.due. It reports whether the sending goroutine must
// be woken (kick) for it; the caller does that once it has queued a burst, so that the burst
// costs one wake-up and goes out in few writes.
func (q *receiptQueue) schedule(r *receipt) (wake bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending++
	return q.pushLocked(r)
}

// pushLocked adds r to the heap and reports whether it became the earliest.
func (q *receiptQueue) pushLocked(r *receipt) bool {
	q.order++
	r.order = q.order
	heap.Push(&q.due, r)
	return q.due[0] == r
}

// run sends receipts as they fall due and resends unanswered ones, until done closes.
func (q *receiptQueue) run(done <-chan struct{}) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		next, more := q.process(time.Now())
		if !more {
			if !next.IsZero() {
				timer.Reset(time.Until(next))
			}
			select {
			case <-q.wake:
			case <-timer.C:
			case <-done:
				return
			}
			timer.Stop()
		} else {
			select {
			case <-done:
				return
			default:
			}
		}
	}
}

// process sends up to batchSize due receipts and expires overdue waits. It returns when
// the next one falls due (zero if nothing is scheduled), and whether more are due already.
func (q *receiptQueue) process(now time.Time) (next time.Time, more bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for ; n < batchSize && q.acks.len() > 0 && !q.acks.front().deadline.After(now); n++ {
		w := q.acks.pop()
		if !w.settled() {
			// No deliver_sm_resp within ReceiptRetry: the client lost it or is stuck.
			delete(w.c.inflight, w.seq)
			q.retryLocked(w.r, now)
			q.freedLocked(w.c, now)
		}
	}
	for ; n < batchSize && len(q.due) > 0 && !q.due[0].due.After(now); n++ {
		q.dispatchLocked(heap.Pop(&q.due).(*receipt), now)
	}
	// The writers were not woken per receipt: a batch goes out in one write per session.
	q.kickTouchedLocked()
	if n == batchSize {
		return time.Time{}, true
	}
	if len(q.due) > 0 {
		next = q.due[0].due
	}
	if q.acks.len() > 0 && (next.IsZero() || q.acks.front().deadline.Before(next)) {
		next = q.acks.front().deadline
	}
	return next, false
}

// dispatchLocked sends r on the next session of its system_id that takes it, or parks it
// until one binds.
func (q *receiptQueue) dispatchLocked(r *receipt, now time.Time) {
	rt := q.routes[r.systemID]
	if rt == nil || len(rt.conns) == 0 {
		q.waiting[r.systemID] = append(q.waiting[r.systemID], r)
		return
	}
	if r.attempts == 0 {
		r.done = now
	}
	if !slices.ContainsFunc(rt.conns, func(c *conn) bool { return len(c.inflight) < q.window }) {
		rt.full = append(rt.full, r) // the next answer lets it go
		return
	}
	// One PDU value for every receipt: request encodes it before returning.
	q.buf = r.deliverSM(&q.pdu, q.buf, q.packed)
	for range len(rt.conns) {
		c := rt.conns[rt.next%len(rt.conns)]
		rt.next = (rt.next + 1) % len(rt.conns)
		if len(c.inflight) >= q.window {
			continue
		}
		seq := c.nextSeq()
		ok, err := c.request(seq, &q.pdu)
		if err != nil {
			// The receipt cannot be encoded (a data_sm source address longer than
			// deliver_sm's 20 characters): no session will take it.
			q.pending--
			q.abandoned++
			return
		}
		if !ok {
			continue // that session is closing
		}
		r.attempts++
		switch {
		case r.reply != nil:
			q.repliesSent++
		case r.attempts > 1:
			q.sent++
			q.resent++
		default:
			q.sent++
		}
		if c.inflight == nil {
			c.inflight = make(map[uint32]*receipt)
		}
		if len(q.touched) == 0 || q.touched[len(q.touched)-1] != c {
			q.touched = append(q.touched, c)
		}
		c.inflight[seq] = r
		q.acks.push(ackWait{deadline: now.Add(q.retry), r: r, c: c, seq: seq})
		return
	}
	// Every session with room is closing: an answer on another one lets it go, or, when the
	// last one goes, removeLocked hands it to the next bind.
	rt.full = append(rt.full, r)
}

// freedLocked sends the next receipt held back by full windows of c's system_id, now that
// one of c's deliver_sm has left its window; the caller wakes the writer (kickTouchedLocked).
func (q *receiptQueue) freedLocked(c *conn, now time.Time) {
	rt := q.routes[c.systemID]
	if rt == nil || len(rt.full) == 0 {
		return
	}
	r := rt.full[0]
	rt.full[0] = nil
	rt.full = rt.full[1:]
	q.dispatchLocked(r, now)
}

// kickTouchedLocked wakes the writers of the sessions given receipts since the last call.
func (q *receiptQueue) kickTouchedLocked() {
	for _, c := range q.touched {
		c.out.kick()
	}
	clear(q.touched)
	q.touched = q.touched[:0]
}

// retryLocked schedules r for at, unless it has had its attempts.
func (q *receiptQueue) retryLocked(r *receipt, at time.Time) {
	if r.attempts >= q.attempts {
		q.pending--
		q.abandoned++
		return
	}
	r.due = at
	if q.pushLocked(r) {
		q.kick()
	}
}

// answered handles a deliver_sm_resp (isResp) or generic_nack from c. Status 0 settles the
// receipt; anything else asks for it again after ReceiptRetry.
func (q *receiptQueue) answered(c *conn, seq uint32, status smpp.Status, isResp bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if isResp {
		q.deliverSMResp++
	}
	r := c.inflight[seq]
	if r == nil {
		return // a late answer to a receipt already resent, or to nothing we sent
	}
	delete(c.inflight, seq)
	// Drop the waits answered in order now rather than at their deadlines, so the queue
	// holds about the receipts in flight, not ReceiptRetry's worth of traffic.
	for q.acks.len() > 0 && q.acks.front().settled() {
		q.acks.pop()
	}
	q.freedLocked(c, time.Now())
	q.kickTouchedLocked()
	if status == smpp.StatusOK {
		q.pending--
		q.acked++
		return
	}
	q.retryLocked(r, time.Now().Add(q.retry))
}

// addReceiver routes receipts of c's system_id to c too, and hands it the ones waiting.
func (q *receiptQueue) addReceiver(c *conn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	rt := q.routes[c.systemID]
	if rt == nil {
		rt = &route{}
		q.routes[c.systemID] = rt
	}
	rt.conns = append(rt.conns, c)
	waiting := q.waiting[c.systemID]
	delete(q.waiting, c.systemID)
	now := time.Now()
	for range min(q.window, len(rt.full)) { // the new session's window
		q.freedLocked(c, now)
	}
	q.kickTouchedLocked()
	for _, r := range waiting {
		r.due = now
		q.pushLocked(r)
	}
	if len(waiting) > 0 {
		q.kick()
	}
}

// removeReceiver stops routing receipts to c.
func (q *receiptQueue) removeReceiver(c *conn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.removeLocked(c)
}

func (q *receiptQueue) removeLocked(c *conn) {
	rt := q.routes[c.systemID]
	if rt == nil {
		return
	}
	for i, rc := range rt.conns {
		if rc == c {
			rt.conns = append(rt.conns[:i], rt.conns[i+1:]...)
			break
		}
	}
	if len(rt.conns) == 0 {
		q.waiting[c.systemID] = append(q.waiting[c.systemID], rt.full...)
		delete(q.routes, c.systemID)
	}
}

// connGone sends the receipts c never acknowledged again elsewhere: SMSCs redeliver what
// a lost session did not confirm.
func (q *receiptQueue) connGone(c *conn) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.removeLocked(c)
	if len(c.inflight) == 0 {
		return
	}
	now := time.Now()
	for seq, r := range c.inflight {
		delete(c.inflight, seq)
		q.retryLocked(r, now)
	}
	q.kick()
}

// snapshot fills the receipt counters of st.
func (q *receiptQueue) snapshot(st *Stats) {
	q.mu.Lock()
	defer q.mu.Unlock()
	st.ReceiptsSent = int(q.sent)
	st.ReceiptsResent = int(q.resent)
	st.ReceiptsAcked = int(q.acked)
	st.ReceiptsAbandoned = int(q.abandoned)
	st.ReceiptsPending = int(q.pending)
	st.DeliverSMResp = int(q.deliverSMResp)
	st.RepliesSent = int(q.repliesSent)
}
