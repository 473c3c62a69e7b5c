package main

import (
	"fmt"
	"os"
	"testing"
)

// TestMain points the per-user state directory (the default receipt spool) of every test, and
// of every binary a test starts, at a temporary directory: tests must not leave receipts in
// the home directory of whoever runs them.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smscast-test-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
