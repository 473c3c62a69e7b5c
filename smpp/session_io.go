package smpp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

// This file holds the session's two connection goroutines: the writer, the only one that
// writes once the session runs, and the reader, the only one that reads.

// writeLoop numbers, registers and writes the callers' requests and the responses queued by
// the reader and the handlers, batching them into one flush while more are ready, and
// probes the link with enquire_link after EnquireLinkInterval without a write.
func (s *Session) writeLoop() {
	defer s.wg.Done()
	interval := s.opt.EnquireLinkInterval
	idle := time.NewTimer(interval)
	defer idle.Stop()
	lastWrite := time.Now()

	probe := &request{id: EnquireLinkID, internal: true, done: make(chan result, 1)}
	probe.buf, _ = AppendPDU(nil, 0, StatusOK, &EnquireLink{})
	probeTimer := time.NewTimer(s.opt.RespTimeout)
	probeTimer.Stop()
	defer probeTimer.Stop()
	var probeDone <-chan result      // set while a probe awaits its answer
	var probeExpiry <-chan time.Time // likewise

	// All requests share one RespTimeout, so a coarse periodic sweep of the pending set
	// (at most Window entries) replaces a timer per request: a request fails no earlier
	// than RespTimeout after the writer took it (the start of its batch, or of the last
	// flush before it) and at most one sweep later.
	sweep := time.NewTicker(min(max(s.opt.RespTimeout/8, time.Millisecond), time.Second))
	defer sweep.Stop()
	readerWait := time.NewTimer(readerWaitMax)
	readerWait.Stop()
	defer readerWait.Stop()

	for {
		var n int      // PDUs in this batch
		var then error // end the session with this once the batch is flushed
		var err error
		select {
		case <-s.quit:
			return
		case r := <-s.reqs:
			s.beginBatch()
			n, then, err = s.writeRequest(r)
		case <-s.ctl.signal:
			s.beginBatch()
			n, then, err = s.writeControls()
		case <-probeDone:
			probeDone, probeExpiry = nil, nil
			probeTimer.Stop()
			continue // any answer, even an error status, proves the peer alive
		case now := <-sweep.C:
			if err := s.expire(now); err != nil {
				s.end(err)
				return
			}
			continue
		case <-probeExpiry:
			why := ""
			s.mu.Lock()
			if s.strayProbeAnswers > 0 {
				why = "; an enquire_link_resp came with a sequence_number that matches no request: the SMSC numbers its answers wrongly"
			}
			s.mu.Unlock()
			s.end(fmt.Errorf("%w: no enquire_link_resp within %v%s", ErrDeadPeer, s.opt.RespTimeout, why))
			return
		case <-idle.C:
			if probeDone != nil { // one probe at a time; probeExpiry watches it
				idle.Reset(interval)
				continue
			}
			if quiet := time.Since(lastWrite); quiet < interval {
				idle.Reset(interval - quiet)
				continue
			}
			idle.Reset(interval)
			s.beginBatch()
			probe.state = stateQueued // the reader is done with it: its answer came
			n, then, err = s.writeRequest(probe)
			if n == 1 {
				probeDone, probeExpiry = probe.done, probeTimer.C
				probeTimer.Reset(s.opt.RespTimeout)
			}
		}
		// Take whatever else is ready before flushing, so that a busy window costs one
		// system call per batch rather than per PDU. When nothing is ready, yield once:
		// callers woken by the last responses are usually runnable but have not had a CPU
		// yet, and letting them enqueue first makes the batch far larger. While the reader
		// is still handling PDUs it has read in full, each of which may wake a caller with
		// a request, wait for it to finish them (at most readerWaitMax), so that one write
		// carries the requests of a whole read instead of a few each.
		yielded, held := false, false
	batch:
		for err == nil && then == nil && n < maxBatch {
			var k int
			select {
			case r := <-s.reqs:
				k, then, err = s.writeRequest(r)
			case <-s.ctl.signal:
				k, then, err = s.writeControls()
			default:
				switch {
				case !yielded:
					yielded = true
					runtime.Gosched()
				case !held && s.readerBusy.Load():
					held = true
					select {
					case <-s.readerIdle: // left from an earlier batch
					default:
					}
					if s.readerBusy.Load() {
						readerWait.Reset(readerWaitMax)
						select {
						case <-s.readerIdle:
						case <-readerWait.C:
						case <-s.quit:
						}
						readerWait.Stop()
					}
					yielded = false // the requests the reader's PDUs woke may still be on their way
				default:
					break batch
				}
			}
			n += k
		}
		if err == nil && s.bw.Buffered() > 0 {
			err = s.bw.Flush()
			lastWrite = time.Now()
		}
		if err != nil {
			s.end(connLost(fmt.Errorf("write: %w", err)))
			return
		}
		if then != nil {
			if errors.Is(then, ErrUnboundByPeer) {
				s.awaitAnswersAfterUnbind()
			}
			s.end(then)
			return
		}
	}
}

