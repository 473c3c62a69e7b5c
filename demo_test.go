package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/csvin"
	"smscast/smsc"
)

// TestDemo runs `smscast demo` as a user would and checks the files it leaves: every row of
// the report has its designed outcome, and the simulator received each text intact.
func TestDemo(t *testing.T) {
	// A real campaign's settings in the environment must not change the demo.
	t.Setenv("SMSCAST_TLS", "true")
	t.Setenv("SMSCAST_SHARD", "1/2")
	t.Setenv("SMSCAST_RATE", "0.01")
	dir := t.TempDir()
	code, stderr := runDemoCommand(t, "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
	}
	reportPath := filepath.Join(dir, "report.csv")
	if !strings.Contains(stderr, reportPath) {
		t.Errorf("stderr does not say where the report is (%s):\n%s", reportPath, stderr)
	}

	want := []struct {
		row                  int
		msisdn               string
		submit, errorHas     string
		receipt, encoding    string
		minParts, maxParts   int
		source               string // sender the simulator saw; "" for rows it never accepted
		textHas              []string
		dataCoding, esmClass uint8
	}{
		{1, "491711234567", "accepted", "", "DELIVRD", "gsm7", 1, 1, "smscast", []string{"Hello Anna,", "Berlin"}, 0x00, 0},
		{2, "447911123456", "accepted", "", "DELIVRD", "gsm7", 1, 1, "Shop", []string{"Hi Ben:", "[SPRING]", "€5 off ~ every"}, 0x00, 0},
		{3, "33612345678", "accepted", "", "DELIVRD", "ucs2", 1, 1, "smscast", []string{"Bonjour Chloé 👋", "à Paris 📦"}, 0x08, 0},
		{4, "12025550123", "accepted", "", "DELIVRD", "gsm7", 2, 10, "smscast", []string{"Dear Dan,", "Washington will see it as one message."}, 0x00, 0x40},
		{5, "'+49 171 12", "invalid", "invalid number", "", "", 0, 0, "", nil, 0, 0},
		{6, "4915550123456", "rejected", "0x0000000B ESME_RINVDSTADR", "", "gsm7", 1, 1, "", nil, 0, 0},
		{7, "4915551123456", "accepted", "", "UNDELIV", "gsm7", 1, 1, "smscast", []string{"Hello Grace,", "München"}, 0x00, 0},
		{8, "4915112345678", "accepted", "", "DELIVRD", "gsm7", 1, 1, "Acme", []string{"Hi there:", "€5"}, 0x00, 0},
		{9, "4915552123456", "accepted", "", "DELIVRD", "gsm7", 1, 1, "smscast", []string{"Hello Ivy,", "Leipzig"}, 0x00, 0},
	}
	rows, err := readReportFile(reportPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(want) {
		t.Fatalf("report has %d rows, want %d", len(rows), len(want))
	}
	received := readMessageLog(t, filepath.Join(dir, "messages.jsonl"))
	rendered := demoRendered(t, dir)
	for i, w := range want {
		r := rows[i]
		if r["row"] != strconv.Itoa(w.row) || r["msisdn"] != w.msisdn {
			t.Errorf("report line %d: row %s msisdn %s, want row %d msisdn %s", i+1, r["row"], r["msisdn"], w.row, w.msisdn)
		}
		if r["submit_status"] != w.submit || r["receipt_status"] != w.receipt || r["encoding"] != w.encoding {
			t.Errorf("row %d: submit %s, receipt %q, encoding %q; want %s, %q, %q",
				w.row, r["submit_status"], r["receipt_status"], r["encoding"], w.submit, w.receipt, w.encoding)
		}
		if e := r["submit_error"]; (w.errorHas == "") != (e == "") || !strings.Contains(e, w.errorHas) {
			t.Errorf("row %d: submit_error %q, want one with %q", w.row, e, w.errorHas)
		}
		parts, err := strconv.Atoi(r["parts"])
		if err != nil || parts < w.minParts || parts > w.maxParts {
			t.Errorf("row %d: parts %q, want %d … %d", w.row, r["parts"], w.minParts, w.maxParts)
		}
		ids := strings.Fields(r["message_ids"])
		if (w.submit == "accepted") != (len(ids) == parts && parts > 0) {
			t.Errorf("row %d: message_ids %q for %d parts", w.row, r["message_ids"], parts)
		}

		m, ok := received[w.msisdn]
		if w.source == "" {
			if ok {
				t.Errorf("row %d: the simulator accepted a message for %s, which should never have been sent or accepted", w.row, w.msisdn)
			}
			continue
		}
		if !ok {
			t.Errorf("row %d: the simulator has no message for %s", w.row, w.msisdn)
			continue
		}
		if m.Text != rendered[w.row] {
			t.Errorf("row %d: the simulator decoded %q (error %q), want the rendered %q", w.row, m.Text, m.TextError, rendered[w.row])
		}
		for _, s := range w.textHas {
			if !strings.Contains(m.Text, s) {
				t.Errorf("row %d: the simulator decoded %q, which lacks %q", w.row, m.Text, s)
			}
		}
		if m.Source.Addr != w.source || m.DataCoding != w.dataCoding || m.ESMClass != w.esmClass {
			t.Errorf("row %d: simulator saw source %q, data_coding %#x, esm_class %#x; want %q, %#x, %#x",
				w.row, m.Source.Addr, m.DataCoding, m.ESMClass, w.source, w.dataCoding, w.esmClass)
		}
		if m.Parts != parts || m.TotalParts != parts || strings.Join(m.IDs, " ") != strings.Join(ids, " ") {
			t.Errorf("row %d: simulator has %d of %d parts with ids %v; the report %d parts with ids %v",
				w.row, m.Parts, m.TotalParts, m.IDs, parts, ids)
		}
		if want := map[bool]string{true: "UNDELIV", false: "DELIVRD"}[w.receipt == "UNDELIV"]; m.State != want {
			t.Errorf("row %d: simulator's fate %s, want %s", w.row, m.State, want)
		}
	}
	if len(received) != 7 {
		t.Errorf("the simulator accepted %d messages, want 7", len(received))
	}
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err != nil || !json.Valid(b) {
		t.Errorf("summary.json: %v, valid JSON %v", err, json.Valid(b))
	}
	checkDemoInbox(t, dir)

	// The demo's files are not replaced without --force, and nothing is sent then.
	code, stderr = runDemoCommand(t, "--dir", dir)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("second run: exit %d, stderr %q; want 1 and a hint to use --force", code, stderr)
	}
	// With --force it runs again as designed: the reply and the opt-out of the first run,
	// which send appends to, do not carry over (the replier would be excluded).
	code, stderr = runDemoCommand(t, "--dir", dir, "--force", "--rate", "0", "--quiet")
	if code != exitOK {
		t.Fatalf("run with --force: exit %d; stderr:\n%s", code, stderr)
	}
	checkDemoInbox(t, dir)
}

