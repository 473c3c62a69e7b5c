package main

import (
	"context"
	"embed"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/csvin"
	"smscast/report"
	"smscast/smsc"
)

func init() { register(demoCommand()) }

// demoInputs are the demo campaign, built into the binary so that the demo runs from any
// directory; the note column of testdata/recipients.csv says what each row shows.
//
//go:embed testdata/recipients.csv testdata/templates.csv
var demoInputs embed.FS

// The demo's simulated SMSC: its outcome rules match the numbers in testdata/recipients.csv,
// and its receipts come back quickly, in a shuffled order, as real ones do.
const (
	demoSystemID      = "smscast-demo"
	demoRejectPrefix  = "4915550" // refused with ESME_RINVDSTADR
	demoUndelivPrefix = "4915551" // accepted, receipt UNDELIV
	demoReplyPrefix   = "4915552" // accepted, and the handset replies demoReplyText
	// demoReplyText takes two parts, so that the inbox shows a long reply joined.
	demoReplyText = "STOP please. I did not ask for these messages and I do not want any more of them: " +
		"take my number off your list today, and do not pass it on to anybody else either. Thank you, and have a good day."
	demoReceiptDelay  = 200 * time.Millisecond
	demoReceiptJitter = 300 * time.Millisecond
)

// Settings of the demo's send.
const (
	demoRate = 10.0 // PDUs per second: slow enough to watch, eight PDUs take under a second
	// demoWait bounds the wait for receipts; they all arrive within a second, so reaching it
	// means something is broken, and the rows still PENDING say where.
	demoWait             = 30 * time.Second
	demoProgressInterval = time.Second
)

// The files the demo writes into its directory.
const (
	demoRecipientsFile = "recipients.csv"
	demoTemplatesFile  = "templates.csv"
	demoReportFile     = "report.csv"
	demoSummaryFile    = "summary.json"
	demoMessagesFile   = "messages.jsonl" // what the simulator received, decoded
	demoInboxFile      = "inbox.csv"      // the replies (--inbox)
	demoOptOutFile     = "optouts.txt"    // the numbers that replied STOP (--exclude)
)

// demoAppended are the demo's files that send appends to rather than replaces: --force
// removes them first, or a second run would find its replier excluded.
var demoAppended = []string{demoInboxFile, demoInboxFile + ".parts", demoOptOutFile}

// demoOutcome is what one row of testdata/recipients.csv is designed to end as; a report
// that says otherwise means the demo found a bug.
type demoOutcome struct {
	row       int
	msisdn    string // as the report writes it; "" to skip the check (the invalid number is kept as written)
	submit    report.SubmitStatus
	errorHas  string // a word submit_error must contain; "" means it must be empty
	receipt   string // receipt_status; "" for a row the SMSC never accepted
	encoding  string // "" for a row that was never encoded
	multipart bool   // more than one part, else at most one
}

// demoDesign is the designed outcome of every row of testdata/recipients.csv, in row order.
var demoDesign = []demoOutcome{
	{1, "491711234567", report.SubmitAccepted, "", "DELIVRD", "gsm7", false},
	{2, "447911123456", report.SubmitAccepted, "", "DELIVRD", "gsm7", false},
	{3, "33612345678", report.SubmitAccepted, "", "DELIVRD", "ucs2", false},
	{4, "12025550123", report.SubmitAccepted, "", "DELIVRD", "gsm7", true},
	{5, "", report.SubmitInvalid, "invalid number", "", "", false},
	{6, "4915550123456", report.SubmitRejected, "ESME_RINVDSTADR", "", "gsm7", false},
	{7, "4915551123456", report.SubmitAccepted, "", "UNDELIV", "gsm7", false},
	{8, "4915112345678", report.SubmitAccepted, "", "DELIVRD", "gsm7", false},
	{9, "4915552123456", report.SubmitAccepted, "", "DELIVRD", "gsm7", false},
}

// demoOptions are the flags of demo.
type demoOptions struct {
	dir   string  // "" = a new directory under os.TempDir()
	force bool    // replace the demo's files in dir
	rate  float64 // PDUs per second, 0 = unlimited
	quiet bool
}

func demoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "send a sample campaign to a built-in SMSC simulator and show the report: no SMSC account needed",
		UsageText: "smscast demo [--dir DIR [--force]] [--rate PDUS] [--quiet]",
		Description: "Starts the SMSC simulator on 127.0.0.1 (an ephemeral port), writes the sample campaign\n" +
			"(testdata/recipients.csv and testdata/templates.csv, built into smscast) into a new\n" +
			"directory, and sends it exactly as `smscast send` would: paced submit_sm, delivery\n" +
			"receipts, the receipt report and the summary. The nine rows show plain GSM 7-bit text,\n" +
			"GSM extension characters (€ [ ] ~ count two septets), an emoji that forces UCS-2, a long\n" +
			"text sent as a multipart message, an invalid number (reported, never sent), a number the\n" +
			"simulator rejects (ESME_RINVDSTADR), one it reports undelivered (UNDELIV), and a handset\n" +
			"that replies STOP in two parts (--inbox, --optout-keywords).\n\n" +
			"The directory then holds report.csv (one line per row: start there), summary.json,\n" +
			"messages.jsonl (what the simulator received, decoded), inbox.csv (the reply),\n" +
			"optouts.txt (the number that replied STOP), report.csv.journal (the campaign's\n" +
			"journal) and the two input files.\n" +
			"SMSCAST_* variables and --config files are ignored, so a real campaign's settings\n" +
			"cannot change the demo.\n\n" +
			"Exit status: 0 every row ended as designed, the planned invalid, rejected and\n" +
			"undelivered rows included; 1 usage error; 2 the simulator could not start; 3 some row\n" +
			"did not (the message says which); 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "write the inputs, report and logs into `DIR` (created if missing) instead of a new smscast-demo-… directory under " + os.TempDir()},
			&cli.BoolFlag{Name: "force", Usage: "replace the demo's files in --dir"},
			&cli.Float64Flag{Name: "rate", Value: demoRate, Usage: "submit_sm `PDUS` per second (0 = unlimited), as send --rate"},
			&cli.BoolFlag{Name: "quiet", Usage: "print only errors, the summary and where the files are"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("demo takes no arguments, got %q; see smscast demo --help", c.Args().First())
			}
			opt := demoOptions{dir: c.String("dir"), force: c.Bool("force"), rate: c.Float64("rate"), quiet: c.Bool("quiet")}
			if opt.rate < 0 {
				return fmt.Errorf("--rate %v: give PDUs per second, or 0 for unlimited", opt.rate)
			}
			signals, stop := stopSignals()
			defer stop()
			return runDemo(c.Context, c.App, opt, signals)
		},
	}
}

