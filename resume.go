package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/csvin"
	"smscast/journal"
	"smscast/report"
	"smscast/send"
	"smscast/smpp"
)

// journalOff is the --journal value that runs without a journal.
const journalOff = "off"

// journalFlags are the flags about the journal, --resume and the spool, shared by send and
// receipts.
func journalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "journal", Usage: "record the campaign in this journal `FILE`, so that --resume and smscast receipts can continue it (default: beside the report, <report>.journal; off = none)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue the campaign recorded in the journal: send only what was not accepted before, and rewrite its report"},
		&cli.BoolFlag{Name: "no-resend-uncertain", Usage: "with --resume: rows an earlier run sent without a recorded response are marked uncertain and not sent again (without it: sent again and marked resubmitted)"},
		&cli.StringFlag{Name: "spool", Usage: "keep receipts that belong to no running campaign in this `DIR` (default: $XDG_STATE_HOME/smscast/spool or ~/.local/state/smscast/spool)"},
	}
}

// journalSettings is what the flags of journalFlags say.
type journalSettings struct {
	path          string // "" = --journal off
	resume        bool   // continue the campaign in path (send --resume)
	collect       bool   // continue it without sending anything (smscast receipts)
	keepUncertain bool   // --no-resend-uncertain
	replace       bool   // --force: an existing journal at path is deleted first
	spool         string // the spool directory; "" when no receipts can come (--bind-mode tx)
	spoolFlag     string // --spool as given ("" = the default): the advice to collect receipts repeats it
	// pipe says the recipients come from standard input or a pipe: read once, so the
	// campaign cannot be resumed.
	pipe bool
}

// journalSettingsOf reads the journal flags of send; report is the report's path, beside
// which the journal goes by default. A new campaign never overwrites a journal without
// --force: it records a campaign that --resume could still finish.
func journalSettingsOf(c *cli.Context, reportPath string, in csvin.Config, receipts bool) (journalSettings, error) {
	js := journalSettings{path: c.String("journal"), resume: c.Bool("resume"), keepUncertain: c.Bool("no-resend-uncertain"),
		pipe: len(in.To) == 0 && readOnce(in.Recipients), spoolFlag: c.String("spool")}
	switch js.path {
	case "":
		js.path = reportPath + ".journal"
	case journalOff:
		js.path = ""
	}
	if js.keepUncertain && !js.resume {
		return js, errors.New("--no-resend-uncertain only applies with --resume")
	}
	if js.resume {
		if js.path == "" {
			return js, errors.New("--resume needs the campaign's journal: remove --journal off")
		}
		if js.pipe {
			return js, errors.New("--resume needs the recipients in a file (--recipients FILE): standard input or a pipe cannot be read again or checked against the journal")
		}
		for flag, path := range map[string]string{"templates": in.Templates, "exclude": in.Exclude} {
			if path != "" && readOnce(path) {
				return js, fmt.Errorf("--resume needs --%s in a file: %s is a pipe, which cannot be checked against the journal", flag, path)
			}
		}
		if _, err := os.Stat(js.path); err != nil {
			return js, fmt.Errorf("--resume: no journal at %s (%w); give the first run's --journal, or run without --resume to start the campaign (which sends every row: if an earlier run sent some and its journal is lost, those recipients get them twice)", js.path, err)
		}
	} else if js.path != "" {
		if _, err := os.Stat(js.path); err == nil {
			if err := journal.CheckHeader(js.path); errors.Is(err, journal.ErrNotJournal) {
				// Neither --resume nor --force would take it: say so, not what they do.
				return js, fmt.Errorf("--journal %s exists and is not an smscast journal, which smscast never replaces: choose another --journal (by default it is the report's name + .journal)", js.path)
			}
			if !c.Bool("force") && js.pipe {
				return js, fmt.Errorf("journal %s exists: it records an earlier run; a campaign read from standard input "+
					"or a pipe cannot be resumed, so choose another --report (or --journal), or use --force to start over "+
					"(the journal is replaced and every row is sent again)", js.path)
			}
			if !c.Bool("force") {
				return js, &journalExistsError{path: js.path}
			}
			js.replace = true
		}
	}
	if receipts {
		var err error
		if js.spool, err = spoolDir(c); err != nil {
			return js, err
		}
	}
	return js, nil
}

// journalExistsError refuses a run whose journal exists, without --resume or --force. Its
// advice depends on whose campaign the journal records (explain).
type journalExistsError struct {
	path  string
	other *journal.MismatchError // the journal records another campaign
}

func (e *journalExistsError) Error() string {
	if e.other != nil {
		changes := e.other.Changes
		if len(changes) > 3 {
			changes = append(changes[:3:3], fmt.Sprintf("%d more differences", len(changes)-3))
		}
		return fmt.Sprintf("journal %s exists and records another campaign (%s): give this one another --report "+
			"(or --journal), or use --force to replace it (the other campaign could then not be resumed, nor its "+
			"receipts collected)", e.path, strings.Join(changes, "; "))
	}
	return fmt.Sprintf("journal %s exists: it records an earlier run of this campaign; use --resume to finish it "+
		"(rows already accepted are not sent again), --force to start over (the journal is replaced and every row "+
		"is sent again), or choose another --journal", e.path)
}

