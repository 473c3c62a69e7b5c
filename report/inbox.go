package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"
)

// MO is a mobile-originated message: a deliver_sm (or data_sm) that is not a receipt.
type MO struct {
	Time time.Time // when it was received
	From string    // source_addr: the handset
	To   string    // destination_addr: our number or short code
	Text string    // decoded text
	// FromTON is source_addr_ton, the type of number of From: 1 international, 2 national,
	// 0 unknown. It decides how an opt-out reads From (see OptOut.Normalize).
	FromTON uint8
	// Part is set for one part of a long message: Text is then only that part's. A Joiner
	// puts the parts together.
	Part *MOPart
}

// InboxColumns are the header of the --inbox CSV file.
var InboxColumns = []string{"time", "from", "to", "text"}

// Inbox appends MO messages to a CSV file (--inbox). It is safe for concurrent use.
type Inbox struct {
	mu   sync.Mutex
	path string
	f    *os.File
	sync bool         // f is a regular file: fsync it (a pipe or terminal cannot be)
	buf  bytes.Buffer // one line, written to f at once
	w    *csv.Writer  // writing to buf
}

// OpenInbox opens path for appending, creating it with a header row if it does not exist or
// is empty.
func OpenInbox(path string) (*Inbox, error) {
	var f *os.File
	var err error
	if st, serr := os.Stat(path); serr == nil && st.Mode()&fs.ModeNamedPipe != 0 {
		f, err = openPipeForWriting(path)
	} else {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	}
	if err != nil {
		return nil, fmt.Errorf("open inbox: %w", err)
	}
	in := &Inbox{path: path, f: f}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		in.sync = true
	}
	in.w = csv.NewWriter(&in.buf)
	empty, err := prepareAppend(f)
	if err == nil && empty {
		err = in.w.Write(InboxColumns)
		in.w.Flush()
		if err = errors.Join(err, in.w.Error()); err == nil {
			_, err = f.Write(in.buf.Bytes())
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	return in, nil
}

// prepareAppend reports whether f is empty and, if its last line has no newline (a file
// edited by hand), writes one so that appended lines start on a line of their own.
func prepareAppend(f *os.File) (empty bool, err error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() == 0 {
		return true, nil
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return false, err
	}
	if last[0] != '\n' {
		_, err = f.Write([]byte{'\n'})
	}
	return false, err
}

// Write appends m and syncs the file, so that a message is on disk before the SMSC is told it
// was received. Cells a spreadsheet would run are neutralised (see SafeCell). The line goes
// out in one write, so that lines of processes sharing the inbox never interleave.
func (in *Inbox) Write(m MO) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.buf.Reset()
	err := in.w.Write([]string{formatTime(m.Time), SafeCell(m.From), SafeCell(m.To), SafeCell(m.Text)})
	in.w.Flush()
	if err = errors.Join(err, in.w.Error()); err == nil {
		_, err = in.f.Write(in.buf.Bytes())
	}
	if err == nil && in.sync {
		err = in.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("write inbox %s: %w", in.path, err)
	}
	return nil
}

// Close closes the file.
func (in *Inbox) Close() error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.f.Close()
}

// ParseKeywords splits an --optout-keywords value ("STOP,UNSUBSCRIBE") into keywords, trimmed,
// empty ones dropped. A keyword must be one word: it is compared with a message's first word.
func ParseKeywords(s string) ([]string, error) {
	var kws []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if w, _ := firstWord(k); w != k {
			return nil, fmt.Errorf("--optout-keywords: %q is not a single word of letters and digits", k)
		}
		kws = append(kws, k)
	}
	return kws, nil
}

// firstWord returns the first run of letters and digits in text (skipping leading spaces and
// punctuation) and whether there is one: "  Stop!" → "Stop".
func firstWord(text string) (string, bool) {
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	start := strings.IndexFunc(text, isWord)
	if start < 0 {
		return "", false
	}
	rest := text[start:]
	if end := strings.IndexFunc(rest, func(r rune) bool { return !isWord(r) }); end >= 0 {
		rest = rest[:end]
	}
	return rest, true
}

// ErrNotANumber is OptOut.Handle's error for an opt-out whose sender is not a phone number (an
// alphanumeric sender): there is nothing to add to the exclude file, now or later.
var ErrNotANumber = errors.New("the sender is not a phone number")

// OptOut appends the senders of opt-out messages to the --exclude file, so that the next
// campaign skips them. It is safe for concurrent use.
type OptOut struct {
	mu       sync.Mutex
	path     string
	keywords []string
	f        *os.File
	seen     map[string]bool // digits of the numbers already in the file
	// seenIntl holds the digits of the lines in international form ("+…" or "00…"): a bare
	// line's digits may be a national number in the region of the run that reads the file.
	seenIntl map[string]bool
	// Normalize, when set before the first Handle, gives the numbers a sender of a type of
	// number may be, in international digits (see csvin.SenderNormalizer), each written with
	// a "+" so that the program reading the file reads it back the same; a sender it refuses
	// is not written. It is called with the lock held.
	Normalize func(sender string, ton uint8) ([]string, error)
}