// runDemo writes the demo campaign into its directory, sends it to an in-process simulator
// through runSend, and checks that every row ended as designed.
func runDemo(ctx context.Context, app *cli.App, opt demoOptions, signals <-chan os.Signal) error {
	stderr := app.ErrWriter
	dir, err := demoDir(opt.dir, opt.force, time.Now())
	if err != nil {
		return withExit(exitUsage, err)
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	for _, name := range []string{demoRecipientsFile, demoTemplatesFile} {
		b, err := demoInputs.ReadFile("testdata/" + name)
		if err != nil {
			return fmt.Errorf("demo input %s: %w", name, err) // cannot happen: embedded at build time
		}
		if err := os.WriteFile(path(name), b, 0o644); err != nil {
			return withExit(exitUsage, fmt.Errorf("demo: %w", err))
		}
	}
	messages, err := os.Create(path(demoMessagesFile))
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("demo: %w", err))
	}
	defer messages.Close()

	srv, err := smsc.NewServer(smsc.Config{
		SystemID:        demoSystemID,
		RejectPrefixes:  []string{demoRejectPrefix},
		UndelivPrefixes: []string{demoUndelivPrefix},
		ReplyPrefixes:   []string{demoReplyPrefix},
		ReplyText:       demoReplyText,
		ReceiptDelay:    demoReceiptDelay,
		ReceiptJitter:   demoReceiptJitter,
		Log:             messages,
	})
	if err != nil {
		return withExit(exitConnect, fmt.Errorf("demo: start the simulator: %w", err))
	}
	defer srv.Close()

	args := []string{
		"--smsc", srv.Addr(), "--system-id", demoSystemID,
		"--recipients", path(demoRecipientsFile), "--templates", path(demoTemplatesFile),
		"--rate", strconv.FormatFloat(opt.rate, 'g', -1, 64), "--wait", demoWait.String(),
		"--report", path(demoReportFile), "--summary-json", path(demoSummaryFile),
		"--progress-interval", demoProgressInterval.String(),
		// Stray receipts (none are expected) stay in the demo directory, not the user's spool.
		"--spool", path("spool"),
		"--inbox", path(demoInboxFile), "--exclude", path(demoOptOutFile), "--optout-keywords", "STOP",
	}
	if opt.force {
		args = append(args, "--force")
	}
	if opt.quiet {
		args = append(args, "--quiet")
	}
	s, err := demoSendSettings(ctx, app, args)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("demo: %w", err)) // a bug: the arguments are ours
	}

	if !opt.quiet {
		fmt.Fprintf(stderr, "demo: a simulated SMSC listens on %s; it rejects numbers starting %s (ESME_RINVDSTADR),\n"+
			"      reports numbers starting %s undelivered (UNDELIV), and its handsets starting %s reply STOP\n",
			srv.Addr(), demoRejectPrefix, demoUndelivPrefix, demoReplyPrefix)
		fmt.Fprintf(stderr, "demo: sending the %d rows of %s with %s %s\n",
			len(demoDesign), path(demoRecipientsFile), demoTemplatesFile, rateText(opt.rate))
	}
	sendErr := runSend(ctx, s, stderr, signals)
	received := srv.Messages()
	closeErr := srv.Close()
	if err := messages.Close(); closeErr == nil {
		closeErr = err
	}

	var ee *exitError
	if sendErr != nil && (!errors.As(sendErr, &ee) || ee.code != exitIncomplete) {
		return sendErr // stopped, or nothing sent: there is no outcome to check
	}
	if closeErr != nil {
		return withExit(exitIncomplete, fmt.Errorf("demo: %s: %w", path(demoMessagesFile), closeErr))
	}
	lines, err := readReportFile(path(demoReportFile))
	if err != nil {
		return withExit(exitIncomplete, fmt.Errorf("demo: %w", err))
	}
	in := s.input
	in.Exclude = "" // it holds the replier's number by now
	rendered, err := renderedRows(in)
	if err != nil {
		return withExit(exitIncomplete, fmt.Errorf("demo: %w", err))
	}
	diffs := checkDemo(lines, rendered, received)
	diffs = append(diffs, checkDemoReply(path(demoInboxFile), path(demoOptOutFile))...)
	if !opt.quiet {
		printDemoRows(stderr, lines)
	}
	fmt.Fprintf(stderr, "\ndemo files in %s:\n", dir)
	tw := tabwriter.NewWriter(stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  %s\tthe receipt report, one line per row: start here\n", demoReportFile)
	fmt.Fprintf(tw, "  %s\tthe summary above, for scripts\n", demoSummaryFile)
	fmt.Fprintf(tw, "  %s\twhat the simulated SMSC received, decoded\n", demoMessagesFile)
	fmt.Fprintf(tw, "  %s\tthe replies from handsets, a long one joined (%s*: its bookkeeping)\n", demoInboxFile, demoInboxFile+".parts")
	fmt.Fprintf(tw, "  %s\tthe numbers that replied STOP: give it as --exclude to skip them next time\n", demoOptOutFile)
	fmt.Fprintf(tw, "  %s\tthe recipients; the note column says what each row shows\n", demoRecipientsFile)
	fmt.Fprintf(tw, "  %s\tthe templates\n", demoTemplatesFile)
	tw.Flush()
	fmt.Fprintln(stderr, "check your own files without sending: smscast plan --recipients FILE --templates FILE")
	if len(diffs) > 0 {
		msg := "the demo did not run as designed:\n  " + strings.Join(diffs, "\n  ")
		if sendErr != nil {
			msg += "\nsend said: " + sendErr.Error()
		}
		return withExit(exitIncomplete, errors.New(msg))
	}
	fmt.Fprintln(stderr, "\ndemo: every row ended as designed, the invalid, rejected and undelivered ones included, and the reply is in the inbox")
	return nil
}

