package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"smscast/csvin"
	"smscast/report"
)

// moPart is part seq of total of the long reply ref from 4917112345678, in plain GSM.
func moPart(ref uint16, total, seq uint8, text string) report.MO {
	return report.MO{Time: time.Now(), From: "4917112345678", To: "12345", Text: text,
		Part: &report.MOPart{Ref: ref, Total: total, Seq: seq, Data: []byte(text)}}
}

// inboxTexts returns the text column of the inbox's messages.
func inboxTexts(t *testing.T, path string) []string {
	t.Helper()
	var texts []string
	for _, r := range readCSV(t, path)[1:] {
		texts = append(texts, r[3])
	}
	return texts
}

// openTestMO is openMO with the opt-out keyword STOP, failing the test on an error.
func openTestMO(t *testing.T, inbox, exclude string, stderr *bytes.Buffer) (func(report.MO) error, func()) {
	t.Helper()
	onMO, closeMO, err := openMO(inbox, exclude, "", []string{"STOP"}, stderr)
	if err != nil {
		t.Fatal(err)
	}
	return onMO, closeMO
}

// A long reply goes to the inbox as one message, and its first word counts for opt-outs; a
// reply still incomplete at the end of a run completes in the next.
func TestOpenMO_joinsLongReplies(t *testing.T) {
	dir := t.TempDir()
	inbox, exclude := filepath.Join(dir, "inbox.csv"), filepath.Join(dir, "exclude.txt")
	var stderr bytes.Buffer
	onMO, closeMO := openTestMO(t, inbox, exclude, &stderr)
	for _, m := range []report.MO{moPart(1, 2, 2, "please, no more"), moPart(1, 2, 1, "STOP sending, "), moPart(2, 2, 1, "Thanks, see ")} {
		if err := onMO(m); err != nil {
			t.Fatal(err)
		}
	}
	closeMO()
	for _, want := range []string{"1 incoming message written to " + inbox, "1 number that replied STOP added to " + exclude} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q, want %q", stderr.String(), want)
		}
	}
	if got := inboxTexts(t, inbox); len(got) != 1 || got[0] != "STOP sending, please, no more" {
		t.Errorf("inbox %q, want the first reply whole and nothing of the incomplete one", got)
	}
	if data, _ := os.ReadFile(exclude); string(data) != "+4917112345678\n" {
		t.Errorf("exclude file %q, want the sender of the STOP reply", data)
	}
	if !strings.Contains(stderr.String(), "1 long incoming message still incomplete") || !strings.Contains(stderr.String(), inbox+".parts") {
		t.Errorf("stderr %q, want a note on the incomplete reply and where its part waits", stderr.String())
	}

	stderr.Reset()
	onMO, closeMO = openTestMO(t, inbox, exclude, &stderr)
	if err := onMO(moPart(2, 2, 2, "you soon")); err != nil {
		t.Fatal(err)
	}
	closeMO()
	if got := inboxTexts(t, inbox); len(got) != 2 || got[1] != "Thanks, see you soon" {
		t.Errorf("inbox %q, want the second reply completed in the next run", got)
	}
	if strings.Contains(stderr.String(), "incomplete") {
		t.Errorf("stderr %q: no reply is incomplete any more", stderr.String())
	}
}

