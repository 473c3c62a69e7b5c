package csvin

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// numbers normalises destination numbers to international digits and validates them with
// libphonenumber's metadata. It is not safe for concurrent use (its automata grow as numbers
// arrive).
//
// How a cell is read:
//   - "+…" and "00…" are international;
//   - without a default region, other digits are international too, and a leading 0 (a
//     national number) is an error;
//   - with a default region, digits starting with its national prefix (0 in most of Europe,
//     8 in Russia, 1 in North America) are national, digits starting with its calling code are
//     international, and any other digits are whichever of the two is a valid number; when
//     both are, the row is invalid as ambiguous rather than sent to a guess.
type numbers struct {
	region         string // default region for national numbers; "" = none
	callingCode    string // of region
	nationalPrefix string // of region, digits only; "" = none
	home           *regionParse
	fast           *fastNumbers
}

func newNumbers(region string) (*numbers, error) {
	n := &numbers{region: strings.ToUpper(strings.TrimSpace(region)), fast: newFastNumbers()}
	if n.region == "" {
		return n, nil
	}
	cc := phonenumbers.GetCountryCodeForRegion(n.region)
	if cc == 0 {
		return nil, fmt.Errorf("unknown --default-region %q: use a two-letter ISO 3166 code such as DE, GB or US", region)
	}
	n.callingCode = strconv.Itoa(cc)
	n.nationalPrefix = phonenumbers.GetNddPrefixForRegion(n.region, true)
	n.home = n.fast.region(n.region)
	return n, nil
}

// tonNational is the type of number of a national number (see also sender.go).
const tonNational = 2

// SenderNormalizer returns a function that gives the numbers the sender of an incoming
// message may be, in international digits ("491711234567"), so that an opt-out appended in
// that form (with "+") reads back the same whatever --default-region a later run has. ton is
// the sender's type of number: 1 (international, as most SMSCs send senders, without "+")
// reads the digits with their country code, so "33612345678" is the French +33 612345678 even
// under --default-region DE; 2 (national) reads them in region (--default-region; none is an
// error). Any other type (0, unknown) gives every valid reading: both when the digits are a
// valid international and a valid national number of region, so that the person who opted
// out is excluded whichever they are (a recipients cell with such digits is refused as
// ambiguous). A sender no number plan has (a short code such as "12") is an error, which
// wraps ErrInvalidNumber. The function is not safe for concurrent use.
func SenderNormalizer(region string) (func(sender string, ton uint8) ([]string, error), error) {
	n, err := newNumbers(region)
	if err != nil {
		return nil, err
	}
	return func(sender string, ton uint8) ([]string, error) {
		digits, plus, err := cleanNumber(sender)
		if err != nil {
			return nil, err
		}
		one := func(intl string, err error) ([]string, error) {
			if err != nil {
				return nil, err
			}
			return []string{intl}, nil
		}
		switch {
		case plus || strings.HasPrefix(digits, "00"):
			return one(n.normalize(sender))
		case ton == tonInternational:
			if intl, ok := n.checkInternational(digits); ok {
				return []string{intl}, nil
			}
		case ton == tonNational && n.region == "":
			// Read as international, its digits would be some other country's number.
			return nil, problem(ErrInvalidNumber, "number %q is national (type of number 2), and no --default-region says which country's", sender)
		case ton == tonNational:
			if nat, ok := n.checkNational(digits); ok {
				return []string{nat}, nil
			}
		}
		// An unknown type of number, or one the digits do not fit (an SMSC that labels
		// every sender international): every valid reading.
		var readings []string
		if intl, ok := n.checkInternational(digits); ok {
			readings = append(readings, intl)
		}
		if n.region != "" {
			if nat, ok := n.checkNational(digits); ok && (len(readings) == 0 || nat != readings[0]) {
				readings = append(readings, nat)
			}
		}
		if len(readings) == 0 {
			return one(n.normalize(sender)) // its error says why
		}
		return readings, nil
	}, nil
}

// normalize returns the number in international digits without "+" ("491711234567").
// The error says what is wrong with the cell and what to do; it wraps ErrInvalidNumber.
func (n *numbers) normalize(cell string) (string, error) {
	digits, plus, err := cleanNumber(cell)
	if err != nil {
		return "", err
	}
	switch {
	case plus:
		return n.international(cell, digits)
	case strings.HasPrefix(digits, "00"):
		return n.international(cell, digits[2:])
	case n.region == "":
		if digits[0] == '0' {
			return "", problem(ErrInvalidNumber, "number %q has no country code; write it as +<country code><number> or use --default-region (e.g. DE)", cell)
		}
		return n.international(cell, digits)
	case n.nationalPrefix != "" && strings.HasPrefix(digits, n.nationalPrefix):
		return n.national(cell, digits)
	case strings.HasPrefix(digits, n.callingCode):
		return n.international(cell, digits)
	}
	intl, intlOK := n.checkInternational(digits)
	nat, natOK := n.checkNational(digits)
	switch {
	case intlOK && natOK && intl != nat:
		return "", problem(ErrInvalidNumber, "number %q is ambiguous: +%s or, in %s, +%s; write it with + and the country code", cell, intl, n.region, nat)
	case intlOK:
		return intl, nil
	case natOK:
		return nat, nil
	}
	return "", n.invalid(cell, digits, n.region)
}

func (n *numbers) international(cell, digits string) (string, error) {
	if out, ok := n.checkInternational(digits); ok {
		return out, nil
	}
	return "", n.invalid(cell, "+"+digits, "ZZ")
}

func (n *numbers) national(cell, digits string) (string, error) {
	if out, ok := n.checkNational(digits); ok {
		return out, nil
	}
	return "", n.invalid(cell, digits, n.region)
}

