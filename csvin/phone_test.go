package csvin

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestNumbers_normalize(t *testing.T) {
	tests := []struct {
		region, cell, want, err string
	}{
		{"", "+49 171 1234567", "491711234567", ""},
		{"", "0049 171 1234567", "491711234567", ""},
		{"", "491711234567", "491711234567", ""},
		{"", "+49 (0) 171 123-4567", "491711234567", ""},
		{"", " +44 7911 123456 ", "447911123456", ""},
		{"", "+1 (202) 555-0123", "12025550123", ""},
		{"", "+39 06 1234 5678", "390612345678", ""}, // Italian leading zero is kept
		{"DE", "0171 1234567", "491711234567", ""},
		{"DE", "491711234567", "491711234567", ""}, // bare digits are international even with a region
		{"GB", "07911 123456", "447911123456", ""},
		{"", "0171 1234567", "", `number "0171 1234567" has no country code; write it as +<country code><number> or use --default-region (e.g. DE)`},
		{"", "", "", "the number is empty; fill it in or delete the row"},
		{"", "+49 171 12", "", `invalid number "+49 171 12": not a valid number for DE (+49); check the digits and the country code`},
		{"", "4.91711E+11", "", `number "4.91711E+11" is in scientific notation (a spreadsheet turned it into a number); format the column as text and export again`},
		{"", "491711234567.0", "", `number "491711234567.0" ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again`},
		{"DE", "01711234567.00", "", `number "01711234567.00" ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again`},
		{"FR", "06.12.34.56.70", "33612345670", ""}, // points as separators
		{"", "+49 171\n1234567", "", `number "+49 171\n1234567" is broken over lines; put it on one line`},
		{"", "+49 171 1234567 ext. 5", "", `number "+49 171 1234567 ext. 5" contains 'e'; a number may hold only digits, spaces and + - ( ) . /`},
		{"", "+999 1234567", "", `invalid number "+999 1234567": unknown country code; check the first digits`},
		{"", "1", "", `invalid number "1": not a phone number; check the digits`},
		{"", "+49 1", "", `invalid number "+49 1": too short; check the digits`},
		{"", "+49 171 1234567890123456", "", `invalid number "+49 171 1234567890123456": too long; check the digits`},
		{"", "--", "", `"--" has no digits; fill in the number`},
		{"", "(+49) 171 1234567", "491711234567", ""},                 // the country code in brackets
		{"", "\u200b+49 171 1234567\ufeff", "491711234567", ""},       // pasted with invisible characters
		{"", "\u202a+49 171 1234567\u202c\u200e", "491711234567", ""}, // bidi marks an app wrapped around it
		{"", "+49 171 +1234567", "", `number "+49 171 +1234567" has a + after its start; write + only once, before the country code`},
	}
	for _, tt := range tests {
		t.Run(tt.region+"/"+tt.cell, func(t *testing.T) {
			n, err := newNumbers(tt.region)
			if err != nil {
				t.Fatal(err)
			}
			got, err := n.normalize(tt.cell)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || !errors.Is(err, ErrInvalidNumber) {
					t.Fatalf("normalize(%q) = %q, %v; want error %q", tt.cell, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalize(%q) = %q, %v; want %q", tt.cell, got, err, tt.want)
			}
		})
	}
}

func TestNewNumbers_unknownRegion(t *testing.T) {
	_, err := newNumbers("XX")
	if err == nil || !strings.Contains(err.Error(), "--default-region") {
		t.Fatalf("newNumbers(XX) = %v; want an error naming --default-region", err)
	}
}

func BenchmarkNumbers_normalize(b *testing.B) {
	for _, bench := range []struct{ name, format string }{
		{"fast", "+49171%07d"},
		{"national", "0171%07d"},
	} {
		b.Run(bench.name, func(b *testing.B) {
			n, err := newNumbers("DE")
			if err != nil {
				b.Fatal(err)
			}
			cells := make([]string, 1000)
			for i := range cells {
				cells[i] = strings.Replace(bench.format, "%07d", strconv.Itoa(1000000+i*7919), 1)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := n.normalize(cells[i%len(cells)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The sender of an opt-out is read by its type of number; a national one without a region
// to read it in is refused rather than read as another country's number.
func TestSenderNormalizer(t *testing.T) {
	tests := []struct {
		region, sender string
		ton            uint8
		want           []string // nil: refused
	}{
		{"", "33612345678", 1, []string{"33612345678"}},
		{"DE", "33612345678", 1, []string{"33612345678"}},
		{"DE", "01711234567", 2, []string{"491711234567"}},
		{"US", "2015550123", 2, []string{"12015550123"}},
		{"", "15123456789", 2, nil}, // national, no region: not the US number it would read as
		{"", "+491711234567", 2, []string{"491711234567"}},
		{"DE", "12", 0, nil},
	}
	for _, tt := range tests {
		norm, err := SenderNormalizer(tt.region)
		if err != nil {
			t.Fatal(err)
		}
		got, err := norm(tt.sender, tt.ton)
		if !slices.Equal(got, tt.want) || (tt.want == nil) != (err != nil) {
			t.Errorf("region %q, %q (TON %d) = %q, %v; want %q", tt.region, tt.sender, tt.ton, got, err, tt.want)
		}
	}
}
