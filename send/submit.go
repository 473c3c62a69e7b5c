package send

import (
	"context"
	"errors"
	"fmt"
	"time"

	"smscast/csvin"
	"smscast/report"
	"smscast/smpp"
)

// Destination type of number and numbering plan: csvin normalises every destination to
// international digits.
const (
	destTON = 0x01
	destNPI = 0x01
)

// partResult is how one part of a row ended.
type partResult struct {
	status report.SubmitStatus // SubmitAccepted, SubmitRejected, SubmitNotSent or SubmitUncertain
	reason string              // the error for the report; "" when accepted
	// gaveUp marks a part not sent because its tries ran out on transient refusals: a
	// failure, where other unsent parts are the stop's.
	gaveUp bool
	// expired marks a part not sent (again) because the absolute validity had ended: no run
	// sends it, so the row is counted apart (Result.Expired) once it ends unaccepted.
	expired bool
}

// gaveUp ends a part whose tries all met transient refusals (throttling, ESME_RSYSERR and
// the like): the SMSC has none of them, so it is not_sent, and a --resume sends it again
// once the SMSC is well.
func gaveUp(format string, args ...any) partResult {
	return partResult{status: report.SubmitNotSent, reason: fmt.Sprintf(format, args...) + "; --resume sends it again", gaveUp: true}
}

// sendRow sends the parts of one row in order, on bind b while it is up (see Campaign.session),
// and records the row's outcome.
func (c *Campaign) sendRow(ctx context.Context, b *bind, j *job) {
	row := j.row.Num
	if c.stopping() || ctx.Err() != nil {
		c.leftUnsent(j, notSentReason(ctx, c.stopped))
		return
	}
	if err := c.awaitHours(ctx); err != nil {
		c.leftUnsent(j, notSentReason(ctx, c.stopped))
		return
	}
	parts := len(j.row.Message.Parts)
	// A resumed row (j.resend) is marked resubmitted once a part of it was really written
	// again (tryPart), not before: one never sent again was not resubmitted. Its parts before
	// j.from were accepted by an earlier run: with the same concatenation reference (the row
	// number), the handset joins the rest to them.
	for part := j.from; part < parts; part++ {
		var res partResult
		if part == j.from && c.validityEnded(time.Now()) {
			// Before waiting for a session and a pacing token: a resume after the validity
			// would otherwise take a token per row to send nothing (and fail without a bind).
			res = c.expired(j.resend)
			c.recordUnaccepted(row, res)
		} else {
			// sendPart has recorded the outcome when the part ended unaccepted.
			res = c.sendPart(ctx, b, j, part)
		}
		if res.status == report.SubmitAccepted {
			continue
		}
		if res.status == report.SubmitNotSent && part > 0 {
			// The first parts are with the SMSC, so the recipient may get the start of the
			// message: not "not sent". A resume sends the rest.
			res = partResult{status: report.SubmitUncertain, reason: partlySent(part, parts, res.reason), expired: res.expired}
			c.book.SetStatus(row, res.status, res.reason)
		}
		if res.status != report.SubmitNotSent || res.gaveUp {
			c.failed.Add(1)
		}
		if res.expired {
			c.countExpired(row, res.status == report.SubmitUncertain)
		}
		c.done.Add(1)
		if !j.planned.IsZero() {
			// The places planned for the parts after this one go unused: the schedule
			// moves back by them, or the rows after it would all look early and a real
			// stall behind them would not show in their latency.
			c.planMu.Lock()
			c.plan.giveBack(parts - part - 1)
			c.planMu.Unlock()
		}
		return
	}
	c.accepted.Add(1)
	c.done.Add(1)
}

// countExpired counts row among the rows the ended validity kept from being sent; sent says
// a try may have reached the SMSC, whose late acceptance would take it out again.
func (c *Campaign) countExpired(row int, sent bool) {
	c.expiredMu.Lock()
	defer c.expiredMu.Unlock()
	if c.lateAccepted[row] { // the acceptance came first
		delete(c.lateAccepted, row)
		return
	}
	c.expiredRows.Add(1)
	if sent {
		if c.expiredSent == nil {
			c.expiredSent = map[int]bool{}
		}
		c.expiredSent[row] = true
	}
}

