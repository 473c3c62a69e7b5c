package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
	"smscast/send"
	"smscast/smpp"
	"smscast/smpp/coding"
)

func init() { register(sendCommand()) }

// Exit statuses of a run stopped by a signal: 128 + the signal number, as shells report it.
const (
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// Flag defaults of send.
const (
	defaultRate    = 10.0
	defaultWindow  = 10
	maxWindow      = 1000
	defaultWait    = time.Minute
	defaultTimeout = 30 * time.Second
)

// connectFlags are the flags that say where the SMSC is and how to bind, shared by send and
// receipts (see connectSettings); the bind mode is each command's own.
func connectFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "smsc", Usage: "the SMSC's `HOST:PORT`"},
		&cli.StringFlag{Name: "system-id", Usage: "bind system_id (`ID`, at most 15 characters)"},
		&cli.StringFlag{Name: "password-file", Usage: "read the bind password from the first line of `FILE`"},
		&cli.StringFlag{Name: "password", Usage: "bind `PASSWORD`; prefer SMSCAST_PASSWORD or --password-file: other users can read a command line"},
		&cli.StringFlag{Name: "system-type", Usage: "bind system_type `TYPE`, if the SMSC wants one"},
		&cli.BoolFlag{Name: "tls", Usage: "connect with TLS"},
		&cli.StringFlag{Name: "tls-ca", Usage: "trust the certificate authorities in this PEM `FILE` instead of the system's (implies --tls)"},
		&cli.StringFlag{Name: "tls-server-name", Usage: "`NAME` the SMSC's certificate must carry (default: the host of --smsc; implies --tls)"},
		&cli.BoolFlag{Name: "tls-insecure", Usage: "do not verify the SMSC's certificate: for test SMSCs only (implies --tls)"},
	}
}

// sendFlags are the flags of send besides the input flags it shares with plan.
func sendFlags() []cli.Flag {
	flags := append(connectFlags(), []cli.Flag{
		&cli.StringFlag{Name: "bind-mode", Value: "trx", Usage: "bind `MODE`: trx (transceiver: receipts come back on the same session), tx+rx (transmitters, and a receiver for the receipts: for SMSCs without transceivers) or tx (transmitter: no receipts are collected)"},
		&cli.IntFlag{Name: "binds", Value: 1, Usage: "`N` sessions share the campaign (carriers often cap throughput per bind)"},
		&cli.BoolFlag{Name: "assume-tlv-support", Usage: "with --split sar or payload, send even when the SMSC's bind response announces no TLV support (no sc_interface_version 0x34)"},
		// Pacing.
		&cli.Float64Flag{Name: "rate", Value: defaultRate, Usage: "submit_sm `PDUS` per second over all binds, every part counted; 0 = unlimited"},
		&cli.IntFlag{Name: "burst", Value: 1, Usage: "`N` PDUs may leave back to back; 1 spaces them evenly, so no second sees more than --rate"},
		&cli.IntFlag{Name: "window", Value: defaultWindow, Usage: fmt.Sprintf("`N` submit_sm awaiting a response per bind (1–%d)", maxWindow)},
		&cli.DurationFlag{Name: "resp-timeout", Value: defaultTimeout, Usage: "wait this `DURATION` for each response (the bind's too); a short one is the most common cause of duplicate SMS"},
		&cli.IntFlag{Name: "max-attempts", Value: 5, Usage: "`N` tries per PDU for transient errors, timeouts and dropped connections (throttling does not count)"},
		&cli.DurationFlag{Name: "give-up-after", Value: 2 * time.Minute, Usage: "stop when the SMSC stays unreachable for this `DURATION`; a PDU throttled (or refused for a bind the SMSC forgot) that long ends its row not_sent"},
		// What is sent.
		&cli.StringFlag{Name: "service-type", Usage: "submit_sm service_type `TYPE` (at most 5 printable ASCII characters, e.g. CMT), if the SMSC wants one to route or bill by"},
		&cli.StringFlag{Name: "schedule", Usage: "deliver at this `TIME` (YYYY-MM-DD HH:MM in --tz, or RFC 3339) or after this duration (90m, 1d; from 32 days on, a duration goes out as the time it ends, counted from each submit)"},
		&cli.StringFlag{Name: "validity", Usage: "give up delivering at this `TIME` or after this duration (e.g. 6h; from 32 days on, a duration goes out as the time it ends, counted from each submit)"},
		&cli.StringFlag{Name: "send-between", Usage: "send only between these `HH:MM-HH:MM` each day in --tz, e.g. 09:00-20:00; sending pauses outside"},
		&cli.StringFlag{Name: "tz", Usage: "time `ZONE` of --send-between and of times without a zone, e.g. Europe/Berlin (default: the machine's)"},
		// Report and receipts.
		&cli.StringFlag{Name: "report", Usage: "write the receipt report to `FILE` (default: beside the recipients file, <name>.report.csv; for standard input, a pipe or --to: smscast-report-<time>.csv in the current directory; with --resume --journal, the report the journal records)"},
		&cli.StringFlag{Name: "report-format", Value: "csv", Usage: "report `FORMAT`: csv or jsonl (a --report ending in .jsonl is jsonl unless this says otherwise)"},
		&cli.BoolFlag{Name: "force", Usage: "replace an existing report and journal: the campaign starts over and every row is sent again (--resume continues it instead)"},
		&cli.StringFlag{Name: "summary-json", Usage: "also write the summary as JSON to `FILE`"},
		&cli.StringFlag{Name: "receipt-id-format", Value: "auto", Usage: "how receipt ids match submit_sm_resp ids (`FORMAT`): auto, hex, dec or exact"},
		&cli.StringFlag{Name: "part-receipts", Value: "all", Usage: "receipts of multipart messages (`MODE`): all (one per part), any (one per message, on any part) or last (ask for one on the last part only)"},
		&cli.DurationFlag{Name: "wait", Value: defaultWait, Usage: "after the last submit, stay bound up to this `DURATION` for receipts, less once every one is in (0 = do not wait)"},
		&cli.StringFlag{Name: "inbox", Usage: "append incoming messages (MO) to this CSV `FILE` (time,from,to,text; a long reply joined into one line, its parts waiting in FILE.parts)"},
		&cli.StringFlag{Name: "optout-keywords", Usage: "`WORDS` (comma-separated, e.g. STOP,UNSUBSCRIBE) that add an incoming message's sender to the --exclude file (a new campaign creates the file if missing)"},
		// Output.
		&cli.DurationFlag{Name: "progress-interval", Value: 10 * time.Second, Usage: "when stderr is not a terminal, print a progress line every `DURATION`"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "progress lines and events (`FORMAT`): text or json"},
		&cli.BoolFlag{Name: "quiet", Usage: "print only errors, warnings and the final summary"},
		&cli.BoolFlag{Name: "dry-run", Usage: "connect to nothing and leave no file behind: read, render and check everything like plan, with these flags, and refuse what a real run would refuse before sending (--smsc may be left out)"},
	}...)
	return append(flags, journalFlags()...)
}