// explain finds out whether the journal records the campaign s would send, as --resume
// would check it: following the advice to resume another campaign's journal is refused.
func (e *journalExistsError) explain(s sendSettings) error {
	recorded := recordedIdentity(e.path)
	if recorded == nil {
		return e
	}
	s.journal.path, s.journal.resume = e.path, true
	s.input.RefOffset, s.refOffsetRecorded = concatRefOffset(s.journal)
	s.input.TemplateTextAsRead, s.templateTextRecorded = templateTextAsRead(s.journal)
	id, err := campaignIdentity(s, recordedExcludeGrows(e.path))
	if err != nil {
		return e
	}
	errors.As(recorded.Compare(id), &e.other)
	return e
}

// spoolDir is --spool, or the per-user default. Something there that is not a directory is
// refused at once: every receipt of another campaign would be refused later, one by one.
func spoolDir(c *cli.Context) (string, error) {
	dir := c.String("spool")
	if dir != "" {
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			return "", fmt.Errorf("--spool %s is not a directory; give a directory (it is created if missing)", dir)
		}
	} else {
		var err error
		if dir, err = journal.DefaultSpoolDir(); err != nil {
			return "", fmt.Errorf("no directory for the receipt spool: %w; give --spool DIR", err)
		}
	}
	// Where the spool or the directory it would be made in cannot take a file, every
	// receipt of another campaign would be refused, one warning each.
	existing := dir
	for !exists(existing) && filepath.Dir(existing) != existing {
		existing = filepath.Dir(existing)
	}
	if err := writableDir(existing); err != nil {
		if c.String("spool") == "" {
			return "", fmt.Errorf("the receipt spool %s (the default): %w; give --spool DIR where this user can write", dir, err)
		}
		return "", fmt.Errorf("--spool %s: %w; give a directory where this user can write", dir, err)
	}
	return dir, nil
}

// restorableFlags are the flags whose values a journal's identity records under their own
// name (see inputIdentity), so that smscast receipts can read the campaign's rows again from
// the journal alone.
var restorableFlags = []string{"recipients", "to", "to-column", "delimiter", "charset", "templates", "template",
	"text", "allow-empty", "default-region", "allow-duplicates", "from", "source-ton", "source-npi", "exclude",
	"encoding", "split", "max-parts", "gsm7-packed", "transliterate", "shard", "part-receipts"}

// inputIdentity is the part of a campaign's identity that decides its rows: the content of
// the input files and the input flags, by flag name, as values the flags read back. With
// excludeGrows the exclude file is recorded by path only, since its content is meant to
// change: an opt-out list grows (with --optout-keywords, from other campaigns, by hand), and
// a resumed campaign honours the numbers added since. Journals of earlier versions recorded
// it by content unless --optout-keywords was given (see recordedExcludeGrows).
func inputIdentity(in csvin.Config, excludeGrows bool) (journal.Identity, error) {
	var id journal.Identity
	addFile := func(role, path string) error {
		if readOnce(path) {
			id.SetOption(role, "-") // a pipe: reading it again would block or find it empty
			return nil
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		if err := id.AddFile(role, abs); err != nil {
			return fmt.Errorf("journal: campaign identity: %w", err)
		}
		return nil
	}
	switch {
	case len(in.To) > 0:
		id.SetOption("to", strings.Join(in.To, ","))
	case readOnce(in.Recipients):
		id.SetOption("recipients", "-") // standard input or a pipe: cannot be read again
	default:
		if err := addFile("recipients", in.Recipients); err != nil {
			return id, err
		}
	}
	if in.Templates != "" {
		if err := addFile("templates", in.Templates); err != nil {
			return id, err
		}
	}
	if in.Exclude != "" {
		if excludeGrows {
			abs, err := filepath.Abs(in.Exclude)
			if err != nil {
				return id, fmt.Errorf("journal: %w", err)
			}
			id.SetOption("exclude", abs)
		} else if err := addFile("exclude", in.Exclude); err != nil {
			return id, err
		}
	}
	delimiter := "auto"
	switch in.Delimiter {
	case 0:
	case '\t':
		delimiter = "tab"
	default:
		delimiter = string(in.Delimiter)
	}
	shard := ""
	if in.Shard.Count > 0 {
		shard = in.Shard.String()
	}
	for name, value := range map[string]string{
		"to-column":        in.ToColumn,
		"delimiter":        delimiter,
		"charset":          strings.ToLower(in.Charset),
		"template":         in.Template,
		"text":             in.Text,
		"allow-empty":      strconv.FormatBool(in.AllowEmpty),
		"default-region":   strings.ToUpper(in.DefaultRegion),
		"allow-duplicates": strconv.FormatBool(in.AllowDuplicates),
		"from":             in.From,
		"encoding":         in.Coding.Encoding.String(),
		"split":            in.Coding.Split.String(),
		"max-parts":        strconv.Itoa(in.Coding.MaxParts),
		"gsm7-packed":      strconv.FormatBool(in.Coding.Packed),
		"transliterate":    strconv.FormatBool(in.Transliterate),
		"shard":            shard,
	} {
		id.SetOption(name, value)
	}
	if in.SourceTON != nil {
		id.SetOption("source-ton", strconv.Itoa(int(*in.SourceTON)))
	}
	if in.SourceNPI != nil {
		id.SetOption("source-npi", strconv.Itoa(int(*in.SourceNPI)))
	}
	return id, nil
}

// campaignIdentity is the identity of the campaign s sends: its rows (inputIdentity) and the
// options of send that change what each submit_sm says. Rate, window, binds, the SMSC, the
// credentials and timeouts are left out, so that a resumed run may change them.
func campaignIdentity(s sendSettings, excludeGrows bool) (journal.Identity, error) {
	id, err := inputIdentity(s.input, excludeGrows)
	if err != nil {
		return id, err
	}
	id.SetOption("schedule", s.engine.Schedule.JournalText())
	id.SetOption("validity", s.engine.Validity.JournalText())
	id.SetOption("part-receipts", s.book.PartReceipts.String())
	if s.refOffsetRecorded {
		id.SetOption(refOffsetOption, strconv.Itoa(int(s.input.RefOffset)))
	}
	if s.templateTextRecorded {
		id.SetOption(templateTextOption, "trimmed")
	}
	if st := s.engine.ServiceType; st != "" {
		// Only when set: the journals of versions without --service-type stay the same
		// campaign.
		id.SetOption("service-type", st)
	}
	return id, nil
}

// recordedIdentity is the campaign identity of the journal at path, from its first record;
// nil when it cannot be read (opening the journal then says what is wrong).
func recordedIdentity(path string) *journal.Identity {
	var id *journal.Identity
	found := errors.New("found")
	_, _ = journal.Replay(path, func(r journal.Record) error {
		if r.Kind != journal.KindStart || r.Identity == nil {
			return nil
		}
		id = r.Identity
		return found
	})
	return id
}

// journalFacts is journal.LoadFacts, empty when the journal cannot be read (opening it
// then says why).
func journalFacts(path string) *journal.State { return orEmpty(journal.LoadFacts(path)) }

// idleJournalFacts is journal.LoadFactsIdle, empty when the journal cannot be read or a run
// has it (opening it then says why).
func idleJournalFacts(path string) *journal.State { return orEmpty(journal.LoadFactsIdle(path)) }

func orEmpty(st *journal.State, err error) *journal.State {
	if err != nil {
		return &journal.State{}
	}
	return st
}

// recordedExcludeGrows reports whether the campaign in the journal at path recorded its
// exclude file by path (as this version always does) rather than by content (as earlier ones
// did for a campaign sent without --optout-keywords), so that a resumed run computes its
// identity the same way. A journal it cannot read counts as this version's.
func recordedExcludeGrows(path string) bool {
	if id := recordedIdentity(path); id != nil {
		_, hashed := id.Files["exclude"]
		return !hashed
	}
	return true
}

// refOffsetOption names the identity option that keeps a campaign's concatenation reference
// offset (csvin.Config.RefOffset).
const refOffsetOption = "concat-ref-offset"

// concatRefOffset is the concatenation reference offset of the campaign js runs, and whether
// its identity records one: a new campaign draws it at random; a resumed one (and smscast
// receipts) takes the one its journal recorded, so that the parts it sends again carry the
// references the first run gave them. A journal of a version without offsets has none: 0,
// the row number alone, as that version sent.
func concatRefOffset(js journalSettings) (uint16, bool) {
	if !js.resume && !js.collect {
		return uint16(rand.Uint32()), true
	}
	id := recordedIdentity(js.path)
	if id == nil {
		return 0, false
	}
	v, ok := id.Options[refOffsetOption]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		// Not written by smscast: the resume's identity will differ and say so.
		return 0, true
	}
	return uint16(n), true
}

