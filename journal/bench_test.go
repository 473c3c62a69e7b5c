//go:build unix

package journal

import (
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"smscast/internal/cputime"
)

// The journal's budget is 30% of end-to-end throughput at ~100,000 messages per second, that
// is each message's Attempt + Accepted (+ its share of receipts) may cost the sending side
// well under 3 µs of one core. Run on the machine's own disk (t.TempDir) with:
//
//	go test -run '^$' -bench . -benchtime 2s ./journal

// processCPU is the user+system CPU time the process has used so far: on a shared machine it
// measures the journal's cost better than wall time.
func processCPU(b *testing.B) time.Duration {
	d, err := cputime.Process()
	if err != nil {
		b.Skip(err)
	}
	return d
}

func benchWriter(b *testing.B) *Writer {
	b.Helper()
	w, err := Create(filepath.Join(b.TempDir(), "bench.journal"), testIdentity(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// BenchmarkWriter_AttemptAccepted: many senders (as a window of 100 would have) each record
// an attempt and its accepted response, with group commit doing the fsyncs.
func BenchmarkWriter_AttemptAccepted(b *testing.B) {
	w := benchWriter(b)
	var next atomic.Int64
	const id = "0123456789abcdef01234567" // a 24-character id, typical of SMSCs that use UUID-ish ids
	b.SetParallelism(50)
	start, cpu := time.Now(), processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			row := int(next.Add(1))
			if err := w.Attempt(row, 0, start); err != nil {
				b.Error(err)
				return
			}
			if err := w.Accepted(row, 0, id, start); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if err := w.Close(); err != nil { // the last batch's fsync is part of the cost
		b.Fatal(err)
	}
	b.StopTimer()
	elapsed := time.Since(start).Seconds()
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/message")
	b.ReportMetric(float64(b.N)/elapsed, "messages/s")
	b.ReportMetric(float64(2*b.N)/elapsed, "records/s")
}

// BenchmarkWriter_Receipt: one receipt at a time; ns/op is the latency from Receipt to
// durable, which is how long a deliver_sm_resp waits.
func BenchmarkWriter_Receipt(b *testing.B) {
	w := benchWriter(b)
	defer w.Close()
	r := testReceipt("0123456789abcdef01234567")
	now := time.Now()
	b.ResetTimer()
	for b.Loop() {
		if err := w.Receipt(r, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/receipt")
}

// BenchmarkWriter_ReceiptConcurrent: receipts arriving on many sessions at once share fsyncs.
func BenchmarkWriter_ReceiptConcurrent(b *testing.B) {
	w := benchWriter(b)
	defer w.Close()
	r := testReceipt("0123456789abcdef01234567")
	now := time.Now()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := w.Receipt(r, now); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
}

// BenchmarkWriter_ReceiptThen: a stream of receipts, as a busy SMSC delivers them, each
// acknowledged by its callback once durable; at most 1,024 wait at once (the session's cap).
// Reports the receipts per second, CPU per receipt and how many receipts shared an fsync.
func BenchmarkWriter_ReceiptThen(b *testing.B) {
	w := benchWriter(b)
	r := testReceipt("0123456789abcdef01234567")
	now := time.Now()
	slots := make(chan struct{}, 1024)
	done := func(err error) {
		if err != nil {
			b.Error(err)
		}
		<-slots
	}
	cpu := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		slots <- struct{}{}
		w.ReceiptThen(r, now, done)
	}
	for range cap(slots) {
		slots <- struct{}{} // every callback has run
	}
	b.StopTimer()
	syncs := w.syncs.Load()
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N), "cpu-ns/receipt")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "receipts/s")
	b.ReportMetric(float64(b.N)/float64(max(syncs, 1)), "receipts/fsync")
}

// BenchmarkWriter_ReceiptThenOneAtATime: an SMSC that sends the next receipt only once the
// last is answered; ns/op is the time from ReceiptThen to done (ReceiptQuiet plus an fsync).
func BenchmarkWriter_ReceiptThenOneAtATime(b *testing.B) {
	w := benchWriter(b)
	defer w.Close()
	r := testReceipt("0123456789abcdef01234567")
	now := time.Now()
	done := make(chan error, 1)
	answer := func(err error) { done <- err }
	for b.Loop() {
		w.ReceiptThen(r, now, answer)
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/receipt")
}

// BenchmarkLoad: how fast --resume and smscast receipts rebuild the state of a
// 100,000-message campaign whose receipts came in.
func BenchmarkLoad(b *testing.B) {
	w := benchWriter(b)
	at := time.Now()
	const rows = 100_000
	for row := 1; row <= rows; row++ {
		if err := w.Attempt(row, 0, at); err != nil {
			b.Fatal(err)
		}
		if err := w.Accepted(row, 0, "0123456789abcdef01234567", at); err != nil {
			b.Fatal(err)
		}
		w.ReceiptThen(testReceipt("0123456789abcdef01234567"), at, func(error) {})
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	cpu := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		st, err := Load(w.Path())
		if err != nil || len(st.Rows) != rows {
			b.Fatalf("Load: %v, %d rows", err, len(st.Rows))
		}
	}
	b.ReportMetric(float64(processCPU(b)-cpu)/float64(b.N*rows), "cpu-ns/message")
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "messages/s")
}