func sendCommand() *cli.Command {
	var passwordOnArgs bool
	flags := append([]cli.Flag{newConfigFlag()}, inputFlags()...)
	flags = append(flags, sendFlags()...)
	return &cli.Command{
		Name:      "send",
		Usage:     "send a campaign over SMPP: paced submit_sm, receipts, a report",
		UsageText: "smscast send --smsc HOST:PORT --system-id ID --recipients FILE (--templates FILE | --text TEXT) [options]",
		Description: "Reads the recipients and templates, sends every valid row under --rate and --window over\n" +
			"--binds sessions, retries what can be retried, collects delivery receipts for --wait and\n" +
			"writes the report (every row with its outcome) and a summary.\n\n" +
			"Every run records the campaign in a journal (--journal, default <report>.journal): after a\n" +
			"crash or kill, rerun the same command with --resume to send only what was not accepted;\n" +
			"smscast receipts collects receipts that arrive after the run.\n\n" +
			"Every flag can also be set with the environment variable shown beside it, or with a key\n" +
			"of the same name in the --config YAML file; the command line wins over the environment,\n" +
			"which wins over the file. The password: SMSCAST_PASSWORD or --password-file.\n\n" +
			"Exit status: 0 every row accepted by the SMSC (rows marked resubmitted were accepted;\n" +
			"duplicates and excluded rows are intended skips); 1 usage or input error, nothing sent;\n" +
			"2 could not connect or bind (or no TLV support for --split sar/payload), nothing sent;\n" +
			"3 finished, but some rows were rejected, invalid, not sent or uncertain, or the report or\n" +
			"--summary-json could not be written; 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM. The\n" +
			"report is written whenever the run got as far as sending.\n" +
			"Undelivered or still pending receipts do not change the exit status.",
		Flags: withEnv(flags),
		Before: func(c *cli.Context) error {
			passwordOnArgs = passwordOnCommandLine(c)
			return applyConfigFile(c)
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("send takes no arguments, got %q; give files with --recipients and --templates", c.Args().First())
			}
			return withLogFormat(c, func() error {
				stderr := c.App.ErrWriter
				s, err := sendSettingsOf(c, passwordOnArgs, func(msg string) { fmt.Fprintln(stderr, msg) })
				if err != nil {
					return withExit(exitUsage, err)
				}
				return sendAction(c, s)
			})
		},
	}
}

// sendAction runs send once its flags are read; tests replace it to look at the settings.
var sendAction = func(c *cli.Context, s sendSettings) error {
	if s.dryRun {
		in := s.input
		if len(s.optoutWords) > 0 {
			if err := report.CheckOptOutFile(in.Exclude); err != nil {
				return withExit(exitUsage, err)
			}
		}
		if _, err := os.Stat(in.Exclude); len(s.optoutWords) > 0 && errors.Is(err, fs.ErrNotExist) {
			// A real run would create it empty; a dry run changes nothing.
			fmt.Fprintf(c.App.ErrWriter, "smscast: --exclude %s does not exist yet: a real run creates it, empty\n", in.Exclude)
			in.Exclude = ""
		}
		// As the run would render them: a resumed campaign of an older build keeps its texts.
		in.TemplateTextAsRead, _ = templateTextAsRead(s.journal)
		return runPlan(c.Context, in, "", 0, s.engine.Rate, c.App.Writer, c.App.ErrWriter)
	}
	signals, stop := stopSignals()
	defer stop()
	return runSend(c.Context, s, c.App.ErrWriter, signals)
}

// stopSignals delivers the signals that stop a campaign the orderly way (a second one
// aborts): SIGINT, SIGTERM, and SIGHUP (the terminal or ssh session went away). It also makes
// a write to a closed pipe fail instead of killing the process, because a campaign's stderr
// is often a pipe (`2>&1 | logger`, `| tee`, a log shipper) whose reader may go away: the
// campaign goes on and its report is written. stop undoes the first part.
func stopSignals() (signals <-chan os.Signal, stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	signal.Ignore(syscall.SIGPIPE)
	return ch, func() { signal.Stop(ch) }
}

// sendSettings is everything the flags of send say.
type sendSettings struct {
	demo         bool // smscast demo: a rerun is a new demo, not --resume
	input        csvin.Config
	engine       send.Config // without Book, OnEvent and OnMO, which runSend adds
	report       string
	format       report.Format
	force        bool
	summaryJSON  string
	book         report.Options
	inbox        string
	optoutWords  []string
	progress     progressOptions
	quiet        bool
	dryRun       bool
	transmitOnly bool // --bind-mode tx: no receipts come back
	journal      journalSettings
	// reportNamedAt is when the default report name was chosen (zero when --report named
	// it): a run starting in the same second may take it first, and then the next is taken.
	reportNamedAt time.Time
	// refOffsetRecorded says the campaign's identity records s.input.RefOffset (see
	// concatRefOffset).
	refOffsetRecorded bool
	// templateTextRecorded says the identity records how template texts render (see
	// templateTextAsRead).
	templateTextRecorded bool
}

