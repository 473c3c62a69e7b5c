package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/report"
)

// TestHelp_Placeholders: every flag that takes a value names it in its help (`N`, `DURATION`,
// `MODE`, ...) instead of urfave/cli's "value", and none claims a default it does not have.
func TestHelp_Placeholders(t *testing.T) {
	for _, cmd := range commands {
		for _, f := range cmd.Flags {
			df, ok := f.(cli.DocGenerationFlag)
			if !ok || !df.TakesValue() {
				continue
			}
			help := f.String()
			if strings.Contains(help, " value\t") {
				t.Errorf("%s: %q has no placeholder: put one in backquotes in its Usage", cmd.Name, help)
			}
			if strings.Count(help, "(default: ") > 1 {
				t.Errorf("%s: %q gives two defaults", cmd.Name, help)
			}
		}
	}
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"} {
		err := sendExit(sig, nil, nil, report.Summary{}, "", "")
		if err == nil || err.Error() != "stopped by "+want || exitCode(err) != 128+int(sig) {
			t.Errorf("sendExit(%v) = %v (exit %d), want stopped by %s (exit %d)", sig, err, exitCode(err), want, 128+int(sig))
		}
	}
}

// TestResumeNote: a run that left rows not sent or uncertain says to rerun with --resume, and
// warns off --force; without a journal it says a rerun cannot tell what went out.
func TestResumeNote(t *testing.T) {
	left := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitNotSent: 2, report.SubmitUncertain: 1}}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal"}); !strings.Contains(got, "3 rows") || !strings.Contains(got, "--resume") || !strings.Contains(got, "not --force") {
		t.Errorf("resumeNote = %q", got)
	}
	if got := resumeNote(left, resumeFacts{}); !strings.Contains(got, "--journal off") {
		t.Errorf("resumeNote without a journal = %q", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal", pipe: true}); !strings.Contains(got, "pipe") || strings.Contains(got, "with --resume") {
		t.Errorf("resumeNote for a campaign read from a pipe = %q, want why --resume cannot finish it", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal", nothingSent: true}); !strings.Contains(got, "nothing was sent") || !strings.Contains(got, "--force") {
		t.Errorf("a first run that sent nothing: %q, want --force (its journal is gone)", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "demo/report.csv.journal", demo: true}); !strings.Contains(got, "smscast demo again for a new one (with --force if you gave --dir)") || strings.Contains(got, "--resume") {
		t.Errorf("demo note = %q, want advice to run the demo again, not --resume (demo has no such flag)", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal", unjournaled: 16}); !strings.Contains(got, "16 accepted rows whose acceptance the journal could not record") {
		t.Errorf("a journal that lost acceptances: %q, want them counted", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal", optedOut: 3}); got != "" {
		t.Errorf("rows left only because their numbers opted out: %q, want no advice to resume", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "out.csv.journal", throttled: 40}); !strings.Contains(got, "throttled 40 submits") || !strings.Contains(got, "lower --rate") {
		t.Errorf("rows left after throttling: %q, want advice to resume at a lower --rate", got)
	}
	if got := resumeNote(left, resumeFacts{journalPath: "a.journal", movedTo: "same-2.csv"}); !strings.Contains(got, "again with --resume --report same-2.csv --journal a.journal") {
		t.Errorf("a report moved beside another run's: %q, want the resume to name it", got)
	}
	uncertainOnly := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitUncertain: 1}}
	if got := resumeNote(uncertainOnly, resumeFacts{journalPath: "out.csv.journal", throttled: 40}); strings.Contains(got, "--rate") {
		t.Errorf("no row was given up on unsent: %q, want no advice about --rate", got)
	}
	if got := resumeNote(report.Summary{}, resumeFacts{journalPath: "out.csv.journal"}); got != "" {
		t.Errorf("resumeNote with nothing left = %q, want none", got)
	}
	// Rows whose validity ended are not for a resume: it would only end them again.
	expiredOnly := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitNotSent: 2}}
	if got := resumeNote(expiredOnly, resumeFacts{journalPath: "out.csv.journal", expired: 2}); strings.Contains(got, "--resume") || !strings.Contains(got, "2 rows were not sent (or not sent again, or not finished) because their validity") {
		t.Errorf("only expired rows left: %q, want no --resume, the validity named", got)
	}
	expiredOnly.Submit[report.SubmitNotSent] = 5
	if got := resumeNote(expiredOnly, resumeFacts{journalPath: "out.csv.journal", expired: 2}); !strings.Contains(got, "to send the 3 rows") || !strings.Contains(got, "2 rows were not sent (or not sent again, or not finished) because their validity") {
		t.Errorf("expired and other rows left: %q, want a resume for the 3 others", got)
	}
	// Every row invalid, nothing sent: the rerun after the fix needs --force for the report.
	allInvalid := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitInvalid: 2}}
	if got := resumeNote(allInvalid, resumeFacts{journalPath: "out.csv.journal", nothingSent: true}); !strings.Contains(got, "again with --force") {
		t.Errorf("every row invalid: %q, want the rerun with --force", got)
	}
	// The validity ended (in a pause) before anything went out: a new --validity, and --force.
	invalidAndExpired := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitInvalid: 2, report.SubmitNotSent: 23}}
	if got := resumeNote(invalidAndExpired, resumeFacts{journalPath: "out.csv.journal", nothingSent: true, expired: 23}); !strings.Contains(got, "fix the invalid rows and give a --validity that ends later (23 rows were not sent: it ended before they could go out)") ||
		!strings.Contains(got, "again with --force") {
		t.Errorf("invalid rows, the others expired: %q, want both causes and the rerun with --force", got)
	}
	// With a --schedule duration the limit came from both: either may change.
	if got := resumeNote(invalidAndExpired, resumeFacts{journalPath: "out.csv.journal", nothingSent: true, expired: 23, scheduled: true}); !strings.Contains(got, "a --validity that ends later or a shorter --schedule (23 rows were not sent: it would have ended before their delivery)") {
		t.Errorf("expired under a --schedule duration: %q, want the schedule named", got)
	}
	oneExpired := report.Summary{Submit: map[report.SubmitStatus]int{report.SubmitNotSent: 1}}
	if got := resumeNote(oneExpired, resumeFacts{journalPath: "out.csv.journal", expired: 1, scheduled: true}); !strings.Contains(got, "1 row was not sent (or not sent again, or not finished) because their validity (--validity) had ended, or would have before their --schedule delivery") {
		t.Errorf("one expired row under a --schedule duration: %q", got)
	}
	// --no-resend-uncertain left a row uncertain: the same command would leave it again.
	if got := resumeNote(uncertainOnly, resumeFacts{journalPath: "out.csv.journal", keptUncertain: 1}); !strings.Contains(got, "to send the 1 row not sent") ||
		!strings.Contains(got, "without --no-resend-uncertain for the 1 row it left uncertain") {
		t.Errorf("a row --no-resend-uncertain left: %q, want the resume without that flag", got)
	}
	if got := resumeNote(allInvalid, resumeFacts{journalPath: "out.csv.journal", nothingSent: true, demo: true}); got != "" {
		t.Errorf("every row invalid in the demo: %q, want nothing", got)
	}
	err := sendExit(syscall.SIGTERM, nil, nil, left, "", resumeNote(left, resumeFacts{journalPath: "out.csv.journal"}))
	if err == nil || !strings.Contains(err.Error(), "stopped by SIGTERM; to send the 3 rows") || exitCode(err) != 143 {
		t.Errorf("sendExit after a stop = %v (exit %d)", err, exitCode(err))
	}
	// Stopped while sending, receipts pending: the resume collects them too.
	pending := pendingNote(2, "out.csv.journal", "out.csv", "", "", false)
	leftPending := report.Summary{Submit: left.Submit, Receipts: map[string]int{report.ReceiptPending: 2}}
	err = sendExit(syscall.SIGTERM, nil, nil, leftPending, pending, resumeNote(leftPending, resumeFacts{journalPath: "out.csv.journal"}))
	if err == nil || !strings.Contains(err.Error(), "--resume (not --force") ||
		!strings.Contains(err.Error(), "(it also waits up to its --wait for the receipts of the 2 sent rows still PENDING)") {
		t.Errorf("sendExit after a stop with receipts pending = %v, want the resume and the receipts it waits for", err)
	}
	// Stopped in the --wait for receipts, every row sent: how to collect the rest.
	err = sendExit(syscall.SIGINT, nil, nil, report.Summary{}, pending, "")
	if err == nil || !strings.Contains(err.Error(), "stopped by SIGINT; 2 sent rows are still PENDING") ||
		!strings.Contains(err.Error(), "smscast receipts --journal out.csv.journal") || exitCode(err) != 130 {
		t.Errorf("sendExit after a stop in the wait = %v (exit %d), want the advice to collect the receipts", err, exitCode(err))
	}
}

