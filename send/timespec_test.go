package send

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimeSpec(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		in   string
		want TimeSpec
	}{
		{"", TimeSpec{}},
		{"90m", TimeSpec{After: 90 * time.Minute}},
		{"2h30m", TimeSpec{After: 150 * time.Minute}},
		{"1d", TimeSpec{After: 24 * time.Hour}},
		{"1d12h", TimeSpec{After: 36 * time.Hour}},
		{"2025-03-14T16:30:00Z", TimeSpec{At: time.Date(2025, 3, 14, 16, 30, 0, 0, time.UTC)}},
		{"2025-03-14 17:30", TimeSpec{At: time.Date(2025, 3, 14, 16, 30, 0, 0, time.UTC)}},
		{"2025-03-14 17:30:15", TimeSpec{At: time.Date(2025, 3, 14, 16, 30, 15, 0, time.UTC)}},
		{"2025-03-14T17:30", TimeSpec{At: time.Date(2025, 3, 14, 16, 30, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		got, err := ParseTimeSpec(tt.in, cet, now)
		if err != nil {
			t.Errorf("ParseTimeSpec(%q): %v", tt.in, err)
			continue
		}
		if !got.At.Equal(tt.want.At) || got.After != tt.want.After {
			t.Errorf("ParseTimeSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
	// In the past, not a time, a fraction of a second (SMPP counts seconds), after 2037 (read
	// as 19xx by an SMSC).
	for _, in := range []string{"0s", "-5m", "tomorrow", "2025-03-14 15:59", "2025-03-14T14:00:00Z", "xd", "1dzz",
		"500ms", "1.5s", "2038-01-19 00:00", "2126-12-01 00:00", "3651d", "87625h"} {
		if _, err := ParseTimeSpec(in, cet, now); err == nil {
			t.Errorf("ParseTimeSpec(%q) accepted a bad value", in)
		}
	}
	// A long duration goes out as the instant it ends at: not past 2037 (here from 2029).
	late := time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)
	if _, err := ParseTimeSpec("3200d", cet, late); err == nil || !strings.Contains(err.Error(), "two-digit years") {
		t.Errorf("ParseTimeSpec(3200d) in 2029 = %v, want an error about SMPP's years", err)
	}
	if _, err := ParseTimeSpec("3000d", cet, late); err != nil {
		t.Errorf("ParseTimeSpec(3000d) in 2029: %v, want it to end in 2037", err)
	}
	// A resumed campaign (zero now) keeps an instant that has passed.
	if got, err := ParseTimeSpec("2025-03-14 15:59", cet, time.Time{}); err != nil || !got.At.Equal(time.Date(2025, 3, 14, 14, 59, 0, 0, time.UTC)) {
		t.Errorf("ParseTimeSpec of a passed instant with a zero now = %+v, %v; want it kept", got, err)
	}
}

// A local time that a daylight-saving change skips or repeats is refused, not moved or
// guessed.
func TestParseTimeSpec_daylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"2026-03-29 02:30": "does not exist", // 02:00 → 03:00
		"2026-10-25 02:30": "happens twice",  // 03:00 → 02:00
	} {
		if _, err := ParseTimeSpec(in, berlin, now); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTimeSpec(%q) = %v, want %q", in, err, want)
		}
	}
	if got, err := ParseTimeSpec("2026-03-29 3:30", berlin, now); err != nil || !got.At.Equal(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) {
		t.Errorf("an ordinary time on the day of the change: %+v, %v", got, err)
	}
	if _, err := ParseTimeSpec("2026-10-25T02:30:00+01:00", berlin, now); err != nil {
		t.Errorf("the repeated time with its offset: %v", err)
	}
}

func TestCheckValidity(t *testing.T) {
	now := time.Date(2025, 3, 14, 15, 0, 0, 0, time.UTC)
	at := func(h int) TimeSpec { return TimeSpec{At: time.Date(2025, 3, 14, h, 0, 0, 0, time.UTC)} }
	after := func(h int) TimeSpec { return TimeSpec{After: time.Duration(h) * time.Hour} }
	tests := []struct {
		schedule, validity TimeSpec
		ok                 bool
	}{
		{TimeSpec{}, after(1), true},
		{after(1), TimeSpec{}, true},
		{after(1), after(2), true},
		{after(2), after(1), false},
		{after(2), after(2), false},
		{at(18), at(19), true},
		{at(19), at(18), false},
		{after(2), at(16), false}, // due at 17:00, ends at 16:00
		{at(16), after(2), true},  // due at 16:00, ends at 17:00
	}
	for _, tt := range tests {
		err := CheckValidity(tt.schedule, tt.validity, now)
		if (err == nil) != tt.ok {
			t.Errorf("CheckValidity(%v, %v) = %v, want ok %v", tt.schedule, tt.validity, err, tt.ok)
		}
	}
}

func TestTimeSpec_SMPP(t *testing.T) {
	tests := []struct {
		spec TimeSpec
		want string
	}{
		{TimeSpec{}, ""},
		{TimeSpec{At: time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC)}, "250314153000000+"},
		{TimeSpec{At: time.Date(2025, 3, 14, 16, 30, 0, 0, time.FixedZone("CET", 3600))}, "250314153000000+"},
		{TimeSpec{After: time.Hour}, "000000010000000R"},
		{TimeSpec{After: 54 * time.Hour}, "000002060000000R"},
	}
	for _, tt := range tests {
		if got := tt.spec.SMPP(); got != tt.want {
			t.Errorf("%+v.SMPP() = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

// What a submit_sm carries: the relative form up to 31 days (its day field's range), the
// instant the duration ends at from 32 days on, never past SMPP's last year.
func TestWireTimes_validity(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))
	day := 24 * time.Hour
	tests := []struct {
		spec TimeSpec
		want string
	}{
		{TimeSpec{}, ""},
		{TimeSpec{After: 6 * time.Hour}, "000000060000000R"},
		{TimeSpec{After: 31*day + 23*time.Hour + 59*time.Minute + 59*time.Second}, "000031235959000R"},
		{TimeSpec{After: 32 * day}, "300203020405000+"},
		{TimeSpec{After: 45*day + 90*time.Minute}, "300216033405000+"},
		{TimeSpec{After: 3650 * day}, "371231235959000+"},
		{TimeSpec{At: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}, "310506070809000+"},
	}
	for _, tt := range tests {
		if _, got := newWireTimes(TimeSpec{}, tt.spec).at(now); got != tt.want {
			t.Errorf("validity %+v at %v: %q, want %q", tt.spec, now, got, tt.want)
		}
	}
}

// The journal records long durations as earlier versions did, so that their journals resume.
func TestTimeSpec_JournalText(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		spec TimeSpec
		want string
	}{
		{TimeSpec{After: 6 * time.Hour}, "000000060000000R"},
		{TimeSpec{After: 45*day + 90*time.Minute + time.Second}, "000045013001000R"},
		{TimeSpec{After: 100 * day}, "000310000000000R"},
		{TimeSpec{At: time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)}, "310506070809000+"},
	} {
		if got := tt.spec.JournalText(); got != tt.want {
			t.Errorf("%+v.JournalText() = %q, want %q", tt.spec, got, tt.want)
		}
	}
}

// Durations in messages read as the user writes them.
func TestTimeSpec_String(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * 24 * time.Hour: "45d", 36 * time.Hour: "1d12h", 2 * time.Hour: "2h", 90 * time.Minute: "1h30m",
		90 * time.Second: "1m30s", 24*time.Hour + time.Second: "1d1s", 5 * time.Second: "5s",
	} {
		if got := (TimeSpec{After: d}).String(); got != want {
			t.Errorf("TimeSpec{After: %v}.String() = %q, want %q", d, got, want)
		}
		if back, err := ParseTimeSpec(want, nil, time.Now()); err != nil || back.After != d {
			t.Errorf("ParseTimeSpec(%q) = %v, %v; want %v back", want, back.After, err, d)
		}
	}
}
