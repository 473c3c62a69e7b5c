package send

import (
	"testing"
	"time"
)

func TestParseHours(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	good := []struct{ in, want string }{
		{"09:00-20:00", "09:00-20:00"},
		{" 9:30 - 17:45 ", "09:30-17:45"},
		{"22:00-06:00", "22:00-06:00"},
		{"08:00-24:00", "08:00-24:00"},
	}
	for _, tt := range good {
		h, err := ParseHours(tt.in, berlin)
		if err != nil {
			t.Errorf("ParseHours(%q): %v", tt.in, err)
			continue
		}
		if h.String() != tt.want || h.Loc != berlin {
			t.Errorf("ParseHours(%q) = %s in %v, want %s in Europe/Berlin", tt.in, h, h.Loc, tt.want)
		}
	}
	for _, in := range []string{"", "09:00", "9-20", "09:00-25:00", "10:00-10:00", "ab:cd-10:00"} {
		if _, err := ParseHours(in, berlin); err == nil {
			t.Errorf("ParseHours(%q) accepted a bad range", in)
		}
	}
}

func TestHours_State(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	day := must(ParseHours("09:00-20:00", berlin))
	night := must(ParseHours("22:00-06:00", berlin))
	in := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		h        Hours
		at       time.Time
		wantOpen bool
		wantNext time.Time
	}{
		{"before opening", day, in("2025-03-14 08:59"), false, in("2025-03-14 09:00")},
		{"at opening", day, in("2025-03-14 09:00"), true, in("2025-03-14 20:00")},
		{"at closing", day, in("2025-03-14 20:00"), false, in("2025-03-15 09:00")},
		{"UTC instant read in Berlin", day, time.Date(2025, 3, 14, 7, 30, 0, 0, time.UTC), false, in("2025-03-14 09:00")},
		{"spring forward day keeps wall clock", day, in("2025-03-29 21:00"), false, in("2025-03-30 09:00")},
		{"over midnight, late evening", night, in("2025-03-14 23:00"), true, in("2025-03-15 06:00")},
		{"over midnight, early morning", night, in("2025-03-15 05:59"), true, in("2025-03-15 06:00")},
		{"over midnight, daytime", night, in("2025-03-15 12:00"), false, in("2025-03-15 22:00")},
		{"any time", Hours{}, in("2025-03-15 03:00"), true, time.Time{}},
		// An edge the spring-forward change skips (02:00 → 03:00 on 2025-03-30) is the end of
		// the gap, 03:00, in every zone: time.Date moved it an hour either way.
		{"closing in the gap", must(ParseHours("01:00-02:30", berlin)), in("2025-03-30 01:30"), true, in("2025-03-30 03:00")},
		{"opening in the gap", must(ParseHours("02:30-05:00", berlin)), in("2025-03-30 01:30"), false, in("2025-03-30 03:00")},
		{"both edges in the gap: closed that day", must(ParseHours("02:15-02:45", berlin)), in("2025-03-30 03:00"), false, in("2025-03-31 02:15")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			open, next := tt.h.State(tt.at)
			if open != tt.wantOpen || !next.Equal(tt.wantNext) {
				t.Errorf("State(%v) = %v, %v; want %v, %v", tt.at, open, next, tt.wantOpen, tt.wantNext)
			}
		})
	}
	// 09:00 on the spring-forward day is 23 hours after 09:00 the day before, not 24.
	_, next := day.State(in("2025-03-29 21:00"))
	if got := next.Sub(in("2025-03-29 09:00")); got != 23*time.Hour {
		t.Errorf("across the DST change the next opening is %v after the last, want 23h", got)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
