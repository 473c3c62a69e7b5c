package coding

import "unicode/utf8"

// EncodeLatin1 encodes s as ISO-8859-1 (data_coding 0x03), one octet per character. A
// character above U+00FF gives an *EncodeError naming it and its position; invalid UTF-8 gives
// ErrInvalidUTF8.
func EncodeLatin1(s string) ([]byte, error) {
	n, _, fail := measure(s, Latin1, maxUnits)
	if fail >= 0 {
		return nil, encodeErrorAt(s, Latin1, fail)
	}
	out := make([]byte, 0, n)
	for _, r := range s {
		out = append(out, byte(r))
	}
	return out, nil
}

// DecodeLatin1 decodes ISO-8859-1; every octet is a character, so it cannot fail.
func DecodeLatin1(b []byte) string {
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}