// uncountExpired takes row, which a late acceptance has made accepted, out of the expired
// rows, or notes that it must not be counted, if its validity has ended.
func (c *Campaign) uncountExpired(row int) {
	c.expiredMu.Lock()
	defer c.expiredMu.Unlock()
	switch {
	case c.expiredSent[row]:
		delete(c.expiredSent, row)
		c.expiredRows.Add(-1)
	case c.validityEnded(time.Now()):
		if c.lateAccepted == nil {
			c.lateAccepted = map[int]bool{}
		}
		c.lateAccepted[row] = true
	}
}

// recordUnaccepted records how a part that was not accepted ended the row.
func (c *Campaign) recordUnaccepted(row int, res partResult) {
	if res.status == report.SubmitRejected {
		now := time.Now()
		c.book.Rejected(row, res.reason, now)
		c.journalRejected(row, res.reason, now)
		return
	}
	// Not journaled as rejected: an uncertain or unsent row has attempts and no response in
	// the journal, so a resumed run sends it again (or, with --no-resend-uncertain, leaves
	// it uncertain).
	c.book.SetStatus(row, res.status, res.reason)
}

// journalFailed warns of a record the journal could not write: the first in full, the rest
// only counted (a full disk fails every record of the rows in flight), for Run to say how
// many at its end.
func (c *Campaign) journalFailed(err error) {
	c.breakJournal()
	if c.journalErrs.Add(1) == 1 {
		c.warn(fmt.Errorf("journal: %w", err))
	}
}

// breakJournal notes that the journal failed (its errors are for good: the writer takes no
// record after the first failure) and wakes the wait for receipts, which then ends.
func (c *Campaign) breakJournal() {
	if c.journalBroken.CompareAndSwap(false, true) {
		select {
		case c.receiptPing <- struct{}{}:
		default:
		}
	}
}

func (c *Campaign) journalRejected(row int, reason string, at time.Time) {
	if jr := c.cfg.Journal; jr != nil {
		if err := jr.Rejected(row, reason, at); err != nil {
			c.journalFailed(err)
		}
	}
}

// journalNotAccepted records that no try of part of j so far can have been accepted, once the
// try just made was refused with an error status or never written, so that a resume sends
// the row as never sent rather than marking it resubmitted. It writes nothing when this try
// left no attempt record, or when an earlier try's outcome is unknown: the SMSC may have that
// one.
func (c *Campaign) journalNotAccepted(j *job, part int, unknown bool) {
	jr := c.cfg.Journal
	if jr == nil || unknown || !j.acc.recorded {
		return
	}
	if err := jr.NotAccepted(j.row.Num, part, time.Now()); err != nil {
		c.journalFailed(err)
	}
}

// markResubmitted records in the Book and the counters, once per row, that a part of j was
// written again after an unknown outcome. It is called only once the second copy is known to
// have been written (its response, timeout or connection loss came back): a resend that a
// late acceptance cancelled while it waited for a window slot sent nothing twice.
func (c *Campaign) markResubmitted(j *job) {
	if !j.resubmitted {
		j.resubmitted = true
		c.book.Resubmitted(j.row.Num)
		c.resubmits.Add(1)
	}
}

// sendPart sends part (0-based) of a row until it is accepted or cannot be: transient
// statuses, timeouts and drops are retried with backoff up to MaxAttempts tries; throttling
// is retried without counting a try (the pacer slows down instead) for up to GiveUpAfter.
// A response that arrives after its timeout settles the part if it comes before the resend;
// one that comes later adds its message id to the row (see lateWait).
//
// A part that ends unaccepted has its outcome recorded here, before a late acceptance can
// reach the Book: the acceptance then overrides it, never the other way round.
func (c *Campaign) sendPart(ctx context.Context, b *bind, j *job, part int) partResult {
	var late *lateWait // set at the first timeout
	j.acc.partSent = time.Time{}
	res := c.tryPart(ctx, b, j, part, &late)
	late.finish(func(ids []string) {
		for _, id := range ids {
			c.accepted1(j.row.Num, part, id, true, j.acc.partSent)
		}
		if len(ids) > 0 {
			// A try that had timed out was accepted after all.
			res = partResult{status: report.SubmitAccepted}
		}
		switch {
		case res.gaveUp && part == j.from && c.validityEnded(time.Now()):
			// Given up on refusals that outlasted the validity: a resume would not send it.
			res = c.expired(false)
		case (res.status == report.SubmitNotSent || res.status == report.SubmitUncertain) && c.validityEnded(time.Now()):
			// Uncertain, or the rest of a message given up on: a resume would only end it
			// again, so it is not among the rows left for one.
			res.expired = true
		}
		if res.status == report.SubmitUncertain && part > 0 {
			// The parts before it are with the SMSC: the recipient may have the start.
			res.reason = partlySent(part, len(j.row.Message.Parts), fmt.Sprintf("unconfirmed: part %d: %s", part+1, res.reason))
		}
		if res.status != report.SubmitAccepted {
			c.recordUnaccepted(j.row.Num, res)
		}
		if late != nil { // under its lock: see lateWait.deliver
			late.endedRow = res.status == report.SubmitUncertain && !res.expired && part+1 < len(j.row.Message.Parts)
		}
	})
	return res
}