// templateTextOption names the identity option that says the campaign renders template
// texts trimmed, with every line break an LF (csvin.Config.TemplateTextAsRead false).
const templateTextOption = "template-text"

// templateTextAsRead says how the campaign js runs renders template texts, and whether its
// identity records it: a new campaign trims them (and records so); a resumed one (and smscast
// receipts) renders them as its first run did: a journal of a version that did not trim has
// no record, and its texts are kept as read, so that the parts sent again are cut as before.
func templateTextAsRead(js journalSettings) (asRead, recorded bool) {
	if !js.resume && !js.collect {
		return false, true
	}
	id := recordedIdentity(js.path)
	if id == nil {
		return false, false
	}
	_, recorded = id.Options[templateTextOption]
	return !recorded, recorded
}

// restoreFlags gives every restorable flag that the command line, the environment and
// --config left unset the value the journal's identity recorded, so that smscast receipts
// reads the campaign's rows the way send did.
func restoreFlags(c *cli.Context, id journal.Identity) error {
	if id.Options["recipients"] == "-" && !c.IsSet("recipients") {
		return errors.New("the campaign read its recipients from standard input or a pipe, which cannot be read again or checked: its report cannot be rebuilt from the journal")
	}
	for _, name := range []string{"templates", "exclude"} {
		if id.Options[name] == "-" && !c.IsSet(name) {
			return fmt.Errorf("the campaign read --%s from a pipe, which cannot be read again or checked: its report cannot be rebuilt from the journal", name)
		}
	}
	for _, name := range restorableFlags {
		if c.IsSet(name) {
			continue
		}
		value, ok := id.Options[name]
		if f, isFile := id.Files[name]; isFile {
			value, ok = f.Path, true
		}
		if !ok || value == "" {
			continue
		}
		if err := c.Set(name, value); err != nil {
			return fmt.Errorf("journal option %s %q: %w", name, value, err)
		}
	}
	return nil
}

// checkRows reports whether the rows about to be read (in) are the campaign's: the input part
// of the journal's identity must be the same. Options outside the input (schedule, ...) are
// not compared: smscast receipts sends nothing.
func checkRows(recorded journal.Identity, in csvin.Config) error {
	_, grows := recorded.Options["exclude"]
	now, err := inputIdentity(in, grows)
	if err != nil {
		return err
	}
	was := journal.Identity{Options: map[string]string{}, Files: map[string]journal.FileDigest{}}
	for name, v := range recorded.Options {
		if _, ok := now.Options[name]; ok || name == "to" || name == "recipients" || name == "exclude" {
			was.Options[name] = v
		}
	}
	for role, f := range recorded.Files {
		was.Files[role] = f
	}
	return was.Compare(now)
}

