package smpp

import (
	"fmt"
	"time"
)

// The SMPP time format (SMPP.md §7) is "YYMMDDhhmmsstnnp": two-digit year to second, tenths,
// the offset from UTC in quarter hours and its sign, or 'R' for a time relative to the SMSC's
// clock. Two-digit years pivot at 38 [S34 App. C]: 00–37 are 20xx, 38–99 are 19xx.
const centuryPivot = 38

// FormatAbsoluteTime returns t as a 16-character absolute SMPP time in UTC, e.g.
// "250314153000000+", with tenths of a second and a zero offset. The zero time returns ""
// (the field's "not set": deliver now, or the SMSC's default validity). Two digits hold the
// year, so only 1938–2037 come back as written (see centuryPivot); other years are written
// modulo 100 and an SMSC reads them a century off.
func FormatAbsoluteTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	u := t.UTC()
	return fmt.Sprintf("%02d%02d%02d%02d%02d%02d%d00+", u.Year()%100, int(u.Month()), u.Day(),
		u.Hour(), u.Minute(), u.Second(), u.Nanosecond()/1e8)
}

// FormatRelativeTime returns d as a 16-character relative SMPP time, e.g. one hour is
// "000000010000000R". Fractions of a second are dropped; d <= 0 returns "" (not set).
// Up to 31 days and 23:59:59 the string is exact; longer durations are written with 365-day
// years and 30-day months (capped at 99 years), which an SMSC adds as calendar years and
// months, since the day field holds at most 31.
func FormatRelativeTime(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	secs := int64(d / time.Second)
	s, m, h := secs%60, secs/60%60, secs/3600%24
	days := secs / 86400
	var years, months int64
	if days > 31 {
		years, days = days/365, days%365
		months, days = days/30, days%30
		years = min(years, 99)
	}
	return fmt.Sprintf("%02d%02d%02d%02d%02d%02d000R", years, months, days, h, m, s)
}

// ParseTime parses an SMPP time. It accepts the 16-character absolute form (any offset,
// returned in UTC), the relative 'R' form (added to now: years, months and days as calendar
// units, then hours, minutes and seconds), and the 12-character "YYMMDDhhmmss" short form
// that SMSCs use in reports (read as UTC). "" returns the zero time and no error.
func ParseTime(s string, now time.Time) (time.Time, error) {
	switch len(s) {
	case 0:
		return time.Time{}, nil
	case 12:
		return parseAbsolute(s, s+"000+")
	case 16:
	default:
		return time.Time{}, fmt.Errorf("smpp time %q: %d characters; want 16 (YYMMDDhhmmsstnnp), 12 (YYMMDDhhmmss) or none", s, len(s))
	}
	for i := 0; i < 15; i++ {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, fmt.Errorf("smpp time %q: character %d is not a digit", s, i+1)
		}
	}
	switch s[15] {
	case 'R':
		f := digitPairs(s)
		// The fields keep their ranges, as a strict SMSC checks them: 45 days is 01 month
		// and 15 days, or an absolute time.
		if f[1] > 12 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
			return time.Time{}, fmt.Errorf("smpp time %q: relative months %02d, days %02d or %02d:%02d:%02d out of range (12, 31, 23:59:59)",
				s, f[1], f[2], f[3], f[4], f[5])
		}
		return now.AddDate(f[0], f[1], f[2]).Add(time.Duration(f[3])*time.Hour +
			time.Duration(f[4])*time.Minute + time.Duration(f[5])*time.Second), nil
	case '+', '-':
		return parseAbsolute(s, s)
	}
	return time.Time{}, fmt.Errorf("smpp time %q: last character must be '+', '-' or 'R'", s)
}

// parseAbsolute parses full, a checked-length 16-character absolute time; orig is what the
// caller gave, for error messages.
func parseAbsolute(orig, full string) (time.Time, error) {
	for i := 0; i < 15; i++ {
		if full[i] < '0' || full[i] > '9' {
			return time.Time{}, fmt.Errorf("smpp time %q: character %d is not a digit", orig, i+1)
		}
	}
	f := digitPairs(full)
	year := 2000 + f[0]
	if f[0] >= centuryPivot {
		year = 1900 + f[0]
	}
	month, day, hour, minute, sec := f[1], f[2], f[3], f[4], f[5]
	tenths := int(full[12] - '0')
	quarters := int(full[13]-'0')*10 + int(full[14]-'0')
	switch {
	case month < 1 || month > 12:
		return time.Time{}, fmt.Errorf("smpp time %q: month %02d is not 01-12", orig, month)
	case day < 1 || day > daysIn(year, month):
		return time.Time{}, fmt.Errorf("smpp time %q: day %02d does not exist in %d-%02d", orig, day, year, month)
	case hour > 23 || minute > 59 || sec > 59:
		return time.Time{}, fmt.Errorf("smpp time %q: %02d:%02d:%02d is not a time of day", orig, hour, minute, sec)
	case quarters > 48:
		return time.Time{}, fmt.Errorf("smpp time %q: UTC offset %d quarter hours is more than 48", orig, quarters)
	}
	offset := time.Duration(quarters) * 15 * time.Minute
	if full[15] == '-' {
		offset = -offset
	}
	local := time.Date(year, time.Month(month), day, hour, minute, sec, tenths*1e8, time.UTC)
	return local.Add(-offset), nil
}

// digitPairs reads the six two-digit fields YY MM DD hh mm ss of a checked time string.
func digitPairs(s string) [6]int {
	var f [6]int
	for i := range f {
		f[i] = int(s[2*i]-'0')*10 + int(s[2*i+1]-'0')
	}
	return f
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
