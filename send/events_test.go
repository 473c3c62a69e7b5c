package send

import (
	"math"
	"strings"
	"testing"
)

// Words from the SMSC in a log line are quoted, their control characters escaped: a message
// id may hold terminal escape sequences that clear the screen or plant a hyperlink.
func TestEvent_StringEscapesTheSMSCsWords(t *testing.T) {
	hostile := "\x1b[2J\x1b]8;;http://evil.example/\x07CLICK\r"
	for _, e := range []Event{
		{Kind: EventLateResponse, Row: 2, Detail: hostile},
		{Kind: EventBound, Bind: 1, Detail: hostile},
	} {
		if line := e.String(); strings.ContainsAny(line, "\x1b\x07\r") || !strings.Contains(line, `\x1b[2J`) {
			t.Errorf("%v: %q, want the id quoted with its control characters escaped", e.Kind, line)
		}
	}
}

// Rates print as a user gives them: no "5.0/s" for --rate 5, one decimal below 10 where a
// lowered rate has one.
func TestFormatRate(t *testing.T) {
	for _, tc := range []struct {
		rate float64
		want string
	}{
		{0, "unlimited"}, {math.Inf(1), "unlimited"}, {5, "5/s"}, {2.5, "2.5/s"},
		{4.37, "4.4/s"}, {9.96, "10/s"}, {0.25, "0.25/s"}, {0.04, "0.04/s"}, {0.0000123, "0.000012/s"}, {0.999, "1/s"}, {50, "50/s"}, {2000.4, "2000/s"},
	} {
		if got := FormatRate(tc.rate); got != tc.want {
			t.Errorf("FormatRate(%v) = %q, want %q", tc.rate, got, tc.want)
		}
	}
}
