package report

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestInbox_Append(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv")
	in, err := OpenInbox(path)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []MO{
		{Time: at(1), From: "491711234567", To: "12345", Text: "Hello, \"you\"\nsecond line"},
		{Time: at(2), From: "+447700900123", To: "MyBrand", Text: `=HYPERLINK("http://x","y")`},
	}
	for _, m := range msgs {
		if err := in.Write(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopening appends without a second header, also after a hand edit left no final newline.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`2025-03-14T08:00:00.000Z,1,2,by hand`)
	f.Close()
	in, err = OpenInbox(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Write(MO{Time: at(3), From: "1", To: "2", Text: "stop"}); err != nil {
		t.Fatal(err)
	}
	in.Close()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil {
		t.Fatalf("inbox is not valid CSV: %v\n%s", err, data)
	}
	want := [][]string{
		InboxColumns,
		{"2025-03-14T09:00:00.001Z", "491711234567", "12345", "Hello, \"you\"\nsecond line"},
		{"2025-03-14T09:00:00.002Z", "+447700900123", "MyBrand", `'=HYPERLINK("http://x","y")`},
		{"2025-03-14T08:00:00.000Z", "1", "2", "by hand"},
		{"2025-03-14T09:00:00.003Z", "1", "2", "stop"},
	}
	if !slices.EqualFunc(recs, want, slices.Equal) {
		t.Errorf("inbox records:\n%q\nwant\n%q", recs, want)
	}
}

func TestOptOut_Keyword(t *testing.T) {
	kws, err := ParseKeywords(" STOP, Unsubscribe,,arrêt ")
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenOptOut(filepath.Join(t.TempDir(), "exclude.txt"), kws)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	tests := []struct {
		text string
		want string // keyword matched, "" for none
	}{
		{"STOP", "STOP"},
		{"stop", "STOP"},
		{"  Stop!", "STOP"},
		{"stop please", "STOP"},
		{"STOP.", "STOP"},
		{"\"stop\"", "STOP"},
		{"unsubscribe me", "Unsubscribe"},
		{"ARRÊT", "arrêt"},
		{"STOPPED", ""},
		{"please stop", ""},
		{"nonstop", ""},
		{"", ""},
		{"!!!", ""},
	}
	for _, tt := range tests {
		got, ok := o.Keyword(tt.text)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("Keyword(%q) = %q, %v; want %q", tt.text, got, ok, tt.want)
		}
	}
}

func TestParseKeywords_Errors(t *testing.T) {
	for _, s := range []string{"STOP ALL", "STOP,QUIT!"} {
		if _, err := ParseKeywords(s); err == nil || !strings.Contains(err.Error(), "single word") {
			t.Errorf("ParseKeywords(%q) error = %v", s, err)
		}
	}
	if _, err := OpenOptOut(filepath.Join(t.TempDir(), "x"), nil); err == nil {
		t.Error("OpenOptOut without keywords: no error")
	}
}

func TestOptOut_Handle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exclude.txt")
	// An existing list, edited by hand: BOM, CRLF, blank line, no final newline.
	if err := os.WriteFile(path, []byte("\uFEFF491711234567\r\n\r\n+447700900123"), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := OpenOptOut(path, []string{"STOP"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mo      MO
		added   bool
		wantErr string
	}{
		{MO{From: "491799999999", Text: "STOP"}, true, ""},
		{MO{From: "491799999999", Text: "stop"}, false, ""},        // already added
		{MO{From: "+491711234567", Text: "Stop!"}, false, ""},      // in the file without "+"
		{MO{From: "447700900123", Text: "stop"}, false, ""},        // in the file with "+"
		{MO{From: "491700000001", Text: "hello"}, false, ""},       // not an opt-out
		{MO{From: " +33612345678 ", Text: "STOP"}, true, ""},       // spaces trimmed
		{MO{From: "123\n456", Text: "STOP"}, false, "not a phone"}, // would inject a line
		{MO{From: "MyBrand", Text: "STOP"}, false, "not a phone"},
		{MO{From: "", Text: "STOP"}, false, "not a phone"},
	}
	for _, tt := range tests {
		added, err := o.Handle(tt.mo)
		if added != tt.added || (err == nil) != (tt.wantErr == "") || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Handle(%+v) = %v, %v; want %v, error %q", tt.mo, added, err, tt.added, tt.wantErr)
		}
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	want := "\uFEFF491711234567\r\n\r\n+447700900123\n491799999999\n+33612345678\n"
	if string(data) != want {
		t.Errorf("exclude file = %q, want %q", data, want)
	}

	// Reopened, the numbers added before are known.
	o, err = OpenOptOut(path, []string{"STOP"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if added, err := o.Handle(MO{From: "33612345678", Text: "STOP"}); added || err != nil {
		t.Errorf("number added again after reopening: %v, %v", added, err)
	}
}

func TestOptOut_CreatesFileAndRefusesCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.txt")
	o, err := OpenOptOut(path, []string{"STOP"})
	if err != nil {
		t.Fatal(err)
	}
	if added, err := o.Handle(MO{From: "491711234567", Text: "stop"}); !added || err != nil {
		t.Fatalf("Handle = %v, %v", added, err)
	}
	o.Close()
	if data, _ := os.ReadFile(path); string(data) != "491711234567\n" {
		t.Errorf("new exclude file = %q", data)
	}

	csvPath := filepath.Join(dir, "exclude.csv")
	os.WriteFile(csvPath, []byte("phone,name\n491711234567,Ann\n"), 0o644)
	if _, err := OpenOptOut(csvPath, []string{"STOP"}); err == nil || !strings.Contains(err.Error(), "exclude.csv:1") || !strings.Contains(err.Error(), "plain list") {
		t.Errorf("CSV exclude file: error %v, want one naming file:line and what to do", err)
	}
	// Opt-outs are appended, so a pipe (or anything but a file) cannot take them.
	if _, err := OpenOptOut(dir, []string{"STOP"}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory as exclude file: error %v, want one saying it is not a regular file", err)
	}
}