// awaitAnswersAfterUnbind keeps reading, once unbind_resp is written, until the requests
// whose answers may still come are answered, the SMSC closes the connection, or unbindGrace
// passes (less if their answers are not expected so long): some SMSCs send their last
// answers right after their unbind, and each one spares a resend of a message the SMSC
// accepted. Nothing more is written: requests handed over meanwhile are refused unsent.
func (s *Session) awaitAnswersAfterUnbind() {
	start := time.Now()
	s.mu.Lock()
	var last time.Time
	for _, r := range s.pending {
		if !r.internal && r.deadline.After(last) {
			last = r.deadline
		}
	}
	for _, deadline := range s.timedOut {
		last = later(last, deadline.Add(s.opt.RespTimeout))
	}
	awaited := s.answersAwaitedLocked(start)
	s.mu.Unlock()
	if awaited == 0 || !last.After(start) {
		return
	}
	grace := time.NewTimer(min(last.Sub(start), unbindGrace))
	defer grace.Stop()
	poll := time.NewTicker(unbindPoll)
	defer poll.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-grace.C:
			return
		case r := <-s.reqs:
			s.refuse(r)
		case <-s.ctl.signal:
			// Nothing more is written: the replies go, so that the reader, which waits for
			// room in their queue, reads on.
			s.ctl.take()
		case <-poll.C:
			s.mu.Lock()
			awaited = s.answersAwaitedLocked(start)
			s.mu.Unlock()
			if awaited == 0 {
				return
			}
		}
	}
}

// later returns the later of two times.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// refuse hands r back unsent, unless its caller has withdrawn it.
func (s *Session) refuse(r *request) {
	s.mu.Lock()
	if r.state == stateWithdrawn {
		s.mu.Unlock()
		return
	}
	reason := s.stopReasonLocked()
	r.state = stateDone
	s.mu.Unlock()
	r.done <- result{err: notSent(reason), reuse: !r.internal}
}

// beginBatch bounds the writes of one batch: a peer that stops reading cannot block the
// writer (and with it every caller) for longer than RespTimeout.
func (s *Session) beginBatch() {
	s.batchStart = time.Now()
	s.conn.SetWriteDeadline(s.batchStart.Add(s.opt.RespTimeout))
}

// expire fails every caller's request written more than RespTimeout before now with a
// *TimeoutError. Its response, should it come, goes to OnLateResponse; until then it keeps
// its window slot, since the SMSC may still be working on it. It returns the error to end
// the session with when every slot has been held so for RespTimeout: the SMSC is not
// answering, and nothing more can be sent.
func (s *Session) expire(now time.Time) error {
	s.mu.Lock()
	for seq, r := range s.pending {
		if !r.internal && now.After(r.deadline) {
			delete(s.pending, seq)
			s.timedOut[seq] = r.deadline
			r.state = stateDone
			s.requestDoneLocked(r)
			s.expired = append(s.expired, r)
		}
	}
	lost := len(s.timedOut) >= s.opt.Window
	s.mu.Unlock()
	for i, r := range s.expired {
		// The writer is done with r (it is running this) and the reader can no longer
		// find it, so the caller may recycle it.
		r.done <- result{err: &TimeoutError{Seq: r.seq}, reuse: true, keepSlot: true}
		s.expired[i] = nil
	}
	s.expired = s.expired[:0]
	switch {
	case !lost:
		s.windowLostSince = time.Time{}
	case s.windowLostSince.IsZero():
		s.windowLostSince = now
	case now.Sub(s.windowLostSince) >= s.opt.RespTimeout:
		return fmt.Errorf("%w: none of the %d requests of the window answered within %v, nor for %v after, so the window is stuck",
			ErrDeadPeer, s.opt.Window, s.opt.RespTimeout, s.opt.RespTimeout)
	}
	return nil
}

