package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"smscast/send"
)

func TestProgress_lines(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	prev := send.Snapshot{Time: t0, Started: t0, Total: 1000, PDUs: 0}
	cur := send.Snapshot{Time: t0.Add(10 * time.Second), Started: t0, Total: 1000, Done: 250, Accepted: 248, Failed: 2,
		Receipts: 200, PDUs: 300, InFlight: 7, Rate: 30, Resubmitted: 1}
	tests := []struct {
		name string
		json bool
		want []string
	}{
		{"text", false, []string{"2025-03-14T09:00:10Z progress rows 250/1000 (25%)", "accepted 248 failed 2",
			"receipts 200", "msg/s 30.0", "rate 30/s", "resubmitted 1", "eta 30s"}},
		{"json", true, []string{`"event":"progress"`, `"rows_done":250`, `"rows_total":1000`, `"msg_per_s":30`,
			`"rate":30`, `"eta_s":30`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := newProgress(&out, progressOptions{Mode: progressLines, JSON: tt.json}, func() send.Snapshot { return cur })
			p.writeLine(cur, msgRate(cur, prev))
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("line %q lacks %q", out.String(), w)
				}
			}
			if tt.json {
				var m map[string]any
				if err := json.Unmarshal(out.Bytes(), &m); err != nil {
					t.Errorf("not JSON: %v", err)
				}
			}
		})
	}
}

// TestProgress_collect: smscast receipts sends nothing, so its lines show receipts, pending
// rows and binds, never "accepted 0" or a sending rate.
func TestProgress_collect(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	cur := send.Snapshot{Time: t0.Add(time.Minute), Started: t0, Total: 4, Skipped: 4, Receipts: 3, Pending: 1, Bound: 1}
	for _, tt := range []struct {
		json bool
		want string
	}{
		{false, "2025-03-14T09:01:00Z progress receipts 3 pending 1 binds 1\n"},
		{true, `{"binds":1,"event":"progress","pending":1,"receipts":3,"time":"2025-03-14T09:01:00Z"}` + "\n"},
	} {
		var out bytes.Buffer
		p := newProgress(&out, progressOptions{Mode: progressLines, JSON: tt.json, Collect: true}, func() send.Snapshot { return cur })
		p.writeLine(cur, 0)
		if out.String() != tt.want {
			t.Errorf("json %v: line %q, want %q", tt.json, out.String(), tt.want)
		}
	}
}

// The last line of smscast receipts comes once its sessions have closed: it leaves out the
// binds, which would read "binds 0" after a run that worked.
func TestProgress_collectFinalLine(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	cur := send.Snapshot{Time: t0.Add(time.Minute), Started: t0, Receipts: 3, Pending: 1, Bound: 1}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines, Collect: true, Interval: time.Hour}, func() send.Snapshot { return cur })
	p.Start()
	p.Event(send.Event{Time: t0, Kind: send.EventBound, Bind: 1})
	cur.Bound = 0
	p.Close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if last := lines[len(lines)-1]; last != "2025-03-14T09:01:00Z progress receipts 3 pending 1" {
		t.Errorf("last line %q, want the receipts and pending rows only", last)
	}
}

func TestProgress_events(t *testing.T) {
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	lost := send.Event{Time: at, Kind: send.EventConnectionLost, Bind: 2, Err: errors.New("smpp: connection lost")}
	warn := send.Event{Time: at, Kind: send.EventWarning, Err: errors.New("journal: disk full")}
	unlimited := send.Event{Time: at, Kind: send.EventRate, Rate: math.Inf(1)}

	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines}, nil)
	p.Event(lost)
	if !strings.Contains(out.String(), "2025-03-14T09:00:00Z bind 2: connection lost") {
		t.Errorf("text event: %q", out.String())
	}

	out.Reset()
	p = newProgress(&out, progressOptions{Mode: progressLines, JSON: true}, nil)
	p.Event(unlimited)
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m["event"] != "rate" || m["rate"] != nil {
		t.Errorf("JSON event %q: %v (an unlimited rate must be null: JSON has no infinity)", out.String(), err)
	}

	out.Reset()
	p.Event(send.Event{Time: at, Kind: send.EventPaused, Until: at.Add(13 * time.Hour)})
	m = nil
	if err := json.Unmarshal(out.Bytes(), &m); err != nil || m["event"] != "paused" || m["until"] != "2025-03-14T22:00:00Z" {
		t.Errorf("JSON pause %q: %v, want until for a program to read", out.String(), err)
	}

	out.Reset()
	p = newProgress(&out, progressOptions{Mode: progressQuiet}, nil)
	p.Event(lost)
	p.Event(warn)
	if strings.Contains(out.String(), "connection lost") || !strings.Contains(out.String(), "disk full") {
		t.Errorf("quiet mode shows %q; want only the warning", out.String())
	}
}

