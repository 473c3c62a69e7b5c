// Command gen writes a large recipients CSV for benchmarks to standard output; its rows use
// the templates of testdata/templates.csv:
//
//	go run ./csvin/gen -rows 1000000 > big.csv
//	smscast plan --recipients big.csv --templates testdata/templates.csv --out plan.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"smscast/csvin/csvgen"
)

func main() {
	rows := flag.Int("rows", 1000000, "number of data rows")
	flag.Parse()
	if err := csvgen.Recipients(os.Stdout, *rows); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
