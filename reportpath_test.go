package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
	"smscast/smsc"
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

// The journal records where its campaign's report is written, and --resume and smscast
// receipts refuse a --report that names another file (another campaign's, from a shared
// --config or a copied cron line) instead of replacing it; a --report where nothing is yet
// moves the report there, and from then on the old place is the one refused.
func TestReportOwner(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	commands := []struct {
		name string
		run  func(t *testing.T, a campaign, report string) (int, string)
	}{
		{"receipts", func(t *testing.T, a campaign, report string) (int, string) {
			return runCmd(t, "receipts", "--journal", a.journal, "--report", report, "--wait", "0", "--spool", a.spool, "--quiet")
		}},
		{"send --resume", func(t *testing.T, a campaign, report string) (int, string) {
			a.report = report
			return a.send(t, srv.Addr(), "--resume", "--journal", a.journal)
		}},
	}
	for _, cmd := range commands {
		t.Run(cmd.name, func(t *testing.T) {
			// Two campaigns to the same list, each with its own report and journal.
			a, b := newCampaign(t, 2), newCampaign(t, 2)
			for _, c := range []campaign{a, b} {
				// Every receipt comes in before send ends: the receipts runs exit 0.
				c.sendAll(t, srv.Addr())
			}
			recorded := func() string {
				t.Helper()
				st, err := journal.Load(a.journal)
				if err != nil {
					t.Fatal(err)
				}
				return st.ReportPath
			}
			if got := recorded(); got != a.report {
				t.Fatalf("the new campaign's journal records the report %q, want %q", got, a.report)
			}
			bReport, aJournal := readFile(t, b.report), readFile(t, a.journal)
			code, stderr := cmd.run(t, a, b.report)
			if code != exitUsage || !strings.Contains(stderr, `--report "`+b.report+`" is another campaign's report`) ||
				!strings.Contains(stderr, "give --report "+a.report+" --journal "+a.journal) {
				t.Errorf("campaign a with campaign b's report: exit %d, want 1 naming both reports; stderr:\n%s", code, stderr)
			}
			if !bytes.Equal(readFile(t, b.report), bReport) || !bytes.Equal(readFile(t, a.journal), aJournal) {
				t.Error("the refused run changed campaign b's report or campaign a's journal")
			}

			moved := filepath.Join(a.dir, "moved.csv")
			for _, step := range []struct {
				report string
				want   int
			}{
				{moved, exitOK},       // nothing there: the report moves
				{moved, exitOK},       // now the campaign's report
				{a.report, exitUsage}, // still there, but no longer the campaign's
			} {
				if code, stderr := cmd.run(t, a, step.report); code != step.want {
					t.Errorf("--report %s: exit %d, want %d; stderr:\n%s", step.report, code, step.want, stderr)
				}
			}
			if got := recorded(); got != moved {
				t.Errorf("after the move the journal records the report %q, want %q", got, moved)
			}
			if rows := reportByRow(t, moved); len(rows) != 2 || rows[1]["submit_status"] != "accepted" {
				t.Errorf("the moved report: %v", rows)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCampaignReport: where a journal says its campaign's report is, after the ways
// campaign directories move: renamed, copied, restored, reached through a link.
func TestCampaignReport(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, name := range []string{"here/out.csv.journal", "here/out.csv", "orig/campaign.journal", "orig/report.csv",
		"here/jan.csv.journal", "here/jan.csv"} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("here", "link"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("here/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	in := func(p string) string { return filepath.Join(dir, p) }
	tests := []struct {
		name                               string
		journal, recorded, recordedJournal string
		want                               string // "" with ok false: none recorded
		err                                string
	}{
		{"an earlier smscast's journal", "here/out.csv.journal", "", "", "", ""},
		{"in place", "here/out.csv.journal", in("here/out.csv"), in("here/out.csv.journal"), in("here/out.csv"), ""},
		{"in place, through a link", "link/out.csv.journal", in("here/out.csv"), in("here/out.csv.journal"), in("here/out.csv"), ""},
		{"in place, moved beside another run's", "here/out.csv.journal", in("here/out-2.csv"), in("here/out.csv.journal"), in("here/out-2.csv"), ""},
		{"in place, kept elsewhere", "here/out.csv.journal", "/reports/a.csv", in("here/out.csv.journal"), "/reports/a.csv", ""},
		{"the directory renamed", "here/out.csv.journal", in("old/out.csv"), in("old/out.csv.journal"), in("here/out.csv"), ""},
		{"renamed in place to free the name", "here/jan.csv.journal", in("here/out.csv"), in("here/out.csv.journal"), in("here/jan.csv"), ""},
		{"moved, a report not named after the journal", "here/jan.csv.journal", in("old/out-2.csv"), in("old/out.csv.journal"), in("here/out-2.csv"), ""},
		{"the directory copied, other names", "here/campaign.journal", in("orig/report.csv"), in("orig/campaign.journal"), in("here/report.csv"), ""},
		{"moved, the report below", "here/c.journal", in("old/reports/a.csv"), in("old/c.journal"), in("here/reports/a.csv"), ""},
		// Where a report stayed when its journal moved alone cannot be told from another
		// campaign's file there now: the report is written anew beside the journal.
		{"the journal moved alone", "here/c.journal", in("orig/report.csv"), in("orig/c.journal"), in("here/report.csv"), ""},
		{"moved, a directory where the report would be", "here/c.journal", in("x/sub"), in("x/c.journal"), "",
			"the journal here/c.journal has moved from " + in("x/c.journal") + "; its report would be " + in("here/sub") + ", which is not a file; give --report FILE"},
		{"moved away from a report elsewhere", "here/c.journal", "/reports/a.csv", in("old/c.journal"), "",
			"the journal here/c.journal has moved from " + in("old/c.journal") + ", and its report /reports/a.csv was outside the journal's directory, so where it is now cannot be told; give --report FILE"},
	}
	for _, tt := range tests {
		st := &journal.State{ReportPath: tt.recorded, ReportJournal: tt.recordedJournal}
		if fi, err := os.Stat(tt.want); err == nil { // the file as the campaign wrote it
			st.ReportSize, st.ReportModTime = fi.Size(), fi.ModTime().UnixNano()
		}
		got, ok, err := campaignReport(tt.journal, st)
		if got != tt.want || ok != (tt.want != "") || (err == nil) != (tt.err == "") || err != nil && err.Error() != tt.err {
			t.Errorf("%s: %q, %v, %v; want %q, error %q", tt.name, got, ok, err, tt.want, tt.err)
		}
	}
	// The file at the report's place, not as the campaign wrote it: another campaign's now,
	// or edited.
	st := &journal.State{ReportPath: in("here/out.csv"), ReportJournal: in("here/out.csv.journal"), ReportSize: 1, ReportModTime: 1}
	if _, _, err := campaignReport("here/out.csv.journal", st); err == nil || !strings.Contains(err.Error(), "is not the one this campaign wrote") {
		t.Errorf("a changed report: %v, want an error saying it is not the one this campaign wrote", err)
	}
}

func TestCheckReportOwner(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range map[string]string{"a.csv": "row\n1\n", "b.csv": "row\n22\n", "a.csv.journal": "j"} {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.csv", "link.csv"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("real.journal", []byte(journal.Magic+"\x01\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := filepath.Join(dir, "a.csv")
	fi, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	recorded := &journal.State{Runs: 1, ReportPath: a, ReportJournal: filepath.Join(dir, "a.csv.journal"), ReportSize: fi.Size(), ReportModTime: fi.ModTime().UnixNano()}
	// c.journal, moved here from old/, with its report kept elsewhere: its report cannot be told.
	elsewhere := &journal.State{Runs: 1, ReportPath: a, ReportJournal: filepath.Join(dir, "old", "..", "..", "elsewhere", "c.journal"),
		ReportSize: fi.Size(), ReportModTime: fi.ModTime().UnixNano()}
	tests := []struct {
		report, journal string
		st              *journal.State
		want            string // "" = accepted; else what the refusal says
	}{
		{"b.csv", "a.csv.journal", &journal.State{Runs: 1, Rows: map[int]*journal.Row{1: {Num: 1}}}, ""}, // a journal of an earlier smscast records none
		// No report recorded, but one written since the campaign began: the journal lost records.
		{"b.csv", "a.csv.journal", &journal.State{Runs: 1, RunStarts: []time.Time{fi.ModTime().Add(-time.Minute)}}, "the journal has lost records"},
		// A journal of an earlier smscast, which recorded no report, has its rows: accepted.
		{"b.csv", "a.csv.journal", &journal.State{Runs: 1, RunStarts: []time.Time{fi.ModTime().Add(-time.Minute)}, Rows: map[int]*journal.Row{1: {Num: 1}}}, ""},
		// A report the journal's record does not describe, older than the campaign: what a
		// --force start left there (killed before it wrote its own), to be replaced.
		{"a.csv", "a.csv.journal", &journal.State{Runs: 1, RunStarts: []time.Time{fi.ModTime().Add(time.Minute)}, ReportPath: a,
			ReportJournal: filepath.Join(dir, "a.csv.journal"), ReportSize: fi.Size() + 1, ReportModTime: 1}, ""},
		// ... and the same written since the campaign began: another's, or edited.
		{"a.csv", "a.csv.journal", &journal.State{Runs: 1, RunStarts: []time.Time{fi.ModTime().Add(-time.Minute)}, ReportPath: a,
			ReportJournal: filepath.Join(dir, "a.csv.journal"), ReportSize: fi.Size() + 1, ReportModTime: 1}, "is not the one this campaign wrote"},
		// ... or one from before it began: what a --force start left, to be replaced.
		{"b.csv", "a.csv.journal", &journal.State{Runs: 1, RunStarts: []time.Time{fi.ModTime().Add(time.Minute)}}, ""},
		{"b.csv", "a.csv.journal", &journal.State{}, `the journal a.csv.journal records no run`}, // emptied or cut short
		{"new.csv", "a.csv.journal", &journal.State{}, ""},                                       // crashed before its first record: nothing sent
		{"a.csv", "a.csv.journal", recorded, ""},
		{"./x/../a.csv", "a.csv.journal", recorded, ""},
		{"link.csv", "a.csv.journal", recorded, ""}, // another name of the same file
		{"new.csv", "a.csv.journal", recorded, ""},  // nothing there: the report moves
		{"b.csv", "a.csv.journal", recorded, `--report "b.csv" is not this campaign's report: its journal "a.csv.journal" says the report is "` + a +
			`"; give --report ` + a + ` --journal a.csv.journal, or, if "b.csv" is this campaign's report moved there, remove it first`},
		{"new.csv", "c.journal", elsewhere, ""},
		{"a.csv", "c.journal", elsewhere, ""}, // the recorded report, named by the user
		{"b.csv", "c.journal", elsewhere, `--report "b.csv" exists, and it cannot be told to be this campaign's report: the journal c.journal has moved`},
		{"c.journal", "c.journal", elsewhere, ""}, // nothing there
		{".", "a.csv.journal", recorded, `--report "." is not a file`},
		{"real.journal", "c.journal", elsewhere, `--report "real.journal" is a journal`},
	}
	for _, tt := range tests {
		err := checkReportOwner(tt.report, tt.journal, tt.st)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("checkReportOwner(%q, %q, %+v) = %v, want %q", tt.report, tt.journal, tt.st, err, tt.want)
		}
	}
}

// send --resume given the journal alone rewrites the report the journal records, not one under
// the default name beside the recipients.
func TestResume_journalAloneFindsTheReport(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	c.report = filepath.Join(c.dir, "reports", "campaign.jsonl")
	c.journal = filepath.Join(c.dir, "campaign.journal")
	if err := os.Mkdir(filepath.Dir(c.report), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, stderr := c.send(t, srv.Addr(), "--journal", c.journal); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	if err := os.Remove(c.report); err != nil {
		t.Fatal(err)
	}
	code, stderr := runCmd(t, "send", "--smsc", srv.Addr(), "--recipients", c.recipients, "--templates", c.templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--spool", c.spool, "--quiet", "--resume", "--journal", c.journal)
	if code != exitOK {
		t.Fatalf("send --resume --journal: exit %d\n%s", code, stderr)
	}
	// Rewritten in the format it was in, JSON Lines, every row accepted.
	lines := strings.Split(strings.TrimSpace(string(readFile(t, c.report))), "\n")
	for _, line := range lines {
		var row struct {
			SubmitStatus string `json:"submit_status"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil || row.SubmitStatus != "accepted" {
			t.Errorf("report line %q: %v, want JSON with submit_status accepted", line, err)
		}
	}
	if len(lines) != 2 {
		t.Errorf("the rewritten report has %d lines, want 2", len(lines))
	}
	if defaultName := defaultReportPath(csvin.Config{Recipients: c.recipients}, report.FormatCSV, time.Time{}); exists(defaultName) {
		t.Errorf("the resume wrote %s too", defaultName)
	}
}

// A campaign run through a directory link that later points to the next campaign's
// directory, then moved: without --report its journal finishes its own report, never the one
// the link leads to now, and in the new place too.
func TestReportOwner_linkedThenMovedDirectory(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	march, april := newCampaign(t, 2), newCampaign(t, 3)
	link := filepath.Join(t.TempDir(), "current")
	for _, c := range []campaign{march, april} {
		os.Remove(link)
		if err := os.Symlink(c.dir, link); err != nil {
			t.Fatal(err)
		}
		via := c
		via.report = filepath.Join(link, "out.csv")
		via.sendAll(t, srv.Addr())
	}
	aprilReport := readFile(t, april.report)
	code, stderr := runCmd(t, "receipts", "--journal", march.journal, "--wait", "0", "--spool", march.spool, "--quiet")
	if code != exitOK || !strings.Contains(stderr, "report written to "+march.report+"\n") {
		t.Errorf("receipts of March by its journal: exit %d, want 0 and March's report; stderr:\n%s", code, stderr)
	}
	if !bytes.Equal(readFile(t, april.report), aprilReport) {
		t.Error("March's receipts run changed April's report, where the link points now")
	}

	moved := march.dir + "-moved"
	if err := os.Rename(march.dir, moved); err != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(moved, name) }
	inputs := []string{"--recipients", in(filepath.Base(march.recipients)), "--templates", in(filepath.Base(march.templates)),
		"--spool", in("spool"), "--wait", "0", "--quiet"}
	for _, args := range [][]string{
		append([]string{"receipts", "--journal", in("out.csv.journal")}, inputs...),
		append([]string{"send", "--smsc", srv.Addr(), "--from", "ACME", "--resume", "--report", in("out.csv")}, inputs...),
	} {
		if code, stderr := runCmd(t, args...); code != exitOK || !strings.Contains(stderr, "report written to "+in("out.csv")+"\n") {
			t.Errorf("%s in the moved directory: exit %d, want 0 and its report there; stderr:\n%s", args[0], code, stderr)
		}
	}
}

// A campaign directory copied elsewhere (a backup restored), the report and journal under
// names of their own: the copy's journal finishes the copy's report, never the original's.
func TestReportOwner_copiedDirectory(t *testing.T) {
	c, _ := sentWithOwnNames(t, "campaign.journal")
	original := readFile(t, c.report)
	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.CopyFS(restored, os.DirFS(c.dir)); err != nil {
		t.Fatal(err)
	}
	// As cp -a, tar and rsync -a restore them: with their modification times.
	if fi, err := os.Stat(c.report); err != nil || os.Chtimes(filepath.Join(restored, "report.csv"), fi.ModTime(), fi.ModTime()) != nil {
		t.Fatal(err)
	}
	in := func(name string) string { return filepath.Join(restored, name) }
	code, stderr := runCmd(t, "receipts", "--journal", in("campaign.journal"), "--recipients", in(filepath.Base(c.recipients)),
		"--templates", in(filepath.Base(c.templates)), "--spool", in("spool"), "--wait", "0", "--quiet")
	if code != exitOK || !strings.Contains(stderr, "report written to "+in("report.csv")+"\n") {
		t.Errorf("receipts in the copy: exit %d, want 0 and the copy's report; stderr:\n%s", code, stderr)
	}
	if !bytes.Equal(readFile(t, c.report), original) {
		t.Error("the copy's receipts run rewrote the original's report")
	}
}

// A finished campaign renamed in place (jan.csv, jan.csv.journal) to free out.csv for the next
// one: its journal finishes jan.csv, never the next campaign's out.csv.
func TestReportOwner_renamedInPlace(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	c.sendAll(t, srv.Addr())
	jan := filepath.Join(c.dir, "jan.csv")
	for from, to := range map[string]string{c.report: jan, c.journal: jan + ".journal"} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	c.sendAll(t, srv.Addr()) // the next campaign, out.csv again
	next := readFile(t, c.report)
	for _, report := range [][]string{nil, {"--report", jan}} {
		args := append([]string{"receipts", "--journal", jan + ".journal", "--wait", "0", "--spool", c.spool, "--quiet"}, report...)
		if code, stderr := runCmd(t, args...); code != exitOK || !strings.Contains(stderr, "report written to "+jan+"\n") {
			t.Errorf("receipts %v: exit %d, want 0 and jan.csv rewritten; stderr:\n%s", report, code, stderr)
		}
	}
	if !bytes.Equal(readFile(t, c.report), next) {
		t.Error("the renamed campaign's receipts run rewrote the next campaign's out.csv")
	}
}

// A finished campaign with names of its own (report.csv, state.journal, from a --config) is
// renamed in place and the next one runs under the same names: the old journal never takes
// the new report.csv, with or without --report, and finishes its own under its new name.
func TestReportOwner_customNamesReused(t *testing.T) {
	c, srv := sentWithOwnNames(t, "state.journal")
	janReport, janJournal := filepath.Join(c.dir, "jan-report.csv"), filepath.Join(c.dir, "jan-state.journal")
	for from, to := range map[string]string{c.report: janReport, c.journal: janJournal} {
		if err := os.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
	c.sendAll(t, srv.Addr(), "--journal", c.journal) // the next campaign, same names
	next := readFile(t, c.report)
	receipts := func(extra ...string) (int, string) {
		return runCmd(t, append([]string{"receipts", "--journal", janJournal, "--wait", "0", "--spool", c.spool, "--quiet"}, extra...)...)
	}
	for _, report := range [][]string{nil, {"--report", c.report}} {
		if code, stderr := receipts(report...); code != exitUsage || !strings.Contains(stderr, "another campaign") {
			t.Errorf("receipts %v: exit %d, want 1 saying the file is another campaign's; stderr:\n%s", report, code, stderr)
		}
	}
	// jan-report.csv is the report as the campaign wrote it (same size and time), renamed.
	if code, stderr := receipts("--report", janReport); code != exitOK || !strings.Contains(stderr, "report written to "+janReport+"\n") {
		t.Errorf("receipts --report jan-report.csv: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !bytes.Equal(readFile(t, c.report), next) {
		t.Error("the renamed campaign's receipts runs rewrote the next campaign's report.csv")
	}
}

// sentWithOwnNames sends a 2-row campaign, every receipt in, whose report and journal have
// names of their own (report.csv and journalName), as a --config file gives them.
func sentWithOwnNames(t *testing.T, journalName string) (campaign, *smsc.Server) {
	t.Helper()
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	c.report, c.journal = filepath.Join(c.dir, "report.csv"), filepath.Join(c.dir, journalName)
	c.sendAll(t, srv.Addr(), "--journal", c.journal)
	return c, srv
}

// Two campaigns with journals of their own but one report name: January's report renamed,
// February's written under the old name. January's journal, where it always was, records
// report.csv, but that file is no longer the one it wrote: refused, February's report kept;
// the renamed one, as January wrote it, is January's.
func TestReportOwner_oneReportNameTwoJournals(t *testing.T) {
	c, srv := sentWithOwnNames(t, "jan.journal")
	janReport := filepath.Join(c.dir, "jan-report.csv")
	if err := os.Rename(c.report, janReport); err != nil {
		t.Fatal(err)
	}
	c.sendAll(t, srv.Addr(), "--journal", filepath.Join(c.dir, "feb.journal")) // February: report.csv again
	february := readFile(t, c.report)
	receipts := func(extra ...string) (int, string) {
		return runCmd(t, append([]string{"receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet"}, extra...)...)
	}
	if code, stderr := receipts(); code != exitUsage || !strings.Contains(stderr, "is not the one this campaign wrote") {
		t.Errorf("receipts of January: exit %d, want 1 saying report.csv changed; stderr:\n%s", code, stderr)
	}
	code, stderr := runCmd(t, "send", "--smsc", srv.Addr(), "--recipients", c.recipients, "--templates", c.templates, "--from", "ACME",
		"--resume", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet")
	if code != exitUsage || !strings.Contains(stderr, "is not the one this campaign wrote") {
		t.Errorf("send --resume of January by its journal: exit %d, want 1 saying report.csv changed; stderr:\n%s", code, stderr)
	}
	if code, stderr := receipts("--report", janReport); code != exitOK || !strings.Contains(stderr, "report written to "+janReport+"\n") {
		t.Errorf("receipts of January --report jan-report.csv: exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !bytes.Equal(readFile(t, c.report), february) {
		t.Error("January's receipts runs rewrote February's report.csv")
	}
}

// A report or summary directory where no file can be created is refused before anything is
// sent, not found out after the whole campaign. /sys/kernel takes no files, not even root's
// (who writes into a directory whatever its mode).
func TestCheckReportPath_unwritableDirectory(t *testing.T) {
	if fi, err := os.Stat("/sys/kernel"); err != nil || !fi.IsDir() {
		t.Skip("no /sys/kernel here")
	}
	if err := checkReportPath("/sys/kernel/out.csv", false, csvin.Config{}); err == nil || !strings.Contains(err.Error(), "cannot create a file in /sys/kernel") {
		t.Errorf("checkReportPath in /sys/kernel = %v, want a refusal", err)
	}
	if err := checkSummaryPath("/sys/kernel/summary.json"); err == nil || !strings.Contains(err.Error(), "cannot create a file in /sys/kernel") {
		t.Errorf("checkSummaryPath in /sys/kernel = %v, want a refusal", err)
	}
	// A new file under /proc is no special file to write into: refused for its directory too.
	if err := checkSummaryPath("/proc/self/summary.json"); err == nil || !strings.Contains(err.Error(), "cannot create a file in /proc/self") {
		t.Errorf("checkSummaryPath in /proc/self = %v, want a refusal", err)
	}
	dir := t.TempDir()
	if err := checkReportPath(filepath.Join(dir, "out.csv"), false, csvin.Config{}); err != nil {
		t.Errorf("a writable directory: %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the check left %d files behind", len(left))
	}
}

// The unmatched receipts of an earlier report of the same name are refused at the start,
// like the report itself: at the end the new report went beside them, blaming "another run".
func TestCheckReportPath_staleUnmatched(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	if err := os.WriteFile(report.UnmatchedPath(out), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := checkReportPath(out, false, csvin.Config{}); err == nil || !strings.Contains(err.Error(), "use --force") {
		t.Errorf("a stale unmatched file: %v, want the --force advice", err)
	}
	if err := checkReportPath(out, true, csvin.Config{}); err != nil {
		t.Errorf("with --force: %v", err)
	}
}

// A spool where no file can be created (a read-only mount; /proc here, which takes no files,
// not even root's) is refused before anything is sent: every receipt of another campaign
// would be refused later, one warning each.
func TestSend_unwritableSpoolRefused(t *testing.T) {
	if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
		t.Skip("no /proc here")
	}
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	for _, spool := range []string{"/proc/self", "/proc/self/spool"} {
		code, stderr := runApp(t, "send", "--smsc", "127.0.0.1:1", "--recipients", recipients, "--templates", templates,
			"--report", filepath.Join(dir, "out.csv"), "--spool", spool)
		if code != exitUsage || !strings.Contains(stderr, "--spool "+spool+": cannot create a file in /proc/self") {
			t.Errorf("--spool %s: exit %d, want 1 refusing it\n%s", spool, code, stderr)
		}
	}
}

// The rows a report shows accepted that its journal does not have accepted, in either report
// format: the sign of a journal that lost records, when the rows both have accepted carry the
// same message ids. Another campaign's report (other ids), a file that is no report, or a
// journal with no accepted row in common count none.
func TestAcceptedUnknownToJournal(t *testing.T) {
	dir := t.TempDir()
	st := &journal.State{Rows: map[int]*journal.Row{1: {Num: 1, Parts: []journal.Part{{Attempts: 1, MessageIDs: []string{"a 1"}}}}}}
	files := map[string]string{
		"r.csv": "row,msisdn,template,encoding,parts,message_ids,submit_status\n" +
			"1,491711,t,gsm7,1,a\\x201,accepted\n2,491712,t,gsm7,1,a2,accepted\n3,491713,t,gsm7,1,,rejected\n4,491714,t,gsm7,1,a4,resubmitted\n",
		"r.jsonl": `{"row":1,"parts":1,"message_ids":["a 1"],"submit_status":"accepted"}` + "\n" +
			`{"row":2,"parts":1,"message_ids":["a2"],"submit_status":"accepted"}` + "\n" +
			`{"row":4,"parts":1,"message_ids":["a4"],"submit_status":"resubmitted"}` + "\n",
		"other.csv": "row,msisdn,template,encoding,parts,message_ids,submit_status\n" +
			"1,491711,t,gsm7,1,b1,accepted\n2,491712,t,gsm7,1,b2,accepted\n",
		"none-in-common.csv": "row,msisdn,template,encoding,parts,message_ids,submit_status\n2,491712,t,gsm7,1,a2,accepted\n",
		"other.txt":          "not a report\n",
	}
	want := map[string]int{"r.csv": 2, "r.jsonl": 2, "other.csv": 0, "none-in-common.csv": 0, "other.txt": 0}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := acceptedUnknownToJournal(path, st); got != want[name] {
			t.Errorf("%s: %d rows unknown to the journal, want %d", name, got, want[name])
		}
	}
	if got := acceptedUnknownToJournal(filepath.Join(dir, "r.csv"), &journal.State{}); got != 0 {
		t.Errorf("a journal's facts alone, without its rows: %d, want 0", got)
	}
}
