package csvin_test

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"smscast/csvin"
	"smscast/smpp/coding"
)

// rows reads every row of cfg.
func rows(t *testing.T, cfg csvin.Config) []csvin.Row {
	t.Helper()
	r, err := csvin.Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	var out []csvin.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, row)
	}
}

const campaignTemplates = "id,text,from\n" +
	"greet,Hello {{name}},\n" +
	"promo,Hi {{name|there}}: 20% off,Shop\n" +
	"code,Your code is {{code}},12345\n"

func TestReader_templatesAndSenders(t *testing.T) {
	templates := writeFile(t, "templates.csv", []byte(campaignTemplates))
	recipients := writeFile(t, "r.csv", []byte("msisdn,name,code,template,from\n"+
		"+49 171 1000001,Anna,1,,\n"+ // the default template, --from
		"+49 171 1000002,Ben,2,promo,\n"+ // the template's sender
		"+49 171 1000003,,3,promo,+49 171 9999999\n"+ // the row's sender wins; fallback
		"+49 171 1000004,Dan,4,code,\n"+ // short code sender
		"+49 171 1000005,Eve,5,nope,\n"+ // unknown template
		"+49 171 1000006,Fay,6,greet,Way Too Long Sender\n")) // bad sender
	cfg := csvin.Config{Recipients: recipients, Templates: templates, Template: "greet", From: "Acme"}
	got := rows(t, cfg)
	want := []struct {
		template, from string
		ton, npi       uint8
		status         csvin.RowStatus
		text           string
	}{
		{"greet", "Acme", 5, 0, csvin.StatusOK, "Hello Anna"},
		{"promo", "Shop", 5, 0, csvin.StatusOK, "Hi Ben: 20% off"},
		{"promo", "491719999999", 1, 1, csvin.StatusOK, "Hi there: 20% off"},
		{"code", "12345", 3, 0, csvin.StatusOK, "Your code is 4"},
		{"", "", 0, 0, csvin.StatusInvalid, ""},
		{"greet", "", 0, 0, csvin.StatusInvalid, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Template != w.template || g.From != w.from || g.SourceTON != w.ton || g.SourceNPI != w.npi || g.Status != w.status || g.Text != w.text {
			t.Errorf("row %d: template %q from %q %d/%d %s %q (%s); want %q %q %d/%d %s %q",
				i+1, g.Template, g.From, g.SourceTON, g.SourceNPI, g.Status, g.Text, g.Reason, w.template, w.from, w.ton, w.npi, w.status, w.text)
		}
	}
	if k := csvin.Kind(got[4].Err); k != csvin.ErrUnknownTemplate {
		t.Errorf("row 5 kind %v, want ErrUnknownTemplate", k)
	}
	if k := csvin.Kind(got[5].Err); k != csvin.ErrBadSender {
		t.Errorf("row 6 kind %v, want ErrBadSender", k)
	}

	// --source-ton and --source-npi override the choice.
	ton, npi := uint8(2), uint8(9)
	cfg.SourceTON, cfg.SourceNPI = &ton, &npi
	if row := rows(t, cfg)[0]; row.SourceTON != 2 || row.SourceNPI != 9 {
		t.Errorf("override: %d/%d, want 2/9", row.SourceTON, row.SourceNPI)
	}
}

func TestReader_duplicatesAndOptOuts(t *testing.T) {
	recipients := writeFile(t, "r.csv", []byte("msisdn,name\n"+
		"+49 171 1000001,Anna\n"+
		"0049 171 1000001,Anna again\n"+ // same number, other form
		"+49 171 1000002,\n"+ // invalid (empty name): does not claim the number
		"491711000002,Ben\n"+ // so this one is sent
		"+49 171 1000003,Opted out\n"))
	optOutList := writeFile(t, "stop.txt", []byte("+49 171 1000003\n"))
	optOutCSV := writeFile(t, "stop.csv", []byte("name;Mobile\nX;0049 171 1000003\n"))
	type result struct {
		status csvin.RowStatus
		reason string
	}
	tests := []struct {
		name string
		cfg  func(*csvin.Config)
		want []result
	}{
		{"duplicates skipped", nil, []result{
			{csvin.StatusOK, ""}, {csvin.StatusDuplicate, "same number as row 1"}, {csvin.StatusInvalid, ""}, {csvin.StatusOK, ""}, {csvin.StatusOK, ""},
		}},
		{"--allow-duplicates", func(c *csvin.Config) { c.AllowDuplicates = true }, []result{
			{csvin.StatusOK, ""}, {csvin.StatusOK, ""}, {csvin.StatusInvalid, ""}, {csvin.StatusOK, ""}, {csvin.StatusOK, ""},
		}},
		{"--exclude list", func(c *csvin.Config) { c.Exclude = optOutList }, []result{
			{csvin.StatusOK, ""}, {csvin.StatusDuplicate, "same number as row 1"}, {csvin.StatusInvalid, ""}, {csvin.StatusOK, ""}, {csvin.StatusExcluded, "on the opt-out list " + optOutList},
		}},
		{"--exclude CSV", func(c *csvin.Config) { c.Exclude = optOutCSV }, []result{
			{csvin.StatusOK, ""}, {csvin.StatusDuplicate, "same number as row 1"}, {csvin.StatusInvalid, ""}, {csvin.StatusOK, ""}, {csvin.StatusExcluded, "on the opt-out list " + optOutCSV},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := csvin.Config{Recipients: recipients, Text: "Hi {{name}}"}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			got := rows(t, cfg)
			if len(got) != len(tt.want) {
				t.Fatalf("%d rows, want %d", len(got), len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].Status != w.status || (w.reason != "" && got[i].Reason != w.reason) {
					t.Errorf("row %d: %s %q, want %s %q", i+1, got[i].Status, got[i].Reason, w.status, w.reason)
				}
				// An excluded row is rendered all the same, for a resume that finds it sent
				// by an earlier run.
				if got[i].Status == csvin.StatusExcluded && (got[i].Template == "" || len(got[i].Message.Parts) != 1 || !strings.HasPrefix(got[i].Text, "Hi ")) {
					t.Errorf("excluded row %d: template %q, text %q, %d parts; want it rendered", i+1, got[i].Template, got[i].Text, len(got[i].Message.Parts))
				}
			}
		})
	}
}

// TestReader_shards checks that shards split the rows without overlap or gap, and that each
// marks the same duplicates as a run over the whole file.
func TestReader_shards(t *testing.T) {
	var b strings.Builder
	b.WriteString("msisdn\n")
	for i := 1; i <= 20; i++ {
		n := 1000000 + i
		if i%7 == 0 {
			n = 1000000 + i - 5 // a duplicate of a row in another shard
		}
		b.WriteString("+49 171 " + strconv.Itoa(n) + "\n")
	}
	recipients := writeFile(t, "r.csv", []byte(b.String()))
	all := rows(t, csvin.Config{Recipients: recipients, Text: "Hi"})
	seen := map[int]csvin.RowStatus{}
	for k := 1; k <= 3; k++ {
		for _, row := range rows(t, csvin.Config{Recipients: recipients, Text: "Hi", Shard: csvin.Shard{Index: k, Count: 3}}) {
			if (row.Num-1)%3+1 != k {
				t.Errorf("shard %d/3 has row %d", k, row.Num)
			}
			if _, dup := seen[row.Num]; dup {
				t.Errorf("row %d in two shards", row.Num)
			}
			seen[row.Num] = row.Status
		}
	}
	if len(seen) != len(all) {
		t.Fatalf("shards hold %d rows, the file %d", len(seen), len(all))
	}
	for _, row := range all {
		if seen[row.Num] != row.Status {
			t.Errorf("row %d: %s in its shard, %s in the whole file", row.Num, seen[row.Num], row.Status)
		}
	}
}

// A character the encoding cannot take is named where it is: a cell of the row (the row's
// line and the cell's column), the text of a template (its file and line), or --text; with
// --to, the number the row is for.
func TestReader_notEncodableSaysWhere(t *testing.T) {
	recipients := writeFile(t, "r.csv", []byte("msisdn,name,template\n+49 171 1234567,\u0141ukasz,plain\n+49 171 1234568,Ann,party\n"))
	templates := writeFile(t, "t.csv", []byte("id,text\nplain,Hi {{name}}\nparty,Hi {{name}} \U0001F389\n"))
	got := rows(t, csvin.Config{Recipients: recipients, Templates: templates, Coding: coding.Options{Encoding: coding.GSM7}})
	want := []string{
		recipients + `:2:17: character 'Ł' (U+0141) at position 4 cannot be encoded in gsm7: use --encoding auto or ucs2, or --transliterate if it is a look-alike of a GSM character (it is in column "name")`,
		recipients + `:3: character '🎉' (U+1F389) at position 8 cannot be encoded in gsm7: use --encoding auto or ucs2, or --transliterate if it is a look-alike of a GSM character (it is in the text of template "party", which begins at ` + templates + `:3:7)`,
	}
	if len(got) != 2 {
		t.Fatalf("%d rows, want 2", len(got))
	}
	for i, row := range got {
		if row.Err == nil || row.Err.Error() != want[i] {
			t.Errorf("row %d: %v\nwant %s", row.Num, row.Err, want[i])
		}
	}
	got = rows(t, csvin.Config{To: []string{"+49 171 1234567"}, Text: "Hi \U0001F389", Coding: coding.Options{Encoding: coding.GSM7}})
	if len(got) != 1 || got[0].Err == nil || !strings.HasPrefix(got[0].Err.Error(), "--to +49 171 1234567: character '🎉'") || !strings.HasSuffix(got[0].Err.Error(), "(it is in --text)") {
		t.Errorf("--to: %+v, want the number and --text named", got)
	}
}

func TestReader_toAndStdin(t *testing.T) {
	got := rows(t, csvin.Config{To: []string{"+49 171 1234567", "0171 123"}, Text: "Hi {{msisdn}}"})
	if len(got) != 2 || got[0].Status != csvin.StatusOK || got[0].Text != "Hi +49 171 1234567" || got[0].Line != 0 {
		t.Fatalf("--to rows: %+v", got)
	}
	if got[1].Status != csvin.StatusInvalid || got[1].Err.Error() != `--to: number "0171 123" has no country code; write it as +<country code><number> or use --default-region (e.g. DE)` {
		t.Errorf("--to invalid row: %v", got[1].Err)
	}
	got = rows(t, csvin.Config{Recipients: "-", Stdin: strings.NewReader("phone\n+44 7911 123456\n"), Text: "Hi"})
	if len(got) != 1 || got[0].MSISDN != "447911123456" {
		t.Fatalf("stdin rows: %+v", got)
	}
}

func TestReader_encoding(t *testing.T) {
	recipients := writeFile(t, "r.csv", []byte("msisdn,text\n"+
		"+49 171 1000001,plain\n"+
		"+49 171 1000002,“curly” – quotes…\n"+
		"+49 171 1000003,emoji 👋\n"+
		"+49 171 1000004,"+strings.Repeat("long ", 40)+"\n"))
	tests := []struct {
		name      string
		cfg       func(*csvin.Config)
		encodings []string // "" for an invalid row
		parts     []int
		translit  []bool
	}{
		{"auto", nil, []string{"gsm7", "ucs2", "ucs2", "gsm7"}, []int{1, 1, 1, 2}, []bool{false, false, false, false}},
		{"transliterate", func(c *csvin.Config) { c.Transliterate = true }, []string{"gsm7", "gsm7", "ucs2", "gsm7"}, []int{1, 1, 1, 2}, []bool{false, true, false, false}},
		{"gsm7 only", func(c *csvin.Config) { c.Coding.Encoding = coding.GSM7 }, []string{"gsm7", "", "", "gsm7"}, []int{1, 0, 0, 2}, nil},
		{"max parts", func(c *csvin.Config) { c.Coding.MaxParts = 1 }, []string{"gsm7", "ucs2", "ucs2", ""}, []int{1, 1, 1, 0}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := csvin.Config{Recipients: recipients, Text: "{{text}}"}
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			for i, row := range rows(t, cfg) {
				enc := ""
				if row.Status == csvin.StatusOK {
					enc = row.Message.Encoding.String()
				}
				if enc != tt.encodings[i] || len(row.Message.Parts) != tt.parts[i] {
					t.Errorf("row %d: %q %d parts (%s), want %q %d", i+1, enc, len(row.Message.Parts), row.Reason, tt.encodings[i], tt.parts[i])
				}
				if tt.translit != nil && row.Transliterated != tt.translit[i] {
					t.Errorf("row %d: transliterated %v", i+1, row.Transliterated)
				}
			}
		})
	}
	// The transliterated row says what it saved: nothing in parts here (one UCS-2 part
	// becomes one GSM part), but the text is GSM now.
	row := rows(t, csvin.Config{Recipients: recipients, Text: "{{text}}", Transliterate: true})[1]
	if row.Text != `"curly" - quotes...` || row.SavedParts != 0 {
		t.Errorf("transliterated row: %q saved %d", row.Text, row.SavedParts)
	}
}

