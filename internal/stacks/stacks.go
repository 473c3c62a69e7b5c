// Package stacks lets tests wait until goroutines are parked in a function, such as the
// select where workers wait for a bind, instead of sleeping for a time that a slow machine
// may need more of (a test that then asserts nothing happened would pass untested).
package stacks

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Parked returns the stacks of the goroutines that are parked (blocked, not running or
// runnable) with fn in their stack; fn is a function as a stack trace names it, such as
// "smscast/send.(*Campaign).session".
func Parked(fn string) []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var parked []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		running := strings.Contains(header, "[running") || strings.Contains(header, "[runnable")
		if !running && strings.Contains(g, "\n"+fn+"(") {
			parked = append(parked, g)
		}
	}
	return parked
}

// Await waits until at least n goroutines are parked with fn in their stack, for limit at
// most, and returns their stacks; it fails the test if they never are.
func Await(t testing.TB, fn string, n int, limit time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if parked := Parked(fn); len(parked) >= n {
			return parked
		} else if time.Now().After(deadline) {
			t.Fatalf("%d goroutines parked in %s after %v, want %d", len(parked), fn, limit, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
