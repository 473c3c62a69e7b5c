package csvin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParseSender(t *testing.T) {
	tests := []struct {
		in       string
		addr     string
		ton, npi uint8
		err      string
	}{
		{"", "", 0, 0, ""},
		{"Shop", "Shop", 5, 0, ""},
		{"Acme Ltd 24", "Acme Ltd 24", 5, 0, ""},
		{"12345678901", "12345678901", 1, 1, ""}, // 11 digits: an international number
		{"[Shop]", "[Shop]", 5, 0, ""},           // [ and ] count two septets each: 8
		{"€uroShop", "", 0, 0, `sender "€uroShop" has '€', which is not ASCII; SMSCs take a name as ASCII, so write it without accents`},
		{"Café", "", 0, 0, `sender "Café" has 'é', which is not ASCII; SMSCs take a name as ASCII, so write it without accents`},
		{"123", "123", 3, 0, ""},
		{"12345678", "12345678", 3, 0, ""},
		{"+49 171 123-4567", "491711234567", 1, 1, ""},
		{"0049 171 1234567", "491711234567", 1, 1, ""},
		{"491711234567", "491711234567", 1, 1, ""},
		{"12", "", 0, 0, `sender "12" is too short for a short code (3 to 8 digits); use a name or a number with its country code`},
		{"0171 1234567", "", 0, 0, `sender "0171 1234567" looks like a national number; write it with its country code (+<country code><number>)`},
		{"+49 171 ABC", "", 0, 0, `sender "+49 171 ABC" starts with + but is not all digits; write an international number as +<digits>, or use a name`},
		{"TwelveChars!", "", 0, 0, `sender "TwelveChars!" is 12 GSM characters long, but an alphanumeric sender has at most 11; shorten it`},
		{"[[[[[[", "", 0, 0, `sender "[[[[[[" is 12 GSM characters long, but an alphanumeric sender has at most 11; shorten it`},
		{"Shop™", "", 0, 0, `sender "Shop™" has characters outside the GSM alphabet; use letters, digits and common punctuation`},
		{"+1234567890123456", "", 0, 0, `sender "+1234567890123456" has 16 digits, but an international number has at most 15; check it`},
		{"+123", "", 0, 0, `sender "+123" is too short for an international number; check it`},
		// The national prefix in brackets is dropped; elsewhere it would be another number.
		{"+49 (0)171 123-4567", "491711234567", 1, 1, ""},
		{"+49 (0) 151 1234567", "491511234567", 1, 1, ""},
		{"0049 (0)171 1234567", "491711234567", 1, 1, ""},
		{"(030) 1234567", "", 0, 0, `sender "(030) 1234567" looks like a national number; write it with its country code (+<country code><number>)`},
		// What spreadsheets and mislabelled columns make of senders.
		{"491511234567.0", "", 0, 0, `sender "491511234567.0" ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again`},
		{"4.91511E+11", "", 0, 0, `sender "4.91511E+11" is in scientific notation (a spreadsheet turned the number into one and lost its digits); format the column as text and export again`},
		{"4,91511E+11", "", 0, 0, `sender "4,91511E+11" is in scientific notation (a spreadsheet turned the number into one and lost its digits); format the column as text and export again`},
		// --from and a template's from are typed on purpose: a time is a name there.
		{"20:20", "20:20", 5, 0, ""},
		{"12345.0", "", 0, 0, `sender "12345.0" ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again`},
		// The national prefix after the country code, as the country has it.
		{"+39 (0)6 12345678", "390612345678", 1, 1, ""}, // Italy keeps the 0
		{"+49 0171 1234567", "491711234567", 1, 1, ""},
		{"+44 (0)20 7946 0018", "442079460018", 1, 1, ""},
		// Not dates: grouped numbers and names with digits.
		{"030-123-4567", "", 0, 0, `sender "030-123-4567" looks like a national number; write it with its country code (+<country code><number>)`},
		{"+1 212-555-0123", "12125550123", 1, 1, ""},
		{"Shop 24/7", "Shop 24/7", 5, 0, ""},
		{"Open 9-17", "Open 9-17", 5, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSender(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("parseSender(%q) = %+v, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != (sender{addr: tt.addr, ton: tt.ton, npi: tt.npi}) {
				t.Fatalf("parseSender(%q) = %+v, %v; want %q %d/%d", tt.in, got, err, tt.addr, tt.ton, tt.npi)
			}
		})
	}
}

