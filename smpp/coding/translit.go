package coding

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// lookalikes maps characters that have no GSM 03.38 code, and so would force UCS-2, to GSM
// text that reads the same. Only punctuation, spaces and invisible characters are here:
// letters are left alone because changing a letter changes the word.
var lookalikes = map[rune]string{
	// Single quotes, apostrophes, primes and accents used as apostrophes.
	'\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u2032': "'", '\u2035': "'",
	'\u2039': "'", '\u203A': "'", '\u02B9': "'", '\u02BB': "'", '\u02BC': "'", '\u02C8': "'",
	'`': "'", '\u00B4': "'",
	// Double quotes and guillemets.
	'\u201C': `"`, '\u201D': `"`, '\u201E': `"`, '\u201F': `"`, '\u2033': `"`, '\u2036': `"`,
	'\u00AB': `"`, '\u00BB': `"`, '\u02BA': `"`,
	// Hyphens, dashes and the minus sign.
	'\u2010': "-", '\u2011': "-", '\u2012': "-", '\u2013': "-", '\u2014': "-", '\u2015': "-",
	'\u2212': "-", '\u2043': "-",
	// Bullets.
	'\u2022': "-", '\u2023': "-", '\u2219': "-", '\u25E6': "-",
	// Tab, no-break and typographic spaces.
	'\t': " ", '\u00A0': " ", '\u2000': " ", '\u2001': " ", '\u2002': " ", '\u2003': " ",
	'\u2004': " ", '\u2005': " ", '\u2006': " ", '\u2007': " ", '\u2008': " ", '\u2009': " ",
	'\u200A': " ", '\u202F': " ", '\u205F': " ", '\u3000': " ",
	// Line and paragraph separators.
	'\u2028': "\n", '\u2029': "\n",
	// Invisible characters left by copy and paste: soft hyphen, zero-width space, word
	// joiner, byte order mark, left-to-right and right-to-left marks.
	'\u00AD': "", '\u200B': "", '\u2060': "", '\uFEFF': "", '\u200E': "", '\u200F': "",
	// Ellipsis, dot leader, slashes, circumflex, tilde, broken bar, multiplication sign.
	'\u2026': "...", '\u2024': ".", '\u2044': "/", '\u2215': "/", '\u02C6': "^", '\u02DC': "~",
	'\u00A6': "|", '\u00D7': "x",
}

// Transliterate replaces look-alike characters that have no GSM 03.38 code (curly quotes,
// dashes, the minus sign, no-break and other Unicode spaces, the ellipsis, bullets, invisible
// zero-width characters, ...) with GSM text that reads the same, so that one stray character
// does not turn a GSM 7-bit message into a UCS-2 one of twice the parts.
//
// It changes the text only when that makes all of it GSM 7-bit: a text that is already GSM, or
// that keeps some other non-GSM character (Cyrillic, an emoji, ...) and so needs UCS-2 anyway,
// comes back unchanged with changed false. changed true therefore means transliteration
// switched the text from UCS-2 to GSM 7-bit.
func Transliterate(s string) (out string, changed bool) {
	if _, ok := GSM7Len(s); ok {
		return s, false
	}
	// Composed letters first: an e followed by a combining acute (U+0301), as macOS and some
	// keyboards write it, is the GSM é; the two are the same text to Unicode.
	composed := norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(composed))
	for _, r := range composed {
		if gsmCodeOf(r) != 0 {
			b.WriteRune(r)
			continue
		}
		rep, ok := lookalikes[r]
		if !ok {
			return s, false
		}
		b.WriteString(rep)
	}
	return b.String(), true
}