func TestProgress_startAndClose(t *testing.T) {
	t0 := time.Now()
	snap := send.Snapshot{Time: t0, Started: t0, Done: 3, Accepted: 3, PDUs: 3, Rate: 10}
	for _, mode := range []progressMode{progressBar, progressLines, progressQuiet} {
		var out bytes.Buffer
		p := newProgress(&out, progressOptions{Mode: mode, Interval: time.Hour}, func() send.Snapshot { return snap })
		p.Start()
		p.Close()
		if mode == progressLines && !strings.Contains(out.String(), "progress rows 3 accepted 3") {
			t.Errorf("line mode wrote no final line: %q", out.String())
		}
		if mode == progressQuiet && out.Len() != 0 {
			t.Errorf("quiet mode wrote %q", out.String())
		}
		if mode == progressBar && !strings.Contains(out.String(), "accepted 3") {
			t.Errorf("bar mode: %q", out.String())
		}
	}
}

// TestProgress_honestCounts: "rows" counts rows with a final submit outcome, not rows given up
// unsent (after SIGTERM it said "rows 400/400 (100%)" with 151 not sent); JSON names the rows
// not to be sent for what they are.
func TestProgress_honestCounts(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	stopped := send.Snapshot{Time: t0.Add(time.Minute), Started: t0, Total: 400, Done: 400, Accepted: 240,
		Failed: 4, Skipped: 5, PDUs: 250, Bound: 1, Rate: 5}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines}, nil)
	p.writeLine(stopped, 4)
	if line := out.String(); !strings.Contains(line, "rows 249/400 (62%) accepted 240 failed 4 not_sent 151 ") {
		t.Errorf("line %q: want 249/400 done and 151 not_sent", line)
	}

	out.Reset()
	p = newProgress(&out, progressOptions{Mode: progressLines, JSON: true}, nil)
	p.writeLine(stopped, 4)
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["rows_done"] != 249.0 || m["not_sent"] != 151.0 || m["invalid_or_skipped"] != 5.0 || m["skipped"] != nil {
		t.Errorf("JSON %s: want rows_done 249, not_sent 151, invalid_or_skipped 5", out.String())
	}

	// An SMSC never reached: every row given up unsent, none done.
	unreached := send.Snapshot{Time: t0, Started: t0, Total: 7, Done: 7}
	if line := summaryLine(unreached, 0); !strings.HasPrefix(line, "rows 0/7 (0%) accepted 0 failed 0 not_sent 7 ") {
		t.Errorf("unreached SMSC: %q", line)
	}
}

// TestProgress_nothingBound: no progress line while no session was ever bound and nothing
// was sent ("progress rows 0/7 (0%)" came right before a bind refusal); once bound, lines.
func TestProgress_nothingBound(t *testing.T) {
	t0 := time.Now()
	snap := send.Snapshot{Time: t0, Started: t0, Total: 7, Done: 7}
	for _, mode := range []progressMode{progressLines, progressBar} {
		var out bytes.Buffer
		p := newProgress(&out, progressOptions{Mode: mode, Interval: time.Hour}, func() send.Snapshot { return snap })
		p.Start()
		p.tick(snap)
		p.Close()
		if strings.Contains(out.String(), "rows 0/7") {
			t.Errorf("mode %d: progress before anything was bound: %q", mode, out.String())
		}
	}

	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines, Interval: time.Hour}, func() send.Snapshot { return snap })
	p.Start()
	p.Event(send.Event{Time: t0, Kind: send.EventBound, Bind: 1, Detail: "smsc"})
	p.Close()
	if !strings.Contains(out.String(), "progress rows 0/7") {
		t.Errorf("bound, nothing sent yet: no final line in %q", out.String())
	}
}

// TestProgress_finalRate: the last line's msg/s is over the whole run; since the previous line
// it once read 116.7 at --rate 1 (a few PDUs within milliseconds of the last tick).
func TestProgress_finalRate(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	final := send.Snapshot{Time: t0.Add(20 * time.Second), Started: t0, Total: 20, Done: 20, Accepted: 20, PDUs: 20, Rate: 1}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines}, nil)
	p.last = send.Snapshot{Time: final.Time.Add(-30 * time.Millisecond), Started: t0, PDUs: 16}
	p.writeFinal(final)
	if !strings.Contains(out.String(), "msg/s 1.0 ") {
		t.Errorf("final line %q: want msg/s 1.0 over the run", out.String())
	}
}

