package send

import (
	"context"
	"math"
	"testing"
	"time"
)

func TestRateControl(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	inf := math.Inf(1)
	type step struct {
		at        int     // milliseconds after t0
		throttled bool    // a throttling answer; otherwise a recovery check
		observed  float64 // measured rate passed with a throttling answer
		want      float64 // rate in force afterwards
		changed   bool
	}
	tests := []struct {
		name   string
		target float64
		steps  []step
	}{
		{"at target nothing to recover", 100, []step{
			{at: 0, want: 100}, {at: 5000, want: 100},
		}},
		{"cut by half then back in tenths of the target", 100, []step{
			{at: 0, throttled: true, want: 50, changed: true},
			{at: 999, want: 50},
			{at: 1000, want: 60, changed: true},
			{at: 1500, want: 60},
			{at: 2000, want: 70, changed: true},
			{at: 3000, want: 80, changed: true},
			{at: 4000, want: 90, changed: true},
			{at: 5000, want: 100, changed: true},
			{at: 6000, want: 100},
		}},
		{"answers to PDUs in flight at the old rate do not cut twice", 100, []step{
			{at: 0, throttled: true, want: 50, changed: true},
			{at: 10, throttled: true, want: 50},
			{at: 999, throttled: true, want: 50},
			{at: 1000, throttled: true, want: 25, changed: true},
		}},
		{"throttling postpones the next step", 100, []step{
			{at: 0, throttled: true, want: 50, changed: true},
			{at: 800, throttled: true, want: 50},
			{at: 1000, want: 50},
			{at: 1800, want: 60, changed: true},
		}},
		{"never below the floor", 1.5, []step{
			{at: 0, throttled: true, want: 1, changed: true},
			{at: 1000, throttled: true, want: 1},
		}},
		{"recovery stops at the target", 7, []step{
			{at: 0, throttled: true, want: 3.5, changed: true},
			{at: 1000, want: 4.2, changed: true},
			{at: 2000, want: 4.9, changed: true},
			{at: 3000, want: 5.6, changed: true},
			{at: 4000, want: 6.3, changed: true},
			{at: 5000, want: 7, changed: true},
		}},
		{"unlimited is cut to half the measured rate and let go again", inf, []step{
			{at: 0, throttled: true, observed: 1000, want: 500, changed: true},
			{at: 1000, want: 600, changed: true},
			{at: 2000, want: 700, changed: true},
			{at: 3000, want: 800, changed: true},
			{at: 4000, want: 900, changed: true},
			{at: 5000, want: 1000, changed: true},
			{at: 6000, want: inf, changed: true},
			{at: 7000, want: inf},
		}},
		{"unlimited without a measurement falls back", inf, []step{
			{at: 0, throttled: true, want: fallbackRate * rateDecrease, changed: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newRateControl(tt.target)
			for i, s := range tt.steps {
				var got float64
				var changed bool
				if s.throttled {
					got, changed = c.throttled(at(s.at), s.observed)
				} else {
					got, changed = c.recover(at(s.at))
				}
				if math.Abs(got-s.want) > 1e-9 && got != s.want || changed != s.changed {
					t.Fatalf("step %d at %dms (throttled=%v): rate %v changed %v, want %v changed %v",
						i, s.at, s.throttled, got, changed, s.want, s.changed)
				}
				if c.current != got {
					t.Fatalf("step %d: current %v, returned %v", i, c.current, got)
				}
			}
		})
	}
}

func TestPacer_unlimited(t *testing.T) {
	p := NewPacer(0, 1)
	if !math.IsInf(p.Rate(), 1) {
		t.Fatalf("Rate() = %v, want +Inf", p.Rate())
	}
	for range 1000 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.sent.Load(); got != 1000 {
		t.Fatalf("sent = %d, want 1000", got)
	}
}

func TestPacer_throttledLowersRate(t *testing.T) {
	p := NewPacer(200, 1)
	p.Throttled()
	if got := p.Rate(); got != 100 {
		t.Fatalf("Rate() after throttling = %v, want 100", got)
	}
	if got := float64(p.lim.Limit()); got != 100 {
		t.Fatalf("limiter limit = %v, want 100", got)
	}
	if !p.reduced.Load() {
		t.Fatal("pacer does not know its rate is reduced")
	}
}

func TestPacer_waitHonoursContext(t *testing.T) {
	p := NewPacer(0.001, 1)
	ctx, cancel := context.WithCancel(context.Background())
	if err := p.Wait(ctx); err != nil { // the first token is free
		t.Fatal(err)
	}
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait with a cancelled context returned nil")
	}
}