// A row's from cell is refused as a date or a time: a column named from that holds
// something else. Elsewhere parseRowSender is parseSender.
func TestParseRowSender(t *testing.T) {
	for _, in := range []string{"10:00", "9:30:00 AM", "2025-05-02", "02.05.2025 10:00", "5/2/25", "24:00", "12/12/12"} {
		want := fmt.Sprintf(`sender %q looks like a date or a time, not a name or a number; a recipients column named from is each row's sender: if it holds something else, rename it`, in)
		if got, err := parseRowSender(in); err == nil || err.Error() != want {
			t.Errorf("parseRowSender(%q) = %+v, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"Shop 24/7", "Open 9-17", "+49 171 1234567", "030-123-4567x", "ACME"} {
		a, errA := parseRowSender(in)
		b, errB := parseSender(in)
		if a != b || fmt.Sprint(errA) != fmt.Sprint(errB) {
			t.Errorf("parseRowSender(%q) = %+v, %v; parseSender gives %+v, %v", in, a, errA, b, errB)
		}
	}
}

func TestParseShard(t *testing.T) {
	env := func(v string) func(string) string {
		return func(name string) string {
			if name == "JOB_COMPLETION_INDEX" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		in, env string
		want    Shard
		err     bool
	}{
		{"", "", Shard{}, false},
		{"1/1", "", Shard{1, 1}, false},
		{"2/4", "", Shard{2, 4}, false},
		{"auto/4", "0", Shard{1, 4}, false},
		{"auto/4", "3", Shard{4, 4}, false},
		{"auto/4", "4", Shard{}, true},
		{"auto/4", "", Shard{}, true},
		{"0/4", "", Shard{}, true},
		{"5/4", "", Shard{}, true},
		{"2", "", Shard{}, true},
		{"a/b", "", Shard{}, true},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in, env(tt.env))
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseShard(%q) with index %q = %v, %v; want %v, error %v", tt.in, tt.env, got, err, tt.want, tt.err)
		}
	}
	s := Shard{Index: 2, Count: 3}
	for num, want := range map[int]bool{1: false, 2: true, 3: false, 5: true, 8: true} {
		if s.Keeps(num) != want {
			t.Errorf("%v keeps row %d: %v", s, num, !want)
		}
	}
	if !(Shard{}).Keeps(7) {
		t.Error("the zero Shard must keep every row")
	}
}

func TestParseTemplate(t *testing.T) {
	tests := []struct {
		text, want, err string
	}{
		{"plain {text} }}", "[plain {text} }}]", ""},
		{"Hi {{name}}!", "[Hi ]{name}[!]", ""},
		{"{{ name | dear customer }}", "{name|dear customer}", ""},
		{"{{a}}{{b|}}", "{a}{b|}", ""},
		{"Hi {{name", "", "the {{ at character 4 is not closed; close it with }}"},
		{"Hi {{}}", "", "the placeholder at character 4 has no column name; write {{column}} or {{column|fallback}}"},
		{"Hi {{a{{b}}", "", `the placeholder at character 4, "{{a{{b}}", contains a brace; close each placeholder with }} before the next {{`},
		{"Hi {{name|{{city}}}}", "", `the fallback of the placeholder at character 4, "{{name|{{city}}", contains a brace; a fallback is plain text and cannot hold another placeholder`},
		{"Hi {{name}}}", "", `the placeholder at character 4, "{{name}}", is followed by a third }; remove it, or put a space before a } that belongs to the text`},
		{"Hi {{name}} }", "[Hi ]{name}[ }]", ""},
	}
	for _, tt := range tests {
		pieces, err := parseTemplate(tt.text)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseTemplate(%q) error %v, want %q", tt.text, err, tt.err)
			}
			continue
		}
		var b strings.Builder
		for _, p := range pieces {
			switch {
			case p.name == "":
				b.WriteString("[" + p.text + "]")
			case p.hasFallback:
				b.WriteString("{" + p.name + "|" + p.text + "}")
			default:
				b.WriteString("{" + p.name + "}")
			}
		}
		if err != nil || b.String() != tt.want {
			t.Errorf("parseTemplate(%q) = %s, %v; want %s", tt.text, b.String(), err, tt.want)
		}
	}
}

