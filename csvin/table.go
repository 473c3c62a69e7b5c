package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
)

// table reads one CSV file with a header row: the delimiter detected from the header unless
// given, positions for error messages, and header names matched without regard to case.
type table struct {
	file   string
	csv    *csv.Reader
	header []string // as written, trimmed
	fields int      // len(header)
}

// errEmptyFile is the problem of a file with not even a header.
var errEmptyFile = errors.New("the file is empty; it needs a header row (for example msisdn,name) and data rows")

// readBufferSize is the read buffer; the delimiter is detected within the header's first
// readBufferSize bytes.
const readBufferSize = 64 << 10

// openTable reads the header of r; what is the file name in messages. delimiter 0 detects it.
func openTable(r io.Reader, file string, enc encoding.Encoding, delimiter rune) (*table, error) {
	r, err := refuseBinary(r, file)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(decodeInput(r, file, enc), readBufferSize)
	if head, _ := br.Peek(readBufferSize); crLineEnds(head) {
		// Lines that end in CR alone ("CSV (Macintosh)"): encoding/csv would read the
		// whole file as one line.
		br = bufio.NewReaderSize(crToLF{br}, readBufferSize)
	}
	if delimiter == 0 {
		if delimiter, err = detectDelimiter(br); err != nil {
			return nil, err
		}
	}
	c := csv.NewReader(br)
	c.Comma = delimiter
	c.FieldsPerRecord = -1 // a ragged row is a row error, reported by the caller
	c.ReuseRecord = true
	// ", " after each delimiter is common in hand-written files; a tab-separated file must
	// keep its empty cells, which leading-space trimming would swallow.
	c.TrimLeadingSpace = delimiter != '\t'
	t := &table{file: file, csv: c}
	header, err := c.Read()
	if errors.Is(err, io.EOF) {
		return nil, &RowError{File: file, Line: 1, Err: errEmptyFile}
	}
	if err != nil {
		return nil, t.wrap(err)
	}
	t.header = make([]string, len(header))
	for i, h := range header {
		t.header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\uFEFF"))
		if strings.ContainsRune(h, 0) {
			return nil, &RowError{File: file, Line: 1, Err: errors.New("the header contains NUL bytes, so the file looks like UTF-16; use --charset utf-16")}
		}
	}
	if i := loneCR(header); i >= 0 {
		// A CR alone ending the header line of an LF file (a header pasted from an old Mac
		// file) runs the header on into the first data row, which would vanish. (A quoted
		// line break, as a spreadsheet's wrapped header cell has, is an LF or CR LF.)
		line, col := c.FieldPos(i)
		return nil, &RowError{File: file, Line: line, Column: col,
			Err: fmt.Errorf("column %d of the header, %q, holds a CR alone, as old Mac files end lines, so the header runs into the next line; make every line end the same way (LF or CR LF, for example with dos2unix)", i+1, header[i])}
	}
	t.fields = len(header)
	// A map, not a comparison of every pair: a hostile header can have 200,000 columns.
	seen := make(map[string]int, len(t.header))
	for i, h := range t.header {
		if h == "" {
			continue
		}
		key := strings.ToLower(h)
		if j, ok := seen[key]; ok && strings.EqualFold(t.header[j], h) {
			line, col := c.FieldPos(i)
			return nil, &RowError{File: file, Line: line, Column: col,
				Err: fmt.Errorf("column %q appears twice (columns %d and %d); rename or delete one", h, j+1, i+1)}
		}
		seen[key] = i
	}
	return t, nil
}

// binaryFormats are files given by mistake for a CSV file, by their first bytes.
var binaryFormats = []struct {
	magic, what, fix string
}{
	{"PK\x03\x04", "a ZIP archive, such as an Excel (.xlsx) or OpenDocument (.ods) workbook", `open it in the spreadsheet and save it as "CSV UTF-8"`},
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an Excel 97-2003 workbook (.xls)", `open it in the spreadsheet and save it as "CSV UTF-8"`},
	{"\x1F\x8B", "gzip-compressed", "unpack it, or give it as <(zcat FILE)"},
}

// refuseBinary returns the reader to read r from, or an error naming what the file is when it
// starts like a workbook or an archive rather than text: read as CSV, such a file gets advice
// about character sets that leads nowhere.
func refuseBinary(r io.Reader, file string) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 16) // reads larger than the buffer go straight to r
	head, _ := br.Peek(8)
	for _, f := range binaryFormats {
		if bytes.HasPrefix(head, []byte(f.magic)) {
			return nil, &RowError{File: file, Line: 1, Err: fmt.Errorf("the file is %s, not a CSV file; %s", f.what, f.fix)}
		}
	}
	return br, nil
}

// delimiters are the characters detectDelimiter chooses from, in the order that breaks a tie
// the data lines leave: a tab is never part of a name, and a semicolon file's header often
// has a comma in a name ("Name, Vorname"), a comma file's rarely a semicolon.
var delimiters = []byte{'\t', ';', ','}

