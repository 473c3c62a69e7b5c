package send

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"smscast/smpp"
)

// TimeSpec is a --schedule or --validity value: either an instant (At) or an offset from the
// moment each message is submitted (After). The zero TimeSpec means "not set".
type TimeSpec struct {
	At    time.Time
	After time.Duration
}

// timestampLayouts are the accepted instants, tried in order; those without a zone are read
// in the --tz location.
var timestampLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

// ParseTimeSpec parses a duration ("90m", "2h30m", "1d12h": d means 24h) or a timestamp
// (RFC 3339, or "2006-01-02 15:04[:05]" in loc). A timestamp must lie after now (a zero now
// skips that check: a resumed campaign keeps its instants) and before 2038, and a duration
// must be a positive number of seconds, since the SMSC would refuse anything else
// (ESME_RINVSCHED/RINVEXPIRY) or read it wrong.
func ParseTimeSpec(s string, loc *time.Location, now time.Time) (TimeSpec, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return TimeSpec{}, nil
	}
	d, err := parseDays(s)
	if errors.Is(err, errDays) {
		return TimeSpec{}, fmt.Errorf("%q: %w", s, err)
	}
	if err == nil && d > maxDuration {
		return TimeSpec{}, fmt.Errorf("%q: at most %d days; give an earlier time", s, maxDuration/(24*time.Hour))
	}
	if err == nil {
		if d <= 0 {
			return TimeSpec{}, fmt.Errorf("%q: the duration must be positive", s)
		}
		if d%time.Second != 0 {
			// SMPP's relative times count whole seconds: 500ms would go out as 0.
			return TimeSpec{}, fmt.Errorf("%q: SMPP counts whole seconds; give a duration such as 90s or 2h", s)
		}
		t := TimeSpec{After: d}
		if t.long() && !now.IsZero() && now.Add(d).UTC().Year() > lastSMPPYear {
			// It goes out as the instant it ends at (see wireTimes), in two-digit years.
			return TimeSpec{}, fmt.Errorf("%q ends after %d, which SMPP's two-digit years cannot express; give a shorter duration", s, lastSMPPYear)
		}
		return t, nil
	}
	if loc == nil {
		loc = time.Local
	}
	for _, layout := range timestampLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if layout != time.RFC3339 {
			if err := checkWallClock(s, layout, t, loc); err != nil {
				return TimeSpec{}, err
			}
		}
		if !t.After(now) {
			return TimeSpec{}, fmt.Errorf("%q is in the past (now is %s); give a later time or a duration such as 2h",
				s, now.In(loc).Format("2006-01-02 15:04:05 MST"))
		}
		if t.UTC().Year() > lastSMPPYear {
			// Two-digit years: an SMSC reads 38–99 as 19xx, so 2040 would have expired long ago.
			return TimeSpec{}, fmt.Errorf("%q: SMPP writes the year in two digits and can express only years up to %d; give an earlier time or a duration",
				s, lastSMPPYear)
		}
		return TimeSpec{At: t}, nil
	}
	return TimeSpec{}, fmt.Errorf("%q is neither a duration (90m, 2h30m, 1d12h) nor a time (YYYY-MM-DD HH:MM[:SS], or RFC 3339 such as 2025-03-14T09:30:00+01:00)", s)
}

// checkWallClock refuses a local time that a daylight-saving change skips or repeats in loc:
// Go would move the first an hour and pick one of the second, silently.
func checkWallClock(s, layout string, t time.Time, loc *time.Location) error {
	wall, err := time.Parse(layout, s) // the clock reading itself, as UTC
	if err != nil {
		return nil
	}
	reads := func(u time.Time) bool {
		l := u.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC).Equal(wall)
	}
	if !reads(t) {
		return fmt.Errorf("%q does not exist in %s (the clocks skip it); give another time, or one with its offset (RFC 3339)", s, loc)
	}
	for _, d := range []time.Duration{-time.Hour, time.Hour, -30 * time.Minute, 30 * time.Minute} {
		if reads(t.Add(d)) {
			return fmt.Errorf("%q happens twice in %s (the clocks go back); give it with its offset (RFC 3339), such as %s",
				s, loc, t.In(loc).Format(time.RFC3339))
		}
	}
	return nil
}

// lastSMPPYear is the last year SMPP's two-digit years express (pivot 38, SMPP 3.4 App. C).
const lastSMPPYear = 2037

// CheckValidity refuses a validity that ends no later than the schedule is due (both as of
// now; a relative time counts from the submit): every message would expire undelivered.
func CheckValidity(schedule, validity TimeSpec, now time.Time) error {
	if schedule.IsZero() || validity.IsZero() {
		return nil
	}
	if due, ends := schedule.from(now), validity.from(now); !ends.After(due) {
		return fmt.Errorf("--validity %s ends no later than --schedule %s is due: every message would expire undelivered; give a validity that ends after the schedule",
			validity, schedule)
	}
	return nil
}

// from is the instant the spec names, a duration counted from now.
func (t TimeSpec) from(now time.Time) time.Time {
	if !t.At.IsZero() {
		return t.At
	}
	return now.Add(t.After)
}

// maxDuration bounds a relative --schedule or --validity: ten years, far beyond any SMSC's.
const maxDuration = 3650 * 24 * time.Hour