// sendSettingsOf reads and checks the flags; every error is a usage error.
func sendSettingsOf(c *cli.Context, passwordOnArgs bool, warn func(string)) (sendSettings, error) {
	var s sendSettings
	var err error
	if s.input, err = inputConfig(c); err != nil {
		return s, err
	}
	s.dryRun = c.Bool("dry-run")
	s.engine.Rate = c.Float64("rate")
	if s.engine.Rate < 0 {
		return s, fmt.Errorf("--rate %v: give PDUs per second, or 0 for unlimited", s.engine.Rate)
	}
	if err := moSettings(c, &s); err != nil {
		return s, err
	}

	// --dry-run checks every setting a real run would (it is how a config file is checked)
	// but connects to nothing and writes nothing, so it needs no SMSC address.
	e := &s.engine
	if err := connectSettings(c, passwordOnArgs, warn, e, s.dryRun); err != nil {
		return s, err
	}
	e.PackedGSM7 = s.input.Coding.Packed // an SMSC that wants packed septets delivers replies packed
	e.UsesTLVs = s.input.Coding.Split == coding.SplitSAR || s.input.Coding.Split == coding.SplitPayload
	e.AssumeTLVSupport = c.Bool("assume-tlv-support")
	switch mode := strings.ToLower(c.String("bind-mode")); mode {
	case "trx":
		e.Session.Bind.Mode = smpp.BindTransceiver
	case "tx":
		e.Session.Bind.Mode = smpp.BindTransmitter
		s.transmitOnly = true
		if c.String("inbox") != "" || c.String("optout-keywords") != "" {
			if !s.dryRun {
				warn("warning: a transmitter bind (--bind-mode tx) gets no replies: --inbox and --optout-keywords take effect in smscast receipts, which collects them later")
			}
		}
	case "tx+rx":
		e.Session.Bind.Mode = smpp.BindTransmitter
		e.Receiver = true
	default:
		return s, fmt.Errorf("--bind-mode %q: use trx (receipts on the same session), tx+rx (a receiver for them beside the transmitters) or tx (no receipts)", mode)
	}

	ints := []struct {
		name     string
		min, max int
		dst      *int
	}{
		{"binds", 1, 100, &e.Binds},
		{"burst", 1, 1 << 20, &e.Burst},
		{"window", 1, maxWindow, &e.Session.Window},
		{"max-attempts", 1, 100, &e.MaxAttempts},
	}
	for _, f := range ints {
		v := c.Int(f.name)
		if v < f.min || v > f.max {
			return s, fmt.Errorf("--%s %d: must be %d … %d", f.name, v, f.min, f.max)
		}
		*f.dst = v
	}
	if err := durationSettings(c, &s); err != nil {
		return s, err
	}

	loc := time.Local
	if tz := c.String("tz"); tz != "" {
		if loc, err = time.LoadLocation(tz); err != nil {
			return s, fmt.Errorf("--tz %q: %w; use a zone name such as Europe/Berlin or UTC", tz, err)
		}
	}
	now := time.Now()
	notBefore := now
	if c.Bool("resume") {
		// A resumed campaign keeps the instants it was sent with, passed or not: they are part
		// of its identity. The engine then sends without a schedule that has passed and
		// leaves rows whose validity has ended not_sent.
		notBefore = time.Time{}
	}
	if e.Schedule, err = send.ParseTimeSpec(c.String("schedule"), loc, notBefore); err != nil {
		return s, fmt.Errorf("--schedule %w", err)
	}
	if e.Validity, err = send.ParseTimeSpec(c.String("validity"), loc, notBefore); err != nil {
		return s, fmt.Errorf("--validity %w", err)
	}
	if !c.Bool("resume") {
		if err := send.CheckValidity(e.Schedule, e.Validity, now); err != nil {
			return s, err
		}
	}
	e.ServiceType = c.String("service-type")
	if err := send.CheckServiceType(e.ServiceType); err != nil {
		return s, err
	}
	if between := c.String("send-between"); between != "" {
		if e.Hours, err = send.ParseHours(between, loc); err != nil {
			return s, fmt.Errorf("--%w", err)
		}
	}

	if s.book.IDFormat, err = smpp.ParseIDFormat(c.String("receipt-id-format")); err != nil {
		return s, fmt.Errorf("--receipt-id-format: %w", err)
	}
	if s.book.PartReceipts, err = report.ParsePartReceipts(c.String("part-receipts")); err != nil {
		return s, err
	}
	e.PartReceipts = s.book.PartReceipts
	if s.format, err = report.ParseFormat(c.String("report-format")); err != nil {
		return s, err
	}
	s.force = c.Bool("force")
	s.report = c.String("report")
	if s.report == "" {
		s.report = defaultReportPath(s.input, s.format, now)
		s.reportNamedAt = now
	} else if !c.IsSet("report-format") && strings.EqualFold(filepath.Ext(s.report), ".jsonl") {
		// As smscast receipts reads it: a .jsonl report is JSON Lines unless told otherwise,
		// so that the file does not change format when receipts rewrites it.
		s.format = report.FormatJSONL
	}
	// The journal first: a rerun after a stop finds both files, and the journal's error says
	// to --resume; the report's would only offer --force, which sends every row again.
	if s.journal, err = journalSettingsOf(c, s.report, s.input, !s.transmitOnly); err != nil {
		if exists := (*journalExistsError)(nil); errors.As(err, &exists) {
			err = exists.explain(s)
		}
		return s, err
	}
	if s.journal.resume && c.String("report") == "" && c.String("journal") != "" {
		// A campaign resumed by its journal alone rewrites the report its journal records,
		// as smscast receipts does, rather than one under the default name.
		named := s.report
		if s.report, err = reportByJournal(s.journal.path, idleJournalFacts(s.journal.path), func() (string, error) { return named, nil }); err != nil {
			return s, err
		}
		if s.report != named {
			s.reportNamedAt = time.Time{}
			if !c.IsSet("report-format") {
				s.format = reportFormatOf(s.report)
			}
		}
	}
	// --resume rewrites the campaign's own report.
	if err := checkReportPath(s.report, s.force || c.Bool("resume"), s.input); err != nil {
		return s, err
	}
	s.force = s.force || s.journal.resume
	s.summaryJSON = c.String("summary-json")
	if err := checkSummaryPath(s.summaryJSON); err != nil {
		return s, err
	}
	if err := checkOutputFiles(c, &s); err != nil {
		return s, err
	}
	return s, outputSettings(c, &s)
}

// moSettings reads --inbox and --optout-keywords, which send and receipts share.
func moSettings(c *cli.Context, s *sendSettings) error {
	s.inbox = c.String("inbox")
	if words := c.String("optout-keywords"); words != "" {
		if s.input.Exclude == "" {
			return errors.New("--optout-keywords needs --exclude FILE: the opt-out senders are appended to it")
		}
		var err error
		if s.optoutWords, err = report.ParseKeywords(words); err != nil {
			return fmt.Errorf("--optout-keywords: %w", err)
		}
	}
	return nil
}

// durationSettings reads the durations send and receipts share: timeouts, --wait and the
// progress interval.
func durationSettings(c *cli.Context, s *sendSettings) error {
	e := &s.engine
	durations := []struct {
		name     string
		positive bool
		dst      *time.Duration
	}{
		{"resp-timeout", true, &e.Session.RespTimeout},
		{"give-up-after", true, &e.GiveUpAfter},
		{"wait", false, &e.Wait},
		{"progress-interval", true, &s.progress.Interval},
	}
	for _, f := range durations {
		v := c.Duration(f.name)
		if v < 0 || (f.positive && v == 0) {
			return fmt.Errorf("--%s %v: must be a positive duration such as 30s", f.name, v)
		}
		*f.dst = v
	}
	e.Session.BindTimeout = e.Session.RespTimeout
	return nil
}

// outputSettings reads --quiet and --log-format.
func outputSettings(c *cli.Context, s *sendSettings) error {
	s.quiet = c.Bool("quiet")
	switch f := strings.ToLower(c.String("log-format")); f {
	case "text":
	case "json":
		s.progress.JSON = true
	default:
		return fmt.Errorf("--log-format %q: use text or json", f)
	}
	return nil
}

// connectSettings reads the flags of connectFlags into e: the SMSC's address, the bind
// credentials (the bind mode is left to the command) and TLS. A dry run needs no address, but
// what is given is checked.
func connectSettings(c *cli.Context, passwordOnArgs bool, warn func(string), e *send.Config, dryRun bool) error {
	e.Addr = c.String("smsc")
	switch {
	case e.Addr == "" && !dryRun:
		return errors.New("no SMSC: give --smsc host:port (or SMSCAST_SMSC)")
	case e.Addr != "":
		if err := checkHostPort(e.Addr); err != nil {
			return fmt.Errorf("--smsc %q: %w", e.Addr, err)
		}
	}
	password, err := readPassword(c, passwordOnArgs, warn)
	if err != nil {
		return err
	}
	e.Session.Bind = smpp.Bind{SystemID: c.String("system-id"), Password: password, SystemType: c.String("system-type")}
	if _, err := smpp.AppendPDU(nil, 1, smpp.StatusOK, &e.Session.Bind); err != nil {
		// Too long for the bind PDU: no SMSC will ever take it, so it is a usage error, not
		// a network fault to retry. The message never holds the password.
		return fmt.Errorf("the bind cannot be sent: %w", err)
	}
	if c.Bool("tls") || c.String("tls-ca") != "" || c.String("tls-server-name") != "" || c.Bool("tls-insecure") {
		if e.Session.TLS, err = smpp.TLSConfig(c.String("tls-ca"), c.String("tls-server-name"), c.Bool("tls-insecure")); err != nil {
			return fmt.Errorf("--tls: %w", err)
		}
	}
	if c.Bool("tls-insecure") && !loopback(e.Addr) {
		// Left over from a rehearsal in a config file or the environment, it would send a
		// real campaign, and its password, to whoever answers.
		warn("warning: --tls-insecure: the SMSC's certificate is not verified, so anyone on the way can pose as it; give --tls-ca instead")
	}
	return nil
}

// loopback reports whether the host of addr (host:port) is this machine: a simulator.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return strings.EqualFold(host, "localhost")
}

