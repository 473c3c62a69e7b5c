package report_test

import (
	"fmt"
	"os"
	"time"

	"smscast/report"
	"smscast/smpp"
)

// The engine feeds the book as the campaign runs; here the receipt (with the id in decimal)
// overtakes the submit_sm_resp (hex), and still matches.
func ExampleBook() {
	start := time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)
	book := report.NewBook(report.Options{})
	book.Add(report.Entry{Row: 1, MSISDN: "491711234567", Template: "welcome", Encoding: "gsm7", Parts: 1})
	book.Add(report.Entry{Row: 2, MSISDN: "0171", Status: report.SubmitInvalid, Reason: "national number: give --default-region"})

	book.Planned(1, start)
	book.Receipt(smpp.Receipt{ID: "26", Stat: "DELIVRD", State: smpp.StateDelivered}, start.Add(2*time.Second))
	book.Accepted(1, 0, "1A", start.Add(40*time.Millisecond))

	r, _ := book.Row(1)
	fmt.Println(r.SubmitStatus, r.MessageIDs(), r.ReceiptStatus, book.Pending())
	book.Summary(start, start.Add(3*time.Second)).WriteText(os.Stdout)
	// Output:
	// accepted [1A] DELIVRD 0
	// Summary
	//   rows              2: 1 accepted, 1 invalid
	//   receipts          1 DELIVRD
	//   parts             1 to send, 1 accepted
	//   duration          3s
	//   rate              - (1 part accepted)
	//   submit latency    p50 40ms, p95 40ms, p99 40ms, max 40ms (1 row)
	//   delivery latency  p50 2s, p95 2s, p99 2s, max 2s (1 row)
}

// Mobile-originated messages go to the inbox; opt-outs also go to the exclude file.
func ExampleOptOut() {
	dir, _ := os.MkdirTemp("", "smscast")
	defer os.RemoveAll(dir)
	keywords, _ := report.ParseKeywords("STOP,UNSUBSCRIBE")
	optout, err := report.OpenOptOut(dir+"/exclude.txt", keywords)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range []report.MO{
		{From: "491711234567", Text: "Stop!"},
		{From: "491711234567", Text: "STOP"},
		{From: "447700900123", Text: "what is this?"},
	} {
		added, err := optout.Handle(m)
		fmt.Println(m.Text, added, err)
	}
	optout.Close()
	data, _ := os.ReadFile(dir + "/exclude.txt")
	fmt.Printf("%q\n", data)
	// Output:
	// Stop! true <nil>
	// STOP false <nil>
	// what is this? false <nil>
	// "491711234567\n"
}