// The ETA counts sending time only: none while paused (the pause says when it ends), and the
// time of pauses is left out after one.
func TestEtaOf_pauses(t *testing.T) {
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	s := send.Snapshot{Started: start, Time: start.Add(70 * time.Second), Total: 100, Done: 10}
	if eta, ok := etaOf(s); !ok || eta != 630*time.Second {
		t.Errorf("no pause: %v %v, want 10m30s", eta, ok)
	}
	s.PausedFor = 60 * time.Second // 10 rows in 10 s of sending
	if eta, ok := etaOf(s); !ok || eta != 90*time.Second {
		t.Errorf("after a minute's pause: %v %v, want 1m30s", eta, ok)
	}
	s.Paused = true
	if eta, ok := etaOf(s); ok {
		t.Errorf("while paused: %v, want none", eta)
	}
	// A resumed campaign: 50 rows done by the earlier run take no time in this one.
	s = send.Snapshot{Started: start, Time: start.Add(10 * time.Second), Total: 100, Done: 60, Skipped: 50}
	if eta, ok := etaOf(s); !ok || eta != 40*time.Second {
		t.Errorf("resumed: %v %v, want 40s (10 rows sent in 10 s, 40 left)", eta, ok)
	}
}

// On a terminal, a tick shows the count and the description of the same snapshot: the bar's
// own throttle once kept the new count off the screen until the next tick ("(6/40) …
// accepted 10").
func TestProgress_barCountKeepsUpWithTheDescription(t *testing.T) {
	t0 := time.Now()
	first := send.Snapshot{Time: t0, Started: t0, Total: 40, Done: 6, Accepted: 6, PDUs: 6, Bound: 1, Rate: 20}
	next := send.Snapshot{Time: t0.Add(barRefresh), Started: t0, Total: 40, Done: 10, Accepted: 10, PDUs: 10, Bound: 1, Rate: 20}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressBar, Interval: time.Hour}, func() send.Snapshot { return first })
	p.Start()
	p.tick(first)
	p.tick(next)
	frames := strings.Split(out.String(), "\r")
	last := frames[len(frames)-1]
	for i := len(frames) - 1; i >= 0 && strings.TrimSpace(last) == ""; i-- {
		last = frames[i]
	}
	p.Close()
	if !strings.Contains(last, "(10/40") || !strings.Contains(last, "accepted 10") {
		t.Errorf("the bar after the second tick: %q, want the count 10/40 with accepted 10", last)
	}
}

// A run shorter than a second counts as one second in the last line's msg/s: a single PDU
// sent within milliseconds read "msg/s 156.2" beside "rate 10/s".
func TestProgress_finalRateOfAShortRun(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	final := send.Snapshot{Time: t0.Add(6 * time.Millisecond), Started: t0, Total: 1, Done: 1, Accepted: 1, PDUs: 1, Rate: 10}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressLines}, nil)
	p.writeFinal(final)
	if !strings.Contains(out.String(), "msg/s 1.0 ") {
		t.Errorf("final line %q: want msg/s 1.0", out.String())
	}
}

// The bar's msg/s is over the last couple of seconds: over one redraw, PDUs that leave in
// batches showed a run paced at --rate 100 at 125 msg/s.
func TestProgress_barRateOverSeconds(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := send.Snapshot{Time: t0, Started: t0, Total: 1000, Bound: 1, Rate: 100}
	var out bytes.Buffer
	p := newProgress(&out, progressOptions{Mode: progressBar, Interval: time.Hour}, func() send.Snapshot { return s })
	p.Start()
	defer p.Close()
	var shown []string
	for i := 1; i <= 30; i++ {
		s.Time = s.Time.Add(barRefresh)
		s.PDUs += int64(15 + 10*(i%2)) // 25 and 15 by turns: 100 a second
		s.Done, s.Accepted = int(s.PDUs), int(s.PDUs)
		p.mu.Lock()
		shown = append(shown, strings.SplitN(describe(s, p.barRate(s)), " ", 2)[0])
		if n := len(p.recent); n > int(barRateSpan/barRefresh)+2 {
			t.Fatalf("tick %d: %d snapshots kept, want at most %d", i, n, barRateSpan/barRefresh+2)
		}
		p.mu.Unlock()
	}
	for i, msgs := range shown[int(barRateSpan/barRefresh):] {
		if msgs != "100" {
			t.Errorf("tick %d: %s msg/s, want 100: %v", i+int(barRateSpan/barRefresh)+1, msgs, shown)
			break
		}
	}
}
