package csvin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// Charsets --charset accepts, by every name it accepts.
var charsets = map[string]encoding.Encoding{
	"windows-1252": charmap.Windows1252,
	"cp1252":       charmap.Windows1252,
	"iso-8859-1":   charmap.ISO8859_1,
	"latin1":       charmap.ISO8859_1,
	"latin-1":      charmap.ISO8859_1,
	// Mac Roman: what Excel for Mac writes as "CSV (Macintosh)", with CR line ends.
	"macintosh": charmap.Macintosh,
	"mac-roman": charmap.Macintosh,
	"macroman":  charmap.Macintosh,
	// A byte order mark, when there is one, wins over the default byte order.
	"utf-16":   unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
	"utf-16le": unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
	"utf-16be": unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
}

// CheckCharset reports whether --charset names a character set Open can read.
func CheckCharset(name string) error {
	_, err := charsetFor(name)
	return err
}

// charsetFor returns the decoder for a --charset value; nil means UTF-8.
func charsetFor(name string) (encoding.Encoding, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" || n == "utf-8" || n == "utf8" {
		return nil, nil
	}
	if e, ok := charsets[n]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("unknown --charset %q: use utf-8, windows-1252, iso-8859-1, macintosh or utf-16", name)
}

// decodeInput returns the text of a file as UTF-8 without a byte order mark. For UTF-8
// input, invalid bytes end the text with a *RowError naming their line and byte. A file that
// starts with the UTF-8 byte order mark is read as UTF-8 whatever enc says: --charset applies
// to every input file, and a templates file saved as "CSV UTF-8" beside a recipients file in
// UTF-16 says what it is.
func decodeInput(r io.Reader, file string, enc encoding.Encoding) io.Reader {
	if enc != nil {
		br := bufio.NewReaderSize(r, utf8Sniff)
		if head, _ := br.Peek(3); bytes.Equal(head, []byte("\uFEFF")) {
			enc = nil
		} else if isUTF16(enc) && !looksUTF16(br) {
			return failedReader{&RowError{File: file, Line: 1, Err: errors.New("the file is not UTF-16, as --charset says (it has no byte order mark and no NUL bytes at its start); --charset applies to every input file: save them all in one character set (\"CSV UTF-8\" is best), or this one as UTF-16 too")}}
		}
		r = br
	}
	if enc == charmap.Windows1252 || enc == charmap.ISO8859_1 || enc == charmap.Macintosh {
		br := bufio.NewReaderSize(r, utf8Sniff)
		if err := refuseUTF8(br, file, enc); err != nil {
			return failedReader{err}
		}
		r = br
	}
	if enc != nil {
		return &bomSkipper{r: enc.NewDecoder().Reader(r)}
	}
	return &utf8Checker{r: r, file: file, line: 1}
}

func isUTF16(enc encoding.Encoding) bool {
	for _, name := range []string{"utf-16", "utf-16le", "utf-16be"} {
		if enc == charsets[name] {
			return true
		}
	}
	return false
}

// looksUTF16 reports whether the start of a file is UTF-16: a byte order mark, or a NUL byte
// among its first 64 bytes (the high byte of every ASCII character), or nothing at all.
func looksUTF16(br *bufio.Reader) bool {
	head, _ := br.Peek(64)
	return len(head) == 0 || bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) ||
		bytes.IndexByte(head, 0) >= 0
}

// failedReader is a file that cannot be read as asked: every Read returns err.
type failedReader struct{ err error }

func (f failedReader) Read([]byte) (int, error) { return 0, f.err }

// utf8Sniff is how much of a file refuseUTF8 looks at.
const utf8Sniff = 64 << 10

