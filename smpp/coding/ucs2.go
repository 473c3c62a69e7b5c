package coding

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Units returns how many UTF-16 units r takes: 2 for a character outside the Basic
// Multilingual Plane (an emoji, as a surrogate pair), else 1.
func utf16Units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// appendUCS2 appends r as UTF-16BE.
func appendUCS2(dst []byte, r rune) []byte {
	if r >= 0x10000 {
		hi, lo := utf16.EncodeRune(r)
		return append(dst, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
	}
	return append(dst, byte(r>>8), byte(r))
}

// EncodeUCS2 encodes s as UTF-16 big-endian (data_coding 0x08). Characters outside the Basic
// Multilingual Plane, such as emoji, become surrogate pairs, which strict UCS-2 cannot express
// but SMSCs and handsets pass through as UTF-16. Invalid UTF-8 becomes U+FFFD; SplitText
// rejects it instead.
func EncodeUCS2(s string) []byte {
	out := make([]byte, 0, 2*len(s))
	for _, r := range s {
		out = appendUCS2(out, r)
	}
	return out
}

// DecodeUCS2 decodes UTF-16 big-endian. An odd number of octets or a surrogate without its
// partner gives ErrMalformed naming the offset.
func DecodeUCS2(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: UCS-2 data has an odd number of octets (%d)", ErrMalformed, len(b))
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case utf16.IsSurrogate(u) && u < 0xDC00 && i+3 < len(b):
			lo := rune(b[i+2])<<8 | rune(b[i+3])
			r := utf16.DecodeRune(u, lo)
			if r == utf8.RuneError {
				return "", fmt.Errorf("%w: high surrogate 0x%04X at offset %d is not followed by a low surrogate", ErrMalformed, u, i)
			}
			out = utf8.AppendRune(out, r)
			i += 2
		case utf16.IsSurrogate(u):
			return "", fmt.Errorf("%w: unpaired UTF-16 surrogate 0x%04X at offset %d", ErrMalformed, u, i)
		default:
			out = utf8.AppendRune(out, u)
		}
	}
	return string(out), nil
}