func (c *Campaign) tryPart(ctx context.Context, b *bind, j *job, part int, late **lateWait) partResult {
	row := j.row.Num
	pdu := c.submitSM(&j.row, part, j.pdu)
	attempts := 0
	// Since when the part has been throttled, refused unwritten, or refused for a bind the
	// SMSC forgot, each without a break: each is given up on after GiveUpAfter.
	var throttledSince, notSentSince, forgottenSince time.Time
	var last error // the last failure, for the report when the part ends unaccepted
	// unknown is set once a try's outcome is unknown (timeout or drop) and stays set: the
	// SMSC may have that try, whatever later tries got, so the part can no longer end
	// rejected or not sent, only accepted or uncertain; and sending again marks the row
	// resubmitted.
	unknown := j.resend // an earlier run sent it and recorded no response
	// lost is set when a try's outcome can never be learnt (an earlier run's, a dropped
	// connection's); a timed-out try's can, from its late response.
	lost := j.resend
	for {
		if id, ok := (*late).take(); ok {
			c.accepted1(row, part, id, false, j.acc.partSent)
			return partResult{status: report.SubmitAccepted}
		}
		if unknown && !lost && (*late).allRefused() {
			// Every try that timed out was refused late: none is at the SMSC, so the
			// next is a first copy, not a resubmission (and a resume need not resend it).
			unknown = false
			c.journalNotAccepted(j, part, false)
		}
		// While stopping, a message already under way is finished; nothing new starts and
		// nothing is retried: Stop also ends the wait for a token, and is checked again
		// after it.
		var stop <-chan struct{}
		if !j.written || last != nil {
			stop = c.stopped
		}
		if ctx.Err() != nil || (stop != nil && c.stopping()) {
			return c.unsent(ctx, last, unknown)
		}
		// The session first, then the token: a token taken while no bind was up would be due
		// long before the bind came, and every worker holding one would leave at once; and
		// the token of the first row would be spent on the wait. A session that dies during
		// a long pacing wait refuses the submit unsent, and the loop fetches the next one.
		// Stop also ends the wait for a bind: a row that waited for one was never sent.
		s, lt, _, err := c.session(ctx, b, j, stop)
		if err != nil {
			return c.unsent(ctx, noSession(last, err), unknown)
		}
		if j.planned.IsZero() {
			// The row's place in the schedule, taken next to its first token: rows that
			// race for tokens (the window, when a bind comes up) get their places in the
			// order they get tokens, so the race does not count as latency.
			c.planMu.Lock()
			j.planned = c.plan.planned(len(j.row.Message.Parts)-j.from, time.Now())
			c.planMu.Unlock()
		}
		slot, err := c.pacer.wait(ctx, stop)
		if err != nil || (stop != nil && c.stopping()) {
			return c.unsent(ctx, last, unknown)
		}
		if isDone(s.Done()) {
			// The session ended during the pacing wait (an SMSC that drops idle sessions,
			// at a low rate): take the next one, and a fresh token if none was up.
			var waited bool
			s, lt, waited, err = c.session(ctx, b, j, stop)
			if err != nil {
				return c.unsent(ctx, noSession(last, err), unknown)
			}
			if waited {
				if slot, err = c.pacer.wait(ctx, stop); err != nil || (stop != nil && c.stopping()) {
					return c.unsent(ctx, last, unknown)
				}
			}
		}
		// Both checks apply to the same rows (!(unknown && j.written)): a first part none of
		// whose tries can be at the SMSC.
		if part == j.from && (!j.written || !unknown) && c.validityEnded(time.Now()) {
			// It would only expire at the SMSC (or be refused), after a pause or a stop, or
			// after tries the SMSC refused (throttled): none of them can be at the SMSC.
			return c.expired(unknown)
		}
		if part == j.from && !(unknown && j.written) && c.closedHours() {
			// The sending hours ended while the row waited for its token: it waits for them
			// to open again and takes a new place in the schedule then. (A message already
			// begun is finished: nobody receives half of one.)
			if err := c.awaitHours(ctx); err != nil {
				return c.unsent(ctx, last, unknown)
			}
			if c.validityEnded(time.Now()) {
				// The pause ended because the validity did (the hours are still closed):
				// going round again would take a token only to come back here.
				return c.expired(unknown)
			}
			j.planned = time.Time{} // planned again after the pause
			throttledSince, notSentSince, forgottenSince = time.Time{}, time.Time{}, time.Time{}
			continue
		}
		// A PDU the pacer lets out ahead of the plan (a burst) is planned when it leaves.
		planned := minTime(j.planned, time.Now())
		if !j.written {
			c.book.Planned(row, planned)
		}
		c.pdus.Add(1)
		c.inFlight.Add(1)
		wasWritten := j.written
		j.written = true
		j.acc.row, j.acc.part, j.acc.resend, j.acc.planned, j.acc.recorded = row, part, nil, planned, false
		j.acc.first = !wasWritten
		j.acc.slot = slot
		if unknown {
			j.acc.resend = j
		}
		j.acc.late, j.acc.lost = *late, lost
		// A late acceptance of an earlier try cancels this one while it still waits for a
		// window slot (the timed-out try holds one until that response comes).
		sctx, stopWatch := (*late).watch(ctx)
		j.acc.try = sctx
		// The PDU was filled before the waits for a session and a token: a --schedule
		// that has passed meanwhile goes out as none, and a long duration counts from now.
		pdu.ScheduleDeliveryTime, pdu.ValidityPeriod = c.timesAt(time.Now())
		_, err = s.SubmitNotify(sctx, pdu, &j.acc.hooks)
		j.acc.try = nil
		stopWatch()
		c.inFlight.Add(-1)
		v := judge(err)
		if unknown && j.acc.resend == nil && v != vNotSent {
			unknown = false // beforeWrite found every earlier try refused: a first copy
		}
		j.acc.late = nil
		if unknown && v != vNotSent {
			// Written again (an acceptance has marked it already).
			c.markResubmitted(j)
		}

		switch v {
		case vAccepted:
			// j.acc recorded the message id when the session read the response.
			if !lt.proven.Load() { // a load, not a store, per submit: no shared cache line bouncing
				lt.proven.Store(true)
			}
			return partResult{status: report.SubmitAccepted}
		case vRejected:
			if unknown {
				return c.uncertain(attempts+1, err)
			}
			return partResult{status: report.SubmitRejected, reason: err.Error()}
		case vThrottled:
			c.journalNotAccepted(j, part, unknown)
			c.throttles.Add(1)
			last = err
			before := c.pacer.Rate()
			c.pacer.Throttled()
			if r := c.pacer.Rate(); r != before {
				c.event(Event{Kind: EventRate, Rate: r, Err: err})
			}
			now := time.Now()
			if throttledSince.IsZero() {
				throttledSince = now
			} else if now.Sub(throttledSince) >= c.cfg.GiveUpAfter {
				if unknown {
					return c.uncertain(attempts, fmt.Errorf("%w for %v", err, c.cfg.GiveUpAfter))
				}
				return gaveUp("%v for %v; lower --rate", err, c.cfg.GiveUpAfter)
			}
			c.throttleWait(ctx)
		case vNotSent:
			c.pdus.Add(-1) // never written
			j.written = wasWritten
			if context.Cause(sctx) == errLateAccepted {
				continue // the loop's take settles the part with the late id
			}
			var je *journalError
			if errors.As(err, &je) {
				// A send the journal cannot record would be invisible to the next resume.
				c.journalFailed(errors.Unwrap(je.err))
				return c.unsent(ctx, je.err, unknown)
			}
			c.journalNotAccepted(j, part, unknown)
			// Never written: the session is going away. Wait for the next one; no try
			// counted, but a session that never takes it is given up on like an outage.
			last = firstErr(last, err)
			if notSentSince.IsZero() {
				notSentSince = time.Now()
			} else if time.Since(notSentSince) >= c.cfg.GiveUpAfter {
				if unknown {
					return c.unsent(ctx, last, unknown)
				}
				return gaveUp("not sent: no session took it for %v; last error: %v", c.cfg.GiveUpAfter, last)
			}
			waitDone(ctx, s, notSentPause)
		case vLost:
			if errors.Is(err, smpp.ErrUnexpectedResponse) {
				c.wrongResponse.Do(func() {
					c.warn(fmt.Errorf("%w: the SMSC may have accepted the message, so it is sent again and marked resubmitted; tell the carrier (further ones are not reported)", err))
				})
			}
			// A backoff of its own besides the bind's: a session that dies at once must not
			// burn the tries of every row in it within milliseconds.
			attempts++
			last, unknown, lost = err, true, true
			if attempts >= c.cfg.MaxAttempts {
				return c.uncertain(attempts, last)
			}
			sleep(ctx, c.cfg.Retry.Delay(attempts, jitter()), c.stopped)
		case vTimeout:
			attempts++
			last, unknown = err, true
			var te *smpp.TimeoutError
			d := c.cfg.Retry.Delay(attempts, jitter())
			if !errors.As(err, &te) {
				lost = true
				sleep(ctx, d, c.stopped)
			} else {
				if *late == nil {
					*late = newLateWait(c, row, part, len(j.row.Message.Parts), j.acc.partSent)
				}
				lt.expect(te.Seq, *late)
				// Wait out the backoff, unless the late response settles the part first.
				if id, ok := (*late).await(ctx, d, c.stopped); ok {
					c.accepted1(row, part, id, false, j.acc.partSent)
					return partResult{status: report.SubmitAccepted}
				}
			}
			if attempts >= c.cfg.MaxAttempts {
				return c.uncertain(attempts, last)
			}
		case vRetry:
			c.journalNotAccepted(j, part, unknown)
			if errors.Is(err, smpp.StatusInvBndSts) {
				// The SMSC no longer holds this bind though the connection is up: a new
				// bind fixes it, the same session never would. Not the message's fault, so
				// no try is counted; a bind forgotten again and again is given up on after
				// GiveUpAfter, like an outage.
				if b := j.bind; b != nil {
					b.retire(s, err)
				}
				last = err
				// The clock starts again when this session had worked (accepted a submit)
				// before it was forgotten: that is a new outage, not the old one going on.
				if forgottenSince.IsZero() || lt.proven.Load() {
					forgottenSince = time.Now()
				} else if time.Since(forgottenSince) >= c.cfg.GiveUpAfter {
					if unknown {
						return partResult{status: report.SubmitUncertain, reason: fmt.Sprintf(
							"outcome unknown: an earlier try may have reached the SMSC; not sent again: %v for %v", last, c.cfg.GiveUpAfter)}
					}
					return gaveUp("%v for %v", last, c.cfg.GiveUpAfter)
				}
				continue
			}
			attempts++
			last = err
			throttledSince = time.Time{}
			if attempts >= c.cfg.MaxAttempts {
				if unknown {
					return c.uncertain(attempts, last)
				}
				return gaveUp("%v (after %s)", last, tries(attempts))
			}
			sleep(ctx, c.cfg.Retry.Delay(attempts, jitter()), c.stopped)
		}
	}
}

