package csvin

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding"
)

// phoneColumnNames are the header names taken for the phone column, any case.
var phoneColumnNames = []string{"msisdn", "phone", "mobile", "to", "number", "destination"}

// phoneColumn finds the phone column: the one named by --to-column, else the one header
// named like a phone column. An error when there is none or more than one; recipients says
// whether --to-column can choose one (not for the --exclude list).
func phoneColumn(t *table, toColumn string, recipients bool) (int, error) {
	chooseOne, nameIt := "rename or delete one of them (--to-column is for the recipients file)",
		" (--to-column is for the recipients file), or make the file one number per line without a header"
	if recipients {
		chooseOne, nameIt = "choose one with --to-column", ", or choose it with --to-column; the first row must be a header"
	}
	if toColumn = strings.TrimSpace(toColumn); toColumn != "" {
		if i := t.column(toColumn); i >= 0 {
			return i, nil
		}
		return -1, &RowError{File: t.file, Line: 1,
			Err: fmt.Errorf("--to-column %q is not in the header (it has: %s); name an existing column", toColumn, t.columnList())}
	}
	found := -1
	for i, h := range t.header {
		for _, name := range phoneColumnNames {
			if !strings.EqualFold(h, name) {
				continue
			}
			if found >= 0 {
				return -1, &RowError{File: t.file, Line: 1,
					Err: fmt.Errorf("both %q and %q could be the phone column; %s", t.header[found], h, chooseOne)}
			}
			found = i
		}
	}
	if found < 0 {
		return -1, &RowError{File: t.file, Line: 1,
			Err: fmt.Errorf("no phone column in the header (it has: %s); name it msisdn, phone, mobile, to, number or destination%s", t.columnList(), nameIt)}
	}
	return found, nil
}

// optOuts is the set of normalised numbers of an --exclude list.
type optOuts map[uint64]struct{}

// loadExclude reads an opt-out list: one number per line, or a CSV with a phone column.
// Every entry must be a valid number: an entry that cannot be read could be someone who
// asked not to be contacted, so it is an error rather than skipped.
func loadExclude(path string, enc encoding.Encoding, n *numbers) (optOuts, error) {
	f, err := openInput("exclude", path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := openTable(f, path, enc, 0)
	if err != nil {
		if errors.Is(err, errEmptyFile) {
			return optOuts{}, nil // an empty list excludes nobody
		}
		return nil, err
	}
	set := optOuts{}
	add := func(cell string, line, col int) error {
		num, err := n.normalize(cell)
		if err != nil {
			return &RowError{File: path, Line: line, Column: col, Err: fmt.Errorf("opt-out entry: %w", err)}
		}
		if key, ok := numberKey(num); ok {
			set[key] = struct{}{}
		}
		return nil
	}
	col, err := phoneColumn(t, "", false)
	if err != nil {
		// No header: a plain list, whose first line is already a number (perhaps a broken
		// one, which add reports as such).
		first := strings.TrimSpace(t.header[0])
		if len(t.header) != 1 || first == "" || !strings.ContainsRune("+(0123456789", rune(first[0])) {
			return nil, err
		}
		col = 0
		if err := add(t.header[0], 1, 1); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := t.next()
		if errors.Is(err, io.EOF) {
			return set, nil
		}
		if err != nil {
			return nil, err
		}
		if col >= len(rec) {
			line, _ := t.pos(0, rec)
			return nil, &RowError{File: path, Line: line, Err: fmt.Errorf("the line has no column %d; check the list", col+1)}
		}
		line, c := t.pos(col, rec)
		if err := add(rec[col], line, c); err != nil {
			return nil, err
		}
	}
}
