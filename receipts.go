package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/journal"
	"smscast/report"
	"smscast/smpp"
)

func init() { register(receiptsCommand()) }

// receiptsShown are the flags receipts lists in its help. It accepts every other flag of
// send too, hidden, so that one --config file serves both commands; the input flags are
// normally taken from the journal.
var receiptsShown = map[string]bool{
	"config": true, "smsc": true, "system-id": true, "password-file": true, "password": true,
	"system-type": true, "tls": true, "tls-ca": true, "tls-server-name": true, "tls-insecure": true,
	"bind-mode": true, "journal": true, "spool": true, "report": true, "report-format": true,
	"receipt-id-format": true, "wait": true, "resp-timeout": true, "give-up-after": true,
	"summary-json": true, "progress-interval": true, "log-format": true, "quiet": true,
	"inbox": true, "optout-keywords": true, // a receiver bind gets replies too
}

// receiptsFlags are send's flags, with the few whose meaning differs redefined and those
// receipts does not use hidden.
func receiptsFlags() []cli.Flag {
	own := map[string]cli.Flag{
		"bind-mode":       &cli.StringFlag{Name: "bind-mode", Value: "rx", Usage: "bind `MODE`: rx (receiver) or trx (transceiver, for SMSCs that deliver receipts only to transceivers); send's tx and tx+rx, from a config file both commands share, mean rx"},
		"journal":         &cli.StringFlag{Name: "journal", Usage: "the campaign's journal `FILE`, as send wrote it (default: <--report>.journal)"},
		"report":          &cli.StringFlag{Name: "report", Usage: "rewrite this report `FILE` (default: the campaign's report, as its journal records it, moved along if the journal moved; for an older journal, the journal's path without .journal); an existing file that is not the campaign's report is refused, as it may be another campaign's"},
		"report-format":   &cli.StringFlag{Name: "report-format", Usage: "report `FORMAT`: csv or jsonl (default: the format the report is in, else jsonl for a .jsonl name, else csv)"},
		"optout-keywords": &cli.StringFlag{Name: "optout-keywords", Usage: "`WORDS` (comma-separated, e.g. STOP) that add an incoming message's sender to the campaign's --exclude file (give them again: receipts does not take them from the campaign)"},
		"give-up-after":   &cli.DurationFlag{Name: "give-up-after", Value: 2 * time.Minute, Usage: "stop when the SMSC stays unreachable for this `DURATION`"},
		"wait":            &cli.DurationFlag{Name: "wait", Value: defaultWait, Usage: "stay bound at most this `DURATION` for the receipts still pending (0 = only match the spool and rewrite the report)"},
	}
	flags := append([]cli.Flag{newConfigFlag()}, inputFlags()...)
	flags = append(flags, sendFlags()...)
	for i, f := range flags {
		name := f.Names()[0]
		if g, ok := own[name]; ok {
			flags[i] = g
		} else if !receiptsShown[name] {
			hide(f)
		}
	}
	return flags
}

// hide keeps a flag out of --help.
func hide(f cli.Flag) {
	switch f := f.(type) {
	case *cli.StringFlag:
		f.Hidden = true
	case *cli.StringSliceFlag:
		f.Hidden = true
	case *cli.BoolFlag:
		f.Hidden = true
	case *cli.IntFlag:
		f.Hidden = true
	case *cli.Float64Flag:
		f.Hidden = true
	case *cli.DurationFlag:
		f.Hidden = true
	}
}