// notSentPause bounds the wait for a session that refused a request to finish ending.
const notSentPause = 10 * time.Millisecond

// waitDone waits until s has ended, ctx ends or d passes.
func waitDone(ctx context.Context, s *smpp.Session, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.Done():
	case <-ctx.Done():
	case <-t.C:
	}
}

// acceptance records the message id of the part a worker sends from the session's reader
// goroutine, as soon as the submit_sm_resp is read (smpp.Session.SubmitNotify): a receipt
// right behind the response then always finds the id in the Book, instead of being taken
// for another campaign's because the worker had not run yet.
type acceptance struct {
	c         *Campaign
	row, part int             // set by the worker before each submit
	resend    *job            // set before a submit that sends the part again after an unknown outcome
	try       context.Context // the submit's context: a late acceptance of an earlier try cancels it
	planned   time.Time       // the row's planned send time, which the attempt record carries
	recorded  bool            // beforeWrite journaled this try's attempt
	first     bool            // this try is the row's first write: beforeWrite records when it went
	slot      int             // the pacer's number for this try's departure (-1: none)
	// late and lost are the part's late answers and whether a try's outcome can never be
	// learnt (see tryPart): beforeWrite takes back resend when every earlier try was refused.
	late *lateWait
	lost bool
	// partSent is when the part first went out in this run (reset for each part): an id an
	// answer gives, to any of its tries, was sent no earlier.
	partSent time.Time
	// hooks holds a.beforeWrite and a.accepted, bound once: a submit allocates nothing.
	hooks smpp.SubmitHooks
}

