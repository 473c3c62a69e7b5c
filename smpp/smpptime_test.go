package smpp

import (
	"strings"
	"testing"
	"time"
)

// The table of SMPP.md §7.
func TestParseTime_SheetTable(t *testing.T) {
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
	instant := time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"250314153000000+", instant},
		{"250314163000004+", instant},
		{"250314103000020-", instant},
		{"250314210000022+", instant},
		{"000000010000000R", now.Add(time.Hour)},
		{"000002060000000R", now.Add(54 * time.Hour)},
		{"020610233429000R", time.Date(2027, 9, 24, 23+12, 34, 29, 0, time.UTC)},
		{"250314153000500+", instant.Add(500 * time.Millisecond)},
		{"250314153000", instant},                                         // SMSC short form
		{"380101000000000+", time.Date(1938, 1, 1, 0, 0, 0, 0, time.UTC)}, // century pivot
		{"371231235959000+", time.Date(2037, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"240229000000000+", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"", time.Time{}},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in, now)
		if err != nil {
			t.Errorf("ParseTime(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseTime_Errors(t *testing.T) {
	for _, in := range []string{
		"2503141530",        // too short
		"25031415300000+",   // 15
		"250314153000000X",  // bad sign
		"25031415300000a+",  // not a digit
		"251314153000000+",  // month 13
		"250230153000000+",  // 30 February
		"250314243000000+",  // hour 24
		"250314156000000+",  // minute 60
		"250314153000049+",  // offset 49 quarters
		"000000010000000r",  // lower-case r
		"2503141530000000+", // 17
	} {
		if _, err := ParseTime(in, time.Now()); err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("ParseTime(%q): err = %v, want an error quoting the input", in, err)
		}
	}
}

func TestFormatAbsoluteTime(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC), "250314153000000+"},
		{time.Date(2025, 3, 14, 16, 30, 0, 0, cet), "250314153000000+"},
		{time.Date(2001, 1, 2, 3, 4, 5, 987654321, time.UTC), "010102030405900+"},
		{time.Time{}, ""},
	}
	for _, tt := range tests {
		got := FormatAbsoluteTime(tt.in)
		if got != tt.want {
			t.Errorf("FormatAbsoluteTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got == "" {
			continue
		}
		back, err := ParseTime(got, time.Time{})
		if err != nil || !back.Equal(tt.in.Truncate(100*time.Millisecond)) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", got, back, err, tt.in)
		}
	}
}

// A relative time keeps each field in its range (a strict SMSC refuses a day field of 45), so
// durations past 31 days are written in 365-day years and 30-day months.
func TestParseTime_relativeFieldsInRange(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []string{"000045000000000R", "001300000000000R", "000000240000000R", "000000006000000R", "000000000060000R"} {
		if got, err := ParseTime(s, now); err == nil {
			t.Errorf("ParseTime(%q) = %v, want an error: a field out of range", s, got)
		}
	}
	if got, err := ParseTime("991231235959000R", now); err != nil || got.Year() != 2125 {
		t.Errorf("ParseTime of the largest relative time = %v, %v", got, err)
	}
}

func TestFormatRelativeTime(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{time.Hour, "000000010000000R"},
		{54 * time.Hour, "000002060000000R"},
		{31*24*time.Hour + 23*time.Hour + 59*time.Minute + 59*time.Second + 999*time.Millisecond, "000031235959000R"},
		{45 * 24 * time.Hour, "000115000000000R"},
		{100 * 24 * time.Hour, "000310000000000R"},
		{400*24*time.Hour + time.Second, "010105000001000R"},
		{200 * 365 * 24 * time.Hour, "990000000000000R"},
		{0, ""},
		{-time.Hour, ""},
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		got := FormatRelativeTime(tt.in)
		if got != tt.want {
			t.Errorf("FormatRelativeTime(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got == "" || tt.in >= 32*24*time.Hour {
			continue
		}
		back, err := ParseTime(got, now)
		if want := now.Add(tt.in.Truncate(time.Second)); err != nil || !back.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", got, back, err, want)
		}
	}
}