func receiptsCommand() *cli.Command {
	var passwordOnArgs bool
	return &cli.Command{
		Name:  "receipts",
		Usage: "collect late delivery receipts of a campaign into its journal and rewrite its report",
		UsageText: "smscast receipts --journal FILE --smsc HOST:PORT --system-id ID [--wait 1h] [options]\n" +
			"smscast receipts --report FILE --wait 0   (the journal beside the report; no SMSC: only the spool's receipts)",
		Description: "Binds (as a receiver, or a transceiver with --bind-mode trx), collects the delivery\n" +
			"receipts of the campaign recorded in the journal — also those another run kept in the\n" +
			"spool —, records them in the journal, and rewrites the campaign's report once every\n" +
			"accepted row has a final receipt or --wait has passed. It sends nothing. The campaign's\n" +
			"rows are read again from the input files the journal names (they must be unchanged).\n" +
			"It accepts every flag of send, and the campaign's --config file serves it as it serves\n" +
			"send and plan (keys it does not use are ignored; --resume and --force are implied;\n" +
			"--dry-run is refused).\n\n" +
			"Exit status: 0 every row has a final state; 1 usage error, or the journal or inputs do\n" +
			"not fit; 2 could not bind while receipts were pending; 3 some accepted rows still have\n" +
			"no final receipt (run it again later); 129/130/143 stopped by SIGHUP/SIGINT/SIGTERM.",
		Flags: withEnv(receiptsFlags()),
		Before: func(c *cli.Context) error {
			passwordOnArgs = passwordOnCommandLine(c)
			return applyConfigFile(c)
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("receipts takes no arguments, got %q; give the journal with --journal", c.Args().First())
			}
			return withLogFormat(c, func() error {
				stderr := c.App.ErrWriter
				s, err := receiptsSettingsOf(c, passwordOnArgs, func(msg string) { fmt.Fprintln(stderr, msg) })
				if err != nil {
					return withExit(exitUsage, err)
				}
				signals, stop := stopSignals()
				defer stop()
				return runSend(c.Context, s, stderr, signals)
			})
		},
	}
}

// receiptsSettingsOf reads the flags of receipts into the settings of a run of send that
// sends nothing and only collects (journalSettings.collect).
func receiptsSettingsOf(c *cli.Context, passwordOnArgs bool, warn func(string)) (sendSettings, error) {
	var s sendSettings
	if c.Bool("dry-run") {
		// Accepted as send's flag (one --config serves both), but a dry run that binds and
		// rewrites the report would be a trap.
		return s, errors.New("receipts has no dry run: it sends nothing, but it binds to the SMSC and rewrites the report; drop --dry-run (or dry-run from the config file)")
	}
	path := c.String("journal")
	switch {
	case path == journalOff:
		return s, errors.New("receipts records what it collects in the campaign's journal: give --journal FILE, not off")
	case path == "" && c.String("report") != "":
		path = c.String("report") + ".journal"
	case path == "":
		return s, errors.New("give the campaign's journal with --journal FILE (send writes it beside the report, as <report>.journal)")
	}
	// The rows are read once, later, when the journal is opened for the run. A run that has
	// the journal may be writing the report: the facts would not vouch for it yet.
	st, err := journal.LoadFactsIdle(path)
	if err != nil {
		return s, err
	}
	if st.Runs == 0 {
		return s, fmt.Errorf("journal %s records no campaign yet", path)
	}
	if err := restoreFlags(c, st.Identity); err != nil {
		return s, fmt.Errorf("journal %s: %w", path, err)
	}
	if s.input, err = inputConfig(c); err != nil {
		return s, err
	}
	if err := checkRows(st.Identity, s.input); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// The campaign's directory moved: the recorded paths are gone, not the files.
			return s, fmt.Errorf("journal %s: an input file of the campaign is not where it was (%w); if the files moved, give them with --recipients and --templates (and --exclude) as they are now", path, err)
		}
		return s, fmt.Errorf("journal %s: the input files are not the campaign's, so its report cannot be rebuilt: %w", path, err)
	}

	e := &s.engine
	if err := durationSettings(c, &s); err != nil {
		return s, err
	}
	// --wait 0 only matches the spool and rewrites the report: no SMSC is needed.
	e.Offline = e.Wait == 0
	if !e.Offline {
		if err := connectSettings(c, passwordOnArgs, warn, e, false); err != nil {
			return s, err
		}
	}
	e.PackedGSM7 = s.input.Coding.Packed // an SMSC that wants packed septets delivers replies packed
	switch mode := strings.ToLower(c.String("bind-mode")); mode {
	case "rx", "tx", "tx+rx": // send's modes, from a shared --config: receipts sends nothing
		e.Session.Bind.Mode = smpp.BindReceiver
	case "trx":
		e.Session.Bind.Mode = smpp.BindTransceiver
	default:
		return s, fmt.Errorf("--bind-mode %q: use rx (receiver) or trx (transceiver); send's tx and tx+rx mean rx", mode)
	}
	e.Binds = 1
	if s.book.IDFormat, err = smpp.ParseIDFormat(c.String("receipt-id-format")); err != nil {
		return s, fmt.Errorf("--receipt-id-format: %w", err)
	}
	if s.book.PartReceipts, err = report.ParsePartReceipts(c.String("part-receipts")); err != nil {
		return s, err
	}
	if was, ok := st.Identity.Options["part-receipts"]; ok && s.book.PartReceipts.String() != was {
		// The rule decides which receipts the campaign asked for and how its rows are judged:
		// another one would silently re-judge them.
		return s, fmt.Errorf("journal %s: the campaign was sent with --part-receipts %s; receipts judges its rows the same way, so drop --part-receipts %s",
			path, was, s.book.PartReceipts)
	}
	e.PartReceipts = s.book.PartReceipts

	s.report = c.String("report")
	if s.report == "" {
		beside := func() (string, error) {
			if report, ok := strings.CutSuffix(path, ".journal"); ok {
				return report, nil
			}
			return "", fmt.Errorf("journal %s does not end in .journal, so the report's path is unknown: give --report FILE", path)
		}
		if s.report, err = reportByJournal(path, st, beside); err != nil {
			return s, err
		}
	} else if err := checkReportOwner(s.report, path, st); err != nil {
		return s, err
	}
	if c.IsSet("report-format") {
		if s.format, err = report.ParseFormat(c.String("report-format")); err != nil {
			return s, err
		}
	} else {
		s.format = reportFormatOf(s.report)
	}
	s.force = true // the campaign's own report
	if err := checkReportPath(s.report, s.force, s.input); err != nil {
		return s, err
	}
	s.summaryJSON = c.String("summary-json")
	if err := checkSummaryPath(s.summaryJSON); err != nil {
		return s, err
	}
	if err := moSettings(c, &s); err != nil {
		return s, err
	}
	if _, grows := st.Identity.Options["exclude"]; len(s.optoutWords) > 0 && !grows {
		// An earlier version's journal may record the exclude file by content: adding to it
		// would make the next receipts or --resume refuse the campaign's input files.
		return s, errors.New("--optout-keywords: the campaign's journal was written by an earlier smscast without --optout-keywords, so its --exclude file must stay as it was; collect the replies with --inbox alone")
	}
	spool, err := spoolDir(c)
	if err != nil {
		return s, err
	}
	s.journal = journalSettings{path: path, collect: true, spool: spool}
	if err := checkOutputFiles(c, &s); err != nil {
		return s, err
	}
	return s, outputSettings(c, &s)
}

