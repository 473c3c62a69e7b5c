package csvin

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzReader feeds arbitrary bytes to the whole reading path (charset, delimiter detection,
// CSV, numbers, templates, encoding). It must never panic, must end, and every error must be
// one line.
func FuzzReader(f *testing.F) {
	f.Add([]byte("msisdn,name\n+49 171 1234567,Anna\n"), uint8(0))
	f.Add([]byte("\ufeffmsisdn;name\r\n0171 1234567;\"A;\"\"B\"\"\n\"\r\n"), uint8(1))
	f.Add([]byte("phone\tname\n+44 7911 123456\t\xe9\n"), uint8(2))
	f.Add([]byte("\xff\xfem\x00s\x00i\x00s\x00d\x00n\x00\n\x00"), uint8(3))
	f.Add([]byte("to,template,from\n+1 202 555 0123,x,Shop\n,,\n"), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, options uint8) {
		cfg := Config{Recipients: "-", Stdin: bytes.NewReader(data), Text: "Hi {{msisdn|x}}", AllowEmpty: options&1 != 0}
		cfg.Charset = []string{"", "windows-1252", "utf-16", ""}[options>>1&3]
		if options&8 != 0 {
			cfg.DefaultRegion = "DE"
		}
		if options&16 != 0 {
			cfg.Transliterate = true
		}
		cfg.Coding.MaxParts = 1 + int(options>>5)
		r, err := Open(cfg)
		if err != nil {
			oneLine(t, err)
			return
		}
		defer r.Close()
		last := 0
		for range len(data) + 2 {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				oneLine(t, err)
				return
			}
			if row.Num <= last {
				t.Fatalf("row %d after row %d", row.Num, last)
			}
			last = row.Num
			if row.Err != nil {
				oneLine(t, row.Err)
			}
			if row.Status == StatusOK && len(row.Message.Parts) == 0 {
				t.Fatalf("row %d is ok without parts", row.Num)
			}
		}
		t.Fatalf("more rows than bytes: the reader does not end")
	})
}

func oneLine(t *testing.T, err error) {
	t.Helper()
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line: %q", err)
	}
}

// FuzzRender parses arbitrary template text and renders it with arbitrary cells.
func FuzzRender(f *testing.F) {
	f.Add("Hi {{name}}, {{city|somewhere}}!", "Anna")
	f.Add("{{a}}{{b|}}{{ c | d }}", "")
	f.Add("{{x", "{{x}}")
	f.Add("}}{{|}}", "\x00")
	f.Fuzz(func(t *testing.T, text, cell string) {
		pieces, err := parseTemplate(text)
		if err != nil {
			oneLine(t, err)
			return
		}
		// A header with every column the template names, so that binding succeeds.
		var header []string
		placeholders := false
		for _, p := range pieces {
			if p.name != "" {
				header = append(header, p.name)
				placeholders = true
			}
		}
		tb := &table{file: "r.csv", header: header, fields: len(header)}
		tp := &template{id: "t", file: "t.csv", pieces: pieces}
		singleBraces := false // a column written {name}: refused, as it would be sent so
		for _, p := range pieces {
			singleBraces = singleBraces || p.name == "" && singleBraced(p.text, tb) != ""
		}
		if err := tp.bind(tb); err != nil || singleBraces {
			if err == nil || !singleBraces {
				t.Fatalf("bind with every column present: %v", err)
			}
			oneLine(t, err)
			return
		}
		rec := make([]string, len(header))
		for i := range rec {
			rec[i] = cell
		}
		out, err := tp.render(nil, rec, false)
		if err != nil {
			var empty errEmptyCell
			if !errors.As(err, &empty) || !blank(strings.TrimSpace(cell)) {
				t.Fatalf("render: %v", err)
			}
			return
		}
		if !placeholders && string(out) != text {
			t.Fatalf("a text without placeholders rendered as %q, want %q", out, text)
		}
	})
}
