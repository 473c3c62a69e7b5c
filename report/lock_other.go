//go:build !unix

package report

import "os"

// lockWait does nothing where flock does not exist: there, processes sharing an inbox do not
// join each other's parts safely, which is the user's responsibility.
func lockWait(*os.File) error { return nil }

// unlock does nothing either.
func unlock(*os.File) {}

// openReadPipe opens the FIFO at path for writing.
func openReadPipe(path string) (*os.File, error) { return os.OpenFile(path, os.O_WRONLY, 0) }