// refuseUTF8 returns an error when the start of a file that --charset says is single-byte
// is valid UTF-8 with characters beyond ASCII: --charset applies to every input file, and a
// UTF-8 templates file beside a Windows-1252 recipients file would otherwise reach customers
// as "â‚¬". A real Windows-1252 text is almost never valid UTF-8 once it has accents.
func refuseUTF8(br *bufio.Reader, file string, enc encoding.Encoding) error {
	head, _ := br.Peek(utf8Sniff)
	if len(head) == utf8Sniff {
		// A character cut off at the end of the window is not a reason to doubt the rest.
		for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
			if utf8.RuneStart(head[i]) {
				if !utf8.FullRune(head[i:]) {
					head = head[:i]
				}
				break
			}
		}
	}
	at := bytes.IndexFunc(head, func(r rune) bool { return r >= utf8.RuneSelf })
	if at < 0 || !utf8.Valid(head) {
		return nil
	}
	r, _ := utf8.DecodeRune(head[at:])
	name := "windows-1252"
	switch enc {
	case charmap.ISO8859_1:
		name = "iso-8859-1"
	case charmap.Macintosh:
		name = "macintosh" // iconv calls it so too
	}
	line := 1 + bytes.Count(head[:at], []byte{'\n'})
	col := at - (bytes.LastIndexByte(head[:at], '\n') + 1) + 1
	return &RowError{File: file, Line: line, Column: col, Err: fmt.Errorf(
		"the file is UTF-8 (it has %q), but --charset %s applies to every input file and would turn that into %q; "+
			"convert the files to one character set (e.g. iconv -f %s -t utf-8 on the others, then drop --charset)",
		r, name, decodeAs(enc, head[at:at+utf8.RuneLen(r)]), name)}
}

// decodeAs is b read in the single-byte charset enc, for showing what a mistaken charset does.
func decodeAs(enc encoding.Encoding, b []byte) string {
	s, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return ""
	}
	return string(s)
}

// bomSkipper drops a UTF-8 byte order mark at the start (decoders for the other charsets
// may leave U+FEFF there).
type bomSkipper struct {
	r       io.Reader
	checked bool
	head    []byte
}

func (b *bomSkipper) Read(p []byte) (int, error) {
	for !b.checked {
		var buf [3]byte
		n, err := io.ReadFull(b.r, buf[:])
		b.head = buf[:n]
		b.head = bytes.TrimPrefix(b.head, []byte("\uFEFF"))
		b.checked = true
		if err == io.ErrUnexpectedEOF || (err == io.EOF && n == 0) {
			err = nil
		}
		if err != nil {
			return 0, err
		}
	}
	if len(b.head) > 0 {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	return b.r.Read(p)
}

// utf8Checker passes valid UTF-8 through, drops a leading byte order mark, and stops with a
// *RowError at the first invalid byte. It hands out the valid bytes before the error first,
// so that the rows before it are read normally.
type utf8Checker struct {
	r      io.Reader
	file   string
	line   int    // line of the next byte, from 1
	col    int    // bytes of the current line before the next byte
	offset int64  // bytes of the file before the next byte
	carry  []byte // the start of a character split across reads
	// small holds a character checked for a read of fewer bytes than one can take, and
	// pending the part of it not yet read.
	small   [utf8.UTFMax]byte
	pending []byte
	err     error  // returned once the bytes before it are consumed
	start   []byte // the first bytes of the file (nil until read), to recognise UTF-16
	// crRun counts the CRs just read that ended lines before any LF was seen; crOnly: a
	// line ended in a CR alone (an old Mac file); sawLF: an LF was seen.
	crRun         int
	crOnly, sawLF bool
	nuls          int64 // NUL bytes read: in UTF-16, about every other byte of Latin text
	bom           bool  // the file starts with the UTF-8 byte order mark
}

func (c *utf8Checker) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if len(p) >= utf8.UTFMax {
		return c.check(p)
	}
	// bufio asks for less when its buffer is nearly full inside a long line: a whole
	// character is checked in small and handed out over as many reads as it takes.
	n, err := c.check(c.small[:])
	m := copy(p, c.small[:n])
	if c.pending = c.small[m:n]; len(c.pending) > 0 && err != nil && c.err == nil {
		c.err = err // after the pending bytes
		err = nil
	}
	return m, err
}

