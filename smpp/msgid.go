package smpp

import (
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"
)

// IDFormat says how a receipt's message id may differ from the submit_sm_resp id it refers
// to. SMSCs disagree: some answer submit_sm in hex and write receipts in decimal (or the
// other way round), some change case, some pad with zeros (SMPP.md §8).
type IDFormat uint8

const (
	// IDAuto (the default) matches ids that are equal, equal ignoring case (and surrounding
	// space), equal as decimal numbers when both are all digits ("0042" = "42"), equal as
	// numbers when one is hexadecimal with at least one letter a–f and the other all digits
	// ("1f" = "31") or both are such hex ("0A1" = "a1"), and, as the weakest match, equal as
	// numbers when one all-digit id is read as hex and the other as decimal ("12345678" =
	// "305419896"): about 2 % of random 8-digit hex ids have no letter, and their receipts
	// would otherwise never match. MessageIDKeys orders the keys so that a caller can prefer
	// the stronger matches. The price: a receipt whose own message is unknown (another
	// campaign's, or one whose submit_sm_resp is still on its way) can match a message
	// whose all-digit id read as hex equals it when nothing closer fits; use IDDec for
	// SMSCs whose ids are decimal on both sides.
	IDAuto IDFormat = iota
	// IDHex is for SMSCs known to write ids in hexadecimal on one side (submit_sm_resp or
	// receipt) and decimal on the other. It matches the same ids as IDAuto, but reading an
	// all-digit id as hex is as strong a match as reading it as decimal: a receipt that fits
	// one message each way is ambiguous rather than given to the decimal reading.
	IDHex
	// IDDec is for SMSCs whose ids are decimal numbers on both sides: equal, equal ignoring
	// case, or equal as decimal numbers; never converted from hex.
	IDDec
	// IDExact matches byte-identical ids only.
	IDExact
)

var idFormatNames = [...]string{IDAuto: "auto", IDHex: "hex", IDDec: "dec", IDExact: "exact"}

// String returns "auto", "hex", "dec" or "exact", the names ParseIDFormat accepts.
func (f IDFormat) String() string {
	if int(f) < len(idFormatNames) {
		return idFormatNames[f]
	}
	return fmt.Sprintf("IDFormat(%d)", uint8(f))
}

// ParseIDFormat accepts "auto", "hex", "dec" or "exact" (any case).
func ParseIDFormat(s string) (IDFormat, error) {
	for f, name := range idFormatNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return IDFormat(f), nil
		}
	}
	return 0, fmt.Errorf("message id format %q: use auto, hex, dec or exact", s)
}

// maxNumericID bounds the ids read as numbers: SMPP ids are at most 64 characters, and
// converting a hostile megabyte of digits would cost quadratic time.
const maxNumericID = 128

// Key namespaces: NUL cannot occur in an SMPP id (a C-string), so prefixed keys never
// collide with an exact id, nor the keys of one namespace with those of another.
const (
	foldedKeyPrefix  = "\x00c" // the id in lower case, surrounding space removed
	numericKeyPrefix = "\x00n" // a numeric value in decimal, without leading zeros
	crossKeyPrefix   = "\x00x" // IDAuto: a value of an all-digit id, read in either base
)