// writeRequest registers r under the next sequence number and buffers it. It returns the
// number of PDUs buffered (0 when r was withdrawn or refused) and, like writeControls, the
// cause to end the session with once they are flushed.
func (s *Session) writeRequest(r *request) (n int, then, err error) {
	if r.id == UnbindID {
		// Responses to the SMSC's requests (deliver_sm_resp of finished handlers) go
		// before the unbind; nothing may follow it. Nor may the unbind follow a response
		// that must be the last PDU (the unbind_resp to the SMSC's unbind, the generic_nack
		// to a PDU that could not be framed): the session ends with it instead.
		n, then, err = s.writeControls()
		if err != nil || then != nil {
			s.mu.Lock()
			r.state = stateDone
			s.mu.Unlock()
			r.done <- result{err: notSent(firstError(then, err))}
			return n, then, err
		}
	}
	// Make room first: register copies r into the buffer under s.mu, which must never
	// wait for the network. A failed flush leaves r unregistered: it was not sent.
	if err := s.makeRoom(len(r.buf)); err != nil {
		return n, nil, err
	}
	ok, err := s.register(r)
	if ok {
		n++
	}
	return n, nil, err
}

// firstError returns a if it is not nil, else b.
func firstError(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// register gives r its sequence number, copies it into the write buffer (which has room for
// it) and enters it in the pending set, all under s.mu. So a response, even a hostile one
// that guesses the sequence_number before the request is written, finds r only once the
// writer is done with r.buf, and the caller may recycle r as soon as it is answered. It
// reports false, completing r itself when a caller waits, if r must not be written.
func (s *Session) register(r *request) (bool, error) {
	s.mu.Lock()
	switch {
	case r.state == stateWithdrawn:
		s.mu.Unlock()
		return false, nil
	case s.ended || ((s.closing || s.peerUnbound) && !r.internal) || (s.peerUnbound && r.id == UnbindID):
		// After the SMSC's unbind nothing but our unbind_resp may go out: a request handed
		// over before Done closed is refused unsent, as one after it is. (The enquire_link
		// probe may still go: its refusal would fill its result channel for good.)
		reason := s.stopReasonLocked()
		r.state = stateDone
		s.mu.Unlock()
		r.done <- result{err: notSent(reason), reuse: true}
		return false, nil
	}
	seq := s.nextSeq()
	for s.pending[seq] != nil || s.isTimedOut(seq) { // only after a wrap past a very old request
		seq = s.nextSeq()
	}
	err := s.bufferPDU(r.buf, seq)
	r.seq, r.state = seq, statePending
	r.deadline = s.batchStart.Add(s.opt.RespTimeout)
	s.pending[seq] = r
	if !r.internal {
		s.outstanding++
	}
	if r.onWritten != nil && err == nil {
		// Under s.mu: the response, which completes r and lets its caller reuse the hook's
		// state, cannot be handled before this returns.
		r.onWritten()
	}
	s.mu.Unlock()
	return true, err
}

// isTimedOut reports whether seq is a timed-out request still holding its slot. s.mu must
// be held.
func (s *Session) isTimedOut(seq uint32) bool {
	_, ok := s.timedOut[seq]
	return ok
}

// nextSeq returns the next sequence_number: 1..0x7FFFFFFF, then 1 again. Only the writer
// (and the bind, before the writer starts) calls it.
func (s *Session) nextSeq() uint32 {
	s.seq++
	if s.seq == 0 || s.seq > maxSequence {
		s.seq = 1
	}
	return s.seq
}

// writePDU copies the encoded pdu into the write buffer with sequence_number seq, flushing
// first if it does not fit.
func (s *Session) writePDU(pdu []byte, seq uint32) error {
	if err := s.makeRoom(len(pdu)); err != nil {
		return err
	}
	return s.bufferPDU(pdu, seq)
}

// makeRoom flushes the write buffer if n more octets do not fit in it. The buffer holds
// MaxPDULen octets, the most any PDU the writer gets may have.
func (s *Session) makeRoom(n int) error {
	if s.bw.Available() >= n {
		return nil
	}
	err := s.bw.Flush()
	// The requests registered from now on leave with a later flush: their RespTimeout
	// counts from here, not from the start of a batch whose flush may have had to wait.
	s.batchStart = time.Now()
	return err
}

// bufferPDU copies pdu into the write buffer, which has room for it, with sequence_number
// seq; it never writes to the network. pdu itself is neither changed nor kept.
func (s *Session) bufferPDU(pdu []byte, seq uint32) error {
	b := append(s.bw.AvailableBuffer(), pdu...)
	binary.BigEndian.PutUint32(b[12:16], seq)
	_, err := s.bw.Write(b)
	return err
}

// writeControls buffers the queued responses. A response with then set is the last one
// written: the session ends once it is flushed.
func (s *Session) writeControls() (n int, then error, err error) {
	for _, c := range s.ctl.take() {
		var body PDU
		switch c.id {
		case DeliverSMRespID:
			body = &s.deliverSMResp
		case DataSMRespID:
			body = &s.dataSMResp
		case EnquireLinkRespID:
			body = &EnquireLinkResp{}
		case UnbindRespID:
			body = &UnbindResp{}
		default:
			body = &GenericNack{}
		}
		s.wbuf, err = AppendPDU(s.wbuf[:0], c.seq, c.status, body)
		if err == nil {
			err = s.writePDU(s.wbuf, c.seq)
		}
		if err != nil {
			return n, nil, err
		}
		n++
		if c.then != nil {
			return n, c.then, nil
		}
	}
	return n, nil, nil
}

// readLoop reads PDUs until the connection ends: it routes responses to their requests,
// answers enquire_link and unbind, hands deliver_sm and data_sm to the handler and answers
// anything else with generic_nack.
func (s *Session) readLoop() {
	defer s.wg.Done()
	defer s.readerDone()
	busy := false
	for {
		pdu, err := ReadPDU(s.br, s.rbuf, s.opt.MaxPDULen)
		if err != nil {
			s.readFailed(err)
			return
		}
		s.rbuf = pdu
		more := PDUBuffered(s.br)
		if more && !busy {
			busy = true
			s.readerBusy.Store(true)
		}
		s.handlePDU(pdu)
		if busy && !more {
			busy = false
			s.readerDone()
		}
	}
}

// readerDone tells the writer that the reader has handled every PDU it had read.
func (s *Session) readerDone() {
	s.readerBusy.Store(false)
	select {
	case s.readerIdle <- struct{}{}:
	default:
	}
}

// readFailed ends the session after a read error. A PDU whose command_length cannot be
// trusted leaves the stream without framing: the session says why with a generic_nack
// (sequence_number 0: the header could not be trusted) and ends once that is written.
func (s *Session) readFailed(err error) {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		cause := connLost(fmt.Errorf("the SMSC sent an invalid PDU: %w", err))
		if !s.ctl.push(control{id: GenericNackID, status: pe.Status, then: cause}) {
			s.end(cause)
		}
		return
	}
	s.end(connLost(fmt.Errorf("read: %w", err)))
}