// checkHostPort refuses an address that names no host or no port: "127.0.0.1:" would dial
// port 0, and a missing port is a typo no retry will mend.
func checkHostPort(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w; write host:port, such as smsc.example.com:2775 or [2001:db8::1]:2775", err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		n, err = net.LookupPort("tcp", port) // a service name, from /etc/services
	}
	if host == "" || err != nil || n < 1 || n > 65535 {
		return errors.New("want a host and a port from 1 to 65535, such as smsc.example.com:2775")
	}
	return nil
}

// defaultReportPath is where the report goes without --report: beside the recipients file,
// named after it, or in the current directory with the start time for standard input, a pipe
// (whose directory, such as /dev/fd, takes no files) and --to.
// The start time has 1-second resolution, so a run in the same second as an earlier one takes
// the first free name of …-2, …-3, …: neither the report nor its default journal exists yet.
func defaultReportPath(in csvin.Config, f report.Format, now time.Time) string {
	ext := "." + f.String()
	if !readOnce(in.Recipients) && len(in.To) == 0 {
		base := strings.TrimSuffix(in.Recipients, filepath.Ext(in.Recipients))
		return base + ".report" + ext
	}
	base := "smscast-report-" + now.Format("20060102-150405")
	path := base + ext
	for n := 2; n <= maxReportSuffix && (exists(path) || exists(path+".journal") || exists(report.UnmatchedPath(path))); n++ {
		path = fmt.Sprintf("%s-%d%s", base, n, ext)
	}
	return path // after maxReportSuffix taken names, checkReportPath says it exists
}

// maxReportSuffix bounds the search for a free default report name.
const maxReportSuffix = 1000

// exists reports whether something is at path (a file we could not stat counts as taken).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// checkReportPath refuses, before anything is sent, a report that could not be written at the
// end: an existing one (or its unmatched receipts) without --force, a missing or read-only
// directory, or an input file.
func checkReportPath(path string, force bool, in csvin.Config) error {
	if report.Special(path) {
		// /dev/null, /dev/stdout: the journal and the unmatched receipts would go beside it,
		// and a resume could find no report there.
		return fmt.Errorf("--report %s is not a regular file: the report is the campaign's record, kept with its journal beside it; give a file name", path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("--report %s: directory %s does not exist", path, filepath.Dir(path))
	}
	if err := writableDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("--report %s: %w; give a directory where this user can write", path, err)
	}
	if u := report.UnmatchedPath(path); !force && exists(u) {
		// Left by an earlier report of that name: writing beside it at the end would look
		// like another run's doing.
		return fmt.Errorf("%s exists, the unmatched receipts of an earlier report %s; use --force to replace it, or choose another --report", u, path)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil // a new file
	}
	for _, p := range []string{in.Recipients, in.Templates, in.Exclude} {
		if p == "" || p == "-" {
			continue
		}
		if pi, err := os.Stat(p); err == nil && os.SameFile(pi, info) {
			return fmt.Errorf("--report %s is an input file; write the report elsewhere", path)
		}
	}
	if !force {
		return fmt.Errorf("report %s exists; use --force to replace it, or choose another --report", path)
	}
	return nil
}

// writeBeside writes book's report to the first free name beside path ("out-2.csv",
// "out-3.csv", ...), recorded by recorder (see campaignJournal.recorder), and returns it.
func writeBeside(book *report.Book, path string, f report.Format, recorder func(string) func(fs.FileInfo)) (string, error) {
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	for n := 2; n <= maxReportSuffix; n++ {
		alt := fmt.Sprintf("%s-%d%s", base, n, ext)
		err := book.WriteReportThen(alt, f, false, recorder(alt))
		if !errors.Is(err, fs.ErrExist) {
			return alt, err
		}
	}
	return "", fmt.Errorf("no free name beside %s", path)
}

// changedSince reports whether a file is at path now that is not the file start described
// (nil: there was none): another file, or the same one written since.
func changedSince(path string, start fs.FileInfo) bool {
	now, err := os.Stat(path)
	switch {
	case err != nil:
		return false // nothing there (or unreadable: writing says why)
	case start == nil:
		return true
	}
	return !os.SameFile(start, now) || now.Size() != start.Size() || !now.ModTime().Equal(start.ModTime())
}

// checkSummaryPath refuses, before anything is sent, a --summary-json that could not be
// written at the end (a missing directory, a directory in its place); "" is none. A script
// reads the summary next: finding it missing after a run that said it succeeded is worse.
func checkSummaryPath(path string) error {
	if path == "" {
		return nil
	}
	if report.Special(path) {
		return nil // /dev/stdout, a FIFO: written into, not replaced (report.WriteAtomic)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("--summary-json %s: directory %s does not exist", path, filepath.Dir(path))
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("--summary-json %s is a directory; give a file name", path)
	}
	if err := writableDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("--summary-json %s: %w; give a directory where this user can write", path, err)
	}
	return nil
}

// checkOutputFiles refuses, before anything is read or sent, a file smscast would write (the
// report and its unmatched receipts, the journal, --summary-json, --inbox, and --exclude with
// --optout-keywords) in a directory that does not exist or this user cannot write, or that is
// one of the campaign's inputs or another of those outputs: a summary written over the
// templates or the journal, or replies appended to the recipients, would destroy the
// campaign's own files.
func checkOutputFiles(c *cli.Context, s *sendSettings) error {
	for _, f := range []struct{ flag, path string }{{"--inbox", s.inbox}, {"--journal", s.journal.path}} {
		if err := checkOutputDir(f.flag, f.path); err != nil {
			return err
		}
	}
	if len(s.optoutWords) > 0 {
		if err := checkOutputDir("--exclude", s.input.Exclude); err != nil {
			return fmt.Errorf("%w (--optout-keywords appends to it)", err)
		}
	}
	type file struct{ what, path string }
	var outputs []file
	add := func(what, path string) {
		if path != "" && path != "-" && !report.Special(path) {
			outputs = append(outputs, file{what, path})
		}
	}
	add("--report", s.report)
	if s.report != "" {
		add("the report's unmatched receipts", report.UnmatchedPath(s.report))
	}
	add("--journal", s.journal.path)
	add("--summary-json", s.summaryJSON)
	add("--inbox", s.inbox)
	inputs := []file{
		{"--recipients", s.input.Recipients}, {"--templates", s.input.Templates}, {"--exclude", s.input.Exclude},
		{"--config", c.String("config")}, {"--password-file", c.String("password-file")},
	}
	for i, out := range outputs {
		for _, in := range inputs {
			if in.path != "" && in.path != "-" && sameFile(out.path, in.path) {
				return fmt.Errorf("%s %s is the %s file: give %s a file of its own", out.what, out.path, in.what, out.what)
			}
		}
		for _, other := range outputs[:i] {
			if sameFile(out.path, other.path) {
				return fmt.Errorf("%s %s is also %s: give each its own file", out.what, out.path, other.what)
			}
		}
	}
	return nil
}

// checkOutputDir refuses a file named by flag that cannot be created in its directory: a
// missing or read-only one. "" and special files (/dev/stdout) pass.
func checkOutputDir(flag, path string) error {
	if path == "" || path == "-" || report.Special(path) {
		return nil
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("%s %s: directory %s does not exist", flag, path, dir)
	} else if !st.IsDir() {
		return fmt.Errorf("%s %s: %s is not a directory", flag, path, dir)
	}
	if err := writableDir(dir); err != nil {
		return fmt.Errorf("%s %s: %w; give a directory where this user can write", flag, path, err)
	}
	return nil
}