// Without --inbox only opt-outs are looked for, and only a first part starts with the keyword.
func TestOpenMO_optOutsWithoutInbox(t *testing.T) {
	exclude := filepath.Join(t.TempDir(), "exclude.txt")
	onMO, closeMO, err := openMO("", exclude, "", []string{"STOP"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	defer closeMO()
	notFirst := moPart(3, 2, 2, "stop by our shop")
	notFirst.From = "4917122345678"
	for _, m := range []report.MO{notFirst, moPart(4, 2, 1, "Stop it, ")} {
		if err := onMO(m); err != nil {
			t.Fatal(err)
		}
	}
	if data, _ := os.ReadFile(exclude); string(data) != "+4917112345678\n" {
		t.Errorf("exclude file %q, want only the sender whose first part starts with STOP", data)
	}
}

// An opt-out from a sender that is not a number cannot be added to the exclude file, now or
// ever: it is said on stderr, and the message is taken (refusing it would only make the SMSC
// send it again, and the inbox grow a line each time). A STOP in the first part of a long
// reply counts at once, before the rest arrives.
func TestOpenMO_optOutEdges(t *testing.T) {
	dir := t.TempDir()
	inbox, exclude := filepath.Join(dir, "inbox.csv"), filepath.Join(dir, "exclude.txt")
	var stderr bytes.Buffer
	onMO, closeMO := openTestMO(t, inbox, exclude, &stderr)
	defer closeMO()
	if err := onMO(report.MO{Time: time.Now(), From: "ACME", To: "12345", Text: "STOP"}); err != nil {
		t.Errorf("an opt-out from an alphanumeric sender was refused: %v", err)
	}
	if !strings.Contains(stderr.String(), "not a phone number") {
		t.Errorf("stderr %q, want the opt-out that could not be added", stderr.String())
	}
	// Digits that no number plan has (a short code): written, they would make every run that
	// reads the exclude list refuse it.
	if err := onMO(report.MO{Time: time.Now(), From: "12", To: "12345", Text: "STOP"}); err != nil {
		t.Errorf("an opt-out from a short code was refused: %v", err)
	}
	if strings.Count(stderr.String(), "not added") != 2 {
		t.Errorf("stderr %q, want the short code's opt-out not added either", stderr.String())
	}
	if err := onMO(moPart(5, 2, 1, "STOP it, ")); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(exclude); string(data) != "+4917112345678\n" {
		t.Errorf("exclude file %q, want the sender of the first part at once", data)
	}
	if got := inboxTexts(t, inbox); len(got) != 2 || got[0] != "STOP" || got[1] != "STOP" {
		t.Errorf("inbox %q, want the alphanumeric sender's and the short code's messages once each, and nothing of the incomplete reply", got)
	}
}

// Opt-outs are written in international form with "+", which every later run reads back the
// same: a foreign sender in international digits without "+" (as SMSCs send them) under
// --default-region DE is the foreign number, not "ambiguous" and dropped; a national sender
// gets its country code. The list then reads back as those numbers.
func TestOpenMO_optOutsInInternationalForm(t *testing.T) {
	exclude := filepath.Join(t.TempDir(), "exclude.txt")
	var stderr bytes.Buffer
	onMO, closeMO, err := openMO("", exclude, "DE", []string{"STOP"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []struct {
		from string
		ton  uint8 // source_addr_ton
	}{
		{"33612345678", 1},  // international without "+": the French number, not a German one
		{"01711234567", 2},  // national: the German number
		{"1711234568", 2},   // national without the trunk prefix: German too
		{"+14155552671", 0}, // with "+"
		{"12", 0},           // a short code: no number
		{"33612345679", 0},  // unknown type, digits valid both ways: both readings
	} {
		if err := onMO(report.MO{Time: time.Now(), From: m.from, FromTON: m.ton, To: "12345", Text: "STOP"}); err != nil {
			t.Fatalf("opt-out from %s: %v", m.from, err)
		}
	}
	closeMO()
	want := "+33612345678\n+491711234567\n+491711234568\n+14155552671\n+33612345679\n+4933612345679\n"
	if data, _ := os.ReadFile(exclude); string(data) != want {
		t.Errorf("exclude file %q, want %q: the numbers in international form, both readings of the ambiguous one, not the short code", data, want)
	}
	if !strings.Contains(stderr.String(), `opt-out from "12" not added`) || strings.Count(stderr.String(), "not added") != 1 {
		t.Errorf("stderr %q, want only the short code's opt-out refused", stderr.String())
	}
	// The campaign's reader takes the list, with or without a region.
	recipients := filepath.Join(filepath.Dir(exclude), "r.csv")
	if err := os.WriteFile(recipients, []byte("msisdn\n+33612345678\n+491711234567\n+4915112345678\n+33612345679\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"", "DE", "FR"} {
		rd, err := csvin.Open(csvin.Config{Recipients: recipients, Text: "Hi", Exclude: exclude, DefaultRegion: region})
		if err != nil {
			t.Fatalf("region %q: the exclude list does not read back: %v", region, err)
		}
		excluded := 0
		for {
			row, err := rd.Next()
			if err != nil {
				break
			}
			if row.Status == csvin.StatusExcluded {
				excluded++
			}
		}
		rd.Close()
		if excluded != 3 {
			t.Errorf("region %q: %d rows excluded, want the 3 that opted out", region, excluded)
		}
	}
}
