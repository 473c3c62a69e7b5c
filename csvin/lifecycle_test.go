package csvin_test

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"smscast/csvin"
	"smscast/csvin/csvgen"
)

// TestReader_closeEarly stops reading after one row of many: Close must stop every
// goroutine, and Next after Close must fail rather than block.
func TestReader_closeEarly(t *testing.T) {
	defer goleak.VerifyNone(t)
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := csvgen.WriteFile(path, 20000); err != nil {
		t.Fatal(err)
	}
	r, err := csvin.Open(csvin.Config{Recipients: path, Templates: "../testdata/templates.csv", Template: "promo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err == nil || errors.Is(err, io.EOF) {
		t.Errorf("Next after Close = %v, want an error", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestReader_fileErrorAfterRows checks that the rows before a file error come out, then the
// error, again on every call.
func TestReader_fileErrorAfterRows(t *testing.T) {
	defer goleak.VerifyNone(t)
	content := "msisdn\n"
	for i := range 600 { // more than one batch
		content += fmt.Sprintf("+49 171 %07d\n", 1000000+i)
	}
	content += "\"+49 171 9999999\n"
	path := writeFile(t, "r.csv", []byte(content))
	r, err := csvin.Open(csvin.Config{Recipients: path, Text: "Hi"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		n++
	}
	var re *csvin.RowError
	if n != 600 || !errors.As(err, &re) || re.Line != 602 {
		t.Fatalf("%d rows, then %v; want 600 rows and an error on line 602", n, err)
	}
	if _, again := r.Next(); again != err {
		t.Errorf("Next after the error = %v, want the same error", again)
	}
}

// TestReader_batchBoundaries reads files whose rows fill whole batches and more, so that
// reused batches and the empty last batch are exercised.
func TestReader_batchBoundaries(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, n := range []int{1, 255, 256, 257, 512, 2560, 5120} {
		var content strings.Builder
		content.WriteString("msisdn\n")
		for i := range n {
			fmt.Fprintf(&content, "+49 171 %07d\n", 1000000+i)
		}
		got := rows(t, csvin.Config{Recipients: writeFile(t, "r.csv", []byte(content.String())), Text: "Hi"})
		if len(got) != n {
			t.Fatalf("%d rows: read %d", n, len(got))
		}
		for i, row := range got {
			if row.Num != i+1 || row.Status != csvin.StatusOK || row.MSISDN != fmt.Sprintf("49171%07d", 1000000+i) {
				t.Fatalf("%d rows: row %d is %d %s %s", n, i+1, row.Num, row.Status, row.MSISDN)
			}
		}
	}
}

func ExampleOpen() {
	r, err := csvin.Open(csvin.Config{
		To:   []string{"+49 171 1234567", "0049 171 1234567", "+49 171 12"},
		Text: "Your code is 1234",
		From: "Shop",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	var sum csvin.Summary
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		sum.Add(row)
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%d %s %s %s/%d parts %s %s", row.Num, row.MSISDN, row.Status, row.Message.Encoding, len(row.Message.Parts), row.From, row.Reason)))
	}
	fmt.Printf("%d rows, %d to send in %d parts\n", sum.Rows, sum.OK, sum.Parts)
	// Output:
	// 1 491711234567 ok gsm7/1 parts Shop
	// 2 491711234567 duplicate auto/0 parts Shop same number as row 1
	// 3 +49 171 12 invalid auto/0 parts  invalid number "+49 171 12": not a valid number for DE (+49); check the digits and the country code
	// 3 rows, 1 to send in 1 parts
}
