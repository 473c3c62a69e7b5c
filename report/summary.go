package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"smscast/smpp"
)

// Summary is the end-of-run overview printed on stderr and written by --summary-json.
type Summary struct {
	Start, End time.Time // the run's start and end, as given to Book.Summary
	Rows       int
	// Submit counts rows by submit status; every SubmitStatus is present, zeros included.
	Submit map[SubmitStatus]int
	// Receipts counts rows by receipt status: DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED,
	// UNKNOWN and PENDING are always present (zeros included), other final states when seen.
	// Rows never accepted have no receipt status and are not counted.
	Receipts      map[string]int
	Parts         int // submit_sm PDUs of the rows meant to be sent (not skipped)
	PartsAccepted int // PDUs the SMSC accepted; a part resent and accepted twice counts twice
	// AverageRate is the acceptances per second between the first and the last (RateSpan):
	// PartsAccepted-1 intervals over RateSpan, or PartsAccepted when all came within one
	// second. Acceptances journaled by an earlier run count with their own times, so a resumed
	// run or `smscast receipts` (which sends nothing) reports the campaign's rate. 0 when
	// nothing was accepted.
	AverageRate float64
	RateSpan    time.Duration // from the first acceptance to the last; 0 if none or one
	PeakRate    int           // most PDUs accepted within one calendar second (UTC)
	// SubmitLatency is from the planned time to the acceptance of the last part, over the
	// accepted rows; DeliveryLatency from the planned time to the final receipt, over the rows
	// that have one. Both exclude rows never planned, and samples that began before Start (in
	// an earlier run) but ended during this run: they would include the time between runs.
	SubmitLatency    Latency
	DeliveryLatency  Latency
	LatencyStraddled int // samples left out of the latencies because they span a restart
	Unmatched        int // receipts that matched no row (see UnmatchedPath)
	// ReceiverDown says why the receiver session (--bind-mode tx+rx) was never bound during
	// the run, so that no receipt could arrive on it, and what to do; "" when it was, or
	// there is none. Set by the caller: the Book does not know the sessions.
	ReceiverDown string
	// BindsDown says, one entry a bind, which sending binds were never bound during the run
	// while others were, and why ("bind 3: ..."). Set by the caller, as ReceiverDown.
	BindsDown []string
	// Throttled counts the answers that asked to slow down (ESME_RTHROTTLED, ESME_RMSGQFUL)
	// in this run. Set by the caller: the Book does not see them.
	Throttled int64
}

// averageRate is n acceptances spread over span, per second: n-1 intervals over span, or n
// when they all came within a second (one second holds them all).
func averageRate(n int, span time.Duration) float64 {
	if span < time.Second {
		return float64(n)
	}
	return float64(n-1) / span.Seconds()
}

// Latency holds exact percentiles (nearest rank over every sample; the samples are the rows,
// 8 bytes each while Summary runs). Zero Count means no sample; the durations are then 0.
type Latency struct {
	Count         int
	P50, P95, P99 time.Duration
	Max           time.Duration
}

// receiptStatuses are the receipt statuses a summary always lists, in display order.
var receiptStatuses = []string{"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD", "DELETED", "UNKNOWN", ReceiptPending}

// summaryOrder is the display order of submit statuses: outcomes of sending, then skips.
var summaryOrder = []SubmitStatus{SubmitAccepted, SubmitResubmitted, SubmitRejected, SubmitUncertain,
	SubmitNotSent, SubmitInvalid, SubmitDuplicate, SubmitExcluded}

