package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"smscast/send"
)

// progressMode is how a running campaign shows itself on stderr.
type progressMode uint8

const (
	progressBar   progressMode = iota // a terminal: a live bar, events printed above it
	progressLines                     // cron or a pipe: a plain line every interval
	progressQuiet                     // --quiet: only warnings (the summary is printed by send)
)

// progressOptions configures a progress reporter.
type progressOptions struct {
	Mode progressMode
	JSON bool // lines (progressLines) and events as JSON objects, for log shippers
	// Collect: smscast receipts, which sends nothing; its progress is receipts and pending rows.
	Collect  bool
	Interval time.Duration // between lines in progressLines mode; 0 means 10s
}

// progress turns the engine's events and snapshots into output. It never sees the password:
// nothing the engine reports contains it.
type progress struct {
	out  io.Writer
	opt  progressOptions
	snap func() send.Snapshot

	mu   sync.Mutex // serialises writes to out and the bar
	bar  *progressbar.ProgressBar
	last send.Snapshot // previous snapshot, for the message rate
	// recent are the bar's snapshots of the last barRateSpan, oldest first, for its msg/s.
	recent []send.Snapshot
	// everBound is set once a session was bound: until then (and while nothing was sent) a
	// progress line would only say "rows 0/7", misleading before a bind refusal.
	everBound bool
	// final is set for the last line, written once every session has closed.
	final bool

	stop chan struct{}
	done chan struct{}
}

// barRefresh is how often the bar is redrawn.
const barRefresh = 200 * time.Millisecond

// barRateSpan is how far back the bar's msg/s looks. Over one redraw a paced run showed
// above its --rate (PDUs leave in batches, and a tick comes a little late or early).
const barRateSpan = 2 * time.Second

// newProgress returns a reporter writing to out that polls snap; call Start, then Close.
func newProgress(out io.Writer, opt progressOptions, snap func() send.Snapshot) *progress {
	if opt.Interval <= 0 {
		opt.Interval = 10 * time.Second
	}
	return &progress{out: out, opt: opt, snap: snap, stop: make(chan struct{}), done: make(chan struct{})}
}

// Start begins periodic output in a goroutine that Close ends.
func (p *progress) Start() {
	p.last = p.snap()
	if p.opt.Mode == progressBar {
		max := int64(p.last.Total)
		if max <= 0 {
			max = -1 // unknown: a spinner
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			// No throttle of its own: loop redraws it every barRefresh, and a throttled
			// redraw after Describe kept Set's new count off the screen until the next tick,
			// so that the count lagged the description's accepted figure.
			progressbar.OptionThrottle(0),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
			// Without this, a bar of unknown length redraws itself from a goroutine of its
			// own, racing with our lines on the same writer; loop already redraws it.
			progressbar.OptionSetSpinnerChangeInterval(0),
		)
	}
	go p.loop()
}

func (p *progress) loop() {
	defer close(p.done)
	every := p.opt.Interval
	if p.opt.Mode == progressBar {
		every = barRefresh
	}
	if p.opt.Mode == progressQuiet {
		<-p.stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.tick(p.snap())
		}
	}
}

// Close stops periodic output and writes a last progress line (in place of the bar on a
// terminal), so that the summary starts on a clean line.
func (p *progress) Close() {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.opt.Mode {
	case progressBar:
		// The bar gives way to a last plain line, which stays on screen above the summary.
		_ = p.bar.Exit()
		_ = p.bar.Clear()
		p.writeFinal(p.snap())
	case progressLines:
		p.writeFinal(p.snap())
	}
}

// writeFinal writes the last line, its message rate over the whole run (the rate since the
// previous line could be anything: a few PDUs within milliseconds at --rate 1).
func (p *progress) writeFinal(s send.Snapshot) {
	if p.idle(s) {
		return
	}
	var rate float64
	if d := s.Time.Sub(s.Started).Seconds(); !s.Started.IsZero() && d > 0 {
		// A run shorter than a second counts as one: one PDU in 6 ms is not 156 msg/s
		// beside a --rate of 10.
		rate = float64(s.PDUs) / max(d, 1)
	}
	p.final = true
	p.writeLine(s, rate)
}

