package stacks

import (
	"testing"
	"time"
)

func parkedHere(ch <-chan struct{}) { <-ch }

func TestAwait(t *testing.T) {
	const fn = "smscast/internal/stacks.parkedHere"
	if n := len(Parked(fn)); n != 0 {
		t.Fatalf("%d goroutines parked before any was started, want 0", n)
	}
	release := make(chan struct{})
	done := make(chan struct{}, 3)
	for range 3 {
		go func() { parkedHere(release); done <- struct{}{} }()
	}
	parked := Await(t, fn, 3, 10*time.Second)
	if len(parked) != 3 {
		t.Errorf("%d goroutines parked, want 3:\n%s", len(parked), parked)
	}
	close(release)
	for range 3 {
		<-done
	}
}
