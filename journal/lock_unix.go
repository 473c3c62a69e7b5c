//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on f, held until f is closed, so that two
// processes (an overlapping cron run, a receipts run during a send) never append to one
// journal at once and interleave their records.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

// inUseLock reports whether another process holds f's lock (ErrLocked), taking only a shared
// lock to find out, released when f is closed: a Create that races with the probe retries
// its own lock for a moment (see lockCreated).
func inUseLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}
