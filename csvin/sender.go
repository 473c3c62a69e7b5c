package csvin

import (
	"fmt"
	"strings"

	"smscast/smpp/coding"
)

// Type of number and numbering plan values for source_addr_ton and source_addr_npi.
const (
	tonInternational   = 1
	tonNetworkSpecific = 3
	tonAlphanumeric    = 5
	npiUnknown         = 0
	npiISDN            = 1
)

// maxAlphanumericSender is the longest alphanumeric sender in septets: GSM 03.40 carries it
// as at most 11 characters of the default alphabet.
const maxAlphanumericSender = 11

// sender is a source address ready for submit_sm.
type sender struct {
	addr     string
	ton, npi uint8
}

// parseSender chooses TON/NPI from the sender's form:
//   - "" (no sender): 0/0, the SMSC fills it in;
//   - 3 to 8 digits: a short code, 3/0 (network specific);
//   - "+" and digits, "00" and digits, or 9 to 15 digits: an international number, 1/1,
//     sent as digits without "+" or "00";
//   - anything else: alphanumeric, 5/0, at most 11 GSM characters (an extension character
//     such as [ counts twice), all of them ASCII.
//
// The error says what is wrong and what to do.
func parseSender(s string) (sender, error) {
	s = trimCell(s)
	if err := checkSenderForm(s); err != nil {
		return sender{}, err
	}
	// Numbers may be written with the usual separators: "+49 171 123-4567".
	d := senderDigits(s)
	switch {
	case s == "":
		return sender{}, nil
	case strings.HasPrefix(d, "+"):
		if !allDigits(d[1:]) {
			return sender{}, fmt.Errorf("sender %q starts with + but is not all digits; write an international number as +<digits>, or use a name", s)
		}
		return internationalSender(s, d[1:])
	case allDigits(d) && strings.HasPrefix(d, "00"):
		return internationalSender(s, d[2:])
	case allDigits(d) && len(d) < 3:
		return sender{}, fmt.Errorf("sender %q is too short for a short code (3 to 8 digits); use a name or a number with its country code", s)
	case allDigits(d) && len(d) <= 8:
		return sender{addr: d, ton: tonNetworkSpecific, npi: npiUnknown}, nil
	case allDigits(d) && d[0] == '0':
		return sender{}, fmt.Errorf("sender %q looks like a national number; write it with its country code (+<country code><number>)", s)
	case allDigits(d):
		return internationalSender(s, d)
	}
	septets, ok := coding.GSM7Len(s)
	if !ok {
		return sender{}, fmt.Errorf("sender %q has characters outside the GSM alphabet; use letters, digits and common punctuation", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7E }); i >= 0 {
		// source_addr is octets that SMSCs read as ASCII: UTF-8 would reach the handset
		// garbled, or overflow the field's 20 octets.
		return sender{}, fmt.Errorf("sender %q has %q, which is not ASCII; SMSCs take a name as ASCII, so write it without accents", s, []rune(s[i:])[0])
	}
	if septets > maxAlphanumericSender {
		return sender{}, fmt.Errorf("sender %q is %d GSM characters long, but an alphanumeric sender has at most %d; shorten it", s, septets, maxAlphanumericSender)
	}
	return sender{addr: s, ton: tonAlphanumeric, npi: npiUnknown}, nil
}

func senderDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(" -()./", r) {
			return -1
		}
		return r
	}, s)
}

// checkSenderForm refuses what a spreadsheet makes of a sender number: scientific notation
// ("4.91711E+11", the digits lost) would pass as a name, and a float ("491711234567.0"),
// stripped of its point, as another number.
func checkSenderForm(s string) error {
	switch {
	case isScientific(s):
		return fmt.Errorf("sender %q is in scientific notation (a spreadsheet turned the number into one and lost its digits); format the column as text and export again", s)
	case hasDecimalZeros(s):
		return fmt.Errorf("sender %q ends in a decimal part (a spreadsheet or script stored the column as numbers); format the column as text and export again", s)
	}
	return nil
}

