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
	unlimited := schedule{}
	if got := unlimited.planned(3, late); !got.Equal(late) {
		t.Errorf("unlimited planned %v, want when taken", got)
	}
}
