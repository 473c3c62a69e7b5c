package smpp

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
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
		{"12345678", "305419896", true, true, false, false},                                                       // hex without letters
		{"12345", "74565", true, true, false, false},                                                              // hex without letters
		{"0012345", "74565", true, true, false, false},                                                            // ... zero-padded
		{"10", "16", true, true, false, false},                                                                    // hex "10" = 16
		{"10", "0a", true, true, false, false},                                                                    // decimal 10 = hex "a"
		{"7", "07", true, true, true, false},                                                                      // one digit: same in both bases
		{"0a1", "A1", true, true, false, false},                                                                   // hex, zero-padded
		{"42", "43", false, false, false, false},                                                                  // different numbers
		{"1f", "30", false, false, false, false},                                                                  // 0x1f = 31, not 30
		{"12", "1c", false, false, false, false},                                                                  // 0x1c = 28; "12" reads 12 or 0x12 = 18
		{"74e02ee1-4e2f", "74e02ee14e2f", false, false, false, false},                                             // punctuation matters
		{"a29f6845555647139e5c8f3b817f2c9a", "216162625381415931366537240287939341466", true, true, false, false}, // 128-bit
		{"12345678901234567890", "85968058271978839505040", true, true, false, false},                             // 20 hex digits, no letter
		{"", "", false, false, false, false},
		{"", "0", false, false, false, false},
		{" 42 ", "42", true, true, true, false}, // surrounding space
		{"g1", "G1", true, true, true, false},
		{"g1", "1", false, false, false, false},
		{"ÄB", "äb", true, true, true, false},          // Unicode case
		{"\xff1", "\xfe1", false, false, false, false}, // invalid UTF-8 is not folded
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
	for _, k := range a {
		if slices.Contains(b, k) {
			return true
		}
	}
	return false
}

// readable spells a key's namespace: "c:" case-folded, "n:" numeric, "x:" cross-base.
func readable(keys []string) string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if strings.HasPrefix(k, "\x00") && len(k) >= 2 {
			k = k[1:2] + ":" + k[2:]
		}
		out[i] = k
	}
	return strings.Join(out, " ")
}

// TestMessageIDKeys pins the keys and their order, which is the match precedence.
func TestMessageIDKeys(t *testing.T) {
	tests := []struct {
		id   string
		f    IDFormat
		want string
	}{
		{"5F1E0B7A", IDAuto, "5F1E0B7A c:5f1e0b7a n:1595804538"},
		{"5F1E0B7A", IDHex, "5F1E0B7A c:5f1e0b7a n:1595804538"},
		{"5F1E0B7A", IDDec, "5F1E0B7A c:5f1e0b7a"},
		{"5F1E0B7A", IDExact, "5F1E0B7A"},
		{"0012345678", IDAuto, "0012345678 c:0012345678 n:12345678 x:12345678 x:305419896"},
		{"0012345678", IDHex, "0012345678 c:0012345678 n:12345678 n:305419896"},
		{"0012345678", IDDec, "0012345678 c:0012345678 n:12345678"},
		{"007", IDAuto, "007 c:007 n:7 x:7"},
		{"007", IDHex, "007 c:007 n:7"},
		{"000", IDAuto, "000 c:000 n:0 x:0"},
		{" Ab-1 ", IDAuto, " Ab-1  c:ab-1"},
		{"   ", IDAuto, "   "},
		{"ÄB", IDAuto, "ÄB c:äb"},
		{"ffffffffffffffff", IDAuto, "ffffffffffffffff c:ffffffffffffffff n:18446744073709551615"},
		{"10000000000000000", IDAuto, "10000000000000000 c:10000000000000000 n:10000000000000000 x:10000000000000000 x:18446744073709551616"},
		{"ffffffffffffffffffffffffffffffff", IDAuto, "ffffffffffffffffffffffffffffffff c:ffffffffffffffffffffffffffffffff n:340282366920938463463374607431768211455"},
		{"10000000000000000000000000000000", IDDec, "10000000000000000000000000000000 c:10000000000000000000000000000000 n:10000000000000000000000000000000"},
		{"1000000000000000000000000000000a", IDAuto, "1000000000000000000000000000000a c:1000000000000000000000000000000a n:21267647932558653966460912964485513226"},
		{"00000000000000000000000000000000a", IDAuto, "00000000000000000000000000000000a c:00000000000000000000000000000000a n:10"},
		{"100000000000000000000000000000000", IDHex, "100000000000000000000000000000000 c:100000000000000000000000000000000 n:100000000000000000000000000000000 n:340282366920938463463374607431768211456"},
		{"", IDAuto, ""},
	}
	for _, tt := range tests {
		if got := readable(MessageIDKeys(tt.id, tt.f)); got != tt.want {
			t.Errorf("MessageIDKeys(%q, %v) = %q, want %q", tt.id, tt.f, got, tt.want)
		}
	}
	long := fmt.Sprintf("%0200d", 7)
	if got := MessageIDKeys(long, IDAuto); len(got) != 2 {
		t.Errorf("a 200-digit id got %d keys; numbers that long are not converted", len(got))
	}
}