// invalidRowsSaid is the Source of a campaign that says, as plan does, why its first invalid
// rows are not sent (file, line and column), so that a cron log shows it without the report;
// the others are counted, and said once the input ends.
type invalidRowsSaid struct {
	src   send.Source
	event func(send.Event)
	shown int
	more  int
}

func (v *invalidRowsSaid) Next() (csvin.Row, error) {
	row, err := v.src.Next()
	switch {
	case err == nil && row.Err != nil && v.shown < planShownErrors:
		v.shown++
		v.event(send.Event{Kind: send.EventWarning, Time: time.Now(), Row: row.Num, Err: fmt.Errorf("not sent: %w", row.Err)})
	case err == nil && row.Err != nil:
		v.more++
	case errors.Is(err, io.EOF) && v.more > 0:
		v.event(send.Event{Kind: send.EventWarning, Time: time.Now(),
			Err: fmt.Errorf("%d more invalid rows, not sent: the report lists each with its reason", v.more)})
		v.more = 0
	}
	return row, err
}

// writableDir reports why no file can be created in dir (read-only, no permission), by
// creating one and removing it: the report is written there after the whole campaign, when
// finding out would be too late. (Mode bits do not tell: root writes anyway, a read-only
// mount refuses everyone.)
func writableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".smscast-check-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot create a file in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// runSend runs the campaign s describes, with signals telling it to stop (first) or abort
// (second), writes the report and the summary, and returns the error that gives the exit
// status.
func runSend(ctx context.Context, s sendSettings, stderr io.Writer, signals <-chan os.Signal) error {
	start := time.Now()
	if len(s.optoutWords) > 0 && !s.journal.resume && !s.journal.collect && !readOnce(s.input.Exclude) {
		// The exclude file collects the opt-outs: the first campaign asking for them starts
		// it. A resumed campaign must find its list as it was: a lost one is an error there.
		switch f, err := os.OpenFile(s.input.Exclude, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666); {
		case err == nil:
			f.Close()
			fmt.Fprintf(stderr, "smscast: created the empty exclude file %s: opt-outs are added to it\n", s.input.Exclude)
		case !errors.Is(err, fs.ErrExist):
			return withExit(exitUsage, fmt.Errorf("--exclude: %w", err))
		}
	}
	s.input.RefOffset, s.refOffsetRecorded = concatRefOffset(s.journal)
	s.input.TemplateTextAsRead, s.templateTextRecorded = templateTextAsRead(s.journal)
	rd, err := csvin.Open(s.input)
	if err != nil {
		return withExit(exitUsage, err)
	}
	defer rd.Close()

	book := report.NewBook(s.book)
	cfg := s.engine
	cfg.Book = book
	if s.transmitOnly {
		cfg.Wait = 0 // a transmitter bind gets no receipts to wait for
	}
	mo, closeMO, err := openMO(s.inbox, s.input.Exclude, s.input.DefaultRegion, s.optoutWords, stderr)
	if err != nil {
		return withExit(exitUsage, err)
	}
	defer closeMO()
	cfg.OnMO = mo
	cj, err := openCampaignJournal(&s, book, stderr)
	if err != nil {
		return err // with its exit status
	}
	defer cj.close()
	if s.journal.resume || s.journal.collect {
		// The report is rewritten: its unmatched receipts so far stay in it.
		upath := report.UnmatchedPath(s.report)
		earlier, err := report.ReadUnmatched(upath)
		if err != nil {
			return withExit(exitUsage, fmt.Errorf("the earlier unmatched receipts: %w; repair %s or move it aside (its receipts would be lost when the report is rewritten)", err, upath))
		}
		book.KeepUnmatched(earlier)
	}
	cj.configure(&cfg)

	var camp *send.Campaign
	mode := progressLines
	switch {
	case s.quiet:
		mode = progressQuiet
	case !s.progress.JSON && isTerminal(stderr):
		mode = progressBar
	}
	opt := s.progress
	opt.Mode = mode
	opt.Collect = s.journal.collect
	prog := newProgress(stderr, opt, func() send.Snapshot { return camp.Snapshot() })
	cfg.OnEvent = cj.watch(prog.Event)
	cfg.Total = countRows(s.input)
	if camp, err = send.New(cfg); err != nil {
		return withExit(exitUsage, err)
	}

	runCtx, abort := context.WithCancel(ctx)
	defer abort()
	var sigMu sync.Mutex
	var stoppedBy os.Signal
	done := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		for {
			select {
			case sig := <-signals:
				sigMu.Lock()
				first := stoppedBy == nil
				if first {
					stoppedBy = sig
				}
				sigMu.Unlock()
				if first {
					if s.journal.collect || !camp.Sending() { // no response is awaited
						fmt.Fprintf(stderr, "%s: stopping; the report is written with the receipts collected so far (a second signal aborts)\n", sig)
					} else {
						fmt.Fprintf(stderr, "%s: stopping; waiting for responses in flight (a second signal aborts)\n", sig)
					}
					camp.Stop()
				} else {
					fmt.Fprintf(stderr, "%s: aborting\n", sig)
					abort()
				}
			case <-done:
				return
			}
		}
	}()

	// A resumed or receipts run replaces the campaign's report, which it checked when it
	// started; what is there at the end must still be that file (or nothing).
	rewrites := s.journal.resume || s.journal.collect
	var reportAtStart fs.FileInfo
	if rewrites {
		reportAtStart, _ = os.Stat(s.report)
	}
	var src send.Source = rd
	if !s.journal.resume && !s.journal.collect { // a rerun's rows were said by the first run
		src = &invalidRowsSaid{src: rd, event: cfg.OnEvent}
	}
	prog.Start()
	res, runErr := camp.Run(runCtx, src)
	prog.Close()
	close(done)
	watcher.Wait()
	end := time.Now()
	cj.finish(res.Sent, res.Expired)

	var connErr *send.ConnectError
	var tlvErr *send.TLVSupportError
	connectFailed := send.SettingRefused(runErr) || (errors.As(runErr, &tlvErr) || errors.As(runErr, &connErr)) && !res.Sent
	// A resume that could not connect still writes the report, from the journal: after a
	// crash there is none, and the campaign should not be left without one.
	resumeOnly := s.journal.resume && !s.journal.collect
	switch {
	case connectFailed && !resumeOnly:
		return withExit(exitConnect, runErr)
	case errors.Is(runErr, send.ErrInput) && !res.Sent:
		return withExit(exitUsage, runErr)
	}

	// The summary (sorting every row's latencies) is worked out on the other core while the
	// report is written: both only read the Book now. (After an abort a straggling receipt
	// may still be recorded; the summary and the report may then differ by it, as they could
	// before.)
	sums := make(chan report.Summary, 1)
	go func() { sums <- book.Summary(start, end) }()
	// A file another run wrote there meanwhile (a long --wait) is left alone, as is one
	// created there when nothing was to be replaced.
	replace := s.force && !(rewrites && changedSince(s.report, reportAtStart))
	reportErr := book.WriteReportThen(s.report, s.format, replace, cj.recorder(s.report))
	movedFrom, movedTo := "", "" // the --report another run took meanwhile, and where this one went
	if errors.Is(reportErr, fs.ErrExist) {
		// Another run created it after the check (--journal off, or another journal): the
		// report goes beside it rather than nowhere, with the message ids it alone holds.
		if alt, err := writeBeside(book, s.report, s.format, cj.recorder); err == nil {
			reportErr, movedFrom, movedTo, s.report = nil, s.report, alt, alt
		}
	}
	cj.close() // the report is recorded: another run may have the journal now
	if reportErr == nil {
		fmt.Fprintf(stderr, "report written to %s\n", s.report)
	} else {
		cj.unrecorded = "" // no new report went out: the journal's record still holds
	}
	sum := <-sums
	if res.ReceiverDown != nil {
		sum.ReceiverDown = receiverAdvice(res.ReceiverDown)
	}
	for _, down := range res.BindsDown {
		sum.BindsDown = append(sum.BindsDown, fmt.Sprintf("bind %d: %v", down.Bind, down.Err))
	}
	sum.Throttled = res.Throttled
	// stderr may be a pipe whose reader went away: the report and --summary-json stand.
	_ = sum.WriteText(stderr)
	// Said once, at the end, with the exit status.
	outputErr := error(nil)
	switch {
	case reportErr != nil:
		outputErr = fmt.Errorf("%w: %w", errNoReport, reportErr)
		if s.journal.path != "" && !s.journal.pipe && (res.Sent || s.journal.resume) {
			// The journal holds every outcome: the report can be had without sending again.
			outputErr = fmt.Errorf("%w; once that is fixed (free space, a writable directory), smscast receipts --journal %s --wait 0 writes it "+
				"from the journal without sending anything (add --report FILE to write it elsewhere)", outputErr, shellQuote(s.journal.path))
		}
	case movedFrom != "":
		give := "--report " + shellQuote(s.report)
		if s.journal.path != "" {
			give += " --journal " + shellQuote(s.journal.path) // it stayed where it was
		}
		outputErr = fmt.Errorf("the report is %s, not %s, which another run wrote while this campaign ran; "+
			"give %s to whatever finishes this campaign", s.report, movedFrom, give)
	}
	if s.summaryJSON != "" {
		if err := sum.WriteJSON(s.summaryJSON); err != nil {
			outputErr = joinErrs(outputErr, fmt.Errorf("--summary-json: %w", err))
		}
	}

	sayLateSignal(signals, stderr)
	sigMu.Lock()
	sig := stoppedBy
	sigMu.Unlock()
	optedOut, keptUncertain := 0, 0 // uncertain rows no resume sends: their numbers opted out since
	if cj.resume != nil {
		optedOut = cj.resume.OptedOut
		if s.journal.keepUncertain {
			keptUncertain = cj.resume.Uncertain - cj.resume.OptedOut
		}
	}
	if s.journal.collect {
		if left := sum.Submit[report.SubmitNotSent] + sum.Submit[report.SubmitUncertain] - optedOut; left > 0 && sig == nil {
			// Not receipts' business, but a cron job that collects receipts must not take the
			// campaign for finished.
			fmt.Fprintf(stderr, "smscast: %d rows of this campaign were not sent or are uncertain: run its send command again "+
				"with --resume to send them (not --force, which starts over)\n", left)
		}
		return receiptsExit(sig, runErr, outputErr, book, cj)
	}
	if connectFailed {
		note := "run the same command again with --resume once the SMSC can be reached and takes the bind"
		if send.SettingRefused(runErr) {
			note = "fix that setting, then run the command again with --resume"
		}
		if outputErr == nil {
			note = "the report shows the campaign as its journal has it: " + note
		}
		return withExit(exitConnect, joinErrs(fmt.Errorf("%w; %s", runErr, note), outputErr))
	}
	pending := ""
	if !s.demo { // a demo is run again, not collected
		pending = pendingNote(sum.Receipts[report.ReceiptPending], s.journal.path, s.report, s.journal.spoolFlag, s.summaryJSON, s.journal.pipe)
	}
	// A first run that sent nothing removed its journal (cj.finish): nothing to resume.
	nothingSent := !res.Sent && !s.journal.resume
	unjournaled := 0
	if sum.Submit[report.SubmitNotSent]+sum.Submit[report.SubmitUncertain] > 0 && s.journal.path != "" && !s.journal.pipe && !s.demo && !nothingSent {
		// Rows whose acceptance the journal does not hold (a write that failed: a full
		// disk) go out again with the resume: the advice says how many.
		unjournaled = resentAccepted(book, s.journal.path)
	}
	resume := resumeNote(sum, resumeFacts{journalPath: s.journal.path, pipe: s.journal.pipe,
		nothingSent: nothingSent, demo: s.demo, unjournaled: unjournaled, optedOut: optedOut, keptUncertain: keptUncertain,
		throttled: res.Throttled, movedTo: movedTo, expired: res.Expired, scheduled: s.engine.Schedule.After > 0})
	if cj.unrecorded != "" {
		// The commands below would refuse that report as one the campaign cannot vouch for.
		first := fmt.Sprintf("remove %s first (the journal could not record it; it rebuilds it), then ", shellQuote(cj.unrecorded))
		if resume != "" {
			resume = first + resume
		}
		if pending != "" {
			pending = first + pending
		}
	}
	exitErr := sendExit(sig, runErr, outputErr, sum, pending, resume)
	if exitErr == nil && pending != "" {
		fmt.Fprintf(stderr, "smscast: %s\n", pending)
	}
	return exitErr
}

