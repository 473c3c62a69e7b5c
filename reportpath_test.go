package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/journal"
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

// Two runs starting in the same second may both choose the same free default name: the one
// that creates the journal second (O_EXCL) moves on to the next free name instead of failing.
func TestOpenCampaignJournal_defaultNameTakenMeanwhile(t *testing.T) {
	t.Chdir(t.TempDir())
	now := time.Now()
	s := sendSettings{input: csvin.Config{To: []string{"+447700900123"}}, format: report.FormatCSV, reportNamedAt: now}
	s.report = defaultReportPath(s.input, s.format, now)
	s.journal = journalSettings{path: s.report + ".journal"}
	chosen := s.report
	// The other run, meanwhile.
	other, err := journal.Create(chosen+".journal", journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	cj, err := openCampaignJournal(&s, report.NewBook(report.Options{}), io.Discard)
	if err != nil {
		t.Fatalf("openCampaignJournal = %v, want the next free name taken", err)
	}
	defer cj.close()
	want := strings.TrimSuffix(chosen, ".csv") + "-2.csv"
	if s.report != want || s.journal.path != want+".journal" || cj.w.Path() != want+".journal" {
		t.Errorf("report %q, journal %q (writer %q); want %q and its journal", s.report, s.journal.path, cj.w.Path(), want)
	}

	// A report named by --report keeps its name: the error says the campaign is running.
	s2 := sendSettings{input: s.input, format: report.FormatCSV, report: chosen}
	s2.journal = journalSettings{path: chosen + ".journal"}
	if _, err := openCampaignJournal(&s2, report.NewBook(report.Options{}), io.Discard); err == nil || !strings.Contains(err.Error(), "another smscast process is running now") {
		t.Errorf("an explicit --report whose journal another run has: %v, want it named as running", err)
	}
}
