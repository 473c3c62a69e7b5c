package send

import (
	"testing"
	"time"
)

func TestBackoff_Delay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{1, 0, 50 * time.Millisecond},
		{1, 0.5, 75 * time.Millisecond},
		{2, 0, 100 * time.Millisecond},
		{3, 0, 200 * time.Millisecond},
		{4, 0.999, 800*time.Millisecond - 400*time.Microsecond},
		{5, 0, 500 * time.Millisecond}, // capped at Max
		{60, 0, 500 * time.Millisecond},
		{0, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.n, tt.jitter); got != tt.want {
			t.Errorf("Delay(%d, %v) = %v, want %v", tt.n, tt.jitter, got, tt.want)
		}
	}
	if got := (Backoff{}).Delay(1, 0); got != 250*time.Millisecond {
		t.Errorf("zero Backoff Delay(1, 0) = %v, want 250ms", got)
	}
	if got := (Backoff{}).Delay(100, 0); got != 15*time.Second {
		t.Errorf("zero Backoff Delay(100, 0) = %v, want 15s", got)
	}
}
