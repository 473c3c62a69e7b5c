package report

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"smscast/smpp"
)

// Columns are the report's CSV header and JSON keys, in order.
var Columns = []string{"row", "msisdn", "template", "encoding", "parts", "message_ids",
	"submit_status", "submit_error", "submitted_at", "receipt_status", "receipt_error", "done_at"}

// timeLayout is RFC 3339 in UTC with milliseconds, fixed width so that the column sorts as text.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// formatTime formats t for the report with timeLayout, in UTC; the zero time is "".
func formatTime(t time.Time) string { return string(appendTime(nil, t)) }

// appendTime appends formatTime(t) to dst. Years 0–9999 are written by hand: a report has
// two times per row, and time.Format would be half the cost of writing it.
func appendTime(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return dst
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, timeLayout)
	}
	hour, minute, sec := t.Clock()
	var b [len("2006-01-02T15:04:05.000Z")]byte
	digits := func(at, v, n int) {
		for i := at + n - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	digits(0, year, 4)
	digits(5, int(month), 2)
	digits(8, day, 2)
	digits(11, hour, 2)
	digits(14, minute, 2)
	digits(17, sec, 2)
	digits(20, t.Nanosecond()/1e6, 3) // truncated, as Format does
	b[4], b[7], b[10], b[13], b[16], b[19], b[23] = '-', '-', 'T', ':', ':', '.', 'Z'
	return append(dst, b[:]...)
}

// UnmatchedPath returns where WriteReport puts the receipts that matched no row:
// "<report>.unmatched.jsonl".
func UnmatchedPath(report string) string { return report + ".unmatched.jsonl" }

// WriteReport writes the report of every row to path in format f, atomically (a temporary file
// in the same directory, synced, then renamed), so that a reader never sees half a report. The
// receipts that matched no row go to UnmatchedPath(path), written the same way first; a stale
// one is removed when there are none. Without force an existing report (or unmatched file) is
// left untouched and the error says to use --force; it wraps fs.ErrExist.
func (b *Book) WriteReport(path string, f Format, force bool) error {
	return b.WriteReportThen(path, f, force, nil)
}

// WriteReportThen is WriteReport that gives record the facts of the report file (size and
// modification time) once it is written, just before it is put in place: a journal that
// records them then vouches for the file whether or not the rename happens.
func (b *Book) WriteReportThen(path string, f Format, force bool, record func(fs.FileInfo)) error {
	if f != FormatCSV && f != FormatJSONL {
		return fmt.Errorf("write report %s: unknown format %v", path, f)
	}
	upath := UnmatchedPath(path)
	if !force {
		for _, p := range []string{path, upath} {
			if _, err := os.Lstat(p); err == nil {
				return existsError(p)
			}
		}
	}
	unmatched := b.Unmatched()
	if len(unmatched) > 0 {
		err := WriteAtomic(upath, force, func(w io.Writer) error { return writeUnmatched(w, unmatched) })
		if err != nil {
			return err
		}
	} else if force {
		if err := os.Remove(upath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", upath, err)
		}
	}
	err := writeAtomic(path, force, func(w io.Writer) error {
		if f == FormatJSONL {
			return b.writeJSONL(w)
		}
		return b.writeCSV(w)
	}, record)
	if err != nil && !force && len(unmatched) > 0 {
		// Do not leave an unmatched file without its report: it would block the retry.
		os.Remove(upath)
	}
	return err
}

// existsError is the error for a report that would overwrite a file without --force.
func existsError(path string) error {
	return fmt.Errorf("%s already exists: use --force to overwrite it, or choose another --report (%w)", path, fs.ErrExist)
}

