//go:build unix

package report

import (
	"fmt"
	"io"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"smscast/smpp"
)

// benchRows is the campaign size of the benchmarks (the end-to-end goal is 100,000 messages/s).
const benchRows = 200_000

// benchCampaign is the input of one benchmark campaign, built before the timer starts.
type benchCampaign struct {
	msisdns, ids, receiptIDs []string
}

func newBenchCampaign(receiptID func(n uint64) string) benchCampaign {
	c := benchCampaign{
		msisdns:    make([]string, benchRows),
		ids:        make([]string, benchRows),
		receiptIDs: make([]string, benchRows),
	}
	for i := range benchRows {
		n := uint64(0x5f1e0b7a + i)
		c.msisdns[i] = strconv.Itoa(491710000000 + i)
		c.ids[i] = strconv.FormatUint(n, 16) // as the simulator's --id-format hex
		c.receiptIDs[i] = receiptID(n)
	}
	return c
}

// run feeds one whole campaign to a new book: per row Add, Planned, Accepted and a DELIVRD
// receipt (4 events).
func (c benchCampaign) run() *Book {
	book := NewBook(Options{})
	now := time.Unix(1_700_000_000, 0)
	for i := range benchRows {
		row := i + 1
		book.Add(Entry{Row: row, MSISDN: c.msisdns[i], Template: "welcome", Encoding: "gsm7", Parts: 1})
		book.Planned(row, now)
		book.Accepted(row, 0, c.ids[i], now.Add(time.Millisecond))
		book.Receipt(smpp.Receipt{ID: c.receiptIDs[i], Stat: "DELIVRD", State: smpp.StateDelivered}, now.Add(time.Second))
	}
	return book
}

// BenchmarkBook measures the ledger's cost per event for 200,000 rows accepted and receipted.
// Run: go test ./report -run '^$' -bench Book -benchtime 5x
func BenchmarkBook(b *testing.B) {
	cases := []struct {
		name      string
		receiptID func(n uint64) string
	}{
		{"same-id", func(n uint64) string { return strconv.FormatUint(n, 16) }},
		{"upper-case", func(n uint64) string { return fmt.Sprintf("%X", n) }},
		{"hex-resp-dec-receipt", func(n uint64) string { return strconv.FormatUint(n, 10) }},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			c := newBenchCampaign(tc.receiptID)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpu := cpuTime()
			b.ResetTimer()
			for range b.N {
				book := c.run()
				if book.Pending() != 0 {
					b.Fatalf("%d rows pending", book.Pending())
				}
			}
			b.StopTimer()
			cpu = cpuTime() - cpu
			runtime.ReadMemStats(&after)
			events := float64(4 * benchRows * b.N)
			// On a shared machine wall time includes waiting for a core; CPU time (this
			// process, user+system, the garbage collector included) is what an event costs.
			b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/events, "ns/event")
			b.ReportMetric(events/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(benchRows*b.N), "allocs/row")
		})
	}
}

// BenchmarkBook_Memory reports the heap a 200,000-row book keeps.
func BenchmarkBook_Memory(b *testing.B) {
	c := newBenchCampaign(func(n uint64) string { return strconv.FormatUint(n, 16) })
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		book := c.run()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchRows, "heap-bytes/row")
		runtime.KeepAlive(book)
	}
}

// BenchmarkBook_WriteCSV measures writing the report of 200,000 rows.
func BenchmarkBook_WriteCSV(b *testing.B) {
	book := newBenchCampaign(func(n uint64) string { return strconv.FormatUint(n, 16) }).run()
	cpu := cpuTime()
	b.ResetTimer()
	for range b.N {
		if err := book.writeCSV(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu = cpuTime() - cpu
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(benchRows*b.N), "ns/row")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(benchRows*b.N), "cpu-ns/row")
}

// cpuTime returns the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
