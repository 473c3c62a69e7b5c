package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// ErrNotJournal means a file does not start with the journal header.
var ErrNotJournal = errors.New("not an smscast journal")

// VersionError reports a journal written in a format version this build does not read.
type VersionError struct {
	Path    string
	Version uint32 // the file's format version
}

func (e *VersionError) Error() string {
	if e.Version > Version {
		return fmt.Sprintf("journal %s uses format version %d, but this smscast reads only version %d: use the newer smscast that wrote it",
			e.Path, e.Version, Version)
	}
	return fmt.Sprintf("journal %s uses format version %d, which this smscast does not read (it reads version %d)",
		e.Path, e.Version, Version)
}

// CorruptError reports damage before the end of a journal: a record that fails its checksum
// with an intact record after it, or a record that cannot be decoded although its checksum
// holds. A crash cannot cause either (it only ever tears the end of the file), so the journal
// is refused rather than silently cut.
type CorruptError struct {
	Path   string
	Offset int64  // byte offset of the damaged record
	Reason string // what is wrong there, and why it is not a torn tail
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s is damaged at byte %d: %s. "+
		"Restore the file from a backup, or keep only the records before the damage with `truncate -s %d %s` "+
		"(rows sent after that point are then sent again, and not marked resubmitted: their records are lost)", e.Path, e.Offset, e.Reason, e.Offset, e.Path)
}

// TornTail describes the end of a journal that does not form a complete record: what a crash
// in the middle of a write leaves behind. It is a warning, not an error: the records before it
// are intact, and Open cuts the tail before appending.
type TornTail struct {
	Path   string
	Offset int64  // where the torn record starts: the journal's intact length
	Size   int64  // bytes from Offset to the end of the file
	Reason string // what was wrong with the bytes at Offset
}

func (t *TornTail) String() string {
	return fmt.Sprintf("journal %s: the last %d bytes (from byte %d: %s) are an incomplete record left by an interrupted write; they are ignored and will be cut",
		t.Path, t.Size, t.Offset, t.Reason)
}

// Replay reads the journal at path and calls fn for each intact record, in file order. It
// returns a non-nil *TornTail when the file ends in an incomplete record (fn has then seen
// every record before it), *CorruptError for damage before the end, *VersionError for another
// format version, ErrNotJournal for a file that is not a journal, and fn's error if fn fails.
func Replay(path string, fn func(Record) error) (*TornTail, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	return replay(f, fi.Size(), path, fn)
}

// CheckHeader reads only the header of the file at path: ErrNotJournal (wrapped) for a file
// that is not a journal, *VersionError for another format version, nil for a journal (one
// torn before its header was complete included). For telling a journal from another file
// without replaying a whole campaign.
func CheckHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read journal: %w", err)
	}
	_, _, err = header(f, fi.Size(), path)
	return err
}

// header reads and checks the file header of a journal of the given size. A file torn before
// its header was complete gives a *TornTail and full false: nothing follows.
func header(ra io.ReaderAt, size int64, path string) (torn *TornTail, full bool, err error) {
	hdr := make([]byte, headerLen)
	n, err := ra.ReadAt(hdr, 0)
	if n < headerLen && !errors.Is(err, io.EOF) {
		return nil, false, fmt.Errorf("read journal %s: %w", path, err)
	}
	hdr = hdr[:min(int64(n), size)]
	if len(hdr) < headerLen {
		// A file shorter than the header is a torn header if it is a prefix of one (the
		// version bytes may be incomplete): the crash came before anything was recorded.
		if len(hdr) <= len(Magic) && string(hdr) == Magic[:len(hdr)] ||
			len(hdr) > len(Magic) && string(hdr[:len(Magic)]) == Magic {
			if size == 0 {
				return &TornTail{Path: path, Reason: "empty file"}, false, nil
			}
			return &TornTail{Path: path, Size: size, Reason: "incomplete file header"}, false, nil
		}
		return nil, false, fmt.Errorf("%s: %w", path, ErrNotJournal)
	}
	if string(hdr[:len(Magic)]) != Magic {
		return nil, false, fmt.Errorf("%s: %w", path, ErrNotJournal)
	}
	if v := binary.LittleEndian.Uint32(hdr[len(Magic):]); v != Version {
		return nil, false, &VersionError{Path: path, Version: v}
	}
	return nil, true, nil
}