// reportFormatOf is the format of the campaign's report at path, which receipts rewrites in
// the same format: the one the file is in (send may have written JSON Lines under a .csv name),
// else the one its name says.
func reportFormatOf(path string) report.Format {
	// Only a regular file is read: opening a FIFO would wait for a writer.
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return formatOfName(path)
	}
	if f, err := os.Open(path); err == nil {
		var first [1]byte
		n, _ := f.Read(first[:])
		f.Close()
		if n == 1 {
			if first[0] == '{' {
				return report.FormatJSONL
			}
			return report.FormatCSV
		}
	}
	return formatOfName(path)
}

// formatOfName is the report format a file name says: JSON Lines for .jsonl, else CSV.
func formatOfName(path string) report.Format {
	if strings.EqualFold(filepath.Ext(path), ".jsonl") {
		return report.FormatJSONL
	}
	return report.FormatCSV
}

// receiptsExit decides the exit status of smscast receipts: 0 when every row has a final
// state, 3 when some accepted rows still wait for a receipt, 2 when they do and no session
// could be bound.
func receiptsExit(sig os.Signal, runErr, outputErr error, book *report.Book, cj *campaignJournal) error {
	pending := book.Pending()
	if sig != nil {
		again := ""
		if pending > 0 {
			again = pendingRows(pending) + " no final receipt yet; run smscast receipts again to collect them"
		}
		return sendExit(sig, nil, outputErr, report.Summary{}, again, "")
	}
	bound, bindErr := cj.bindState()
	if pending > 0 && !bound && (runErr != nil || bindErr != nil) {
		return withExit(exitConnect, joinErrs(fmt.Errorf("could not bind to collect the %d pending receipts: %w", pending, errors.Join(runErr, bindErr)), outputErr))
	}
	if runErr != nil {
		return withExit(exitIncomplete, joinErrs(runErr, outputErr))
	}
	if outputErr != nil {
		return withExit(exitIncomplete, outputErr)
	}
	if pending > 0 {
		return withExit(exitIncomplete, fmt.Errorf("%s no final receipt yet; run smscast receipts again later", pendingRows(pending)))
	}
	return nil
}

// pendingRows begins the sentence about the accepted rows still without a final receipt.
func pendingRows(n int) string {
	if n == 1 {
		return "1 accepted row has"
	}
	return fmt.Sprintf("%d accepted rows have", n)
}
