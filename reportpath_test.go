package main

import (
	"os"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/report"
)

// TestDefaultReportPath_FreeName: with --to (or --recipients -) the default report is named
// after the start second; a second run within the same second once failed with "exists; use
// --force". It takes the next free name instead, counting the default journal as taken too.
func TestDefaultReportPath_FreeName(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Date(2026, 11, 30, 4, 43, 32, 0, time.Local)
	in := csvin.Config{To: []string{"+447700900123"}}
	touch := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		want   string
		create string // what the run at want leaves behind
	}{
		{"smscast-report-20261130-044332.csv", "smscast-report-20261130-044332.csv"},
		{"smscast-report-20261130-044332-2.csv", "smscast-report-20261130-044332-2.csv.journal"}, // a run still going
		{"smscast-report-20261130-044332-3.csv", ""},
	}
	for _, st := range steps {
		got := defaultReportPath(in, report.FormatCSV, now)
		if got != st.want {
			t.Fatalf("defaultReportPath = %q, want %q", got, st.want)
		}
		if err := checkReportPath(got, false, in); err != nil {
			t.Fatalf("the free name is refused: %v", err)
		}
		if st.create != "" {
			touch(st.create)
		}
	}
	// A recipients file keeps its fixed name: an existing one is the campaign's (--resume/--force).
	touch("list.report.jsonl")
	if got := defaultReportPath(csvin.Config{Recipients: "list.csv"}, report.FormatJSONL, now); got != "list.report.jsonl" {
		t.Errorf("with a recipients file: %q, want list.report.jsonl", got)
	}
}
