package csvin

import (
	"strings"
	"testing"

	"smscast/smpp/coding"
)

func TestSummary_Write(t *testing.T) {
	var s Summary
	msg := func(enc coding.Encoding, parts int) coding.Message {
		return coding.Message{Encoding: enc, Parts: make([]coding.Part, parts)}
	}
	for range 3 {
		s.Add(Row{Status: StatusOK, Message: msg(coding.GSM7, 1)})
	}
	s.Add(Row{Status: StatusOK, Message: msg(coding.UCS2, 3), Transliterated: false})
	s.Add(Row{Status: StatusOK, Message: msg(coding.GSM7, 1), Transliterated: true, SavedParts: 1})
	s.Add(Row{Status: StatusInvalid, Err: &RowError{File: "r.csv", Err: problem(ErrInvalidNumber, "x")}})
	s.Add(Row{Status: StatusInvalid, Err: &RowError{File: "r.csv", Err: problem(ErrInvalidNumber, "y")}})
	s.Add(Row{Status: StatusInvalid, Err: &RowError{File: "r.csv", Err: problem(ErrTooManyParts, "z")}})
	s.Add(Row{Status: StatusDuplicate})
	s.Add(Row{Status: StatusExcluded})
	var b strings.Builder
	if err := s.Write(&b, Estimate{PricePerPart: 1234.5, Rate: 0.5}); err != nil {
		t.Fatal(err)
	}
	want := `rows                           10
  ok                            5  will be sent
  invalid                       3  not sent: see the reasons above and in the plan
    invalid number              2
    too many parts              1
  duplicate                     1  skipped: same number as an earlier row
  excluded                      1  skipped: on the opt-out list
encodings
  gsm7                          4
  ucs2                          1
parts per message
    1 ########################################            4
    3 ##########                                          1
total parts                     7  submit_sm PDUs: what the carrier bills
transliterated                  1  rows made GSM 7-bit, saving 1 parts
estimated cost           8,641.50  7 parts × 1234.5 (--price-per-part)
estimated time                14s  at 0.5 parts/s (--rate), without retries
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
	if s.Parts != 7 || s.OK != 5 || s.InvalidBy["invalid number"] != 2 {
		t.Errorf("counts %+v", s)
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