// demoDir returns the directory the demo writes into: want (created if missing) when set,
// else a new smscast-demo-<time>-… directory under os.TempDir(). In want, it refuses to
// replace any of its files without force, since they may be the user's.
func demoDir(want string, force bool, now time.Time) (string, error) {
	if want == "" {
		return os.MkdirTemp("", "smscast-demo-"+now.Format("20060102-150405")+"-")
	}
	if err := os.MkdirAll(want, 0o755); err != nil {
		return "", fmt.Errorf("--dir: %w", err)
	}
	if force {
		for _, name := range demoAppended {
			if err := os.Remove(filepath.Join(want, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("--dir: %w", err)
			}
		}
		return want, nil
	}
	for _, name := range append([]string{demoRecipientsFile, demoTemplatesFile, demoReportFile, demoSummaryFile, demoMessagesFile}, demoAppended...) {
		if _, err := os.Lstat(filepath.Join(want, name)); err == nil {
			return "", fmt.Errorf("--dir %s already has %s; use --force to replace the demo's files there, or choose another --dir", want, name)
		}
	}
	return want, nil
}

// demoSendSettings reads args with send's own flags and sendSettingsOf, so that the demo
// runs with send's defaults and checks. The flags carry no environment variables and no
// --config: the settings of a real campaign must not leak into the demo.
func demoSendSettings(ctx context.Context, app *cli.App, args []string) (sendSettings, error) {
	set := flag.NewFlagSet("send", flag.ContinueOnError)
	set.SetOutput(io.Discard)
	for _, f := range append(inputFlags(), sendFlags()...) {
		if err := f.Apply(set); err != nil {
			return sendSettings{}, err
		}
	}
	if err := set.Parse(args); err != nil {
		return sendSettings{}, err
	}
	c := cli.NewContext(app, set, nil)
	c.Context = ctx
	s, err := sendSettingsOf(c, false, func(msg string) { fmt.Fprintln(app.ErrWriter, msg) })
	s.demo = true
	return s, err
}

// readReportFile reads a CSV report into one map per line, keyed by column.
func readReportFile(path string) ([]map[string]string, error) {
	recs, err := readCSVFile(path)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", path, err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(report.Columns, ",") {
		return nil, fmt.Errorf("report %s: the header is not %s", path, strings.Join(report.Columns, ","))
	}
	lines := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, col := range recs[0] {
			m[col] = rec[i]
		}
		lines = append(lines, m)
	}
	return lines, nil
}

// readCSVFile reads every record of the CSV file at path.
func readCSVFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return csv.NewReader(f).ReadAll()
}

// renderedRows reads the campaign as plan and send do and returns its rows by number, for
// comparing the texts the simulator decoded with the texts smscast meant to send.
func renderedRows(in csvin.Config) (map[int]csvin.Row, error) {
	rd, err := csvin.Open(in)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	rows := map[int]csvin.Row{}
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		rows[r.Num] = r
	}
}

// checkDemo compares the report lines with demoDesign and the simulator's record with the
// rendered rows, and returns one sentence per difference, naming the row.
func checkDemo(lines []map[string]string, rendered map[int]csvin.Row, received []smsc.Message) []string {
	var diffs []string
	if len(lines) != len(demoDesign) {
		diffs = append(diffs, fmt.Sprintf("the report has %d rows, the demo campaign %d", len(lines), len(demoDesign)))
	}
	byRow := map[string]map[string]string{}
	for _, l := range lines {
		byRow[l["row"]] = l
	}
	byDest := map[string][]smsc.Message{}
	for _, m := range received {
		byDest[m.Destination.Addr] = append(byDest[m.Destination.Addr], m)
	}
	for _, want := range demoDesign {
		l, ok := byRow[strconv.Itoa(want.row)]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("row %d is missing from the report", want.row))
			continue
		}
		diffs = append(diffs, checkDemoRow(want, l)...)
		if want.submit != report.SubmitAccepted {
			continue
		}
		r := rendered[want.row]
		msgs := byDest[r.MSISDN]
		switch {
		case len(msgs) != 1:
			diffs = append(diffs, fmt.Sprintf("row %d: the simulator received %d messages for %s, want 1", want.row, len(msgs), r.MSISDN))
		case !msgs[0].Complete():
			diffs = append(diffs, fmt.Sprintf("row %d: the simulator received %d of %d parts", want.row, msgs[0].Parts, msgs[0].TotalParts))
		case msgs[0].Text != r.Text:
			diffs = append(diffs, fmt.Sprintf("row %d: the simulator decoded %q, want %q (error: %q)", want.row, msgs[0].Text, r.Text, msgs[0].TextError))
		}
	}
	return diffs
}

