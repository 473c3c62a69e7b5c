package send

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"smscast/report"
	"smscast/smpp"
)

// bind keeps one of the campaign's sessions up: it connects and binds, hands the session to
// the workers, and when the session ends (drop, unbind from the SMSC, dead peer) binds again
// with backoff. The workers get a session from Campaign.session.
type bind struct {
	c        *Campaign
	n        int  // 1-based, for events
	receiver bool // Config.Receiver's session: receipts and replies only (see receive)

	mu   sync.Mutex
	sess *smpp.Session
	late *lateTable // responses that outlive their timeout, for sess
	err  error      // set when the bind gave up: no session will come
	// retired tells hold that the SMSC no longer holds the session's bind (see retire);
	// capacity 1.
	retired chan error

	// Whether it was ever bound, and why its last bind failed: the summary says why a bind
	// never was (Result.ReceiverDown, Result.BindsDown).
	everUp  atomic.Bool
	refusal error // under mu
}

// lastRefusal is why the bind's last attempt failed; nil if none did.
func (b *bind) lastRefusal() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refusal
}

// refused notes why an attempt to bind failed.
func (b *bind) refused(err error) {
	b.mu.Lock()
	b.refusal = err
	b.mu.Unlock()
}

func newBind(c *Campaign, n int) *bind {
	return &bind{c: c, n: n, retired: make(chan error, 1)}
}

// retire takes s out of service because the SMSC answered a submit on it with why (such as
// ESME_RINVBNDSTS: it no longer holds the bind, after a restart or an unbind it lost, while
// the connection stays up): no row gets s any more, and hold closes it and binds again.
// Retrying on s would only use up the rows' tries.
func (b *bind) retire(s *smpp.Session, why error) {
	b.mu.Lock()
	retired := b.sess == s
	if retired {
		b.sess, b.late = nil, nil
		select {
		case b.retired <- why:
		default: // retired already
		}
	}
	b.mu.Unlock()
	if retired {
		b.c.binding.update(nil)
	}
}

// bindForgottenError is why hold ended a session that the SMSC no longer held a bind for.
type bindForgottenError struct{ why error }

func (e *bindForgottenError) Error() string {
	return fmt.Sprintf("the SMSC answered %v: it no longer holds this bind", e.why)
}
func (e *bindForgottenError) Unwrap() error { return e.why }

// set publishes a new state and wakes everyone waiting in Campaign.session.
func (b *bind) set(s *smpp.Session, late *lateTable, err error) {
	b.mu.Lock()
	b.sess, b.late, b.err = s, late, err
	b.mu.Unlock()
	b.c.binding.update(nil)
}

// current returns the live session, if any, or the error the bind gave up with.
func (b *bind) current() (*smpp.Session, *lateTable, error) {
	b.mu.Lock()
	s, late, err := b.sess, b.late, b.err
	b.mu.Unlock()
	if s != nil && isDone(s.Done()) {
		s, late = nil, nil
	}
	return s, late, err
}

// bound reports whether a live session is up.
func (b *bind) bound() bool {
	s, _, _ := b.current()
	return s != nil
}

// bindState is what the binds of a campaign know of each other.
type bindState struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever a bind's state changes or an attempt ends
	// attempts counts the binds with a bind attempt under way or their first still to make.
	attempts int
	// worked is when the current outage began: the campaign's start, or the end of the
	// last session that proved it worked.
	worked time.Time
}

// update applies f (when not nil) under the lock and wakes everyone waiting for a change.
func (st *bindState) update(f func(*bindState)) {
	st.mu.Lock()
	if f != nil {
		f(st)
	}
	close(st.changed)
	st.changed = make(chan struct{})
	st.mu.Unlock()
}

// state returns the channel the next change closes, the attempts under way and the start of
// the outage.
func (st *bindState) state() (changed <-chan struct{}, attempts int, worked time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.changed, st.attempts, st.worked
}