// errNoReport marks the failure to write the report in the final message.
var errNoReport = errors.New("the report could not be written")

// receiverAdvice is why the receiver session never bound (its last refusal) and what to do
// about it, for the summary.
func receiverAdvice(refusal error) string {
	var st smpp.Status
	switch {
	case errors.As(refusal, &st) && st == smpp.StatusAlyBnd:
		return refusal.Error() + "; the account may allow no more sessions than --binds: " +
			"lower --binds to leave one for the receiver, or use --bind-mode trx; the receipts wait at the SMSC for smscast receipts"
	case errors.As(refusal, &st) && st.Class() == smpp.ClassBind:
		return refusal.Error() + "; the transmitters were let in: ask the carrier whether the account may bind as a receiver; " +
			"the receipts wait at the SMSC for smscast receipts"
	}
	return refusal.Error()
}

// pendingNote says how to collect the receipts of the pending rows later ("" when none is
// pending): with the campaign's journal, `smscast receipts` finishes the report.
func pendingNote(pending int, journalPath, reportPath, spool, summaryJSON string, pipe bool) string {
	if pending == 0 {
		return ""
	}
	note := fmt.Sprintf("%d sent rows are still PENDING (no final receipt yet)", pending)
	if pending == 1 {
		note = "1 sent row is still PENDING (no final receipt yet)"
	}
	switch {
	case journalPath == "":
		return note + "; no journal was kept (--journal off), so smscast receipts cannot collect them later"
	case pipe:
		return note + "; the recipients came from standard input or a pipe, which smscast receipts cannot read again to rebuild the report, " +
			"so it cannot collect them later: give such a campaign a longer --wait, or its recipients in a file"
	}
	command := "smscast receipts --journal " + shellQuote(journalPath)
	if reportPath != strings.TrimSuffix(journalPath, ".journal") || !strings.HasSuffix(journalPath, ".journal") {
		// receipts puts the report beside the journal unless told: this one is elsewhere.
		command += " --report " + shellQuote(reportPath)
	}
	if spool != "" {
		command += " --spool " + shellQuote(spool) // every command of a campaign takes the same
	}
	if summaryJSON != "" {
		command += " --summary-json " + shellQuote(summaryJSON) // else it keeps saying PENDING
	}
	return note + "; collect their receipts later with: " + command +
		" (with the same --smsc, --system-id and password; add --inbox and --optout-keywords to keep replies and opt-outs)"
}