// writeCSV writes the header and every row as CSV, neutralising cells a spreadsheet would run.
func (b *Book) writeCSV(w io.Writer) error {
	var line []byte
	for i, c := range Columns {
		line = appendCSVField(line, c, i == 0)
	}
	line = append(line, '\n')
	for r := range b.Rows() {
		line = strconv.AppendInt(line, int64(r.Row), 10)
		line = appendCSVField(line, SafeCell(r.MSISDN), false)
		line = appendCSVField(line, SafeCell(r.Template), false)
		line = appendCSVField(line, SafeCell(r.Encoding), false)
		line = append(line, ',')
		line = strconv.AppendInt(line, int64(r.Parts), 10)
		ids := ""
		if len(r.IDs) == 1 {
			ids = CSVMessageID(r.IDs[0].ID) // the usual case, without the join's copy
		} else if len(r.IDs) > 1 {
			list := r.MessageIDs()
			for i := range list {
				list[i] = CSVMessageID(list[i])
			}
			ids = strings.Join(list, " ")
		}
		line = appendCSVField(line, notFormula(ids), false)
		line = appendCSVField(line, string(r.SubmitStatus), false)
		line = appendCSVField(line, SafeCell(r.SubmitError), false)
		line = appendTime(append(line, ','), r.SubmittedAt)
		line = appendCSVField(line, r.ReceiptStatus, false)
		line = appendCSVField(line, SafeCell(r.ReceiptError), false)
		line = appendTime(append(line, ','), r.DoneAt)
		line = append(line, '\n')
		if len(line) >= 32<<10 {
			if _, err := w.Write(line); err != nil {
				return err
			}
			line = line[:0]
		}
	}
	_, err := w.Write(line)
	return err
}