// OpenOptOut opens the exclude file at path for appending (creating it if needed) and reads
// the numbers it holds, so that none is added twice. The file must be a plain list, one number
// per line: a CSV with several columns is refused, since a bare number appended to it would
// break it. keywords must not be empty.
func OpenOptOut(path string, keywords []string) (*OptOut, error) {
	if len(keywords) == 0 {
		return nil, errors.New("opt-out: no keywords: give --optout-keywords, e.g. STOP")
	}
	if err := optOutFileKind(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return nil, fmt.Errorf("open exclude file for opt-outs: %w", err)
	}
	o := &OptOut{path: path, keywords: keywords, f: f, seen: make(map[string]bool), seenIntl: make(map[string]bool)}
	if err := readOptOuts(io.NewSectionReader(f, 0, 1<<62), path, o.add); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := prepareAppend(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("open exclude file %s: %w", path, err)
	}
	return o, nil
}

// CheckOptOutFile reports, without changing it, why OpenOptOut would refuse the exclude file
// at path (nil if it would take it, or if it does not exist yet: it would be created): for a
// dry run.
func CheckOptOutFile(path string) error {
	if err := optOutFileKind(path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open exclude file for opt-outs: %w", err)
	}
	defer f.Close()
	return readOptOuts(f, path, nil)
}

// optOutFileKind refuses an exclude file that is not a regular file.
func optOutFileKind(path string) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("exclude file %s is not a regular file (a pipe?): opt-outs are appended to it, so give --exclude a file", path)
	}
	return nil
}

// readOptOuts reads the exclude file at path from r and gives add (if not nil) the text of
// each line with a number: a plain list, one number per line.
func readOptOuts(r io.Reader, path string, add func(line string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := bytes.TrimPrefix(sc.Bytes(), []byte("\uFEFF"))
		if bytes.ContainsAny(text, ",;\t") {
			return fmt.Errorf("exclude file %s:%d has several columns: opt-outs are appended one number per line, so give --exclude a plain list of numbers (or drop --optout-keywords)", path, line)
		}
		if add != nil {
			add(string(text))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read exclude file %s: %w", path, err)
	}
	return nil
}

// add notes a number already in the file.
func (o *OptOut) add(line string) {
	if d := digits(line); d != "" {
		o.seen[d] = true
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "+") || strings.HasPrefix(t, "00") {
			o.seenIntl[strings.TrimPrefix(d, "00")] = true
		}
	}
}

// digits returns the digits of s: the form numbers are compared in, so that "+4917…" and
// "4917…" are the same number.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Keyword returns the opt-out keyword that text's first word is (case-insensitively), if any:
// "stop please" matches STOP, "STOPPED" and "please stop" do not.
func (o *OptOut) Keyword(text string) (string, bool) {
	w, ok := firstWord(text)
	if !ok {
		return "", false
	}
	for _, k := range o.keywords {
		if strings.EqualFold(w, k) {
			return k, true
		}
	}
	return "", false
}

// Handle appends m's sender to the exclude file if m is an opt-out and the number is not in the
// file yet, and syncs the file. It reports whether it added the number. A sender that is not a
// phone number (an optional "+" and 1 to 20 digits) is not written: the error says so.
func (o *OptOut) Handle(m MO) (bool, error) {
	if _, ok := o.Keyword(m.Text); !ok {
		return false, nil
	}
	from := strings.TrimSpace(m.From)
	if !validNumber(from) {
		return false, fmt.Errorf("opt-out from %q not added to %s: %w", m.From, o.path, ErrNotANumber)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Normalize == nil {
		d := digits(from)
		if o.seen[d] {
			return false, nil
		}
		if err := o.append(from); err != nil {
			return false, err
		}
		o.seen[strings.Clone(d)] = true // d may share the incoming PDU's body: keep the digits only
		return true, nil
	}
	readings, err := o.Normalize(from, m.FromTON)
	if err != nil {
		return false, fmt.Errorf("opt-out from %q not added to %s: %w (%v)", m.From, o.path, ErrNotANumber, err)
	}
	added := false
	for _, intl := range readings {
		if o.seenIntl[intl] {
			continue
		}
		if err := o.append("+" + intl); err != nil {
			return added, err
		}
		o.seenIntl[intl], o.seen[intl] = true, true
		added = true
	}
	return added, nil
}

// append writes number as a line of the file and syncs it. Called with o.mu held.
func (o *OptOut) append(number string) error {
	if _, err := o.f.WriteString(number + "\n"); err != nil {
		return fmt.Errorf("add opt-out %s to %s: %w", number, o.path, err)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("add opt-out %s to %s: %w", number, o.path, err)
	}
	return nil
}

// validNumber reports whether s is an optional "+" followed by 1 to 20 ASCII digits.
func validNumber(s string) bool {
	s = strings.TrimPrefix(s, "+")
	return len(s) <= 20 && allDigits(s)
}

// Close closes the file.
func (o *OptOut) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.f.Close()
}
