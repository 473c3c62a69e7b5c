package report

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// createTemp creates a new, empty temporary file beside path. Unlike os.CreateTemp it asks for
// mode 0666, so the process umask decides the final mode as it would for os.Create. It first
// removes the temporary files of path that a killed process left (see removeStaleTemps).
func createTemp(path string) (string, *os.File, error) {
	dir, base := filepath.Split(path)
	removeStaleTemps(dir, base, time.Now())
	var rnd [8]byte
	for range 100 {
		rand.Read(rnd[:])
		tmp := filepath.Join(dir, "."+base+"."+hex.EncodeToString(rnd[:])+".tmp")
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return tmp, f, err
	}
	return "", nil, errors.New("could not create a temporary file: 100 names taken")
}

// staleTemp is how long a temporary file goes unwritten before it counts as left behind: a
// live writer writes its file every few milliseconds.
const staleTemp = 2 * time.Minute

// removeStaleTemps removes the temporary files of base in dir (".base.<16 hex digits>.tmp")
// not written for staleTemp: what a process killed while writing the file left. They are
// hidden, and would otherwise pile up, one per crash, each as big as the file.
func removeStaleTemps(dir, base string, now time.Time) {
	entries, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "."+base+".")
		rnd, tmp := strings.CutSuffix(rest, ".tmp")
		if !ok || !tmp || len(rnd) != 16 || !e.Type().IsRegular() {
			continue
		}
		if _, err := hex.DecodeString(rnd); err != nil {
			continue
		}
		if fi, err := e.Info(); err == nil && now.Sub(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// commit moves the finished temporary file tmp to path. With replace it renames over an
// existing file. Without, it hard-links (which fails if path exists, so a file created
// meanwhile is never overwritten) and removes tmp; where the file system has no hard links it
// falls back to a check then rename.
func commit(tmp, path string, replace bool) error {
	if replace {
		return os.Rename(tmp, path)
	}
	err := os.Link(tmp, path)
	if err == nil {
		os.Remove(tmp) // path is complete; a leftover temporary name is only clutter
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	if _, statErr := os.Lstat(path); statErr == nil {
		return existsError(path)
	}
	return os.Rename(tmp, path)
}

// syncDir fsyncs the directory holding path, so that a rename in it survives a crash. Windows
// cannot sync a directory (and needs not: its rename is journaled), so it is skipped there.
func syncDir(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
