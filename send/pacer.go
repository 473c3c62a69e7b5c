package send

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Pacer is the campaign's one limiter, shared by every bind: its Wait(ctx) error hands out
// one token per submit_sm PDU (each part of a long message counts, because carriers count
// PDUs). When the SMSC answers
// ESME_RTHROTTLED or ESME_RMSGQFUL the engine calls Throttled, which lowers the rate
// multiplicatively; Wait raises it again step by step towards the configured rate.
//
// A Wait passes two stages. A golang.org/x/time/rate limiter sets the average rate; its
// bucket holds a quarter of a second of tokens, so that time lost while no caller was waiting
// (the process was descheduled, the window was full) is made up for instead of lost: a bare
// token bucket of one token drops that time, and on a busy machine falls 20% short of the
// rate. Then a shaper (shape) spaces departures: catching up goes at most twice the rate,
// never more than --burst back to back, and never more than the rate in any one second, which
// is what an SMSC counts.
type Pacer struct {
	lim     *rate.Limiter
	reduced atomic.Bool  // the rate is below its target: Wait checks for a recovery step
	free    atomic.Bool  // the rate is unlimited: Wait returns at once
	sent    atomic.Int64 // PDUs let through, to measure the rate when it is unlimited

	mu       sync.Mutex
	ctl      rateControl
	shape    shape
	epoch    time.Time // origin of shape's clock
	markTime time.Time // start of the current measuring second
	markSent int64     // sent at markTime
	observed float64   // PDUs/s over the last full measuring second
}

// catchUp is how much lost time the pacer makes up for.
const catchUp = 250 * time.Millisecond

// NewPacer returns a pacer for perSecond PDUs per second (0 = unlimited) with the given burst
// (at most burst PDUs leave back to back; values below 1 mean 1, which spaces PDUs evenly so
// that no one-second bucket at the SMSC sees more than the rate).
func NewPacer(perSecond float64, burst int) *Pacer {
	burst = max(burst, 1)
	target := math.Inf(1)
	if perSecond > 0 {
		target = perSecond
	}
	p := &Pacer{
		lim:   rate.NewLimiter(limitOf(target), bucketSize(target, burst)),
		ctl:   newRateControl(target),
		shape: shape{burst: burst},
	}
	p.shape.setRate(target)
	p.free.Store(math.IsInf(target, 1))
	p.start(time.Now())
	return p
}

// start begins pacing at now with one token in the bucket: the catch-up allowance is for
// time lost while sending, not for the time before it (connecting, binding).
func (p *Pacer) start(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lim = rate.NewLimiter(p.lim.Limit(), p.lim.Burst())
	if b := p.lim.Burst(); b > 1 {
		p.lim.ReserveN(now, b-1)
	}
	p.epoch = now
	p.shape.n = 0
	p.markTime, p.markSent = now, p.sent.Load()
}

func limitOf(perSecond float64) rate.Limit {
	if math.IsInf(perSecond, 1) {
		return rate.Inf
	}
	return rate.Limit(perSecond)
}

// bucketSize is the token bucket for a rate: burst, or catchUp's worth of PDUs if that is more.
func bucketSize(perSecond float64, burst int) int {
	if math.IsInf(perSecond, 1) {
		return burst
	}
	return max(burst, int(math.Ceil(perSecond*catchUp.Seconds())))
}

// Wait blocks until one more PDU may be written or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	_, err := p.wait(ctx, nil)
	return err
}

// wait is Wait that also gives up, with errStopped, when stop is closed (nil: never). It
// returns the departure's number for Written (-1 when there is nothing to record).
func (p *Pacer) wait(ctx context.Context, stop <-chan struct{}) (int, error) {
	if p.reduced.Load() {
		p.adjust(time.Now(), false)
	}
	if p.free.Load() {
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		p.sent.Add(1)
		return -1, nil
	}
	// One sleep for both stages: the token's time, then the shaper's place for it.
	p.mu.Lock()
	now := time.Now()
	r := p.lim.ReserveN(now, 1)
	dep, k := p.shape.admit(now.Add(r.DelayFrom(now)).Sub(p.epoch))
	p.mu.Unlock()
	if d := dep - now.Sub(p.epoch); d > 0 && !sleep(ctx, d, stop) {
		r.Cancel()
		if err := context.Cause(ctx); err != nil {
			return -1, err
		}
		return -1, errStopped
	}
	// Timers fire late on a busy machine; the one-second window must count real departures.
	p.Written(k, time.Now())
	p.sent.Add(1)
	return k, nil
}

