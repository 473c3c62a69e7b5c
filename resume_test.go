package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/goleak"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// runCmd runs send or receipts in this process, like runApp, and returns the exit status and
// stderr. The commands are made afresh for each run (see runApp).
func runCmd(t testing.TB, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	app := newApp(&stdout, &stderr)
	app.Commands = []*cli.Command{sendCommand(), receiptsCommand()}
	err := app.RunContext(ctx, append([]string{"smscast"}, args...))
	printError(&stderr, err)
	return exitCode(err), stderr.String()
}

// noLeaks checks at the end of a test that it left no goroutine behind.
func noLeaks(t *testing.T) {
	t.Helper()
	opt := []goleak.Option{goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("os/signal.signal_recv")}
	t.Cleanup(func() { goleak.VerifyNone(t, opt...) })
}

// newTestSim starts a simulator that the test closes.
func newTestSim(t *testing.T, cfg smsc.Config) *smsc.Server {
	t.Helper()
	srv, err := smsc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// msisdnRow maps a destination of campaignFiles back to its row number.
func msisdnRow(t testing.TB, msisdn string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimPrefix(msisdn, "49171"))
	if err != nil || !strings.HasPrefix(msisdn, "49171") {
		t.Fatalf("destination %q is not one of campaignFiles", msisdn)
	}
	return n
}

// sentTimes counts how often the simulator accepted a message for each row.
func sentTimes(t testing.TB, srv *smsc.Server) map[int]int {
	t.Helper()
	sent := map[int]int{}
	for _, m := range srv.Messages() {
		sent[msisdnRow(t, m.Destination.Addr)]++
	}
	return sent
}

// reportByRow reads a CSV report keyed by row number.
func reportByRow(t testing.TB, path string) map[int]map[string]string {
	t.Helper()
	out := map[int]map[string]string{}
	for _, r := range readReport(t, path) {
		n, err := strconv.Atoi(r["row"])
		if err != nil {
			t.Fatalf("report row %q", r["row"])
		}
		out[n] = r
	}
	return out
}

// TestResume_sigkill kills the real binary with SIGKILL in the middle of a campaign, resumes
// it, and checks with the simulator's record that every row was accepted, that the rows sent
// twice are among those the journal could not vouch for, that those the journal had in flight
// are at most the window, and that the report covers every row of both runs.
func TestResume_sigkill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const rows, window = 300, 5
	// Responses take a while, so that the window is full when the process dies.
	srv := newTestSim(t, smsc.Config{RespDelay: 50 * time.Millisecond})
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	recipients, templates := campaignFiles(t, dir, rows)
	reportPath := filepath.Join(dir, "out.csv")
	journalPath := reportPath + ".journal"
	args := []string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "100", "--window", strconv.Itoa(window), "--wait", "0",
		"--report", reportPath, "--spool", filepath.Join(dir, "spool"), "--quiet"}
	var stderr lockedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; srv.Stats().Accepted < 60 && i < 3000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	firstRun := sentTimes(t, srv)
	if len(firstRun) == 0 || len(firstRun) == rows {
		t.Fatalf("the first run sent %d of %d rows before SIGKILL; the test needs it killed in the middle\n%s", len(firstRun), rows, stderr.String())
	}
	if _, err := os.Stat(reportPath); err == nil {
		t.Fatal("a report exists after SIGKILL: the test did not kill the run")
	}

	// What the journal could not vouch for after the crash.
	st, err := journal.Load(journalPath)
	if err != nil {
		t.Fatal(err)
	}
	unsure := map[int]bool{}
	inFlight := 0
	for n := 1; n <= rows; n++ {
		switch st.Status(n, 1) {
		case journal.InFlight:
			inFlight++
			unsure[n] = true
		case journal.MaybeSent:
			unsure[n] = true
		}
	}
	if inFlight > window {
		t.Errorf("the journal has %d rows in flight, more than the window of %d", inFlight, window)
	}

	var stderr2 lockedBuffer
	cmd = exec.Command(bin, append(args, "--resume")...)
	cmd.Stderr = &stderr2
	runToEnd(t, cmd, &stderr2)
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("--resume: exit %d, want 0; stderr:\n%s", code, stderr2.String())
	}
	if !strings.Contains(stderr2.String(), "resumed from "+journalPath) {
		t.Errorf("--resume did not say what it resumed:\n%s", stderr2.String())
	}

	sent := sentTimes(t, srv)
	report := reportByRow(t, reportPath)
	if len(report) != rows {
		t.Errorf("the report has %d rows, want all %d", len(report), rows)
	}
	twice := 0
	for n := 1; n <= rows; n++ {
		r := report[n]
		switch {
		case sent[n] == 0:
			t.Errorf("row %d was never accepted by the SMSC", n)
		case sent[n] > 2:
			t.Errorf("row %d was sent %d times", n, sent[n])
		case sent[n] == 2:
			twice++
			if !unsure[n] {
				t.Errorf("row %d was sent twice although the journal recorded its outcome (%v)", n, st.Status(n, 1))
			}
			if r["submit_status"] != "resubmitted" {
				t.Errorf("row %d was sent twice but the report says %q", n, r["submit_status"])
			}
		}
		if s := r["submit_status"]; s != "accepted" && s != "resubmitted" {
			t.Errorf("row %d: report says %q %q", n, s, r["submit_error"])
		}
		if r["message_ids"] == "" {
			t.Errorf("row %d: no message id in the report", n)
		}
	}
	t.Logf("first run: %d rows; journal: %d in flight, %d unsure in all; sent twice: %d", len(firstRun), inFlight, len(unsure), twice)
}

// runToEnd starts cmd and waits for it, killing it after a minute.
func runToEnd(t *testing.T, cmd *exec.Cmd, stderr *lockedBuffer) {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, time.Minute, stderr)
}

// campaign is a small campaign of campaignFiles in a temporary directory.
type campaign struct {
	dir, recipients, templates, report, journal, spool string
}

func newCampaign(t *testing.T, rows int) campaign {
	t.Helper()
	c := campaign{dir: t.TempDir()}
	c.recipients, c.templates = campaignFiles(t, c.dir, rows)
	c.report = filepath.Join(c.dir, "out.csv")
	c.journal = c.report + ".journal"
	c.spool = filepath.Join(c.dir, "spool")
	return c
}

// send runs smscast send for the campaign against addr with extra flags.
func (c campaign) send(t *testing.T, addr string, extra ...string) (int, string) {
	t.Helper()
	args := []string{"send", "--smsc", addr, "--recipients", c.recipients, "--templates", c.templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--report", c.report, "--spool", c.spool, "--quiet"}
	return runCmd(t, append(args, extra...)...)
}

// sentCampaign is a campaign of n rows sent once, exit 0 (receipts not waited for), and its
// simulator.
func sentCampaign(t *testing.T, n int) (campaign, *smsc.Server) {
	t.Helper()
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, n)
	if code, stderr := c.send(t, srv.Addr()); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	return c, srv
}

// sendAll runs send for the campaign with extra flags and waits for every receipt (so that a
// later receipts run finds nothing pending); anything but exit 0 fails the test.
func (c campaign) sendAll(t *testing.T, addr string, extra ...string) {
	t.Helper()
	if code, stderr := c.send(t, addr, append(extra, "--wait", "30s")...); code != exitOK {
		t.Fatalf("send %v: exit %d\n%s", extra, code, stderr)
	}
}