// An output that could not be written (the report, --summary-json) is said however the run
// ended, on the one final line.
func TestSendExit_saysOutputErrors(t *testing.T) {
	out := errors.New("--summary-json: disk full")
	for name, err := range map[string]error{
		"run error": sendExit(nil, errors.New("gave up on the SMSC"), out, report.Summary{}, "", ""),
		"signal":    sendExit(syscall.SIGTERM, nil, out, report.Summary{}, "", ""),
		"finished":  sendExit(nil, nil, out, report.Summary{}, "", ""),
	} {
		if err == nil || !strings.Contains(err.Error(), "disk full") || strings.Contains(err.Error(), "\n") || exitCode(err) == exitOK {
			t.Errorf("%s: %v (exit %d), want the output error on one line and a failing status", name, err, exitCode(err))
		}
	}
	// Without a report, the rows not accepted are counted without pointing to it.
	bad := report.Summary{Rows: 3, Submit: map[report.SubmitStatus]int{report.SubmitNotSent: 2}}
	err := sendExit(nil, nil, fmt.Errorf("%w: disk full", errNoReport), bad, "", "")
	if err == nil || strings.Contains(err.Error(), "the report says why") || !strings.Contains(err.Error(), "2 of 3 rows were not accepted") {
		t.Errorf("no report written: %v", err)
	}
	if err := sendExit(nil, nil, nil, bad, "", ""); err == nil || !strings.Contains(err.Error(), "the report says why for each") {
		t.Errorf("report written: %v", err)
	}
}