// TestReader_concatenationReference checks that each row's parts carry its own reference,
// so that two long messages to one handset are never joined.
// RefOffset shifts every reference (a campaign's own), wrapping around; an 8-bit reference
// keeps the low byte.
func TestReader_concatenationReference(t *testing.T) {
	long := strings.Repeat("x", 300)
	recipients := writeFile(t, "r.csv", []byte("msisdn\n+49 171 1000001\n+49 171 1000002\n"))
	for _, tt := range []struct {
		split  coding.Split
		offset uint16
		want   func(row int) uint16
	}{
		{coding.SplitUDH, 0, func(row int) uint16 { return uint16(row) }},
		{coding.SplitUDH, 300, func(row int) uint16 { return uint16(row+300) & 0xFF }},
		{coding.SplitUDH16, 65535, func(row int) uint16 { return uint16(row - 1) }},
	} {
		cfg := csvin.Config{Recipients: recipients, Text: long, RefOffset: tt.offset}
		cfg.Coding.Split = tt.split
		for _, row := range rows(t, cfg) {
			ref, total, seq, _, ok := coding.ParseUDH(row.Message.Parts[0].ShortMessage)
			if !ok || ref != tt.want(row.Num) || total != 2 || seq != 1 {
				t.Errorf("%v, offset %d, row %d: UDH ref %d total %d seq %d ok %v; want ref %d", tt.split, tt.offset, row.Num, ref, total, seq, ok, tt.want(row.Num))
			}
		}
	}
}

func TestReader_stdinErrorsNameStdin(t *testing.T) {
	got := rows(t, csvin.Config{Recipients: "-", Stdin: strings.NewReader("msisdn\n0171\n"), Text: "Hi"})
	if len(got) != 1 || got[0].Err == nil || !strings.HasPrefix(got[0].Err.Error(), "stdin:2:1: ") {
		t.Fatalf("rows %+v", got)
	}
}