// TestResume_tornTail: a journal whose last record was cut short by a crash is resumed with a
// warning that names the cut, and the records before it count.
func TestResume_tornTail(t *testing.T) {
	noLeaks(t)
	c, srv := sentCampaign(t, 10)
	fi, err := os.Stat(c.journal)
	if err != nil {
		t.Fatal(err)
	}
	// The first bytes of a record: what a write cut short by a crash leaves.
	f, err := os.OpenFile(c.journal, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0x2a, 0x00, 0x00, 0x00, 0x03})
	f.Close()

	before := srv.Stats().Submits
	code, stderr := c.send(t, srv.Addr(), "--resume")
	if code != exitOK {
		t.Fatalf("--resume: exit %d, want 0\n%s", code, stderr)
	}
	want := fmt.Sprintf("the last 5 bytes (from byte %d", fi.Size())
	if !strings.Contains(stderr, "warning: journal "+c.journal) || !strings.Contains(stderr, want) {
		t.Errorf("no torn-tail warning naming the cut (%q) on stderr:\n%s", want, stderr)
	}
	if n := srv.Stats().Submits - before; n != 0 {
		t.Errorf("--resume sent %d messages of a campaign that was complete", n)
	}
	if _, err := journal.Load(c.journal); err != nil {
		t.Errorf("the journal after the resume: %v", err)
	}
	if rows := readReport(t, c.report); len(rows) != 10 || rows[0]["submit_status"] != "accepted" {
		t.Errorf("report after resume: %d rows, first %v", len(rows), rows[0])
	}
}

// recordOffsets returns where each record of the journal at path begins; it fails t unless
// there are two at least.
func recordOffsets(t *testing.T, path string) []int64 {
	t.Helper()
	var offsets []int64
	if _, err := journal.Replay(path, func(r journal.Record) error {
		offsets = append(offsets, r.Offset)
		return nil
	}); err != nil || len(offsets) < 2 {
		t.Fatalf("replay %s: %v, %d records", path, err, len(offsets))
	}
	return offsets
}

// A journal emptied or cut before its first record (a mistaken `: > file`, a restore that
// left it empty) records no run; with the campaign's report there, the campaign has run, and
// resuming would send every row again, unmarked: --resume and receipts refuse.
func TestResume_journalThatRecordsNoRun(t *testing.T) {
	noLeaks(t)
	c, srv := sentCampaign(t, 10)
	offsets := recordOffsets(t, c.journal)
	whole, err := os.ReadFile(c.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int64{0, offsets[0], offsets[1] - 1, offsets[1]} { // empty, the header only, inside the first record, the first record only
		if err := os.WriteFile(c.journal, whole[:size], 0o600); err != nil {
			t.Fatal(err)
		}
		before := srv.Stats().Submits
		code, stderr := c.send(t, srv.Addr(), "--resume")
		if code != exitUsage || !strings.Contains(stderr, "records no run") && !strings.Contains(stderr, "the journal has lost records") {
			t.Errorf("journal cut to %d bytes: --resume exit %d, want 1 and why; stderr:\n%s", size, code, stderr)
		}
		if n := srv.Stats().Submits - before; n != 0 {
			t.Errorf("journal cut to %d bytes: %d messages sent again", size, n)
		}
		code, stderr = runCmd(t, "receipts", "--journal", c.journal, "--report", c.report, "--wait", "0")
		if code != exitUsage || !strings.Contains(stderr, "records no run") && !strings.Contains(stderr, "records no campaign yet") &&
			!strings.Contains(stderr, "the journal has lost records") {
			t.Errorf("journal cut to %d bytes: receipts exit %d, want 1 and why; stderr:\n%s", size, code, stderr)
		}
	}
}

// A journal cut short (or restored from an older backup) lost the records of rows its report
// shows accepted: the refusal says so, and that removing the report would have them sent
// again, rather than only that the report is not the campaign's.
func TestResume_journalBehindItsReport(t *testing.T) {
	noLeaks(t)
	c, srv := sentCampaign(t, 10)
	// Cut right after the first row's acceptance: the other rows' records are lost.
	var cut int64 = -1
	accepted := false
	if _, err := journal.Replay(c.journal, func(r journal.Record) error {
		if accepted && cut < 0 {
			cut = r.Offset
		}
		accepted = accepted || r.Kind == journal.KindAccepted
		return nil
	}); err != nil || cut < 0 {
		t.Fatalf("replay: %v, the record after the first acceptance at %d", err, cut)
	}
	if err := os.Truncate(c.journal, cut); err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Submits
	code, stderr := c.send(t, srv.Addr(), "--resume")
	if code != exitUsage || !strings.Contains(stderr, "shows 9 rows accepted that the journal does not") {
		t.Errorf("--resume: exit %d, want 1 saying the journal lost 9 rows; stderr:\n%s", code, stderr)
	}
	if n := srv.Stats().Submits - before; n != 0 {
		t.Errorf("%d messages sent again", n)
	}
}

// TestResume_corruption: damage before the end of the journal is refused with the byte it is
// at, and nothing is sent.
func TestResume_corruption(t *testing.T) {
	noLeaks(t)
	c, srv := sentCampaign(t, 10)
	offsets := recordOffsets(t, c.journal)
	if len(offsets) < 5 {
		t.Fatalf("only %d records in the journal", len(offsets))
	}
	mid := len(offsets) / 2
	b, err := os.ReadFile(c.journal)
	if err != nil {
		t.Fatal(err)
	}
	b[offsets[mid+1]-1] ^= 0xff // the last byte of a record in the middle
	if err := os.WriteFile(c.journal, b, 0o600); err != nil {
		t.Fatal(err)
	}
	before := srv.Stats().Submits
	code, stderr := c.send(t, srv.Addr(), "--resume")
	want := fmt.Sprintf("is damaged at byte %d", offsets[mid])
	if code != exitUsage || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, want 1 with %q; stderr:\n%s", code, want, stderr)
	}
	if n := srv.Stats().Submits - before; n != 0 {
		t.Errorf("%d messages sent from a damaged journal", n)
	}
}

