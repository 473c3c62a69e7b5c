package coding

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// sheetBasic is SMPP.md §9.1 copied code point by code point (index = septet); slot 0x1B is
// the escape and has no character.
var sheetBasic = [128]rune{
	0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
	0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, -1, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
	0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
	0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
}

// sheetExtension is SMPP.md §9.2: the septet after 0x1B and its code point.
var sheetExtension = []struct {
	septet byte
	char   rune
}{
	{0x0A, 0x000C}, {0x14, 0x005E}, {0x28, 0x007B}, {0x29, 0x007D}, {0x2F, 0x005C},
	{0x3C, 0x005B}, {0x3D, 0x007E}, {0x3E, 0x005D}, {0x40, 0x007C}, {0x65, 0x20AC},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestGSM7_BasicTable(t *testing.T) {
	for septet, r := range sheetBasic {
		if septet == gsmEscape {
			continue
		}
		got, err := EncodeGSM7(string(r))
		if err != nil || !bytes.Equal(got, []byte{byte(septet)}) {
			t.Errorf("EncodeGSM7(%q) = % X, %v; want %02X", r, got, err, septet)
		}
		dec, err := DecodeGSM7([]byte{byte(septet)})
		if err != nil || dec != string(r) {
			t.Errorf("DecodeGSM7(%02X) = %q, %v; want %q", septet, dec, err, r)
		}
	}
}

func TestGSM7_ExtensionTable(t *testing.T) {
	for _, e := range sheetExtension {
		got, err := EncodeGSM7(string(e.char))
		if want := []byte{0x1B, e.septet}; err != nil || !bytes.Equal(got, want) {
			t.Errorf("EncodeGSM7(%q) = % X, %v; want % X", e.char, got, err, want)
		}
		dec, err := DecodeGSM7([]byte{0x1B, e.septet})
		if err != nil || dec != string(e.char) {
			t.Errorf("DecodeGSM7(1B %02X) = %q, %v; want %q", e.septet, dec, err, e.char)
		}
		if n, ok := GSM7Len(string(e.char)); !ok || n != 2 {
			t.Errorf("GSM7Len(%q) = %d, %v; want 2, true", e.char, n, ok)
		}
	}
}

// TestGSM7_NothingElseEncodes checks that exactly the sheet's characters (plus ç, which
// shares Ç's code) have a GSM code, over the whole Basic Multilingual Plane and beyond.
func TestGSM7_NothingElseEncodes(t *testing.T) {
	want := map[rune]bool{'ç': true}
	for septet, r := range sheetBasic {
		if septet != gsmEscape {
			want[r] = true
		}
	}
	for _, e := range sheetExtension {
		want[e.char] = true
	}
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if got := gsmCodeOf(r) != 0; got != want[r] {
			t.Errorf("U+%04X: has GSM code = %v, want %v", r, got, want[r])
		}
	}
}

func TestEncodeGSM7_CedillaBothCases(t *testing.T) {
	got, err := EncodeGSM7("Çç")
	if err != nil || !bytes.Equal(got, []byte{0x09, 0x09}) {
		t.Fatalf("EncodeGSM7(Çç) = % X, %v; want 09 09", got, err)
	}
	if dec, _ := DecodeGSM7(got); dec != "ÇÇ" {
		t.Errorf("DecodeGSM7(09 09) = %q, want ÇÇ", dec)
	}
}

func TestEncodeGSM7_Errors(t *testing.T) {
	tests := []struct {
		name, in string
		char     rune
		index    int
		msg      string
	}{
		{"emoji", "ab😀c", '😀', 2, `character '😀' (U+1F600) at position 3 cannot be encoded in gsm7`},
		{"backtick", "`", '`', 0, "at position 1"},
		{"cyrillic after escape", "€Ж", 'Ж', 1, "(U+0416) at position 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeGSM7(tt.in)
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want *EncodeError", err)
			}
			if ee.Char != tt.char || ee.Index != tt.index || ee.Encoding != GSM7 {
				t.Errorf("got %+v, want char %q index %d", *ee, tt.char, tt.index)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err, tt.msg)
			}
		})
	}
	if _, err := EncodeGSM7("ok\xffno"); !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "byte 2") {
		t.Errorf("invalid UTF-8: err = %v, want ErrInvalidUTF8 at byte 2", err)
	}
	if n, ok := GSM7Len("a\xff"); ok || n != 0 {
		t.Errorf("GSM7Len(invalid UTF-8) = %d, %v; want 0, false", n, ok)
	}
}