// idle reports whether no session was ever bound and nothing was sent: there is no progress
// to show. Called with p.mu held.
func (p *progress) idle(s send.Snapshot) bool {
	p.everBound = p.everBound || s.Bound > 0
	return !p.everBound && s.PDUs == 0
}

func (p *progress) tick(s send.Snapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.opt.Mode == progressBar {
		if s.Total > 0 && int64(s.Total) != p.bar.GetMax64() {
			p.bar.ChangeMax(s.Total)
		}
		if p.opt.Collect {
			p.bar.Describe(collectLine(s))
		} else {
			p.bar.Describe(describe(s, p.barRate(s)))
		}
		_ = p.bar.Set(s.Done) // after Describe: this redraw shows both
		p.last = s
		return
	}
	if !p.idle(s) {
		p.writeLine(s, msgRate(s, p.last))
	}
}

// Event is the engine's Config.OnEvent: one line per event (above the bar on a terminal).
// In quiet mode only warnings are shown.
func (p *progress) Event(e send.Event) {
	if p.opt.Mode == progressQuiet && e.Kind != send.EventWarning {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Kind == send.EventBound && !e.Receiver {
		p.everBound = true
	}
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	if p.opt.JSON {
		rec := map[string]any{"time": e.Time.UTC().Format(time.RFC3339Nano), "event": e.Kind.String(), "message": e.String()}
		if e.Bind > 0 {
			rec["bind"] = e.Bind
		}
		if e.Receiver {
			rec["receiver"] = true
		}
		if e.Row > 0 {
			rec["row"] = e.Row
		}
		if e.Kind == send.EventRate {
			rec["rate"] = jsonRate(e.Rate)
		}
		if !e.Until.IsZero() {
			rec["until"] = e.Until.UTC().Format(time.RFC3339Nano) // a pause's end, a retry's
		}
		if e.Err != nil {
			rec["error"] = e.Err.Error()
		}
		writeJSON(p.out, rec)
		return
	}
	fmt.Fprintf(p.out, "%s %s\n", e.Time.Format(time.RFC3339), e)
}

// writeLine writes one progress line with rate (submit_sm per second) and remembers s for
// the next rate.
func (p *progress) writeLine(s send.Snapshot, rate float64) {
	p.last = s
	if p.opt.Collect {
		if p.opt.JSON {
			writeJSON(p.out, map[string]any{"time": s.Time.UTC().Format(time.RFC3339Nano), "event": "progress",
				"receipts": s.Receipts, "pending": s.Pending, "binds": s.Bound})
			return
		}
		line := collectLine(s)
		if p.final { // the sessions have closed: "binds 0" would read as a failure
			line = collectCounts(s)
		}
		fmt.Fprintf(p.out, "%s progress %s\n", s.Time.Format(time.RFC3339), line)
		return
	}
	if p.opt.JSON {
		done, notSent := rowOutcomes(s)
		rec := map[string]any{
			"time": s.Time.UTC().Format(time.RFC3339Nano), "event": "progress",
			"rows_done": done, "not_sent": notSent, "rows_read": s.Rows, "accepted": s.Accepted,
			"failed": s.Failed, "invalid_or_skipped": s.Skipped, "resubmitted": s.Resubmitted, "pdus": s.PDUs,
			"receipts": s.Receipts, "pending": s.Pending, "in_flight": s.InFlight, "binds": s.Bound,
			"msg_per_s": math.Round(rate*10) / 10, "rate": jsonRate(s.Rate), "paused": s.Paused,
		}
		if s.Total > 0 {
			rec["rows_total"] = s.Total
		}
		if eta, ok := etaOf(s); ok {
			rec["eta_s"] = math.Round(eta.Seconds())
		}
		writeJSON(p.out, rec)
		return
	}
	fmt.Fprintf(p.out, "%s progress %s\n", s.Time.Format(time.RFC3339), summaryLine(s, rate))
}

// rowOutcomes splits the rows the engine is through with: done have a final submit outcome
// (accepted, failed, or invalid/skipped: not to be sent), notSent were given up unsent (a
// stop, or an SMSC never reached). Snapshot.Done counts both.
func rowOutcomes(s send.Snapshot) (done, notSent int) {
	done = s.Accepted + s.Failed + s.Skipped
	// The counters are read one by one while workers move on: never below zero.
	return done, max(s.Done-done, 0)
}

// summaryLine is the text of a progress line without the time.
func summaryLine(s send.Snapshot, rate float64) string {
	var b strings.Builder
	done, notSent := rowOutcomes(s)
	if s.Total > 0 {
		fmt.Fprintf(&b, "rows %d/%d (%.0f%%)", done, s.Total, 100*float64(done)/float64(s.Total))
	} else {
		fmt.Fprintf(&b, "rows %d", done)
	}
	fmt.Fprintf(&b, " accepted %d failed %d", s.Accepted, s.Failed)
	if notSent > 0 {
		fmt.Fprintf(&b, " not_sent %d", notSent)
	}
	fmt.Fprintf(&b, " receipts %d in_flight %d msg/s %.1f rate %s",
		s.Receipts, s.InFlight, rate, send.FormatRate(s.Rate))
	if s.Resubmitted > 0 {
		fmt.Fprintf(&b, " resubmitted %d", s.Resubmitted)
	}
	if s.Paused {
		b.WriteString(" paused")
	}
	if eta, ok := etaOf(s); ok {
		fmt.Fprintf(&b, " eta %s", eta.Round(time.Second))
	}
	return b.String()
}

// collectLine is the progress of smscast receipts, which sends nothing.
func collectLine(s send.Snapshot) string {
	return fmt.Sprintf("%s binds %d", collectCounts(s), s.Bound)
}

// collectCounts is collectLine without the sessions.
func collectCounts(s send.Snapshot) string {
	return fmt.Sprintf("receipts %d pending %d", s.Receipts, s.Pending)
}

// barRate records s among the recent snapshots and returns the msg/s since the oldest of
// them that is at most barRateSpan older. Called with p.mu held.
func (p *progress) barRate(s send.Snapshot) float64 {
	if len(p.recent) == 0 {
		p.recent = append(p.recent, p.last)
	}
	p.recent = append(p.recent, s)
	old := 0
	for old < len(p.recent)-2 && s.Time.Sub(p.recent[old+1].Time) >= barRateSpan {
		old++
	}
	p.recent = slices.Delete(p.recent, 0, old)
	return msgRate(s, p.recent[0])
}

// describe is the text after the bar, with msg/s PDUs per second.
func describe(s send.Snapshot, msgs float64) string {
	d := fmt.Sprintf("%.0f msg/s · accepted %d · failed %d · receipts %d · rate %s",
		msgs, s.Accepted, s.Failed, s.Receipts, send.FormatRate(s.Rate))
	if _, notSent := rowOutcomes(s); notSent > 0 {
		d += fmt.Sprintf(" · not sent %d", notSent)
	}
	if s.Paused {
		d += " · paused"
	}
	return d
}

// msgRate is the submit_sm PDUs per second between two snapshots.
func msgRate(s, prev send.Snapshot) float64 {
	dt := s.Time.Sub(prev.Time).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(s.PDUs-prev.PDUs) / dt
}

// etaOf estimates the time left from the average row rate since the start.
func etaOf(s send.Snapshot) (time.Duration, bool) {
	elapsed := s.Time.Sub(s.Started) - s.PausedFor // the sending time
	// The pace is that of the rows this run sent: rows not to be sent (invalid, duplicate,
	// excluded, or done by an earlier run when resuming) take no time.
	sent := s.Done - s.Skipped
	if s.Paused || s.Total <= 0 || sent <= 0 || s.Done >= s.Total || elapsed <= 0 {
		return 0, false // while paused, when sending resumes is the pause's to say
	}
	perRow := elapsed / time.Duration(sent)
	return perRow * time.Duration(s.Total-s.Done), true
}

// jsonRate is a rate as JSON: a number, or null for unlimited (JSON has no infinity).
func jsonRate(r float64) any {
	if math.IsInf(r, 1) || r <= 0 {
		return nil
	}
	return math.Round(r*10) / 10
}

func writeJSON(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, "{\"event\":\"error\",\"message\":%q}\n", err.Error())
		return
	}
	w.Write(append(b, '\n'))
}