// TestUTF8Checker_splitReads checks positions and the pass-through of valid text when the
// input arrives one byte at a time, so that characters are cut across reads.
func TestUTF8Checker_splitReads(t *testing.T) {
	in := "\ufeffa,b\nZoë,€\nx,\xe9\n"
	r := decodeInput(iotest.OneByteReader(strings.NewReader(in)), "f.csv", nil)
	got, err := io.ReadAll(r)
	if string(got) != "a,b\nZoë,€\nx," {
		t.Errorf("passed %q", got)
	}
	var re *RowError
	if !errors.As(err, &re) || re.Line != 3 || re.Column != 3 {
		t.Fatalf("error %v, want a RowError at 3:3", err)
	}
	// Valid input passes unchanged, without its BOM.
	got, err = io.ReadAll(decodeInput(bytes.NewReader([]byte("\ufeffZoë\n")), "f.csv", nil))
	if err != nil || string(got) != "Zoë\n" {
		t.Errorf("valid input: %q, %v", got, err)
	}
	// A character cut off by the end of the file is invalid.
	_, err = io.ReadAll(decodeInput(strings.NewReader("ab\xe2\x82"), "f.csv", nil))
	if !errors.As(err, &re) || re.Line != 1 || re.Column != 3 {
		t.Errorf("truncated character: %v", err)
	}
}

// TestUTF8Checker_smallReads: a reader may be handed fewer bytes than a character takes
// (bufio does so when its buffer is nearly full and a long line has not ended); the text
// still passes whole, and an invalid byte keeps its position.
func TestUTF8Checker_smallReads(t *testing.T) {
	in := "\ufeffa,Zoë\n€,😀x\n"
	for size := 1; size <= 5; size++ {
		for _, split := range []bool{false, true} {
			var src io.Reader = strings.NewReader(in + "\xe9\n")
			if split {
				src = iotest.OneByteReader(src)
			}
			r := decodeInput(src, "f.csv", nil)
			var got []byte
			var err error
			p := make([]byte, size)
			for i := 0; i < 1000 && err == nil; i++ {
				var n int
				n, err = r.Read(p)
				got = append(got, p[:n]...)
			}
			var re *RowError
			if string(got) != in[3:] || !errors.As(err, &re) || re.Line != 3 || re.Column != 1 {
				t.Errorf("reads of %d bytes (one byte at a time from the file: %v): %q, %v; want %q and an error at 3:1", size, split, got, err, in[3:])
			}
		}
	}
}

// FuzzUTF8Checker_readSizes: however small the reads, the checker passes the same bytes and
// stops with the same error as with reads of a whole buffer.
func FuzzUTF8Checker_readSizes(f *testing.F) {
	f.Add([]byte("\ufeffa,Zoë\n€,😀x\n\xe9"), uint8(1))
	f.Add([]byte("ab\xe2\x82"), uint8(3))
	f.Add([]byte("a\rb\r\xf0\x9f\x98"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, size uint8) {
		want, wantErr := io.ReadAll(decodeInput(bytes.NewReader(data), "f.csv", nil))
		r := decodeInput(iotest.HalfReader(bytes.NewReader(data)), "f.csv", nil)
		p := make([]byte, 1+int(size)%8)
		var got []byte
		var err error
		for i := 0; i <= 2*len(data)+10 && err == nil; i++ {
			var n int
			n, err = r.Read(p)
			got = append(got, p[:n]...)
		}
		if errors.Is(err, io.EOF) {
			err = nil
		}
		if !bytes.Equal(got, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("reads of %d bytes: %q, %v; whole reads: %q, %v", len(p), got, err, want, wantErr)
		}
	})
}

// TestUTF8Checker_lineEnds: an invalid byte's line counts line ends as the table reads them,
// whole or one byte at a time, and a Mac file (CR alone) is pointed to --charset macintosh.
func TestUTF8Checker_lineEnds(t *testing.T) {
	for _, tt := range []struct {
		name, in  string
		line, col int
		hint      string
	}{
		{"LF", "a,b\nc,d\nx,\xe9\n", 3, 3, "windows-1252"},
		{"CR LF", "a,b\r\nc,d\r\nx,\xe9\r\n", 3, 3, "windows-1252"},
		{"CR CR LF", "a,b\r\r\nc,d\r\r\nx,\xe9\n", 3, 3, "windows-1252"},
		{"CR alone", "a,b\rc,d\rx,\xe9\r", 3, 3, "--charset macintosh"},
		{"CR alone, a blank line", "a,b\r\rc,d\rx,\xe9", 4, 3, "--charset macintosh"},
		{"a CR alone in an LF file", "a,b\nc\rd,e\nx,\xe9\n", 3, 3, "windows-1252"},
		{"a byte order mark, then not UTF-8", "\ufeffa,b\nx,\xe9\n", 2, 3, "starts with a UTF-8 byte order mark, but it is not UTF-8 after it"},
	} {
		for _, split := range []bool{false, true} {
			var r io.Reader = strings.NewReader(tt.in)
			if split {
				r = iotest.OneByteReader(r)
			}
			_, err := io.ReadAll(decodeInput(r, "f.csv", nil))
			var re *RowError
			if !errors.As(err, &re) || re.Line != tt.line || re.Column != tt.col || !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("%s (one byte at a time: %v): %v; want %d:%d and %q", tt.name, split, err, tt.line, tt.col, tt.hint)
			}
		}
	}
}