// parseRowSender is parseSender for a row's from cell, which also refuses a date or a time:
// a recipients column named from that holds something else (an appointment's start) would
// otherwise send every message from "10:00", or from the short code a date makes.
func parseRowSender(cell string) (sender, error) {
	if s := trimCell(cell); looksLikeDateOrTime(s) {
		return sender{}, fmt.Errorf("sender %q looks like a date or a time, not a name or a number; a recipients column named from is each row's sender: if it holds something else, rename it", s)
	}
	return parseSender(cell)
}

// looksLikeDateOrTime reports whether s is a time ("10:00", "9:30:00", "10:00 AM") or a date
// of three digit groups with one separator ("2025-05-02", "02.05.2025", "5/2/25"), possibly
// followed by a time. No sender is written so: numbers are grouped otherwise, and a name with
// a colon between digits is no brand.
func looksLikeDateOrTime(s string) bool {
	if date, clock, ok := strings.Cut(s, " "); ok && isDate(date) && (isTime(clock) || clock == "") {
		return true
	}
	return isDate(s) || isTime(s)
}

// isDate: year-month-day with 4+1..2+1..2 digits, or day and month first with a 2- or
// 4-digit year, with one of - . / as the separator throughout.
func isDate(s string) bool {
	for _, sep := range []string{"-", ".", "/"} {
		g := strings.Split(s, sep)
		if len(g) != 3 || !allDigits(g[0]) || !allDigits(g[1]) || !allDigits(g[2]) {
			continue
		}
		a, b, c := len(g[0]), len(g[1]), len(g[2])
		if (a == 4 && b <= 2 && c <= 2) || (a <= 2 && b <= 2 && (c == 2 || c == 4)) {
			return true
		}
	}
	return false
}

// isTime: 1 or 2 digits, a colon, 2 digits, optionally :2 digits and AM/PM.
func isTime(s string) bool {
	s = strings.TrimSpace(s)
	if u := strings.ToUpper(s); strings.HasSuffix(u, "AM") || strings.HasSuffix(u, "PM") {
		s = strings.TrimSpace(s[:len(s)-2])
	}
	g := strings.Split(s, ":")
	if len(g) < 2 || len(g) > 3 || len(g[0]) < 1 || len(g[0]) > 2 || !allDigits(g[0]) {
		return false
	}
	for _, x := range g[1:] {
		if len(x) != 2 || !allDigits(x) {
			return false
		}
	}
	return true
}

// internationalSender checks the digits of an international sender number. Where
// libphonenumber knows the number it gives the digits, so that a national prefix written after
// the country code ("+49 (0)171 …", "+44 0 20 …") is dropped where the country drops it and
// kept where it belongs to the number (Italy); else a bracketed "(0)" is dropped, as the
// convention means, and the digits are taken as written.
func internationalSender(s, digits string) (sender, error) {
	if out, ok := libraryCheck("+"+digits, "ZZ"); ok {
		digits = out
	} else if written := strings.Replace(s, "(0)", "", 1); written != s {
		d := strings.TrimLeft(senderDigits(written), "+")
		if strings.HasPrefix(strings.TrimSpace(s), "00") {
			d = strings.TrimPrefix(d, "00")
		}
		if out, ok := libraryCheck("+"+d, "ZZ"); ok {
			digits = out
		} else {
			digits = d
		}
	}
	switch {
	case digits == "" || digits[0] == '0':
		return sender{}, fmt.Errorf("sender %q has no country code after + or 00; write it as +<country code><number>", s)
	case len(digits) < 7:
		return sender{}, fmt.Errorf("sender %q is too short for an international number; check it", s)
	case len(digits) > 15:
		return sender{}, fmt.Errorf("sender %q has %d digits, but an international number has at most 15; check it", s, len(digits))
	}
	return sender{addr: digits, ton: tonInternational, npi: npiISDN}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
