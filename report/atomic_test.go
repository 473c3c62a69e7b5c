package report

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The temporary file a process killed while writing left beside its file is removed by the
// next write; a recent one (a writer still at work) and other files are kept.
func TestCreateTemp_removesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	stale := filepath.Join(dir, ".out.csv.0123456789abcdef.tmp")
	fresh := filepath.Join(dir, ".out.csv.fedcba9876543210.tmp")
	other := filepath.Join(dir, ".other.csv.0123456789abcdef.tmp")
	odd := filepath.Join(dir, ".out.csv.notahexname12345.tmp")
	for _, f := range []string{stale, fresh, other, odd} {
		if err := os.WriteFile(f, []byte("half a report"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	for _, f := range []string{stale, other, odd} {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
	tmp, f, err := createTemp(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	os.Remove(tmp)
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temporary file is still there")
	}
	for _, f := range []string{fresh, other, odd} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(f), err)
		}
	}
}