func TestSchedule(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	s := schedule{rate: 4}
	s.restart(t0)
	late := t0.Add(time.Hour) // rows taken late keep their plan: the delay shows in latency
	want := []time.Duration{0, 250 * time.Millisecond, 750 * time.Millisecond, time.Second}
	for i, parts := range []int{1, 2, 1, 1} {
		if got := s.planned(parts, late); !got.Equal(t0.Add(want[i])) {
			t.Errorf("row %d planned at %v, want t0+%v", i, got.Sub(t0), want[i])
		}
	}
	s.restart(late)
	if got := s.planned(1, late.Add(time.Second)); !got.Equal(late) {
		t.Errorf("after restart planned at %v, want the restart time", got)
	}
	// A row of three parts refused at its first gives back the two places it did not use.
	s.restart(t0)
	s.planned(3, late)
	s.giveBack(2)
	if got := s.planned(1, late); !got.Equal(t0.Add(250 * time.Millisecond)) {
		t.Errorf("after a give-back the next row is planned at t0+%v, want t0+250ms", got.Sub(t0))
	}
	unlimited := schedule{}
	unlimited.giveBack(2)
	if got := unlimited.planned(3, late); !got.Equal(late) {
		t.Errorf("unlimited planned %v, want when taken", got)
	}
}

func TestShape_admit(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	tests := []struct {
		name  string
		rate  float64
		burst int
		now   []int // arrival of each caller holding a token, ms
		want  []int // its departure, ms
	}{
		{"on time passes at once", 10, 1,
			[]int{0, 100, 200, 300}, []int{0, 100, 200, 300}},
		{"catching up runs at twice the rate", 10, 1,
			[]int{0, 400, 400, 400, 400}, []int{0, 400, 450, 500, 550}},
		{"a burst may leave back to back, then half-intervals", 10, 3,
			[]int{0, 0, 0, 0, 0, 0}, []int{0, 0, 0, 150, 150, 150}},
		{"never more than the rate in one second", 4, 1,
			[]int{0, 125, 250, 375, 500, 600, 700}, []int{0, 125, 250, 375, 1000, 1125, 1250}},
		{"a fractional rate rounds the window up", 2.5, 1,
			[]int{0, 200, 400, 600}, []int{0, 200, 400, 1000}},
		{"unlimited", math.Inf(1), 1,
			[]int{0, 0, 0}, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := shape{burst: tt.burst}
			s.setRate(tt.rate)
			for i, n := range tt.now {
				if got, _ := s.admit(ms(n)); got != ms(tt.want[i]) {
					t.Fatalf("caller %d at %dms leaves at %v, want %dms", i, n, got, tt.want[i])
				}
			}
		})
	}
}

func TestShape_departedCountsLateDepartures(t *testing.T) {
	s := shape{burst: 1}
	s.setRate(2)
	_, k := s.admit(0)
	s.departed(k, 300*time.Millisecond) // its timer fired late
	s.admit(500 * time.Millisecond)
	if got, _ := s.admit(600 * time.Millisecond); got != 1300*time.Millisecond {
		t.Errorf("third PDU leaves at %v, want 1.3s: one second after the first really left", got)
	}
	s.departed(-1, time.Hour) // unlimited admits return k = -1: ignored
	s.departed(0, time.Hour)  // no longer in the window: ignored
}

func TestShape_setRateKeepsTheWindow(t *testing.T) {
	s := shape{burst: 1}
	s.setRate(2)
	s.admit(0)
	s.admit(500 * time.Millisecond)
	// Cut to 1/s: the next may leave one second after the last, not the one before it.
	s.setRate(1)
	if got, _ := s.admit(600 * time.Millisecond); got != 1500*time.Millisecond {
		t.Errorf("after a cut to 1/s the next leaves at %v, want 1.5s", got)
	}
	// Raised to 4/s: the window grows and keeps the departures so far.
	s.setRate(4)
	if got, _ := s.admit(1600 * time.Millisecond); got != 1625*time.Millisecond {
		t.Errorf("after a raise to 4/s the next leaves at %v, want 1.625s (half an interval after the last)", got)
	}
}

// BenchmarkPacer_Wait measures the cost of one token when the rate does not hold callers
// back: unlimited (the fast path) and a rate far above what the loop reaches (both stages).
func BenchmarkPacer_Wait(b *testing.B) {
	for _, tc := range []struct {
		name string
		rate float64
	}{{"unlimited", 0}, {"limited", 1e9}} {
		b.Run(tc.name, func(b *testing.B) {
			p := NewPacer(tc.rate, 1)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.Wait(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

func TestPacer_measureForUnlimited(t *testing.T) {
	p := NewPacer(0, 1)
	t0 := p.epoch
	p.sent.Store(5000)
	p.measure(t0.Add(50 * time.Millisecond)) // too soon to tell
	if p.observed != 0 {
		t.Fatalf("observed %v after 50ms, want no measurement yet", p.observed)
	}
	p.measure(t0.Add(500 * time.Millisecond))
	if p.observed != 10000 {
		t.Fatalf("observed %v/s, want 10000/s (5000 PDUs in 0.5s)", p.observed)
	}
	// The first throttling halves what was measured, not a fixed fallback.
	r, changed := p.ctl.throttled(t0.Add(500*time.Millisecond), p.observed)
	if !changed || r != 5000 {
		t.Fatalf("throttled to %v (changed %v), want 5000/s", r, changed)
	}
}
