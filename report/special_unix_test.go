//go:build unix

package report

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// Special paths are written into, never replaced: the process's own descriptors (whatever
// they are behind), FIFOs and devices. A regular file is not special for being under /dev
// (/dev/shm holds ordinary files, which are replaced as anywhere else).
func TestSpecial(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	f, err := os.Open(regular) // a descriptor of the process with a regular file behind it
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tests := map[string]bool{
		regular:                                false,
		filepath.Join(dir, "x"):                false, // nothing there
		dir:                                    false,
		fifo:                                   true,
		"/dev/null":                            true,
		"/dev/fd/" + strconv.Itoa(int(f.Fd())): true,
		"/proc/self/fd/" + strconv.Itoa(int(f.Fd())): true,
	}
	if shm := "/dev/shm"; isDir(shm) {
		plain, err := os.CreateTemp(shm, "smscast-special-*")
		if err != nil {
			t.Fatal(err)
		}
		plain.Close()
		defer os.Remove(plain.Name())
		tests[plain.Name()] = false
	}
	for path, want := range tests {
		if _, err := os.Stat(path); err != nil && want {
			continue // no such device or /proc here
		}
		if got := Special(path); got != want {
			t.Errorf("Special(%q) = %v, want %v", path, got, want)
		}
	}
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}
