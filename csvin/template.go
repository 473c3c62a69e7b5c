package csvin

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// template is a message text with placeholders, {{column}} or {{column|fallback}}, bound to
// the recipients' columns.
type template struct {
	id     string
	from   string // "" = no sender of its own
	sender sender // from, parsed by Open
	file   string // where it was defined, for messages
	line   int
	column int
	pieces []piece
	// broken says why its text cannot be sent (a control character), nil when it can: the
	// rows that use it are invalid with this reason. Not an error of the whole file, so that
	// a campaign that began with such a template, its other rows sent, can still be resumed.
	broken error
}

// piece is a literal text, or a placeholder when name is set.
type piece struct {
	text        string // literal text, or the fallback
	name        string // placeholder column name as written
	hasFallback bool
	at          int // a placeholder's first character in the text, from 1, for errors
	field       int // column index, set by bind
}

// parseTemplate splits text into literal pieces and placeholders. Names and fallbacks are
// trimmed; a fallback may be empty ({{name|}}) and extends to the closing braces. Text
// outside {{ }} is kept as written, single braces included.
func parseTemplate(text string) ([]piece, error) { return parseTemplateAt(text, 0) }

// parseTemplateAt is parseTemplate for a text that begins after lead characters of its cell
// (trimmed away): positions in errors count from the cell's start, as a user counts.
func parseTemplateAt(text string, lead int) ([]piece, error) {
	var pieces []piece
	rest := text
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			break
		}
		if open > 0 {
			pieces = append(pieces, piece{text: rest[:open]})
		}
		at := lead + utf8.RuneCountInString(text[:len(text)-len(rest)+open]) + 1
		inner, after, ok := strings.Cut(rest[open+2:], "}}")
		if !ok {
			return nil, fmt.Errorf("the {{ at character %d is not closed; close it with }}", at)
		}
		name, fallback, hasFallback := strings.Cut(inner, "|")
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, fmt.Errorf("the placeholder at character %d has no column name; write {{column}} or {{column|fallback}}", at)
		case strings.ContainsAny(name, "{}"):
			return nil, fmt.Errorf("the placeholder at character %d, %q, contains a brace; close each placeholder with }} before the next {{", at, "{{"+inner+"}}")
		case strings.Contains(fallback, "{"):
			// {{name|{{city}}}} cannot work: the recipient would get the braces.
			return nil, fmt.Errorf("the fallback of the placeholder at character %d, %q, contains a brace; a fallback is plain text and cannot hold another placeholder", at, "{{"+inner+"}}")
		case strings.HasPrefix(after, "}"):
			return nil, fmt.Errorf("the placeholder at character %d, %q, is followed by a third }; remove it, or put a space before a } that belongs to the text", at, "{{"+inner+"}}")
		}
		pieces = append(pieces, piece{name: name, text: strings.TrimSpace(fallback), hasFallback: hasFallback, at: at})
		rest = after
	}
	if rest != "" {
		pieces = append(pieces, piece{text: rest})
	}
	return pieces, nil
}

// bind resolves every placeholder to a column of t. Each placeholder that names no column is
// an error naming the template, the placeholder and the columns that exist; all of them are
// returned (joined), so that one run shows every one to fix.
func (tp *template) bind(t *table) error {
	var errs []error
	braced := false // one single-brace error per template is enough to fix them all
	for i := range tp.pieces {
		p := &tp.pieces[i]
		if p.name == "" {
			if name := singleBraced(p.text, t); name != "" && !braced {
				braced = true
				// Other tools write placeholders so: every recipient would get "{city}".
				errs = append(errs, &RowError{File: tp.file, Line: tp.line, Column: tp.column,
					Err: fmt.Errorf("template %q has {%s} in single braces, which would be sent as written; a placeholder takes two: write {{%s}} (to send the braces, write { %s })",
						tp.id, shown(name), shown(name), shown(name))})
			}
			continue
		}
		p.field = t.column(p.name)
		if p.field < 0 {
			errs = append(errs, &RowError{File: tp.file, Line: tp.line, Column: tp.column,
				Err: fmt.Errorf("template %q uses {{%s}} (at character %d of its text), but %s has no column %q (it has: %s); fix the placeholder or add the column",
					tp.id, shown(p.name), p.at, t.file, p.name, t.columnList())})
		}
	}
	return errors.Join(errs...)
}

// singleBraced returns the first name in text written {name}, without spaces, that is a
// column of t; "" when there is none.
func singleBraced(text string, t *table) string {
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			return ""
		}
		text = text[open+1:]
		end := strings.IndexAny(text, "{} \t\n")
		if end > 0 && text[end] == '}' && t.column(text[:end]) >= 0 {
			return text[:end]
		}
	}
}

// controlIn says which control character a template's text holds, if any: one a handset
// shows as garbage or not at all (see controlAt).
func controlIn(text string) error { return controlInAt(text, 0) }

