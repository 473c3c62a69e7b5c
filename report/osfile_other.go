//go:build !unix

// What report needs of the operating system that differs by platform: file locks, pipes.

package report

import "os"

// lockWait does nothing where flock does not exist: there, processes sharing an inbox do not
// join each other's parts safely, which is the user's responsibility.
func lockWait(*os.File) error { return nil }

// unlock does nothing either.
func unlock(*os.File) {}

// openPipeForWriting opens the FIFO at path for writing.
func openPipeForWriting(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
