package csvin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/text/encoding"
)

// inlineTemplateID is the id of the --text template.
const inlineTemplateID = "text"

// Reader streams the rows of a campaign. Its memory does not grow with the number of rows,
// except for the duplicate check (a few bytes per valid row). Rows are evaluated by a few
// goroutines in parallel (see pipeline.go) and come out of Next in file order. A Reader is
// not safe for concurrent use; Close it to stop its goroutines.
type Reader struct {
	*campaign
	table   *table
	closer  io.Closer  // the recipients file, when Open opened it
	seen    *numberSet // first valid row of each number; nil with AllowDuplicates
	pending []string   // the first record, read by Open to reject a header-only file
	pipeline
}

// campaign is what evaluating a row needs. It is read-only once Open returns, so the
// evaluating goroutines share it.
type campaign struct {
	cfg       Config
	file      string   // the recipients file's name in messages
	header    []string // its header, trimmed
	comma     rune     // its delimiter
	templates *templates
	inline    bool      // the template is --text
	defaultTp *template // nil: rows must name their template
	from      sender    // --from
	optOuts   optOuts

	phoneCol, templateCol, fromCol int  // -1 when absent
	lineless                       bool // rows from --to have no file position
}

// Open checks the configuration and the files up to the first data row, so that a missing
// column, an unknown placeholder or a file in the wrong character set is reported before
// anything is sent. Errors about a place in a file are *RowError.
func Open(cfg Config) (*Reader, error) {
	r := &Reader{campaign: &campaign{cfg: cfg, phoneCol: -1, templateCol: -1, fromCol: -1}}
	if err := r.open(); err != nil {
		r.Close()
		return nil, err
	}
	r.start()
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
	numbers, err := newNumbers(cfg.DefaultRegion)
	if err != nil {
		return err
	}
	if r.from, err = parseSender(cfg.From); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	if err := r.loadTemplates(enc); err != nil {
		return err
	}
	if cfg.Exclude != "" {
		if r.optOuts, err = loadExclude(cfg.Exclude, enc, numbers); err != nil {
			return err
		}
	}
	if !cfg.AllowDuplicates {
		r.seen = newNumberSet()
	}
	if err := r.openRecipients(enc); err != nil {
		return err
	}
	usable := r.templates.order // the templates a row may name
	if r.templateCol < 0 {
		if r.defaultTp == nil {
			return &RowError{File: r.file, Line: 1, Err: fmt.Errorf("no template column, and %s has %d templates (%s); choose one with --template ID or add a template column",
				r.templates.file, len(r.templates.order), r.templates.idList())}
		}
		// A file of many campaigns' templates may name columns this campaign's file lacks.
		usable = []string{r.defaultTp.id}
	}
	var bindErrs []error
	for _, id := range usable {
		bindErrs = append(bindErrs, r.templates.byID[id].bind(r.table))
	}
	if err := errors.Join(bindErrs...); err != nil {
		return err
	}
	if err := r.newEvaluators(); err != nil {
		return err
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
		if err == nil {
			err = controlIn(cfg.Text)
		}
		if err != nil {
			return &RowError{File: "--text", Err: err}
		}
		tp := &template{id: inlineTemplateID, file: "--text", pieces: pieces}
		r.templates = &templates{byID: map[string]*template{tp.id: tp}, order: []string{tp.id}, file: "--text"}
		r.defaultTp, r.inline = tp, true
		return nil
	}
	f, err := openInput("templates", cfg.Templates)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := openTable(f, cfg.Templates, enc, 0)
	if err != nil {
		return err
	}
	if r.templates, err = loadTemplates(t, r.cfg.TemplateTextAsRead); err != nil {
		return err
	}
	for _, id := range r.templates.order {
		tp := r.templates.byID[id]
		if tp.sender, err = parseSender(tp.from); err != nil {
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
		file, in = "stdin", cfg.Stdin
		if in == nil {
			in = os.Stdin
		}
	default:
		f, err := openInput("recipients", file)
		if err != nil {
			return err
		}
		in, r.closer = f, f
	}
	var err error
	if r.table, err = openTable(in, file, enc, cfg.Delimiter); err != nil {
		return err
	}
	if r.phoneCol, err = phoneColumn(r.table, cfg.ToColumn, true); err != nil {
		return err
	}
	r.templateCol, r.fromCol = r.table.column("template"), r.table.column("from")
	r.file, r.header, r.comma = r.table.file, r.table.header, r.table.csv.Comma
	return nil
}

// Close stops the goroutines and releases the recipients file. It is safe to call more than
// once. A read of standard input in progress is waited for: a pipe cannot be interrupted.
func (r *Reader) Close() error {
	r.stop()
	if r.closer == nil {
		return nil
	}
	err := r.closer.Close()
	r.closer = nil
	return err
}

// openInput opens the input file that --flag names, or says what to check.
func openInput(flag, path string) (*os.File, error) {
	f, err := os.Open(path)
	if err == nil {
		return f, nil
	}
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // the path is said once, below
	}
	advice := "check the file"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		advice = "check the path"
		if !filepath.IsAbs(path) {
			if wd, err := os.Getwd(); err == nil {
				advice += " (relative to " + wd + ", where smscast runs)"
			}
		}
	case errors.Is(err, fs.ErrPermission):
		advice = "this user may not read it: check its permissions"
	}
	return nil, fmt.Errorf("--%s %s: %w; %s", flag, path, cause, advice)
}