// detectDelimiter picks the most frequent of comma, semicolon and tab outside quotes in the
// header line (comma when none occurs: a one-column file). On a tie, the one that the most of
// the next lines (up to 20) have as often as the header decides; then the order of delimiters.
func detectDelimiter(br *bufio.Reader) (rune, error) {
	head, err := br.Peek(readBufferSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return 0, err
	}
	lines := delimiterCounts(head, 21)
	if len(lines) == 0 {
		return ',', nil
	}
	header := lines[0]
	best, bestScore := byte(','), -1
	for _, d := range delimiters {
		if header[d] == 0 || header[d] < header[best] {
			continue
		}
		score := 0
		for _, l := range lines[1:] {
			if l[d] == header[d] {
				score++
			}
		}
		if header[d] > header[best] || score > bestScore {
			best, bestScore = d, score
		}
	}
	return rune(best), nil
}

// delimiterCounts counts each delimiter outside quotes on each of the first max lines of head
// (a quoted line break does not end a line; the last line may be cut off).
func delimiterCounts(head []byte, max int) []map[byte]int {
	var lines []map[byte]int
	counts, empty := map[byte]int{}, true
	outsideQuotes(head, func(i int, b byte) bool {
		if b != '\n' && b != '\r' {
			counts[b]++
			empty = false
			return true
		}
		if b == '\r' && i+1 < len(head) && head[i+1] == '\n' || empty {
			return true
		}
		lines = append(lines, counts)
		counts, empty = map[byte]int{}, true
		return len(lines) < max
	})
	if !empty && len(lines) < max {
		lines = append(lines, counts)
	}
	return lines
}

// outsideQuotes calls f with each byte of head outside double quotes, and its index, until f
// returns false.
func outsideQuotes(head []byte, f func(i int, b byte) bool) {
	quoted := false
	for i, b := range head {
		if b == '"' {
			quoted = !quoted
			continue
		}
		if !quoted && !f(i, b) {
			return
		}
	}
}

// column returns the index of the header column named name (any case), or -1.
func (t *table) column(name string) int {
	for i, h := range t.header {
		if strings.EqualFold(h, name) {
			return i
		}
	}
	return -1
}

// columnList is the header for messages: "msisdn, name, city".
func (t *table) columnList() string {
	var names []string
	for _, h := range t.header {
		if h != "" {
			names = append(names, shown(h))
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// shown is a name from an input file (a column, a template id, a placeholder) as an error
// message may print it: as it is when it is a short line of printable text, else quoted with
// its control characters escaped (a header cell may hold terminal escape sequences) and cut
// to maxShown characters.
func shown(s string) string {
	const maxShown = 64
	plain := utf8.RuneCountInString(s) <= maxShown
	for _, r := range s {
		// A comma or semicolon is quoted too: in a list of names joined by ", " it would
		// hide where one ends ("Telefon;Name, Vorname" when the file is split at another
		// delimiter).
		if !plain || r == utf8.RuneError || !unicode.IsPrint(r) || r == '"' || r == ',' || r == ';' {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	if cut := []rune(s); len(cut) > maxShown {
		return strconv.Quote(string(cut[:maxShown])) + "…"
	}
	return strconv.Quote(s)
}

// next returns the next record, skipping records whose cells are all empty (the ";;;" rows
// spreadsheets leave behind). The slice is reused by the following call. Errors are
// *RowError, or io.EOF.
func (t *table) next() ([]string, error) {
	for {
		rec, err := t.csv.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, t.wrap(err)
		}
		for _, f := range rec {
			if strings.TrimSpace(f) != "" {
				return rec, nil
			}
		}
	}
}

// pos returns the line and column where field i of the last record starts; for a missing
// field, the end of the record's first line.
func (t *table) pos(field int, rec []string) (line, col int) {
	if field < len(rec) {
		return t.csv.FieldPos(field)
	}
	line, col = t.csv.FieldPos(len(rec) - 1)
	return line, col + len(rec[len(rec)-1])
}

// crLineEnds reports whether the lines of a file that starts with head end in CR alone: a CR
// ends a line outside quotes and no LF does (an LF inside a quoted cell is a line break in
// the cell, as a spreadsheet may write one).
func crLineEnds(head []byte) bool {
	loneCR, lf := false, false
	outsideQuotes(head, func(i int, b byte) bool {
		switch {
		case b == '\n':
			lf = true
		case b == '\r' && i+1 < len(head) && head[i+1] != '\n':
			loneCR = true
		}
		return !lf
	})
	return loneCR && !lf
}

// crToLF reads a file whose lines end in CR alone as if they ended in LF.
type crToLF struct{ r io.Reader }

func (c crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// wrap turns an encoding/csv error into a *RowError that says what to do.
func (t *table) wrap(err error) error {
	var re *RowError
	if errors.As(err, &re) {
		return re // from utf8Checker
	}
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return &RowError{File: t.file, Err: fmt.Errorf("read: %w", err)}
	}
	e := &RowError{File: t.file, Line: pe.Line, Column: pe.Column}
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		e.Err = errors.New(`a quote (") inside a field that does not start with one; put the whole field in quotes and double the quotes inside it ("5"" screen")`)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine != pe.Line:
		e.Line, e.Column = pe.StartLine, 0
		e.Err = fmt.Errorf(`a quoted field starts on this line but is not closed properly (the file reads on to line %d); close it with " and double every quote inside it ("")`, pe.Line)
	case errors.Is(pe.Err, csv.ErrQuote):
		e.Err = errors.New(`a quoted field is not closed, or has text after its closing quote; close it with " and double every quote inside it ("")`)
	default:
		e.Err = fmt.Errorf("%w; check the CSV syntax on this line", pe.Err)
	}
	return e
}
