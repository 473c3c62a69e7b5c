package report

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestFormatTime: the hand-written formatter writes exactly what time.Format writes with
// timeLayout in UTC, for any zone, across the years and at the edges of each field.
func TestFormatTime(t *testing.T) {
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 14, 9, 5, 7, 1_000_000, time.FixedZone("x", -5*3600)),
		time.Date(2025, 3, 14, 9, 5, 7, 999_999, time.FixedZone("y", 3600+1800)),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		times = append(times, time.Unix(rng.Int64N(400*365*86400)-100*365*86400, rng.Int64N(1e9)).In(time.FixedZone("z", rng.IntN(50400)-25200)))
	}
	for _, tm := range times {
		if got, want := formatTime(tm), tm.UTC().Format(timeLayout); got != want {
			t.Errorf("formatTime(%v) = %q, want %q", tm, got, want)
		}
	}
	if got := formatTime(time.Time{}); got != "" {
		t.Errorf("formatTime(zero) = %q, want \"\"", got)
	}
}
