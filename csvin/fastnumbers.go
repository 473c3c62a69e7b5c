package csvin

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// fastNumbers gives exactly the answer of
//
//	pn, err := phonenumbers.Parse(number, region)
//	valid := err == nil && phonenumbers.IsValidNumber(pn)
//	out := phonenumbers.Format(pn, phonenumbers.E164)
//
// in about a microsecond instead of tens: libphonenumber evaluates its metadata's regular
// expressions with Go's backtracking regexp, several times per number. It mirrors the
// library's steps (maybeExtractCountryCode, maybeStripNationalPrefixAndCarrierCode,
// testNumberLength, GetRegionCodeForNumber, getNumberTypeHelper) on the same metadata, with
// digitDFA for the full-match and prefix tests. Whatever it does not mirror — non-geographic
// calling codes, Italian leading zeros, a national number that may start with an
// international prefix — it declines (ok false) and the caller asks the library.
// fastnumbers_test.go checks that both agree on every region's example numbers and on
// random numbers around them. Not safe for concurrent use.
type fastNumbers struct {
	codes   [1000]*codeRules // by calling code (at most three digits); nil until first needed
	regions map[string]*regionParse
}

func newFastNumbers() *fastNumbers {
	return &fastNumbers{regions: make(map[string]*regionParse)}
}

var (
	callingCodesOnce sync.Once
	callingCodes     [1000][]string // region ids by calling code, main region first
)

// regionsOf returns phonenumbers.GetRegionCodesForCountryCode(cc) from a table, as the map
// lookup behind it shows in profiles.
func regionsOf(cc int) []string {
	callingCodesOnce.Do(func() {
		for code := range phonenumbers.GetSupportedCallingCodes() {
			if code > 0 && code < len(callingCodes) {
				callingCodes[code] = phonenumbers.GetRegionCodesForCountryCode(code)
			}
		}
	})
	if cc <= 0 || cc >= len(callingCodes) {
		return nil
	}
	return callingCodes[cc]
}

// international handles "+"+digits with no default region.
func (f *fastNumbers) international(digits string) (out string, valid, ok bool) {
	if len(digits) < 3 || digits[0] == '0' {
		return "", false, false
	}
	// extractCountryCode: the shortest prefix that is a calling code.
	cc := 0
	for i := 1; i <= 3 && i < len(digits); i++ {
		cc = cc*10 + int(digits[i-1]-'0')
		ids := regionsOf(cc)
		if len(ids) == 0 {
			continue
		}
		nsn := digits[i:]
		if len(nsn) < 2 {
			return "", false, false
		}
		// parseHelper strips a national prefix with the main region's rules.
		rp := f.region(ids[0])
		if !rp.usable {
			return "", false, false
		}
		stripped, err := rp.strip(nsn)
		if err != nil {
			rp.usable = false
			return "", false, false
		}
		out, valid, ok := f.finish(cc, stripped)
		if ok && stripped == nsn {
			out = digits // the same digits, without building them again
		}
		return out, valid, ok
	}
	return "", false, false
}

// national handles digits without "+" or "00" read in region rp.
func (f *fastNumbers) national(rp *regionParse, digits string) (out string, valid, ok bool) {
	if rp == nil || !rp.usable || len(digits) < 3 {
		return "", false, false
	}
	// maybeExtractCountryCode: an international prefix, or the region's own calling code, at
	// the start takes another branch of the library; leave those to it.
	idd, err := rp.idd.prefix(digits)
	if err != nil || idd || strings.HasPrefix(digits, rp.callingCode) {
		return "", false, false
	}
	nsn, err := rp.strip(digits)
	if err != nil {
		rp.usable = false
		return "", false, false
	}
	return f.finish(rp.cc, nsn)
}

// finish validates the national significant number nsn of calling code cc.
func (f *fastNumbers) finish(cc int, nsn string) (out string, valid, ok bool) {
	// MIN_LENGTH_FOR_NSN, MAX_LENGTH_FOR_NSN, and the Italian leading zero, which the
	// library keeps apart from the national number.
	if len(nsn) < 2 || len(nsn) > 17 || nsn[0] == '0' {
		return "", false, false
	}
	if cc <= 0 || cc >= len(f.codes) {
		return "", false, false
	}
	rules := f.codes[cc]
	if rules == nil {
		rules = loadCode(cc)
		f.codes[cc] = rules
	}
	if !rules.usable {
		return "", false, false
	}
	valid, err := rules.valid(nsn)
	if err != nil {
		rules.usable = false
		return "", false, false
	}
	return strconv.Itoa(cc) + nsn, valid, true
}

