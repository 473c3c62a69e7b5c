// Package stacks lets tests wait until goroutines have reached a function, such as the
// select where workers wait for a bind, instead of sleeping for a time that a slow machine
// may need more of (a test that then asserts nothing happened would pass untested).
package stacks

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Count is how many goroutines have fn in their stack; fn is a function as a stack trace
// names it, such as "smscast/send.(*Campaign).session".
func Count(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "\n"+fn+"(") {
			count++
		}
	}
	return count
}

// Await waits until at least n goroutines have fn in their stack, for limit at most, and
// fails the test if they never do.
func Await(t testing.TB, fn string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for got := Count(fn); got < n; got = Count(fn) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines in %s after %v, want %d", got, fn, limit, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
