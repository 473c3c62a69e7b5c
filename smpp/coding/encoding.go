// Package coding turns message text into SMPP short_message octets and back: the GSM 03.38
// default alphabet (unpacked and packed septets), UCS-2 (UTF-16BE), Latin-1, segmentation into
// concatenated parts (UDH with an 8- or 16-bit reference, SAR TLVs or one message_payload) and
// the transliteration of look-alike characters that would otherwise force UCS-2.
package coding

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Errors a caller can test for with errors.Is; each is wrapped with the details.
var (
	// ErrInvalidUTF8 means the input text is not UTF-8, usually a file saved in another
	// character set.
	ErrInvalidUTF8 = errors.New("text is not valid UTF-8")
	// ErrMalformed means received octets are not valid in the encoding their data_coding names.
	ErrMalformed = errors.New("malformed message data")
	// ErrUnsupportedDataCoding means Decode has no text decoder for the data_coding value.
	ErrUnsupportedDataCoding = errors.New("unsupported data_coding")
)

// Encoding is a text encoding for short_message. The zero value is Auto.
type Encoding uint8

// Encodings smscast can send.
const (
	// Auto chooses GSM7 when every character of the text has a GSM 03.38 code, else UCS2.
	Auto Encoding = iota
	// GSM7 is the GSM 03.38 default alphabet with its extension table (data_coding 0x00).
	GSM7
	// UCS2 is UTF-16 big-endian, surrogate pairs included (data_coding 0x08).
	UCS2
	// Latin1 is ISO-8859-1, one octet per character (data_coding 0x03).
	Latin1
)

var encodingNames = [...]string{Auto: "auto", GSM7: "gsm7", UCS2: "ucs2", Latin1: "latin1"}

// ParseEncoding reads an --encoding value: auto, gsm7, ucs2 or latin1 (any case).
func ParseEncoding(s string) (Encoding, error) {
	for e, name := range encodingNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Encoding(e), nil
		}
	}
	return Auto, fmt.Errorf("unknown encoding %q: use auto, gsm7, ucs2 or latin1", s)
}

// String returns the name ParseEncoding accepts.
func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return fmt.Sprintf("Encoding(%d)", uint8(e))
}

// DataCoding returns the submit_sm data_coding value: 0x00 for GSM7 (the SMSC default
// alphabet), 0x08 for UCS2, 0x03 for Latin1. Auto is not an encoding on the wire and returns
// 0x00; use Message.DataCoding, which SplitText resolves.
func (e Encoding) DataCoding() uint8 {
	switch e {
	case UCS2:
		return 0x08
	case Latin1:
		return 0x03
	default:
		return 0x00
	}
}

// EncodeError reports the first character of a text that the chosen encoding cannot express.
type EncodeError struct {
	Encoding Encoding
	Char     rune
	Index    int // position of Char in the text, counted in characters from 0
	// Transliterated says the text was transliterated already: the hint then leaves out
	// --transliterate.
	Transliterated bool
}

func (e *EncodeError) Error() string {
	var hint string
	switch {
	case e.Encoding == GSM7 && !e.Transliterated:
		hint = "use --encoding auto or ucs2, or --transliterate if it is a look-alike of a GSM character"
	default:
		hint = "use --encoding auto or ucs2"
	}
	return fmt.Sprintf("character %q (U+%04X) at position %d cannot be encoded in %s: %s",
		e.Char, e.Char, e.Index+1, e.Encoding, hint)
}