// Summary computes the summary of the run between start and end. It holds the Book's lock
// only for short stretches, so that it can run beside WriteReport.
func (b *Book) Summary(start, end time.Time) Summary {
	b.mu.Lock()
	s := Summary{
		Start: start, End: end, Rows: b.rows.len(),
		Submit: make(map[SubmitStatus]int), Receipts: make(map[string]int),
		Parts: b.parts, PartsAccepted: b.acceptedN, Unmatched: len(b.unmatchedLocked()),
	}
	for _, st := range summaryOrder {
		s.Submit[st] = 0
	}
	for code, n := range b.bySubmit {
		st := submitStatuses[code]
		if code == int(stToSend) {
			st = SubmitNotSent
		}
		s.Submit[st] += n
	}
	for _, st := range receiptStatuses {
		s.Receipts[st] = 0
	}
	for rstate, n := range b.byReceipt {
		if n > 0 {
			s.Receipts[smpp.MessageState(rstate-1).Stat()] += n
		}
	}
	s.Receipts[ReceiptPending] = b.pending
	for _, n := range b.accepted {
		s.PeakRate = max(s.PeakRate, int(n))
	}
	if b.acceptedN > 0 {
		s.RateSpan = time.Duration(b.lastAccepted - b.firstAccepted)
		s.AverageRate = averageRate(b.acceptedN, s.RateSpan)
	}
	starts := append([]int64{unixNano(start)}, b.runStarts...)
	b.mu.Unlock()
	slices.Sort(starts)

	final := 0
	for st, n := range s.Receipts {
		if st != ReceiptPending {
			final += n
		}
	}
	submit := make([]int64, 0, s.Submit[SubmitAccepted]+s.Submit[SubmitResubmitted])
	delivery := make([]int64, 0, final)
	sample := func(samples []int64, from, to int64) []int64 {
		// The first run start after from: the sample spans it if it ended at or after it.
		if i, _ := slices.BinarySearch(starts, from+1); i < len(starts) && to >= starts[i] {
			s.LatencyStraddled++
			return samples
		}
		return append(samples, to-from)
	}
	for i := 0; ; {
		b.mu.Lock()
		n := b.rows.len()
		for stop := min(i+rowsBatch, n); i < stop; i++ {
			r := b.rows.at(i)
			if r.planned == 0 {
				continue
			}
			if r.accepted() && r.submitted != 0 {
				submit = sample(submit, r.planned, r.submitted)
			}
			if r.flags&flagFinal != 0 && r.done != 0 {
				delivery = sample(delivery, r.planned, r.done)
			}
		}
		b.mu.Unlock()
		if i >= n {
			break
		}
	}
	s.SubmitLatency = latency(submit)
	s.DeliveryLatency = latency(delivery)
	return s
}

// latency computes the percentiles of samples (nanoseconds), sorting them in place.
func latency(samples []int64) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p*float64(len(samples)))) - 1
		return time.Duration(samples[max(i, 0)])
	}
	return Latency{Count: len(samples), P50: rank(0.50), P95: rank(0.95), P99: rank(0.99),
		Max: time.Duration(samples[len(samples)-1])}
}

// WriteText prints the summary for a person, on one screen.
func (s Summary) WriteText(w io.Writer) error {
	var sb strings.Builder
	line := func(label, format string, args ...any) {
		fmt.Fprintf(&sb, "  %-17s %s\n", label, fmt.Sprintf(format, args...))
	}
	sb.WriteString("Summary\n")
	var counts []string
	for _, st := range summaryOrder {
		if n := s.Submit[st]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	line("rows", "%d%s", s.Rows, listSuffix(counts))
	counts = counts[:0]
	for _, st := range s.receiptOrder() {
		if n := s.Receipts[st]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, st))
		}
	}
	if len(counts) == 0 {
		counts = append(counts, "none")
	}
	line("receipts", "%s", strings.Join(counts, ", "))
	line("parts", "%d to send, %d accepted", s.Parts, s.PartsAccepted)
	line("duration", "%s", roundDuration(s.End.Sub(s.Start)))
	switch {
	case s.PartsAccepted == 0:
		line("rate", "- (no part accepted)")
	case s.PartsAccepted == 1:
		line("rate", "- (1 part accepted)")
	case s.RateSpan < time.Second:
		line("rate", "%d parts accepted within %s", s.PartsAccepted, roundDuration(s.RateSpan))
	default:
		// The busiest second is a calendar second's count, and a span shorter than two can
		// average more than any of them: said as a count, it does not read as a lower rate.
		line("rate", "%.1f parts/s average over the %s from first to last acceptance; busiest second %d parts",
			s.AverageRate, roundDuration(s.RateSpan), s.PeakRate)
	}
	line("submit latency", "%s", s.SubmitLatency)
	line("delivery latency", "%s", s.DeliveryLatency)
	if s.LatencyStraddled > 0 {
		line("", "(latencies leave out %s begun in an earlier run: they would count the time between runs)",
			Plural(s.LatencyStraddled, "sample"))
	}
	if s.Unmatched > 0 {
		line("unmatched", "%s matched no row: another campaign's on the same account, ids in another format (--receipt-id-format), or a copy the SMSC got twice (see the report's .unmatched.jsonl)", Plural(s.Unmatched, "receipt"))
	}
	if s.Throttled > 0 {
		line("throttled", "%s asked to slow down (ESME_RTHROTTLED, ESME_RMSGQFUL): the rate was lowered, and the PDUs sent again",
			Plural(int(s.Throttled), "answer"))
	}
	for _, down := range s.BindsDown {
		line("binds", "never bound, so the campaign ran on fewer binds than --binds: %s", down)
	}
	if s.ReceiverDown != "" {
		line("receiver", "never bound, so no receipt could arrive on it: %s", s.ReceiverDown)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Plural formats n and noun, adding an "s" unless n is 1.
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// listSuffix formats counts as ": a, b, c" (nothing when empty).
func listSuffix(counts []string) string {
	if len(counts) == 0 {
		return ""
	}
	return ": " + strings.Join(counts, ", ")
}

// receiptOrder lists the receipt statuses of s: the usual ones first, then any other final
// state, sorted.
func (s Summary) receiptOrder() []string {
	var extra []string
	for st := range s.Receipts {
		if !slices.Contains(receiptStatuses, st) {
			extra = append(extra, st)
		}
	}
	slices.Sort(extra)
	return append(slices.Clone(receiptStatuses[:len(receiptStatuses)-1]), append(extra, ReceiptPending)...)
}

// String formats the percentiles for WriteText: "p50 12ms, p95 40ms, p99 90ms, max 1.2s (6 rows)";
// "-" when there is no sample.
func (l Latency) String() string {
	if l.Count == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %s, p95 %s, p99 %s, max %s (%s)", roundDuration(l.P50),
		roundDuration(l.P95), roundDuration(l.P99), roundDuration(l.Max), Plural(l.Count, "row"))
}

