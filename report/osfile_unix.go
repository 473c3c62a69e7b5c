//go:build unix

// What report needs of the operating system that differs by platform: file locks, pipes.

package report

import (
	"errors"
	"fmt"
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

// openPipeForWriting opens the FIFO at path for writing, failing at once when nobody has it open
// for reading: the lines written to it would be lost.
func openPipeForWriting(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		return nil, fmt.Errorf("%s is a pipe that nobody reads: start its reader first", path)
	}
	return f, err
}
