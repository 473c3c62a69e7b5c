package send

import (
	"context"
	"errors"
	"sync"
	"time"

	"smscast/smpp"
)

// bind keeps one of the campaign's sessions up: it connects and binds, hands the session to
// its workers, and when the session ends (drop, unbind from the SMSC, dead peer) binds again
// with backoff, for up to Config.GiveUpAfter. Its workers call session to get the current one.
type bind struct {
	c *Campaign
	n int // 1-based, for events

	mu      sync.Mutex
	sess    *smpp.Session
	late    *lateTable    // responses that outlive their timeout, for sess
	changed chan struct{} // closed and replaced whenever sess or err changes
	err     error         // set when the bind gave up: no session will come
}

func newBind(c *Campaign, n int) *bind {
	return &bind{c: c, n: n, changed: make(chan struct{})}
}

// set publishes a new state and wakes everyone waiting in session.
func (b *bind) set(s *smpp.Session, late *lateTable, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sess, b.late, b.err = s, late, err
	close(b.changed)
	b.changed = make(chan struct{})
}

// bound reports whether a live session is up.
func (b *bind) bound() bool {
	b.mu.Lock()
	s := b.sess
	b.mu.Unlock()
	return s != nil && !isDone(s.Done())
}

// session returns the bound session, waiting while the bind is (re)connecting. It fails when
// ctx ends or the bind gave up.
func (b *bind) session(ctx context.Context) (*smpp.Session, *lateTable, error) {
	for {
		b.mu.Lock()
		s, late, ch, err := b.sess, b.late, b.changed, b.err
		b.mu.Unlock()
		if err != nil {
			return nil, nil, err
		}
		if s != nil && !isDone(s.Done()) {
			return s, late, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, nil, context.Cause(ctx)
		}
	}
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
func (b *bind) run(ctx context.Context) {
	c := b.c
	since := time.Now() // start of the current outage: the campaign's start, or the last drop
	failures := 0
	for ctx.Err() == nil {
		late := newLateTable(c)
		opt := c.cfg.Session
		opt.Handler = c.handle
		opt.OnLateResponse = late.arrive
		s, err := smpp.Dial(ctx, c.cfg.Addr, opt)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if st, refused := credentialsRefused(err); refused && c.pdus.Load() == 0 {
				err := &BindError{Addr: c.cfg.Addr, Status: st}
				b.set(nil, nil, err)
				c.fail(err)
				return
			}
			if time.Since(since) >= c.cfg.GiveUpAfter {
				err := &ConnectError{Addr: c.cfg.Addr, After: c.cfg.GiveUpAfter, Err: err}
				b.set(nil, nil, err)
				c.fail(err)
				return
			}
			failures++
			d := c.cfg.Reconnect.Delay(failures, jitter())
			c.event(Event{Kind: EventBindFailed, Bind: b.n, Err: err, Until: time.Now().Add(d)})
			sleep(ctx, d, nil)
			continue
		}
		failures = 0
		b.set(s, late, nil)
		c.event(Event{Kind: EventBound, Bind: b.n, Detail: s.SystemID()})
		select {
		case <-s.Done():
			since = time.Now()
			b.set(nil, nil, nil)
			c.event(Event{Kind: EventConnectionLost, Bind: b.n, Err: sessionErr(s)})
		case <-ctx.Done():
			b.set(nil, nil, nil)
			if err := s.Close(); err != nil && !errors.Is(err, smpp.ErrConnectionLost) {
				c.warn(err)
			}
			return
		}
	}
	b.set(nil, nil, nil)
}

// sessionErr is why a session ended, never nil.
func sessionErr(s *smpp.Session) error {
	if err := s.Err(); err != nil {
		return err
	}
	return smpp.ErrConnectionLost
}

// lateTable remembers, for one session, the submits whose response timed out, so that a
// response arriving later (Options.OnLateResponse) is not thrown away: if the worker has not
// resent the PDU yet, the response settles it; if it has, the row keeps this message id too
// (it is already marked resubmitted).
type lateTable struct {
	c     *Campaign
	mu    sync.Mutex
	m     map[uint32]*lateWait
	early map[uint32]lateAnswer // answers that beat the worker's expect (it had just timed out)
}

// lateWait is one timed-out submit.
type lateWait struct {
	row, part int
	ch        chan lateAnswer // capacity 1: the answer, for the worker while it has not resent
	resent    bool            // the worker moved on: record answers directly
}

// lateAnswer is a response that arrived after its timeout, in Submit's terms.
type lateAnswer struct {
	resp *smpp.SubmitSMResp
	err  error
}

func newLateTable(c *Campaign) *lateTable {
	return &lateTable{c: c, m: make(map[uint32]*lateWait), early: make(map[uint32]lateAnswer)}
}

// expect registers the timed-out submit seq of row and part.
func (t *lateTable) expect(seq uint32, row, part int) *lateWait {
	w := &lateWait{row: row, part: part, ch: make(chan lateAnswer, 1)}
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.early[seq]; ok {
		delete(t.early, seq)
		w.ch <- a
		return w
	}
	t.m[seq] = w
	return w
}

// moveOn tells the table that the worker no longer waits for w (it resends, or it stops). It
// returns the late answer instead if one has already arrived.
func (t *lateTable) moveOn(w *lateWait) (lateAnswer, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	select {
	case a := <-w.ch:
		return a, true
	default:
		w.resent = true
		return lateAnswer{}, false
	}
}

// arrive is the session's OnLateResponse.
func (t *lateTable) arrive(seq uint32, h smpp.Header, p smpp.PDU) {
	a := lateAnswer{}
	if h.Status != smpp.StatusOK {
		a.err = h.Status
	} else if r, ok := p.(*smpp.SubmitSMResp); ok {
		a.resp = r
	} else {
		a.resp = &smpp.SubmitSMResp{}
	}
	t.mu.Lock()
	w, ok := t.m[seq]
	delete(t.m, seq)
	switch {
	case !ok:
		// The worker has not registered the timeout yet; expect will find it.
		if h.ID == smpp.SubmitSMRespID || h.ID == smpp.GenericNackID {
			t.early[seq] = a
		}
		t.mu.Unlock()
		return
	case !w.resent:
		w.ch <- a
		t.mu.Unlock()
		return
	}
	t.mu.Unlock()
	if a.err != nil {
		return // a late refusal of a PDU that was sent again anyway
	}
	c := t.c
	now := time.Now()
	c.book.Accepted(w.row, w.part, a.resp.MessageID, now)
	if j := c.cfg.Journal; j != nil {
		if err := j.Accepted(w.row, w.part, a.resp.MessageID, now); err != nil {
			c.warn(err)
		}
	}
	c.event(Event{Kind: EventLateResponse, Row: w.row, Detail: a.resp.MessageID})
}