// roundDuration keeps three significant figures or so: 1.234ms, 12.3ms, 1.23s, 2m3s.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	case d < time.Minute:
		return d.Round(10 * time.Millisecond)
	default:
		return d.Round(time.Second)
	}
}

// jsonLatency is a Latency in the JSON summary, in milliseconds.
type jsonLatency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func (l Latency) json() jsonLatency {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return jsonLatency{Count: l.Count, P50: ms(l.P50), P95: ms(l.P95), P99: ms(l.P99), Max: ms(l.Max)}
}

// MarshalJSON encodes the summary with snake_case keys, times in RFC 3339 UTC, durations in
// seconds and latencies in milliseconds; map keys are sorted.
func (s Summary) MarshalJSON() ([]byte, error) {
	submit := make(map[string]int, len(s.Submit))
	for k, v := range s.Submit {
		submit[string(k)] = v
	}
	return json.Marshal(struct {
		Start           string         `json:"start"`
		End             string         `json:"end"`
		DurationSeconds float64        `json:"duration_seconds"`
		Rows            int            `json:"rows"`
		Submit          map[string]int `json:"submit"`
		Receipts        map[string]int `json:"receipts"`
		Parts           int            `json:"parts"`
		PartsAccepted   int            `json:"parts_accepted"`
		AverageRate     float64        `json:"average_rate_per_second"`
		RateSpan        float64        `json:"rate_span_seconds"`
		PeakRate        int            `json:"peak_rate_per_second"`
		SubmitLatency   jsonLatency    `json:"submit_latency_ms"`
		DeliveryLatency jsonLatency    `json:"delivery_latency_ms"`
		Straddled       int            `json:"latency_samples_left_out"`
		Unmatched       int            `json:"unmatched_receipts"`
		ReceiverDown    string         `json:"receiver_never_bound,omitempty"`
		BindsDown       []string       `json:"binds_never_bound,omitempty"`
		Throttled       int64          `json:"throttled"`
	}{
		formatTime(s.Start), formatTime(s.End), s.End.Sub(s.Start).Seconds(), s.Rows, submit,
		s.Receipts, s.Parts, s.PartsAccepted, s.AverageRate, s.RateSpan.Seconds(), s.PeakRate,
		s.SubmitLatency.json(), s.DeliveryLatency.json(), s.LatencyStraddled, s.Unmatched, s.ReceiverDown,
		s.BindsDown, s.Throttled,
	})
}

// WriteJSON writes the summary as one indented JSON object to path (--summary-json),
// atomically, replacing an existing file.
func (s Summary) WriteJSON(path string) error {
	return WriteAtomic(path, true, func(w io.Writer) error {
		data, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(data, '\n'))
		return err
	})
}