// session returns a live session for the next try of j, and records its bind in j: the bind
// the row's earlier tries went on while it is up (so the parts of a message stay on one
// bind), else the worker's own bind, else any bind that is up — a bind that cannot bind
// strands no row while another works. It waits while no bind is up, and fails when ctx ends,
// stop closes (errStopped), or a bind gave up (the campaign is failing).
func (c *Campaign) session(ctx context.Context, home *bind, j *job, stop <-chan struct{}) (s *smpp.Session, late *lateTable, waited bool, err error) {
	for ; ; waited = true {
		if isDone(stop) {
			return nil, nil, waited, errStopped
		}
		changed, _, _ := c.binding.state()
		for i := -1; i < len(c.binds); i++ {
			b := j.bind
			switch {
			case i == -1 && b == nil:
				continue
			case i == 0:
				b = home
			case i > 0:
				b = c.binds[(home.n-1+i)%len(c.binds)]
			}
			s, late, err := b.current()
			if err != nil {
				return nil, nil, waited, err
			}
			if s != nil {
				j.bind = b
				return s, late, waited, nil
			}
		}
		select {
		case <-changed:
		case <-stop:
		case <-ctx.Done():
			return nil, nil, waited, context.Cause(ctx)
		}
	}
}

// anyBound reports whether some bind of the campaign has a live session.
func (c *Campaign) anyBound() bool {
	for _, b := range c.binds {
		if b.bound() {
			return true
		}
	}
	return false
}