func newAcceptance(c *Campaign) *acceptance {
	a := &acceptance{c: c}
	a.hooks = smpp.SubmitHooks{BeforeWrite: a.beforeWrite, Accepted: a.accepted, Written: a.written}
	return a
}

// journalError is a journal failure that kept a submit from being written.
type journalError struct{ err error }

func (e *journalError) Error() string { return e.err.Error() }
func (e *journalError) Unwrap() error { return e.err }

// beforeWrite runs once the submit holds a window slot, right before it goes to the writer;
// from then on nothing but the end of the session keeps it from being written. Only now does
// the journal record the attempt — and, for a resend after an unknown outcome, that the part
// is sent again (the resubmitted record comes first). A resend that a late acceptance of the
// earlier try cancels while it waits for the slot therefore leaves no record claiming it went
// out twice. (When the session ends in between, the record names a submit that never left: a
// resume then resends the row and marks it resubmitted, the safe side.)
func (a *acceptance) beforeWrite() error {
	if a.try != nil && a.try.Err() != nil {
		return context.Cause(a.try)
	}
	if a.resend != nil && !a.lost && a.late.allRefused() {
		// The earlier tries' refusals came while this one waited (for its window slot,
		// say): none is at the SMSC, so this is a first copy, not a resubmission.
		a.resend = nil
	}
	jr := a.c.cfg.Journal
	if jr == nil {
		a.sent(time.Now())
		return nil
	}
	if a.resend != nil {
		if err := jr.Resubmitted(a.row, a.part, time.Now()); err != nil {
			return &journalError{fmt.Errorf("journal: %w", err)}
		}
	}
	// The planned time, not now: it is the latency base a resumed run's report starts from,
	// as this run's does.
	sent, err := jr.AttemptSent(a.row, a.part, a.planned)
	if err != nil {
		return &journalError{fmt.Errorf("journal: %w", err)}
	}
	a.recorded = true
	a.sent(sent) // the journal's time: a rebuilt report judges receipts against the same
	return nil
}

