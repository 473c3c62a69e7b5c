package report

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Foreign says why the report at path is not this book's (its rows are another campaign's),
// or "" when it is, or when there is none. The file may be in either format (a rewrite may
// change it): a JSON Lines report starts with "{". A rewrite (--resume,
// smscast receipts) must not replace another campaign's report: a cron line with a wrong
// --report would lose it. Rows are compared by number and by the digits of the number as
// written, so formatting (spreadsheet-safe cells, escapes) does not count. A file that cannot
// be read as a report at all counts as foreign.
func (b *Book) Foreign(path string) (string, error) {
	file, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer file.Close()
	in := bufio.NewReader(file)
	next := csvRows(in)
	if first, err := in.Peek(1); err == nil && first[0] == '{' {
		next = jsonlRows(in)
	}
	n := 0
	for r := range b.Rows() {
		row, msisdn, err := next()
		if err == io.EOF {
			return fmt.Sprintf("it has %d rows, this campaign %d or more", n, n+1), nil
		}
		if err != nil {
			return fmt.Sprintf("it cannot be read as a report (%v)", err), nil
		}
		if row != r.Row || digits(msisdn) != digits(r.MSISDN) {
			return fmt.Sprintf("its line %d is row %d to %q, this campaign's row %d is to %q", n+1, row, msisdn, r.Row, r.MSISDN), nil
		}
		n++
	}
	if _, _, err := next(); err != io.EOF {
		return fmt.Sprintf("it has more rows than this campaign's %d", n), nil
	}
	return "", nil
}

// csvRows reads the row and msisdn cells of a CSV report, row by row.
func csvRows(r io.Reader) func() (int, string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	rowCol, msisdnCol := -1, -1
	return func() (int, string, error) {
		if rowCol < 0 {
			header, err := cr.Read()
			if err != nil {
				return 0, "", fmt.Errorf("no header: %w", err)
			}
			header[0] = strings.TrimPrefix(header[0], "\uFEFF") // saved by a spreadsheet
			rowCol, msisdnCol = slices.Index(header, "row"), slices.Index(header, "msisdn")
			if rowCol < 0 || msisdnCol < 0 {
				return 0, "", errors.New("no row and msisdn columns")
			}
		}
		rec, err := cr.Read()
		if err != nil {
			return 0, "", err
		}
		if len(rec) <= max(rowCol, msisdnCol) {
			return 0, "", errors.New("a line is short of cells")
		}
		row, err := strconv.Atoi(rec[rowCol])
		return row, rec[msisdnCol], err
	}
}

// jsonlRows reads the row and msisdn of a JSON Lines report, line by line.
func jsonlRows(r io.Reader) func() (int, string, error) {
	dec := json.NewDecoder(r)
	return func() (int, string, error) {
		var j struct {
			Row    int    `json:"row"`
			MSISDN string `json:"msisdn"`
		}
		err := dec.Decode(&j)
		return j.Row, j.MSISDN, err
	}
}
