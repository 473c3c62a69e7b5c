package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"smscast/journal"
	"smscast/smpp"
	"smscast/smsc"
)

// campaignFiles writes a recipients file of n rows and a templates file into dir and returns
// their paths.
func campaignFiles(t testing.TB, dir string, n int) (recipients, templates string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("msisdn,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "+49171%07d,Kunde %d\n", i, i)
	}
	recipients = filepath.Join(dir, "recipients.csv")
	templates = filepath.Join(dir, "templates.csv")
	if err := os.WriteFile(recipients, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(templates, []byte("id,text\nhello,\"Hallo {{name}}, Ihr Paket ist da.\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return recipients, templates
}

// runApp runs the smscast app with args and returns its exit status and stderr. The send
// command is made afresh: urfave/cli keeps values read from the environment in the flags,
// which would leak from one run to the next in one process.
func runApp(t testing.TB, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	app := newApp(&stdout, &stderr)
	app.Commands = []*cli.Command{sendCommand()}
	err := app.RunContext(ctx, append([]string{"smscast"}, args...))
	printError(&stderr, err)
	return exitCode(err), stderr.String()
}

// readReport reads a CSV report into one map per row, keyed by column.
func readReport(t testing.TB, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, col := range recs[0] {
			m[col] = rec[i]
		}
		rows = append(rows, m)
	}
	return rows
}

func TestSend_campaign(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{SystemID: "acme", Password: "secret", RejectPrefixes: []string{"491710000013"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 20)
	reportPath := filepath.Join(dir, "out.csv")
	summary := filepath.Join(dir, "summary.json")
	t.Setenv("SMSCAST_PASSWORD", "secret")
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--system-id", "acme",
		"--recipients", recipients, "--templates", templates, "--from", "ACME",
		"--rate", "0", "--wait", "10s", "--report", reportPath, "--summary-json", summary, "--quiet")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want 3 (one row rejected); stderr:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "secret") {
		t.Errorf("stderr shows the password:\n%s", stderr)
	}
	rows := readReport(t, reportPath)
	if len(rows) != 20 {
		t.Fatalf("report has %d rows, want 20", len(rows))
	}
	for _, r := range rows {
		want, receipt := "accepted", "DELIVRD"
		if r["msisdn"] == "491710000013" {
			want, receipt = "rejected", ""
		}
		if r["submit_status"] != want || r["receipt_status"] != receipt {
			t.Errorf("row %s: %s/%s %q, want %s/%s", r["row"], r["submit_status"], r["receipt_status"], r["submit_error"], want, receipt)
		}
	}
	if _, err := os.Stat(summary); err != nil {
		t.Errorf("no --summary-json: %v", err)
	}
	if got := srv.Stats().Accepted; got != 19 {
		t.Errorf("simulator accepted %d messages, want 19", got)
	}
	// A second run does not overwrite the report without --force, and sends nothing.
	before := srv.Stats().Submits
	code, stderr = runApp(t, "send", "--smsc", srv.Addr(), "--system-id", "acme",
		"--recipients", recipients, "--templates", templates, "--report", reportPath)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("second run: exit %d, stderr %q; want 1 and a hint to use --force", code, stderr)
	}
	if srv.Stats().Submits != before {
		t.Error("the second run sent messages although it refused to write its report")
	}
}

