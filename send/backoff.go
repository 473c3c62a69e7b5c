package send

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff computes exponential delays with jitter, so that many rows retrying after the same
// failure do not all come back at the same instant.
type Backoff struct {
	Initial time.Duration // delay before the first retry; 0 means 500ms
	Max     time.Duration // cap on any delay; 0 means 30s
}

// Delay is the wait before retry n (1 = the first retry): a duration in [d/2, d) with
// d = min(Max, Initial·2^(n-1)), placed by jitter, a number in [0, 1).
func (b Backoff) Delay(n int, jitter float64) time.Duration {
	initial, limit := b.Initial, b.Max
	if initial <= 0 {
		initial = 500 * time.Millisecond
	}
	if limit <= 0 {
		limit = 30 * time.Second
	}
	d := initial
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + time.Duration(jitter*float64(d/2))
}

// sleep waits for d or until ctx or stop ends, whichever comes first; it reports whether the
// whole delay passed. A nil stop never fires.
func sleep(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// jitter is the random source of Delay's jitter.
func jitter() float64 { return rand.Float64() }