// Written records that departure k (from wait) reached the connection at: later than the
// pacer let it go when the process stalled in between (a journal write, the scheduler). The
// one-second window then counts it where the SMSC does, so the PDUs that catch up after a
// stall cannot push the second they land in above the rate.
func (p *Pacer) Written(k int, at time.Time) {
	if k < 0 {
		return
	}
	p.mu.Lock()
	p.shape.departed(k, at.Sub(p.epoch))
	p.mu.Unlock()
}

// Throttled tells the pacer that the SMSC refused a PDU for going too fast; it lowers the
// shared rate unless it was lowered less than a second ago (the answers to PDUs already in
// flight at the old rate must not cut it again).
func (p *Pacer) Throttled() { p.adjust(time.Now(), true) }

// Rate is the effective rate in PDUs per second; +Inf when unlimited.
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ctl.current
}

func (p *Pacer) adjust(now time.Time, throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.measure(now)
	var r float64
	var changed bool
	if throttled {
		r, changed = p.ctl.throttled(now, p.observed)
	} else {
		r, changed = p.ctl.recover(now)
	}
	if changed {
		p.lim.SetLimitAt(now, limitOf(r))
		p.lim.SetBurstAt(now, bucketSize(r, p.shape.burst))
		p.shape.setRate(r)
		p.free.Store(math.IsInf(r, 1))
	}
	p.reduced.Store(p.ctl.current < p.ctl.target)
}

// measure keeps p.observed at the PDU rate since the last mark (at least 100ms ago; the
// mark moves every second), so that an unlimited pacer knows what "half the rate" means the
// first time it is throttled.
func (p *Pacer) measure(now time.Time) {
	n := p.sent.Load()
	d := now.Sub(p.markTime)
	if d < 100*time.Millisecond {
		return
	}
	p.observed = float64(n-p.markSent) / d.Seconds()
	if d >= time.Second {
		p.markTime, p.markSent = now, n
	}
}

// shape is the second stage of the pacer, a pure decision (times are durations on the
// pacer's clock, no locks) so it can be tested as a table: it places each departure no
// earlier than
//   - burst PDUs after the departure burst PDUs earlier plus burst half-intervals, so that
//     catching up runs at most at twice the rate and never more than burst back to back;
//   - one second after the departure perSecond PDUs earlier, so that no one-second window
//     holds more than the rate (rounded up to whole PDUs).
//
// The zero shape, and a shape with an unlimited rate, lets everything through at once.
type shape struct {
	burst     int           // PDUs that may leave back to back; at least 1
	interval  time.Duration // between PDUs at the rate; 0 = unlimited
	perSecond int           // PDUs allowed in any one second; 0 = no limit
	ring      []time.Duration
	n         int // departures so far; departure k is in ring[k % len(ring)]
}

// maxRing caps the one-second window's memory; faster rates are not windowed.
const maxRing = 1 << 20

// setRate changes the rate (PDUs per second; +Inf = unlimited), keeping the recent departures.
func (s *shape) setRate(perSecond float64) {
	if math.IsInf(perSecond, 1) || perSecond <= 0 {
		s.interval, s.perSecond = 0, 0
		return
	}
	s.interval = time.Duration(float64(time.Second) / perSecond)
	s.perSecond = int(math.Ceil(perSecond))
	if s.perSecond > maxRing {
		s.perSecond = 0
	}
	if need := max(s.perSecond, s.burst); need > len(s.ring) && need <= maxRing {
		ring := make([]time.Duration, need)
		for k := max(0, s.n-len(s.ring)); k < s.n; k++ {
			ring[k%need] = s.ring[k%len(s.ring)]
		}
		s.ring = ring
	}
}

// admit returns the departure of a PDU whose caller holds a token at now, and its number k
// for departed.
func (s *shape) admit(now time.Duration) (dep time.Duration, k int) {
	if s.interval == 0 {
		return now, -1
	}
	dep = now
	if s.n >= s.burst {
		dep = max(dep, s.ring[(s.n-s.burst)%len(s.ring)]+time.Duration(s.burst)*s.interval/2)
	}
	if s.perSecond > 0 && s.n >= s.perSecond {
		dep = max(dep, s.ring[(s.n-s.perSecond)%len(s.ring)]+time.Second)
	}
	k = s.n
	s.ring[k%len(s.ring)] = dep
	s.n++
	return dep, k
}