// campaignJournal is the journal, spool and resumption of one run of send or receipts.
type campaignJournal struct {
	settings journalSettings
	stderr   io.Writer
	w        *journal.Writer  // nil with --journal off
	spool    *journal.Spool   // nil when no receipts can come
	resume   *send.Resumption // nil for a new campaign
	spooled  int              // receipts of the campaign found in the spool
	closed   bool             // close has run
	// unrecorded is the report written that the journal could not record (a full disk):
	// a later run refuses it until it is removed.
	unrecorded string
	removed    bool // finish removed the journal of a campaign that sent nothing

	mu      sync.Mutex
	bound   bool  // a session was bound at some point
	bindErr error // the last reason binding failed
}

// openCampaignJournal creates the journal of a new campaign, or opens the one to resume or
// collect (checking that it is the same campaign, cutting a torn tail), feeds book with what
// earlier runs did, and opens the spool. A default report name that a run starting in the
// same second took first moves s's report and journal to the next free name. Errors carry
// their exit status.
func openCampaignJournal(s *sendSettings, book *report.Book, stderr io.Writer) (*campaignJournal, error) {
	js := s.journal
	cj := &campaignJournal{settings: js, stderr: stderr}
	if js.spool != "" {
		cj.spool = journal.NewSpool(js.spool, journal.Options{})
	}
	if js.path == "" {
		return cj, nil
	}
	if !js.resume && !js.collect {
		id, err := campaignIdentity(*s, true)
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		if js.replace {
			if err := removeJournal(js.path); err != nil {
				return nil, withExit(exitUsage, err)
			}
		}
		for {
			cj.w, err = journal.Create(js.path, id, journal.Options{})
			if err == nil || !errors.Is(err, fs.ErrExist) || s.reportNamedAt.IsZero() || js.path != s.report+".journal" {
				break
			}
			// A run that started in the same second took the default name after this one
			// chose it (the journal's O_EXCL creation is what reserves a name): take the next.
			next := defaultReportPath(s.input, s.format, s.reportNamedAt)
			if next == s.report {
				break
			}
			s.report, js.path = next, next+".journal"
			s.journal.path, cj.settings.path = js.path, js.path
		}
		if err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("--journal: %w; give --journal FILE in a directory where this user can write (or --journal off, without which no crash can be resumed)", err))
		}
		if err := recordReport(cj.w, s.report, true); err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("--journal: %w", err))
		}
		return cj, nil
	}
	var want *journal.Identity
	mode := send.SendNothing
	if js.resume {
		id, err := campaignIdentity(*s, recordedExcludeGrows(js.path))
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		want = &id
		mode = send.ResendUncertain
		if js.keepUncertain {
			mode = send.KeepUncertain
		}
	}
	// The report was decided on the journal's facts before it was opened (receipts, and a
	// resume by --journal alone); it is checked here again with the journal locked: a run may
	// have written and recorded the report in between.
	var checkReport func(*journal.State) error
	if js.resume || js.collect {
		checkReport = func(st *journal.State) error { return checkReportOwner(s.report, js.path, st) }
	}
	if fi, err := os.Stat(js.path); err == nil && fi.Size() >= bigJournal && !s.quiet {
		// Replaying a large campaign takes a while before anything else is said: say why.
		fmt.Fprintf(stderr, "reading the journal %s (%d MB): the campaign's rows and receipts so far\n", js.path, fi.Size()>>20)
	}
	w, st, err := journal.OpenChecked(js.path, want, checkReport, journal.Options{})
	var mismatch *journal.MismatchError
	if errors.As(err, &mismatch) && mismatch.Recorded.Options["recipients"] == "-" {
		return nil, withExit(exitUsage, fmt.Errorf("the campaign in %s read its recipients from standard input or a pipe, "+
			"which cannot be read again or checked: it cannot be resumed. The report says which rows were not sent; "+
			"send those as a new campaign with another --report", js.path))
	}
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	if err := recordReport(w, s.report, false); err != nil {
		return nil, withExit(exitUsage, err)
	}
	if st.Torn != nil {
		fmt.Fprintf(stderr, "warning: %s\n", st.Torn)
	}
	cj.w = w
	if cj.spooled, err = collectSpooled(js.spool, st, w, s.book.IDFormat); err != nil {
		fmt.Fprintf(stderr, "warning: receipts in the spool were not all read: %v\n", err)
	}
	cj.resume = send.NewResumption(st, book, mode)
	// This run's start as its journal records it, as a rebuild will read it: what this run
	// sends goes out after it (a resend's id, given again by the SMSC, is not an earlier one's).
	book.RunStarted(w.Started())
	// The Book and the resumption hold what they need of the receipts now: the state's list
	// would only keep them all alive for the whole run.
	st.Receipts = nil
	return cj, nil
}

// recordReport records in the journal w, before anything is sent, where this run writes the
// report, so that the campaign's later runs can tell its report from another campaign's. A
// journal that cannot take the record cannot take the rest either: it is closed, and a new
// campaign's, which has recorded nothing else, removed, so that the same command can be run
// again.
func recordReport(w *journal.Writer, report string, created bool) error {
	err := w.Report(report)
	if err == nil {
		return nil
	}
	w.Close()
	if created {
		os.Remove(w.Path())
	}
	return err
}

