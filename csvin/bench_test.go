package csvin_test

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"smscast/csvin"
	"smscast/csvin/csvgen"
)

// BenchmarkReader reads, renders, encodes and splits generated rows with the example
// templates, as plan and send do; rows/s is the figure to watch (the issue asks for a million
// rows in at most 5 s, so at least 200,000 rows/s with room for writing the plan).
//
//	go test ./csvin -run '^$' -bench Reader -benchtime 3x
func BenchmarkReader(b *testing.B) {
	const rows = 200_000
	path := filepath.Join(b.TempDir(), "recipients.csv")
	if err := csvgen.WriteFile(path, rows); err != nil {
		b.Fatal(err)
	}
	cfg := csvin.Config{Recipients: path, Templates: "../testdata/templates.csv", Template: "welcome"}
	cfg.Coding.MaxParts = 10
	b.ResetTimer()
	for range b.N {
		r, err := csvin.Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		var sum csvin.Summary
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sum.Add(row)
		}
		r.Close()
		if sum.Rows != rows {
			b.Fatalf("read %d rows, want %d", sum.Rows, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
