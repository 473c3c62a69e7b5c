package csvin

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"smscast/smpp/coding"
)

// evaluator turns records into rows; each evaluating goroutine has its own, because numbers
// and the text buffer are not safe for concurrent use.
type evaluator struct {
	*campaign
	numbers *numbers
	text    []byte // render's buffer, reused
	// The last row's from cell and its sender ("" when none was parsed, or it failed).
	lastFromCell string
	lastFrom     sender
}

// fieldPos is where a field of a record starts in the file.
type fieldPos struct{ line, col int32 }

// fieldAt returns the position of field i of rec; for a missing field, the end of the record's
// last field; for -1, the record's start line.
func fieldAt(rec []string, pos []fieldPos, i int) (line, col int) {
	switch {
	case i < 0:
		return int(pos[0].line), 0
	case i < len(pos):
		return int(pos[i].line), int(pos[i].col)
	}
	last := len(pos) - 1
	cell := rec[last]
	if nl := strings.LastIndexByte(cell, '\n'); nl >= 0 {
		// A quoted cell over several lines ends on its last line.
		return int(pos[last].line) + strings.Count(cell, "\n"), len(cell) - nl
	}
	return int(pos[last].line), int(pos[last].col) + len(cell)
}

// evaluate turns one record into a row with its status.
func (e *evaluator) evaluate(num int, rec []string, pos []fieldPos) Row {
	row := Row{Num: num}
	if !e.lineless {
		row.Line = int(pos[0].line)
	}
	if e.phoneCol < len(rec) {
		row.MSISDN = strings.TrimSpace(rec[e.phoneCol])
	}
	if field := loneCR(rec); field >= 0 {
		// Line ends are LF or CRLF here (a file of CR alone was read as LF), so this CR stands
		// alone in the middle of a line: the file mixes line ends, and two lines may have
		// been read as one.
		return e.invalid(row, rec, pos, field, problem(ErrRowBounds,
			"the cell holds a carriage return (CR) on its own, as lines end in old Mac files: the file mixes line ends, so this may be two lines read as one; make them all LF or CRLF (for example with dos2unix), or check the file"))
	}
	// Before the field count: rows swallowed by a quote left open leave their row with any
	// number of fields, and the count's advice (quote the delimiter) would mislead.
	if field, line := e.swallowedRow(rec); field >= 0 {
		return e.invalid(row, rec, pos, field, problem(ErrRowBounds,
			"a quoted cell runs over lines that look like rows of their own (%q): a closing quote is probably missing, and those rows would be lost; close the quote, or check the file",
			line))
	}
	if len(rec) != len(e.header) {
		field := min(len(rec), len(e.header))
		return e.invalid(row, rec, pos, field, problem(ErrFieldCount,
			"the row has %s, but the header has %d; quote fields that contain the delimiter (%q)", plural(len(rec), "field"), len(e.header), e.comma))
	}
	msisdn, err := e.numbers.normalize(rec[e.phoneCol])
	if err != nil {
		return e.invalid(row, rec, pos, e.phoneCol, err)
	}
	row.MSISDN = msisdn
	if e.optedOut(msisdn) {
		// Rendered all the same, when it renders: a resumed campaign reports a row that an
		// earlier run sent before the number opted out with what was sent (its template,
		// encoding and parts).
		if full := e.compose(row, rec, pos); full.Status == StatusOK {
			row = full
		}
		row.Status = StatusExcluded
		row.Reason = "on the opt-out list " + e.cfg.Exclude
		return row
	}
	return e.compose(row, rec, pos)
}