// campaignReport is where the campaign's report is by its journal, now at journalPath, whose
// state st holds the report record (ReportPath, ReportJournal) and the first run's start
// (locateReport), unless another campaign's journal claims that file (claimedByOther). ok is
// false for a journal that records no report (an earlier smscast's); err says why the report
// cannot be told.
func campaignReport(journalPath string, st *journal.State) (report string, ok bool, err error) {
	report, ok, err = locateReport(journalPath, st)
	switch {
	case err != nil || !ok || !exists(report):
	case claimedByOther(report, journalPath, st.ReportJournal):
		return "", false, fmt.Errorf("the report of the journal %s would be %s, but another campaign's journal claims that file; give --report FILE",
			journalPath, report)
	case !lastWritten(report, st, true) && writtenSinceStart(report, st):
		// Not the file this campaign wrote last (or it never wrote one), and written since it
		// began: the name may have been reused by another campaign since. (One older than the
		// campaign is what a --force start left there, to be replaced.)
		if n := acceptedUnknownToJournal(report, st); n > 0 {
			return "", false, fmt.Errorf("the report of the journal %s would be %s, which shows %d rows accepted that the journal does not: "+
				"the journal has lost records (cut short, or restored from an older backup), and resuming from it would send those rows again, unmarked; "+
				"restore the whole journal, and keep the report (it lists them), or, if %s is another campaign's report, give this campaign's with --report FILE",
				journalPath, report, n, report)
		}
		return "", false, fmt.Errorf("the report of the journal %s would be %s, but that file is not the one this campaign wrote (another campaign may have reused the name, or it was edited or copied without its times): "+
			"give this campaign's report with --report FILE, or, if %s is this campaign's report, remove it: the journal rebuilds it%s",
			journalPath, report, report, unlessJournalLost)
	}
	return report, ok, err
}

// acceptedUnknownToJournal counts the rows the report at path (CSV or JSON Lines) shows
// accepted or resubmitted that st does not have accepted: rows whose records the journal no
// longer holds, since a report is written from what the journal recorded. It counts them only
// when the report is this campaign's by its message ids (at least one row both have accepted,
// and every such row with an id in common); otherwise, for a file that is no report, or for
// st without its rows (the facts alone), 0: the report cannot be told to be this campaign's.
func acceptedUnknownToJournal(path string, st *journal.State) int {
	f, err := os.Open(path)
	if err != nil || len(st.Rows) == 0 {
		return 0
	}
	defer f.Close()
	unknown, common := 0, 0
	foreign := false
	count := func(row, parts int, status string, ids []string) {
		if status != string(report.SubmitAccepted) && status != string(report.SubmitResubmitted) {
			return
		}
		if st.Status(row, parts) != journal.Accepted {
			unknown++
			return
		}
		common++
		if !shareID(st.Rows[row], ids) {
			foreign = true
		}
	}
	if reportFormatOf(path) == report.FormatJSONL {
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			var r struct {
				Row    int      `json:"row"`
				Parts  int      `json:"parts"`
				IDs    []string `json:"message_ids"`
				Status string   `json:"submit_status"`
			}
			if json.Unmarshal(sc.Bytes(), &r) == nil {
				count(r.Row, r.Parts, r.Status, r.IDs)
			}
		}
	} else {
		rd := csv.NewReader(bufio.NewReader(f))
		rd.FieldsPerRecord = -1
		header, err := rd.Read()
		if err != nil {
			return 0
		}
		col := func(name string) int { return slices.Index(header, name) }
		rowCol, partsCol, idsCol, statusCol := col("row"), col("parts"), col("message_ids"), col("submit_status")
		if min(rowCol, partsCol, idsCol, statusCol) < 0 {
			return 0
		}
		for {
			rec, err := rd.Read()
			if err != nil {
				break
			}
			if max(rowCol, partsCol, idsCol, statusCol) >= len(rec) {
				continue
			}
			row, rerr := strconv.Atoi(rec[rowCol])
			parts, perr := strconv.Atoi(rec[partsCol])
			if rerr == nil && perr == nil {
				count(row, parts, rec[statusCol], report.CSVMessageIDs(rec[idsCol]))
			}
		}
	}
	if foreign || common == 0 {
		return 0
	}
	return unknown
}

// shareID reports whether r holds one of ids among its parts' message ids: as written (JSON
// Lines), as the CSV report writes them, or as versions that did not double a backslash did.
func shareID(r *journal.Row, ids []string) bool {
	for _, p := range r.Parts {
		for _, id := range p.MessageIDs {
			if slices.Contains(ids, id) || slices.Contains(ids, report.CSVMessageID(id)) ||
				slices.Contains(ids, strings.ReplaceAll(id, " ", `\x20`)) {
				return true
			}
		}
	}
	return false
}

// writtenSinceStart reports whether the file at path was last written after the campaign of
// st began (its first run's start), or when that cannot be told: by one of its runs, so that
// the journal should know it. A report older than that is one a --force start replaced the
// campaign of.
func writtenSinceStart(path string, st *journal.State) bool {
	fi, err := os.Stat(path)
	return err == nil && (len(st.RunStarts) == 0 || !fi.ModTime().Before(st.RunStarts[0]))
}

// unlessJournalLost ends the advice to remove a report the journal does not recognise: the
// journal may be the one that changed.
const unlessJournalLost = " (unless the journal was restored from a backup or cut short: then the report is newer than " +
	"the journal, and the rows it shows sent that the journal lost would be sent again, unmarked)"

