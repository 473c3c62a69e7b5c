package send

import (
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
