package coding

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// canonicalGSM7 reports whether EncodeGSM7 could have produced septets: every escape is
// followed by a code of the extension table.
func canonicalGSM7(septets []byte) bool {
	for i := 0; i < len(septets); i++ {
		if septets[i] == gsmEscape {
			if i+1 == len(septets) || gsmExtensionDecode[septets[i+1]&0x7F] == 0 {
				return false
			}
			i++
		}
	}
	return true
}

func hasHighOctet(b []byte) bool {
	for _, c := range b {
		if c > 0x7F {
			return true
		}
	}
	return false
}

func FuzzDecodeGSM7(f *testing.F) {
	f.Add([]byte("Hello"))
	f.Add([]byte{0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x20, 0x00, 0x20, 0x1B, 0x65, 0x75, 0x72, 0x6F, 0x20, 0x1B, 0x28, 0x78, 0x1B, 0x29})
	f.Add([]byte{0x1B, 0x1B, 0x1B})
	f.Add([]byte{0x1B, 0x41, 0x09, 0x7F})
	f.Add([]byte{0xE8, 0x32, 0x9B, 0xFD, 0x06})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeGSM7(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || !hasHighOctet(data) {
				t.Fatalf("error %v for % X, which has no octet above 0x7F", err, data)
			}
		} else {
			// Whatever decodes is GSM text again; septets EncodeGSM7 could have made come back
			// unchanged.
			back, err := EncodeGSM7(s)
			if err != nil {
				t.Fatalf("decoded %q does not encode: %v", s, err)
			}
			if canonicalGSM7(data) && !bytes.Equal(back, data) {
				t.Fatalf("round trip % X -> %q -> % X", data, s, back)
			}
		}
		septets := make([]byte, len(data))
		for i, c := range data {
			septets[i] = c & 0x7F
		}
		for fill := 0; fill <= 6; fill++ {
			packed := PackSeptets(septets, fill)
			if got := UnpackSeptets(packed, fill, len(septets)); !bytes.Equal(got, septets) {
				t.Fatalf("fill %d: pack/unpack % X -> % X", fill, septets, got)
			}
			UnpackSeptets(data, fill, -1) // hostile packed input must not panic
		}
	})
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hello @ €uro {x}", uint8(0), uint8(0), uint8(0), false, uint16(0xA7))
	f.Add("Привет 👋", uint8(0), uint8(1), uint8(10), false, uint16(0x1234))
	f.Add("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa€bbbbbbbbbbb", uint8(1), uint8(0), uint8(0), true, uint16(7))
	f.Add("жжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжжж👋жжжжж", uint8(2), uint8(2), uint8(3), false, uint16(1))
	f.Add("café “quoted” — ok…", uint8(3), uint8(3), uint8(0), false, uint16(0))
	f.Add("ok \xff", uint8(0), uint8(0), uint8(0), false, uint16(0))
	f.Fuzz(func(t *testing.T, text string, enc, split, maxParts uint8, packed bool, ref uint16) {
		opt := Options{Encoding: Encoding(enc % 4), Split: Split(split % 4), MaxParts: int(maxParts), Packed: packed, Ref: ref}
		msg, err := SplitText(text, opt)
		var ee *EncodeError
		var tm *TooManyPartsError
		switch {
		case err == nil:
			checkMessage(t, text, opt, msg)
		case errors.Is(err, ErrInvalidUTF8):
			if utf8.ValidString(text) {
				t.Fatalf("valid UTF-8 %q reported invalid: %v", text, err)
			}
		case errors.As(err, &ee):
			if opt.Encoding == Auto || opt.Encoding == UCS2 || unitsOf(ee.Encoding, ee.Char) != 0 {
				t.Fatalf("%v: %v", opt.Encoding, err)
			}
		case errors.As(err, &tm):
			if tm.Need <= tm.Max || tm.Max > 255 || opt.MaxParts > 0 && opt.MaxParts < 255 && tm.Max != opt.MaxParts {
				t.Fatalf("%+v with MaxParts %d", *tm, opt.MaxParts)
			}
		default:
			t.Fatalf("unexpected error: %v", err)
		}
		if out, changed := Transliterate(text); changed {
			if _, ok := GSM7Len(out); !ok {
				t.Fatalf("Transliterate(%q) = %q, not GSM 7-bit", text, out)
			}
		} else if out != text {
			t.Fatalf("Transliterate(%q) changed the text but said it did not", text)
		}
	})
}