// lastWritten reports whether the file at path is the report as the campaign last wrote it:
// the size and modification time the journal recorded (to the nanosecond; to the second for a
// copy that kept only seconds); with before, also as the write before made it. That counts
// only at the report's recorded place: a run records its report before putting it in place,
// and one that died in between left the report there as it was (elsewhere, such a file may
// be the original of a copied campaign, whose copy has written its own report since).
func lastWritten(path string, st *journal.State, before bool) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	return sameFacts(fi, st.ReportSize, st.ReportModTime) || before && sameFacts(fi, st.PrevReportSize, st.PrevReportModTime)
}

// sameFacts reports whether fi has the size and modification time (Unix ns) a record gave.
func sameFacts(fi fs.FileInfo, size, modTime int64) bool {
	if modTime == 0 || fi.Size() != size {
		return false
	}
	mod, written := fi.ModTime(), time.Unix(0, modTime)
	return mod.Equal(written) || mod.Nanosecond() == 0 && mod.Unix() == written.Unix()
}

// locateReport is where the report a journal records is now:
//   - the journal is where it was when the report was recorded: the recorded report;
//   - it has been moved, renamed or copied since (a renamed campaign directory, a backup
//     restored elsewhere, jan.csv + jan.csv.journal renamed to free out.csv for the next
//     campaign): the file beside it when the report was beside the journal, named after it
//     (send's pairing); else where the report was relative to the journal, if inside the
//     journal's directory (a file to be written anew if there is none: where the recorded
//     report stayed cannot be told from a file of another campaign there now).
func locateReport(journalPath string, st *journal.State) (report string, ok bool, err error) {
	recorded, recordedJournal := st.ReportPath, st.ReportJournal
	if recorded == "" {
		return "", false, nil
	}
	here, err := journal.ResolvedPath(journalPath)
	if err != nil {
		return "", false, err
	}
	if recordedJournal == "" || here == recordedJournal || sameFile(journalPath, recordedJournal) {
		return recorded, true, nil
	}
	if beside, isJournal := strings.CutSuffix(here, ".journal"); isJournal && recorded+".journal" == recordedJournal && isFile(beside) {
		return beside, true, nil
	}
	rel, err := filepath.Rel(filepath.Dir(recordedJournal), recorded)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false, fmt.Errorf("the journal %s has moved from %s, and its report %s was outside the journal's directory, so where it is now cannot be told; give --report FILE",
			journalPath, recordedJournal, recorded)
	}
	moved := filepath.Join(filepath.Dir(here), rel)
	switch {
	case isFile(moved):
		return moved, true, nil
	case exists(moved):
		return "", false, fmt.Errorf("the journal %s has moved from %s; its report would be %s, which is not a file; give --report FILE",
			journalPath, recordedJournal, moved)
	}
	return moved, true, nil // deleted, to be rebuilt
}

// claimedByOther reports whether report is another journal's by a journal that names it: the
// one beside it, or the one now at our journal's recorded place (the original of a copy, or
// another campaign under names reused after ours was renamed). Such a journal, not ours,
// claims report when its report is report (locateReport), or, for an earlier smscast's
// journal, when it sits beside report. A copy of a journal does not take over its original's
// report.
func claimedByOther(report, ourJournal, recordedJournal string) bool {
	for _, other := range []string{report + ".journal", recordedJournal} {
		if other == "" || !isFile(other) || sameFile(other, ourJournal) {
			continue
		}
		facts := journalFacts(other)
		if len(facts.RunStarts) == 0 {
			continue // not a journal
		}
		if theirs, ok, _ := locateReport(other, facts); ok && sameFile(theirs, report) || !ok && sameFile(other, report+".journal") {
			return true
		}
	}
	return false
}

// reportByJournal is the report a run without --report rewrites (smscast receipts, send
// --resume --journal): the campaign's, by its journal (campaignReport); for a journal of an
// earlier smscast, fallback (the name beside the journal, or send's default name).
func reportByJournal(journalPath string, st *journal.State, fallback func() (string, error)) (string, error) {
	report, ok, err := campaignReport(journalPath, st)
	switch {
	case err != nil:
		return "", err
	case ok:
		return report, nil
	}
	return fallback()
}