func TestDecodeGSM7_OddInput(t *testing.T) {
	tests := []struct {
		name    string
		in      string // hex
		want    string
		wantErr bool
	}{
		{"unknown extension shows basic char", "1B 41", "A", false},
		{"unknown extension 1B 00", "1B 00 62", "@b", false},
		{"escape escape is a space", "61 1B 1B 62", "a b", false},
		{"lone trailing escape", "61 62 1B", "ab ", false},
		{"only an escape", "1B", " ", false},
		{"empty", "", "", false},
		{"at sign is data", "00 00", "@@", false},
		{"high bit", "61 E1", "", true},
		{"high bit after escape", "1B 80", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeGSM7(mustHex(t, tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("DecodeGSM7(%s) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

// TestGSM7_Vector is SMPP.md §12.5.
func TestGSM7_Vector(t *testing.T) {
	const text = "Hello @ €uro {x}"
	unpacked := mustHex(t, "48 65 6C 6C 6F 20 00 20 1B 65 75 72 6F 20 1B 28 78 1B 29")
	packed := mustHex(t, "C8 32 9B FD 06 01 40 9B 72 5D FE 06 6D 50 F8 4D 0A")

	got, err := EncodeGSM7(text)
	if err != nil || !bytes.Equal(got, unpacked) {
		t.Fatalf("EncodeGSM7 = % X, %v; want % X", got, err, unpacked)
	}
	if n, ok := GSM7Len(text); n != 19 || !ok {
		t.Errorf("GSM7Len = %d, %v; want 19", n, ok)
	}
	if p := PackSeptets(unpacked, 0); !bytes.Equal(p, packed) {
		t.Errorf("PackSeptets = % X, want % X", p, packed)
	}
	if u := UnpackSeptets(packed, 0, 19); !bytes.Equal(u, unpacked) {
		t.Errorf("UnpackSeptets = % X, want % X", u, unpacked)
	}
	if dec, err := DecodeGSM7(unpacked); err != nil || dec != text {
		t.Errorf("DecodeGSM7 = %q, %v", dec, err)
	}
}

func TestPackSeptets_Vectors(t *testing.T) {
	tests := []struct {
		name string
		text string
		fill int
		want string
	}{
		{"hello, SMPP.md §9.4", "hello", 0, "E8 32 9B FD 06"},
		// 7 septets leave 7 spare bits: CR fills them (23.038 §6.1.2.3.1 example).
		{"CR padding", "1234567", 0, "31 D9 8C 56 B3 DD 1A"},
		{"8 septets fill the octets exactly", "12345678", 0, "31 D9 8C 56 B3 DD 70"},
		{"one fill bit after a 6-octet UDH", "hello", 1, "D0 65 36 FB 0D"},
		{"empty", "", 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			septets, err := EncodeGSM7(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			got := PackSeptets(septets, tt.fill)
			if want := mustHex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("PackSeptets(%q, %d) = % X, want % X", tt.text, tt.fill, got, want)
			}
			if back := UnpackSeptets(got, tt.fill, len(septets)); !bytes.Equal(back, septets) {
				t.Errorf("UnpackSeptets = % X, want % X", back, septets)
			}
		})
	}
}

// packReference packs bit by bit, the slow obvious way, as an oracle for PackSeptets.
func packReference(septets []byte, fill int) []byte {
	nbits := fill + 7*len(septets)
	if len(septets) == 0 {
		return []byte{}
	}
	out := make([]byte, (nbits+7)/8)
	for i, s := range septets {
		for b := 0; b < 7; b++ {
			if s>>b&1 == 1 {
				pos := fill + 7*i + b
				out[pos/8] |= 1 << (pos % 8)
			}
		}
	}
	if 8*len(out)-nbits == 7 {
		out[len(out)-1] |= 0x0D << 1
	}
	return out
}

func TestPackSeptets_MatchesReference(t *testing.T) {
	septets := make([]byte, 40)
	for i := range septets {
		septets[i] = byte(i*37+11) & 0x7F
	}
	for fill := 0; fill <= 6; fill++ {
		for n := 0; n <= len(septets); n++ {
			got := PackSeptets(septets[:n], fill)
			if want := packReference(septets[:n], fill); !bytes.Equal(got, want) {
				t.Fatalf("fill %d n %d: % X, want % X", fill, n, got, want)
			}
			if back := UnpackSeptets(got, fill, n); !bytes.Equal(back, septets[:n]) {
				t.Fatalf("fill %d n %d: unpack % X, want % X", fill, n, back, septets[:n])
			}
		}
	}
}

func TestUnpackSeptets_Bounds(t *testing.T) {
	packed := mustHex(t, "E8 32 9B FD 06")
	if got := UnpackSeptets(packed, 0, -1); string(got) != "hello" {
		t.Errorf("n=-1: %q, want every whole septet %q", got, "hello")
	}
	if got := UnpackSeptets(packed, 0, 100); string(got) != "hello" {
		t.Errorf("n beyond data: %q, want hello", got)
	}
	if got := UnpackSeptets(packed, 7, 1); got != nil {
		t.Errorf("fill 7: % X, want nil", got)
	}
	if got := UnpackSeptets(nil, 6, 3); len(got) != 0 {
		t.Errorf("empty input: % X, want none", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("PackSeptets with fill 7 did not panic")
		}
	}()
	PackSeptets([]byte("a"), 7)
}

func TestUnpackUserData(t *testing.T) {
	tests := []struct {
		name   string
		packed string
		udhLen int
		want   string
	}{
		{"hello, SMPP.md §9.4", "E8 32 9B FD 06", 0, "hello"},
		{"padding CR after 7 septets dropped", "31 D9 8C 56 B3 DD 1A", 0, "1234567"},
		{"8 septets fill the octets, no padding", "31 D9 8C 56 B3 DD 70", 0, "12345678"},
		{"CRs that are text stay", "31 D9 8C 56 B3 DD 1A 0D", 0, "1234567\r\r"},
		{"one fill bit after a 6-octet UDH", "D0 65 36 FB 0D", 6, "hello"},
		{"no fill bit after a 7-octet UDH", "E8 32 9B FD 06", 7, "hello"},
		{"zero padding cannot be told from @", "31 D9 8C 56 B3 DD 00", 0, "1234567@"},
		{"empty", "", 6, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UnpackUserData(mustHex(t, tt.packed), tt.udhLen)
			text, err := DecodeGSM7(got)
			if err != nil || text != tt.want {
				t.Errorf("UnpackUserData(%s, %d) = % X = %q, %v; want %q", tt.packed, tt.udhLen, got, text, err, tt.want)
			}
		})
	}
}
