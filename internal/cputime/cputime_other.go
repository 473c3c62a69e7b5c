//go:build !unix

package cputime

import (
	"errors"
	"time"
)

// Process is not available without getrusage: the benchmarks that report CPU time run on
// unix systems only.
func Process() (time.Duration, error) {
	return 0, errors.New("cputime: no CPU time on this system")
}