// resolve finds which of the stored ids a receipt id refers to the way package report does:
// the receipt's keys in order, the first key that finds any stored id decides, and two ids
// found by that key are ambiguous (""). None found is "-".
func resolve(stored []string, rx string, f IDFormat) string {
	for _, k := range MessageIDKeys(rx, f) {
		var found []string
		for _, id := range stored {
			if slices.Contains(MessageIDKeys(id, f), k) {
				found = append(found, id)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0]
		}
		return ""
	}
	return "-"
}

// TestMessageIDKeys_Precedence checks that the looser readings only decide when nothing
// more specific fits.
func TestMessageIDKeys_Precedence(t *testing.T) {
	tests := []struct {
		name   string
		f      IDFormat
		stored []string
		rx     string
		want   string // the stored id; "" ambiguous; "-" none
	}{
		{"hex without letters, decimal receipt", IDAuto, []string{"12345678", "5f1e0b7a"}, "305419896", "12345678"},
		{"decimal resp, hex receipt without letters", IDAuto, []string{"305419896"}, "12345678", "305419896"},
		{"exact beats the hex reading", IDAuto, []string{"256", "100"}, "256", "256"},
		{"zero padding beats the hex reading", IDAuto, []string{"0256", "100"}, "256", "0256"},
		{"hex format: both readings tie", IDHex, []string{"0256", "100"}, "256", ""},
		{"hex reading when nothing else fits", IDAuto, []string{"100"}, "0256", "100"},
		{"decimal of a lettered hex id beats a digit-only reading", IDAuto, []string{"1a", "20"}, "26", "1a"},
		{"both cross readings: the receipt read as decimal first", IDAuto, []string{"10", "22"}, "16", "10"},
		{"dec format never reads hex", IDDec, []string{"100"}, "256", "-"},
	}
	for _, tt := range tests {
		if got := resolve(tt.stored, tt.rx, tt.f); got != tt.want {
			t.Errorf("%s: receipt %q among %q under %v resolved to %q, want %q", tt.name, tt.rx, tt.stored, tt.f, got, tt.want)
		}
	}
}

// sameByDefinition is SameMessageID written from its documentation, with math/big: equal
// ids; valid UTF-8 equal in lower case without surrounding space; or, for ids of at most maxNumericID
// characters, a common numeric reading (an all-digit id reads as decimal, and under IDAuto
// and IDHex as hex too; a hex id with a letter reads as hex unless f is IDDec).
func sameByDefinition(a, b string, f IDFormat) bool {
	switch {
	case a == "" || b == "":
		return false
	case a == b:
		return true
	case f == IDExact:
		return false
	}
	ta, tb := strings.TrimSpace(a), strings.TrimSpace(b)
	if ta != "" && utf8.ValidString(ta) && utf8.ValidString(tb) && strings.ToLower(ta) == strings.ToLower(tb) {
		return true
	}
	ra, rb := readings(ta, f), readings(tb, f)
	for _, x := range ra {
		for _, y := range rb {
			if x.Cmp(y) == 0 {
				return true
			}
		}
	}
	return false
}

func readings(s string, f IDFormat) []*big.Int {
	if s == "" || len(s) > maxNumericID || strings.ContainsAny(s, "+-_ xX") {
		return nil
	}
	var out []*big.Int
	if v, ok := new(big.Int).SetString(s, 10); ok {
		out = append(out, v)
		if f == IDDec {
			return out
		}
	} else if f == IDDec {
		return nil
	}
	if v, ok := new(big.Int).SetString(s, 16); ok {
		out = append(out, v)
	}
	return out
}

// FuzzSameMessageID compares SameMessageID and the key intersection with the definition.
func FuzzSameMessageID(f *testing.F) {
	f.Add("12345678", "305419896", uint8(0))
	f.Add("5F1E0B7A", "1595804538", uint8(0))
	f.Add("0a1", "A1", uint8(2))
	f.Add(" 42", "042 ", uint8(1))
	f.Add("a29f6845555647139e5c8f3b817f2c9a", "216162625381415931366537240287939341466", uint8(0))
	f.Add("12345678901234567890", "85968058271978839505040", uint8(4))
	f.Fuzz(func(t *testing.T, a, b string, format uint8) {
		fm := IDFormat(format % 4)
		want := sameByDefinition(a, b, fm)
		if got := SameMessageID(a, b, fm); got != want {
			t.Fatalf("SameMessageID(%q, %q, %v) = %v, want %v", a, b, fm, got, want)
		}
		if got := keysIntersect(MessageIDKeys(a, fm), MessageIDKeys(b, fm)); got != want && a != "" && b != "" {
			t.Fatalf("keys of %q and %q under %v intersect = %v, want %v", a, b, fm, got, want)
		}
	})
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

func TestIsCrossBaseKey(t *testing.T) {
	count := func(id string) (n int) {
		for _, k := range MessageIDKeys(id, IDAuto) {
			if IsCrossBaseKey(k) {
				n++
			}
		}
		return n
	}
	if n := count("1234"); n != 2 {
		t.Errorf("all-digit id: %d cross-base keys, want 2 (decimal and hex reading)", n)
	}
	if n := count("5f1e0b7a"); n != 0 {
		t.Errorf("hex id with letters: %d cross-base keys, want 0", n)
	}
	if IsCrossBaseKey("1234") {
		t.Error("an id itself is never a cross-base key")
	}
}
