package csvin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/text/encoding"

	"smscast/smpp/coding"
)

// inlineTemplateID is the id of the --text template.
const inlineTemplateID = "text"

// Reader streams the rows of a campaign. Its memory does not grow with the number of rows,
// except for the duplicate check (a few bytes per valid row). Not safe for concurrent use.
type Reader struct {
	cfg       Config
	table     *table
	closer    io.Closer // the recipients file, when Open opened it
	numbers   *numbers
	templates *templates
	inline    bool      // the template is --text
	defaultTp *template // nil: rows must name their template
	from      sender    // --from
	optOuts   optOuts
	seen      map[uint64]int32 // normalised number → first valid row (for duplicates)

	phoneCol, templateCol, fromCol int  // -1 when absent
	lineless                       bool // rows from --to have no file position

	pending []string // the first record, read by Open to reject a header-only file
	num     int      // data rows read so far
	err     error    // a file error ends the reading for good
	text    strings.Builder
}

// Open checks the configuration and the files up to the first data row, so that a missing
// column, an unknown placeholder or a file in the wrong character set is reported before
// anything is sent. Errors about a place in a file are *RowError.
func Open(cfg Config) (*Reader, error) {
	r := &Reader{cfg: cfg, phoneCol: -1, templateCol: -1, fromCol: -1}
	if err := r.open(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Reader) open() error {
	cfg := &r.cfg
	switch {
	case len(cfg.To) == 0 && cfg.Recipients == "":
		return errors.New("no recipients: give --recipients FILE (or - for standard input) or --to NUMBER")
	case cfg.Text == "" && cfg.Templates == "":
		return errors.New("no message: give --templates FILE or --text TEXT")
	case cfg.Text != "" && cfg.Templates != "":
		return errors.New("--text and --templates exclude each other: --text is a single inline template")
	case cfg.Text != "" && cfg.Template != "" && cfg.Template != inlineTemplateID:
		return fmt.Errorf("--template %q names a template, but --text gives the only one; drop --template or use --templates", cfg.Template)
	}
	enc, err := charsetFor(cfg.Charset)
	if err != nil {
		return err
	}
	if r.numbers, err = newNumbers(cfg.DefaultRegion); err != nil {
		return err
	}
	if r.from, err = parseSender(cfg.From); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if err := r.loadTemplates(enc); err != nil {
		return err
	}
	if cfg.Exclude != "" {
		if r.optOuts, err = loadExclude(cfg.Exclude, enc, r.numbers); err != nil {
			return err
		}
	}
	if !cfg.AllowDuplicates {
		r.seen = make(map[uint64]int32)
	}
	if err := r.openRecipients(enc); err != nil {
		return err
	}
	for _, id := range r.templates.order {
		if err := r.templates.byID[id].bind(r.table); err != nil {
			return err
		}
	}
	if r.defaultTp == nil && r.templateCol < 0 {
		return fmt.Errorf("%s has %d templates (%s) and %s has no template column; choose one with --template ID or add a template column",
			r.templates.file, len(r.templates.order), r.templates.idList(), r.table.file)
	}
	rec, err := r.table.next()
	if errors.Is(err, io.EOF) {
		return &RowError{File: r.table.file, Line: 1, Err: errors.New("the header is not followed by any rows; add recipients, or check that this is the right file")}
	}
	if err != nil {
		return err
	}
	r.pending = slices.Clone(rec)
	return nil
}

func (r *Reader) loadTemplates(enc encoding.Encoding) error {
	cfg := &r.cfg
	if cfg.Text != "" {
		pieces, err := parseTemplate(cfg.Text)
		if err != nil {
			return &RowError{File: "--text", Err: err}
		}
		tp := &template{id: inlineTemplateID, file: "--text", pieces: pieces}
		r.templates = &templates{byID: map[string]*template{tp.id: tp}, order: []string{tp.id}, file: "--text"}
		r.defaultTp, r.inline = tp, true
		return nil
	}
	f, err := os.Open(cfg.Templates)
	if err != nil {
		return fmt.Errorf("open --templates file: %w", err)
	}
	defer f.Close()
	t, err := openTable(f, cfg.Templates, enc, 0)
	if err != nil {
		return err
	}
	if r.templates, err = loadTemplates(t); err != nil {
		return err
	}
	for _, id := range r.templates.order {
		tp := r.templates.byID[id]
		if _, err := parseSender(tp.from); err != nil {
			return &RowError{File: tp.file, Line: tp.line, Err: fmt.Errorf("template %q: %w", id, err)}
		}
	}
	switch {
	case cfg.Template != "":
		if r.defaultTp = r.templates.byID[cfg.Template]; r.defaultTp == nil {
			return fmt.Errorf("--template %q is not in %s (it has: %s); use one of those ids", cfg.Template, cfg.Templates, r.templates.idList())
		}
	case len(r.templates.order) == 1:
		r.defaultTp = r.templates.byID[r.templates.order[0]]
	}
	return nil
}

func (r *Reader) openRecipients(enc encoding.Encoding) error {
	cfg := &r.cfg
	var in io.Reader
	file := cfg.Recipients
	switch {
	case len(cfg.To) > 0:
		// The numbers become a one-column file, so that they take the same path as a file.
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write([]string{"msisdn"})
		for _, to := range cfg.To {
			w.Write([]string{to})
		}
		w.Flush()
		in, file, enc, r.lineless = &buf, "--to", nil, true
	case file == "-":
		in = cfg.Stdin
		if in == nil {
			in = os.Stdin
		}
	default:
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("open --recipients file: %w", err)
		}
		in, r.closer = f, f
	}
	var err error
	if r.table, err = openTable(in, file, enc, cfg.Delimiter); err != nil {
		return err
	}
	if r.phoneCol, err = phoneColumn(r.table, cfg.ToColumn); err != nil {
		return err
	}
	r.templateCol, r.fromCol = r.table.column("template"), r.table.column("from")
	return nil
}

