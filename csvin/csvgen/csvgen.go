// Package csvgen writes large, realistic recipients files for benchmarks and load tests, so
// that the repository ships a generator instead of a file of a million rows.
package csvgen

import (
	"bufio"
	"fmt"
	"io"
	"os"
)

// Columns of the generated file; the templates of testdata/templates.csv use them.
const header = "msisdn,name,city,template\n"

var (
	names     = []string{"Anna", "Ben", "Chloé", "Dan", "Eve", "Frank", "Grace", "Hélène", "Ivan", "Jürgen", "Kim", "Lars", "", "Zoë"}
	cities    = []string{"Berlin", "London", "Paris", "Washington", "Köln", "Hamburg", "München", "Zürich", "São Paulo", "Oslo"}
	templates = []string{"welcome", "welcome", "welcome", "promo", "promo", "emoji", "long", ""}
	// Number forms: international with +, with 00, bare international digits, and with
	// separators; all name distinct German mobile numbers +49 151 nnnnnnnn.
	forms = []string{"+49151%08d", "+49 151 %08d", "0049151%08d", "49151%08d", "+49 (0)151 %08d"}
)

// Recipients writes a header and rows data rows to w. The content depends only on rows: every
// number is distinct except one row in 1000, which repeats the number before it (a duplicate),
// and one row in 1000 has a number that is too short (an invalid row). Names and cities
// include non-ASCII letters, and one row in 14 has an empty name (the promo template's
// {{name|there}} fallback covers it; welcome has none, which makes such a row invalid unless
// --allow-empty).

func Recipients(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(header)
	for i := 1; i <= rows; i++ {
		var number string
		switch {
		case i%1000 == 500:
			number = fmt.Sprintf("+49 151 %03d", i%1000)
		case i%1000 == 999:
			number = fmt.Sprintf(forms[0], i-1)
		default:
			number = fmt.Sprintf(forms[i%len(forms)], i)
		}
		name := names[i%len(names)]
		tpl := templates[i%len(templates)]
		if name == "" {
			tpl = "promo"
		}
		fmt.Fprintf(bw, "%s,%s,%s,%s\n", number, name, cities[i%len(cities)], tpl)
	}
	return bw.Flush()
}

// WriteFile writes the Recipients file of rows data rows to path.
func WriteFile(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := Recipients(f, rows); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
