package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smscast/smsc"
)

// TestSend_pendingSaysHowToCollect: rows still PENDING after --wait are not a failure (exit 0),
// but send says so and how to collect them later, with the campaign's actual journal path;
// the message about rows not accepted carries the same advice.
func TestSend_pendingSaysHowToCollect(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{ReceiptDelay: time.Hour, RejectPrefixes: []string{"491710000003"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 5)
	journal := filepath.Join(dir, "recipients.report.csv.journal")
	args := []string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
		"--from", "ACME", "--rate", "0", "--wait", "0", "--quiet", "--spool", t.TempDir()}

	code, stderr := runApp(t, args...)
	want := "smscast: 4 sent rows are still PENDING (no final receipt yet); collect their receipts later with: smscast receipts --journal " + journal
	if code != exitIncomplete || !strings.Contains(stderr, "1 of 5 rows were not accepted") || !strings.Contains(stderr, "; "+strings.TrimPrefix(want, "smscast: ")) {
		t.Errorf("with a rejected row: exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, exitIncomplete, want)
	}

	srv2, err := smsc.NewServer(smsc.Config{ReceiptDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	args[2] = srv2.Addr()
	code, stderr = runApp(t, append(args, "--force")...)
	want = strings.Replace(want, "4 sent", "5 sent", 1)
	if code != exitOK || !strings.Contains(stderr, want) {
		t.Errorf("all accepted: exit %d, stderr:\n%s\nwant exit 0 and %q", code, stderr, want)
	}
}

func TestPendingNote(t *testing.T) {
	tests := []struct {
		pending                int
		journal, report, spool string
		pipe                   bool
		want                   string
	}{
		{0, "x.journal", "x", "", false, ""},
		{1, "x.journal", "x", "", false, "1 sent row is still PENDING (no final receipt yet); collect their receipts later with: smscast receipts --journal x.journal (with the same --smsc, --system-id and password; add --inbox and --optout-keywords to keep replies and opt-outs)"},
		{2, "my campaign/it's.journal", "my campaign/it's", "", false, `--journal 'my campaign/it'\''s.journal' (with`},
		{3, "", "x", "", false, "no journal was kept (--journal off)"},
		{4, "smscast-report-1.csv.journal", "smscast-report-1.csv", "", true, "cannot collect them later: give such a campaign a longer --wait"},
		// A journal elsewhere (--journal): receipts must be told where the report is.
		{5, "state/c.journal", "reports/c.csv", "", false, "smscast receipts --journal state/c.journal --report reports/c.csv (with"},
		{6, "c.state", "c.csv", "", false, "smscast receipts --journal c.state --report c.csv (with"},
		// A --spool of its own: every command of the campaign takes it.
		{7, "x.journal", "x", "./sp3", false, "smscast receipts --journal x.journal --spool ./sp3 (with"},
	}
	// The campaign's --summary-json: receipts rewrites it too, or it keeps saying PENDING.
	if got := pendingNote(2, "x.journal", "x", "", "out/sum.json", false); !strings.Contains(got, "--journal x.journal --summary-json out/sum.json (with") {
		t.Errorf("pendingNote with --summary-json = %q, want it in the command", got)
	}
	for _, tt := range tests {
		got := pendingNote(tt.pending, tt.journal, tt.report, tt.spool, "", tt.pipe)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("pendingNote(%d, %q, %q) = %q, want it to contain %q", tt.pending, tt.journal, tt.report, got, tt.want)
		}
	}
}