// Close releases the recipients file. It is safe to call more than once.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	return err
}

// Next returns the next row of this shard, io.EOF after the last one, or an error about the
// file (a *RowError: broken quoting, a byte that is not valid UTF-8) after which the file
// cannot be trusted and Next returns the same error again. A problem with the row itself is
// not an error: the row comes back with StatusInvalid and Err set.
func (r *Reader) Next() (Row, error) {
	for r.err == nil {
		rec := r.pending
		if rec != nil {
			r.pending = nil
		} else if rec, r.err = r.table.next(); r.err != nil {
			break
		}
		r.num++
		// Rows of other shards are evaluated too, so that every shard marks the same rows
		// as duplicates as a run over the whole file would.
		row := r.evaluate(rec)
		if r.cfg.Shard.Keeps(row.Num) {
			return row, nil
		}
	}
	return Row{}, r.err
}

// evaluate turns one record into a row with its status.
func (r *Reader) evaluate(rec []string) Row {
	row := Row{Num: r.num}
	if !r.lineless {
		row.Line, _ = r.table.pos(0, rec)
	}
	if r.phoneCol < len(rec) {
		row.MSISDN = strings.TrimSpace(rec[r.phoneCol])
	}
	if len(rec) != r.table.fields {
		field := min(len(rec), r.table.fields)
		return r.invalid(row, rec, field, problem(ErrFieldCount,
			"the row has %d fields, but the header has %d; quote fields that contain the delimiter (%q)", len(rec), r.table.fields, r.table.csv.Comma))
	}
	msisdn, err := r.numbers.normalize(rec[r.phoneCol])
	if err != nil {
		return r.invalid(row, rec, r.phoneCol, err)
	}
	row.MSISDN = msisdn
	key, keyOK := numberKey(msisdn)
	if _, out := r.optOuts[key]; out && keyOK {
		row.Status = StatusExcluded
		row.Reason = "on the opt-out list " + r.cfg.Exclude
		return row
	}
	tp, field, err := r.template(rec)
	if err != nil {
		return r.invalid(row, rec, field, err)
	}
	row.Template = tp.id
	if err := r.sender(&row, tp, rec); err != nil {
		return r.invalid(row, rec, r.fromCol, err)
	}
	if err := tp.render(rec, r.cfg.AllowEmpty, &r.text); err != nil {
		var empty errEmptyCell
		errors.As(err, &empty)
		return r.invalid(row, rec, empty.field, problem(ErrEmptyValue,
			"column %q is empty and template %q has no fallback for it; fill the cell, write {{%s|fallback}} in the template, or use --allow-empty",
			r.table.header[empty.field], tp.id, r.table.header[empty.field]))
	}
	row.Text = r.text.String()
	if strings.TrimSpace(row.Text) == "" {
		return r.invalid(row, rec, -1, problem(ErrEmptyValue, "the rendered message is empty; fill the cells the template uses or give fallbacks"))
	}
	if err := r.encode(&row); err != nil {
		return r.invalid(row, rec, -1, err)
	}
	if r.seen != nil && keyOK {
		if first, dup := r.seen[key]; dup {
			row.Status = StatusDuplicate
			row.Reason = fmt.Sprintf("same number as row %d", first)
			row.Message = coding.Message{}
			return row
		}
		r.seen[key] = int32(row.Num)
	}
	return row
}

