package csvin

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// numberSamples returns, for every calling code, every region's example numbers and random
// variations of them (kept prefix, changed tail and length) as national significant numbers.
func numberSamples(variants int) map[int][]string {
	types := []phonenumbers.PhoneNumberType{phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
		phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER,
		phonenumbers.PAGER, phonenumbers.UAN, phonenumbers.VOICEMAIL}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make(map[int][]string)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		for _, region := range phonenumbers.GetRegionCodesForCountryCode(cc) {
			for _, typ := range types {
				ex := phonenumbers.GetExampleNumberForType(region, typ)
				if ex == nil {
					continue
				}
				nsn := phonenumbers.GetNationalSignificantNumber(ex)
				out[cc] = append(out[cc], nsn)
				for range variants {
					keep := rng.IntN(len(nsn) + 1)
					length := max(keep, len(nsn)+rng.IntN(5)-2)
					b := []byte(nsn[:keep])
					for len(b) < length {
						b = append(b, byte('0'+rng.IntN(10)))
					}
					out[cc] = append(out[cc], string(b))
				}
			}
		}
		for range variants {
			b := make([]byte, 1+rng.IntN(16))
			for i := range b {
				b[i] = byte('0' + rng.IntN(10))
			}
			out[cc] = append(out[cc], string(b))
		}
	}
	return out
}

func sortedCodes(m map[int][]string) []int {
	codes := make([]int, 0, len(m))
	for cc := range m {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	return codes
}

// TestFastNumbers_agreesWithLibrary compares the fast path with libphonenumber itself, for
// international numbers of every calling code and national numbers of a range of regions
// with different national prefixes, transform rules and shared calling codes.
func TestFastNumbers_agreesWithLibrary(t *testing.T) {
	variants := 6
	if testing.Short() || raceEnabled {
		variants = 1
	}
	samples := numberSamples(variants)
	f := newFastNumbers()
	var checked, fast int
	compare := func(number, region string, out string, valid, ok bool) {
		t.Helper()
		checked++
		if !ok {
			return
		}
		fast++
		wantOut, wantValid := libraryCheck(number, region)
		if valid != wantValid || (valid && out != wantOut) {
			t.Errorf("%s in %s: fast path gives %q valid=%v, libphonenumber %q valid=%v", number, region, out, valid, wantOut, wantValid)
		}
	}
	for _, cc := range sortedCodes(samples) {
		prefix := strconv.Itoa(cc)
		for _, nsn := range samples[cc] {
			out, valid, ok := f.international(prefix + nsn)
			compare("+"+prefix+nsn, "ZZ", out, valid, ok)
			// The same with the national prefix written after the calling code, "+49 (0) …".
			out, valid, ok = f.international(prefix + "0" + nsn)
			compare("+"+prefix+"0"+nsn, "ZZ", out, valid, ok)
		}
	}
	for _, region := range []string{"DE", "GB", "GG", "FR", "US", "CA", "RU", "KZ", "AR", "BR", "MX", "IT", "ES", "IN", "CN", "AU", "NL", "CH", "AT", "JP"} {
		rp := f.region(region)
		cc := phonenumbers.GetCountryCodeForRegion(region)
		np := phonenumbers.GetNddPrefixForRegion(region, true)
		for _, nsn := range samples[cc] {
			for _, number := range []string{np + nsn, nsn, np + "15" + nsn, np + np + nsn} {
				out, valid, ok := f.national(rp, number)
				compare(number, region, out, valid, ok)
			}
		}
	}
	t.Logf("%d numbers, %d on the fast path", checked, fast)
	if fast < checked/2 {
		t.Errorf("only %d of %d numbers took the fast path", fast, checked)
	}
}

func FuzzFastNumbers(f *testing.F) {
	for _, s := range []string{"491711234567", "4901711234567", "12025550123", "5491123456789", "390612345678", "80012345678"} {
		f.Add(s, "")
	}
	f.Add("01711234567", "DE")
	f.Add("89123456789", "RU")
	f.Add("0111234567890", "US")
	fast := newFastNumbers()
	f.Fuzz(func(t *testing.T, digits, region string) {
		if len(digits) > 20 || len(region) > 3 {
			return
		}
		for _, r := range digits {
			if r < '0' || r > '9' {
				return
			}
		}
		if region == "" {
			if out, valid, ok := fast.international(digits); ok {
				if wantOut, wantValid := libraryCheck("+"+digits, "ZZ"); valid != wantValid || (valid && out != wantOut) {
					t.Errorf("+%s: fast %q %v, library %q %v", digits, out, valid, wantOut, wantValid)
				}
			}
			return
		}
		if phonenumbers.GetCountryCodeForRegion(region) == 0 {
			return
		}
		if out, valid, ok := fast.national(fast.region(region), digits); ok {
			if wantOut, wantValid := libraryCheck(digits, region); valid != wantValid || (valid && out != wantOut) {
				t.Errorf("%s in %s: fast %q %v, library %q %v", digits, region, out, valid, wantOut, wantValid)
			}
		}
	})
}