// Decode turns received user data into text according to its data_coding:
//   - 0x00 (SMSC default alphabet): GSM 03.38 unpacked septets, one per octet;
//   - 0x01 (IA5): ASCII, an octet above 0x7F is ErrMalformed;
//   - 0x03: Latin-1;
//   - 0x08: UCS-2 read as UTF-16BE;
//   - 0x10–0x13 and 0xF0–0xF3 (GSM TP-DCS forms of "7-bit, with a message class"): as 0x00;
//   - 0x18–0x1B (TP-DCS "UCS-2 with a message class"): as 0x08.
//
// Every other value (binary, JIS, Cyrillic, Hebrew, KS C 5601, ...) returns
// ErrUnsupportedDataCoding rather than guessing, so a caller can show the octets in hex.
// data must not include a UDH; strip it with ParseUDH first.
func Decode(data []byte, dataCoding uint8) (string, error) {
	switch {
	case IsGSM7(dataCoding):
		return DecodeGSM7(data)
	case dataCoding == 0x01:
		return decodeASCII(data)
	case dataCoding == 0x03:
		return DecodeLatin1(data), nil
	case dataCoding == 0x08 || dataCoding&0xFC == 0x18:
		return DecodeUCS2(data)
	}
	return "", fmt.Errorf("%w 0x%02X: only 0x00 (GSM 7-bit), 0x01 (IA5), 0x03 (Latin-1) and 0x08 (UCS-2) are text smscast can read",
		ErrUnsupportedDataCoding, dataCoding)
}

// IsGSM7 reports whether Decode reads dataCoding as the GSM 03.38 default alphabet: 0x00 and
// the TP-DCS forms 0x10–0x13 and 0xF0–0xF3.
func IsGSM7(dataCoding uint8) bool {
	return dataCoding == 0x00 || dataCoding&0xFC == 0x10 || dataCoding&0xFC == 0xF0
}

// decodeASCII reads IA5 (data_coding 0x01), which is 7-bit ASCII.
func decodeASCII(b []byte) (string, error) {
	for i, c := range b {
		if c > 0x7F {
			return "", fmt.Errorf("%w: octet 0x%02X at offset %d is not IA5/ASCII", ErrMalformed, c, i)
		}
	}
	return string(b), nil
}

// maxUnits is a segment capacity no text reaches, for measuring without splitting.
const maxUnits = int(^uint(0) >> 1)

// unitsOf returns how many units r takes in enc (septets, UTF-16 units or octets), 0 when enc
// cannot express r. enc is never Auto.
func unitsOf(enc Encoding, r rune) int {
	switch enc {
	case GSM7:
		if c := gsmCodeOf(r); c != 0 {
			return c.septets()
		}
	case UCS2:
		return utf16Units(r)
	case Latin1:
		if r <= 0xFF {
			return 1
		}
	}
	return 0
}

// appendUnits appends r encoded in enc; r must be expressible (unitsOf(enc, r) > 0).
func appendUnits(dst []byte, enc Encoding, r rune) []byte {
	switch enc {
	case GSM7:
		return appendGSM(dst, gsmCodeOf(r))
	case UCS2:
		return appendUCS2(dst, r)
	default:
		return append(dst, byte(r))
	}
}

// measure returns the length of s in enc's units and how many segments of at most segCap
// units it fills when characters are placed greedily and never split (an escape pair or a
// surrogate pair stays whole); empty text is one segment. fail is the byte offset of the first
// character enc cannot express or of invalid UTF-8, -1 when everything fits; encodeErrorAt
// turns it into an error. Reporting an offset instead of an error keeps Auto's GSM-then-UCS-2
// attempt free of allocations.
func measure(s string, enc Encoding, segCap int) (units, segments, fail int) {
	segments = 1
	fill := 0
	for i, r := range s {
		c := unitsOf(enc, r)
		if c == 0 || r == utf8.RuneError && isInvalidUTF8(s[i:]) {
			return 0, 0, i
		}
		units += c
		if fill+c > segCap {
			segments++
			fill = 0
		}
		fill += c
	}
	return units, segments, -1
}

// isInvalidUTF8 reports whether s starts with a byte that is not UTF-8 (as opposed to a real
// U+FFFD character).
func isInvalidUTF8(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return r == utf8.RuneError && size <= 1
}

// encodeErrorAt describes why the character at byte offset i of s cannot be encoded in enc.
func encodeErrorAt(s string, enc Encoding, i int) error {
	if isInvalidUTF8(s[i:]) {
		return fmt.Errorf("%w (byte %d); convert the input to UTF-8", ErrInvalidUTF8, i)
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return &EncodeError{Encoding: enc, Char: r, Index: utf8.RuneCountInString(s[:i])}
}