// appendCSVField appends f as one CSV field, after a comma unless first, quoted exactly when
// encoding/csv's Writer would quote it (Comma ',', UseCRLF false): the report is the same
// byte for byte, at a fraction of the cost.
func appendCSVField(dst []byte, f string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	if !csvNeedsQuotes(f) {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for {
		i := strings.IndexByte(f, '"')
		if i < 0 {
			break
		}
		dst = append(append(dst, f[:i+1]...), '"')
		f = f[i+1:]
	}
	return append(append(dst, f...), '"')
}

// csvNeedsQuotes is encoding/csv's rule: a separator, quote, CR or LF anywhere, a leading
// space (Unicode's), or the field `\.` (a PostgreSQL end-of-data marker).
func csvNeedsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	for i := 0; i < len(f); i++ {
		if c := f[i]; c == ',' || c == '"' || c == '\r' || c == '\n' {
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r)
}

// jsonRow is one JSON Lines record; field order is the column order.
type jsonRow struct {
	Row           int      `json:"row"`
	MSISDN        string   `json:"msisdn"`
	Template      string   `json:"template"`
	Encoding      string   `json:"encoding"`
	Parts         int      `json:"parts"`
	MessageIDs    []string `json:"message_ids"`
	SubmitStatus  string   `json:"submit_status"`
	SubmitError   string   `json:"submit_error"`
	SubmittedAt   string   `json:"submitted_at"`
	ReceiptStatus string   `json:"receipt_status"`
	ReceiptError  string   `json:"receipt_error"`
	DoneAt        string   `json:"done_at"`
}

// writeJSONL writes every row as one JSON object per line, values exactly as stored.
func (b *Book) writeJSONL(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for r := range b.Rows() {
		err := enc.Encode(jsonRow{
			Row: r.Row, MSISDN: r.MSISDN, Template: r.Template, Encoding: r.Encoding,
			Parts: r.Parts, MessageIDs: r.MessageIDs(), SubmitStatus: string(r.SubmitStatus),
			SubmitError: r.SubmitError, SubmittedAt: formatTime(r.SubmittedAt),
			ReceiptStatus: r.ReceiptStatus, ReceiptError: r.ReceiptError, DoneAt: formatTime(r.DoneAt),
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// CSVMessageIDs splits a CSV report's message_ids cell into its ids, each as CSVMessageID
// writes it: without the apostrophe that keeps a spreadsheet from taking the cell for a
// formula, separated by single spaces (a tab or a no-break space belongs to an id).
func CSVMessageIDs(cell string) []string {
	if len(cell) > 1 && cell[0] == '\'' && strings.IndexByte("=+-@\t\r", cell[1]) >= 0 {
		cell = cell[1:]
	}
	if cell == "" {
		return nil
	}
	return strings.Split(cell, " ")
}

// CSVMessageID is a message id as the CSV report writes it: escaped as every cell is
// (escapeControls), and its spaces as \x20: the ids of a row are separated by spaces there,
// and an SMSC's id with a space would read as two.
func CSVMessageID(id string) string {
	id = escapeControls(id)
	if strings.IndexByte(id, ' ') < 0 {
		return id
	}
	return strings.ReplaceAll(id, " ", `\x20`)
}

// jsonUnmatched is one line of <report>.unmatched.jsonl: the receipt as parsed.
type jsonUnmatched struct {
	ReceivedAt   string `json:"received_at"`
	ID           string `json:"id"`
	Stat         string `json:"stat"`
	Err          string `json:"err"`
	NetworkError string `json:"network_error"` // network_error_code TLV in hex, "" if absent
	Sub          string `json:"sub"`
	Dlvrd        string `json:"dlvrd"`
	SubmitDate   string `json:"submit_date"`
	DoneDate     string `json:"done_date"`
	Text         string `json:"text"`
	Reason       string `json:"reason"`
}

// writeUnmatched writes the unmatched receipts as JSON Lines.
func writeUnmatched(w io.Writer, list []Unmatched) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, u := range list {
		r := u.Receipt
		err := enc.Encode(jsonUnmatched{
			ReceivedAt: formatTime(u.ReceivedAt), ID: r.ID, Stat: r.Stat, Err: r.Err,
			NetworkError: strings.ToUpper(hex.EncodeToString(r.NetworkError)),
			Sub:          r.Sub, Dlvrd: r.Dlvrd, SubmitDate: formatTime(r.SubmitDate),
			DoneDate: formatTime(r.DoneDate), Text: r.Text, Reason: u.Reason,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// ReadUnmatched reads the unmatched receipts an earlier run wrote to path (see
// UnmatchedPath); a missing file holds none. Its lines are this package's own, so a line it
// cannot read is an error (naming the line) rather than a receipt silently dropped.
func ReadUnmatched(path string) ([]Unmatched, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var list []Unmatched
	dec := json.NewDecoder(f)
	for line := 1; ; line++ {
		var j jsonUnmatched
		err := dec.Decode(&j)
		if err == io.EOF {
			return list, nil
		}
		u, uerr := j.unmatched()
		if err = errors.Join(err, uerr); err != nil {
			return nil, fmt.Errorf("%s: receipt %d: %w", path, line, err)
		}
		list = append(list, u)
	}
}

// unmatched is the receipt a line of the unmatched file holds.
func (j jsonUnmatched) unmatched() (Unmatched, error) {
	var errs []error
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		t, err := time.Parse(timeLayout, s)
		errs = append(errs, err)
		return t.UTC()
	}
	netErr, err := hex.DecodeString(j.NetworkError)
	errs = append(errs, err)
	if len(netErr) == 0 {
		netErr = nil
	}
	u := Unmatched{ReceivedAt: at(j.ReceivedAt), Reason: j.Reason, Receipt: smpp.Receipt{
		ID: j.ID, Stat: j.Stat, Err: j.Err, NetworkError: netErr, Sub: j.Sub, Dlvrd: j.Dlvrd,
		SubmitDate: at(j.SubmitDate), DoneDate: at(j.DoneDate), Text: j.Text}}
	return u, errors.Join(errs...)
}

// SafeCell returns s in a form a spreadsheet shows as text instead of running it as a
// formula: a cell that starts with = + - @ TAB or CR gets a leading apostrophe. A cell that
// is a plain number ("+447700900123", "-12", "-1.5") is left alone, because a spreadsheet
// reads it as a number and nothing runs; so phone numbers in international form keep their
// "+". Only the CSV report (and the inbox) is neutralised; JSON Lines keeps exact values.
func SafeCell(s string) string {
	return notFormula(escapeControls(s))
}

// notFormula is SafeCell for a cell whose characters are escaped already.
func notFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !plainNumber(s) {
			return "'" + s
		}
	}
	return s
}

// escapeControls writes the control characters of s (C0 but line feed and tab, a carriage
// return not before a line feed, DEL, C1) and the octets that are not UTF-8 as \xNN (C1 as
// \u0080 …), so that a cell from the SMSC or an input file cannot run terminal escape
// sequences when the file is shown with cat, nor make a UTF-8 file invalid; and a backslash
// as \\, so that every escape reads back one way (an id "a\x20b" is not "a b"). Most cells
// have none and come back unchanged without a copy.
func escapeControls(s string) string {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c >= 0x7F || c == '\\') && c != '\n' && c != '\t' {
			break
		}
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"), r == '\n', r == '\t':
			b.WriteByte(byte(r))
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7F:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r <= 0x9F:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// plainNumber reports whether s is an optionally signed decimal number: [+-]digits[.digits].
func plainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	intPart, frac, dot := strings.Cut(s, ".")
	return allDigits(intPart) && (!dot || allDigits(frac))
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// WriteAtomic writes path through fill, so that path is either untouched or completely
// written: fill writes a temporary file in the same directory (same file system, so the
// rename is atomic), which is flushed, fsynced and renamed over path; the directory is then
// synced so the rename survives a crash. On any failure the temporary file is removed and path
// is untouched. Without replace an existing path is an error (checked atomically with a hard
// link where the file system allows). A new file gets the mode os.Create would give; a
// replaced file keeps its mode. A special path (see Special: /dev/null, /dev/stdout, a FIFO)
// is written into instead, with or without replace: renaming over it would put a regular
// file in its place.
func WriteAtomic(path string, replace bool, fill func(io.Writer) error) error {
	return writeAtomic(path, replace, fill, nil)
}

// writeAtomic is WriteAtomic; beforeCommit, if set, is given the written temporary file's
// facts (size, modification time: the rename keeps them) before it is put in place, and, if
// that then fails while replacing, the facts of the file that stays.
func writeAtomic(path string, replace bool, fill func(io.Writer) error, beforeCommit func(fs.FileInfo)) (err error) {
	if Special(path) {
		return writeInto(path, fill)
	}
	mode := fs.FileMode(0o666)
	if fi, statErr := os.Stat(path); statErr == nil {
		if !replace {
			return existsError(path)
		}
		mode = fi.Mode().Perm()
	}
	tmp, f, err := createTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			if !errors.Is(err, fs.ErrExist) {
				err = fmt.Errorf("write %s: %w", path, err)
			}
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fill(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if mode != 0o666 {
		if err := f.Chmod(mode); err != nil {
			return err
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if beforeCommit != nil {
		fi, err := os.Stat(tmp)
		if err != nil {
			return err
		}
		beforeCommit(fi)
	}
	if err := commit(tmp, path, replace); err != nil {
		if beforeCommit != nil && replace {
			// The file in place stays the report (replace: it was the one to replace):
			// its facts are given again, so that a record of the new one is undone.
			if fi, serr := os.Stat(path); serr == nil {
				beforeCommit(fi)
			}
		}
		return err
	}
	return syncDir(path)
}

// Special reports whether path is to be written into rather than replaced: one of the
// process's own descriptors (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: links to
// whatever its output is, a regular file after "> file" included), or something that exists
// and is neither a regular file nor a directory (a FIFO, a device such as /dev/null).
func Special(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return false
	}
	if !fi.Mode().IsRegular() {
		return true
	}
	abs, err := filepath.Abs(path)
	return err == nil && processDescriptor.MatchString(abs)
}

// processDescriptor matches the paths that name a descriptor of the process.
var processDescriptor = regexp.MustCompile(`^(/dev/(stdout|stderr|fd/\d+)|/proc/(self|\d+)/fd/\d+)$`)

// writeInto writes fill's output into the special file at path (see WriteAtomic), after what
// it holds already: /dev/stdout may be a file the shell opened for appending. It is not
// synced: a device or a pipe has nothing to sync. A FIFO that no process reads is an error
// at once, not a wait that would hold the process after its campaign.
func writeInto(path string, fill func(io.Writer) error) error {
	flags := os.O_WRONLY | os.O_APPEND
	if fi, err := os.Stat(path); err == nil && fi.Mode()&fs.ModeNamedPipe != 0 {
		flags |= syscall.O_NONBLOCK // ENXIO when no process has it open for reading
	}
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, syscall.ENXIO) {
		return fmt.Errorf("write %s: nothing reads it (a FIFO no process has open, or a socket)", path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// Blocking again (Fd does that): where Go does not poll FIFOs (macOS), a reader one pipe
	// buffer behind would otherwise fail the write with EAGAIN.
	_ = f.Fd()
	bw := bufio.NewWriterSize(f, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var pe *fs.PathError
	switch {
	case errors.As(err, &pe):
		return err // names the file already
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