// resumeFacts is what resumeNote needs to know about the run besides its summary.
type resumeFacts struct {
	journalPath             string // "" with --journal off
	pipe, nothingSent, demo bool   // recipients from a pipe; a first run that sent nothing; smscast demo
	// expired counts the not_sent rows whose validity had ended (or, with scheduled, a
	// --schedule duration, would have before their delivery), which no resume sends.
	expired   int
	scheduled bool
	// unjournaled counts the accepted rows whose acceptance the journal could not record,
	// which the resume sends again; optedOut the uncertain rows it will not send, as their
	// numbers opted out after an earlier run may have sent them.
	unjournaled, optedOut int
	// keptUncertain counts the rows --no-resend-uncertain left uncertain (its other rows
	// opted out are in optedOut): the same command leaves them again.
	keptUncertain int
	throttled     int64 // ESME_RTHROTTLED and ESME_RMSGQFUL answers in this run
	// movedTo is the report's path when another run took the --report given: the resume
	// must name it.
	movedTo string
}

// resumeNote says how to finish a campaign that left rows not sent or uncertain ("" when it
// left none): run it again with --resume, never --force, which would send every row again.
func resumeNote(sum report.Summary, f resumeFacts) string {
	left := sum.Submit[report.SubmitNotSent] + sum.Submit[report.SubmitUncertain] - f.optedOut - f.expired
	journalPath, pipe, nothingSent, demo := f.journalPath, f.pipe, f.nothingSent, f.demo
	expired := ""
	if f.expired > 0 {
		why := "had ended"
		if f.scheduled {
			why += ", or would have before their --schedule delivery"
		}
		expired = fmt.Sprintf("%s not sent (or not sent again, or not finished) because their validity (--validity) %s: no run sends them",
			rowsWere(f.expired), why)
	}
	switch {
	case left == 0 && nothingSent && !pipe && !demo && (sum.Submit[report.SubmitInvalid] > 0 || f.expired > 0):
		// Every row to send was invalid, or its validity ended (in a pause): the rerun after
		// the fix finds this run's report.
		var fix []string
		if sum.Submit[report.SubmitInvalid] > 0 {
			fix = append(fix, "fix the invalid rows")
		}
		if f.expired > 0 {
			later, why := "give a --validity that ends later", "it ended before they could go out"
			if f.scheduled {
				later, why = later+" or a shorter --schedule", "it would have ended before their delivery"
			}
			fix = append(fix, fmt.Sprintf("%s (%s not sent: %s)", later, rowsWere(f.expired), why))
		}
		return "nothing was sent: " + strings.Join(fix, " and ") + ", then run the same command again with --force (it replaces this run's report)"
	case left == 0:
		return expired
	case demo:
		return fmt.Sprintf("the demo left %d rows not sent or uncertain; run smscast demo again for a new one (with --force if you gave --dir)", left)
	case nothingSent && !pipe:
		return fmt.Sprintf("nothing was sent, so nothing is to resume: to send the %d rows, run the same command again with --force (it replaces this run's report)", left)
	case pipe:
		return fmt.Sprintf("%d rows were not sent or are uncertain; the recipients came from standard input or a pipe, "+
			"which cannot be read again, so --resume cannot finish this campaign: the report says which rows they are, "+
			"send them as a new campaign with another --report", left)
	case journalPath == "":
		return fmt.Sprintf("%d rows were not sent or are uncertain, and no journal was kept (--journal off): "+
			"a rerun cannot tell which rows went out", left)
	}
	with := "--resume"
	if f.movedTo != "" {
		// The same command's --report is another run's now: resuming with it would
		// replace that run's report. The journal stays where it was.
		with += " --report " + shellQuote(f.movedTo) + " --journal " + shellQuote(journalPath)
	}
	note := fmt.Sprintf("to send the %s not sent or uncertain, run the same command again with %s "+
		"(not --force, which starts over and sends every row again)", report.Plural(left, "row"), with)
	if f.keptUncertain > 0 {
		// The same command would leave them uncertain again, for ever.
		note += fmt.Sprintf(", without --no-resend-uncertain for the %s it left uncertain (sent again, they are marked resubmitted: the SMSC may have them)",
			report.Plural(f.keptUncertain, "row"))
	}
	if f.unjournaled > 0 {
		note += fmt.Sprintf("; it also sends again the %d accepted rows whose acceptance the journal could not record "+
			"(the SMSC has them: they are marked resubmitted; --no-resend-uncertain leaves them uncertain instead)", f.unjournaled)
	}
	if expired != "" {
		note += "; " + expired
	}
	if f.throttled > 0 && sum.Submit[report.SubmitNotSent] > 0 {
		// Rows given up on for throttling fail the same way again at the same rate; --rate
		// is not part of the campaign's identity, so the resume may lower it.
		note += fmt.Sprintf("; the SMSC throttled %d submits of this run: give the resume a lower --rate", f.throttled)
	}
	return note
}

// rowsWere is "1 row was" or "N rows were".
func rowsWere(n int) string {
	if n == 1 {
		return "1 row was"
	}
	return report.Plural(n, "row") + " were"
}

// resentAccepted counts the rows book has accepted whose acceptance the journal at path does
// not hold (a write that failed), which a --resume therefore sends again. 0 when the journal
// cannot be read: the resume will say what is wrong with it.
func resentAccepted(book *report.Book, path string) int {
	st, err := journal.Load(path)
	if err != nil {
		return 0
	}
	n := 0
	for r := range book.Rows() {
		if (r.SubmitStatus == report.SubmitAccepted || r.SubmitStatus == report.SubmitResubmitted) && st.Status(r.Row, r.Parts) != journal.Accepted {
			n++
		}
	}
	return n
}

// shellQuote quotes path for a command line a user can paste, when it needs quoting.
func shellQuote(path string) string {
	if path != "" && !strings.ContainsFunc(path, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./+,:@%=", r))
	}) {
		return path
	}
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}

// sayLateSignal says so if a stop signal came once the run had ended, while its report was
// written: it stopped nothing, so the exit status stays the run's, but whoever sent it (a
// timeout, a service manager) is told why the process did not stop at once.
func sayLateSignal(signals <-chan os.Signal, stderr io.Writer) {
	select {
	case late := <-signals:
		fmt.Fprintf(stderr, "smscast: %s came after the run had ended, while its report was written: nothing was stopped\n", signalName(late))
	default:
	}
}

// signalName is the name people know a stop signal by: SIGTERM, SIGINT ("terminated" and
// "interrupt" are what os.Signal.String says).
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return sig.String()
}

