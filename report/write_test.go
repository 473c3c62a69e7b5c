package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"smscast/smpp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./report -update rewrites it):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// campaign builds a book with one row of every kind the report knows.
func campaign() *Book {
	b := NewBook(Options{})
	entries := []Entry{
		{Row: 1, MSISDN: "+447700900123", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 2, MSISDN: "491711234567", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 3, MSISDN: "491711234568", Template: "long", Encoding: "ucs2", Parts: 3},
		{Row: 4, MSISDN: "491711234569", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 5, MSISDN: "=cmd|' /C calc'!A0", Template: "-promo", Encoding: "gsm7", Status: SubmitInvalid,
			Reason: `not a phone number: "=cmd|' /C calc'!A0"`},
		{Row: 6, MSISDN: "491711234567", Template: "welcome", Encoding: "gsm7", Parts: 1, Status: SubmitDuplicate,
			Reason: "same number as row 2"},
		{Row: 7, MSISDN: "491700000000", Template: "welcome", Encoding: "gsm7", Parts: 1, Status: SubmitExcluded,
			Reason: "on the exclude list"},
		{Row: 8, MSISDN: "491711234570", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 9, MSISDN: "491711234571", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 10, MSISDN: "491711234572", Template: "welcome", Encoding: "gsm7", Parts: 1},
		{Row: 11, MSISDN: "491711234573", Template: "welcome", Encoding: "gsm7", Parts: 1},
	}
	for _, e := range entries {
		b.Add(e)
		if e.Status == "" {
			b.Planned(e.Row, at(100*e.Row))
		}
	}
	b.Accepted(1, 0, "5f1e0b7a", at(150))
	b.Accepted(2, 0, "1A2B", at(260))
	for p, id := range []string{"00c0", "00c1", "00c2"} {
		b.Accepted(3, p, id, at(320+p))
	}
	b.Rejected(4, "0x0000000B ESME_RINVDSTADR", at(410))
	b.Accepted(8, 0, "+8-first", at(900))
	b.Resubmitted(8)
	b.Accepted(8, 0, "@8-second", at(950))
	b.SetStatus(10, SubmitUncertain, "in flight when the run stopped")
	b.Accepted(11, 0, "b11", at(1150))

	b.Receipt(rcpt("5F1E0B7A", smpp.StateDelivered), at(2000))
	undeliv := rcpt("6699", smpp.StateUndeliverable) // row 2's id in decimal
	undeliv.Err, undeliv.NetworkError = "001", []byte{0x03, 0x00, 0x0B}
	b.Receipt(undeliv, at(2100))
	for i, id := range []string{"C0", "c1", "194"} { // 0xc2 = 194: the last one is decimal
		b.Receipt(rcpt(id, smpp.StateDelivered), at(2200+10*i))
	}
	b.Receipt(rcpt("b11", smpp.StateEnroute), at(2300))
	stray := rcpt("deadbeef", smpp.StateDelivered)
	stray.Sub, stray.Dlvrd, stray.Err, stray.Text = "001", "001", "000", "=HYPERLINK(\"x\")"
	stray.SubmitDate, stray.DoneDate = at(-60000), at(-1000)
	b.Receipt(stray, at(2400))
	return b
}

func TestBook_WriteReportGolden(t *testing.T) {
	b := campaign()
	dir := t.TempDir()
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		path := filepath.Join(dir, "report."+f.String())
		if err := b.WriteReport(path, f, false); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "report.golden."+f.String(), data)
		if f == FormatJSONL {
			checkJSONLRows(t, data)
		}
	}
	data, err := os.ReadFile(UnmatchedPath(filepath.Join(dir, "report.csv")))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.golden.unmatched.jsonl", data)
}

// checkJSONLRows checks that every JSON line decodes, with the report's keys in column order.
func checkJSONLRows(t *testing.T, data []byte) {
	t.Helper()
	for i, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		dec := json.NewDecoder(bytes.NewReader(line))
		var keys []string
		if _, err := dec.Token(); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			keys = append(keys, k.(string))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
		}
		if strings.Join(keys, ",") != strings.Join(Columns, ",") {
			t.Fatalf("line %d keys %v, want %v", i+1, keys, Columns)
		}
	}
}

func TestBook_CSVReportReadsBack(t *testing.T) {
	b := campaign()
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := b.WriteReport(path, FormatCSV, false); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+b.Len() || strings.Join(recs[0], ",") != strings.Join(Columns, ",") {
		t.Fatalf("%d records, header %v", len(recs), recs[0])
	}
	for _, rec := range recs[1:] {
		for i, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) && !plainNumber(cell) {
				t.Errorf("row %s column %s = %q: a spreadsheet would run it", rec[0], Columns[i], cell)
			}
		}
	}
}

func TestSummary_Golden(t *testing.T) {
	s := campaign().Summary(t0, at(3000))
	// Set by the caller from the run's result.
	s.Throttled = 12
	s.BindsDown = []string{"bind 2: smpp: bind_transceiver refused by the SMSC: 0x00000005 ESME_RALYBND"}
	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.txt", text.Bytes())
	path := filepath.Join(t.TempDir(), "summary.json")
	if err := s.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "summary.golden.json", data)
}

func TestLatency_Percentiles(t *testing.T) {
	samples := make([]int64, 200)
	for i := range samples {
		samples[i] = int64(200 - i) // 1..200, unsorted
	}
	l := latency(samples)
	if l.Count != 200 || l.P50 != 100 || l.P95 != 190 || l.P99 != 198 || l.Max != 200 {
		t.Errorf("latency = %+v, want nearest ranks 100, 190, 198, max 200", l)
	}
	if one := latency([]int64{7}); one.P50 != 7 || one.P99 != 7 {
		t.Errorf("one sample: %+v", one)
	}
	if none := latency(nil); none != (Latency{}) || none.String() != "-" {
		t.Errorf("no sample: %+v %q", none, none.String())
	}
}

func TestSafeCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"hello", "hello"},
		{"=1+2", "'=1+2"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+447700900123", "+447700900123"},
		{"-12", "-12"},
		{"-1.5", "-1.5"},
		{"+1-555-0100", "'+1-555-0100"},
		{"-", "'-"},
		{"+", "'+"},
		{"-1.", "'-1."},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\r=x", `\x0d=x`},
		// Terminal escape sequences and bytes that are not UTF-8 are escaped; line feeds,
		// tabs, CR LF and other scripts stay.
		{"ID\x1b[2J\x1b]8;;http://evil.example/\x07CLICK\b\r\xff2", `ID\x1b[2J\x1b]8;;http://evil.example/\x07CLICK\x08\x0d\xff2`},
		{"=1+1\x1b[2J", `'=1+1\x1b[2J`},
		{"Zeile 1\r\nZeile 2\n\tß € 日本 😀", "Zeile 1\r\nZeile 2\n\tß € 日本 😀"},
		{"\u009b31m\x7f\x00", `\u009b31m\x7f\x00`},
		{"5f1e0b7a", "5f1e0b7a"},
		{"a=b", "a=b"},
		{"0x0000000B ESME_RINVDSTADR", "0x0000000B ESME_RINVDSTADR"},
		// A backslash is doubled, so that an escape reads back one way.
		{`a\x1bb`, `a\\x1bb`},
		{"C:\\tmp\x1b", `C:\\tmp\x1b`},
	}
	for _, tt := range tests {
		if got := SafeCell(tt.in); got != tt.want {
			t.Errorf("SafeCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestBook_WriteReportExisting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.csv")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := campaign()
	err := b.WriteReport(path, FormatCSV, false)
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "--force") || !strings.Contains(err.Error(), path) {
		t.Fatalf("WriteReport over an existing file: %v; want an error naming it and --force", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "old\n" {
		t.Fatalf("existing report changed to %q", data)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("files left: %v", names)
	}

	if err := b.WriteReport(path, FormatCSV, true); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("replaced report has mode %v, want the old 0600 kept", fi.Mode().Perm())
	}
	if names := dirNames(t, dir); len(names) != 2 { // report and its unmatched receipts
		t.Fatalf("files after --force: %v", names)
	}

	// A stale unmatched file blocks a report without --force, and --force removes it when
	// there are no unmatched receipts.
	clean := NewBook(Options{})
	addSent(clean, 1)
	os.Remove(path)
	if err := clean.WriteReport(path, FormatCSV, false); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("stale unmatched file: %v, want ErrExist", err)
	}
	if err := clean.WriteReport(path, FormatCSV, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(UnmatchedPath(path)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale unmatched file kept: %v", err)
	}
}

func TestWriteAtomic_FailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	boom := errors.New("disk full")
	fill := func(w io.Writer) error {
		if _, err := w.Write(bytes.Repeat([]byte("x"), 1<<20)); err != nil { // past the buffer
			return err
		}
		return boom
	}
	if err := WriteAtomic(path, false, fill); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the fill error", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("failed write left %v", names)
	}
	if err := os.WriteFile(path, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(path, true, fill); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the fill error", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "keep" {
		t.Fatalf("existing file changed to %q by a failed write", data)
	}
	if names := dirNames(t, dir); len(names) != 1 {
		t.Fatalf("failed write left %v", names)
	}
}

func TestWriteAtomic_NoDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "r.csv")
	err := campaign().WriteReport(path, FormatCSV, false)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("err = %v, want one naming the path", err)
	}
}

// CSVMessageIDs reads back what the report wrote, id by id as CSVMessageID writes each: the
// apostrophe against formulas is not part of the first id, and tabs and no-break spaces are
// inside ids (a check of the report against a restored journal missed such ids).
func TestCSVMessageIDs_readsTheReport(t *testing.T) {
	ids := []string{"=x y", "a\tb", "c\u00a0d", `e\f`, "+4917"}
	got := CSVMessageIDs(messageIDsCell(t, ids...))
	want := make([]string, len(ids))
	for i, id := range ids {
		want[i] = CSVMessageID(id)
	}
	if !slices.Equal(got, want) {
		t.Errorf("read back %q, want %q", got, want)
	}
}

// The CSV report separates a row's message ids with spaces, so a space inside an SMSC's id is
// written \x20: "A B1" and "C" must not read as three ids.
func TestWriteCSV_idWithASpace(t *testing.T) {
	// The second id is written as such: an escape reads back one way.
	if got := messageIDsCell(t, "A B1", `C\x20`); got != `A\x20B1 C\\x20` || len(strings.Fields(got)) != 2 {
		t.Errorf("message_ids %q, want two ids, the space inside the first escaped", got)
	}
}

// messageIDsCell is the message_ids cell the CSV report writes for a row whose parts the SMSC
// accepted with ids, one each.
func messageIDsCell(t *testing.T, ids ...string) string {
	t.Helper()
	b := NewBook(Options{})
	b.Add(Entry{Row: 1, MSISDN: "491710000001", Template: "t", Encoding: "gsm7", Parts: len(ids)})
	for i, id := range ids {
		b.Accepted(1, i, id, t0)
	}
	var out bytes.Buffer
	if err := b.writeCSV(&out); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("report %q: %v", out.String(), err)
	}
	return recs[1][slices.Index(Columns, "message_ids")]
}