// A bad flag is one line on stderr and nothing on stdout, which may be a pipe (plan --out -,
// the simulator's address line), with the exit status of a usage error.
func TestUsageError_OneLineOnStderr(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "--text", "hi", "--to", "+491711234567", "--out", "-", "--rate", "fast"},
		{"sim", "--listen", "127.0.0.1:0", "--bogus"},
		{"send", "--window", "many"},
	} {
		var stdout, stderr strings.Builder
		err := newApp(&stdout, &stderr).Run(append([]string{"smscast"}, args...))
		if code := exitCode(err); code != exitUsage || stdout.Len() != 0 || err == nil ||
			!strings.Contains(err.Error(), "--help") || strings.Contains(err.Error(), "flag -") && !strings.Contains(err.Error(), "flag --") {
			t.Errorf("%v: exit %d, error %v, stdout %q; want 1, one line naming --help, nothing on stdout", args, code, err, stdout.String())
		}
	}
}

// An empty SMSCAST_ variable counts as unset, for every kind of flag; a boolean flag's takes
// yes/no/on/off as the config file does.
func TestDropEmptyEnv(t *testing.T) {
	t.Setenv("SMSCAST_TEXT", "")
	t.Setenv("SMSCAST_RATE", "5")
	t.Setenv("OTHER_EMPTY", "")
	t.Setenv("SMSCAST_QUIET", "Yes") // a boolean flag's: as in --config
	t.Setenv("SMSCAST_FORCE", "off")
	t.Setenv("SMSCAST_FROM", "on") // a sender called "on" stays one
	dropEmptyEnv()
	if os.Getenv("SMSCAST_QUIET") != "true" || os.Getenv("SMSCAST_FORCE") != "false" || os.Getenv("SMSCAST_FROM") != "on" {
		t.Errorf("SMSCAST_QUIET=%q SMSCAST_FORCE=%q SMSCAST_FROM=%q, want true, false and on as given",
			os.Getenv("SMSCAST_QUIET"), os.Getenv("SMSCAST_FORCE"), os.Getenv("SMSCAST_FROM"))
	}
	if _, set := os.LookupEnv("SMSCAST_TEXT"); set {
		t.Error("SMSCAST_TEXT is still set")
	}
	if os.Getenv("SMSCAST_RATE") != "5" {
		t.Error("a variable with a value was dropped")
	}
	if _, set := os.LookupEnv("OTHER_EMPTY"); !set {
		t.Error("a variable that is not smscast's was dropped")
	}
}