// sendExit decides the exit status of a finished run. outputErr says which of the report
// and the --summary-json could not be written. pending (see pendingNote) and resume (see
// resumeNote) are added to the message about rows not accepted.
func sendExit(sig os.Signal, runErr, outputErr error, sum report.Summary, pending, resume string) error {
	if sig != nil {
		code := exitSIGTERM
		if n, ok := sig.(syscall.Signal); ok {
			code = 128 + int(n) // as a shell reports a process killed by it
		}
		msg := "stopped by " + signalName(sig)
		if outputErr != nil {
			msg += "; " + outputErr.Error()
		}
		switch {
		case resume != "":
			msg += "; " + resume
			if n := sum.Receipts[report.ReceiptPending]; n > 0 && pending != "" {
				msg += fmt.Sprintf(" (it also waits up to its --wait for the receipts of the %s still PENDING)", report.Plural(n, "sent row"))
			}
		case pending != "":
			// Stopped in the --wait for receipts: the rest can still be collected.
			msg += "; " + pending
		}
		return withExit(code, errors.New(msg))
	}
	if runErr != nil {
		runErr = joinErrs(runErr, outputErr)
		if resume != "" {
			runErr = fmt.Errorf("%w; %s", runErr, resume)
		}
		return withExit(exitIncomplete, runErr)
	}
	bad := 0
	for _, st := range []report.SubmitStatus{report.SubmitRejected, report.SubmitInvalid, report.SubmitNotSent, report.SubmitUncertain} {
		bad += sum.Submit[st]
	}
	var msgs []string
	if outputErr != nil {
		msgs = append(msgs, outputErr.Error())
	}
	if bad > 0 {
		why := "; the report says why for each"
		if errors.Is(outputErr, errNoReport) {
			why = ""
		}
		msgs = append(msgs, fmt.Sprintf("%d of %d rows were not accepted (rejected, invalid, not sent or uncertain)%s", bad, sum.Rows, why))
		if resume != "" {
			msgs = append(msgs, resume)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	if pending != "" {
		// The advice to collect receipts comes with the other words, not after an error.
		msgs = append(msgs, pending)
	}
	return withExit(exitIncomplete, errors.New(strings.Join(msgs, "; ")))
}

// openMO opens the --inbox (with the parts file that joins long messages, beside it) and the
// opt-out writer, and returns the engine's OnMO (nil when neither is asked for) and a function
// that closes them. What goes wrong without losing a message (an opt-out from a sender that
// is not a number, a long message whose writing is tried again later) is said on stderr, as
// is, when closing, the number of long messages still incomplete.
func openMO(inboxPath, exclude, region string, keywords []string, stderr io.Writer) (func(report.MO) error, func(), error) {
	partsPath := inboxPath + ".parts" // and its lock, partsPath.lock
	var inbox *report.Inbox
	var joiner *report.Joiner
	var optout *report.OptOut
	var written, added atomic.Int64 // inbox lines, numbers added to the exclude file
	warn := func(err error) { fmt.Fprintf(stderr, "smscast: --inbox: %v\n", err) }
	optOut := func(m report.MO) error {
		if optout == nil {
			return nil
		}
		ok, err := optout.Handle(m)
		switch {
		case errors.Is(err, report.ErrNotANumber):
			fmt.Fprintf(stderr, "smscast: --optout-keywords: %v\n", err) // nothing to add, now or later
		case err != nil:
			return err
		case ok:
			added.Add(1)
		}
		return nil
	}
	write := func(m report.MO) error {
		if err := inbox.Write(m); err != nil {
			return err
		}
		written.Add(1)
		return nil
	}
	// The opt-out goes first: a message whose inbox line fails is delivered again, and
	// Handle adds a number only once, whereas the inbox would get the line twice.
	deliver := func(m report.MO) error {
		if err := optOut(m); err != nil {
			return err
		}
		if inbox != nil {
			return write(m)
		}
		return nil
	}
	closeAll := func() {
		if joiner != nil {
			incomplete, undelivered, err := joiner.Waiting()
			if err != nil {
				warn(err)
			}
			if incomplete > 0 {
				fmt.Fprintf(stderr, "smscast: %s still incomplete: the parts that came wait in %s for the rest, which the SMSC delivers to a later run (after 24 hours the inbox gets what came)\n", report.Plural(incomplete, "long incoming message"), partsPath)
			}
			if undelivered > 0 {
				fmt.Fprintf(stderr, "smscast: %s could not be written to the inbox; the next run with this --inbox writes what waits in %s\n", report.Plural(undelivered, "long incoming message"), partsPath)
			}
			joiner.Close()
		}
		if inbox != nil {
			inbox.Close()
		}
		if optout != nil {
			optout.Close()
		}
		if n := written.Load(); n > 0 {
			fmt.Fprintf(stderr, "smscast: %s written to %s\n", report.Plural(int(n), "incoming message"), inboxPath)
		}
		if n := added.Load(); n > 0 {
			fmt.Fprintf(stderr, "smscast: %s that replied %s added to %s\n", report.Plural(int(n), "number"), strings.Join(keywords, " or "), exclude)
		}
	}
	var err error
	if len(keywords) > 0 {
		if optout, err = report.OpenOptOut(exclude, keywords); err != nil {
			return nil, func() {}, fmt.Errorf("--optout-keywords: %w", err)
		}
		if optout.Normalize, err = csvin.SenderNormalizer(region); err != nil {
			optout.Close()
			return nil, func() {}, fmt.Errorf("--default-region: %w", err)
		}
	}
	if inboxPath != "" {
		if inbox, err = report.OpenInbox(inboxPath); err != nil {
			closeAll()
			return nil, func() {}, fmt.Errorf("--inbox: %w", err)
		}
		// A pipe has no place beside it for parts: their lines go out as they come.
		if !readOnce(inboxPath) {
			if joiner, err = report.OpenJoiner(partsPath, partsPath+".lock", deliver, warn, report.JoinerLimits{}); err != nil {
				closeAll()
				return nil, func() {}, fmt.Errorf("--inbox: %w", err)
			}
		}
	}
	if inbox == nil && optout == nil {
		return nil, closeAll, nil
	}
	return func(m report.MO) error {
		if m.Part == nil {
			return deliver(m)
		}
		// A first part starts with the keyword: an opt-out counts at once, not only once
		// the message is whole (Handle adds a number once).
		if m.Part.Seq == 1 {
			if err := optOut(m); err != nil {
				return err
			}
		}
		switch {
		case joiner != nil:
			return joiner.Add(m)
		case inbox != nil:
			return write(m)
		}
		return nil
	}, closeAll, nil
}

// isTerminal reports whether w is a terminal, where a live progress bar makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// readOnce reports whether path names an input that can be read only once: standard input
// ("" or "-") or anything but a regular file, such as a FIFO or the /dev/fd/N of a shell's
// process substitution. Such an input is not counted beforehand, not hashed into the
// journal, and gets no report beside it. A path that cannot be examined is not read-once:
// opening it then says what is wrong.
func readOnce(path string) bool {
	if path == "" || path == "-" {
		return true
	}
	st, err := os.Stat(path)
	return err == nil && !st.Mode().IsRegular()
}

// countRows estimates the rows of the campaign for the progress bar, the ETA and sizing the
// report's ledger: lines of the recipients file minus the header (a quoted field with a line
// break counts twice), divided by the shard count. 0 means unknown (standard input, a pipe).
func countRows(in csvin.Config) int {
	if len(in.To) > 0 {
		return len(in.To)
	}
	if readOnce(in.Recipients) {
		return 0 // counting a pipe would take the rows from the campaign
	}
	f, err := os.Open(in.Recipients)
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	lines, last := 0, byte('\n')
	for {
		n, err := f.Read(buf)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if n > 0 {
			last = buf[n-1]
		}
		if err != nil {
			break
		}
	}
	if last != '\n' {
		lines++
	}
	rows := max(lines-1, 0)
	if in.Shard.Count > 1 {
		rows = (rows + in.Shard.Count - 1) / in.Shard.Count
	}
	return rows
}
