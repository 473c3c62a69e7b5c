package csvin_test

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"smscast/csvin"
	"smscast/smpp/coding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// firstProblem opens cfg and returns the first error: from Open, from Next, or the first
// invalid row's. "" when there is none.
func firstProblem(cfg csvin.Config) string {
	r, err := csvin.Open(cfg)
	if err != nil {
		return err.Error()
	}
	defer r.Close()
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return ""
		}
		if err != nil {
			return err.Error()
		}
		if row.Err != nil {
			return row.Err.Error()
		}
	}
}

// TestBadInputs runs every malformed input of testdata/bad and compares the first problem it
// reports with testdata/bad/errors.golden (rewrite it with -update). Each message must be one
// line that starts with file:line (and column where one applies) and says what to do.
func TestBadInputs(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(*csvin.Config)
	}{
		{"ragged-extra", nil},
		{"ragged-short", nil},
		{"unterminated-quote", nil},
		{"bare-quote", nil},
		{"no-phone-column", nil},
		{"windows-1252", nil},
		{"utf16-without-charset", nil},
		{"empty", nil},
		{"header-only", nil},
		{"unknown-template-id", nil},
		{"bom-semicolon", nil},
		{"duplicate-column", nil},
		{"two-phone-columns", nil},
		{"invalid-number", nil},
		{"empty-value", nil},
		{"too-many-parts", func(c *csvin.Config) { c.Coding.MaxParts = 1 }},
		{"not-gsm7", func(c *csvin.Config) { c.Coding.Encoding = coding.GSM7 }},
		{"bad-sender", nil},
		{"scientific-notation", nil},
		{"to-column-missing", func(c *csvin.Config) { c.Recipients, c.ToColumn = "testdata/bad/recipients.csv", "phone_number" }},
		{"no-default-template", func(c *csvin.Config) { c.Recipients, c.Template = "testdata/bad/recipients.csv", "" }},
		{"templates-unknown-placeholder", templatesFile},
		{"templates-duplicate-id", templatesFile},
		{"templates-no-text-column", templatesFile},
		{"templates-unclosed-placeholder", templatesFile},
		{"templates-bad-sender", templatesFile},
		{"exclude-national", func(c *csvin.Config) {
			c.Recipients, c.Exclude = "testdata/bad/recipients.csv", "testdata/bad/exclude-national.txt"
		}},
		{"decimal-number", nil},
		{"exclude-decimal", func(c *csvin.Config) {
			c.Recipients, c.Exclude = "testdata/bad/recipients.csv", "testdata/bad/exclude-decimal.txt"
		}},
		{"templates-fallback-brace", templatesFile},
		{"templates-utf8-with-charset", func(c *csvin.Config) { templatesFile(c); c.Charset = "windows-1252" }},
		{"swallowed-rows-phone-last", nil},
		{"swallowed-rows-field-count", nil},
		{"ragged-multiline", nil},
		{"utf16-no-bom", nil},
		{"lone-cr", nil},
		{"templates-control-character", templatesFile},
		{"exclude-no-phone-column", func(c *csvin.Config) {
			c.Recipients, c.Exclude = "testdata/bad/recipients.csv", "testdata/bad/exclude-no-phone-column.csv"
		}},
		{"workbook", nil},
		{"header-lone-cr", nil},
		{"mac-roman", nil},
		{"sender-time", nil},
		{"plus-inside", nil},
		{"templates-single-brace", templatesFile},
	}
	position := regexp.MustCompile(`^testdata/bad/[a-z0-9-]+\.(csv|txt):[0-9]+(:[0-9]+)?: `)
	var golden strings.Builder
	for _, tt := range tests {
		cfg := csvin.Config{Recipients: "testdata/bad/" + tt.name + ".csv", Templates: "testdata/templates.csv", Template: "greet"}
		cfg.Coding.MaxParts = 10
		if tt.cfg != nil {
			tt.cfg(&cfg)
		}
		msg := firstProblem(cfg)
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case msg == "":
				t.Fatal("no error")
			case strings.Contains(msg, "\n"):
				t.Errorf("message is not one line: %q", msg)
			case !position.MatchString(msg):
				t.Errorf("message does not start with the file, line and column: %q", msg)
			case !strings.Contains(msg, "; ") && !strings.Contains(msg, ": use "):
				t.Errorf("message does not say what to do (after \"; \" or \": use \"): %q", msg)
			case strings.Count(msg, "--encoding") > 1 || strings.Count(msg, "--transliterate") > 1:
				t.Errorf("message gives the same advice twice: %q", msg)
			}
		})
		fmt.Fprintf(&golden, "%s: %s\n", tt.name, msg)
	}
	const path = "testdata/bad/errors.golden"
	if *update {
		if err := os.WriteFile(path, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./csvin -run TestBadInputs -update to create it)", err)
	}
	if got := golden.String(); got != string(want) {
		t.Errorf("messages differ from %s (run with -update after checking them):\n%s", path, lineDiff(string(want), got))
	}
}

