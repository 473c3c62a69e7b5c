package coding

import (
	"fmt"
	"unicode/utf8"
)

// gsmEscape introduces a character of the extension table; the pair costs two septets.
const gsmEscape = 0x1B

// gsmBasic is the GSM 03.38 default alphabet: index = septet. Slot 0x1B holds the escape itself,
// which is not a character. 0x09 is the capital Ç that 23.038 draws (SMPP.md §9.3).
var gsmBasic = [128]rune([]rune("" +
	"@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"))

// gsmExtension is the extension table: the septet that follows an escape, and its character.
var gsmExtension = [...]struct {
	septet byte
	char   rune
}{
	{0x0A, '\f'}, {0x14, '^'}, {0x28, '{'}, {0x29, '}'}, {0x2F, '\\'},
	{0x3C, '['}, {0x3D, '~'}, {0x3E, ']'}, {0x40, '|'}, {0x65, '€'},
}

// gsmCode is a character's GSM code: zero when it has none, else gsmValid | septet, plus
// gsmExtended when the septet follows an escape.
type gsmCode uint16

const (
	gsmValid    gsmCode = 0x100
	gsmExtended gsmCode = 0x80
)

// gsmEncodeTable maps every rune below its length (Latin-1 and Greek capitals) to its code;
// '€' is the only GSM character above it and is handled in gsmCodeOf.
var gsmEncodeTable = buildGSMEncodeTable()

// gsmExtensionDecode maps the septet after an escape to its character, 0 when unknown.
var gsmExtensionDecode = buildGSMExtensionDecode()

func buildGSMEncodeTable() (t [0x400]gsmCode) {
	for septet, r := range gsmBasic {
		if septet != gsmEscape {
			t[r] = gsmValid | gsmCode(septet)
		}
	}
	for _, e := range gsmExtension {
		if int(e.char) < len(t) {
			t[e.char] = gsmValid | gsmExtended | gsmCode(e.septet)
		}
	}
	// 23.038 has no small ç; phones show 0x09 as Ç, which reads better than "c" or UCS-2.
	t['ç'] = t['Ç']
	return t
}

func buildGSMExtensionDecode() (t [128]rune) {
	for _, e := range gsmExtension {
		t[e.septet] = e.char
	}
	return t
}

// gsmCodeOf returns r's GSM code, zero when r has none.
func gsmCodeOf(r rune) gsmCode {
	if uint32(r) < uint32(len(gsmEncodeTable)) {
		return gsmEncodeTable[r]
	}
	if r == '€' {
		return gsmValid | gsmExtended | 0x65
	}
	return 0
}

// septets returns how many septets c occupies: 2 for an extension character, else 1.
func (c gsmCode) septets() int { return 1 + int(c>>7&1) }

// appendGSM appends c as unpacked septets.
func appendGSM(dst []byte, c gsmCode) []byte {
	if c&gsmExtended != 0 {
		return append(dst, gsmEscape, byte(c&0x7F))
	}
	return append(dst, byte(c&0x7F))
}

// EncodeGSM7 encodes s as unpacked GSM 03.38 septets, one per octet (what data_coding 0x00
// means to most SMSCs). An extension character (€ [ ] { } \ ~ ^ | and form feed) becomes the
// escape 0x1B and its code. Both Ç and ç become 0x09. A character without a GSM code gives an
// *EncodeError naming it and its position; invalid UTF-8 gives ErrInvalidUTF8.
func EncodeGSM7(s string) ([]byte, error) {
	n, _, fail := measure(s, GSM7, maxUnits)
	if fail >= 0 {
		return nil, encodeErrorAt(s, GSM7, fail)
	}
	out := make([]byte, 0, n)
	for _, r := range s {
		out = appendGSM(out, gsmCodeOf(r))
	}
	return out, nil
}

// GSM7Len returns how many septets s needs in GSM 7-bit (extension characters count two), and
// false when some character has no GSM code.
func GSM7Len(s string) (septets int, ok bool) {
	n, _, fail := measure(s, GSM7, maxUnits)
	if fail >= 0 {
		return 0, false
	}
	return n, true
}

