package send

import (
	"fmt"
	"strings"
	"time"
)

// Hours is a daily range of wall-clock time in which sending is allowed (--send-between
// 09:00-20:00 with --tz), so that a campaign never texts people at night. From is inclusive,
// To exclusive; a range whose To is earlier than its From runs over midnight (22:00-06:00).
// The zero Hours allows any time.
type Hours struct {
	From, To clock
	Loc      *time.Location // nil means UTC
}

// clock is a time of day in minutes after midnight.
type clock int

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c/60, c%60) }

// ParseHours parses "HH:MM-HH:MM" in loc.
func ParseHours(s string, loc *time.Location) (Hours, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Hours{}, fmt.Errorf("send-between %q: want HH:MM-HH:MM, e.g. 09:00-20:00", s)
	}
	f, err := parseClock(from)
	if err != nil {
		return Hours{}, fmt.Errorf("send-between %q: %w", s, err)
	}
	t, err := parseClock(to)
	if err != nil {
		return Hours{}, fmt.Errorf("send-between %q: %w", s, err)
	}
	if f == t {
		return Hours{}, fmt.Errorf("send-between %q: the range is empty; leave the flag out to send at any time", s)
	}
	if loc == nil {
		loc = time.UTC
	}
	return Hours{From: f, To: t, Loc: loc}, nil
}

func parseClock(s string) (clock, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		// 24:00 is a natural way to say "until midnight".
		if strings.TrimSpace(s) == "24:00" {
			return 24 * 60, nil
		}
		return 0, fmt.Errorf("%q is not a time of day HH:MM (00:00 to 24:00)", s)
	}
	return clock(t.Hour()*60 + t.Minute()), nil
}

// IsZero reports whether h allows any time.
func (h Hours) IsZero() bool { return h.From == h.To }

// State reports whether t lies inside the allowed hours and when that next changes (the
// opening time when closed, the closing time when open). Days are counted in h.Loc, so a
// daylight-saving change moves the boundaries with the clock on the wall.
func (h Hours) State(t time.Time) (open bool, next time.Time) {
	if h.IsZero() {
		return true, time.Time{}
	}
	loc := h.Loc
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	at := func(dayOffset int, c clock) time.Time {
		y, m, d := t.Date()
		return wallTime(time.Date(y, m, d+dayOffset, 0, int(c), 0, 0, time.UTC), loc)
	}
	if h.From < h.To {
		from, to := at(0, h.From), at(0, h.To)
		switch {
		case t.Before(from):
			return false, from
		case t.Before(to):
			return true, to
		default:
			return false, at(1, h.From)
		}
	}
	// Over midnight: open from From until midnight and from midnight until To.
	to, from := at(0, h.To), at(0, h.From)
	switch {
	case t.Before(to):
		return true, to
	case t.Before(from):
		return false, from
	default:
		return true, at(1, h.To)
	}
}

// wallTime is the first instant at which the clocks in loc read wall (given as UTC fields)
// or later: the instant itself, or, for a time a daylight-saving change skips, the end of the
// gap (02:30 on the spring-forward day is 03:00), where time.Date would move it an hour either
// way by the zone.
func wallTime(wall time.Time, loc *time.Location) time.Time {
	u := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc)
	reads := func(v time.Time) time.Time {
		l := v.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
	}
	if reads(u).Equal(wall) {
		return u
	}
	// In a gap: the clock reading rises with time around it; find where it passes wall.
	lo, hi := u.Add(-3*time.Hour), u.Add(3*time.Hour)
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if reads(mid).Before(wall) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi.Truncate(time.Second)
}

// String is the --send-between form, "09:00-20:00".
func (h Hours) String() string {
	if h.IsZero() {
		return ""
	}
	return h.From.String() + "-" + h.To.String()
}