// refusedBeforeAnyBind reports, for a bind refused for its credentials, whether no bind of the
// campaign has succeeded. It first waits for the attempts of the other binds under way (or
// not yet made) to end: an SMSC that allows one bind per system_id refuses the second of two
// concurrent binds while it accepts the first.
func (c *Campaign) refusedBeforeAnyBind(ctx context.Context) bool {
	for !c.everBound.Load() {
		changed, attempts, _ := c.binding.state()
		if attempts == 0 {
			return !c.everBound.Load()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
	return false
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// run is the bind's supervisor; it returns when ctx ends (after closing the session with an
// unbind) or when it gives up (after telling the campaign).
//
// It backs off (Config.Reconnect) after every failed bind and after every session that
// ended. The outage is the campaign's: while another bind is up this one keeps trying in the
// background, and it gives up (failing the campaign) only once no bind has worked for
// Config.GiveUpAfter. A session only ends the outage — restarting the give-up clock, and
// resetting this bind's backoff — once it has proved that it works (a submit accepted on it,
// or healthyUptime bound): an SMSC that accepts every bind and drops the connection at once
// is an outage, not a string of successes.
func (b *bind) run(ctx context.Context) {
	c := b.c
	failures := 0 // bind attempts and sessions of this bind that failed since its last working session
	for first := true; ctx.Err() == nil; first = false {
		if !first { // the first attempt of every bind is counted from the start (see bindState)
			c.binding.update(func(st *bindState) { st.attempts++ })
		}
		late := newLateTable()
		opt := c.cfg.Session
		opt.AsyncHandler = c.handle
		opt.OnLateResponse = late.arrive
		opt.OnStray = c.strayWarner(b.n)
		opt.OnUnreadable = c.unreadableWarner(b.n)
		s, err := smpp.Dial(ctx, c.cfg.Addr, opt)
		err = bindTimeoutHint(ctx, err, opt.BindTimeout)
		if err == nil {
			if terr := c.tlvSupport(s); terr != nil {
				// Before the session is offered to any worker: nothing is sent.
				c.binding.update(func(st *bindState) { st.attempts-- })
				s.Close()
				c.fail(terr) // before the rows see the bind's error: see the give-up below
				b.set(nil, nil, terr)
				return
			}
			if c.everBound.CompareAndSwap(false, true) { // before the attempt ends: see refusedBeforeAnyBind
				// The schedule starts with the first bind, as after a pause: a wait for the
				// SMSC at the start is not the rows' latency. (No row was planned before: a
				// row takes its place once it has a session.)
				c.planMu.Lock()
				c.plan.restart(time.Now())
				c.planMu.Unlock()
			}
		}
		c.binding.update(func(st *bindState) { st.attempts-- })
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			b.refused(err)
			// "At the start" is before any bind of the campaign succeeded: after that the
			// same refusal usually means the SMSC still holds a dropped bind, or allows one
			// bind per system_id and another bind of the campaign has it.
			if err := c.settingRefused(err); err != nil && c.refusedBeforeAnyBind(ctx) {
				c.fail(err)
				b.set(nil, nil, err)
				return
			}
		} else {
			b.everUp.Store(true)
			up := time.Now()
			err = b.hold(ctx, s, late)
			if err == nil {
				return
			}
			if late.proven.Load() || time.Since(up) >= healthyUptime {
				failures = 0
				now := time.Now()
				c.binding.update(func(st *bindState) { st.worked = now })
			}
		}
		failures++
		d := c.cfg.Reconnect.Delay(failures, jitter())
		if !c.anyBound() {
			_, _, worked := c.binding.state()
			giveUpAt := worked.Add(c.cfg.GiveUpAfter)
			if !time.Now().Before(giveUpAt) {
				err := &ConnectError{Addr: c.cfg.Addr, After: c.cfg.GiveUpAfter, Err: err}
				// The campaign's error first: the rows that the bind's error ends could
				// otherwise end the run's sending before it, and a fail that comes once
				// every row has an outcome is only a warning (the run exited 0 or 3).
				c.fail(err)
				b.set(nil, nil, err)
				return
			}
			// Never sleep past the give-up time: the last attempt is made at it.
			d = min(d, time.Until(giveUpAt))
		}
		if s == nil {
			c.event(Event{Kind: EventBindFailed, Bind: b.n, Err: err, Until: time.Now().Add(d)})
		}
		sleep(ctx, d, nil)
	}
	b.set(nil, nil, nil)
}

// hold offers s to the workers until it ends, and returns why it ended; or, once ctx ends,
// closes it with an unbind (an abort, Run's ctx, cuts that short) and returns nil.
func (b *bind) hold(ctx context.Context, s *smpp.Session, late *lateTable) error {
	c := b.c
	select {
	case <-b.retired: // about the session before s: retire checks the session under b.mu
	default:
	}
	b.set(s, late, nil)
	c.event(Event{Kind: EventBound, Bind: b.n, Receiver: b.receiver, Detail: s.SystemID()})
	select {
	case why := <-b.retired:
		// The requests in flight get their answers (Close waits for them), then the unbind,
		// which an SMSC that forgot the bind refuses: no warning for that.
		b.close(s, false)
		err := &bindForgottenError{why}
		c.event(Event{Kind: EventConnectionLost, Bind: b.n, Receiver: b.receiver, Err: err})
		return err
	case <-s.Done():
		b.set(nil, nil, nil)
		// Close waits for its reader, which may still be handing late acceptances to the
		// Book and journal (for up to a second after the SMSC's unbind): none may outlive
		// Run, which an abort cuts short.
		b.close(s, false)
		err := sessionErr(s)
		c.event(Event{Kind: EventConnectionLost, Bind: b.n, Receiver: b.receiver, Err: err})
		return err
	case <-ctx.Done():
		b.set(nil, nil, nil)
		b.close(s, true)
		return nil
	}
}

// close closes s with an unbind, after the answers to the requests in flight; an abort (Run's
// ctx) cuts that short, so that no late answer reaches the Book after Run. warn says whether
// a failed close is worth a warning.
func (b *bind) close(s *smpp.Session, warn bool) {
	stop := context.AfterFunc(b.c.runCtx, s.Abort)
	if err := s.Close(); warn && err != nil && !errors.Is(err, smpp.ErrConnectionLost) {
		b.c.warn(err)
	}
	stop()
}

// receive keeps the receiver session of Config.Receiver bound, with backoff, until ctx
// ends. Unlike run it never fails the campaign, whatever the SMSC answers: whether the
// campaign can go on is the transmitters' to find out, and a receipt the receiver misses
// waits at the SMSC (for its next bind, or smscast receipts).
func (b *bind) receive(ctx context.Context) {
	c := b.c
	// A transmitter binds first: an SMSC that allows fewer binds than the campaign asks for
	// then refuses the receiver, which only costs receipts later, rather than a transmitter,
	// which could end the campaign before anything was sent.
	for {
		changed, _, _ := c.binding.state() // before the check: a bind after it closes changed
		if c.everBound.Load() {
			break
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
	for failures := 1; ctx.Err() == nil; failures++ {
		opt := c.cfg.Session
		opt.Bind.Mode = smpp.BindReceiver
		opt.AsyncHandler = c.handle
		opt.OnStray = c.strayWarner(b.n)
		opt.OnUnreadable = c.unreadableWarner(b.n)
		s, err := smpp.Dial(ctx, c.cfg.Addr, opt)
		err = bindTimeoutHint(ctx, err, opt.BindTimeout)
		if err == nil {
			b.everUp.Store(true)
			up := time.Now()
			if err = b.hold(ctx, s, nil); err == nil {
				return
			}
			if time.Since(up) >= healthyUptime {
				failures = 1
			}
		} else if ctx.Err() != nil {
			return
		} else {
			b.refused(err)
		}
		d := c.cfg.Reconnect.Delay(failures, jitter())
		if s == nil {
			c.event(Event{Kind: EventBindFailed, Bind: b.n, Receiver: true, Err: err, Until: time.Now().Add(d)})
		}
		sleep(ctx, d, nil)
	}
}

// bindTimeoutHint names the setting behind a bind that timed out (the campaign's ctx still
// running): the session package knows it only as its bind timeout.
func bindTimeoutHint(ctx context.Context, err error, timeout time.Duration) error {
	if err == nil || ctx.Err() != nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w; the bind timeout is --resp-timeout (%v): raise it for an SMSC slow to answer binds", err, timeout)
}

// strayWarner returns the session's OnStray: it warns once per session of a response that
// matches no request with an error status (a generic_nack with sequence_number 0 means the
// SMSC could not read something smscast sent), which otherwise shows only as a timeout.
func (c *Campaign) strayWarner(bindN int) func(smpp.Header) {
	var warned atomic.Bool
	return func(h smpp.Header) {
		if h.Status != smpp.StatusOK && warned.CompareAndSwap(false, true) {
			c.warn(fmt.Errorf("bind %d: the SMSC answered %v with %v for sequence_number %d, which matches no request: it may not have understood a PDU (further ones on this session are not reported)",
				bindN, h.ID, h.Status, h.Sequence))
		}
	}
}

// unreadableWarner returns the session's OnUnreadable: it warns once per session of a
// deliver_sm or data_sm refused because it could not be read (a 25-digit address, say),
// which the SMSC then delivers again or gives up on; a receipt among them would be lost
// without a word.
func (c *Campaign) unreadableWarner(bindN int) func(smpp.Header, error) {
	var warned atomic.Bool
	return func(h smpp.Header, err error) {
		if warned.CompareAndSwap(false, true) {
			c.warn(fmt.Errorf("bind %d: refused a %v from the SMSC that cannot be read (%w): if it is a delivery receipt it is not recorded, and the SMSC will deliver it again or give up on it; tell the carrier (further ones on this session are not reported)",
				bindN, h.ID, err))
		}
	}
}

// healthyUptime is how long a session must stay bound, when no submit was accepted on it
// (such as while paused outside --send-between), before its end counts as a new outage
// rather than the continuation of the last one.
const healthyUptime = 10 * time.Second

// sessionErr is why a session ended, never nil.
func sessionErr(s *smpp.Session) error {
	if err := s.Err(); err != nil {
		return err
	}
	return smpp.ErrConnectionLost
}

// lateTable maps, for one session, the sequence numbers of submits whose response timed out
// to the part they carried, so that a response arriving later (Options.OnLateResponse) is not
// thrown away. An acceptance settles the part; a refusal shows that try is not at the SMSC,
// so that a resend after only refused tries is no resubmission (see lateWait.allRefused).
type lateTable struct {
	// proven is set once a submit was accepted on the session, in time or late: it works.
	proven atomic.Bool
	mu     sync.Mutex
	m      map[uint32]*lateWait
	early  map[uint32]lateAnswer // answers that beat the worker's expect (it had just timed out)
}

// lateAnswer is a late response: an acceptance with its message id, or a refusal.
type lateAnswer struct {
	id      string
	refused bool
}

func newLateTable() *lateTable {
	return &lateTable{m: make(map[uint32]*lateWait), early: make(map[uint32]lateAnswer)}
}

// expect registers the timed-out submit seq as a try of w.
func (t *lateTable) expect(seq uint32, w *lateWait) {
	w.mu.Lock()
	w.timedOut++
	w.mu.Unlock()
	t.mu.Lock()
	a, early := t.early[seq]
	if early {
		delete(t.early, seq)
	} else {
		t.m[seq] = w
	}
	t.mu.Unlock()
	if early {
		w.answer(a)
	}
}

// arrive is the session's OnLateResponse.
func (t *lateTable) arrive(seq uint32, h smpp.Header, p smpp.PDU) {
	var a lateAnswer
	r, ok := p.(*smpp.SubmitSMResp)
	switch {
	case ok && h.Status == smpp.StatusOK:
		a.id = r.MessageID
		t.proven.Store(true)
	case h.Status != smpp.StatusOK || h.ID == smpp.GenericNackID:
		// An error status, or a generic_nack (which in time fails the submit too, status 0
		// or not): the SMSC did not take it.
		a.refused = true
	default:
		// A response of the wrong command with status 0: in time it leaves the outcome
		// unknown (the message is sent again and marked resubmitted), and so it does late.
		return
	}
	t.mu.Lock()
	w, ok := t.m[seq]
	if ok {
		delete(t.m, seq)
	} else {
		// The worker has not registered the timeout yet. The session passes on only
		// responses to timed-out requests, so this holds at most a window's worth.
		t.early[seq] = a
	}
	t.mu.Unlock()
	if ok {
		w.answer(a)
	}
}

// lateWait is one part of a row with at least one try whose response timed out. Late
// acceptances go to the worker while it is still sending the part (it stops resending), and
// straight to the Book and journal once it has finished (the row keeps both ids).
type lateWait struct {
	c                *Campaign
	row, part, parts int
	sent             time.Time // when the part first went out in this run (acceptance.partSent)
	mu               sync.Mutex
	ids              chan string // late message ids for the worker; capacity MaxAttempts, one per try
	done             bool        // the worker finished the part
	// endedRow: the part ended the row uncertain (see sendPart), the parts after it never
	// sent; a late acceptance leaves it partly sent.
	endedRow bool
	// cancel ends the context of a resend under way (see watch); nil when there is none.
	cancel context.CancelCauseFunc
	// timedOut counts the tries registered with a lateTable, refused those of them the SMSC
	// has since refused.
	timedOut, refused int
}

// errLateAccepted cancels a resend that a late acceptance of an earlier try made needless.
var errLateAccepted = errors.New("an earlier try was accepted late")

func newLateWait(c *Campaign, row, part, parts int, sent time.Time) *lateWait {
	return &lateWait{c: c, row: row, part: part, parts: parts, sent: sent, ids: make(chan string, c.cfg.MaxAttempts)}
}

// answer takes a late response to one of the part's tries.
func (w *lateWait) answer(a lateAnswer) {
	if !a.refused {
		w.deliver(a.id)
		return
	}
	w.mu.Lock()
	w.refused++
	w.mu.Unlock()
}

// allRefused reports whether the SMSC has refused, late, every try of the part that timed
// out: none of them is at the SMSC (false when w is nil).
func (w *lateWait) allRefused() bool {
	if w == nil {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.timedOut > 0 && w.refused == w.timedOut
}

func (w *lateWait) deliver(id string) {
	w.mu.Lock()
	if !w.done {
		select {
		case w.ids <- id:
			if w.cancel != nil {
				w.cancel(errLateAccepted)
			}
			w.mu.Unlock()
			return
		default: // cannot happen (one slot per try); record it rather than block
		}
	}
	endedRow := w.endedRow
	w.mu.Unlock()
	c := w.c
	switch {
	case c.accepted1(w.row, w.part, id, true, w.sent):
		// The row had ended uncertain (counted failed, and expired if its validity had
		// ended); the SMSC has it after all.
		c.failed.Add(-1)
		c.accepted.Add(1)
		c.uncountExpired(w.row)
	case endedRow:
		// Still uncertain, but no longer of unknown outcome: the start is with the SMSC,
		// the rest was never sent. A resume sends the rest, as a rebuilt report says.
		c.book.SetStatus(w.row, report.SubmitUncertain, partlySent(w.part+1, w.parts, reasonRestNotSentYet))
	}
}

// watch returns the context for a resend of the part (ctx itself when w is nil): it ends
// with cause errLateAccepted once a late acceptance arrives, so that a resend still waiting
// for a window slot is never written. Call stop once the submit returned.
func (w *lateWait) watch(ctx context.Context) (wctx context.Context, stop func()) {
	if w == nil {
		return ctx, func() {}
	}
	wctx, cancel := context.WithCancelCause(ctx)
	w.mu.Lock()
	w.cancel = cancel
	if len(w.ids) > 0 {
		cancel(errLateAccepted)
	}
	w.mu.Unlock()
	return wctx, func() {
		w.mu.Lock()
		w.cancel = nil
		w.mu.Unlock()
		cancel(nil)
	}
}

// take returns a late message id if one is waiting.
func (w *lateWait) take() (string, bool) {
	if w == nil {
		return "", false
	}
	select {
	case id := <-w.ids:
		return id, true
	default:
		return "", false
	}
}

// await waits up to d for a late message id.
func (w *lateWait) await(ctx context.Context, d time.Duration, stop <-chan struct{}) (string, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case id := <-w.ids:
		return id, true
	case <-t.C:
	case <-ctx.Done():
	case <-stop:
	}
	return w.take()
}

// finish marks the part finished and calls record with the late ids that arrived meanwhile
// (none when w is nil). Later ones are recorded directly, after record has returned, so that
// an acceptance always lands in the Book after the outcome record gives the part.
func (w *lateWait) finish(record func(ids []string)) {
	if w == nil {
		record(nil)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
	var ids []string
	for {
		select {
		case id := <-w.ids:
			ids = append(ids, id)
		default:
			record(ids)
			return
		}
	}
}