// regionParse is what parsing needs of a region's metadata.
type regionParse struct {
	usable         bool
	cc             int
	callingCode    string
	idd            *digitDFA      // international_prefix
	nationalPrefix *regexp.Regexp // "^(?:national_prefix_for_parsing)"; nil when empty
	prefixCanMatch *digitDFA      // the same expression, to skip the regexp when it cannot match
	literalPrefix  string         // the expression when it is plain digits, such as "0"
	transform      string         // national_prefix_transform_rule
	general        *digitDFA      // general_desc national_number_pattern
	possible       []int32        // general_desc possible lengths
	localOnly      []int32        // general_desc local-only lengths
}

func (f *fastNumbers) region(id string) *regionParse {
	if rp, ok := f.regions[id]; ok {
		return rp
	}
	rp := &regionParse{}
	f.regions[id] = rp
	m := metadataFor(id)
	if m == nil || len(m.GetGeneralDesc().GetPossibleLength()) == 0 {
		return rp
	}
	var err error
	if rp.idd, err = newDigitDFA(m.GetInternationalPrefix()); err != nil {
		return rp
	}
	if rp.general, err = newDigitDFA(m.GetGeneralDesc().GetNationalNumberPattern()); err != nil {
		return rp
	}
	if p := m.GetNationalPrefixForParsing(); p != "" {
		// The library's own regexp, so that the match and its groups are the same.
		if rp.nationalPrefix, err = regexp.Compile("^(?:" + p + ")"); err != nil {
			return rp
		}
		if rp.prefixCanMatch, err = newDigitDFA(p); err != nil {
			return rp
		}
		if re, err := syntax.Parse(p, syntax.Perl); err == nil && re.Op == syntax.OpLiteral && re.Flags&syntax.FoldCase == 0 {
			rp.literalPrefix = string(re.Rune)
		}
	}
	rp.cc = int(m.GetCountryCode())
	rp.callingCode = strconv.Itoa(rp.cc)
	rp.transform = m.GetNationalPrefixTransformRule()
	rp.possible = m.GetGeneralDesc().GetPossibleLength()
	rp.localOnly = m.GetGeneralDesc().GetPossibleLengthLocalOnly()
	rp.usable = true
	return rp
}

// strip mirrors maybeStripNationalPrefixAndCarrierCode followed by parseHelper's length test
// of the result.
func (rp *regionParse) strip(number string) (string, error) {
	if rp.nationalPrefix == nil || number == "" {
		return number, nil
	}
	var groups []int
	switch {
	case rp.literalPrefix != "":
		// Most regions: a fixed prefix without groups, whose match is the prefix itself.
		if !strings.HasPrefix(number, rp.literalPrefix) {
			return number, nil
		}
		groups = []int{0, len(rp.literalPrefix)}
	default:
		if can, err := rp.prefixCanMatch.prefix(number); err != nil || !can {
			return number, err
		}
		if groups = rp.nationalPrefix.FindStringSubmatchIndex(number); groups == nil {
			return number, nil
		}
	}
	viable, err := rp.general.full(number)
	if err != nil {
		return "", err
	}
	var potential string
	if last := len(groups)/2 - 1; rp.transform == "" || groups[last*2] < 0 {
		potential = number[groups[1]:]
	} else {
		potential = rp.nationalPrefix.ReplaceAllString(number, rp.transform)
	}
	if viable {
		// A number that was valid before stripping stays unstripped if stripping breaks it.
		ok, err := rp.general.full(potential)
		if err != nil {
			return "", err
		}
		if !ok {
			return number, nil
		}
	}
	if !rp.possibleAfterStrip(len(potential)) {
		return number, nil
	}
	return potential, nil
}

// possibleAfterStrip mirrors testNumberLength(number, metadata, UNKNOWN) being neither
// TOO_SHORT, IS_POSSIBLE_LOCAL_ONLY nor INVALID_LENGTH, for a number of n digits.
func (rp *regionParse) possibleAfterStrip(n int) bool {
	p := rp.possible
	switch {
	case p[0] == -1, containsLength(rp.localOnly, n):
		return false
	case int(p[0]) == n:
		return true // IS_POSSIBLE
	case int(p[0]) > n:
		return false // TOO_SHORT
	case int(p[len(p)-1]) < n:
		return true // TOO_LONG
	}
	return containsLength(p[1:], n)
}