// MessageIDKeys returns the lookup keys of id under f, most specific first:
//
//  1. the id itself;
//  2. the id in lower case without surrounding space (not for invalid UTF-8);
//  3. its numeric value: an all-digit id's decimal value, or the value of a hex id with a
//     letter a–f (which therefore also meets an all-digit id of that decimal value); under
//     IDHex also an all-digit id's value read as hex;
//  4. under IDAuto, for an all-digit id, its values read as decimal and as hex (in that
//     order): these meet only the other reading of another all-digit id.
//
// SameMessageID(a, b, f) holds exactly when MessageIDKeys(a, f) and MessageIDKeys(b, f)
// share a key, so a caller can index every key of its submitted ids and look up each key of
// a receipt's id in order, trusting the first key that finds anything (two messages found by
// that one key are ambiguous). The id itself is never altered; "" has no keys. Ids of at most
// 32 significant digits cost two allocations; longer ones are converted with math/big.
func MessageIDKeys(id string, f IDFormat) []string {
	if id == "" {
		return nil
	}
	if f == IDExact {
		return []string{id}
	}
	trimmed := strings.TrimSpace(id)
	if trimmed == "" {
		return []string{id}
	}
	if !isASCII(trimmed) {
		// A number is ASCII, so only the case-folded key: Unicode folding is rare enough
		// in ids to take the slower path. Invalid UTF-8 is not folded: strings.ToLower
		// would turn every invalid octet into U+FFFD and so match different ids.
		if !utf8.ValidString(trimmed) {
			return []string{id}
		}
		return []string{id, foldedKeyPrefix + strings.ToLower(trimmed)}
	}
	digits, hexDigits := numberKind(trimmed)
	if len(trimmed) > maxNumericID {
		digits, hexDigits = false, false
	}
	value := strings.TrimLeft(trimmed, "0") // the number's significant digits, any base
	if value == "" {
		value = "0"
	}
	// A single digit reads the same in both bases; longer all-digit values differ.
	hexReading := hexDigits && (!digits || len(value) > 1)
	numeric := digits                               // the decimal reading, a key of its own
	letterHex := hexDigits && !digits && f != IDDec // the hex reading of a hex id
	sameLevelHex := digits && hexReading && f == IDHex
	cross := digits && f == IDAuto

	// Every key but the id itself is written into one buffer and sliced out of one string.
	size := len(foldedKeyPrefix) + len(trimmed)
	decLen, hexLen := len(numericKeyPrefix)+len(value), len(numericKeyPrefix)+len(value)+len(value)/4+1
	if numeric {
		size += decLen
	}
	if letterHex || sameLevelHex {
		size += hexLen
	}
	if cross {
		size += decLen + hexLen
	}
	var b strings.Builder
	b.Grow(size)
	var ends [5]int
	n := 0
	// key writes one key: prefix, then value as it is or, read as hex, in decimal.
	key := func(prefix, value string, fromHex bool) {
		b.WriteString(prefix)
		if fromHex {
			writeHexAsDecimal(&b, value)
		} else {
			b.WriteString(value)
		}
		ends[n], n = b.Len(), n+1
	}
	b.WriteString(foldedKeyPrefix)
	writeLower(&b, trimmed)
	ends[n], n = b.Len(), n+1
	if numeric {
		key(numericKeyPrefix, value, false)
	}
	if letterHex || sameLevelHex {
		key(numericKeyPrefix, value, true)
	}
	if cross {
		key(crossKeyPrefix, value, false)
		if hexReading {
			key(crossKeyPrefix, value, true)
		}
	}
	s := b.String()
	keys := make([]string, 1, n+1)
	keys[0] = id
	start := 0
	for _, end := range ends[:n] {
		keys = append(keys, s[start:end])
		start = end
	}
	return keys
}

// IsCrossBaseKey reports whether key (one of MessageIDKeys' results) is an IDAuto
// cross-base key: an all-digit id read in the other base. Such a key is the weakest evidence
// of a match; a ledger may ignore it until it has seen the SMSC use hexadecimal ids at all,
// since with purely decimal ids it only ever pairs two different messages.
func IsCrossBaseKey(key string) bool { return strings.HasPrefix(key, crossKeyPrefix) }

// SameMessageID reports whether ids a and b (in either order: one from submit_sm_resp, one
// from a receipt) name the same message under f. Empty ids never match.
func SameMessageID(a, b string, f IDFormat) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	ka := MessageIDKeys(a, f)
	for _, k := range MessageIDKeys(b, f) {
		for _, k2 := range ka {
			if k == k2 {
				return true
			}
		}
	}
	return false
}

// isASCII reports whether s has no byte above 0x7F.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// writeLower writes ASCII s in lower case.
func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b.WriteString(s[:i])
			for ; i < len(s); i++ {
				c := s[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				b.WriteByte(c)
			}
			return
		}
	}
	b.WriteString(s)
}

// numberKind reports whether s is all decimal digits, and all hex digits (either case).
func numberKind(s string) (digits, hexDigits bool) {
	digits = true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f', c >= 'A' && c <= 'F':
			digits = false
		default:
			return false, false
		}
	}
	return digits, true
}

// writeHexAsDecimal writes the value of the checked hex digits h (no leading zero but for
// "0") in decimal: up to 32 digits (128 bits, as in UUID-like ids) without allocating, with
// math/big beyond.
func writeHexAsDecimal(b *strings.Builder, h string) {
	var buf [40]byte // 2^128 has 39 decimal digits
	switch {
	case len(h) <= 16:
		v, _ := strconv.ParseUint(h, 16, 64)
		b.Write(strconv.AppendUint(buf[:0], v, 10))
	case len(h) <= 32:
		hi, _ := strconv.ParseUint(h[:len(h)-16], 16, 64)
		lo, _ := strconv.ParseUint(h[len(h)-16:], 16, 64)
		b.Write(appendUint128(buf[:0], hi, lo))
	default:
		n, _ := new(big.Int).SetString(h, 16)
		b.Write(n.Append(buf[:0], 10))
	}
}

// e19 is the largest power of ten in a uint64.
const e19 = 10_000_000_000_000_000_000

// appendUint128 appends hi·2⁶⁴ + lo in decimal.
func appendUint128(dst []byte, hi, lo uint64) []byte {
	if hi == 0 {
		return strconv.AppendUint(dst, lo, 10)
	}
	// hi·2⁶⁴ + lo = q·10¹⁹ + r, and q < 2¹²⁸/10¹⁹ < 2⁶⁵: at most two more levels.
	qhi, r := hi/e19, hi%e19
	qlo, r := bits.Div64(r, lo, e19)
	dst = appendUint128(dst, qhi, qlo)
	var digits [19]byte
	d := strconv.AppendUint(digits[:0], r, 10)
	for range len(digits) - len(d) {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}