// TestResume_changedCampaign: --resume refuses, listing what changed, when an input file or an
// option that changes what is sent differs from the journal's campaign; options that only
// change how fast or where messages go may change.
func TestResume_changedCampaign(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 5)
	if code, stderr := c.send(t, srv.Addr()); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	before := srv.Stats().Submits
	code, stderr := c.send(t, srv.Addr(), "--resume", "--from", "OTHER", "--validity", "6h")
	for _, want := range []string{`option from was "ACME", now "OTHER"`, "option validity", "Restore the original inputs"} {
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Errorf("changed options: exit %d, want 1 and %q; stderr:\n%s", code, want, stderr)
		}
	}
	if err := os.WriteFile(c.templates, []byte("id,text\nhello,\"Hallo {{name}}, Ihr Paket kommt morgen.\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr = c.send(t, srv.Addr(), "--resume")
	if code != exitUsage || !strings.Contains(stderr, "templates") {
		t.Errorf("changed templates: exit %d, want 1 naming the templates file; stderr:\n%s", code, stderr)
	}
	if n := srv.Stats().Submits - before; n != 0 {
		t.Errorf("%d messages sent although --resume refused", n)
	}
	// Without --resume, the journal is not overwritten either.
	code, stderr = c.send(t, srv.Addr(), "--force")
	if code != exitOK {
		t.Errorf("--force: exit %d, want 0 (a new campaign replacing the journal)\n%s", code, stderr)
	}
	os.Remove(c.report)
	code, stderr = c.send(t, srv.Addr())
	if code != exitUsage || !strings.Contains(stderr, "journal "+c.journal+" exists") || !strings.Contains(stderr, "--resume") {
		t.Errorf("existing journal: exit %d, want 1 and a hint to use --resume or --force; stderr:\n%s", code, stderr)
	}
	// A faster rate, another window and another SMSC are the same campaign.
	srv2 := newTestSim(t, smsc.Config{})
	if code, stderr := c.send(t, srv2.Addr(), "--resume", "--rate", "500", "--window", "3"); code != exitOK {
		t.Errorf("--resume with another rate and SMSC: exit %d\n%s", code, stderr)
	}
	if n := srv2.Stats().Submits; n != 0 {
		t.Errorf("the resumed complete campaign sent %d messages", n)
	}
}

// A resume that cannot reach the SMSC sends nothing, says so, writes the report from the
// journal (after a crash there is none), and exits 2 asking to resume again later.
func TestResume_withoutTheSMSC(t *testing.T) {
	noLeaks(t)
	// A first run that leaves many rows to send, more than a window: a dropped connection
	// (rows uncertain), and throttling that outlasts --give-up-after (rows not sent).
	dropping := newTestSim(t, smsc.Config{DropAfter: []int{3}, ThrottleTPS: 1})
	c := newCampaign(t, 40)
	code, stderr := c.send(t, dropping.Addr(), "--max-attempts", "1", "--give-up-after", "100ms")
	if code != exitIncomplete {
		t.Fatalf("first run: exit %d, want 3 (rows not sent)\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "give the resume a lower --rate") {
		t.Errorf("first run, throttled until rows were given up: want advice to resume at a lower --rate; stderr:\n%s", stderr)
	}
	first := reportByRow(t, c.report)
	os.Remove(c.report) // as after kill -9, which leaves no report
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, stderr = runCmd(t, "send", "--smsc", closed, "--recipients", c.recipients, "--templates", c.templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--report", c.report, "--spool", c.spool,
		"--resume", "--give-up-after", "300ms")
	if code != exitConnect || !strings.Contains(stderr, "nothing was sent in this run") || !strings.Contains(stderr, "again with --resume once the SMSC can be reached") {
		t.Errorf("resume without the SMSC: exit %d, want 2 saying nothing was sent and to resume later; stderr:\n%s", code, stderr)
	}
	// Every row, as the journal has it: the accepted ones accepted, the others uncertain
	// with a reason (a report cut short at the first row not sent lost most of them).
	rows := reportByRow(t, c.report)
	if len(rows) != len(first) || len(rows) != 40 {
		t.Fatalf("the report has %d rows, want the campaign's 40", len(rows))
	}
	left, gaveUp := 0, 0
	for _, r := range first {
		if r["submit_status"] != "accepted" {
			left++
		}
		// Throttled until --give-up-after: not sent, and to be sent by a resume.
		if r["submit_status"] == "not_sent" && strings.Contains(r["submit_error"], "ESME_RTHROTTLED for 100ms; lower --rate; --resume sends it again") {
			gaveUp++
		}
	}
	if gaveUp == 0 {
		for n, r := range first {
			if r["submit_status"] != "accepted" {
				t.Logf("first run, row %d: %s %q", n, r["submit_status"], r["submit_error"])
			}
		}
		t.Error("no row of the first run gave up on ESME_RTHROTTLED as not_sent")
	}
	if left <= 20 {
		t.Fatalf("the first run left %d rows to send; the test needs more than a window's worth", left)
	}
	for n, r := range rows {
		want := first[n]["submit_status"]
		if r["submit_status"] != want || want != "accepted" && r["submit_error"] == "" {
			t.Errorf("row %d: %s %q, want %s as the first run ended it, with a reason", n, r["submit_status"], r["submit_error"], want)
		}
	}
}

// TestResume_uncertain: rows whose responses never came are uncertain; --resume sends them
// again marked resubmitted, --resume --no-resend-uncertain leaves them uncertain.
func TestResume_uncertain(t *testing.T) {
	noLeaks(t)
	// The connection drops right after each message is accepted, before its response.
	dropping := newTestSim(t, smsc.Config{DropAfter: []int{1, 2, 3, 4}})
	c := newCampaign(t, 4)
	code, stderr := c.send(t, dropping.Addr(), "--max-attempts", "1")
	if code != exitIncomplete {
		t.Fatalf("first run: exit %d, want 3 (every row uncertain)\n%s", code, stderr)
	}
	for _, r := range readReport(t, c.report) {
		if r["submit_status"] != "uncertain" {
			t.Fatalf("first run: row %s %s, want uncertain", r["row"], r["submit_status"])
		}
	}
	saved, err := os.ReadFile(c.journal)
	if err != nil {
		t.Fatal(err)
	}

	srv := newTestSim(t, smsc.Config{})
	code, stderr = c.send(t, srv.Addr(), "--resume", "--no-resend-uncertain")
	if code != exitIncomplete {
		t.Errorf("--no-resend-uncertain: exit %d, want 3 (rows left uncertain)\n%s", code, stderr)
	}
	if n := srv.Stats().Submits; n != 0 {
		t.Errorf("--no-resend-uncertain sent %d messages", n)
	}
	for _, r := range readReport(t, c.report) {
		if r["submit_status"] != "uncertain" || !strings.Contains(r["submit_error"], "--no-resend-uncertain") {
			t.Errorf("row %s: %s %q, want uncertain because of --no-resend-uncertain", r["row"], r["submit_status"], r["submit_error"])
		}
	}

	// The journal as it was after the first run; the report, written since, would not be
	// the one it records: removed, to be rebuilt.
	if err := os.WriteFile(c.journal, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(c.report); err != nil {
		t.Fatal(err)
	}
	code, stderr = c.send(t, srv.Addr(), "--resume")
	if code != exitOK {
		t.Errorf("--resume: exit %d, want 0\n%s", code, stderr)
	}
	if n := srv.Stats().Accepted; n != 4 {
		t.Errorf("--resume: the SMSC accepted %d messages, want the 4 uncertain rows", n)
	}
	for _, r := range readReport(t, c.report) {
		if r["submit_status"] != "resubmitted" {
			t.Errorf("row %s: %s, want resubmitted", r["row"], r["submit_status"])
		}
	}
	if code, stderr := c.send(t, srv.Addr(), "--no-resend-uncertain", "--force"); code != exitUsage || !strings.Contains(stderr, "only applies with --resume") {
		t.Errorf("--no-resend-uncertain without --resume: exit %d\n%s", code, stderr)
	}
}

// TestReceipts_late: receipts that come after send exited are collected by smscast receipts,
// which records them in the journal and rewrites the report.
func TestReceipts_late(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{ReceiptDelay: 500 * time.Millisecond})
	c := newCampaign(t, 5)
	if code, stderr := c.send(t, srv.Addr(), "--bind-mode", "tx"); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	for _, r := range readReport(t, c.report) {
		if r["receipt_status"] != "PENDING" {
			t.Fatalf("after send: row %s receipt %q, want PENDING", r["row"], r["receipt_status"])
		}
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "30s",
		"--spool", c.spool, "--quiet")
	if code != exitOK {
		t.Fatalf("receipts: exit %d, want 0\n%s", code, stderr)
	}
	for _, r := range readReport(t, c.report) {
		if r["receipt_status"] != "DELIVRD" || r["submit_status"] != "accepted" {
			t.Errorf("after receipts: row %s %s/%s, want accepted/DELIVRD", r["row"], r["submit_status"], r["receipt_status"])
		}
	}
	st, err := journal.Load(c.journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Receipts) != 5 || !st.Clean {
		t.Errorf("the journal holds %d receipts (clean %v), want 5", len(st.Receipts), st.Clean)
	}
	// Collecting again has nothing left to wait for.
	if code, stderr := runCmd(t, "receipts", "--report", c.report, "--smsc", srv.Addr(), "--wait", "0", "--spool", c.spool, "--quiet"); code != exitOK {
		t.Errorf("second receipts run: exit %d\n%s", code, stderr)
	}
}

// A campaign that left a row uncertain is not finished: receipts, which only collects
// receipts, says so, and how to finish it.
func TestReceipts_saysWhenRowsAreLeft(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{DropAfter: []int{2}})
	c := newCampaign(t, 3)
	if code, stderr := c.send(t, srv.Addr(), "--max-attempts", "1", "--window", "1"); code != exitIncomplete {
		t.Fatalf("send: exit %d, want 3 with a row uncertain\n%s", code, stderr)
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "10s", "--spool", c.spool, "--quiet")
	if code != exitOK || !strings.Contains(stderr, "1 rows of this campaign were not sent or are uncertain") || !strings.Contains(stderr, "--resume") {
		t.Errorf("receipts: exit %d, want 0 and a note that 1 row is left for --resume\n%s", code, stderr)
	}
}

// receipts judges a campaign's rows by the --part-receipts rule it was sent with: another
// one is refused, not applied silently.
func TestReceipts_keepsThePartReceiptsRule(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	c.sendAll(t, srv.Addr())
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "0", "--spool", c.spool, "--quiet", "--part-receipts", "any")
	if code != exitUsage || !strings.Contains(stderr, "sent with --part-receipts all") {
		t.Errorf("receipts --part-receipts any for a campaign sent with all: exit %d, want 1\n%s", code, stderr)
	}
	if code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "0", "--spool", c.spool, "--quiet", "--part-receipts", "all"); code != exitOK {
		t.Errorf("receipts with the campaign's own rule: exit %d\n%s", code, stderr)
	}
}