// DecodeGSM7 decodes unpacked GSM 03.38 septets, one per octet. It follows what handsets do
// with odd input (SMPP.md §9.2): an escape followed by a septet the extension table does not
// define shows the basic-table character of that septet, 1B 1B (reserved for a further table)
// shows a space, and a lone escape at the end shows a space. An octet with its high bit set is
// not a septet (the data is probably packed or not GSM at all) and gives ErrMalformed.
func DecodeGSM7(septets []byte) (string, error) {
	out := make([]byte, 0, len(septets)+len(septets)/2)
	for i := 0; i < len(septets); i++ {
		s := septets[i]
		if s > 0x7F {
			return "", notSeptet(s, i)
		}
		if s != gsmEscape {
			out = utf8.AppendRune(out, gsmBasic[s])
			continue
		}
		if i+1 == len(septets) {
			out = append(out, ' ')
			break
		}
		i++
		next := septets[i]
		switch {
		case next > 0x7F:
			return "", notSeptet(next, i)
		case next == gsmEscape:
			out = append(out, ' ')
		case gsmExtensionDecode[next] != 0:
			out = utf8.AppendRune(out, gsmExtensionDecode[next])
		default:
			out = utf8.AppendRune(out, gsmBasic[next])
		}
	}
	return string(out), nil
}

func notSeptet(c byte, offset int) error {
	return fmt.Errorf("%w: octet 0x%02X at offset %d is not a GSM 7-bit septet; the data may be packed or in another data_coding",
		ErrMalformed, c, offset)
}

// PackSeptets packs septets (one per octet, high bit ignored) into the 7-bit bit stream of
// 3GPP TS 23.040: septet i occupies bits fillBits+7i … fillBits+7i+6, filled LSB first, so
// `hello` packs to E8 32 9B FD 06. fillBits (0–6) zero bits come first; after a UDH of n octets
// that is (7 − 8n mod 7) mod 7, which aligns the first septet on a septet boundary of the whole
// user data. When the last octet would end with 7 unused bits they carry CR (0x0D), as 23.038
// §6.1.2.3.1 prescribes, so a receiver that counts septets from octets sees a CR, not a
// spurious '@'. fillBits outside 0–6 panics: it is a programming error.
func PackSeptets(septets []byte, fillBits int) []byte {
	return appendPacked(make([]byte, 0, packedLen(len(septets), fillBits)), septets, fillBits)
}

// packedLen is the octet count of n packed septets after fillBits fill bits.
func packedLen(n, fillBits int) int {
	if n == 0 {
		return 0
	}
	return (fillBits + 7*n + 7) / 8
}

// appendPacked appends the packed form of septets to dst. It may run in place (dst's free
// capacity starting at or before septets in the same array): octet k is written only after
// septet k has been read, and never beyond it.
func appendPacked(dst, septets []byte, fillBits int) []byte {
	if fillBits < 0 || fillBits > 6 {
		panic(fmt.Sprintf("coding: fill bits %d outside 0-6", fillBits))
	}
	if len(septets) == 0 {
		return dst
	}
	acc, bits := uint32(0), fillBits
	for _, s := range septets {
		acc |= uint32(s&0x7F) << bits
		bits += 7
		if bits >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			bits -= 8
		}
	}
	if bits > 0 {
		if bits == 1 {
			acc |= 0x0D << 1
		}
		dst = append(dst, byte(acc))
	}
	return dst
}

// UnpackSeptets reads n septets from packed 7-bit data whose first fillBits bits are fill (see
// PackSeptets). If packed holds fewer than n, it returns the septets it holds; n < 0 means
// every whole septet (which can include a final CR or '@' that is only padding). fillBits
// outside 0–6 returns nil.
func UnpackSeptets(packed []byte, fillBits, n int) []byte {
	if fillBits < 0 || fillBits > 6 {
		return nil
	}
	avail := (8*len(packed) - fillBits) / 7
	if avail < 0 {
		avail = 0
	}
	if n < 0 || n > avail {
		n = avail
	}
	out := make([]byte, n)
	for i := range out {
		bit := fillBits + 7*i
		v := uint16(packed[bit/8])
		if bit/8+1 < len(packed) {
			v |= uint16(packed[bit/8+1]) << 8
		}
		out[i] = byte(v>>(bit%8)) & 0x7F
	}
	return out
}

// UnpackUserData returns the septets, one per octet (what DecodeGSM7 reads), of packed GSM
// 7-bit user data that followed a UDH of udhLen octets (0 = none): the fill bits that align
// the first septet come first. When the last octet ends with seven spare bits they hold a
// padding CR (23.038 §6.1.2.3.1), which is dropped; a lone '@' there (an encoder that padded
// with zeros) cannot be told from text and is kept.
func UnpackUserData(data []byte, udhLen int) []byte {
	fill := fillBits(udhLen)
	septets := UnpackSeptets(data, fill, -1)
	if n := len(septets); n > 0 && (8*len(data)-fill)%7 == 0 && septets[n-1] == 0x0D {
		septets = septets[:n-1]
	}
	return septets
}