// handlePDU acts on one PDU the SMSC sent.
func (s *Session) handlePDU(pdu []byte) {
	h, _ := DecodeHeader(pdu) // cannot fail: ReadPDU returned a whole PDU
	if h.ID.IsResponse() {
		_, p, err := DecodeTolerant(pdu)
		s.route(h, p, err)
		return
	}
	switch h.ID {
	case EnquireLinkID:
		s.reply(control{id: EnquireLinkRespID, seq: h.Sequence})
	case UnbindID:
		s.mu.Lock()
		s.unbinding, s.peerUnbound = true, true
		if !s.closing && s.err == nil {
			s.err = ErrUnboundByPeer
		}
		s.mu.Unlock()
		// The unbind_resp is queued before Done closes: a Close called on Done then finds it
		// queued, and its own unbind ends with it instead of following the SMSC's.
		s.reply(control{id: UnbindRespID, seq: h.Sequence, then: ErrUnboundByPeer})
		// No request may be written after it: callers learn it at once (Done), not once the
		// session has read the last answers.
		s.stopOnce.Do(func() { close(s.stopping) })
		s.doneOnce.Do(func() { close(s.done) })
	case DeliverSMID, DataSMID:
		_, p, err := DecodeTolerant(pdu)
		if err != nil {
			// A body we cannot read gets its own response with the error: SMPP 3.4 keeps
			// generic_nack for PDUs whose command cannot be told (§4.3).
			s.reply(control{id: h.ID.Response(), status: nackStatus(err), seq: h.Sequence})
			if s.opt.OnUnreadable != nil {
				s.opt.OnUnreadable(h, err)
			}
			return
		}
		s.dispatch(h, p)
	case AlertNotificationID, OutbindID:
		// Never answered (SMPP 3.4 §4.12.1; outbind asks for a bind, which we have).
	default:
		s.reply(control{id: GenericNackID, status: StatusInvCmdID, seq: h.Sequence})
	}
}