// replay is Replay over any random-access source of the given size.
func replay(ra io.ReaderAt, size int64, path string, fn func(Record) error) (*TornTail, error) {
	if torn, full, err := header(ra, size, path); !full {
		return torn, err
	}

	br := bufio.NewReaderSize(io.NewSectionReader(ra, headerLen, size-headerLen), 64<<10)
	var frame [frameHeaderLen]byte
	var body []byte
	off := int64(headerLen)
	for off < size {
		bad := ""
		if size-off < frameHeaderLen {
			bad = "incomplete record header"
		} else if _, err := io.ReadFull(br, frame[:]); err != nil {
			return nil, fmt.Errorf("read journal %s at byte %d: %w", path, off, err)
		}
		length := int64(binary.LittleEndian.Uint32(frame[:4]))
		switch {
		case bad != "":
		case length == 0 || length > MaxRecordLen:
			bad = fmt.Sprintf("impossible record length %d", length)
		case off+frameHeaderLen+length > size:
			bad = fmt.Sprintf("record of %d bytes runs past the end of the file", length)
		default:
			if int64(cap(body)) < length {
				body = make([]byte, length)
			}
			body = body[:length]
			if _, err := io.ReadFull(br, body); err != nil {
				return nil, fmt.Errorf("read journal %s at byte %d: %w", path, off, err)
			}
			if crcOf(frame[:4], body) != binary.LittleEndian.Uint32(frame[4:]) {
				bad = "checksum mismatch"
			}
		}
		if bad != "" {
			next, found, err := findRecord(ra, off+1, size)
			switch {
			case errors.Is(err, errScanBudget):
				return nil, &CorruptError{Path: path, Offset: off,
					Reason: fmt.Sprintf("%s, followed by %d bytes too costly to check for intact records", bad, size-off)}
			case err != nil:
				return nil, fmt.Errorf("read journal %s after byte %d: %w", path, off, err)
			case found:
				return nil, &CorruptError{Path: path, Offset: off,
					Reason: fmt.Sprintf("%s, and an intact record follows at byte %d, so this is not a write cut short by a crash", bad, next)}
			}
			return &TornTail{Path: path, Offset: off, Size: size - off, Reason: bad}, nil
		}
		rec := Record{Offset: off}
		if err := decodeBody(body, &rec); err != nil {
			// The checksum holds, so these are the bytes that were written: a bug or a newer
			// writer, never a torn write.
			return nil, &CorruptError{Path: path, Offset: off,
				Reason: err.Error() + " although its checksum holds (written by a newer or faulty smscast)"}
		}
		if err := fn(rec); err != nil {
			return nil, err
		}
		off += frameHeaderLen + length
	}
	return nil, nil
}

func crcOf(lengthBytes, body []byte) uint32 {
	return crc32.Update(crc32.Update(0, castagnoli, lengthBytes), castagnoli, body)
}

// errScanBudget stops findRecord before its checksums cost more than scanBudget bytes.
var errScanBudget = errors.New("scan budget exceeded")

// scanBudget bounds the bytes findRecord checksums, so that a crafted file full of plausible
// lengths cannot make reading it take hours. Ordinary damage and torn tails stay far below.
const scanBudget = 256 << 20

// findRecord looks for an intact record (plausible length, known kind, matching checksum)
// starting anywhere in [from, size). It tells a torn tail, after which nothing intact can
// follow, from damage in the middle. The probe is cheap where the length or kind is
// implausible, which is almost everywhere in zeros or noise.
func findRecord(ra io.ReaderAt, from, size int64) (int64, bool, error) {
	const window = 64 << 10
	buf := make([]byte, window)
	var body []byte
	bufStart, bufLen := int64(0), 0 // buf holds the file's bytes [bufStart, bufStart+bufLen)
	budget := int64(scanBudget)
	for p := from; p+frameHeaderLen < size; p++ {
		if p+frameHeaderLen+1 > bufStart+int64(bufLen) {
			n, err := ra.ReadAt(buf, p)
			if n < frameHeaderLen+1 && !errors.Is(err, io.EOF) {
				return 0, false, err
			}
			bufStart, bufLen = p, n
		}
		h := buf[p-bufStart:]
		length := int64(binary.LittleEndian.Uint32(h[:4]))
		if length == 0 || length > MaxRecordLen || p+frameHeaderLen+length > size {
			continue
		}
		if k := Kind(h[frameHeaderLen]); k == 0 || k >= kindLimit {
			continue
		}
		if budget -= length; budget < 0 {
			return 0, false, errScanBudget
		}
		if int64(cap(body)) < length {
			body = make([]byte, length)
		}
		body = body[:length]
		if _, err := ra.ReadAt(body, p+frameHeaderLen); err != nil && !errors.Is(err, io.EOF) {
			return 0, false, err
		}
		if crcOf(h[:4], body) == binary.LittleEndian.Uint32(h[4:8]) {
			return p, true, nil
		}
	}
	return 0, false, nil
}
