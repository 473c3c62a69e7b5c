//go:build !unix

package journal

import "os"

// lockFile does nothing where flock does not exist: there, running two smscast processes on
// one journal at once is the user's responsibility.
func lockFile(*os.File) error { return nil }

// inUseLock cannot tell where flock does not exist: nothing is in use.
func inUseLock(*os.File) error { return nil }
