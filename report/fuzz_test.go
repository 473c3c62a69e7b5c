package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"smscast/smpp"
)

// FuzzBook_Match checks the matching rules on arbitrary ids: a receipt never panics the book,
// only matches a row whose id is the same message (smpp.SameMessageID), and an id identical to
// exactly one accepted id always matches that row.
func FuzzBook_Match(f *testing.F) {
	f.Add("0012", "12", "012", uint8(0))
	f.Add("1A", "26", "001a", uint8(0))
	f.Add("1234", "4660", "1234", uint8(1))
	f.Add("abc", "ABC", "Abc", uint8(2))
	f.Add("x", "x", "x", uint8(3))
	f.Fuzz(func(t *testing.T, id1, id2, rx string, format uint8) {
		opt := Options{IDFormat: smpp.IDFormat(format % 4)}
		b := NewBook(opt)
		addSent(b, 2)
		b.Accepted(1, 0, id1, t0)
		b.Accepted(2, 0, id2, t0)
		matched := b.Receipt(rcpt(rx, smpp.StateDelivered), at(1))
		var got []int
		for r := range b.Rows() {
			if r.ReceiptStatus == "DELIVRD" {
				got = append(got, r.Row)
			}
		}
		if matched != (len(got) == 1) || len(got) > 1 {
			t.Fatalf("matched %v, rows delivered %v", matched, got)
		}
		ids := map[int]string{1: id1, 2: id2}
		if matched && !smpp.SameMessageID(ids[got[0]], rx, opt.IDFormat) {
			t.Fatalf("receipt %q matched row %d with id %q", rx, got[0], ids[got[0]])
		}
		if rx != "" && (rx == id1) != (rx == id2) {
			want := 1
			if rx == id2 {
				want = 2
			}
			if !matched || got[0] != want {
				t.Fatalf("receipt %q identical to row %d's id matched %v", rx, want, got)
			}
		}
		if !matched && len(b.Unmatched()) != 1 {
			t.Fatalf("unmatched receipt not kept")
		}
	})
}

// FuzzAppendCSVField checks the report's CSV writer against encoding/csv: any two cells come
// out byte for byte as csv.Writer writes them, and read back as themselves.
func FuzzAppendCSVField(f *testing.F) {
	for _, s := range []string{"", "plain", "a,b", `say "hi"`, "two\nlines", "cr\r", " lead", "\u00a0nbsp",
		`\.`, "\t tab", "'=1+2", "é,\"ü\"\r\n", "\xff\xfe"} {
		f.Add(s, "next")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var want bytes.Buffer
		cw := csv.NewWriter(&want)
		if err := cw.Write([]string{a, b}); err != nil {
			t.Skip() // csv.Writer refuses nothing for Comma ','; kept for safety
		}
		cw.Flush()
		got := append(appendCSVField(appendCSVField(nil, a, true), b, false), '\n')
		if string(got) != want.String() {
			t.Fatalf("cells %q %q: wrote %q, encoding/csv writes %q", a, b, got, want.String())
		}
		if !utf8.ValidString(a) || !utf8.ValidString(b) || strings.ContainsRune(a+b, '\r') {
			return // encoding/csv's reader changes CR and invalid UTF-8; its writer is the reference
		}
		rec, err := csv.NewReader(bytes.NewReader(got)).Read()
		if err != nil || len(rec) != 2 || rec[0] != a || rec[1] != b {
			t.Fatalf("cells %q %q read back as %q (%v)", a, b, rec, err)
		}
	})
}

// FuzzSafeCell: whatever a cell holds, what SafeCell makes of it is valid UTF-8 without a
// control character a terminal would act on (only line feeds, tabs and CR before LF stay),
// does not start a formula unless it is a plain number, and is the cell itself when the cell
// was plain printable text that starts no formula.
func FuzzSafeCell(f *testing.F) {
	// The seeds live in testdata/fuzz/FuzzSafeCell.
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeCell(s)
		if !utf8.ValidString(got) {
			t.Fatalf("SafeCell(%q) = %q: not UTF-8", s, got)
		}
		for i, r := range got {
			if (r < 0x20 && r != '\n' && r != '\t' && !(r == '\r' && strings.HasPrefix(got[i+1:], "\n"))) || (r >= 0x7F && r <= 0x9F) {
				t.Fatalf("SafeCell(%q) = %q keeps control character %U", s, got, r)
			}
		}
		if got != "" && strings.ContainsRune("=+-@\t", rune(got[0])) && !plainNumber(got) {
			t.Fatalf("SafeCell(%q) = %q starts a formula", s, got)
		}
		plain := s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0]))
		for _, r := range s {
			plain = plain && r >= 0x20 && r != 0x7F && !(r >= 0x80 && r <= 0x9F) && r != utf8.RuneError && r != '\\'
		}
		if plain && got != s {
			t.Fatalf("SafeCell(%q) = %q changed a plain cell", s, got)
		}
		// Every escape reads back one way: the cell, less the apostrophe a formula gets.
		if back := unescapeCell(got); back != s && unescapeCell(strings.TrimPrefix(got, "'")) != s {
			t.Fatalf("SafeCell(%q) = %q reads back as %q", s, got, back)
		}
	})
}

// unescapeCell undoes escapeControls: \\, \xNN (a byte) and \uNNNN.
func unescapeCell(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case s[i+1] == 'x' && i+3 < len(s):
			n, _ := strconv.ParseUint(s[i+2:i+4], 16, 8)
			b.WriteByte(byte(n))
			i += 3
		case s[i+1] == 'u' && i+5 < len(s):
			n, _ := strconv.ParseUint(s[i+2:i+6], 16, 32)
			b.WriteRune(rune(n))
			i += 5
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