// check reads into p, which holds at least one whole character, and returns the valid
// UTF-8 it read, keeping back a character cut off by the end of the read.
func (c *utf8Checker) check(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.start == nil {
		// The first three bytes decide about the byte order mark, however the reads fall.
		head := make([]byte, 3)
		n, err := io.ReadFull(c.r, head)
		c.start = head[:n]
		switch {
		case n == 0 && err != nil:
			return 0, err
		case bytes.Equal(c.start, []byte("\uFEFF")):
			c.offset, c.bom = 3, true
		default:
			c.carry = append(c.carry, c.start...)
		}
	}
	n := copy(p, c.carry)
	c.carry = c.carry[:0]
	m, err := c.r.Read(p[n:])
	n += m
	valid := n
	// A character cut off by the end of this read waits for the next one.
	if err == nil {
		for i := n - 1; i >= 0 && i >= n-utf8.UTFMax+1; i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:n]) {
					valid = i
				}
				break
			}
		}
		c.carry = append(c.carry, p[valid:n]...)
	}
	if utf8.Valid(p[:valid]) {
		c.advance(p[:valid])
	} else {
		bad := firstInvalid(p[:valid])
		c.advance(p[:bad])
		c.err = c.invalidByte(p[bad])
		valid = bad
		err = nil
	}
	if valid == 0 && c.err != nil {
		return 0, c.err
	}
	return valid, err
}

// advance moves the position past b. Lines end as the table reads them: in LF, CR LF or
// CR CR LF, or, in a file with no LF (an old Mac file), in a CR alone.
func (c *utf8Checker) advance(b []byte) {
	c.offset += int64(len(b))
	if len(b) == 0 {
		return
	}
	c.nuls += int64(bytes.Count(b, []byte{0}))
	if bytes.IndexByte(b, '\r') < 0 { // most reads: bytes.Count rather than a loop
		nl := bytes.Count(b, []byte{'\n'})
		if c.crRun > 0 {
			if b[0] == '\n' {
				c.line -= c.crRun - 1 // the CRs and this LF end one line
				nl--
			} else {
				c.crOnly = true
			}
			c.crRun = 0
		}
		c.sawLF = c.sawLF || bytes.IndexByte(b, '\n') >= 0
		last := bytes.LastIndexByte(b, '\n')
		c.line += nl
		if last >= 0 {
			c.col = len(b) - last - 1
		} else {
			c.col += len(b)
		}
		return
	}
	for _, x := range b {
		switch {
		case x == '\r' && !c.sawLF:
			// Until an LF shows that lines end in LF, a CR ends one; if an LF follows,
			// the CRs before it are part of its line end.
			c.line, c.col = c.line+1, 0
			c.crRun++
		case x == '\n' && c.crRun > 0:
			c.line -= c.crRun - 1
			c.sawLF, c.crRun = true, 0
		case x == '\n':
			c.line, c.col, c.sawLF = c.line+1, 0, true
		default:
			if c.crRun > 0 {
				c.crOnly, c.crRun = true, 0
			}
			c.col++
		}
	}
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func (c *utf8Checker) invalidByte(b byte) error {
	var hint string
	switch {
	case bytes.HasPrefix(c.start, []byte{0xFF, 0xFE}), bytes.HasPrefix(c.start, []byte{0xFE, 0xFF}):
		hint = "the file starts with a UTF-16 byte order mark; use --charset utf-16"
	case c.bom:
		hint = "the file starts with a UTF-8 byte order mark, but it is not UTF-8 after it: it was saved or converted wrongly; save it again as \"CSV UTF-8\""
	case c.nuls > 0 && c.nuls*4 >= c.offset:
		// UTF-16 without a byte order mark: its lines cannot be counted byte by byte, and
		// line 1 already shows the NULs.
		return &RowError{File: c.file, Line: 1, Err: fmt.Errorf(
			"byte 0x%02X (file offset %d) is not valid UTF-8, and the file has many NUL bytes before it, as UTF-16 files have: use --charset utf-16, or save it as \"CSV UTF-8\"", b, c.offset)}
	case c.crOnly && !c.sawLF:
		hint = "the file is in another character set, and its lines end in CR alone, as Excel for Mac's \"CSV (Macintosh)\" writes them in the Mac Roman character set: use --charset macintosh, or save it as \"CSV UTF-8\""
	default:
		hint = "the file is in another character set; if a spreadsheet on Windows saved it, use --charset windows-1252 (or iso-8859-1, utf-16), or save it as \"CSV UTF-8\""
	}
	return &RowError{File: c.file, Line: c.line, Column: c.col + 1,
		Err: fmt.Errorf("byte 0x%02X (file offset %d) is not valid UTF-8: %s", b, c.offset, hint)}
}