// compose completes a row whose number is valid: its template, sender, text and parts.
func (e *evaluator) compose(row Row, rec []string, pos []fieldPos) Row {
	tp, field, err := e.template(rec)
	if err != nil {
		return e.invalid(row, rec, pos, field, err)
	}
	row.Template = tp.id
	if tp.broken != nil {
		return e.invalid(row, rec, pos, e.templateCol, problem(ErrNotEncodable, "%w", tp.broken))
	}
	if err := e.sender(&row, tp, rec); err != nil {
		return e.invalid(row, rec, pos, e.fromCol, err)
	}
	if e.text, err = tp.render(e.text[:0], rec, e.cfg.AllowEmpty); err != nil {
		var empty errEmptyCell
		errors.As(err, &empty)
		return e.invalid(row, rec, pos, empty.field, problem(ErrEmptyValue,
			"column %q is empty and template %q has no fallback for it; fill the cell, write {{%s|fallback}} in the template, or use --allow-empty",
			e.header[empty.field], tp.id, e.header[empty.field]))
	}
	row.Text = string(e.text)
	if blank(row.Text) {
		return e.invalid(row, rec, pos, -1, problem(ErrEmptyValue, "the rendered message is empty (or only spaces and invisible characters); fill the cells the template uses or give fallbacks"))
	}
	if i := controlAt(row.Text); i >= 0 {
		r, _ := utf8.DecodeRuneInString(row.Text[i:])
		field := slices.IndexFunc(rec, func(cell string) bool { return strings.ContainsRune(cell, r) })
		return e.invalid(row, rec, pos, field, problem(ErrNotEncodable,
			"the message contains the control character U+%04X at character %d, which a handset shows as garbage or not at all; remove it from the file",
			r, utf8.RuneCountInString(row.Text[:i])+1))
	}
	if strings.ContainsRune(row.Text, utf8.RuneError) {
		field := slices.IndexFunc(rec, func(cell string) bool { return strings.ContainsRune(cell, utf8.RuneError) })
		return e.invalid(row, rec, pos, field, problem(ErrNotEncodable,
			"the message contains U+FFFD (�), the mark of text damaged by a wrong character set (a byte --charset does not define, a broken UTF-16 character, or a file converted badly before); fix the file or --charset"))
	}
	if err := e.encode(&row); err != nil {
		field := -1
		if ee := (*coding.EncodeError)(nil); errors.As(err, &ee) {
			// Say where the character is: a cell of the row, or the template's own text (the
			// row's line alone sends the user looking in the wrong file).
			field = tp.fieldWith(rec, ee.Char)
			switch {
			case field >= 0:
				err = fmt.Errorf("%w (it is in column %q)", err, e.header[field])
			case e.inline:
				err = fmt.Errorf("%w (it is in --text)", err)
			default:
				err = fmt.Errorf("%w (it is in the text of template %q, which begins at %s:%d:%d)", err, tp.id, tp.file, tp.line, tp.column)
			}
		}
		return e.invalid(row, rec, pos, field, err)
	}
	return row
}

// loneCR returns the first field of rec that holds a CR ending no line, or -1. A CR before
// an LF ends a line (inside a quoted cell too), and so do the CRs at the end of the last field:
// files with "\r\r\n" line ends, which Python's csv module writes on Windows, leave one there.
func loneCR(rec []string) int {
	for i, cell := range rec {
		if i == len(rec)-1 {
			cell = strings.TrimRight(cell, "\r")
		}
		for j := strings.IndexByte(cell, '\r'); j >= 0; j = strings.IndexByte(cell, '\r') {
			if j+1 == len(cell) || cell[j+1] != '\n' {
				return i
			}
			cell = cell[j+1:]
		}
	}
	return -1
}

// swallowedRow finds a cell of rec that spans lines of which one looks like a row of the file:
// a phone number in the first field or, when the line has the header's field count, in the
// phone column's. It returns the cell's index and that line, or -1. Such a cell is valid CSV,
// but almost always a quote someone forgot to close, which silently takes the following rows
// into the cell (a stray quote further down, such as an inch mark, can close it again with
// the field count right).
func (e *evaluator) swallowedRow(rec []string) (int, string) {
	for i, cell := range rec {
		nl := strings.IndexByte(cell, '\n')
		if nl < 0 {
			continue
		}
		for _, line := range strings.Split(cell[nl+1:], "\n") {
			line = strings.TrimSpace(line)
			fields := strings.Split(line, string(e.comma))
			if len(fields) < 2 {
				continue
			}
			if phoneLike(fields[0]) || len(fields) == len(e.header) && phoneLike(fields[e.phoneCol]) {
				return i, line
			}
		}
	}
	return -1, ""
}

// phoneLike reports whether a field reads as a phone number of six digits or more.
func phoneLike(field string) bool {
	field = strings.TrimSpace(field)
	if field == "" || !strings.ContainsRune("+0123456789", rune(field[0])) {
		return false
	}
	digits, _, err := cleanNumber(field)
	return err == nil && len(digits) >= 6
}

// optedOut reports whether the normalised number is on the --exclude list.
func (e *evaluator) optedOut(msisdn string) bool {
	key, ok := numberKey(msisdn)
	_, out := e.optOuts[key]
	return ok && out
}

// invalid marks row invalid with err at field (-1: the whole row).
func (e *evaluator) invalid(row Row, rec []string, pos []fieldPos, field int, err error) Row {
	row.Status = StatusInvalid
	row.Reason = err.Error()
	row.Message = coding.Message{}
	row.Err = &RowError{File: e.file, Err: err}
	if !e.lineless {
		row.Err.Line, row.Err.Column = fieldAt(rec, pos, field)
	} else if field != e.phoneCol && e.phoneCol < len(rec) {
		row.Err.File += " " + strings.TrimSpace(rec[e.phoneCol]) // which of the numbers
	}
	return row
}

