package smpp

import (
	"fmt"
	"testing"
)

func TestSameMessageID(t *testing.T) {
	tests := []struct {
		a, b                  string
		auto, hex, dec, exact bool
	}{
		{"5f1e0b7a", "5f1e0b7a", true, true, true, true},
		{"3f3a6fac-0a1b", "3F3A6FAC-0A1B", true, true, true, false},                                               // case (jasmin #625)
		{"0000029095", "29095", true, true, true, false},                                                          // leading zeros
		{"0", "0000", true, true, true, false},                                                                    // zero
		{"5f1e0b7a", "1595804538", true, true, false, false},                                                      // hex resp, decimal receipt
		{"1595804538", "5F1E0B7A", true, true, false, false},                                                      // the other way round
		{"12345", "74565", false, true, false, false},                                                             // hex without letters
		{"10", "16", false, true, false, false},                                                                   // hex "10" = 16
		{"0a1", "A1", true, true, false, false},                                                                   // hex, zero-padded
		{"42", "43", false, false, false, false},                                                                  // different numbers
		{"1f", "30", false, false, false, false},                                                                  // 0x1f = 31, not 30
		{"74e02ee1-4e2f", "74e02ee14e2f", false, false, false, false},                                             // punctuation matters
		{"a29f6845555647139e5c8f3b817f2c9a", "216162625381415931366537240287939341466", true, true, false, false}, // 128-bit
		{"", "", false, false, false, false},
		{"", "0", false, false, false, false},
		{" 42 ", "42", true, true, true, false}, // surrounding space
		{"g1", "G1", true, true, true, false},
		{"g1", "1", false, false, false, false},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			f    IDFormat
			want bool
		}{{IDAuto, tt.auto}, {IDHex, tt.hex}, {IDDec, tt.dec}, {IDExact, tt.exact}} {
			if got := SameMessageID(tt.a, tt.b, c.f); got != c.want {
				t.Errorf("SameMessageID(%q, %q, %v) = %v, want %v", tt.a, tt.b, c.f, got, c.want)
			}
			if got := SameMessageID(tt.b, tt.a, c.f); got != c.want {
				t.Errorf("SameMessageID(%q, %q, %v) = %v, want %v (swapped)", tt.b, tt.a, c.f, got, c.want)
			}
			if got := keysIntersect(MessageIDKeys(tt.a, c.f), MessageIDKeys(tt.b, c.f)); got != c.want {
				t.Errorf("keys of %q and %q under %v intersect = %v, want %v", tt.a, tt.b, c.f, got, c.want)
			}
		}
	}
}

func keysIntersect(a, b []string) bool {
	set := map[string]bool{}
	for _, k := range a {
		set[k] = true
	}
	for _, k := range b {
		if set[k] {
			return true
		}
	}
	return false
}

func TestMessageIDKeys(t *testing.T) {
	id := "00AB"
	keys := MessageIDKeys(id, IDAuto)
	if len(keys) == 0 || keys[0] != id {
		t.Fatalf("keys = %q: the exact id must come first", keys)
	}
	if id != "00AB" {
		t.Fatal("id altered")
	}
	if got := MessageIDKeys("x", IDExact); len(got) != 1 || got[0] != "x" {
		t.Errorf("exact keys = %q", got)
	}
	long := fmt.Sprintf("%0200d", 7)
	if got := MessageIDKeys(long, IDAuto); len(got) != 2 {
		t.Errorf("a 200-digit id got %d keys; numbers that long are not converted", len(got))
	}
}

func TestParseIDFormat(t *testing.T) {
	for _, f := range []IDFormat{IDAuto, IDHex, IDDec, IDExact} {
		got, err := ParseIDFormat(f.String())
		if err != nil || got != f {
			t.Errorf("ParseIDFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	if got, err := ParseIDFormat("HEX"); err != nil || got != IDHex {
		t.Errorf("ParseIDFormat(HEX) = %v, %v", got, err)
	}
	if _, err := ParseIDFormat("base64"); err == nil {
		t.Error("ParseIDFormat(base64): no error")
	}
}