// sent gives the Book the time of the row's first send (planned may be long before): the
// submit leaves at once, with its window slot. It also keeps the part's first.
func (a *acceptance) sent(at time.Time) {
	if a.partSent.IsZero() {
		a.partSent = at
	}
	if a.first {
		a.c.book.Sent(a.row, at)
		a.first = false
	}
}

// written tells the pacer when the submit reached the connection (if it paces: time.Now per
// submit is worth avoiding at an unlimited rate).
func (a *acceptance) written() {
	if a.slot >= 0 {
		a.c.pacer.Written(a.slot, time.Now())
	}
}

func (a *acceptance) accepted(resp *smpp.SubmitSMResp) {
	if a.resend != nil {
		// Before the id, so that the row never reads accepted in between. The worker is
		// blocked in SubmitNotify until this returns, so j is not touched concurrently.
		a.c.markResubmitted(a.resend)
	}
	a.c.accepted1(a.row, a.part, resp.MessageID, false, a.partSent)
}

// accepted1 records one message id for part of row, in the Book and the journal; late says
// it came after its timeout and after the part was settled otherwise. It reports whether the
// id made the row accepted.
func (c *Campaign) accepted1(row, part int, id string, late bool, sent time.Time) (nowAccepted bool) {
	now := time.Now()
	nowAccepted = c.book.AcceptedSent(row, part, id, now, sent)
	if jr := c.cfg.Journal; jr != nil {
		if err := jr.Accepted(row, part, id, now); err != nil {
			c.journalFailed(err)
		}
	}
	if late {
		c.event(Event{Kind: EventLateResponse, Row: row, Detail: id})
	}
	if id == "" {
		c.noMessageID.Do(func() {
			c.warn(fmt.Errorf("the SMSC accepted row %d without a message id (SMPP 3.4 requires one): no receipt can be matched to it, "+
				"so it and any other such row get receipt status UNKNOWN (%s); ask the carrier", row, report.NoMessageID))
		})
	}
	return nowAccepted
}