func templatesFile(c *csvin.Config) {
	c.Templates = strings.Replace(c.Recipients, "testdata/bad/", "testdata/bad/", 1)
	c.Recipients = "testdata/bad/recipients.csv"
}

// lineDiff lists the lines that differ between want and got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "-%s\n+%s\n", wl, gl)
		}
	}
	return b.String()
}

// TestEveryUnknownPlaceholder: every placeholder that names no column is reported at once, one
// line each with its file, line and column, so one run shows everything to fix. With a
// template column every template of the file may be named by a row, so every one is checked.
func TestEveryUnknownPlaceholder(t *testing.T) {
	dir := t.TempDir()
	templates, recipients := dir+"/templates.csv", dir+"/recipients.csv"
	if err := os.WriteFile(templates, []byte("id,text\ngreet,\"Hello {{nmae}}, from {{cty}}\"\nbye,Bye {{naem}}\nok,Hi {{city}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(recipients, []byte("msisdn,name,city,template\n+49 171 1234567,Anna,Berlin,ok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := csvin.Open(csvin.Config{Recipients: recipients, Templates: templates, Template: "ok",
		Coding: coding.Options{MaxParts: 10}})
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want one per unknown placeholder (3):\n%s", len(lines), err)
	}
	for i, want := range []string{"{{nmae}}", "{{cty}}", "{{naem}}"} {
		if !strings.HasPrefix(lines[i], templates+":") || !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q: want the file position and %s", i+1, lines[i], want)
		}
	}
	var re *csvin.RowError
	if !errors.As(err, &re) {
		t.Errorf("%T is not a *RowError", err)
	}
}

// Without a template column every row uses --template's template, so the file's other
// templates (a shared file of many campaigns' texts) may name columns this file lacks, and
// still do not stop the campaign; the chosen template is checked as ever.
func TestOnlyTheChosenTemplateNeedsItsColumns(t *testing.T) {
	dir := t.TempDir()
	templates := dir + "/templates.csv"
	if err := os.WriteFile(templates, []byte("id,text\nrenewal,Your {{plan}} renews on {{date}}\nok,Hi {{city}}\nbad,Hi {{town}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	open := func(template string) error {
		r, err := csvin.Open(csvin.Config{Recipients: "testdata/bad/recipients.csv", Templates: templates, Template: template,
			Coding: coding.Options{MaxParts: 10}})
		if err == nil {
			r.Close()
		}
		return err
	}
	if err := open("ok"); err != nil {
		t.Errorf("--template ok: %v, want no error: the other templates are not used", err)
	}
	err := open("bad")
	if err == nil || !strings.Contains(err.Error(), "{{town}}") || strings.Contains(err.Error(), "{{plan}}") {
		t.Errorf("--template bad: %v, want an error about {{town}} only", err)
	}
}

// An inline --text with a control character is refused before any row is read: every row
// would have it.
func TestInlineTextControlCharacter(t *testing.T) {
	_, err := csvin.Open(csvin.Config{Recipients: "testdata/bad/recipients.csv", Text: "Hi\x01 {{name}}", Coding: coding.Options{MaxParts: 10}})
	if err == nil || !strings.HasPrefix(err.Error(), "--text: ") || !strings.Contains(err.Error(), "U+0001") {
		t.Errorf("Open = %v, want an error about --text's control character", err)
	}
}

// Names from the input files reach error messages with their control characters escaped
// (a header cell can hold terminal escape sequences that clear the screen or plant a link),
// and a huge cell is not echoed whole.
func TestErrorsShowHostileCellsSafely(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		path := dir + "/" + name
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	esc := "\x1b[2J\x1b]8;;http://evil.example/\x07"
	recipients := write("r.csv", "msisdn,n"+esc+"ame\n+4917112345678,Ann\n")
	tests := []struct {
		name string
		cfg  csvin.Config
	}{
		{"no phone column", csvin.Config{Recipients: write("nophone.csv", "nm"+esc+",x\b\by\n1,2\n"), Text: "Hi"}},
		{"unknown placeholder", csvin.Config{Recipients: recipients, Text: "Hi {{na" + esc + "me}}"}},
		{"unknown template", csvin.Config{Recipients: recipients, Templates: write("t.csv", "id,text\nw"+esc+"X,Hi\n"), Template: "nope"}},
		{"huge number", csvin.Config{Recipients: write("huge.csv", "msisdn\n+49"+strings.Repeat("1", 100000)+"\n"), Text: "Hi"}},
	}
	for _, tt := range tests {
		tt.cfg.Coding.MaxParts = 10
		msg := firstProblem(tt.cfg)
		if msg == "" || strings.ContainsAny(msg, "\x1b\x07\b") || len(msg) > 1000 {
			t.Errorf("%s: %q, want an error without raw control characters and of a sane length", tt.name, msg)
		}
	}
}