// checkReportOwner refuses, before anything is sent and before the journal or a report
// changes, a --report that names an existing file another campaign's journal claims, or,
// while the campaign's report can be told (campaignReport), any other existing file: most
// likely another campaign's (a --config file shared by two campaigns, a copied cron line),
// which rewriting would replace. Where nothing is, the report moves on purpose, and this run
// records its new place.
func checkReportOwner(path, journalPath string, st *journal.State) error {
	want, ok, err := campaignReport(journalPath, st)
	give := "give this campaign's report with --report"
	if err == nil && ok {
		give = fmt.Sprintf("give --report %s --journal %s", shellQuote(want), shellQuote(journalPath))
	}
	switch {
	case st.Runs == 0 && (exists(path) || exists(report.UnmatchedPath(path))):
		// A crash before the first record sent nothing, and wrote no report: a journal
		// emptied or cut short since would have every row sent again.
		return fmt.Errorf("the journal %s records no run (it is empty, or cut short before its first record), but %q exists: "+
			"the campaign has run, and resuming from this journal would send every row again, unmarked; restore the journal from a backup, "+
			"or, to send every row again knowingly, run without --resume and with --force", journalPath, path)
	case !exists(path):
		return nil // the report moves there; this run records its new place
	case lastWritten(path, st, false):
		return nil // the report as the campaign last wrote it, wherever it is now
	case !isFile(path):
		return fmt.Errorf("--report %q is not a file; give the report's file", path)
	case isJournalFile(path):
		return fmt.Errorf("--report %q is a journal; give the report's file (the journal goes with --journal)", path)
	case claimedByOther(path, journalPath, st.ReportJournal):
		return fmt.Errorf("--report %q is another campaign's report (a journal of that campaign names it); %s, or a name no file has yet",
			path, give)
	case err == nil && !ok && len(st.Rows) == 0 && writtenSinceStart(path, st):
		// A run records its report's place right after its start record: a journal with
		// neither that nor any row, while a report written since the campaign began is
		// there, lost its records after the first. (A journal of an earlier smscast, which
		// recorded no report, has its rows.)
		return fmt.Errorf("the journal %s records no report, but %q was written after the campaign began (%s): "+
			"the journal has lost records (cut short, or restored from an older backup), and resuming from it would send again, "+
			"unmarked, the rows it lost; restore the whole journal, or, if %q is another campaign's report, give another --report",
			journalPath, path, st.RunStarts[0].Format(time.RFC3339), path)
	case err == nil && !ok, err == nil && sameFile(path, want):
		return nil
	case err != nil:
		return fmt.Errorf("--report %q exists, and it cannot be told to be this campaign's report: %w", path, err)
	}
	return fmt.Errorf("--report %q is not this campaign's report: its journal %q says the report is %q; %s, "+
		"or, if %q is this campaign's report moved there, remove it first: the journal rebuilds it%s",
		path, journalPath, want, give, path, unlessJournalLost)
}

// isJournalFile reports whether the file at path is a journal (by its first bytes).
func isJournalFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(journal.Magic))
	_, err = io.ReadFull(f, head)
	return err == nil && string(head) == journal.Magic
}