// throttleWait is the pause before retrying a throttled PDU: about one PDU interval at the
// new rate, with jitter, at least a millisecond and at most a second. The pacer does the rest.
func (c *Campaign) throttleWait(ctx context.Context) {
	d := time.Second
	if r := c.pacer.Rate(); r > 1 {
		d = time.Duration(float64(time.Second) / r * (1 + jitter()))
	}
	sleep(ctx, min(max(d, time.Millisecond), time.Second), c.stopped)
}

// unsent ends a part that is not going to be sent (again): not_sent if no try has an unknown
// outcome, uncertain if the SMSC may have it.
func (c *Campaign) unsent(ctx context.Context, last error, unknown bool) partResult {
	reason := notSentReason(ctx, c.stopped)
	expired := c.validityEnded(time.Now())
	if expired {
		reason = c.expiredReason() // as in leftUnsent
	}
	if last != nil {
		reason += "; last error: " + last.Error()
	}
	if unknown {
		if last == nil {
			return partResult{status: report.SubmitUncertain, reason: reasonEarlierRun + reason, expired: expired}
		}
		// "not sent" here means not sent again.
		return partResult{status: report.SubmitUncertain, reason: "outcome unknown: a try timed out or lost its connection, and the SMSC may have accepted it; " + reason, expired: expired}
	}
	return partResult{status: report.SubmitNotSent, reason: reason, expired: expired}
}

// validityEnded reports whether a row can no longer go out at now within an absolute
// --validity (see sendBy).
func (c *Campaign) validityEnded(now time.Time) bool {
	by := c.sendBy()
	return !by.IsZero() && !now.Before(by)
}

// sendBy is when rows stop going out under an absolute --validity: its end, less a --schedule
// duration, since the SMSC delivers that long after the submit (a message sent later would
// only expire there). Zero when the validity is not absolute.
func (c *Campaign) sendBy() time.Time {
	v := c.cfg.Validity.At
	if v.IsZero() {
		return v
	}
	return v.Add(-c.cfg.Schedule.After)
}

// expired ends a row not begun when its absolute validity ended; unknown as for unsent.
func (c *Campaign) expired(unknown bool) partResult {
	reason := c.expiredReason()
	if unknown {
		return partResult{status: report.SubmitUncertain, reason: reasonEarlierRun + reason, expired: true}
	}
	// Not a failure in the progress counts: the report has it as not_sent, and none of its
	// tries can be at the SMSC.
	return partResult{status: report.SubmitNotSent, reason: reason, expired: true}
}

// expiredReason is the reason of a row left unsent because its absolute validity ended.
func (c *Campaign) expiredReason() string {
	if d := c.cfg.Schedule.After; d > 0 {
		return fmt.Sprintf("not sent: its validity (--validity) ends at %s, before the delivery --schedule %s asks for after the submit",
			c.cfg.Validity.At.UTC().Format(time.RFC3339), c.cfg.Schedule)
	}
	return fmt.Sprintf("not sent: its validity (--validity) ended at %s before it could go out",
		c.cfg.Validity.At.UTC().Format(time.RFC3339))
}

// uncertain ends a part of which some try had an unknown outcome (a timeout or a lost
// connection) and none was accepted; last is the last try's error.
func (c *Campaign) uncertain(attempts int, last error) partResult {
	return partResult{status: report.SubmitUncertain, reason: fmt.Sprintf("outcome unknown after %s (the last: %v); a try timed out or lost its connection, and the SMSC may have accepted it", tries(attempts), last)}
}