// codeRules is what validation needs of the regions sharing one calling code, in the
// library's order (main region first).
type codeRules struct {
	usable  bool
	regions []regionRules
}

// regionRules mirrors one region's metadata for getRegionCodeForNumberFromRegionList and
// getNumberTypeHelper.
type regionRules struct {
	leadingDigits *digitDFA // nil when the metadata has none
	general       numberDesc
	types         []numberDesc // premium … voicemail, fixed line, and mobile unless same as fixed
}

type numberDesc struct {
	lengths []int32 // possible lengths; empty = any
	pattern *digitDFA
}

// matches mirrors isNumberMatchingDesc.
func (d numberDesc) matches(nsn string) (bool, error) {
	if len(d.lengths) > 0 && !containsLength(d.lengths, len(nsn)) {
		return false, nil
	}
	return d.pattern.full(nsn)
}

func containsLength(lengths []int32, n int) bool {
	for _, l := range lengths {
		if int(l) == n {
			return true
		}
	}
	return false
}

// valid mirrors IsValidNumber: GetRegionCodeForNumber, then IsValidNumberForRegion.
func (c *codeRules) valid(nsn string) (bool, error) {
	if len(c.regions) == 1 {
		return c.regions[0].known(nsn)
	}
	for i := range c.regions {
		r := &c.regions[i]
		var hit bool
		var err error
		if r.leadingDigits != nil {
			hit, err = r.leadingDigits.prefix(nsn)
		} else {
			hit, err = r.known(nsn)
		}
		if err != nil {
			return false, err
		}
		if hit {
			return r.known(nsn)
		}
	}
	return false, nil // no region: the library's "" region is never valid
}

// known mirrors getNumberTypeHelper(nsn, metadata) != UNKNOWN.
func (r *regionRules) known(nsn string) (bool, error) {
	if ok, err := r.general.matches(nsn); !ok || err != nil {
		return false, err
	}
	for _, d := range r.types {
		if ok, err := d.matches(nsn); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

func loadCode(cc int) *codeRules {
	c := &codeRules{}
	for _, id := range regionsOf(cc) {
		m := metadataFor(id)
		if m == nil || int(m.GetCountryCode()) != cc {
			return c
		}
		r, err := loadRegionRules(m)
		if err != nil {
			return c
		}
		c.regions = append(c.regions, r)
	}
	c.usable = len(c.regions) > 0
	return c
}

func loadRegionRules(m *phonenumbers.PhoneMetadata) (regionRules, error) {
	var r regionRules
	var err error
	if m.GetLeadingDigits() != "" {
		if r.leadingDigits, err = newDigitDFA(m.GetLeadingDigits()); err != nil {
			return r, err
		}
	}
	desc := func(d *phonenumbers.PhoneNumberDesc) (numberDesc, error) {
		p, err := newDigitDFA(d.GetNationalNumberPattern())
		return numberDesc{lengths: d.GetPossibleLength(), pattern: p}, err
	}
	if r.general, err = desc(m.GetGeneralDesc()); err != nil {
		return r, err
	}
	// getNumberTypeHelper's order; only "some type matches" matters here.
	types := []*phonenumbers.PhoneNumberDesc{m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(),
		m.GetVoip(), m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine()}
	if !m.GetSameMobileAndFixedLinePattern() {
		types = append(types, m.GetMobile())
	}
	for _, t := range types {
		d, err := desc(t)
		if err != nil {
			return r, err
		}
		r.types = append(r.types, d)
	}
	return r, nil
}

var (
	metadataOnce sync.Once
	metadataByID map[string]*phonenumbers.PhoneMetadata
)

// metadataFor returns the metadata of a geographic region; nil for "001" (non-geographic
// codes share that id) and unknown ids.
func metadataFor(id string) *phonenumbers.PhoneMetadata {
	metadataOnce.Do(func() {
		metadataByID = make(map[string]*phonenumbers.PhoneMetadata)
		coll, err := phonenumbers.MetadataCollection()
		if err != nil {
			return // every number then goes to the library, which reports its own trouble
		}
		for _, m := range coll.GetMetadata() {
			if m.GetId() != "001" {
				metadataByID[m.GetId()] = m
			}
		}
	})
	return metadataByID[id]
}