// isFile reports whether a regular file is at path.
func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// sameFile reports whether a and b name one file: the same absolute path, or two names
// (a link, another spelling) of a file that exists.
func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// removeJournal deletes the journal at path for --force, after making sure that it is a
// journal (never an input or another file given by mistake) and that no other smscast
// process is using it.
func removeJournal(path string) error {
	w, _, err := journal.Open(path, nil, journal.Options{})
	var corrupt *journal.CorruptError
	var version *journal.VersionError
	switch {
	case err == nil:
		w.Close()
	case errors.Is(err, os.ErrNotExist):
		return nil
	case errors.As(err, &corrupt), errors.As(err, &version):
		// A journal all the same: --force may replace it.
	default:
		return fmt.Errorf("--force: not replacing %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("--force: %w", err)
	}
	return nil
}

// configure hands the journal, spool and resumption to the engine.
func (cj *campaignJournal) configure(cfg *send.Config) {
	if cj.w != nil {
		cfg.Journal = finishOnly{cj.w}
	}
	if cj.spool != nil {
		cfg.Spool = cj.spool
	}
	if cj.resume != nil {
		cfg.Resume, cfg.ResumeRead = cj.resume.Row, cj.resume.AllRead
	}
}

// watch wraps the engine's event handler to learn whether a session was ever bound, which
// decides the exit status of smscast receipts.
func (cj *campaignJournal) watch(next func(send.Event)) func(send.Event) {
	return func(e send.Event) {
		var connErr *send.ConnectError
		cj.mu.Lock()
		switch {
		case e.Kind == send.EventBound:
			cj.bound = true
		case e.Kind == send.EventBindFailed, send.SettingRefused(e.Err), errors.As(e.Err, &connErr):
			cj.bindErr = e.Err
		}
		cj.mu.Unlock()
		next(e)
	}
}

// bigJournal is the size from which reading a journal is said first: about 50,000 rows,
// a second or more of replay. (A variable for tests.)
var bigJournal int64 = 8 << 20

// finishOnly is the journal as the engine sees it: its Close ends the run's records but keeps
// the journal locked until the report is written and recorded (campaignJournal.recorder).
type finishOnly struct{ *journal.Writer }

func (f finishOnly) Close() error { return f.Finish() }

// recorder returns what records in the journal, still locked after the run, the report this
// run writes at report (its path, size and modification time), just before the file is put
// in place: later runs take that file as the campaign's, wherever it goes, and refuse one
// another campaign wrote over it. nil when there is no journal to record in: a first run
// that sent nothing has removed its journal, and --journal off keeps none.
func (cj *campaignJournal) recorder(report string) func(fs.FileInfo) {
	if cj.w == nil || cj.removed || cj.closed {
		return nil
	}
	return func(fi fs.FileInfo) {
		if err := cj.w.ReportWritten(report, fi); err != nil {
			cj.unrecorded = report
			// A later run cannot then tell this file from another campaign's and refuses it.
			fmt.Fprintf(cj.stderr, "smscast: the journal could not record the report written to %s: %v; "+
				"before --resume or smscast receipts, remove %s (the journal rebuilds it)\n", report, err, shellQuote(report))
			return
		}
		cj.unrecorded = ""
	}
}

// aboutFile is err, said to be about the file what at path unless it names path already (the
// journal's own errors do).
func aboutFile(what, path string, err error) error {
	if strings.Contains(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s %s: %w", what, path, err)
}

// close closes the journal (the engine has finished it already after a run) and the spool.
// Calls after the first do nothing.
func (cj *campaignJournal) close() {
	if cj.closed {
		return
	}
	cj.closed = true
	if cj.w != nil {
		if err := cj.w.Close(); err != nil {
			fmt.Fprintf(cj.stderr, "smscast: %v\n", aboutFile("journal", cj.settings.path, err))
		}
	}
	if cj.spool != nil {
		if err := cj.spool.Close(); err != nil {
			fmt.Fprintf(cj.stderr, "smscast: %v\n", aboutFile("spool", cj.spool.Dir(), err))
		}
	}
}

// finish ends the run's use of the journal. The journal of a new campaign that sent nothing
// (the bind was refused, every row was invalid, stopped at once) records nothing worth
// resuming and is removed, so that the same command can simply be run again. A resumed run
// says what it made of the journal.
func (cj *campaignJournal) finish(sent bool, expired int) {
	if cj.w != nil && cj.resume == nil && !sent {
		cj.close()
		cj.removed = true
		if err := os.Remove(cj.settings.path); err != nil {
			fmt.Fprintf(cj.stderr, "smscast: %v\n", aboutFile("journal", cj.settings.path, err))
		}
	}
	if r := cj.resume; r != nil && cj.settings.resume {
		// The counts are what the journal called for; the report says what went out.
		fmt.Fprintf(cj.stderr, "resumed from %s: %d rows accepted before, %d rejected before (not sent again); %d to send again, marked resubmitted, %d left uncertain; %d to send for the first time",
			cj.settings.path, r.Accepted, r.Rejected, r.Resent, r.Uncertain, r.Unsent)
		if !sent {
			fmt.Fprint(cj.stderr, "; nothing was sent in this run")
		}
		if expired > 0 {
			fmt.Fprintf(cj.stderr, "; %d of those to send were not, their validity (--validity) having ended", expired)
		}
		if r.Completed > 0 {
			fmt.Fprintf(cj.stderr, "; %d partly sent before, of which only the parts not yet accepted are to send", r.Completed)
		}
		if cj.spooled > 0 {
			fmt.Fprintf(cj.stderr, "; %d receipts taken from the spool", cj.spooled)
		}
		fmt.Fprintln(cj.stderr)
	}
}

// bindState reports whether a session was ever bound, and the last reason binding failed.
func (cj *campaignJournal) bindState() (bool, error) {
	cj.mu.Lock()
	defer cj.mu.Unlock()
	return cj.bound, cj.bindErr
}

// collectSpooled moves the receipts in the spool directory dir that belong to the campaign
// of st (their id matches one of its message ids, and they came after that message was sent)
// into its journal w and into st's receipts, for the resumption to match with the journal's
// own, and returns how many it found. Receipts the journal already holds are skipped, so that
// collecting twice adds nothing. Spool files are never changed.
func collectSpooled(dir string, st *journal.State, w *journal.Writer, format smpp.IDFormat) (int, error) {
	if dir == "" {
		return 0, nil
	}
	// By key, the earliest time a message with it was sent (0: not recorded, any time): a
	// receipt from before cannot be about it (an SMSC gives the same ids again after a
	// restart, and the spool is shared by every campaign; see journal.Row.EarliestSend).
	starts := st.SortedRunStarts()
	keys := make(map[string]int64, len(st.Rows))
	for _, r := range st.Rows {
		for i := range r.Parts {
			sent := int64(0)
			if at := r.EarliestSend(&r.Parts[i], starts); !at.IsZero() {
				sent = at.UnixNano()
			}
			for _, id := range r.Parts[i].MessageIDs {
				for _, k := range smpp.MessageIDKeys(id, format) {
					if was, ok := keys[k]; !ok || sent < was {
						keys[k] = sent
					}
				}
			}
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	type receiptKey struct {
		id, stat string
		at       int64
	}
	keyOf := func(r smpp.Receipt, at time.Time) receiptKey { return receiptKey{r.ID, r.Stat, at.UnixNano()} }
	// The campaign's receipts in the spool first (few), then which of them the journal has
	// already: a set of every journaled receipt would cost as much as the journal's receipts.
	isNew := map[receiptKey]bool{}
	var found []journal.SpooledReceipt
	_, readErr := journal.ReadSpool(dir, func(sr journal.SpooledReceipt) error {
		k := keyOf(sr.Receipt, sr.At)
		if _, dup := isNew[k]; dup {
			return nil
		}
		for _, key := range smpp.MessageIDKeys(sr.Receipt.ID, format) {
			if sent, ok := keys[key]; ok && sr.At.UnixNano() >= sent {
				isNew[k] = true
				found = append(found, sr)
				break
			}
		}
		return nil
	})
	for _, r := range st.Receipts {
		if k := keyOf(r.Receipt, r.At); isNew[k] {
			isNew[k] = false
		}
	}
	found = slices.DeleteFunc(found, func(sr journal.SpooledReceipt) bool { return !isNew[keyOf(sr.Receipt, sr.At)] })
	var wg sync.WaitGroup
	var errMu sync.Mutex
	var writeErr error
	for _, sr := range found {
		wg.Add(1)
		w.ReceiptThen(sr.Receipt, sr.At, func(err error) {
			if err != nil {
				errMu.Lock()
				if writeErr == nil {
					writeErr = err
				}
				errMu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	for _, sr := range found {
		st.Receipts = append(st.Receipts, &journal.ReceiptRecord{Receipt: sr.Receipt, At: sr.At})
	}
	if writeErr != nil {
		return len(found), fmt.Errorf("journal: %w", writeErr)
	}
	if readErr != nil {
		return len(found), fmt.Errorf("spool %s: %w", dir, readErr)
	}
	return len(found), nil
}
