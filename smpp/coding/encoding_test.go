package coding

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseEncoding(t *testing.T) {
	tests := []struct {
		in   string
		want Encoding
		dc   uint8
	}{
		{"auto", Auto, 0x00}, {"gsm7", GSM7, 0x00}, {"UCS2", UCS2, 0x08}, {" latin1 ", Latin1, 0x03},
	}
	for _, tt := range tests {
		got, err := ParseEncoding(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseEncoding(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
		if got.DataCoding() != tt.dc {
			t.Errorf("%v.DataCoding() = %#x, want %#x", got, got.DataCoding(), tt.dc)
		}
		if back, _ := ParseEncoding(got.String()); back != got {
			t.Errorf("ParseEncoding(%q) does not round-trip", got.String())
		}
	}
	if _, err := ParseEncoding("utf8"); err == nil || !strings.Contains(err.Error(), "auto, gsm7, ucs2 or latin1") {
		t.Errorf("ParseEncoding(utf8) error = %v, want one listing the choices", err)
	}
	if s := Encoding(9).String(); s != "Encoding(9)" {
		t.Errorf("String of an unknown value = %q", s)
	}
}

func TestUCS2_Vector(t *testing.T) {
	// SMPP.md §12.5: 8 characters, 9 UTF-16 units, the emoji as the pair D83D DC4B.
	const text = "Привет 👋"
	want := mustHex(t, "04 1F 04 40 04 38 04 32 04 35 04 42 00 20 D8 3D DC 4B")
	if got := EncodeUCS2(text); !bytes.Equal(got, want) {
		t.Fatalf("EncodeUCS2 = % X, want % X", got, want)
	}
	if got, err := DecodeUCS2(want); err != nil || got != text {
		t.Errorf("DecodeUCS2 = %q, %v; want %q", got, err, text)
	}
}

func TestDecodeUCS2_Malformed(t *testing.T) {
	tests := []struct{ name, in, msg string }{
		{"odd length", "00 41 00", "odd number of octets (3)"},
		{"high surrogate at the end", "00 41 D8 3D", "unpaired UTF-16 surrogate 0xD83D at offset 2"},
		{"low surrogate alone", "DC 4B 00 41", "unpaired UTF-16 surrogate 0xDC4B at offset 0"},
		{"high surrogate then a letter", "D8 3D 00 41", "high surrogate 0xD83D at offset 0 is not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeUCS2(mustHex(t, tt.in))
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want ErrMalformed with %q", err, tt.msg)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	got, err := EncodeLatin1("café ÿ£")
	if want := []byte{'c', 'a', 'f', 0xE9, ' ', 0xFF, 0xA3}; err != nil || !bytes.Equal(got, want) {
		t.Fatalf("EncodeLatin1 = % X, %v; want % X", got, err, want)
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	text := DecodeLatin1(all)
	if back, err := EncodeLatin1(text); err != nil || !bytes.Equal(back, all) {
		t.Errorf("every octet does not round-trip: % X, %v", back, err)
	}
	_, err = EncodeLatin1("prix 5€")
	var ee *EncodeError
	if !errors.As(err, &ee) || ee.Char != '€' || ee.Index != 6 || ee.Encoding != Latin1 {
		t.Errorf("EncodeLatin1(€) error = %v, want *EncodeError for € at index 6", err)
	}
	if _, err := EncodeLatin1("\xc3"); !errors.Is(err, ErrInvalidUTF8) {
		t.Errorf("truncated UTF-8: err = %v, want ErrInvalidUTF8", err)
	}
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		dc   uint8
		in   string // hex
		want string
		err  error
	}{
		{"GSM 7-bit", 0x00, "48 00 1B 65", "H@€", nil},
		{"GSM 7-bit flash, TP-DCS form", 0x10, "48 69", "Hi", nil},
		{"GSM 7-bit message class group", 0xF1, "48 69", "Hi", nil},
		{"IA5", 0x01, "48 40 7E", "H@~", nil},
		{"IA5 with a high octet", 0x01, "48 C0", "", ErrMalformed},
		{"Latin-1", 0x03, "63 61 66 E9", "café", nil},
		{"UCS-2", 0x08, "04 1F D8 3D DC 4B", "П👋", nil},
		{"UCS-2 flash, TP-DCS form", 0x18, "00 41", "A", nil},
		{"UCS-2 odd", 0x08, "04", "", ErrMalformed},
		{"binary", 0x04, "00 01", "", ErrUnsupportedDataCoding},
		{"8-bit message class", 0xF4, "00 01", "", ErrUnsupportedDataCoding},
		{"Cyrillic ISO-8859-5", 0x06, "B0", "", ErrUnsupportedDataCoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(mustHex(t, tt.in), tt.dc)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Errorf("Decode(%s, %#02x) = %q, %v; want %q, %v", tt.in, tt.dc, got, err, tt.want, tt.err)
			}
		})
	}
}