// errDays is a day count out of range.
var errDays = errors.New("the days must be 0 to 3650 (ten years)")

// parseDays is time.ParseDuration with a leading "<n>d" for days.
func parseDays(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.Atoi(days)
	if err != nil {
		return 0, fmt.Errorf("bad day count %q", days)
	}
	if n < 0 || time.Duration(n)*24*time.Hour > maxDuration {
		return 0, errDays
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, err
	}
	return d + r, nil
}

// IsZero reports whether the spec is unset.
func (t TimeSpec) IsZero() bool { return t.At.IsZero() && t.After == 0 }

// SMPP is the 16-character SMPP time for schedule_delivery_time or validity_period: absolute
// (in UTC) for an instant, relative ("…R") for a duration; "" when unset.
func (t TimeSpec) SMPP() string {
	switch {
	case !t.At.IsZero():
		return smpp.FormatAbsoluteTime(t.At)
	case t.After > 0:
		return smpp.FormatRelativeTime(t.After)
	}
	return ""
}

// JournalText is the spec as the journal records it in the campaign's identity: SMPP, except
// that durations of 32 to 99 days keep the form earlier versions wrote (the days in one
// field), so that their journals still resume.
func (t TimeSpec) JournalText() string {
	if t.long() && t.After < 100*24*time.Hour {
		secs := int64(t.After / time.Second)
		return fmt.Sprintf("0000%02d%02d%02d%02d000R", secs/86400, secs/3600%24, secs/60%60, secs%60)
	}
	return t.SMPP()
}

// maxRelativeDays is the longest duration, in whole days, that a relative SMPP time writes
// exactly within its fields' ranges: the day field holds 01–31, and months and years vary in
// length.
const maxRelativeDays = 31

// instantText is the absolute SMPP time t names for a submit at now (a duration counted from
// now), capped at SMPP's last second (ParseTimeSpec refuses a later one at the start).
func (t TimeSpec) instantText(now time.Time) string {
	if t.IsZero() {
		return ""
	}
	return smpp.FormatAbsoluteTime(minTime(t.from(now), lastSMPPInstant))
}

// long reports whether t is a duration too long for SMPP's relative form, which goes out as
// the absolute time (UTC) it ends at (see wireTimes): the relative form cannot write it
// exactly (a strict SMSC refuses a day field over 31, and months vary).
func (t TimeSpec) long() bool {
	return t.At.IsZero() && t.After >= (maxRelativeDays+1)*24*time.Hour
}

// lastSMPPInstant is the last second SMPP's two-digit years express.
var lastSMPPInstant = time.Date(lastSMPPYear, 12, 31, 23, 59, 59, 0, time.UTC)

// wireTimes are --schedule and --validity as each submit_sm carries them. When either is a
// duration too long for the relative form, both go out as instants counted from the same
// second: a relative schedule beside an absolute validity would be counted from the PDU's
// arrival at the SMSC and by its clock, and could pass the validity's end.
type wireTimes struct {
	schedule, validity TimeSpec // set when they go out as instants
	fixed              [2]string
	last               atomic.Pointer[secondTimes]
}

// secondTimes are the SMPP times worked out for submits within one second.
type secondTimes struct {
	sec  int64
	text [2]string
}

func newWireTimes(schedule, validity TimeSpec) *wireTimes {
	if schedule.long() || validity.long() {
		return &wireTimes{schedule: schedule, validity: validity}
	}
	return &wireTimes{fixed: [2]string{schedule.SMPP(), validity.SMPP()}}
}

// at is schedule_delivery_time and validity_period for a submit_sm that leaves at now,
// worked out once per second.
func (w *wireTimes) at(now time.Time) (schedule, validity string) {
	if w.schedule.IsZero() && w.validity.IsZero() {
		return w.fixed[0], w.fixed[1]
	}
	sec := now.Unix()
	l := w.last.Load()
	if l == nil || l.sec != sec {
		base := time.Unix(sec, 0)
		l = &secondTimes{sec: sec, text: [2]string{w.schedule.instantText(base), w.validity.instantText(base)}}
		w.last.Store(l)
	}
	return l.text[0], l.text[1]
}

// String is the spec as a person would write it.
func (t TimeSpec) String() string {
	switch {
	case !t.At.IsZero():
		return t.At.Format(time.RFC3339)
	case t.After > 0:
		return writtenDuration(t.After)
	}
	return ""
}

// writtenDuration is d as ParseTimeSpec reads it and a person writes it: "45d", "1d12h",
// "2h", "1h30m", "90s" (not Go's "1080h0m0s").
func writtenDuration(d time.Duration) string {
	days, rest := d/(24*time.Hour), d%(24*time.Hour)
	s := ""
	if days > 0 {
		s = strconv.FormatInt(int64(days), 10) + "d"
	}
	if rest > 0 || s == "" {
		r := rest.String() // "12h0m0s", "1h30m0s", "1m30s"
		if strings.HasSuffix(r, "m0s") {
			r = strings.TrimSuffix(r, "0s")
		}
		if strings.HasSuffix(r, "h0m") {
			r = strings.TrimSuffix(r, "0m")
		}
		s += r
	}
	return s
}