// invalid marks row invalid with err at field (-1: the whole row).
func (r *Reader) invalid(row Row, rec []string, field int, err error) Row {
	row.Status = StatusInvalid
	row.Reason = err.Error()
	row.Message = coding.Message{}
	row.Err = &RowError{File: r.table.file, Err: err}
	if !r.lineless {
		row.Err.Line = row.Line
		if field >= 0 {
			row.Err.Line, row.Err.Column = r.table.pos(field, rec)
		}
	}
	return row
}

// template chooses the row's template: its template cell, else the default. On error it
// also returns the field to point at.
func (r *Reader) template(rec []string) (*template, int, error) {
	id := ""
	if r.templateCol >= 0 {
		id = strings.TrimSpace(rec[r.templateCol])
	}
	switch {
	case id == "" && r.defaultTp != nil:
		return r.defaultTp, -1, nil
	case id == "":
		return nil, r.templateCol, problem(ErrUnknownTemplate,
			"the template cell is empty and there is no default template; fill it (%s) or give --template ID", r.templates.idList())
	case r.inline && id != inlineTemplateID:
		return nil, r.templateCol, problem(ErrUnknownTemplate,
			"the row names template %q, but --text gives the only template; clear the template column or use --templates", id)
	}
	tp := r.templates.byID[id]
	if tp == nil {
		return nil, r.templateCol, problem(ErrUnknownTemplate,
			"template %q is not in %s (it has: %s); fix the cell or add the template", id, r.templates.file, r.templates.idList())
	}
	return tp, -1, nil
}

// sender sets the row's sender: the row's from cell, else the template's, else --from.
func (r *Reader) sender(row *Row, tp *template, rec []string) error {
	s := r.from
	switch {
	case r.fromCol >= 0 && strings.TrimSpace(rec[r.fromCol]) != "":
		var err error
		if s, err = parseSender(rec[r.fromCol]); err != nil {
			return problem(ErrBadSender, "%w", err)
		}
	case tp.from != "":
		s, _ = parseSender(tp.from) // checked by Open
	}
	row.From, row.SourceTON, row.SourceNPI = s.addr, s.ton, s.npi
	if r.cfg.SourceTON != nil {
		row.SourceTON = *r.cfg.SourceTON
	}
	if r.cfg.SourceNPI != nil {
		row.SourceNPI = *r.cfg.SourceNPI
	}
	return nil
}

// encode transliterates (when asked), encodes and splits row.Text.
func (r *Reader) encode(row *Row) error {
	opt := r.cfg.Coding
	opt.Ref = uint16(row.Num)
	text := row.Text
	if r.cfg.Transliterate {
		text, row.Transliterated = coding.Transliterate(text)
	}
	msg, err := coding.SplitText(text, opt)
	if err != nil {
		return encodeProblem(err)
	}
	if row.Transliterated {
		before, err := coding.SplitText(row.Text, opt)
		var tooMany *coding.TooManyPartsError
		switch {
		case err == nil:
			row.SavedParts = len(before.Parts) - len(msg.Parts)
		case errors.As(err, &tooMany):
			row.SavedParts = tooMany.Need - len(msg.Parts)
		}
		row.Text = text
	}
	row.Message = msg
	return nil
}

func encodeProblem(err error) error {
	var tooMany *coding.TooManyPartsError
	var enc *coding.EncodeError
	switch {
	case errors.As(err, &tooMany):
		return problem(ErrTooManyParts, "%w; shorten the text or raise --max-parts", err)
	case errors.As(err, &enc):
		return problem(ErrNotEncodable, "%w; use --encoding auto (or ucs2), or --transliterate for look-alike characters", err)
	}
	return problem(ErrNotEncodable, "%w", err)
}
