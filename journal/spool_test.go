package journal

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSpool_RoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	a, b := NewSpool(dir, Options{}), NewSpool(dir, Options{}) // e.g. two processes
	if a.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", a.Dir(), dir)
	}
	must(t, a.Receipt(testReceipt("a-1"), t0))
	must(t, b.Receipt(testReceipt("b-1"), t0))
	must(t, a.Receipt(testReceipt("a-2"), t0))

	// Durable on return: readable while both are still open.
	var ids []string
	torn, err := ReadSpool(dir, func(r SpooledReceipt) error {
		ids = append(ids, r.Receipt.ID)
		if !strings.HasPrefix(filepath.Base(r.File), spoolPrefix) || !r.At.Equal(t0) {
			t.Errorf("spooled receipt %+v", r)
		}
		return nil
	})
	if err != nil || torn != nil {
		t.Fatalf("ReadSpool: %v, torn %v", err, torn)
	}
	slices.Sort(ids)
	if want := []string{"a-1", "a-2", "b-1"}; !slices.Equal(ids, want) {
		t.Errorf("spooled ids = %v, want %v", ids, want)
	}
	must(t, a.Close())
	must(t, b.Close())
	if err := a.Receipt(testReceipt("late"), t0); !errors.Is(err, ErrClosed) {
		t.Errorf("Receipt after Close = %v, want ErrClosed", err)
	}
	if fi, err := os.Stat(dir); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700) {
		t.Errorf("spool directory: %v, mode %v; want 0700", err, fi.Mode())
	}
}

func TestSpool_NothingCreatedWithoutReceipts(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := NewSpool(dir, Options{})
	must(t, s.Close())
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unused spool created %s (%v)", dir, err)
	}
	n := 0
	torn, err := ReadSpool(dir, func(SpooledReceipt) error { n++; return nil })
	if err != nil || torn != nil || n != 0 {
		t.Errorf("ReadSpool of a missing directory: %d receipts, %v, %v", n, torn, err)
	}
}

func TestReadSpool_TornAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	s := NewSpool(dir, Options{})
	must(t, s.Receipt(testReceipt("r-1"), t0))
	must(t, s.Receipt(testReceipt("r-2"), t0))
	must(t, s.Close())
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("spool holds %v (%v), want one file", entries, err)
	}
	path := filepath.Join(dir, entries[0].Name())
	data, err := os.ReadFile(path)
	must(t, err)
	// Simulate a crash mid-write: the end marker and part of the last receipt are gone.
	recs, _ := readRecords(t, path)
	if got := kinds(recs); !slices.Equal(got, []Kind{KindStart, KindReceipt, KindReceipt, KindEnd}) {
		t.Fatalf("spool file holds %v", got)
	}
	must(t, os.WriteFile(path, data[:recs[2].Offset+5], 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a spool file"), 0o600))

	var ids []string
	torn, err := ReadSpool(dir, func(r SpooledReceipt) error { ids = append(ids, r.Receipt.ID); return nil })
	if err != nil || len(torn) != 1 || !slices.Equal(ids, []string{"r-1"}) {
		t.Errorf("ReadSpool = %v, torn %v, ids %v; want r-1 and one torn tail", err, torn, ids)
	}
}

func TestDefaultSpoolDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/lib/state")
	if dir, err := DefaultSpoolDir(); err != nil || dir != filepath.Join("/var/lib/state", "smscast", "spool") {
		t.Errorf("with XDG_STATE_HOME: %q, %v", dir, err)
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return
	}
	t.Setenv("XDG_STATE_HOME", "relative/is/ignored")
	t.Setenv("HOME", "/home/cron")
	if dir, err := DefaultSpoolDir(); err != nil || dir != "/home/cron/.local/state/smscast/spool" {
		t.Errorf("without XDG_STATE_HOME: %q, %v", dir, err)
	}
}

// TestSpool_ReceiptThen: the callback form creates the spool file on its own goroutine, calls
// done once the receipt is durable, and gives ErrClosed after Close.
func TestSpool_ReceiptThen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "spool")
	s := NewSpool(dir, Options{})
	wait := func(what string) error {
		t.Helper()
		done := make(chan error, 1)
		s.ReceiptThen(testReceipt(what), t0, func(err error) { done <- err })
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: done not called within 10 s", what)
			return nil
		}
	}
	must(t, wait("first")) // creates the file
	must(t, wait("second"))
	var ids []string
	if _, err := ReadSpool(dir, func(r SpooledReceipt) error { ids = append(ids, r.Receipt.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"first", "second"}; !slices.Equal(ids, want) {
		t.Errorf("spooled ids = %v, want %v", ids, want)
	}
	must(t, s.Close())
	if err := wait("late"); !errors.Is(err, ErrClosed) {
		t.Errorf("ReceiptThen after Close: %v, want ErrClosed", err)
	}
}