// checkDemoReply checks that the replying handset's answer is in the inbox, whole, once, and
// its number in the opt-out file.
func checkDemoReply(inboxPath, optOutPath string) []string {
	var diffs []string
	recs, err := readCSVFile(inboxPath)
	switch {
	case err != nil:
		diffs = append(diffs, fmt.Sprintf("the inbox: %v", err))
	case len(recs) != 2 || len(recs[1]) != 4:
		diffs = append(diffs, fmt.Sprintf("the inbox has %d lines, want the header and one reply", len(recs)))
	case recs[1][1] != demoDesign[8].msisdn || recs[1][3] != demoReplyText:
		diffs = append(diffs, fmt.Sprintf("the inbox has %q from %s, want the whole reply from %s", recs[1][3], recs[1][1], demoDesign[8].msisdn))
	}
	// Opt-outs are written in international form.
	if b, err := os.ReadFile(optOutPath); err != nil || string(b) != "+"+demoDesign[8].msisdn+"\n" {
		diffs = append(diffs, fmt.Sprintf("%s holds %q (%v), want +%s", optOutPath, b, err, demoDesign[8].msisdn))
	}
	return diffs
}

// checkDemoRow compares one report line with its design.
func checkDemoRow(want demoOutcome, l map[string]string) []string {
	var diffs []string
	differ := func(col, got, wantText string) {
		diffs = append(diffs, fmt.Sprintf("row %d: %s is %q, want %s", want.row, col, got, wantText))
	}
	if want.msisdn != "" && l["msisdn"] != want.msisdn {
		differ("msisdn", l["msisdn"], want.msisdn)
	}
	if l["submit_status"] != string(want.submit) {
		differ("submit_status", l["submit_status"], string(want.submit))
	}
	switch e := l["submit_error"]; {
	case want.errorHas == "" && e != "":
		differ("submit_error", e, "none")
	case want.errorHas != "" && !strings.Contains(e, want.errorHas):
		differ("submit_error", e, "one with "+want.errorHas)
	}
	if l["receipt_status"] != want.receipt {
		differ("receipt_status", l["receipt_status"], orNone(want.receipt))
	}
	if l["encoding"] != want.encoding {
		differ("encoding", l["encoding"], orNone(want.encoding))
	}
	parts, err := strconv.Atoi(l["parts"])
	switch {
	case err != nil:
		differ("parts", l["parts"], "a number")
	case want.multipart && parts < 2:
		differ("parts", l["parts"], "2 or more")
	case !want.multipart && parts > 1:
		differ("parts", l["parts"], "at most 1")
	}
	return diffs
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// printDemoRows shows every row's outcome beside the note that says what it demonstrates.
func printDemoRows(w io.Writer, lines []map[string]string) {
	notes := demoNotes()
	fmt.Fprintln(w, "\ndemo rows (from the report):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  row\tsubmit\treceipt\tencoding\tparts\twhat it shows")
	for _, l := range lines {
		n, _ := strconv.Atoi(l["row"])
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", l["row"], l["submit_status"], orDash(l["receipt_status"]),
			orDash(l["encoding"]), l["parts"], notes[n])
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// demoNotes returns the note column of the embedded recipients by row number.
func demoNotes() map[int]string {
	notes := map[int]string{}
	f, err := demoInputs.Open("testdata/" + demoRecipientsFile)
	if err != nil {
		return notes
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		return notes
	}
	col := -1
	for i, name := range recs[0] {
		if name == "note" {
			col = i
		}
	}
	if col < 0 {
		return notes
	}
	for i, rec := range recs[1:] {
		notes[i+1] = rec[col]
	}
	return notes
}

// rateText is a --rate value for people.
func rateText(rate float64) string {
	if rate == 0 {
		return "without a rate limit"
	}
	return "at " + strconv.FormatFloat(rate, 'g', -1, 64) + " PDUs/s"
}