// receipts rewrites the report in the format send wrote it in, even under a name that says
// otherwise, unless --report-format says which.
func TestReceipts_keepsTheReportFormat(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	// Every receipt is in before send ends, so that each receipts run below finds nothing pending.
	if code, stderr := c.send(t, srv.Addr(), "--report-format", "jsonl", "--wait", "30s"); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	firstByte := func() byte {
		t.Helper()
		b, err := os.ReadFile(c.report)
		if err != nil || len(b) == 0 {
			t.Fatalf("report: %v (%d bytes)", err, len(b))
		}
		return b[0]
	}
	for _, tc := range []struct {
		flags []string
		want  byte
	}{{nil, '{'}, {[]string{"--report-format", "csv"}, 'r'}, {nil, 'r'}} {
		args := append([]string{"receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet"}, tc.flags...)
		if code, stderr := runCmd(t, args...); code != exitOK {
			t.Fatalf("receipts %v: exit %d\n%s", tc.flags, code, stderr)
		}
		if got := firstByte(); got != tc.want {
			t.Errorf("receipts %v: report starts %q, want %q", tc.flags, got, tc.want)
		}
	}
}

// TestReceipts_pendingAndUnreachable: receipts exits 3 while receipts are still due and 2
// when it cannot bind at all.
func TestReceipts_pendingAndUnreachable(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{ReceiptDelay: time.Hour})
	c := newCampaign(t, 3)
	if code, stderr := c.send(t, srv.Addr()); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "0", "--spool", c.spool, "--quiet")
	if code != exitIncomplete || !strings.Contains(stderr, "3 accepted rows have no final receipt") {
		t.Errorf("receipts not due yet: exit %d, want 3\n%s", code, stderr)
	}
	// --wait 0 only matches the spool: it needs no SMSC, reachable or not.
	for _, smsc := range [][]string{nil, {"--smsc", "127.0.0.1:1"}} {
		args := append([]string{"receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet"}, smsc...)
		if code, stderr := runCmd(t, args...); code != exitIncomplete || strings.Contains(stderr, "bind") {
			t.Errorf("receipts --wait 0 %v: exit %d, want 3 without binding\n%s", smsc, code, stderr)
		}
	}
	closed := newTestSim(t, smsc.Config{})
	addr := closed.Addr()
	closed.Close()
	code, stderr = runCmd(t, "receipts", "--journal", c.journal, "--smsc", addr, "--wait", "30s",
		"--give-up-after", "300ms", "--spool", c.spool, "--quiet")
	if code != exitConnect {
		t.Errorf("unreachable SMSC: exit %d, want 2\n%s", code, stderr)
	}
	// A setting the SMSC refuses (here TLS to a plain port) is "could not bind" too.
	code, stderr = runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--tls-insecure", "--wait", "30s",
		"--give-up-after", "30s", "--spool", c.spool, "--quiet")
	if code != exitConnect || !strings.Contains(stderr, "does not speak TLS") {
		t.Errorf("TLS to a plain port: exit %d, want 2 and why\n%s", code, stderr)
	}
	code, stderr = runCmd(t, "receipts", "--journal", filepath.Join(c.dir, "nothing.journal"), "--smsc", srv.Addr())
	if code != exitUsage {
		t.Errorf("missing journal: exit %d, want 1\n%s", code, stderr)
	}
}

// TestReceipts_fromSpool: receipts of a campaign that another campaign's send received are
// spooled there, and smscast receipts takes them from the spool.
func TestReceipts_fromSpool(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{ReceiptDelay: 200 * time.Millisecond})
	a := newCampaign(t, 4)
	// A transmitter bind gets no receipts: they wait at the SMSC for the next session.
	if code, stderr := a.send(t, srv.Addr(), "--bind-mode", "tx"); code != exitOK {
		t.Fatalf("campaign a: exit %d\n%s", code, stderr)
	}
	b := newCampaign(t, 4)
	b.spool = a.spool
	code, stderr := b.send(t, srv.Addr(), "--wait", "30s")
	if code != exitOK {
		t.Fatalf("campaign b: exit %d\n%s", code, stderr)
	}
	if un := readUnmatched(t, b.report); un != 4 {
		t.Fatalf("campaign b saw %d receipts of campaign a, want 4 (they came first)", un)
	}
	code, stderr = runCmd(t, "receipts", "--journal", a.journal, "--smsc", srv.Addr(), "--wait", "0", "--spool", a.spool, "--quiet")
	if code != exitOK {
		t.Fatalf("receipts from the spool: exit %d, want 0\n%s", code, stderr)
	}
	for _, r := range readReport(t, a.report) {
		if r["receipt_status"] != "DELIVRD" {
			t.Errorf("row %s: receipt %q, want DELIVRD from the spool", r["row"], r["receipt_status"])
		}
	}
	// Collecting again adds nothing: the journal has them already.
	if code, stderr := runCmd(t, "receipts", "--journal", a.journal, "--wait", "0", "--spool", a.spool); code != exitOK || strings.Contains(stderr, "taken from the spool") {
		t.Errorf("receipts again: exit %d, want 0 and none taken from the spool\n%s", code, stderr)
	}
	if st, err := journal.Load(a.journal); err != nil || len(st.Receipts) != 4 {
		t.Errorf("the journal holds %d receipts (%v), want the 4 once", len(st.Receipts), err)
	}
}