// checkDemoInbox checks that the replying handset's two-part answer is one inbox line and
// its number the only opt-out.
func checkDemoInbox(t *testing.T, dir string) {
	t.Helper()
	recs := readCSV(t, filepath.Join(dir, "inbox.csv"))
	if len(recs) != 2 || recs[1][1] != "4915552123456" || recs[1][2] != "smscast" || recs[1][3] != demoReplyText {
		t.Errorf("inbox.csv holds %q, want one line: the whole reply of 4915552123456", recs)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "optouts.txt")); err != nil || string(b) != "+4915552123456\n" {
		t.Errorf("optouts.txt holds %q (%v), want +4915552123456", b, err)
	}
}

// runDemoCommand runs `smscast demo args...` and returns its exit status and stderr.
func runDemoCommand(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	app := newApp(&stdout, &stderr)
	app.Commands = []*cli.Command{demoCommand()}
	err := app.RunContext(ctx, append([]string{"smscast", "demo"}, args...))
	printError(&stderr, err)
	return exitCode(err), stderr.String()
}

// readMessageLog reads the simulator's message log by destination; a destination must
// appear once.
func readMessageLog(t *testing.T, path string) map[string]smsc.Message {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msgs := map[string]smsc.Message{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m smsc.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v in %s", path, err, sc.Text())
		}
		if _, dup := msgs[m.Destination.Addr]; dup {
			t.Errorf("%s: two messages for %s", path, m.Destination.Addr)
		}
		msgs[m.Destination.Addr] = m
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// demoRendered renders the demo inputs in dir as plan does and returns the texts by row.
func demoRendered(t *testing.T, dir string) map[int]string {
	t.Helper()
	rd, err := csvin.Open(csvin.Config{
		Recipients: filepath.Join(dir, "recipients.csv"),
		Templates:  filepath.Join(dir, "templates.csv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	texts := map[int]string{}
	for {
		r, err := rd.Next()
		if err != nil {
			break
		}
		texts[r.Num] = r.Text
	}
	return texts
}

// TestCheckDemo shows that the demo notices when a row does not end as designed, and names
// the row: a demo that always exits 0 would prove nothing.
func TestCheckDemo(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{demoRecipientsFile, demoTemplatesFile} {
		b, err := demoInputs.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	app := &cli.App{ErrWriter: &strings.Builder{}}
	s, err := demoSendSettings(context.Background(), app, []string{
		"--smsc", "127.0.0.1:1", // never dialled
		"--recipients", filepath.Join(dir, demoRecipientsFile), "--templates", filepath.Join(dir, demoTemplatesFile),
		"--report", filepath.Join(dir, demoReportFile),
	})
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := renderedRows(s.input)
	if err != nil {
		t.Fatal(err)
	}

	// designed is the report and the simulator's record of a run that went as designed.
	designed := func() ([]map[string]string, []smsc.Message) {
		var lines []map[string]string
		var msgs []smsc.Message
		for _, d := range demoDesign {
			parts := 1
			if d.multipart {
				parts = 2
			}
			if d.submit == "invalid" {
				parts = 0
			}
			lines = append(lines, map[string]string{
				"row": strconv.Itoa(d.row), "msisdn": d.msisdn, "submit_status": string(d.submit),
				"submit_error": d.errorHas, "receipt_status": d.receipt, "encoding": d.encoding,
				"parts": strconv.Itoa(parts),
			})
			if d.submit == "accepted" {
				r := rendered[d.row]
				msgs = append(msgs, smsc.Message{Destination: smsc.Address{Addr: r.MSISDN}, Text: r.Text, Parts: parts, TotalParts: parts})
			}
		}
		return lines, msgs
	}
	if lines, msgs := designed(); len(checkDemo(lines, rendered, msgs)) != 0 {
		t.Fatalf("a run as designed has differences: %q", checkDemo(lines, rendered, msgs))
	}

	line := func(lines []map[string]string, row int) map[string]string { return lines[row-1] }
	tests := []struct {
		name   string
		change func(lines []map[string]string, msgs []smsc.Message) ([]map[string]string, []smsc.Message)
		want   string
	}{
		{"rejected row accepted", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 6)["submit_status"], line(l, 6)["submit_error"] = "accepted", ""
			return l, m
		}, "row 6: submit_status"},
		{"reject for another reason", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 6)["submit_error"] = "0x00000008 ESME_RSYSERR"
			return l, m
		}, "row 6: submit_error"},
		{"undelivered row delivered", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 7)["receipt_status"] = "DELIVRD"
			return l, m
		}, "row 7: receipt_status"},
		{"receipt missing", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 1)["receipt_status"] = "PENDING"
			return l, m
		}, "row 1: receipt_status"},
		{"invalid row sent", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 5)["submit_status"] = "accepted"
			return l, m
		}, "row 5: submit_status"},
		{"emoji in GSM", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 3)["encoding"] = "gsm7"
			return l, m
		}, "row 3: encoding"},
		{"long text in one part", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 4)["parts"] = "1"
			return l, m
		}, "row 4: parts"},
		{"row numbers shifted", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			line(l, 2)["msisdn"] = "491711234567"
			return l, m
		}, "row 2: msisdn"},
		{"row missing", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			return append(l[:4:4], l[5:]...), m
		}, "row 5 is missing"},
		{"euro sign lost on the wire", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			m[1].Text = strings.ReplaceAll(m[1].Text, "€", "e")
			return l, m
		}, "row 2: the simulator decoded"},
		{"part missing at the SMSC", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			m[3].Parts = 1
			return l, m
		}, "row 4: the simulator received 1 of 2 parts"},
		{"sent twice", func(l []map[string]string, m []smsc.Message) ([]map[string]string, []smsc.Message) {
			return l, append(m, m[len(m)-1])
		}, "row 9: the simulator received 2 messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, msgs := tt.change(designed())
			diffs := checkDemo(lines, rendered, msgs)
			if len(diffs) == 0 || !strings.Contains(strings.Join(diffs, "\n"), tt.want) {
				t.Errorf("differences %q, want one with %q", diffs, tt.want)
			}
		})
	}
}

func TestDemoDir(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir, err := demoDir("", false, time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != tmp || !strings.HasPrefix(filepath.Base(dir), "smscast-demo-20250301-093000-") {
		t.Errorf("default directory %s, want a smscast-demo-20250301-093000-… directory in %s", dir, tmp)
	}

	want := filepath.Join(tmp, "new", "demo")
	if got, err := demoDir(want, false, time.Now()); err != nil || got != want {
		t.Errorf("demoDir(%s) = %s, %v; want it created", want, got, err)
	}
	if err := os.WriteFile(filepath.Join(want, demoSummaryFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := demoDir(want, false, time.Now()); err == nil || !strings.Contains(err.Error(), demoSummaryFile) {
		t.Errorf("a directory with the demo's %s: error %v, want one naming the file", demoSummaryFile, err)
	}
	if _, err := demoDir(want, true, time.Now()); err != nil {
		t.Errorf("with force: %v", err)
	}
}
