//go:build unix

package report

import (
	"os"
	"syscall"
)

// lockWait takes an exclusive advisory lock on f, waiting for another process to release it.
func lockWait(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// unlock releases the lock of lockWait.
func unlock(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