// reply queues c for the writer; the reader calls it. While the queue is full (the writer
// cannot keep up, or the peer reads none of our answers) it waits for room: the reader then
// stops reading, which slows the peer down; a peer that never reads ends the session by the
// writer's deadline.
func (s *Session) reply(c control) {
	for !s.ctl.push(c) {
		if !s.roomForReply() {
			return // nothing more is written
		}
	}
}

// roomForReply waits while the response queue is full; false once the session has ended.
func (s *Session) roomForReply() bool {
	for s.ctl.full() {
		select {
		case <-s.ctl.space:
		case <-s.quit:
			return false
		}
	}
	return true
}

// nackStatus is the command_status a generic_nack carries for a PDU that failed to decode:
// the one its *ProtocolError names, else ESME_RSYSERR.
func nackStatus(err error) Status {
	var pe *ProtocolError
	if errors.As(err, &pe) && pe.Status != StatusOK {
		return pe.Status
	}
	return StatusSysErr
}

// route completes the request a response answers, or hands it to OnLateResponse.
func (s *Session) route(h Header, p PDU, decodeErr error) {
	s.mu.Lock()
	r := s.pending[h.Sequence]
	if r != nil {
		delete(s.pending, h.Sequence)
		r.state = stateDone
		s.requestDoneLocked(r)
	}
	late := r == nil && s.isTimedOut(h.Sequence)
	if late {
		delete(s.timedOut, h.Sequence)
	}
	if r == nil && h.ID == EnquireLinkRespID {
		s.strayProbeAnswers++
	}
	s.mu.Unlock()
	if r == nil {
		// A stray (a duplicate, a guess, a generic_nack with sequence_number 0) is dropped:
		// only a timed-out request can still be waited for, and a stray passed on would
		// have to be kept by someone for a request that may never exist.
		switch {
		case late && s.opt.OnLateResponse != nil:
			s.opt.OnLateResponse(h.Sequence, h, p)
		case !late && s.opt.OnStray != nil:
			s.opt.OnStray(h)
		}
		// Only now free the slot the timed-out request kept: a resend of it waiting for a
		// slot, which OnLateResponse may have just cancelled, must not be able to take it
		// first and go out although the original was accepted.
		if late {
			<-s.window
			s.mu.Lock()
			s.checkDrainedLocked() // Close waits for late responses too
			s.mu.Unlock()
		}
		return
	}
	err := responseError(r.id, h)
	if err == nil && decodeErr != nil {
		err = fmt.Errorf("smpp: decode the response to sequence_number %d: %w", h.Sequence, decodeErr)
	}
	if resp, ok := p.(*SubmitSMResp); ok && err == nil && r.onAccepted != nil {
		r.onAccepted(resp)
	}
	r.done <- result{h: h, p: p, err: err, reuse: true}
}

