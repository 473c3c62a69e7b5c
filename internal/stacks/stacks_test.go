package stacks

import (
	"testing"
	"time"
)

func parkedHere(ch <-chan struct{}) { <-ch }

func TestAwait(t *testing.T) {
	const fn = "smscast/internal/stacks.parkedHere"
	if n := Count(fn); n != 0 {
		t.Fatalf("Count before any goroutine parked: %d, want 0", n)
	}
	release := make(chan struct{})
	done := make(chan struct{}, 3)
	for range 3 {
		go func() { parkedHere(release); done <- struct{}{} }()
	}
	Await(t, fn, 3, 10*time.Second)
	if n := Count(fn); n != 3 {
		t.Errorf("Count with three goroutines parked: %d, want 3", n)
	}
	close(release)
	for range 3 {
		<-done
	}
}