// template chooses the row's template: its template cell, else the default. On error it
// also returns the field to point at.
func (e *evaluator) template(rec []string) (*template, int, error) {
	id := ""
	if e.templateCol >= 0 {
		id = strings.TrimSpace(rec[e.templateCol])
	}
	switch {
	case id == "" && e.defaultTp != nil:
		return e.defaultTp, -1, nil
	case id == "":
		return nil, e.templateCol, problem(ErrUnknownTemplate,
			"the template cell is empty and there is no default template; fill it (%s) or give --template ID", e.templates.idList())
	case e.inline && id != inlineTemplateID:
		return nil, e.templateCol, problem(ErrUnknownTemplate,
			"the row names template %q, but --text gives the only template; clear the template column or use --templates", id)
	}
	tp := e.templates.byID[id]
	if tp == nil {
		return nil, e.templateCol, problem(ErrUnknownTemplate,
			"template %q is not in %s (it has: %s); fix the cell or add the template", id, e.templates.file, e.templates.idList())
	}
	return tp, -1, nil
}

// sender sets the row's sender: the row's from cell, else the template's, else --from.
func (e *evaluator) sender(row *Row, tp *template, rec []string) error {
	s := e.from
	switch {
	case e.fromCol >= 0 && trimCell(rec[e.fromCol]) != "": // invisible characters alone: no override
		cell := rec[e.fromCol]
		if cell != e.lastFromCell { // most files repeat one sender: parse it once
			var err error
			if e.lastFrom, err = parseRowSender(cell); err != nil {
				e.lastFromCell = ""
				return problem(ErrBadSender, "%w", err)
			}
			e.lastFromCell = cell
		}
		s = e.lastFrom
	case tp.from != "":
		s = tp.sender // checked by Open
	}
	row.From, row.SourceTON, row.SourceNPI = s.addr, s.ton, s.npi
	if e.cfg.SourceTON != nil {
		row.SourceTON = *e.cfg.SourceTON
	}
	if e.cfg.SourceNPI != nil {
		row.SourceNPI = *e.cfg.SourceNPI
	}
	return nil
}

// encode transliterates (when asked), encodes and splits row.Text.
func (e *evaluator) encode(row *Row) error {
	opt := e.cfg.Coding
	opt.Ref = uint16(row.Num) + e.cfg.RefOffset
	text := row.Text
	if e.cfg.Transliterate && opt.Encoding != coding.UCS2 {
		// Not under --encoding ucs2, which sends every character as it is: it would save
		// nothing. (Latin-1 lacks the look-alikes too.)
		text, row.Transliterated = coding.Transliterate(text)
	}
	msg, err := coding.SplitText(text, opt)
	if err != nil {
		var ee *coding.EncodeError
		if errors.As(err, &ee) && e.cfg.Transliterate {
			ee.Transliterated = true
		}
		return encodeProblem(err)
	}
	if row.Transliterated {
		before, err := coding.SplitText(row.Text, opt)
		var tooMany *coding.TooManyPartsError
		switch {
		case err == nil:
			row.SavedParts = before.SMS - msg.SMS
		case errors.As(err, &tooMany):
			row.SavedParts = tooMany.Need - msg.SMS
		}
		row.Text = text
	}
	row.Message = msg
	return nil
}

// controlAt returns the byte offset of the first control character in s that a message must
// not carry (C0 other than tab, line feed and carriage return; DEL; C1, which a file read in
// the wrong character set often holds), or -1. Bytes, not runes: it runs on every row.
func controlAt(s string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7F:
			return i
		case c == 0xC2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F: // U+0080–U+009F
			return i
		}
	}
	return -1
}

// blank reports whether text shows nothing: only spaces and invisible format characters
// (soft hyphen, zero-width space, byte order mark, direction marks), which --transliterate
// removes and a handset does not show.
func blank(text string) bool {
	for _, r := range text {
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

func encodeProblem(err error) error {
	var tooMany *coding.TooManyPartsError
	if errors.As(err, &tooMany) {
		if tooMany.Max >= 255 {
			return problem(ErrTooManyParts, "%w", err) // it says: shorten it
		}
		return problem(ErrTooManyParts, "%w; shorten the text or raise --max-parts", err)
	}
	// A *coding.EncodeError already says what to do (--encoding, --transliterate).
	return problem(ErrNotEncodable, "%w", err)
}

// plural writes n and word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