// controlInAt is controlIn for a text that begins after lead characters of its cell.
func controlInAt(text string, lead int) error {
	i := controlAt(text)
	if i < 0 {
		return nil
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return fmt.Errorf("the text contains the control character U+%04X at character %d, which a handset shows as garbage or not at all; remove it",
		r, lead+utf8.RuneCountInString(text[:i])+1)
}

// errEmptyCell is what render returns for an empty cell without a fallback.
type errEmptyCell struct{ field int }

func (errEmptyCell) Error() string { return "empty cell" }

// render appends the text with its placeholders filled from rec to buf. An empty (or blank:
// only spaces and invisible characters) cell takes the fallback; without one it is an errEmptyCell unless allowEmpty. Cells are
// inserted trimmed and are never expanded again, so a cell containing "{{x}}" stays as
// written.
func (tp *template) render(buf []byte, rec []string, allowEmpty bool) ([]byte, error) {
	for _, p := range tp.pieces {
		if p.name == "" {
			buf = append(buf, p.text...)
			continue
		}
		var v string
		if p.field < len(rec) {
			v = trimCell(rec[p.field])
		}
		if v != "" && v[0] >= utf8.RuneSelf && blank(v) {
			v = "" // only invisible characters (a zero-width space, a soft hyphen): empty too
		}
		switch {
		case v != "":
			buf = append(buf, v...)
		case p.hasFallback:
			buf = append(buf, p.text...)
		case !allowEmpty:
			return buf, errEmptyCell{field: p.field}
		}
	}
	return buf, nil
}

// fieldWith returns the column of rec that the template inserts and that holds r, or -1 when
// r comes from the template's own text (or a fallback).
func (tp *template) fieldWith(rec []string, r rune) int {
	for _, p := range tp.pieces {
		if p.name != "" && p.field < len(rec) && strings.ContainsRune(trimCell(rec[p.field]), r) {
			return p.field
		}
	}
	return -1
}

// trimCell is a cell as it is inserted: without spaces at either end, nor the invisible
// characters pasted text brings along there (a zero-width space, a byte order mark, a word
// joiner), which would switch the message to UCS-2, doubling its cost, for nothing.
func trimCell(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s[0] < utf8.RuneSelf && s[len(s)-1] < utf8.RuneSelf {
		return s
	}
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\u200B' || r == '\uFEFF' || r == '\u2060'
	})
}

// templates is the set of templates of a campaign.
type templates struct {
	byID  map[string]*template // by id as written
	order []string             // ids in file order, for messages
	file  string
}

// errNoTemplateText is the problem of a template without text.
var errNoTemplateText = errors.New("the template text is empty; write the message in the text column")

// loadTemplates reads a templates CSV: columns id and text, optional from; asRead keeps the
// texts as encoding/csv gives them (Config.TemplateTextAsRead).
func loadTemplates(t *table, asRead bool) (*templates, error) {
	idCol, textCol, fromCol := t.column("id"), t.column("text"), t.column("from")
	if idCol < 0 || textCol < 0 {
		return nil, &RowError{File: t.file, Line: 1,
			Err: fmt.Errorf("a templates file needs the columns id and text (and optionally from), but it has: %s; rename the header", t.columnList())}
	}
	ts := &templates{byID: make(map[string]*template), file: t.file}
	for {
		rec, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) != t.fields {
			line, _ := t.pos(0, rec)
			return nil, &RowError{File: t.file, Line: line,
				Err: fmt.Errorf("the row has %s, but the header has %d; quote fields that contain the delimiter", plural(len(rec), "field"), t.fields)}
		}
		line, col := t.pos(textCol, rec)
		idLine, idColumn := t.pos(idCol, rec)
		tp := &template{id: strings.TrimSpace(rec[idCol]), file: t.file, line: line, column: col}
		if tp.id == "" {
			return nil, &RowError{File: t.file, Line: idLine, Column: idColumn, Err: errors.New("the template id is empty; give every template an id")}
		}
		if prev, ok := ts.byID[tp.id]; ok {
			return nil, &RowError{File: t.file, Line: idLine, Column: idColumn,
				Err: fmt.Errorf("template id %q is already used on line %d; ids must be unique", tp.id, prev.line)}
		}
		// Spaces at the ends of a text, quoted or not, would cost characters, and a no-break
		// space pasted there switches the message to UCS-2: trimmed, as inserted cells are.
		// A line break goes out as one LF however the file writes it; encoding/csv has made
		// CR LF one already, a CR alone (a line pasted from an old Mac file) is made one here.
		cell := strings.ReplaceAll(rec[textCol], "\r", "\n")
		text := trimCell(cell)
		lead := utf8.RuneCountInString(cell[:strings.Index(cell, text)]) // characters trimmed before it
		if asRead {
			text, lead = rec[textCol], 0
		}
		if strings.TrimSpace(text) == "" {
			return nil, &RowError{File: t.file, Line: line, Column: col, Err: fmt.Errorf("template %q: %w", tp.id, errNoTemplateText)}
		}
		if tp.pieces, err = parseTemplateAt(text, lead); err != nil {
			return nil, &RowError{File: t.file, Line: line, Column: col, Err: fmt.Errorf("template %q: %w", tp.id, err)}
		}
		if err := controlInAt(text, lead); err != nil {
			tp.broken = fmt.Errorf("template %q (%s:%d:%d): %w", tp.id, t.file, line, col, err)
		}
		if fromCol >= 0 {
			tp.from = trimCell(rec[fromCol])
		}
		ts.byID[tp.id] = tp
		ts.order = append(ts.order, tp.id)
	}
	if len(ts.order) == 0 {
		return nil, &RowError{File: t.file, Line: 1, Err: errors.New("the templates file has a header but no templates; add rows with an id and a text")}
	}
	return ts, nil
}

// idList is the template ids for messages, shortened when there are many.
// shownList joins names as error messages show them (see shown).
func shownList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = shown(n)
	}
	return strings.Join(out, ", ")
}

func (ts *templates) idList() string {
	const show = 8
	if len(ts.order) <= show {
		return shownList(ts.order)
	}
	return shownList(ts.order[:show]) + fmt.Sprintf(", … (%d in all)", len(ts.order))
}
