package smpp

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// IDFormat says how a receipt's message id may differ from the submit_sm_resp id it refers
// to. SMSCs disagree: some answer submit_sm in hex and write receipts in decimal (or the
// other way round), some change case, some pad with zeros (SMPP.md §8).
type IDFormat uint8

const (
	// IDAuto (the default) matches ids that are equal, equal ignoring case (and surrounding
	// space), equal as decimal numbers when both are all digits ("0042" = "42"), or equal as
	// numbers when one is hexadecimal with at least one letter a–f and the other all digits
	// ("1f" = "31"), or both such hex ("0A1" = "a1"). A hex id without letters cannot be told
	// from a decimal one, so auto reads it as decimal: use IDHex for such SMSCs.
	IDAuto IDFormat = iota
	// IDHex is for SMSCs that write ids in hexadecimal on one side (submit_sm_resp or
	// receipt) and decimal on the other: IDAuto, plus all-digit ids are also read as hex, so
	// "12345" (hex) matches "74565" (decimal).
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
// collide with an exact id.
const (
	foldedKeyPrefix  = "\x00c"
	numericKeyPrefix = "\x00n"
)

// MessageIDKeys returns the lookup keys of id under f, most specific first: the id itself,
// then its case-folded form, then its numeric value(s). SameMessageID(a, b, f) holds exactly
// when MessageIDKeys(a, f) and MessageIDKeys(b, f) share a key, so a caller can index every
// key of its submitted ids in a map and look up each key of a receipt's id. The id itself is
// never altered; "" has no keys.
func MessageIDKeys(id string, f IDFormat) []string {
	if id == "" {
		return nil
	}
	if f == IDExact {
		return []string{id}
	}
	keys := []string{id}
	folded := strings.ToLower(strings.TrimSpace(id))
	if folded == "" {
		return keys
	}
	keys = append(keys, foldedKeyPrefix+folded)
	if len(folded) > maxNumericID {
		return keys
	}
	digits, hexDigits := numberKind(folded)
	if digits {
		keys = append(keys, numericKeyPrefix+trimZeros(folded))
	}
	if hexDigits && (f == IDHex && digits || f != IDDec && !digits) {
		if k := numericKeyPrefix + hexToDecimal(folded); k != keys[len(keys)-1] {
			keys = append(keys, k)
		}
	}
	return keys
}

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

// numberKind reports whether lower-case s is all decimal digits, and all hex digits.
func numberKind(s string) (digits, hexDigits bool) {
	digits, hexDigits = true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			digits = false
		default:
			return false, false
		}
	}
	return digits, hexDigits
}

// hexToDecimal converts checked lower-case hex digits of any length to decimal.
func hexToDecimal(h string) string {
	if v, err := strconv.ParseUint(h, 16, 64); err == nil {
		return strconv.FormatUint(v, 10)
	}
	n, _ := new(big.Int).SetString(h, 16)
	return n.String()
}

// trimZeros removes leading zeros from a decimal string, keeping one for zero.
func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}