func TestSend_allAcceptedExitsZero(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 5)
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--log-format", "json", "--progress-interval", "10ms")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	// The default report sits beside the recipients file.
	if rows := readReport(t, filepath.Join(dir, "recipients.report.csv")); len(rows) != 5 {
		t.Errorf("default report has %d rows, want 5", len(rows))
	}
	if !strings.Contains(stderr, `"event":"progress"`) || !strings.Contains(stderr, `"text":"Summary"`) {
		t.Errorf("no JSON progress line, or no summary, on stderr:\n%s", stderr)
	}
	// With --log-format json every line is a JSON object, the notes and the summary too.
	// Each has its event and its time (RFC 3339 with nanoseconds), and all but the progress
	// lines say their words under "message".
	for _, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line is not a JSON object: %q", line)
			continue
		}
		at, _ := rec["time"].(string)
		if _, err := time.Parse(time.RFC3339Nano, at); err != nil || rec["event"] == nil || rec["event"] != "progress" && rec["message"] == nil {
			t.Errorf("stderr line %q: want an event, a time and (but for progress) a message", line)
		}
	}
	// An error too, with the exit status.
	code, stderr = runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--log-format", "json")
	if code != exitUsage || !strings.HasPrefix(stderr, `{"event":"error"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("an existing report with --log-format json: exit %d, stderr %q; want 1 and one JSON error line", code, stderr)
	}
}

// An SMSC from before SMPP 3.4 answers bind_transceiver with generic_nack ESME_RINVCMDID:
// send stops at once with exit status 2 and says which bind modes to use, instead of
// retrying the same bind until --give-up-after.
func TestSend_transceiverUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var binds atomic.Int32
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					pdu, err := smpp.ReadPDU(nc, nil, 4096)
					if err != nil {
						return
					}
					h, _ := smpp.DecodeHeader(pdu)
					if h.ID == smpp.BindTransceiverID {
						binds.Add(1)
					}
					nack, _ := smpp.AppendPDU(nil, h.Sequence, smpp.StatusInvCmdID, nil)
					if _, err := nc.Write(nack); err != nil {
						return
					}
				}
			}()
		}
	}()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 2)
	code, stderr := runApp(t, "send", "--smsc", ln.Addr().String(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--report", filepath.Join(dir, "out.csv"), "--give-up-after", "20s")
	if code != exitConnect || !strings.Contains(stderr, "ESME_RINVCMDID") || !strings.Contains(stderr, "--bind-mode tx+rx") {
		t.Errorf("exit %d, want 2 with a hint to bind as a transmitter; stderr:\n%s", code, stderr)
	}
	if n := binds.Load(); n != 1 {
		t.Errorf("%d bind_transceiver attempts, want 1: the SMSC does not know the command", n)
	}
}

// --dry-run is how a config file is checked: it refuses every bad setting a real run would,
// without an SMSC; and credentials too long for the bind PDU are a usage error at once, not
// a network fault retried until --give-up-after.
func TestSend_settingsCheckedBeforeConnecting(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 2)
	for _, bad := range []string{"window: 0", "tz: Mars/Olympus", `send-between: "25:00-26:00"`, "report-format: xml",
		"bind-mode: rx", "log-format: yaml", "schedule: tomorrow", "receipt-id-format: foo", "part-receipts: some"} {
		config := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(config, []byte(bad+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runApp(t, "send", "--recipients", recipients, "--templates", templates, "--dry-run", "--config", config)
		if code != exitUsage {
			t.Errorf("--dry-run with %q: exit %d, want 1\n%s", bad, code, stderr)
		}
	}
	// A typo in a key is named with the flag it is near, as on the command line.
	config := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(config, []byte("windwo: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := runApp(t, "send", "--recipients", recipients, "--templates", templates, "--dry-run", "--config", config); code != exitUsage ||
		!strings.Contains(stderr, `"windwo" is not a flag of smscast plan, send or receipts (did you mean window?)`) {
		t.Errorf("a misspelt key: exit %d, want 1 and the flag it is near\n%s", code, stderr)
	}
	// receipts takes send's keys too (hidden in its help): a typo of one is named as well.
	if err := os.WriteFile(config, []byte("rat: 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := runCmd(t, "receipts", "--config", config, "--journal", filepath.Join(dir, "none.journal")); code != exitUsage ||
		!strings.Contains(stderr, "(did you mean rate?)") {
		t.Errorf("receipts, a misspelt send key: exit %d, want 1 and the flag it is near\n%s", code, stderr)
	}
	t.Setenv("SMSCAST_PASSWORD", "s3cretTooLong")
	code, stderr := runApp(t, "send", "--smsc", "127.0.0.1:1", "--system-id", "acme", "--recipients", recipients,
		"--templates", templates, "--report", filepath.Join(dir, "out.csv"), "--give-up-after", "1m")
	if code != exitUsage || !strings.Contains(stderr, "at most 8 octets") || strings.Contains(stderr, "s3cretTooLong") {
		t.Errorf("a 13-character password: exit %d, want 1 naming the limit and not the password\n%s", code, stderr)
	}
}

func TestSend_bindRefused(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{SystemID: "acme", Password: "right"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 3)
	reportPath := filepath.Join(dir, "out.csv")
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--system-id", "acme", "--password", "wrong1",
		"--recipients", recipients, "--templates", templates, "--from", "ACME", "--report", reportPath)
	if code != exitConnect {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "ESME_RINVPASWD") || !strings.Contains(stderr, "other users") || strings.Contains(stderr, "wrong1") {
		t.Errorf("stderr must name the status and warn about --password without showing it:\n%s", stderr)
	}
	if _, err := os.Stat(reportPath); err == nil {
		t.Error("a report was written although nothing was sent")
	}
	// From cron, SMSCAST_PASSWORD is easily missing: the error says no password was given.
	t.Setenv("SMSCAST_PASSWORD", "")
	code, stderr = runApp(t, "send", "--smsc", srv.Addr(), "--system-id", "acme",
		"--recipients", recipients, "--templates", templates, "--from", "ACME", "--report", reportPath)
	if code != exitConnect || !strings.Contains(stderr, "no password was given") || strings.Contains(stderr, "no --system-id") {
		t.Errorf("no password: exit %d, want 2 saying no password was given\n%s", code, stderr)
	}
	// Nor is a --system-id: the error names what is missing.
	t.Setenv("SMSCAST_PASSWORD", "right")
	code, stderr = runApp(t, "send", "--smsc", srv.Addr(),
		"--recipients", recipients, "--templates", templates, "--from", "ACME", "--report", reportPath)
	if code != exitConnect || !strings.Contains(stderr, "no --system-id was given") || strings.Contains(stderr, "no password") {
		t.Errorf("no --system-id: exit %d, want 2 saying no --system-id was given\n%s", code, stderr)
	}
}

// TestSend_tlvSupport: --split sar against an SMSC that announces no TLV support stops with
// exit status 2 before anything is sent; --assume-tlv-support sends anyway.
func TestSend_tlvSupport(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{SystemID: "acme", Password: "secret", NoInterfaceVersion: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	t.Setenv("SMSCAST_PASSWORD", "secret")
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 3)
	args := func(report string, extra ...string) []string {
		return append([]string{"send", "--smsc", srv.Addr(), "--system-id", "acme", "--split", "sar",
			"--recipients", recipients, "--templates", templates, "--from", "ACME", "--report", report, "--wait", "0"}, extra...)
	}
	refused := filepath.Join(dir, "refused.csv")
	code, stderr := runApp(t, args(refused)...)
	if code != exitConnect || !strings.Contains(stderr, "sc_interface_version") || !strings.Contains(stderr, "--assume-tlv-support") {
		t.Fatalf("exit %d, want 2 with advice; stderr:\n%s", code, stderr)
	}
	if n := srv.Stats().Submits; n != 0 {
		t.Errorf("%d submit_sm reached the SMSC, want none", n)
	}
	if _, err := os.Stat(refused); err == nil {
		t.Error("a report was written although nothing was sent")
	}
	if code, stderr := runApp(t, args(filepath.Join(dir, "sent.csv"), "--assume-tlv-support")...); code != exitOK {
		t.Fatalf("with --assume-tlv-support: exit %d, want 0; stderr:\n%s", code, stderr)
	}
}

func TestSend_usageErrors(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	base := []string{"send", "--recipients", recipients, "--templates", templates}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "--smsc"},
		{[]string{"--smsc", "127.0.0.1:1", "--window", "0"}, "--window"},
		{[]string{"--smsc", "127.0.0.1:1", "--bind-mode", "rx"}, "--bind-mode"},
		{[]string{"--smsc", "127.0.0.1:"}, "--smsc"},
		{[]string{"--smsc", "127.0.0.1"}, "--smsc"},
		{[]string{"--smsc", ":2775"}, "--smsc"},
		{[]string{"--smsc", "127.0.0.1:99999"}, "--smsc"},
		{[]string{"--smsc", "127.0.0.1:1", "--send-between", "9-5"}, "send-between"},
		{[]string{"--smsc", "127.0.0.1:1", "--schedule", "yesterday"}, "--schedule"},
		{[]string{"--smsc", "127.0.0.1:1", "--tz", "Mars/Olympus"}, "--tz"},
		{[]string{"--smsc", "127.0.0.1:1", "--optout-keywords", "STOP"}, "--exclude"},
		{[]string{"--smsc", "127.0.0.1:1", "--report", filepath.Join(dir, "nodir", "r.csv")}, "does not exist"},
		{[]string{"--smsc", "127.0.0.1:1", "--report", recipients, "--force"}, "input file"},
		{[]string{"--smsc", "127.0.0.1:1", "--summary-json", filepath.Join(dir, "nodir", "s.json")}, "does not exist"},
		{[]string{"--smsc", "127.0.0.1:1", "--summary-json", dir}, "is a directory"},
		{[]string{"--smsc", "127.0.0.1:1", "--spool", recipients}, "not a directory"},
		{[]string{"--smsc", "127.0.0.1:1", "--password", "a", "--password-file", recipients}, "once"},
	}
	for _, tt := range tests {
		code, stderr := runApp(t, append(base, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 mentioning %q", tt.args, code, stderr, tt.want)
		}
	}
}

func TestSend_dryRun(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 4)
	code, stderr := runApp(t, "send", "--dry-run", "--recipients", recipients, "--templates", templates, "--from", "ACME", "--rate", "2")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "4") {
		t.Errorf("dry run printed no plan summary:\n%s", stderr)
	}
}

// A dry run refuses what a real run would refuse before sending, so that a dry run that
// passes means the cron job starts: only the SMSC's address may be missing.
func TestSend_dryRunChecksWhatARunChecks(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 4)
	taken := filepath.Join(dir, "taken.csv")
	twoColumns := filepath.Join(dir, "exclude.csv")
	for _, f := range []string{taken, twoColumns} {
		if err := os.WriteFile(f, []byte("+4915112345678,x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w, err := journal.Create(taken+".journal", journal.Identity{}, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	base := []string{"send", "--dry-run", "--recipients", recipients, "--templates", templates}
	tests := []struct {
		args []string
		want string
	}{
		// Another campaign's journal (advice to --resume it would be refused).
		{[]string{"--report", taken}, "records another campaign (option allow-duplicates was not set"},
		{[]string{"--report", filepath.Join(dir, "none", "out.csv")}, "does not exist"},
		{[]string{"--summary-json", filepath.Join(dir, "none", "s.json")}, "does not exist"},
		{[]string{"--exclude", twoColumns, "--optout-keywords", "STOP"}, "has several columns"},
		{[]string{"--password-file", filepath.Join(dir, "none.pw")}, "password file"},
		{[]string{"--system-id", "waytoolongsystemid"}, "the bind cannot be sent"},
		{[]string{"--smsc", "not a host"}, "--smsc"},
		// Outputs that would land in a missing directory, or on the campaign's own files.
		{[]string{"--inbox", filepath.Join(dir, "none", "in.csv")}, "directory " + filepath.Join(dir, "none") + " does not exist"},
		{[]string{"--journal", filepath.Join(dir, "none", "j")}, "does not exist"},
		{[]string{"--exclude", filepath.Join(dir, "none", "opt.txt"), "--optout-keywords", "STOP"}, "does not exist"},
		{[]string{"--summary-json", templates}, "is the --templates file: give --summary-json a file of its own"},
		{[]string{"--inbox", recipients}, "is the --recipients file"},
		{[]string{"--exclude", twoColumns, "--summary-json", twoColumns}, "is the --exclude file"},
		{[]string{"--report", filepath.Join(dir, "r.csv"), "--summary-json", filepath.Join(dir, "r.csv")}, "--summary-json " + filepath.Join(dir, "r.csv") + " is also --report"},
		{[]string{"--report", filepath.Join(dir, "r.csv"), "--inbox", filepath.Join(dir, "r.csv.journal")}, "is also --journal"},
		{[]string{"--journal", templates}, "is not an smscast journal"},
	}
	for _, tt := range tests {
		code, stderr := runApp(t, append(base, tt.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 mentioning %q", tt.args, code, stderr, tt.want)
		}
	}
	// Without an SMSC, and with the checked files in order, it passes and writes nothing.
	code, stderr := runApp(t, append(base, "--report", filepath.Join(dir, "new.csv"), "--summary-json", filepath.Join(dir, "s.json"))...)
	if code != exitOK {
		t.Fatalf("a dry run in order: exit %d; stderr:\n%s", code, stderr)
	}
	for _, f := range []string{"new.csv", "new.csv.journal", "s.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("the dry run wrote %s", f)
		}
	}
}

// TestSend_configPrecedence checks command line > environment > config file for a flag of
// send and one of the shared input flags.
func TestSend_configPrecedence(t *testing.T) {
	dir := t.TempDir()
	_, templates := campaignFiles(t, dir, 1)
	config := filepath.Join(dir, "smscast.yaml")
	yaml := "smsc: 127.0.0.1:2775\nrate: 5\nwindow: '20'\nfrom: FILE\nsystem-id: fromfile\npassword: filepw\n" +
		"schedule: 2037-03-14T09:30:00Z\nto: [+491711111111, +491712222222]\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := func(env map[string]string, args ...string) (sendSettings, string) {
		t.Helper()
		for k, v := range env {
			t.Setenv(k, v)
		}
		var got sendSettings
		saved := sendAction
		defer func() { sendAction = saved }()
		sendAction = func(_ *cli.Context, s sendSettings) error { got = s; return nil }
		all := append([]string{"send", "--config", config, "--templates", templates, "--force"}, args...)
		code, stderr := runApp(t, all...)
		if code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		for k := range env {
			os.Unsetenv(k)
		}
		return got, stderr
	}

	s, warn := settings(nil)
	if !s.engine.Schedule.At.Equal(time.Date(2037, 3, 14, 9, 30, 0, 0, time.UTC)) || len(s.input.To) != 2 {
		t.Errorf("file only: schedule %v, to %v; want the timestamp and both numbers", s.engine.Schedule, s.input.To)
	}
	if s.engine.Rate != 5 || s.engine.Session.Window != 20 || s.input.From != "FILE" || s.engine.Session.Bind.SystemID != "fromfile" || s.engine.Session.Bind.Password != "filepw" {
		t.Errorf("file only: rate %v window %d from %q system-id %q", s.engine.Rate, s.engine.Session.Window, s.input.From, s.engine.Session.Bind.SystemID)
	}
	if warn != "" {
		t.Errorf("a password from the config file must not warn: %q", warn)
	}
	s, warn = settings(map[string]string{"SMSCAST_RATE": "7", "SMSCAST_FROM": "ENV", "SMSCAST_PASSWORD": "envpw"})
	if s.engine.Rate != 7 || s.input.From != "ENV" || s.engine.Session.Window != 20 || s.engine.Session.Bind.Password != "envpw" {
		t.Errorf("env over file: rate %v from %q window %d", s.engine.Rate, s.input.From, s.engine.Session.Window)
	}
	if warn != "" {
		t.Errorf("a password from the environment must not warn: %q", warn)
	}
	s, warn = settings(map[string]string{"SMSCAST_RATE": "7", "SMSCAST_FROM": "ENV"}, "--rate", "9", "--from", "FLAG", "--password", "argpw")
	if s.engine.Rate != 9 || s.input.From != "FLAG" || s.engine.Session.Bind.Password != "argpw" {
		t.Errorf("flag over env: rate %v from %q", s.engine.Rate, s.input.From)
	}
	if !strings.Contains(warn, "other users") || strings.Contains(warn, "argpw") {
		t.Errorf("--password on the command line must warn without showing it: %q", warn)
	}

	// --password and --password-file are one setting: a higher layer's either one wins over
	// the other in a lower layer, as for any flag.
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("filepw2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, _ = settings(map[string]string{"SMSCAST_PASSWORD_FILE": pwFile}); s.engine.Session.Bind.Password != "filepw2" {
		t.Errorf("SMSCAST_PASSWORD_FILE over the file's password: got the other one")
	}
	if s, _ = settings(map[string]string{"SMSCAST_PASSWORD": "envpw"}, "--password-file", pwFile); s.engine.Session.Bind.Password != "filepw2" {
		t.Errorf("--password-file over SMSCAST_PASSWORD: got the other one")
	}
	if s, _ = settings(map[string]string{"SMSCAST_PASSWORD_FILE": pwFile}, "--password", "argpw"); s.engine.Session.Bind.Password != "argpw" {
		t.Errorf("--password over SMSCAST_PASSWORD_FILE: got the other one")
	}
}

// --tls-insecure warns, unless the SMSC is on this machine (a simulator): left over from a
// rehearsal, it would send a real campaign to whoever poses as the SMSC.
func TestSend_tlsInsecureWarns(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	saved := sendAction
	defer func() { sendAction = saved }()
	sendAction = func(*cli.Context, sendSettings) error { return nil } // nothing is dialled
	for addr, warns := range map[string]bool{"smsc.example.com:2775": true, "127.0.0.1:2775": false, "[::1]:2775": false, "localhost:2775": false} {
		code, stderr := runApp(t, "send", "--smsc", addr, "--tls-insecure", "--recipients", recipients, "--templates", templates,
			"--report", filepath.Join(dir, "out.csv"))
		if code != exitOK || strings.Contains(stderr, "warning: --tls-insecure") != warns {
			t.Errorf("--smsc %s: exit %d, stderr %q; want a warning: %v", addr, code, stderr, warns)
		}
	}
}

func TestSend_configFileErrors(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	for name, body := range map[string]string{
		"unknown key":              "rte: 5\n",
		"bad value":                "rate: fast\n",
		"not a map":                "- rate\n",
		"a list for one value":     "from: [Acme, Shop]\n",
		"a duration without units": "wait: 90\n",
		"two passwords":            "password: a\npassword-file: /nonexistent\n",
	} {
		config := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yaml")
		if err := os.WriteFile(config, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		code, stderr := runApp(t, "send", "--config", config, "--dry-run", "--recipients", recipients, "--templates", templates)
		if code != exitUsage || !strings.Contains(stderr, config) {
			t.Errorf("%s: exit %d, stderr %q; want 1 naming the file", name, code, stderr)
		}
	}
}

// A --report ending in .jsonl is JSON Lines, as smscast receipts reads it, so the file keeps
// its format when receipts rewrites it.
func TestSend_jsonlReportByName(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 2)
	reportPath := filepath.Join(dir, "out.jsonl")
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--quiet", "--report", reportPath)
	data, _ := os.ReadFile(reportPath)
	if code != exitOK || !bytes.HasPrefix(data, []byte("{")) {
		t.Errorf("exit %d, report starts %q; want JSON Lines\n%s", code, data[:min(len(data), 40)], stderr)
	}
}

// YAML's yes and no are booleans to people: quiet: yes is taken.
func TestSend_configYesNo(t *testing.T) {
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	config := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(config, []byte("quiet: yes\nallow-duplicates: no\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := runApp(t, "send", "--config", config, "--dry-run", "--recipients", recipients, "--templates", templates)
	if code != exitOK {
		t.Errorf("quiet: yes: exit %d\n%s", code, stderr)
	}
}

// buildBinary builds smscast into dir.
func buildBinary(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "smscast")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer is a bytes.Buffer that a test may read while a subprocess's output is being
// copied into it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitExit waits for cmd to end, killing it after limit.
func waitExit(t *testing.T, cmd *exec.Cmd, limit time.Duration, stderr *lockedBuffer) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("still running %v after the signal; stderr:\n%s", limit, stderr.String())
	}
}

// startSendProcess starts the real binary sending a campaign of rows rows to a simulator with
// cfg, with extra send flags; the simulator closes with the test.
func startSendProcess(t *testing.T, cfg smsc.Config, rows int, extra ...string) (*smsc.Server, *exec.Cmd, *lockedBuffer, string) {
	t.Helper()
	srv, err := smsc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	recipients, templates := campaignFiles(t, dir, rows)
	reportPath := filepath.Join(dir, "out.csv")
	stderr := &lockedBuffer{}
	args := append([]string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--report", reportPath}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return srv, cmd, stderr, reportPath
}

// TestSend_secondSignalAborts: with responses that take 10 s to come, a first SIGINT waits
// for them (up to --resp-timeout 60s); a second one aborts at once and the report is still
// written.
func TestSend_secondSignalAborts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, cmd, stderr, reportPath := startSendProcess(t, smsc.Config{RespDelay: 10 * time.Second}, 50,
		"--rate", "0", "--resp-timeout", "60s")
	for i := 0; srv.Stats().Submits < 10 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	for i := 0; !strings.Contains(stderr.String(), "stopping") && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	waitExit(t, cmd, 8*time.Second, stderr)
	if code := cmd.ProcessState.ExitCode(); code != exitSIGINT {
		t.Fatalf("exit %d, want 130; stderr:\n%s", code, stderr.String())
	}
	rows := readReport(t, reportPath)
	if len(rows) != 50 {
		t.Fatalf("report has %d rows, want 50", len(rows))
	}
	for _, r := range rows {
		if r["submit_status"] != "not_sent" && r["submit_status"] != "uncertain" {
			t.Errorf("row %s: %s; no response ever came, so it is not_sent or uncertain", r["row"], r["submit_status"])
		}
	}
}

// TestSend_sigterm runs the real binary, stops it with SIGTERM in the middle of a campaign and
// checks the exit status and the report.
func TestSend_sigterm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, cmd, stderr, reportPath := startSendProcess(t, smsc.Config{}, 400, "--rate", "100", "--progress-interval", "100ms")
	for i := 0; srv.Stats().Accepted < 30 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, stderr)
	if code := cmd.ProcessState.ExitCode(); code != exitSIGTERM {
		t.Fatalf("exit %d, want 143; stderr:\n%s", code, stderr.String())
	}
	rows := readReport(t, reportPath)
	if len(rows) != 400 {
		t.Fatalf("report has %d rows, want all 400", len(rows))
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r["submit_status"]]++
	}
	if counts["accepted"] < 30 || counts["not_sent"] == 0 || counts["accepted"]+counts["not_sent"] != 400 {
		t.Errorf("report statuses %v: want accepted rows, then not_sent ones", counts)
	}
	if got := srv.Stats().Accepted; got != counts["accepted"] {
		t.Errorf("simulator accepted %d, report says %d", got, counts["accepted"])
	}
	if !strings.Contains(stderr.String(), "run the same command again with --resume") {
		t.Errorf("after the stop, stderr must say how to finish the campaign:\n%s", stderr.String())
	}

	// Running the same command again points to --resume, not to --force (which would send
	// every row again), and sends nothing.
	before := srv.Stats().Submits
	again := exec.Command(cmd.Path, cmd.Args[1:]...)
	out, err := again.CombinedOutput()
	if code := again.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "use --resume to finish it") {
		t.Errorf("rerun: exit %d (%v), want 1 with advice to --resume; output:\n%s", code, err, out)
	}
	if n := srv.Stats().Submits; n != before {
		t.Errorf("the refused rerun sent %d submit_sm", n-before)
	}
}

// TestSend_sighup: a closed terminal or ssh session (SIGHUP) stops the campaign the orderly
// way, like SIGTERM: exit 129 and a report of every row. Go's default would end the process
// at once, without a report.
func TestSend_sighup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, cmd, stderr, reportPath := startSendProcess(t, smsc.Config{}, 400, "--rate", "100")
	for i := 0; srv.Stats().Accepted < 20 && i < 1000; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, stderr)
	if code := cmd.ProcessState.ExitCode(); code != 129 || !strings.Contains(stderr.String(), "stopped by SIGHUP") {
		t.Fatalf("exit %d, want 129 and why; stderr:\n%s", code, stderr.String())
	}
	if rows := readReport(t, reportPath); len(rows) != 400 {
		t.Fatalf("report has %d rows, want all 400", len(rows))
	}
}

// TestSend_stderrReaderGoesAway: when the reader of send's stderr goes away (`2>&1 | head`,
// a log shipper that dies), writing a progress line fails, and the campaign goes on to the
// end: every row accepted, the report written, exit 0. Go's default for a broken pipe on
// stderr is to end the process at once.
func TestSend_stderrReaderGoesAway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	srv, err := smsc.NewServer(smsc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	bin := buildBinary(t, dir)
	recipients, templates := campaignFiles(t, dir, 60)
	reportPath := filepath.Join(dir, "out.csv")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--report", reportPath, "--rate", "100", "--wait", "0", "--progress-interval", "50ms")
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// The first progress line, then the reader goes away.
	if _, err := r.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	r.Close()
	waitExit(t, cmd, 30*time.Second, &lockedBuffer{})
	if code := cmd.ProcessState.ExitCode(); code != exitOK {
		t.Fatalf("exit %d (%v), want 0: the campaign must outlive its stderr", code, cmd.ProcessState)
	}
	rows := readReport(t, reportPath)
	accepted := 0
	for _, row := range rows {
		if row["submit_status"] == "accepted" {
			accepted++
		}
	}
	if len(rows) != 60 || accepted != 60 || srv.Stats().Accepted != 60 {
		t.Errorf("report: %d rows, %d accepted; simulator accepted %d; want 60 of each", len(rows), accepted, srv.Stats().Accepted)
	}
}

// replySim starts a simulator whose handsets of prefixes answer every message with a
// two-part STOP, which it returns.
func replySim(t *testing.T, prefixes ...string) (*smsc.Server, string) {
	t.Helper()
	reply := "STOP sending me these. " + strings.Repeat("I never asked for them. ", 7)
	return newTestSim(t, smsc.Config{ReplyPrefixes: prefixes, ReplyText: reply}), reply
}

// Handsets that answer a campaign (sim --reply-prefix) with a long STOP: each answer is one
// line in the --inbox, joined from its parts, and its sender goes to the --exclude file,
// which the first campaign asking for opt-outs creates.
func TestSend_repliesAndOptOuts(t *testing.T) {
	srv, reply := replySim(t, "491710000002", "491710000004")
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 5)
	inbox, exclude := filepath.Join(dir, "inbox.csv"), filepath.Join(dir, "optouts.txt")
	args := []string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "10s", "--report", filepath.Join(dir, "out.csv"), "--quiet",
		"--inbox", inbox, "--exclude", exclude, "--optout-keywords", "STOP"}
	code, stderr := runApp(t, args...)
	if code != 0 || !strings.Contains(stderr, "created the empty exclude file "+exclude) {
		t.Fatalf("exit %d; stderr:\n%s\nwant 0 and a note that the exclude file was created", code, stderr)
	}
	if st := srv.Stats(); st.RepliesSent != 4 {
		t.Fatalf("the simulator sent %d reply parts, want 4", st.RepliesSent)
	}
	var got []string
	for _, r := range readCSV(t, inbox)[1:] {
		if r[2] != "ACME" || r[3] != reply {
			t.Errorf("inbox line %q, want the whole reply to ACME", r)
		}
		got = append(got, r[1])
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"491710000002", "491710000004"}) {
		t.Errorf("inbox has replies from %q, want one from each replying handset", got)
	}
	if data, err := os.ReadFile(exclude); err != nil || !slices.Equal(strings.Fields(string(data)), []string{"+491710000002", "+491710000004"}) && !slices.Equal(strings.Fields(string(data)), []string{"+491710000004", "+491710000002"}) {
		t.Errorf("exclude file %q (%v), want the two senders", data, err)
	}
	// A dry run with a new exclude file checks the campaign as a real run would send it, and
	// creates nothing.
	fresh := filepath.Join(dir, "new-optouts.txt")
	code, stderr = runApp(t, "send", "--dry-run", "--recipients", recipients, "--templates", templates,
		"--exclude", fresh, "--optout-keywords", "STOP")
	if _, err := os.Stat(fresh); code != 0 || err == nil || !strings.Contains(stderr, "a real run creates it") {
		t.Errorf("--dry-run with a new exclude file: exit %d (file created: %v); stderr:\n%s", code, err == nil, stderr)
	}

	// A resumed campaign must find its exclude file as it was: a lost one is an error, not
	// an empty list that would text the people who opted out.
	saved, _ := os.ReadFile(exclude)
	os.Remove(exclude)
	code, stderr = runApp(t, append(args, "--resume")...)
	if _, err := os.Stat(exclude); code != exitUsage || err == nil {
		t.Errorf("--resume without the exclude file: exit %d (file created: %v); stderr:\n%s", code, err == nil, stderr)
	}
	os.WriteFile(exclude, saved, 0o666)

	// The next campaign skips them.
	code, stderr = runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--report", filepath.Join(dir, "next.csv"), "--quiet", "--exclude", exclude)
	if code != 0 {
		t.Fatalf("next campaign: exit %d; stderr:\n%s", code, stderr)
	}
	for _, r := range readReport(t, filepath.Join(dir, "next.csv")) {
		excluded := r["msisdn"] == "491710000002" || r["msisdn"] == "491710000004"
		if (r["submit_status"] == "excluded") != excluded {
			t.Errorf("next campaign, row %s (%s): %s", r["row"], r["msisdn"], r["submit_status"])
		}
	}
}

// An SMSC set up for packed GSM 7-bit (--gsm7-packed) delivers replies packed too: send reads
// them as packed, fill bits after each part's UDH included, so the inbox has the text, with
// its extension characters, and not hex.
func TestSend_packedReplies(t *testing.T) {
	reply := "STOP [all] of it, €5 or not. " + strings.Repeat("Never again. ", 12) // two parts
	srv := newTestSim(t, smsc.Config{ReplyPrefixes: []string{"491710000001"}, ReplyText: reply, GSM7Packed: true})
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 2)
	inbox := filepath.Join(dir, "inbox.csv")
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "10s", "--report", filepath.Join(dir, "out.csv"), "--quiet",
		"--gsm7-packed", "--inbox", inbox)
	if code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	if st := srv.Stats(); st.RepliesSent != 2 {
		t.Fatalf("the simulator sent %d reply parts, want 2", st.RepliesSent)
	}
	lines := readCSV(t, inbox)
	if len(lines) != 2 || lines[1][1] != "491710000001" || lines[1][3] != reply {
		t.Errorf("inbox %q, want one line with the reply %q", lines, reply)
	}

	// receipts collects the replies of a campaign sent on a transmitter bind, packed as the
	// campaign was: --gsm7-packed comes from its journal.
	spool, later := filepath.Join(dir, "spool"), filepath.Join(dir, "later.csv")
	code, stderr = runCmd(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--bind-mode", "tx", "--report", filepath.Join(dir, "tx.csv"), "--quiet",
		"--spool", spool, "--gsm7-packed")
	if code != 0 {
		t.Fatalf("send on a transmitter bind: exit %d; stderr:\n%s", code, stderr)
	}
	code, stderr = runCmd(t, "receipts", "--smsc", srv.Addr(), "--journal", filepath.Join(dir, "tx.csv.journal"),
		"--wait", "10s", "--quiet", "--spool", spool, "--inbox", later)
	if code != 0 {
		t.Fatalf("receipts: exit %d; stderr:\n%s", code, stderr)
	}
	if lines := readCSV(t, later); len(lines) != 2 || lines[1][3] != reply {
		t.Errorf("receipts' inbox %q, want one line with the reply %q", lines, reply)
	}
}

// --service-type reaches the SMSC in every submit_sm; one submit_sm cannot carry is a usage
// error before anything is created or sent.
func TestSend_serviceType(t *testing.T) {
	srv := newTestSim(t, smsc.Config{})
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 3)
	args := []string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--quiet"}
	bad := filepath.Join(dir, "bad.csv")
	code, stderr := runApp(t, append(args, "--report", bad, "--service-type", "TOOLONG")...)
	if _, err := os.Stat(bad + ".journal"); code != exitUsage || !strings.Contains(stderr, "--service-type") || err == nil {
		t.Errorf("--service-type TOOLONG: exit %d, journal created: %v; stderr:\n%s\nwant 1 and nothing created", code, err == nil, stderr)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("the SMSC got %d messages from a refused run", n)
	}
	if code, stderr := runApp(t, append(args, "--report", filepath.Join(dir, "out.csv"), "--service-type", "CMT")...); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	msgs := srv.Messages()
	for _, m := range msgs {
		if m.ServiceType != "CMT" {
			t.Errorf("message to %s: service_type %q, want CMT", m.Destination.Addr, m.ServiceType)
		}
	}
	if len(msgs) != 3 {
		t.Errorf("the SMSC got %d messages, want 3", len(msgs))
	}
	// The service type is part of the campaign: a resume with another is refused.
	code, stderr = runApp(t, append(args, "--report", filepath.Join(dir, "out.csv"), "--service-type", "WAP", "--resume")...)
	if code != exitUsage || !strings.Contains(stderr, "service-type") {
		t.Errorf("--resume with another --service-type: exit %d, want 1 naming it; stderr:\n%s", code, stderr)
	}
}

// --bind-mode tx+rx sends on transmitters and collects the receipts and replies on a
// receiver beside them; receipts, sharing the campaign's config file, takes that mode as rx.
func TestSend_transmitterAndReceiver(t *testing.T) {
	srv, reply := replySim(t, "491710000002")
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 3)
	config, inbox, report := filepath.Join(dir, "campaign.yaml"), filepath.Join(dir, "inbox.csv"), filepath.Join(dir, "out.csv")
	yaml := fmt.Sprintf("smsc: %s\nbind-mode: tx+rx\nrecipients: %s\ntemplates: %s\nfrom: ACME\nrate: 0\nreport: %s\nspool: %s\n",
		srv.Addr(), recipients, templates, report, filepath.Join(dir, "spool"))
	if err := os.WriteFile(config, []byte(yaml), 0o666); err != nil {
		t.Fatal(err)
	}
	code, stderr := runApp(t, "send", "--config", config, "--wait", "10s", "--inbox", inbox, "--log-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr)
	}
	for _, r := range readReport(t, report) {
		if r["submit_status"] != "accepted" || r["receipt_status"] != "DELIVRD" {
			t.Errorf("row %s: %s/%s, want accepted/DELIVRD", r["row"], r["submit_status"], r["receipt_status"])
		}
	}
	if lines := readCSV(t, inbox); len(lines) != 2 || lines[1][3] != reply {
		t.Errorf("inbox %q, want the reply", lines)
	}
	if !strings.Contains(stderr, `"receiver":true`) || !strings.Contains(stderr, "bind 2 (receiver): bound") {
		t.Errorf("stderr does not log the receiver's bind:\n%s", stderr)
	}
	if code, stderr := runCmd(t, "receipts", "--config", config, "--journal", report+".journal", "--wait", "0", "--quiet"); code != exitOK {
		t.Errorf("receipts with the campaign's config: exit %d; stderr:\n%s", code, stderr)
	}
}

// A receiver refused for the whole run (an account allowed only --binds sessions) is said in
// the summary and in --summary-json, with what to do: no receipt could arrive.
func TestSend_receiverNeverBound(t *testing.T) {
	srv := newTestSim(t, smsc.Config{MaxBinds: 1})
	c := newCampaign(t, 3)
	summary := filepath.Join(c.dir, "summary.json")
	code, stderr := c.send(t, srv.Addr(), "--bind-mode", "tx+rx", "--wait", "1s", "--summary-json", summary)
	if code != exitOK {
		t.Fatalf("exit %d, want 0 (receipts do not change it); stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "receiver          never bound, so no receipt could arrive on it: ") ||
		!strings.Contains(stderr, "ESME_RALYBND") || !strings.Contains(stderr, "lower --binds") {
		t.Errorf("the summary does not say the receiver never bound, and why:\n%s", stderr)
	}
	var sum struct {
		Receiver string `json:"receiver_never_bound"`
	}
	data, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil || !strings.Contains(sum.Receiver, "ESME_RALYBND") {
		t.Errorf("--summary-json receiver_never_bound = %q (%v)", sum.Receiver, err)
	}
}

// Replies to a campaign sent on a transmitter bind wait at the SMSC for a receiver: smscast
// receipts collects them into --inbox, joined, and its --optout-keywords adds the senders to
// the campaign's exclude file, which may grow between runs.
func TestReceipts_collectsReplies(t *testing.T) {
	srv, reply := replySim(t, "491710000003")
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 4)
	exclude, inbox := filepath.Join(dir, "optouts.txt"), filepath.Join(dir, "inbox.csv")
	send := func(report string, optOuts bool) {
		args := []string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates, "--from", "ACME",
			"--rate", "0", "--bind-mode", "tx", "--report", report, "--quiet", "--spool", filepath.Join(dir, "spool"), "--exclude", exclude}
		if optOuts {
			args = append(args, "--optout-keywords", "STOP")
		}
		if code, stderr := runCmd(t, args...); code != 0 {
			t.Fatalf("send: exit %d; stderr:\n%s", code, stderr)
		}
	}
	send(filepath.Join(dir, "a.csv"), true)
	code, stderr := runCmd(t, "receipts", "--smsc", srv.Addr(), "--journal", filepath.Join(dir, "a.csv.journal"),
		"--wait", "10s", "--quiet", "--spool", filepath.Join(dir, "spool"), "--inbox", inbox, "--optout-keywords", "STOP")
	if code != 0 {
		t.Fatalf("receipts: exit %d; stderr:\n%s", code, stderr)
	}
	if recs := readCSV(t, inbox); len(recs) != 2 || recs[1][1] != "491710000003" || recs[1][3] != reply {
		t.Errorf("inbox %q, want the reply of 491710000003, whole", recs)
	}
	if data, _ := os.ReadFile(exclude); string(data) != "+491710000003\n" {
		t.Errorf("exclude file %q, want the replying number", data)
	}

	// A campaign sent without --optout-keywords, whose exclude file has grown since (another
	// campaign's opt-outs, an edit), is still the same campaign: its replies' opt-outs are
	// collected too.
	os.WriteFile(exclude, nil, 0o666)
	send(filepath.Join(dir, "b.csv"), false)
	os.WriteFile(exclude, []byte("491710000001\n"), 0o666)
	code, stderr = runCmd(t, "receipts", "--smsc", srv.Addr(), "--journal", filepath.Join(dir, "b.csv.journal"),
		"--wait", "10s", "--quiet", "--spool", filepath.Join(dir, "spool"), "--inbox", inbox, "--optout-keywords", "STOP")
	if code != 0 {
		t.Fatalf("receipts for a campaign sent without --optout-keywords, its exclude file grown: exit %d, stderr:\n%s", code, stderr)
	}
	if data, _ := os.ReadFile(exclude); string(data) != "491710000001\n+491710000003\n" {
		t.Errorf("exclude file %q, want the earlier number and the replying one", data)
	}
}

// send says why its first invalid rows are not sent, with file, line and column, as plan
// does, so that a cron log shows it without the report; the rest are counted.
func TestSend_saysWhyRowsAreInvalid(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("msisdn\n+4917100000001\n")
	for i := range 13 {
		fmt.Fprintf(&b, "+49 171 x%d\n", i)
	}
	recipients := filepath.Join(dir, "r.csv")
	if err := os.WriteFile(recipients, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr := runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--text", "hi",
		"--rate", "0", "--wait", "0", "--report", filepath.Join(dir, "out.csv"), "--quiet")
	if code != exitIncomplete {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, exitIncomplete, stderr)
	}
	if n := strings.Count(stderr, "warning: not sent: "+recipients+":"); n != planShownErrors {
		t.Errorf("%d invalid rows said, want the first %d; stderr:\n%s", n, planShownErrors, stderr)
	}
	for _, want := range []string{recipients + ":3:1: ", "3 more invalid rows"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// A password file that other users can read is warned of (as ssh does for a key), as is a
// config file holding the password; an empty one is refused: no password was meant to be
// empty there.
func TestSend_passwordFileChecks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no mode bits for other users")
	}
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 1)
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	base := []string{"send", "--dry-run", "--recipients", recipients, "--templates", templates}
	for _, tt := range []struct {
		args []string
		code int
		want string // "" = no warning
	}{
		{[]string{"--password-file", write("open.pw", "secret\n", 0o644)}, exitOK, "password file " + filepath.Join(dir, "open.pw") + " holds the password and other users"},
		{[]string{"--password-file", write("closed.pw", "secret\n", 0o600)}, exitOK, ""},
		{[]string{"--config", write("open.yaml", "password: secret\n", 0o644)}, exitOK, "config file " + filepath.Join(dir, "open.yaml") + " holds the password"},
		{[]string{"--config", write("nopw.yaml", "rate: 5\n", 0o644)}, exitOK, ""},
		{[]string{"--password-file", write("empty.pw", "\n", 0o600)}, exitUsage, "its first line is empty"},
		// Both in one layer: the message names them as the user gave them.
		{[]string{"--password-file", write("both.pw", "secret\n", 0o600), "--password", "x"}, exitUsage, "give the password once: --password-file or --password, not both"},
		{[]string{"env"}, exitUsage, "give the password once: the environment has both SMSCAST_PASSWORD_FILE and SMSCAST_PASSWORD; unset one"},
	} {
		if tt.args[0] == "env" {
			t.Setenv("SMSCAST_PASSWORD_FILE", write("env.pw", "secret\n", 0o600))
			t.Setenv("SMSCAST_PASSWORD", "x")
			tt.args = nil
		}
		code, stderr := runApp(t, append(base, tt.args...)...)
		if code != tt.code || tt.want != "" && !strings.Contains(stderr, tt.want) || tt.want == "" && strings.Contains(stderr, "other users") {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}