// tries is "1 try" or "n tries".
func tries(n int) string {
	if n == 1 {
		return "1 try"
	}
	return fmt.Sprintf("%d tries", n)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// noSession is the error a part ends with when no session came for it: last, the error
// of its last try, unless it had none; a stop (errStopped) is not an error of the part.
func noSession(last, err error) error {
	if errors.Is(err, errStopped) {
		return last
	}
	return firstErr(last, err)
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// submitSM fills dst (a new one when nil) with the submit_sm for part of row and returns it.
func (c *Campaign) submitSM(r *csvin.Row, part int, dst *smpp.SubmitSM) *smpp.SubmitSM {
	if dst == nil {
		dst = new(smpp.SubmitSM)
	}
	*dst = smpp.SubmitSM{
		ServiceType:     c.cfg.ServiceType,
		SourceAddrTON:   r.SourceTON,
		SourceAddrNPI:   r.SourceNPI,
		SourceAddr:      r.From,
		DestAddrTON:     destTON,
		DestAddrNPI:     destNPI,
		DestinationAddr: r.MSISDN,
		DataCoding:      r.Message.DataCoding,
		TLVs:            dst.TLVs[:0],
	}
	dst.ScheduleDeliveryTime, dst.ValidityPeriod = c.timesAt(time.Now())
	if c.cfg.PartReceipts.WantsReceipt(part, len(r.Message.Parts)) {
		dst.RegisteredDelivery = 1
	}
	r.Message.Parts[part].Apply(dst)
	return dst
}

// timesAt is the schedule_delivery_time and validity_period of a submit_sm that leaves at
// now. The schedule is none once an absolute --schedule has passed (a resumed campaign, a
// pause), as delivering at once is what it asked for by now, and some SMSCs refuse a time in
// the past.
func (c *Campaign) timesAt(now time.Time) (schedule, validity string) {
	schedule, validity = c.times.at(now)
	if at := c.cfg.Schedule.At; !at.IsZero() && !now.Before(at) {
		schedule = ""
	}
	return schedule, validity
}

// closedHours reports whether --send-between hours are set and closed now.
func (c *Campaign) closedHours() bool {
	if c.cfg.Hours.IsZero() {
		return false
	}
	open, _ := c.cfg.Hours.State(c.hoursClock())
	return !open
}

// hoursClock is the time the sending hours are judged by: now, or a test's clock.
func (c *Campaign) hoursClock() time.Time {
	if c.hoursNow != nil {
		return c.hoursNow()
	}
	return time.Now()
}

// unpause ends the pause, if one is on, and reports whether it did: the time paused is
// counted, and the schedule restarts under planMu with the flag's change, so that no row that
// sees the pause over plans from the schedule of before it.
func (c *Campaign) unpause() bool {
	c.planMu.Lock()
	defer c.planMu.Unlock()
	if !c.paused.CompareAndSwap(true, false) {
		return false
	}
	now := time.Now()
	c.plan.restart(now)
	c.pausedNs.Add(now.UnixNano() - c.pauseStart.Swap(0))
	return true
}

// awaitHours returns at once inside the sending hours; outside them it pauses (sessions stay
// bound, enquire_link keeps them alive) until they open, Stop, or ctx ends.
func (c *Campaign) awaitHours(ctx context.Context) error {
	h := c.cfg.Hours
	if h.IsZero() {
		return nil
	}
	for {
		open, next := h.State(c.hoursClock())
		if !open && c.validityEnded(time.Now()) {
			// Nothing waiting can go out any more: the rows end at once (expired), rather
			// than with the bind held until the hours open again. The pause is over too
			// (without a "resumed": nothing is sent).
			c.unpause()
			return nil
		}
		if open {
			if c.unpause() {
				c.event(Event{Kind: EventResumed})
			}
			return nil
		}
		c.planMu.Lock() // as for the resume above: the pause's start goes with the flag
		paused := c.paused.CompareAndSwap(false, true)
		if paused {
			c.pauseStart.Store(time.Now().UnixNano())
		}
		c.planMu.Unlock()
		if paused {
			c.event(Event{Kind: EventPaused, Until: next})
			if by := c.sendBy(); !by.IsZero() && !by.After(next) {
				if c.cfg.Schedule.After > 0 { // --schedule needs them sent earlier
					c.warn(fmt.Errorf("rows must go out by %s for --schedule %s to deliver them before the validity (--validity) ends at %s, and the sending hours open again only after that: rows not sent by then are not sent (not_sent)",
						by.UTC().Format(time.RFC3339), c.cfg.Schedule, c.cfg.Validity.At.UTC().Format(time.RFC3339)))
				} else {
					c.warn(fmt.Errorf("the validity (--validity) ends at %s, before the sending hours open again: rows not sent by then are not sent (not_sent)",
						c.cfg.Validity.At.UTC().Format(time.RFC3339)))
				}
			}
		}
		// Wake at least every minute (a long timer does not follow changes of the wall clock),
		// and when rows stop going out for the validity: the rows end then.
		wake := min(time.Until(next), time.Minute)
		if by := c.sendBy(); !by.IsZero() {
			wake = min(wake, time.Until(by))
		}
		if !sleep(ctx, wake, c.stopped) {
			return errors.New("stopped while paused")
		}
	}
}