// departed records that PDU k actually left at, later than admit placed it; PDUs admitted
// from now on are placed after the real departure.
func (s *shape) departed(k int, at time.Duration) {
	if k < 0 || k < s.n-len(s.ring) {
		return
	}
	if i := k % len(s.ring); at > s.ring[i] {
		s.ring[i] = at
	}
}

// rateControl is the pacing decision without clocks or locks, so it can be tested as a table:
// cut the rate by rateDecrease on throttling (at most once per cooldown), and after each
// cooldown without throttling raise it by a tenth of the target until it is back at the target.
type rateControl struct {
	target   float64 // PDUs/s the user asked for; +Inf = unlimited
	current  float64 // PDUs/s in force; +Inf = unlimited
	floor    float64 // the rate is never cut below this (PDUs/s)
	cooldown time.Duration
	cut      time.Time // last cut; zero = never
	stepped  time.Time // last throttling answer or recovery step
	ceiling  float64   // unlimited target only: rate above which it becomes unlimited again
}

const (
	rateDecrease = 0.5         // multiplicative cut on throttling
	rateFloor    = 1.0         // PDUs/s
	rateCooldown = time.Second // between two cuts, and between two recovery steps
	rateSteps    = 10          // recovery steps from a cut back to the target
	// fallbackRate is what an unlimited pacer is cut to when it has no measurement yet.
	fallbackRate = 100.0
)

func newRateControl(target float64) rateControl {
	return rateControl{target: target, current: target, floor: rateFloor, cooldown: rateCooldown}
}

// throttled returns the rate after a throttling answer at now; observed is the measured PDU
// rate (0 when unknown), used when the current rate is unlimited.
func (c *rateControl) throttled(now time.Time, observed float64) (float64, bool) {
	c.stepped = now // any throttling postpones the next recovery step
	if !c.cut.IsZero() && now.Sub(c.cut) < c.cooldown {
		return c.current, false
	}
	base := c.current
	if math.IsInf(base, 1) {
		base = observed
		if base <= 0 {
			base = fallbackRate
		}
		c.ceiling = base
	}
	next := math.Max(c.floor, base*rateDecrease)
	if next >= c.current {
		return c.current, false
	}
	c.current, c.cut = next, now
	return next, true
}

// recover returns the rate after one recovery step at now, if one is due.
func (c *rateControl) recover(now time.Time) (float64, bool) {
	if c.current >= c.target || now.Sub(c.stepped) < c.cooldown {
		return c.current, false
	}
	next := c.current + c.target/rateSteps
	if math.IsInf(c.target, 1) {
		// No target to step towards: climb back to the rate that was throttled, then let go.
		next = c.current + c.ceiling/rateSteps
		if next > c.ceiling {
			next = math.Inf(1)
		}
	} else if next > c.target {
		next = c.target
	}
	c.current, c.stepped = next, now
	return next, true
}

// schedule gives each row the time at which the pacer, running at the configured rate,
// should send its first part: rows follow each other by their number of parts divided by the
// rate, in the order they come for their first token. Latency measured from these times
// includes time lost to a stalled window or a slow SMSC, instead of hiding it (coordinated
// omission). The schedule restarts at the start and after each pause of --send-between.
type schedule struct {
	rate float64   // PDUs per second; 0 = unlimited (every row is planned when it is taken)
	next time.Time // planned time of the next row
}

// restart makes the next row due at now.
func (s *schedule) restart(now time.Time) { s.next = now }

// giveBack returns the places of parts PDUs that a row planned and will not send.
func (s *schedule) giveBack(parts int) {
	if s.rate > 0 && parts > 0 {
		s.next = s.next.Add(-time.Duration(float64(parts) / s.rate * float64(time.Second)))
	}
}

// planned returns the planned time of a row of parts PDUs taken at now.
func (s *schedule) planned(parts int, now time.Time) time.Time {
	if s.rate <= 0 {
		return now
	}
	t := s.next
	s.next = t.Add(time.Duration(float64(parts) / s.rate * float64(time.Second)))
	return t
}
