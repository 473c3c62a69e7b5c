package csvin_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"smscast/csvin"
	"smscast/smpp/coding"
)

// readAll returns every row of cfg as "num line msisdn template status [reason|text]" lines.
func readAll(t *testing.T, cfg csvin.Config) []string {
	t.Helper()
	r, err := csvin.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	var out []string
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		detail := row.Text
		if row.Status != csvin.StatusOK {
			detail = row.Reason
		}
		out = append(out, fmt.Sprintf("%d %d %s %s %s [%s]", row.Num, row.Line, row.MSISDN, row.Template, row.Status, detail))
	}
}

func writeFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReader_formats(t *testing.T) {
	utf16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String("msisdn;name\r\n+49 171 1234567;Zoë\r\n")
	if err != nil {
		t.Fatal(err)
	}
	utf16be, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().String("msisdn\tname\n+49 171 1234567\tZoë\n")
	if err != nil {
		t.Fatal(err)
	}
	cp1252, err := charmap.Windows1252.NewEncoder().String("msisdn;name\n+49 171 1234567;Chloé – “café”\n")
	if err != nil {
		t.Fatal(err)
	}
	latin1, err := charmap.ISO8859_1.NewEncoder().String("msisdn,name\n+49 171 1234567,Jürgen\n")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input string
		cfg         func(*csvin.Config)
		want        []string
	}{
		{"comma", "msisdn,name\n+49 171 1234567,Anna\n+44 7911 123456,Ben\n", nil, []string{
			"1 2 491711234567 text ok [Hi Anna]",
			"2 3 447911123456 text ok [Hi Ben]",
		}},
		{"semicolon, BOM and CRLF", "\ufeffmsisdn;name\r\n+49 171 1234567;Anna\r\n", nil, []string{
			"1 2 491711234567 text ok [Hi Anna]",
		}},
		{"tab keeps empty cells", "msisdn\tname\tcity\n+49 171 1234567\t\tBerlin\n", func(c *csvin.Config) { c.Text = "Hi {{name|there}} in {{city}}" }, []string{
			"1 2 491711234567 text ok [Hi there in Berlin]",
		}},
		{"spaces after commas", "msisdn, name\n+49 171 1234567, \"Smith, Anna\"\n", nil, []string{
			"1 2 491711234567 text ok [Hi Smith, Anna]",
		}},
		{"quoted delimiter, quote and newline", "msisdn,name\n\"+49 171 1234567\",\"Anna \"\"A\"\", Berlin\nMitte\"\n+44 7911 123456,Ben\n", nil, []string{
			"1 2 491711234567 text ok [Hi Anna \"A\", Berlin\nMitte]",
			"2 4 447911123456 text ok [Hi Ben]",
		}},
		{"explicit delimiter", "msisdn|name\n+49 171 1234567|Anna, Berlin\n", func(c *csvin.Config) { c.Delimiter = '|' }, []string{
			"1 2 491711234567 text ok [Hi Anna, Berlin]",
		}},
		{"windows-1252", cp1252, func(c *csvin.Config) { c.Charset = "windows-1252" }, []string{
			"1 2 491711234567 text ok [Hi Chloé – “café”]",
		}},
		{"iso-8859-1", latin1, func(c *csvin.Config) { c.Charset = "iso-8859-1" }, []string{
			"1 2 491711234567 text ok [Hi Jürgen]",
		}},
		{"utf-16 with BOM", utf16le, func(c *csvin.Config) { c.Charset = "utf-16" }, []string{
			"1 2 491711234567 text ok [Hi Zoë]",
		}},
		{"utf-16be without BOM", utf16be, func(c *csvin.Config) { c.Charset = "utf-16be" }, []string{
			"1 2 491711234567 text ok [Hi Zoë]",
		}},
		{"blank and empty rows are skipped", "msisdn,name\n\n+49 171 1234567,Anna\n,\n;;\n\n+44 7911 123456,Ben\n", nil, []string{
			"1 3 491711234567 text ok [Hi Anna]",
			"2 5 ;;  invalid [the row has 1 field, but the header has 2; quote fields that contain the delimiter (',')]",
			"3 7 447911123456 text ok [Hi Ben]",
		}},
		{"a wrapped header cell (a quoted line break) is a name like any other", "msisdn,\"first\nname\",name\n+49 171 1234567,x,Anna\n", nil, []string{
			"1 3 491711234567 text ok [Hi Anna]", // the header takes lines 1 and 2
		}},
		{"header names and placeholders ignore case", "MSISDN,Name\n+49 171 1234567,Anna\n", func(c *csvin.Config) { c.Text = "Hi {{NAME}} {{ name }}" }, []string{
			"1 2 491711234567 text ok [Hi Anna Anna]",
		}},
		{"cells are not expanded again", "msisdn,name,city\n+49 171 1234567,{{city}},Berlin\n", nil, []string{
			"1 2 491711234567 text ok [Hi {{city}}]",
		}},
		{"--to-column", "id,cell,name\n7,+49 171 1234567,Anna\n", func(c *csvin.Config) { c.ToColumn = " Cell " }, []string{
			"1 2 491711234567 text ok [Hi Anna]",
		}},
		{"national numbers with --default-region", "msisdn,name\n0171 1234567,Anna\n491711234568,Ben\n", func(c *csvin.Config) { c.DefaultRegion = "de" }, []string{
			"1 2 491711234567 text ok [Hi Anna]",
			"2 3 491711234568 text ok [Hi Ben]",
		}},
		{"empty value", "msisdn,name\n+49 171 1234567,\n", nil, []string{
			`1 2 491711234567 text invalid [column "name" is empty and template "text" has no fallback for it; fill the cell, write {{name|fallback}} in the template, or use --allow-empty]`,
		}},
		{"--allow-empty", "msisdn,name\n+49 171 1234567,\n", func(c *csvin.Config) { c.AllowEmpty = true }, []string{
			"1 2 491711234567 text ok [Hi ]",
		}},
		{"nothing left to send", "msisdn,name\n+49 171 1234567,\n", func(c *csvin.Config) { c.AllowEmpty, c.Text = true, "{{name}}" }, []string{
			"1 2 491711234567 text invalid [the rendered message is empty (or only spaces and invisible characters); fill the cells the template uses or give fallbacks]",
		}},
		{"a quote not closed swallows rows", "msisdn,name\n+491711234567,\"Anna\n+491711234568,Ben\n+491711234569,Cat\"\n+491711234570,Dan\n", nil, []string{
			`1 2 +491711234567  invalid [a quoted cell runs over lines that look like rows of their own ("+491711234568,Ben"): a closing quote is probably missing, and those rows would be lost; close the quote, or check the file]`,
			"2 5 491711234570 text ok [Hi Dan]",
		}},
		{"a cell over lines that are not rows", "msisdn,name\n+491711234567,\"Anna\nBerlin, 10115\"\n", nil, []string{
			"1 2 491711234567 text ok [Hi Anna\nBerlin, 10115]",
		}},
		{"lines ending in CR alone (CSV for Macintosh)", "msisdn,name\r+49 171 1234567,Anna\r+49 171 1234568,\"Ben\rBeta\"\r", nil, []string{
			"1 2 491711234567 text ok [Hi Anna]",
			"2 3 491711234568 text ok [Hi Ben\nBeta]",
		}},
		{"lines ending in CR alone, an LF inside a quoted cell", "msisdn,name\r+49 171 1234567,\"Anna\nAnn\"\r+49 171 1234568,Ben\r", nil, []string{
			"1 2 491711234567 text ok [Hi Anna\nAnn]",
			"2 4 491711234568 text ok [Hi Ben]", // an editor shows the cell's line break too
		}},
		{"control characters", "msisdn,name\n+49 171 1234567,An\x00na\n+49 171 1234568,Be\x1bn\n+49 171 1234569,\"Cat\tX\"\n", nil, []string{
			"1 2 491711234567 text invalid [the message contains the control character U+0000 at character 6, which a handset shows as garbage or not at all; remove it from the file]",
			"2 3 491711234568 text invalid [the message contains the control character U+001B at character 6, which a handset shows as garbage or not at all; remove it from the file]",
			"3 4 491711234569 text ok [Hi Cat\tX]",
		}},
		{"a byte Windows-1252 does not define", "msisdn,name\n+49 171 1234567,Zo\x81\n+49 171 1234568,Zo\xeb\n", func(c *csvin.Config) { c.Charset = "windows-1252" }, []string{
			"1 2 491711234567 text invalid [the message contains U+FFFD (�), the mark of text damaged by a wrong character set (a byte --charset does not define, a broken UTF-16 character, or a file converted badly before); fix the file or --charset]",
			"2 3 491711234568 text ok [Hi Zoë]",
		}},
		{"only invisible characters, with or without --transliterate", "msisdn,name\n+49 171 1234567,\u00ad\n+49 171 1234568,\u200b\u2060\n",
			func(c *csvin.Config) { c.Text, c.Transliterate, c.AllowEmpty = "{{name}}", true, true }, []string{
				"1 2 491711234567 text invalid [the rendered message is empty (or only spaces and invisible characters); fill the cells the template uses or give fallbacks]",
				"2 3 491711234568 text invalid [the rendered message is empty (or only spaces and invisible characters); fill the cells the template uses or give fallbacks]",
			}},
		// Lines ending in CR CR LF (Python's csv module on Windows): the CR left at the end of
		// each line is a line end, not text, and not a line end inside a line.
		{"lines ending in CR CR LF", "msisdn,name,extra\r\r\n+49 171 1234567,Anna,\r\r\n+49 171 1234568,\"Ben\r\nBeta\",\r\r\n", func(c *csvin.Config) { c.Text = "Hi {{name}}{{extra|}}" }, []string{
			"1 2 491711234567 text ok [Hi Anna]",
			"2 3 491711234568 text ok [Hi Ben\nBeta]",
		}},
		{"lines ending in CR CR LF, the text last", "msisdn,name\r\r\n+49 171 1234567,Anna\r\r\n", nil, []string{"1 2 491711234567 text ok [Hi Anna]"}},
		{"a CR alone inside a line", "msisdn,name\n+49 171 1234567,Anna\r+49 171 1234568\n+49 171 1234569,Cy\r\n", nil, []string{
			"1 2 +49 171 1234567  invalid [the cell holds a carriage return (CR) on its own, as lines end in old Mac files: the file mixes line ends, so this may be two lines read as one; make them all LF or CRLF (for example with dos2unix), or check the file]",
			"2 3 491711234569 text ok [Hi Cy]",
		}},
		// --transliterate changes nothing that is sent as UCS-2 anyway: it would save nothing.
		// Latin-1 lacks the look-alikes as GSM does.
		{"--transliterate with --encoding ucs2", "msisdn\n+49 171 1234567\n", func(c *csvin.Config) {
			c.Text, c.Transliterate, c.Coding.Encoding = "x\u2013y \u201cq\u201d", true, coding.UCS2
		}, []string{"1 2 491711234567 text ok [x\u2013y \u201cq\u201d]"}},
		{"--transliterate with --encoding latin1", "msisdn\n+49 171 1234567\n", func(c *csvin.Config) {
			c.Text, c.Transliterate, c.Coding.Encoding = "a\u2026b", true, coding.Latin1
		}, []string{"1 2 491711234567 text ok [a...b]"}},
		{"--transliterate with --encoding gsm7, a character it cannot replace", "msisdn\n+49 171 1234567\n", func(c *csvin.Config) {
			c.Text, c.Transliterate, c.Coding.Encoding = "a\u00e1b", true, coding.GSM7
		}, []string{"1 2 491711234567 text invalid [character '\u00e1' (U+00E1) at position 2 cannot be encoded in gsm7: use --encoding auto or ucs2 (it is in --text)]"}},
		// A cell of invisible characters is as empty as one of spaces: it takes the fallback,
		// and without one it is an empty cell.
		{"a cell of invisible characters is empty", "msisdn,name\n+49 171 1234567,\u200b\n+49 171 1234568,\u00ad\u200e\n+49 171 1234569,\u00adAnn\n",
			func(c *csvin.Config) { c.Text = "Hi {{name|there}}!" }, []string{
				"1 2 491711234567 text ok [Hi there!]",
				"2 3 491711234568 text ok [Hi there!]",
				"3 4 491711234569 text ok [Hi \u00adAnn!]",
			}},
		// Pasted text brings invisible characters at a cell's ends: they would make the
		// message UCS-2.
		{"a zero-width space or byte order mark at a cell's end", "msisdn,name\n+49 171 1234567,\u200bAnna\ufeff\n+49 171 1234568,Ben\u2060 \n", nil, []string{
			"1 2 491711234567 text ok [Hi Anna]",
			"2 3 491711234568 text ok [Hi Ben]",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := csvin.Config{Recipients: writeFile(t, "r.csv", []byte(tt.input)), Text: "Hi {{name}}"}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got := readAll(t, cfg)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// A from cell, or a template's from, of only invisible characters (pasted) is empty: the row
// takes the next sender in line, as with an empty cell, never none at all.
func TestReader_invisibleFromIsEmpty(t *testing.T) {
	dir := t.TempDir()
	recipients := writeFile(t, "r.csv", []byte("msisdn,from,template\n+49 171 1234567,\u200b,a\n+49 171 1234568,\ufeff,b\n"))
	templates := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(templates, []byte("id,text,from\na,Hi,\u2060\nb,Hi,Shop\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := csvin.Open(csvin.Config{Recipients: recipients, Templates: templates, From: "ACME"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, want := range []string{"ACME", "Shop"} {
		row, err := r.Next()
		if err != nil || row.Status != csvin.StatusOK || row.From != want {
			t.Fatalf("row %d: from %q, %v, %v; want %q", row.Num, row.From, row.Status, err, want)
		}
	}
}

// A character that straddles the end of the reading buffer (64 KiB into a file, inside a
// line longer than what is left of the buffer) is read whole: before, the file was refused
// with "short buffer" and no position.
func TestReader_characterAcrossTheReadBuffer(t *testing.T) {
	var b strings.Builder
	b.WriteString("msisdn,name\n")
	n := 0
	for ; b.Len() < 65000; n++ {
		fmt.Fprintf(&b, "+4917112%05d,Anna\n", n)
	}
	prefix := fmt.Sprintf("+4917112%05d,", n)
	b.WriteString(prefix + strings.Repeat("a", 65535-b.Len()-len(prefix)) + "é\n")
	n++
	last := fmt.Sprintf("+4917112%05d", n)
	b.WriteString(last + ",Bob\n")
	n++
	recipients := writeFile(t, "r.csv", []byte(b.String()))
	templates := writeFile(t, "t.csv", []byte("id,text\nt,\"Hi {{name}}\"\n"))
	rows := readAll(t, csvin.Config{Recipients: recipients, Templates: templates, Template: "t"})
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	if want := fmt.Sprintf("%d %d %s t ok [Hi Bob]", n, n+1, last[1:]); rows[n-1] != want {
		t.Errorf("last row %q, want %q", rows[n-1], want)
	}
	if long := rows[n-2]; !strings.HasSuffix(long, "aé]") {
		t.Errorf("the row with the straddling character: %.40q…%q", long, long[len(long)-10:])
	}
}

// Template texts lose spaces and invisible characters at their ends, quoted or not (an
// unquoted text lost only its leading spaces, and a trailing no-break space made it UCS-2),
// and every line break in them is one LF.
func TestReader_templateTextTrimmed(t *testing.T) {
	templates := writeFile(t, "t.csv", []byte("id,text\na,  hi  \nb,\u00a0hi\u00a0\nc,\"  hi \n\"\nd,\u200bhi  there\u200b\ne,\"one\rtwo\r\nthree\"\n"))
	recipients := writeFile(t, "r.csv", []byte("msisdn,template\n+491711234567,a\n+491711234568,b\n+491711234569,c\n+491711234570,d\n+491711234571,e\n"))
	got := readAll(t, csvin.Config{Recipients: recipients, Templates: templates})
	want := []string{
		"1 2 491711234567 a ok [hi]",
		"2 3 491711234568 b ok [hi]",
		"3 4 491711234569 c ok [hi]",
		"4 5 491711234570 d ok [hi  there]",
		"5 6 491711234571 e ok [one\ntwo\nthree]", // a CR alone is a line break too
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// As versions before the trimming read them, for campaigns they began.
	got = readAll(t, csvin.Config{Recipients: recipients, Templates: templates, TemplateTextAsRead: true})
	want = []string{
		"1 2 491711234567 a ok [hi  ]",
		"2 3 491711234568 b ok [hi\u00a0]",
		"3 4 491711234569 c ok [  hi \n]",
		"4 5 491711234570 d ok [\u200bhi  there\u200b]",
		"5 6 491711234571 e ok [one\rtwo\nthree]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("texts as read: rows\n%q\nwant\n%q", got, want)
	}
}

// Positions in a template's errors count from its cell's start, spaces trimmed away included:
// the line and column point at the cell.
func TestReader_templateErrorPositionsCountTheTrimmedSpaces(t *testing.T) {
	recipients := writeFile(t, "r.csv", []byte("msisdn,name\n+491711234567,Anna\n"))
	for _, tt := range []struct{ templates, want string }{
		{"id,text\nt,\"   Hi {{nme}}\"\n", "(at character 7 of its text)"},
		{"id,text\nt,\"   Hi {{name\"\n", "the {{ at character 7 is not closed"},
		{"id,text\nt,\"  a\x01\"\n", "U+0001 at character 4"},
	} {
		templates := writeFile(t, "t.csv", []byte(tt.templates))
		r, err := csvin.Open(csvin.Config{Recipients: recipients, Templates: templates, Template: "t"})
		if err == nil {
			var row csvin.Row
			row, err = r.Next()
			if err == nil && row.Err != nil {
				err = row.Err
			}
			r.Close()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v; want %q", tt.templates, err, tt.want)
		}
	}
}