// A spooled receipt that came before a message was sent is not taken for it, however well
// its id fits: the spool is shared by every campaign, and an SMSC gives the same ids again
// after a restart. One that came after it is.
func TestReceipts_spoolReceiptFromBeforeTheSend(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 2)
	before := time.Now().Add(-time.Minute)
	if code, stderr := c.send(t, srv.Addr(), "--bind-mode", "tx"); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	ids := map[string]string{}
	for _, r := range readReport(t, c.report) {
		ids[r["row"]] = r["message_ids"]
	}
	spool := journal.NewSpool(c.spool, journal.Options{})
	for row, at := range map[string]time.Time{"1": before, "2": time.Now()} {
		r := smpp.Receipt{ID: ids[row], Stat: "DELIVRD", State: smpp.StateDelivered}
		if err := spool.Receipt(r, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := spool.Close(); err != nil {
		t.Fatal(err)
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool)
	if code != exitIncomplete {
		t.Errorf("receipts: exit %d, want 3 (row 1 still pending)\n%s", code, stderr)
	}
	want := map[string]string{"1": "PENDING", "2": "DELIVRD"}
	for _, r := range readReport(t, c.report) {
		if r["receipt_status"] != want[r["row"]] {
			t.Errorf("row %s: receipt %q, want %q", r["row"], r["receipt_status"], want[r["row"]])
		}
	}
	if st, err := journal.Load(c.journal); err != nil || len(st.Receipts) != 1 {
		t.Errorf("the journal took %d receipts from the spool (%v), want row 2's only", len(st.Receipts), err)
	}
}

// An SMSC that restarted (a new simulator) gives a resent row the id an earlier run's row
// got. smscast receipts must then match as the live run would have: the receipt journaled
// before the resend is row 1's; one from the spool, after both sends, fits both rows and is
// ambiguous (a rebuild that matched receipts before every row's id was in gave it to row 1).
func TestReceipts_reusedIDAfterAResume(t *testing.T) {
	noLeaks(t)
	c := newCampaign(t, 3)
	// Row 2's response is lost with its connection: uncertain, resent by the resume.
	first := newTestSim(t, smsc.Config{DropAfter: []int{2}, FirstID: 1})
	code, stderr := c.send(t, first.Addr(), "--window", "1", "--max-attempts", "1", "--wait", "20s")
	if code != exitIncomplete {
		t.Fatalf("first run: exit %d, want 3 (row 2 uncertain)\n%s", code, stderr)
	}
	restarted := newTestSim(t, smsc.Config{ReceiptDelay: time.Hour, FirstID: 1})
	if code, stderr := c.send(t, restarted.Addr(), "--resume"); code != exitOK {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	rows := reportByRow(t, c.report)
	id := rows[1]["message_ids"]
	if rows[1]["receipt_status"] != "DELIVRD" || rows[2]["submit_status"] != "resubmitted" || rows[2]["message_ids"] != id {
		t.Fatalf("after the resume: row 1 %v, row 2 %v; want row 1 DELIVRD and row 2 resubmitted with its id", rows[1], rows[2])
	}
	spool := journal.NewSpool(c.spool, journal.Options{})
	if err := spool.Receipt(smpp.Receipt{ID: id, Stat: "UNDELIV", State: smpp.StateUndeliverable}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := spool.Close(); err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ { // the second finds the spool's receipt in the journal
		code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet")
		if code != exitIncomplete {
			t.Errorf("receipts run %d: exit %d, want 3 (row 2 pending)\n%s", run, code, stderr)
		}
		rows := reportByRow(t, c.report)
		for row, want := range map[int]string{1: "DELIVRD", 2: "PENDING", 3: "DELIVRD"} {
			if rows[row]["receipt_status"] != want {
				t.Errorf("receipts run %d, row %d: receipt %q, want %s", run, row, rows[row]["receipt_status"], want)
			}
		}
		un, err := os.ReadFile(report.UnmatchedPath(c.report))
		if err != nil || !strings.Contains(string(un), `"stat":"UNDELIV"`) || !strings.Contains(string(un), "ambiguous: the id fits messages of rows 1, 2") {
			t.Errorf("receipts run %d: unmatched file %q (%v), want the spool's receipt, ambiguous", run, un, err)
		}
	}
}

// The spool's receipts taken for a campaign came after the message with their id was sent: a
// resend gets its id in its own run, so a receipt from between the runs is not its, although
// its row was first sent before it (the first copy's id came from an SMSC that restarted).
func TestCollectSpooled_afterTheRunThatGotTheID(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	st := &journal.State{
		RunStarts: []time.Time{t0, t0.Add(20 * time.Minute)},
		Rows: map[int]*journal.Row{2: {Num: 2, Parts: []journal.Part{{Attempts: 2, FirstAttempt: t0.Add(time.Second),
			FirstSent: t0.Add(time.Second), MessageIDs: []string{"5"}, AcceptedAt: t0.Add(21 * time.Minute)}}}},
	}
	spool := journal.NewSpool(filepath.Join(dir, "spool"), journal.Options{})
	for _, at := range []time.Time{t0.Add(10 * time.Minute), t0.Add(30 * time.Minute)} {
		if err := spool.Receipt(smpp.Receipt{ID: "5", Stat: "DELIVRD", State: smpp.StateDelivered}, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := spool.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(filepath.Join(dir, "c.journal"), journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	n, err := collectSpooled(filepath.Join(dir, "spool"), st, w, smpp.IDAuto)
	if err != nil || n != 1 || len(st.Receipts) != 1 || !st.Receipts[0].At.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("collected %d (%v), receipts %+v; want the one after the resend's run started", n, err, st.Receipts)
	}
}

// smscast receipts refuses, as send does, to write its summary or inbox over the campaign's
// own files: the journal it reads would be lost.
func TestReceipts_outputsAreNotTheCampaignsFiles(t *testing.T) {
	c, _ := sentCampaign(t, 2)
	for _, tt := range []struct{ flag, path, want string }{
		{"--summary-json", c.templates, "is the --templates file"},
		{"--summary-json", c.journal, "is also --journal"},
		{"--inbox", c.report, "is also --report"},
	} {
		before, err := os.ReadFile(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet", tt.flag, tt.path)
		after, _ := os.ReadFile(tt.path)
		if code != exitUsage || !strings.Contains(stderr, tt.want) || !bytes.Equal(before, after) {
			t.Errorf("%s %s: exit %d, stderr %q, file changed %v; want 1 saying %q, the file untouched", tt.flag, tt.path, code, stderr, !bytes.Equal(before, after), tt.want)
		}
	}
}

// readUnmatched counts the lines of a report's unmatched-receipts file.
func readUnmatched(t *testing.T, reportPath string) int {
	t.Helper()
	b, err := os.ReadFile(reportPath + ".unmatched.jsonl")
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte{'\n'})
}

// TestJournal_lifecycle: --journal off writes none and cannot be resumed; a new campaign that
// sent nothing leaves no journal behind; a journal in use by another process is refused; a
// file that is not a journal is never replaced.
func TestJournal_lifecycle(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{SystemID: "acme", Password: "right"})
	c := newCampaign(t, 3)
	if code, stderr := c.send(t, srv.Addr(), "--system-id", "acme", "--password", "right", "--journal", "off"); code != exitOK {
		t.Fatalf("--journal off: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(c.journal); err == nil {
		t.Error("--journal off wrote a journal")
	}
	if code, stderr := c.send(t, srv.Addr(), "--journal", "off", "--resume"); code != exitUsage || !strings.Contains(stderr, "--journal off") {
		t.Errorf("--resume --journal off: exit %d\n%s", code, stderr)
	}
	os.Remove(c.report)
	if code, stderr := c.send(t, srv.Addr(), "--system-id", "acme", "--password", "wrong"); code != exitConnect {
		t.Fatalf("refused bind: exit %d, want 2\n%s", code, stderr)
	}
	if _, err := os.Stat(c.journal); err == nil {
		t.Error("a run that sent nothing left its journal behind")
	}
	if code, stderr := c.send(t, srv.Addr(), "--system-id", "acme", "--password", "right"); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	w, _, err := journal.Open(c.journal, nil, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--wait", "0", "--spool", c.spool)
	w.Close()
	if code != exitUsage || !strings.Contains(stderr, "in use by another smscast process") {
		t.Errorf("journal in use: exit %d, want 1\n%s", code, stderr)
	}
	other := filepath.Join(c.dir, "notes.txt")
	os.WriteFile(other, []byte("not a journal\n"), 0o600)
	code, stderr = c.send(t, srv.Addr(), "--journal", other, "--force")
	if b, _ := os.ReadFile(other); code != exitUsage || string(b) != "not a journal\n" {
		t.Errorf("--force --journal on another file: exit %d, file now %q\n%s", code, b, stderr)
	}
}

// TestReceipts_inlineCampaign: smscast receipts rebuilds the rows of a campaign given with
// --to and --text (no input files) from the journal alone.
func TestReceipts_inlineCampaign(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{ReceiptDelay: 200 * time.Millisecond})
	dir := t.TempDir()
	reportPath := filepath.Join(dir, "inline.jsonl")
	spool := filepath.Join(dir, "spool")
	code, stderr := runCmd(t, "send", "--smsc", srv.Addr(), "--to", "+491710000001", "--to", "+491710000002",
		"--text", "Hallo, Ihr Termin ist morgen", "--from", "ACME", "--rate", "0", "--wait", "0",
		"--bind-mode", "tx", "--report", reportPath, "--report-format", "jsonl", "--spool", spool, "--quiet")
	if code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	code, stderr = runCmd(t, "receipts", "--journal", reportPath+".journal", "--smsc", srv.Addr(), "--wait", "30s", "--spool", spool, "--quiet")
	if code != exitOK {
		t.Fatalf("receipts: exit %d\n%s", code, stderr)
	}
	b, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"receipt_status":"DELIVRD"`); n != 2 || strings.Count(string(b), "\n") != 2 {
		t.Errorf("rewritten JSONL report has %d DELIVRD rows, want 2:\n%s", n, b)
	}
}

// TestResume_sameLatencies: the report rebuilt from the journal (here by --resume of a
// finished campaign) measures submit latency from the same planned times as the live run, so
// the figures are the same.
func TestResume_sameLatencies(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{RespDelay: 2 * time.Millisecond})
	c := newCampaign(t, 20)
	live, rebuilt := filepath.Join(c.dir, "live.json"), filepath.Join(c.dir, "rebuilt.json")
	if code, stderr := c.send(t, srv.Addr(), "--bind-mode", "tx", "--rate", "200", "--summary-json", live); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	if code, stderr := c.send(t, srv.Addr(), "--bind-mode", "tx", "--rate", "200", "--resume", "--summary-json", rebuilt); code != exitOK {
		t.Fatalf("--resume: exit %d\n%s", code, stderr)
	}
	latency := func(path string) any {
		var sum map[string]any
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		return sum["submit_latency_ms"]
	}
	a, b := latency(live), latency(rebuilt)
	if a == nil || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("submit latency live %v, rebuilt from the journal %v: want the same", a, b)
	}
}

// An opt-out list grows between runs (opt-outs of other campaigns, edits): the campaign stays
// the same, and the journal records the list by path. A journal of an earlier version, which
// recorded a campaign's list by its content, still resumes with the list as it was.
func TestResume_excludeListGrows(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 4)
	exclude := filepath.Join(c.dir, "optouts.txt")
	if err := os.WriteFile(exclude, []byte("491710000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := c.send(t, srv.Addr(), "--exclude", exclude); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	if !recordedExcludeGrows(c.journal) {
		t.Error("the journal recorded the exclude list by content")
	}
	if err := os.WriteFile(exclude, []byte("491710000001\n491710000002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := c.send(t, srv.Addr(), "--exclude", exclude, "--resume"); code != exitOK {
		t.Errorf("--resume after the exclude list grew: exit %d, want 0\n%s", code, stderr)
	}

	// A journal as earlier versions wrote it: the list by content.
	old, err := inputIdentity(csvin.Config{Recipients: c.recipients, Templates: c.templates, Exclude: exclude}, false)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(c.dir, "old.journal")
	w, err := journal.Create(path, old, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if recordedExcludeGrows(path) {
		t.Error("an earlier version's journal taken for one that records the list by path")
	}
}

// resentAccepted counts the rows the report has accepted but the journal does not: those a
// resume sends again (their acceptance was lost with a failed journal write).
func TestResentAccepted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	w, err := journal.Create(path, journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	for _, err := range []error{w.Attempt(1, 0, at), w.Accepted(1, 0, "a", at), w.Attempt(2, 0, at), w.Attempt(3, 0, at), w.Close()} {
		if err != nil {
			t.Fatal(err)
		}
	}
	book := report.NewBook(report.Options{})
	for n := 1; n <= 3; n++ {
		book.Add(report.Entry{Row: n, MSISDN: fmt.Sprint(4917100000000 + n), Parts: 1})
	}
	book.Accepted(1, 0, "a", at)
	book.Accepted(2, 0, "b", at) // accepted, but the journal never heard of it
	if n := resentAccepted(book, path); n != 1 {
		t.Errorf("resentAccepted = %d, want 1 (row 2)", n)
	}
	if n := resentAccepted(book, filepath.Join(t.TempDir(), "missing")); n != 0 {
		t.Errorf("resentAccepted without a journal = %d, want 0", n)
	}
}

// Rows an earlier run may have sent whose numbers opted out since stay uncertain, and no
// resume sends them: the run does not advise one.
func TestResume_optedOutSinceNeedsNoResume(t *testing.T) {
	noLeaks(t)
	dropping := newTestSim(t, smsc.Config{DropAfter: []int{1}})
	c := newCampaign(t, 4)
	exclude := filepath.Join(c.dir, "optouts.txt")
	if err := os.WriteFile(exclude, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := c.send(t, dropping.Addr(), "--exclude", exclude, "--max-attempts", "1"); code != exitIncomplete {
		t.Fatalf("first run: exit %d, want 3 (rows uncertain)\n%s", code, stderr)
	}
	var optOuts strings.Builder
	for _, r := range readReport(t, c.report) {
		if r["submit_status"] == "uncertain" {
			optOuts.WriteString(r["msisdn"] + "\n")
		}
	}
	if optOuts.Len() == 0 {
		t.Fatal("the first run left no row uncertain")
	}
	if err := os.WriteFile(exclude, []byte(optOuts.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newTestSim(t, smsc.Config{})
	code, stderr := c.send(t, srv.Addr(), "--exclude", exclude, "--resume")
	if code != exitIncomplete || strings.Contains(stderr, "--resume") {
		t.Errorf("resume: exit %d, want 3 (rows uncertain) without advice to resume again; stderr:\n%s", code, stderr)
	}
	if n := srv.Stats().Submits; n != 0 {
		t.Errorf("the resume sent %d messages, want none", n)
	}
}

// A campaign records the concatenation reference offset it drew, and a resume uses it (a
// different one would change what the resent parts say, and the identity check would refuse
// the resume). A journal of a version without offsets resumes with none: references are the
// row numbers, as that version sent them.
func TestResume_keepsTheConcatenationReference(t *testing.T) {
	c, srv := sentCampaign(t, 3)
	id := recordedIdentity(c.journal)
	if id == nil {
		t.Fatal("no identity in the journal")
	}
	recorded, err := strconv.ParseUint(id.Options[refOffsetOption], 10, 16)
	if err != nil {
		t.Fatalf("option %s = %q: %v", refOffsetOption, id.Options[refOffsetOption], err)
	}
	if off, ok := concatRefOffset(journalSettings{path: c.journal, resume: true}); !ok || off != uint16(recorded) {
		t.Errorf("a resume would use offset %d (recorded %v), want the journal's %d", off, ok, recorded)
	}
	if code, stderr := c.send(t, srv.Addr(), "--resume"); code != exitOK {
		t.Errorf("--resume: exit %d, want 0\n%s", code, stderr)
	}

	// The journal as a version without offsets wrote it.
	journalWithout(t, c.journal, *id, refOffsetOption)
	if off, ok := concatRefOffset(journalSettings{path: c.journal, resume: true}); ok || off != 0 {
		t.Errorf("an earlier version's journal: offset %d (recorded %v), want 0 and none recorded", off, ok)
	}
	if code, stderr := c.send(t, srv.Addr(), "--resume"); code != exitOK {
		t.Errorf("--resume of an earlier version's journal: exit %d, want 0\n%s", code, stderr)
	}
}

// journalWithout replaces the journal at path with one that records nothing but the identity
// id less option: a journal as a version without that option began it.
func journalWithout(t *testing.T, path string, id journal.Identity, option string) {
	t.Helper()
	delete(id.Options, option)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(path, id, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}

// A campaign renders template texts as its first run did: one begun by a version that kept
// them as read (before texts were trimmed) is resumed keeping them so, or the parts it sends
// again would be cut differently from those the handset has.
func TestResume_keepsHowTemplateTextsRender(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 3)
	// A no-break space at the end: trimmed, the text is GSM 7-bit; as read, UCS-2.
	if err := os.WriteFile(c.templates, []byte("id,text\nhello,\"Hallo {{name}}, Ihr Paket ist da.\u00a0\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := c.send(t, srv.Addr()); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	id := recordedIdentity(c.journal)
	if id == nil || id.Options[templateTextOption] != "trimmed" {
		t.Fatalf("identity %v: want option %s recorded", id, templateTextOption)
	}
	if asRead, recorded := templateTextAsRead(journalSettings{path: c.journal, resume: true}); asRead || !recorded {
		t.Errorf("a resume would render texts as read: %v (recorded %v); want trimmed, as recorded", asRead, recorded)
	}
	// The journal as a version that kept texts as read wrote it.
	journalWithout(t, c.journal, *id, templateTextOption)
	if asRead, recorded := templateTextAsRead(journalSettings{path: c.journal, resume: true}); !asRead || recorded {
		t.Errorf("an earlier version's journal: texts as read %v (recorded %v), want as read and none recorded", asRead, recorded)
	}
	// A dry run of the resume shows what it would send: the texts as read.
	if code, out := c.send(t, srv.Addr(), "--resume", "--dry-run"); code != exitOK || !strings.Contains(out, "ucs2") || strings.Contains(out, "gsm7") {
		t.Errorf("--resume --dry-run of an earlier version's journal: exit %d, want 0 and the texts as read (UCS-2):\n%s", code, out)
	}
	if code, stderr := c.send(t, srv.Addr(), "--resume"); code != exitOK {
		t.Errorf("--resume of an earlier version's journal: exit %d, want 0\n%s", code, stderr)
	}
}

// The report's unmatched receipts survive the rewrites by --resume and smscast receipts (both
// once deleted the file, the only sign that a recipient got a message twice); a damaged file
// stops them before anything happens instead of being replaced.
func TestResume_keepsTheUnmatchedReceipts(t *testing.T) {
	c, srv := sentCampaign(t, 3)
	upath := report.UnmatchedPath(c.report)
	line := `{"received_at":"2026-11-30T15:04:27.806Z","id":"cdd7753e8d","stat":"DELIVRD","err":"000","network_error":"030000","sub":"001","dlvrd":"001","submit_date":"2026-11-30T15:04:00.000Z","done_date":"2026-11-30T15:04:00.000Z","text":"Hi","reason":"no message of this campaign has this id"}` + "\n"
	if err := os.WriteFile(upath, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, run := range []struct {
		name string
		run  func() (int, string)
	}{
		{"--resume", func() (int, string) { return c.send(t, srv.Addr(), "--resume") }},
		{"receipts", func() (int, string) {
			// Until every receipt is in (the first runs had --wait 0): then it exits 0.
			return runCmd(t, "receipts", "--journal", c.journal, "--smsc", srv.Addr(), "--spool", c.spool, "--wait", "20s")
		}},
	} {
		code, stderr := run.run()
		got, err := os.ReadFile(upath)
		if code != exitOK || err != nil || string(got) != line || !strings.Contains(stderr, "1 receipt matched no row") {
			t.Errorf("%s: exit %d, unmatched file %q (%v); want 0 and the earlier line kept and counted; stderr:\n%s", run.name, code, got, err, stderr)
		}
	}
	if err := os.WriteFile(upath, []byte("{broken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := c.send(t, srv.Addr(), "--resume")
	if got, _ := os.ReadFile(upath); code != exitUsage || string(got) != "{broken\n" || !strings.Contains(stderr, "move it aside") {
		t.Errorf("a damaged unmatched file: exit %d, file %q; want 1, the file untouched, and advice; stderr:\n%s", code, got, stderr)
	}
}

// A campaign sent with an absolute --schedule resumes after that time has passed (the
// instant is part of its identity; it was refused as "in the past"), and a new campaign is
// still refused one.
func TestResume_scheduleHasPassed(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 3)
	at := time.Now().Add(1500 * time.Millisecond).UTC()
	schedule := []string{"--schedule", at.Format(time.RFC3339), "--tz", "UTC"}
	if code, stderr := c.send(t, srv.Addr(), schedule...); code != exitOK {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	time.Sleep(time.Until(at.Add(time.Second))) // RFC 3339 here has whole seconds
	if code, stderr := c.send(t, srv.Addr(), append(schedule, "--resume")...); code != exitOK || !strings.Contains(stderr, "nothing was sent in this run") {
		t.Errorf("--resume after the schedule: exit %d, want 0 with nothing to send again\n%s", code, stderr)
	}
	other := newCampaign(t, 1)
	if code, stderr := other.send(t, srv.Addr(), schedule...); code != exitUsage || !strings.Contains(stderr, "is in the past") {
		t.Errorf("a new campaign with a passed --schedule: exit %d, want 1\n%s", code, stderr)
	}
}

// A large journal is announced before it is read (a million rows take many seconds, which
// looked like a hang); --quiet keeps silent.
func TestResume_bigJournalAnnounced(t *testing.T) {
	c, _ := sentCampaign(t, 2)
	saved := bigJournal
	defer func() { bigJournal = saved }()
	bigJournal = 1 // every journal is big
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool)
	if code == exitUsage || !strings.Contains(stderr, "reading the journal "+c.journal) {
		t.Errorf("receipts: exit %d, want the journal announced\n%s", code, stderr)
	}
	if _, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet"); strings.Contains(stderr, "reading the journal") {
		t.Errorf("--quiet announced the journal:\n%s", stderr)
	}
}

// A run that died between recording its new report and putting it in place (kill -9, power
// loss) left the report as the write before made it: later runs take it as the campaign's,
// where they refused it until it was removed by hand.
func TestReceipts_reportRecordedButNotInPlace(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 3)
	c.sendAll(t, srv.Addr())
	// What the dead run recorded: a temporary file's facts, a file never renamed into place.
	tmp := filepath.Join(c.dir, ".out.csv.tmp")
	if err := os.WriteFile(tmp, []byte("row\n1\n2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := journal.Open(c.journal, nil, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.ReportWritten(c.report, fi); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool)
	if code != exitOK || !strings.Contains(stderr, "report written to "+c.report) {
		t.Errorf("receipts after a run died before its rename: exit %d, want 0 rewriting the report\n%s", code, stderr)
	}
}

// TestReceipts_reportWrittenDuringWait: a file another run writes at the report's place
// while smscast receipts waits is left alone; the report goes beside it, and the exit status
// and the message say where.
func TestReceipts_reportWrittenDuringWait(t *testing.T) {
	srv := newTestSim(t, smsc.Config{ReceiptDelay: time.Hour}) // the wait runs its course
	c := newCampaign(t, 3)
	if code, stderr := c.send(t, srv.Addr()); code != exitOK {
		t.Fatalf("send: exit %d\n%s", code, stderr)
	}
	written := make(chan error, 1)
	go func() {
		// Once the receipts run is bound (the send's session was the first), its report
		// check is behind it.
		for i := 0; srv.Stats().Sessions < 2 && i < 1000; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		written <- os.WriteFile(c.report, []byte("another campaign's report\n"), 0o600)
	}()
	code, stderr := runCmd(t, "receipts", "--smsc", srv.Addr(), "--journal", c.journal, "--wait", "1s", "--spool", c.spool, "--quiet")
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	alt := filepath.Join(c.dir, "out-2.csv")
	if code != exitIncomplete || !strings.Contains(stderr, "the report is "+alt+", not "+c.report+", which another run wrote") {
		t.Errorf("exit %d, want 3 naming the report beside it; stderr:\n%s", code, stderr)
	}
	if got, _ := os.ReadFile(c.report); string(got) != "another campaign's report\n" {
		t.Errorf("the other file was changed: %q", got)
	}
	if rows := reportByRow(t, alt); len(rows) != 3 || rows[1]["submit_status"] != "accepted" {
		t.Errorf("the campaign's report beside it: %v", rows)
	}
}

// A report that another run created while this one was sending (--journal off reserves
// nothing; with a journal, the other run has another) is left alone, and this run's report,
// the only record of its message ids, goes beside it: exit 3 naming both. The journal records
// the new place, so that the runs that finish the campaign with it are not refused.
func TestSend_reportTakenMeanwhile(t *testing.T) {
	for _, withJournal := range []bool{false, true} {
		t.Run(fmt.Sprintf("journal=%v", withJournal), func(t *testing.T) {
			srv := newTestSim(t, smsc.Config{RespDelay: time.Second})
			c := newCampaign(t, 3)
			created := make(chan error, 1)
			go func() {
				for i := 0; srv.Stats().Submits == 0 && i < 1000; i++ {
					time.Sleep(10 * time.Millisecond)
				}
				created <- os.WriteFile(c.report, []byte("the other run's report\n"), 0o600)
			}()
			flags := []string{"--journal", "off"}
			if withJournal {
				flags = nil
			}
			code, stderr := c.send(t, srv.Addr(), flags...)
			if err := <-created; err != nil {
				t.Fatal(err)
			}
			alt := filepath.Join(c.dir, "out-2.csv")
			if code != exitIncomplete || !strings.Contains(stderr, "the report is "+alt+", not "+c.report) || strings.Contains(stderr, "could not be written") ||
				!strings.Contains(stderr, "give --report "+alt+" ") {
				t.Errorf("exit %d, want 3 naming the report beside it; stderr:\n%s", code, stderr)
			}
			if rows := reportByRow(t, alt); len(rows) != 3 || rows[1]["submit_status"] != "accepted" || rows[1]["message_ids"] == "" {
				t.Errorf("this run's report beside it: %v", rows)
			}
			if withJournal {
				// What the message says to do, and receipts without --report, rewrite it; also
				// once it is deleted, to be rebuilt: never the other run's file beside the journal.
				for i, report := range [][]string{{"--report", alt}, nil, nil} {
					if i == 2 {
						if err := os.Remove(alt); err != nil {
							t.Fatal(err)
						}
					}
					args := append([]string{"receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool, "--quiet"}, report...)
					if code, stderr := runCmd(t, args...); code == exitUsage || !strings.Contains(stderr, "report written to "+alt+"\n") {
						t.Errorf("receipts %v (run %d): exit %d, want the report beside rewritten; stderr:\n%s", report, i+1, code, stderr)
					}
				}
			}
			if got, _ := os.ReadFile(c.report); string(got) != "the other run's report\n" {
				t.Errorf("the other run's report was changed: %q", got)
			}
		})
	}
}

// A rewrite whose rename fails (here an immutable report, as root; a bind-mounted report file
// fails the same way with EBUSY) after its record was written records the report in place
// again: two such runs made later ones refuse the campaign's own, untouched report.
func TestReceipts_failedRenamesKeepTheReport(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 3)
	c.sendAll(t, srv.Addr())
	if err := exec.Command("chattr", "+i", c.report).Run(); err != nil {
		t.Skipf("chattr: %v", err)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", c.report).Run() }) // or the directory stays
	for i := 0; i < 2; i++ {
		code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool)
		t.Logf("receipts with the rename failing: exit %d\n%s", code, stderr)
	}
	exec.Command("chattr", "-i", c.report).Run()
	code, stderr := runCmd(t, "receipts", "--journal", c.journal, "--wait", "0", "--spool", c.spool)
	if code != exitOK || !strings.Contains(stderr, "report written to "+c.report) {
		t.Errorf("the campaign's untouched report after two failed rewrites: exit %d, want 0\n%s", code, stderr)
	}
}

// The write before counts only at the report's recorded place: a copy of a campaign (cp -a)
// that has run once keeps the original's facts as its previous ones, and must not take over
// the original's report through them ("a copy of a journal does not take over its original's
// report").
func TestReceipts_copyDoesNotTakeOverTheOriginalThroughTheWriteBefore(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 3)
	c.sendAll(t, srv.Addr())
	dir2 := t.TempDir() + "/copy"
	if out, err := exec.Command("cp", "-a", c.dir, dir2).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	j2 := dir2 + "/out.csv.journal"
	code, stderr := runCmd(t, "receipts", "--journal", j2, "--wait", "0", "--spool", c.spool)
	t.Logf("copy's own run: exit %d\n%s", code, stderr)
	code, stderr = runCmd(t, "receipts", "--journal", j2, "--report", c.report, "--wait", "0", "--spool", c.spool)
	if code != exitUsage {
		t.Errorf("the copy's journal with --report naming the original's report (claimed by the original's journal): exit %d, want 1 refusing it\n%s", code, stderr)
	}
}

// receipts has no dry run: a --dry-run (shared with send through one config file) that it
// ignored would bind and rewrite the report the user meant to leave alone.
func TestReceipts_dryRunRefused(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "out.csv")
	config := filepath.Join(dir, "smscast.yaml")
	if err := os.WriteFile(config, []byte("dry-run: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"receipts", "--report", report, "--wait", "0", "--dry-run"},
		{"receipts", "--report", report, "--wait", "0", "--config", config},
	} {
		code, stderr := runCmd(t, args...)
		if code != exitUsage || !strings.Contains(stderr, "receipts has no dry run") {
			t.Errorf("%v: exit %d, stderr %q; want 1 and why", args, code, stderr)
		}
	}
}

// A resume after the validity ended sends nothing, and its "resumed from" line says why
// rather than only "to send for the first time".
func TestResume_afterTheValidity(t *testing.T) {
	noLeaks(t)
	srv := newTestSim(t, smsc.Config{})
	c := newCampaign(t, 10)
	validity := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	if code, stderr := c.send(t, srv.Addr(), "--rate", "2", "--validity", validity); code != exitIncomplete {
		t.Fatalf("first run: exit %d, want 3 (rows left unsent by the validity)\n%s", code, stderr)
	}
	before := srv.Stats().Submits
	code, stderr := c.send(t, srv.Addr(), "--rate", "2", "--validity", validity, "--resume")
	if code != exitIncomplete || !strings.Contains(stderr, "of those to send were not, their validity (--validity) having ended") {
		t.Errorf("--resume after the validity: exit %d, want 3 and why nothing was sent; stderr:\n%s", code, stderr)
	}
	if n := srv.Stats().Submits - before; n != 0 {
		t.Errorf("the resume sent %d messages after the validity", n)
	}
}

// A report's ids are recognised however the report wrote them: as sent (JSON Lines), as the
// CSV report escapes them (a backslash doubled, a space \x20), or as versions that did not
// double a backslash did. (A restored journal behind its report got the advice for a foreign
// report, to remove it, when an id held a backslash.)
func TestShareID_everyWayTheReportWritesIt(t *testing.T) {
	r := &journal.Row{Num: 1, Parts: []journal.Part{{MessageIDs: []string{`a\b c`}}}}
	for _, written := range []string{`a\b c`, `a\\b\x20c`, `a\b\x20c`} {
		if !shareID(r, []string{"x", written}) {
			t.Errorf("the id %q in the report is not recognised as %q", written, `a\b c`)
		}
	}
	if shareID(r, []string{`a\\b`, "c"}) {
		t.Error("two other ids taken for the row's")
	}
}