// A command that does not exist is called that, exit status 1 (urfave/cli said "No help topic").
func TestUnknownCommand(t *testing.T) {
	err := unknownCommand(newApp(io.Discard, io.Discard).Run([]string{"smscast", "frob"}))
	if err == nil || err.Error() != `unknown command "frob": smscast --help lists the commands` || exitCode(err) != exitUsage {
		t.Errorf("smscast frob: %v (exit %d), want unknown command \"frob\", exit 1", err, exitCode(err))
	}
	if err := unknownCommand(errors.New("other")); err.Error() != "other" {
		t.Errorf("other errors are changed: %v", err)
	}
}

func TestCheckHostPort(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:2775", "[::1]:2775", "smsc.example.com:http"} {
		if err := checkHostPort(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"127.0.0.1:", "127.0.0.1", ":2775", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:nosuchservice"} {
		if err := checkHostPort(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestVersionString: a release names its version; a "dev" build names the module version or
// the commit it was built from, so that a bug report says which code ran.
func TestVersionString(t *testing.T) {
	commit := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "3ba5f08c2d1e4f5a6b7c8d9e0f1a2b3c4d5e6f70"},
		{Key: "vcs.time", Value: "2026-11-30T14:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		version string
		info    *debug.BuildInfo
		want    string
	}{
		{"1.2.0", commit, "1.2.0"},
		{"dev", nil, "dev"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"},
		{"dev", commit, "dev (commit 3ba5f08c2d1e of 2026-11-30T14:00:00Z, with uncommitted changes, go1.26.8)"},
	}
	for _, tt := range tests {
		if got := versionString(tt.version, tt.info); got != tt.want {
			t.Errorf("versionString(%q, %+v) = %q, want %q", tt.version, tt.info, got, tt.want)
		}
	}
}

// A bad flag value, on the command line, in the environment or in a config file, says what
// the flag takes: urfave/cli's own answer is a bare "parse error", or Go's parser's words.
func TestUsageError_badValueSaysWhatItTakes(t *testing.T) {
	cases := []struct {
		args  []string
		env   [2]string // variable, value
		yaml  string    // a config file's content
		takes string
	}{
		{args: []string{"send", "--wait", "1d"}, takes: "give a duration with its unit"},
		{args: []string{"send", "--resp-timeout", "30"}, takes: "give a duration with its unit"},
		{args: []string{"sim", "--receipt-delay", "2"}, takes: "give a duration with its unit"},
		{args: []string{"send", "--window", "many"}, takes: "give a whole number"},
		{args: []string{"send", "--rate", "fast"}, takes: "give a number"},
		{args: []string{"send", "--force=maybe"}, takes: `invalid value "maybe" for flag --force: give true or false`},
		{args: []string{"send"}, env: [2]string{"SMSCAST_WAIT", "1d"}, takes: "give a duration with its unit"},
		{args: []string{"send"}, env: [2]string{"SMSCAST_WINDOW", "many"}, takes: "SMSCAST_WINDOW (for --window): give a whole number"},
		{args: []string{"send"}, env: [2]string{"SMSCAST_TLS", "maybe"}, takes: "give true or false"},
		{args: []string{"send"}, yaml: "rate: fast\n", takes: `rate: invalid value "fast": give a number`},
		{args: []string{"send"}, yaml: "resp-timeout: 5x\n", takes: "give a duration with its unit"},
	}
	for _, tc := range cases {
		args := append([]string{"smscast"}, tc.args...)
		if tc.env[0] != "" {
			t.Setenv(tc.env[0], tc.env[1])
		}
		if tc.yaml != "" {
			cfg := filepath.Join(t.TempDir(), "smscast.yaml")
			if err := os.WriteFile(cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--config", cfg)
		}
		var stdout, stderr strings.Builder
		err := newApp(&stdout, &stderr).Run(args)
		if err == nil || !strings.Contains(err.Error(), tc.takes) || exitCode(err) != exitUsage {
			t.Errorf("%v %v %q: %v, want %q and exit status %d", tc.args, tc.env, tc.yaml, err, tc.takes, exitUsage)
		} else if msg := err.Error(); strings.Contains(msg, "parse error") || strings.Contains(msg, "strconv") || strings.Contains(msg, "time:") {
			t.Errorf("%v %v %q: %q, want none of the parser's own words", tc.args, tc.env, tc.yaml, msg)
		}
		if tc.env[0] != "" {
			os.Unsetenv(tc.env[0])
		}
	}
	var stdout, stderr strings.Builder
	if err := newApp(&stdout, &stderr).Run([]string{"smscast", "send", "--window", "many"}); err == nil || strings.Contains(err.Error(), "duration") {
		t.Errorf("--window many: %v, want no word of durations", err)
	}
}

// A stop signal that comes while the report is written (the run over) stopped nothing: said,
// and the exit status stays the run's.
func TestSayLateSignal(t *testing.T) {
	signals := make(chan os.Signal, 1)
	var stderr strings.Builder
	sayLateSignal(signals, &stderr)
	if stderr.Len() != 0 {
		t.Errorf("no signal: %q, want nothing said", stderr.String())
	}
	signals <- syscall.SIGTERM
	sayLateSignal(signals, &stderr)
	if got := stderr.String(); !strings.Contains(got, "SIGTERM came after the run had ended") {
		t.Errorf("a late SIGTERM: %q, want it said", got)
	}
}

// An unknown flag within a typo of a known one names it; one far from every flag does not
// guess.
func TestUsageError_unknownFlagSuggestsTheNearest(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // "" = no suggestion
	}{
		{[]string{"send", "--rat", "5"}, "(did you mean --rate?)"},
		{[]string{"send", "--sytem-id", "x"}, "(did you mean --system-id?)"},
		{[]string{"send", "--wiat", "1s"}, "(did you mean --wait?)"}, // two letters swapped
		{[]string{"sim", "--lisen", "127.0.0.1:0"}, "(did you mean --listen?)"},
		{[]string{"send", "--x", "1"}, ""},
		{[]string{"send", "--colour", "1"}, ""},
	} {
		var stdout, stderr strings.Builder
		err := newApp(&stdout, &stderr).Run(append([]string{"smscast"}, tt.args...))
		if err == nil || exitCode(err) != exitUsage {
			t.Errorf("%v: %v, want a usage error", tt.args, err)
			continue
		}
		if got := err.Error(); tt.want == "" && strings.Contains(got, "did you mean") || tt.want != "" && !strings.Contains(got, tt.want) {
			t.Errorf("%v: %q, want %q", tt.args, got, tt.want)
		}
	}
}

// receipts stopped by a signal says how to collect the rest, as its other endings do.
func TestReceiptsExit_stoppedWithRowsPending(t *testing.T) {
	book := report.NewBook(report.Options{})
	book.Add(report.Entry{Row: 1, MSISDN: "491711", Parts: 1, Encoding: "gsm7"})
	book.Accepted(1, 0, "id1", time.Now())
	err := receiptsExit(syscall.SIGTERM, nil, nil, book, nil)
	if err == nil || exitCode(err) != 143 || !strings.Contains(err.Error(), "stopped by SIGTERM; 1 accepted row has no final receipt yet; run smscast receipts again") {
		t.Errorf("receipts stopped with a row pending: %v (exit %d), want 143 and how to collect the rest", err, exitCode(err))
	}
}