// responseError is the error a request answered with h gets, nil for success.
func responseError(id CommandID, h Header) error {
	switch {
	case h.Status != StatusOK:
		return h.Status
	case h.ID == GenericNackID:
		return fmt.Errorf("smpp: the SMSC answered generic_nack with status 0: %w", StatusUnknownErr)
	case h.ID != id.Response():
		return fmt.Errorf("%w: %v to %v (sequence_number %d)", ErrUnexpectedResponse, h.ID, id, h.Sequence)
	}
	return nil
}

// handlerCall is one deliver_sm or data_sm for the handler, and the response it gets.
type handlerCall struct {
	p PDU
	c control
}

// dispatch hands a deliver_sm or data_sm to AsyncHandler, on the reader goroutine, or runs
// Handler on a goroutine of its own — an idle handler worker if one waits, else a new one —
// and queues the response with the status it returns. Reusing workers spares a goroutine
// start per receipt; each call still starts at once, whatever the other calls are doing.
func (s *Session) dispatch(h Header, p PDU) {
	call := handlerCall{p: p, c: control{id: h.ID.Response(), seq: h.Sequence, status: StatusXTAppn}}
	// The handler's answer will be queued whatever the queue's length (see answer): the
	// reader waits here instead, so that the queue stays within maxControlQueue plus the
	// handlers running, and a peer that reads none of our answers is slowed down.
	if !s.roomForReply() {
		return // the session ended
	}
	s.mu.Lock()
	run := (s.opt.Handler != nil || s.opt.AsyncHandler != nil) && !s.unbinding && !s.ended && s.handlers < maxHandlers
	if run {
		s.handlers++
	}
	s.mu.Unlock()
	if !run {
		s.reply(call.c)
		return
	}
	if s.opt.AsyncHandler != nil {
		a := &answer{s: s, c: call.c}
		s.opt.AsyncHandler(s.handlerCtx, p, a.give)
		return
	}
	select {
	case s.idleWorkers <- call:
		return
	default:
	}
	s.wg.Add(1) // the reader holds a count, so this never races Close's Wait
	go s.handlerWorker(call)
}

// answer queues the response to a deliver_sm or data_sm with the handler's status and ends
// its handler call.
func (s *Session) answer(c control, st Status) {
	c.status = st
	// Never waits: a handler's answer may come from a goroutine that serves others (the
	// journal's disk goroutine), and handlers are bounded (maxHandlers), so the queue is
	// too while the reader waits for room.
	s.ctl.pushAlways(c) // before the count drops, so Close's unbind follows it
	s.mu.Lock()
	s.handlers--
	s.checkDrainedLocked()
	s.mu.Unlock()
}

// answer is the once-only answer an AsyncHandler call receives.
type answer struct {
	s    *Session
	c    control
	done atomic.Bool
}

func (a *answer) give(st Status) {
	if a.done.CompareAndSwap(false, true) {
		a.s.answer(a.c, st)
	}
}

// handlerWorker runs call, then waits for further calls as one of at most maxIdleHandlers
// idle workers, until the session ends.
func (s *Session) handlerWorker(call handlerCall) {
	defer s.wg.Done()
	for {
		s.answer(call.c, s.opt.Handler(s.handlerCtx, call.p))
		call = handlerCall{} // drop the PDU while idle
		s.mu.Lock()
		idle := s.idle < maxIdleHandlers
		if idle {
			s.idle++
		}
		s.mu.Unlock()
		if !idle {
			return
		}
		select {
		case call = <-s.idleWorkers:
		case <-s.handlerCtx.Done():
		}
		s.mu.Lock()
		s.idle--
		s.mu.Unlock()
		if call.p == nil {
			return
		}
	}
}
