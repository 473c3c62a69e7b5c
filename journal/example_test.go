package journal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"smscast/journal"
)

// A campaign records each submit; a rerun with --resume asks the journal what to do with each
// row before sending it.
func Example() {
	dir, _ := os.MkdirTemp("", "journal-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "report.csv.journal")

	var id journal.Identity
	id.SetOption("from", "ACME")
	id.AddBytes("recipients", "recipients.csv", []byte("msisdn\n+31612345678\n+31612345679\n"))

	w, err := journal.Create(path, id, journal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Now()
	w.Attempt(1, 0, now)
	w.Accepted(1, 0, "5A3F09", now)
	w.Attempt(2, 0, now) // no response before the run ended
	w.Close()

	// The rerun: same inputs and options, so the journal accepts it.
	w, st, err := journal.Open(path, &id, journal.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Close()
	for row := 1; row <= 3; row++ {
		fmt.Printf("row %d: %v\n", row, st.Status(row, 1))
	}
	// Output:
	// row 1: accepted
	// row 2: in flight
	// row 3: not sent
}
