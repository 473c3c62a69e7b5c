package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"smscast/smpp"
)

// Spool file names: spoolPrefix + UTC creation time + "-" + pid [+ "-" + n] + spoolSuffix.
const (
	spoolPrefix = "receipts-"
	spoolSuffix = ".journal"
)

// DefaultSpoolDir is where receipts that match no message of the running campaign are kept
// when no directory is given: $XDG_STATE_HOME/smscast/spool, or ~/.local/state/smscast/spool
// when XDG_STATE_HOME is unset, on Unix; the per-user configuration directory
// (os.UserConfigDir) + /smscast/spool on macOS and Windows. A state directory and not the cache:
// spooled receipts are data that exists nowhere else once acknowledged, and cache directories
// are emptied by cleaners.
func DefaultSpoolDir() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "smscast", "spool"), nil
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		dir, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("find the receipt spool directory: %w (give one with --spool)", err)
		}
		return filepath.Join(dir, "smscast", "spool"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the receipt spool directory: %w (give one with --spool)", err)
	}
	return filepath.Join(home, ".local", "state", "smscast", "spool"), nil
}

// Spool keeps receipts that match no message of the running campaign (carriers deliver them
// on whatever session is bound, so they often belong to an earlier run) so that they are never
// dropped. Each process appends to a file of its own in the spool directory, created on the
// first receipt, in the journal format with the same group commit. It is safe for concurrent
// use.
type Spool struct {
	dir string
	opt Options

	mu     sync.Mutex
	w      *Writer
	closed bool
}

// NewSpool returns a spool writing under dir. Nothing is created until the first receipt.
func NewSpool(dir string, opt Options) *Spool {
	return &Spool{dir: dir, opt: opt}
}

// Dir is the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Receipt spools r and returns once it is durable, so that the caller may acknowledge it.
func (s *Spool) Receipt(r smpp.Receipt, at time.Time) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	return w.Receipt(r, at)
}

// ReceiptThen spools r without waiting, as Writer.ReceiptThen: done is called exactly once,
// with nil once r is durable. The first receipt creates the spool file, which touches the
// disk: that happens on a goroutine of its own, so the caller (a session's reader) never waits
// for it.
func (s *Spool) ReceiptThen(r smpp.Receipt, at time.Time, done func(error)) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	if w != nil {
		w.ReceiptThen(r, at, done)
		return
	}
	go func() {
		w, err := s.writer()
		if err != nil {
			done(err)
			return
		}
		w.ReceiptThen(r, at, done)
	}()
}

func (s *Spool) writer() (*Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("receipt spool %s: %w", s.dir, ErrClosed)
	}
	if s.w != nil {
		return s.w, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("receipt spool: %w (give a writable directory with --spool)", err)
	}
	base := spoolPrefix + time.Now().UTC().Format("20060102T150405.000000000Z") + fmt.Sprintf("-%d", os.Getpid())
	var id Identity
	id.SetOption("spool", "receipts that matched no message of the running campaign")
	for n := 0; ; n++ {
		name := base + spoolSuffix
		if n > 0 {
			name = fmt.Sprintf("%s-%d%s", base, n, spoolSuffix)
		}
		w, err := Create(filepath.Join(s.dir, name), id, s.opt)
		if err == nil {
			s.w = w
			return w, nil
		}
		if !errors.Is(err, fs.ErrExist) || n >= 100 {
			return nil, fmt.Errorf("receipt spool: %w", err)
		}
	}
}

// Close closes the spool file, if one was created.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.w == nil {
		return nil
	}
	return s.w.Close()
}

// SpooledReceipt is a receipt read back from a spool.
type SpooledReceipt struct {
	File    string // the spool file it came from
	Receipt smpp.Receipt
	At      time.Time // when it was received
}

// ReadSpool calls fn for every receipt in the spool directory dir, oldest file first. A
// missing directory holds no receipts. Torn tails (a running or crashed process's last write)
// are returned as warnings; a damaged spool file stops the reading with its *CorruptError.
func ReadSpool(dir string, fn func(SpooledReceipt) error) ([]*TornTail, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read receipt spool: %w", err)
	}
	var torn []*TornTail
	for _, e := range entries { // sorted by name, which starts with the creation time
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, spoolPrefix) || !strings.HasSuffix(name, spoolSuffix) {
			continue
		}
		path := filepath.Join(dir, name)
		t, err := Replay(path, func(rec Record) error {
			if rec.Kind != KindReceipt {
				return nil
			}
			return fn(SpooledReceipt{File: path, Receipt: rec.Receipt, At: rec.At})
		})
		if err != nil {
			return torn, fmt.Errorf("read receipt spool: %w", err)
		}
		if t != nil {
			torn = append(torn, t)
		}
	}
	return torn, nil
}
