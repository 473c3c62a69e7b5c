package csvin

import (
	"fmt"
	"regexp"
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
		s.Add(Row{Status: StatusOK, Message: msg(coding.GSM7, 1), From: "Shop"})
	}
	s.Add(Row{Status: StatusOK, Message: msg(coding.UCS2, 3), Transliterated: false})
	s.Add(Row{Status: StatusOK, Message: msg(coding.GSM7, 1), Transliterated: true, SavedParts: 1, From: "491711234567"})
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
senders
  Shop                          3
  (none: the SMSC's default)    1
  491711234567                  1
parts per message
    1 ########################################            4
    3 ##########                                          1
total parts                     7  submit_sm PDUs: what the carrier bills
transliterated                  1  rows with look-alikes replaced, saving 1 parts
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

// TestSummary_WriteLongLabel: a label longer than the usual column (an invalid reason such as
// "wrong number of fields") widens the column for every line, so the numbers stay aligned
// (it printed "    wrong number of fields            1").
func TestSummary_WriteLongLabel(t *testing.T) {
	var s Summary
	s.Add(Row{Status: StatusOK, Message: coding.Message{Encoding: coding.GSM7, Parts: make([]coding.Part, 1)}})
	s.Add(Row{Status: StatusInvalid, Err: &RowError{File: "r.csv", Err: problem(ErrFieldCount, "x")}})
	var b strings.Builder
	if err := s.Write(&b, Estimate{}); err != nil {
		t.Fatal(err)
	}
	want := `rows                            2
  ok                            1  will be sent
  invalid                       1  not sent: see the reasons above and in the plan
    wrong number of fields      1
  duplicate                     0  skipped: same number as an earlier row
  excluded                      0  skipped: on the opt-out list
encodings
  gsm7                          1
senders
  (none: the SMSC's default)    1
parts per message
    1 ########################################            1
total parts                     1  submit_sm PDUs: what the carrier bills
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}

	// With a 9-character number the long label no longer fits: every line widens with it.
	s.Invalid, s.InvalidBy[ErrFieldCount.Error()] = 1234567, 1234567
	b.Reset()
	if err := s.Write(&b, Estimate{}); err != nil {
		t.Fatal(err)
	}
	fact := regexp.MustCompile(`^ *[a-z][a-z0-9 ]* +[0-9,]+( |$)`) // not the histogram or a heading
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		if m := fact.FindString(l); m != "" && len(strings.TrimSuffix(m, " ")) != len("    wrong number of fields 1,234,567") {
			t.Errorf("the number of %q is not aligned with the longest label's", l)
		}
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

// With --split payload one submit_sm carries a long message, which the SMSC splits: the
// summary bills the SMS, not the PDUs.
func TestSummary_PayloadBillsSMS(t *testing.T) {
	var s Summary
	s.Add(Row{Status: StatusOK, Message: coding.Message{Encoding: coding.GSM7, Parts: make([]coding.Part, 1), SMS: 3}})
	s.Add(Row{Status: StatusOK, Message: coding.Message{Encoding: coding.GSM7, Parts: make([]coding.Part, 1), SMS: 1}})
	var b strings.Builder
	if err := s.Write(&b, Estimate{PricePerPart: 0.1}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"total parts                     2  submit_sm PDUs (--split payload: the SMSC splits each message)",
		"SMS                             4  what the handsets receive and the carrier bills",
		"estimated cost               0.40  4 parts × 0.1 (--price-per-part)",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}

// A campaign with a sender per row lists the first maxSenders and counts the rest together.
func TestSummary_manySenders(t *testing.T) {
	var s Summary
	one := coding.Message{Encoding: coding.GSM7, Parts: make([]coding.Part, 1)}
	for i := range maxSenders + 5 {
		s.Add(Row{Status: StatusOK, Message: one, From: fmt.Sprintf("Shop%02d", i)})
	}
	s.Add(Row{Status: StatusOK, Message: one, From: "Shop00"})
	var b strings.Builder
	if err := s.Write(&b, Estimate{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(s.Senders) != maxSenders || s.OtherSenders != 5 || s.Senders["Shop00"] != 2 ||
		!strings.Contains(out, "  Shop00                        2\n") || !strings.Contains(out, "  other senders                 5\n") ||
		strings.Contains(out, "Shop20") {
		t.Errorf("senders %v, others %d; summary:\n%s", s.Senders, s.OtherSenders, out)
	}
}