// checkInternational returns the normalised form of "+"+digits and whether it is valid.
func (n *numbers) checkInternational(digits string) (string, bool) {
	if out, valid, ok := n.fast.international(digits); ok {
		return out, valid
	}
	return libraryCheck("+"+digits, "ZZ")
}

// checkNational returns the normalised form of digits read as a national number of the
// default region and whether it is valid.
func (n *numbers) checkNational(digits string) (string, bool) {
	if out, valid, ok := n.fast.national(n.home, digits); ok {
		return out, valid
	}
	return libraryCheck(digits, n.region)
}

// libraryCheck is the reference the fast path mirrors.
func libraryCheck(number, region string) (string, bool) {
	pn, err := phonenumbers.Parse(number, region)
	if err != nil || !phonenumbers.IsValidNumber(pn) {
		return "", false
	}
	return strings.TrimPrefix(phonenumbers.Format(pn, phonenumbers.E164), "+"), true
}

// invalid asks libphonenumber why number is not valid; it is only called for invalid numbers,
// so its cost does not matter.
func (n *numbers) invalid(cell, number, region string) error {
	pn, err := phonenumbers.Parse(number, region)
	var why string
	switch {
	case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
		why = "unknown country code; check the first digits"
	case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
		why = "too short; check the digits"
	case errors.Is(err, phonenumbers.ErrNumTooLong):
		why = "too long; check the digits"
	case err != nil:
		why = "not a phone number; check the digits"
	default:
		cc := int(pn.GetCountryCode())
		where := fmt.Sprintf("%s (+%d)", phonenumbers.GetRegionCodeForCountryCode(cc), cc)
		switch phonenumbers.IsPossibleNumberWithReason(pn) {
		case phonenumbers.TOO_SHORT:
			why = "too short for " + where
		case phonenumbers.TOO_LONG:
			why = "too long for " + where
		case phonenumbers.INVALID_LENGTH:
			why = "wrong length for " + where
		default:
			why = "not a valid number for " + where
		}
		why += "; check the digits and the country code"
	}
	return problem(ErrInvalidNumber, "invalid number %q: %s", cell, why)
}

// maxNumberCell is the longest phone cell read: 15 digits with generous room for separators
// and a prefix such as "00".
const maxNumberCell = 64

// cleanNumber keeps the digits of a cell and whether it starts with "+", allowing the
// separators people type (spaces, - . ( ) /). Anything else is an error.
func cleanNumber(cell string) (digits string, plus bool, err error) {
	// Spaces and format characters at the ends: the marks a copied number brings along
	// (zero-width space, bidi marks and embeddings that apps wrap around numbers).
	s := strings.TrimFunc(cell, func(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) })
	if s == "" {
		return "", false, problem(ErrInvalidNumber, "the number is empty; fill it in or delete the row")
	}
	if n := utf8.RuneCountInString(s); n > maxNumberCell {
		// Not echoed whole: a megabyte cell would make a megabyte error line.
		return "", false, problem(ErrInvalidNumber, "number %s is %d characters long; a phone number has at most 15 digits", shown(s), n)
	}
	if isScientific(s) {
		return "", false, problem(ErrInvalidNumber, "number %q is in scientific notation (a spreadsheet turned it into a number); format the column as text and export again", cell)
	}
	if hasDecimalZeros(s) {
		// Read with "." as a separator it would be another, longer number.
		return "", false, problem(ErrInvalidNumber, "number %q ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again", cell)
	}
	// Most cells are plain digits, with or without "+": no copy needed.
	plain := strings.TrimPrefix(s, "+")
	if allDigits(plain) {
		return plain, len(plain) < len(s), nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && !plus && b.Len() == 0: // "+49 …", also "(+49) …"
			plus = true
		case r == '+':
			return "", false, problem(ErrInvalidNumber, "number %q has a + after its start; write + only once, before the country code", cell)
		case r == '\n' || r == '\r':
			return "", false, problem(ErrInvalidNumber, "number %q is broken over lines; put it on one line", cell)
		case unicode.IsSpace(r), strings.ContainsRune("-.()/\u2010\u2011\u2012\u2013\u2014\u2015", r):
		default:
			return "", false, problem(ErrInvalidNumber, "number %q contains %q; a number may hold only digits, spaces and + - ( ) . /", cell, r)
		}
	}
	if b.Len() == 0 {
		return "", false, problem(ErrInvalidNumber, "%q has no digits; fill in the number", cell)
	}
	return b.String(), plus, nil
}

// isScientific reports whether s looks like a spreadsheet's rendering of a long number,
// such as "4.91711E+11": the digits are lost and cannot be recovered.
func isScientific(s string) bool {
	if !strings.ContainsAny(s, "eE") {
		return false
	}
	mantissa, exponent, ok := strings.Cut(strings.ToUpper(s), "E+")
	return ok && mantissa != "" && exponent != "" &&
		strings.Trim(mantissa, "0123456789.,") == "" && strings.Trim(exponent, "0123456789") == ""
}

// hasDecimalZeros reports whether s is digits, a point and zeros, such as "491711234567.0":
// how a program that stored the column as floating-point numbers writes them. A number
// written with points as separators ("06.12.34.56.78") has more than one.
func hasDecimalZeros(s string) bool {
	whole, frac, ok := strings.Cut(strings.TrimPrefix(s, "+"), ".")
	return ok && whole != "" && frac != "" && allDigits(whole) && strings.Trim(frac, "0") == ""
}

// numberKey is the duplicate-check key of a normalised number: E.164 numbers have at most 15
// digits and never start with 0, so the digits read as an integer identify the number.
func numberKey(digits string) (uint64, bool) {
	k, err := strconv.ParseUint(digits, 10, 64)
	return k, err == nil
}