// TestOpenTable_refused: files that are not CSV, or whose header runs into the first row,
// stop with what they are rather than a misleading error or a lost row.
func TestOpenTable_refused(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "f:1: the file is a ZIP archive, such as an Excel (.xlsx) or OpenDocument (.ods) workbook, not a CSV file"},
		{"xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00", "f:1: the file is an Excel 97-2003 workbook (.xls), not a CSV file"},
		{"gzip", "\x1F\x8B\x08\x00", "f:1: the file is gzip-compressed, not a CSV file; unpack it"},
		{"a CR alone ends the header", "msisdn,name\r+491711234561,Anna\n+491711234562,Ben\n", `f:1:8: column 2 of the header, "name\r+491711234561", holds a CR alone`},
	} {
		_, err := openTable(strings.NewReader(tt.in), "f", nil, 0)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestDecodeInput_charsetAndBOM: a UTF-8 byte order mark wins over --charset; a file that
// cannot be UTF-16 is refused under --charset utf-16 rather than read as CJK garbage.
func TestDecodeInput_charsetAndBOM(t *testing.T) {
	utf16le := func(s string) string {
		var b []byte
		for _, r := range s {
			b = append(b, byte(r), 0)
		}
		return string(b)
	}
	for _, tt := range []struct {
		name, charset, in, want, err string
	}{
		{"UTF-8 BOM under utf-16", "utf-16", "\uFEFFid,text\nhi,Zoë\n", "id,text\nhi,Zoë\n", ""},
		{"UTF-8 BOM under windows-1252", "windows-1252", "\uFEFFid,text\nhi,Zoë\n", "id,text\nhi,Zoë\n", ""},
		{"UTF-16 without a BOM", "utf-16", utf16le("id,text\n"), "id,text\n", ""},
		{"UTF-16 with a BOM", "utf-16", "\xFF\xFE" + utf16le("id\n"), "id\n", ""},
		{"ASCII under utf-16", "utf-16", "id,text\nhi,there\n", "", "f.csv:1: the file is not UTF-16, as --charset says"},
		{"an empty file under utf-16", "utf-16", "", "", ""},
	} {
		enc, err := charsetFor(tt.charset)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(decodeInput(strings.NewReader(tt.in), "f.csv", enc))
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: %q, %v; want an error %q", tt.name, got, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"msisdn,name\n":                               ',',
		"msisdn;name;city\n":                          ';',
		"msisdn\tname\n":                              '\t',
		"msisdn\n":                                    ',',
		`"a;b",c` + "\n":                              ',',
		"\"a,b,c\";d;e\r\n1,2,3\n":                    ';',
		"Telefon;Name, Vorname\n":                     ';',  // a tie, no data: the semicolon
		"Telefon;Name, Vorname\n+491711;Mayer, A\n":   ';',  // the data agree with both
		"Telefon\tName, Vorname\n+491711\tMayer, A\n": '\t', // Excel's "Unicode text"
		"msisdn,name\t\n+491711,Anna\n":               ',',  // a stray tab: the data have commas
		"a;b,c\n1;2,3;4\n5;6,7;8\n":                   ',',  // the data side with the comma
		"a\tb;c\n1\t2;3\n":                            '\t', // all agree: the order, tab first
	} {
		table, err := openTable(strings.NewReader(in), "f", nil, 0)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if table.csv.Comma != want {
			t.Errorf("%q: delimiter %q, want %q", in, table.csv.Comma, want)
		}
	}
}

func TestCheckCharset(t *testing.T) {
	for _, ok := range []string{"", "UTF-8", "utf8", "windows-1252", "CP1252", "iso-8859-1", "latin1", "macintosh", "Mac-Roman", "utf-16", "UTF-16LE", "utf-16be"} {
		if err := CheckCharset(ok); err != nil {
			t.Errorf("CheckCharset(%q): %v", ok, err)
		}
	}
	if err := CheckCharset("ebcdic"); err == nil || !strings.Contains(err.Error(), "--charset") {
		t.Errorf("CheckCharset(ebcdic) = %v", err)
	}
}

// Names with a comma or semicolon are quoted in messages: joined by ", " they would hide where
// one ends.
func TestShown_delimiters(t *testing.T) {
	for in, want := range map[string]string{"Name": "Name", "Telefon;Name": `"Telefon;Name"`, "Name, Vorname": `"Name, Vorname"`} {
		if got := shown(in); got != want {
			t.Errorf("shown(%q) = %s, want %s", in, got, want)
		}
	}
}
