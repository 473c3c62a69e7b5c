package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"smscast/csvin"
	"smscast/report"
	"smscast/smpp/coding"
)

func init() { register(planCommand()) }

// planColumns are the columns of the per-row plan, in order.
// from came last, after the others: scripts that read the plan by position keep working.
var planColumns = []string{"row", "msisdn", "template", "encoding", "parts", "status", "reason", "text", "from"}

// planShownErrors is how many invalid rows the plan lists on stderr before summing up.
const planShownErrors = 10

func planCommand() *cli.Command {
	flags := append([]cli.Flag{newConfigFlag()}, inputFlags()...)
	flags = append(flags,
		&cli.StringFlag{Name: "out", Usage: "write the per-row plan as CSV to `FILE` (- for standard output); without it, only the summary is printed"},
		&cli.Float64Flag{Name: "price-per-part", DefaultText: "no cost estimate", Usage: "estimate the cost at this `PRICE` per part (submit_sm), in any currency"},
		&cli.Float64Flag{Name: "rate", DefaultText: "no duration estimate", Usage: "estimate the duration at `N` parts per second (as send --rate)"},
	)
	return &cli.Command{
		Name:      "plan",
		Usage:     "read, render and check a campaign without sending anything: a per-row plan and a summary",
		UsageText: "smscast plan --recipients FILE (--templates FILE [--template ID] | --text TEXT) [--out plan.csv] [options]",
		Description: "Reads the recipients and templates exactly as send does, renders every message, chooses\n" +
			"its encoding and splits it into parts, and writes one line per row (columns row, msisdn,\n" +
			"template, encoding, parts, status, reason, text, from: the sender) to --out. The summary\n" +
			"goes to stderr.\n\n" +
			"Exit status: 0 every row is valid (duplicates and excluded rows are intended skips);\n" +
			"3 some rows are invalid (the plan is still written); 1 usage or file error (nothing written).",
		Flags:  withEnv(flags),
		Before: applyConfigFile,
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("plan takes no arguments, got %q; give files with --recipients and --templates", c.Args().First())
			}
			cfg, err := inputConfig(c)
			if err != nil {
				return err
			}
			if c.Float64("price-per-part") < 0 || c.Float64("rate") < 0 {
				return errors.New("--price-per-part and --rate cannot be negative")
			}
			return runPlan(c.Context, cfg, c.String("out"), c.Float64("price-per-part"), c.Float64("rate"), c.App.Writer, c.App.ErrWriter)
		},
	}
}

// inputFlags are the flags that say where recipients and templates come from and how messages
// are built; plan and send share them, and inputConfig reads them.
func inputFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "recipients", Usage: "recipients CSV `FILE` with a header row (- reads standard input; a pipe such as <(zcat list.csv.gz) works too, read once)"},
		&cli.StringSliceFlag{Name: "to", Usage: "send to this `NUMBER` instead of a recipients file (repeatable)"},
		&cli.StringFlag{Name: "to-column", Usage: "the phone column's `NAME` (default: the column named msisdn, phone, mobile, to, number or destination)"},
		&cli.StringFlag{Name: "delimiter", Usage: "field delimiter: a single `CHAR`, or tab (default: detect comma, semicolon or tab)"},
		&cli.StringFlag{Name: "charset", Value: "utf-8", Usage: "character set `NAME` of every input file: utf-8, windows-1252, iso-8859-1, macintosh (Mac Roman) or utf-16"},
		&cli.StringFlag{Name: "templates", Usage: "templates CSV `FILE` with the columns id, text and optionally from"},
		&cli.StringFlag{Name: "template", Usage: "template `ID` for rows without a template cell"},
		&cli.StringFlag{Name: "text", Usage: "a single inline template `TEXT` instead of --templates, e.g. \"Hi {{name|there}}\""},
		&cli.BoolFlag{Name: "allow-empty", Usage: "render an empty cell without a fallback as nothing instead of marking the row invalid"},
		&cli.StringFlag{Name: "default-region", Usage: "ISO 3166 `REGION` (e.g. DE) of national numbers such as 0171 1234567"},
		&cli.BoolFlag{Name: "allow-duplicates", Usage: "send to a number as often as it appears instead of once"},
		&cli.StringFlag{Name: "from", Usage: "sender `ADDRESS` when neither the row nor the template gives one: a name (≤ 11 GSM characters), a short code (3–8 digits) or +international"},
		&cli.IntFlag{Name: "source-ton", DefaultText: "from the sender: name 5, short code 3, international 1", Usage: "source_addr_ton `TON` for every message"},
		&cli.IntFlag{Name: "source-npi", DefaultText: "from the sender: name 0, short code 0, international 1", Usage: "source_addr_npi `NPI` for every message"},
		&cli.StringFlag{Name: "exclude", Usage: "opt-out list `FILE` (one number per line, or a CSV with a phone column); those rows are skipped"},
		&cli.StringFlag{Name: "encoding", Value: "auto", Usage: "message `ENCODING`: auto (GSM 7-bit when every character fits, else UCS-2), gsm7, ucs2 or latin1"},
		&cli.StringFlag{Name: "split", Value: "udh", Usage: "how long messages travel (`METHOD`): udh, udh16, sar or payload"},
		&cli.IntFlag{Name: "max-parts", Value: 10, Usage: "a message needing more than `N` parts is an invalid row (1–255)"},
		&cli.BoolFlag{Name: "gsm7-packed", Usage: "pack GSM 7-bit septets (for SMSCs that want packed data_coding 0; send then reads replies as packed too)"},
		&cli.BoolFlag{Name: "transliterate", Usage: "replace look-alike characters that force UCS-2 (curly quotes, dashes, …) with GSM ones"},
		&cli.StringFlag{Name: "shard", Usage: "keep only shard `K/N` of the rows (row number mod N); auto/N takes K from JOB_COMPLETION_INDEX"},
	}
}

// inputConfig reads the flags of inputFlags; an error is a usage error.
func inputConfig(c *cli.Context) (csvin.Config, error) {
	cfg := csvin.Config{
		Recipients:      c.String("recipients"),
		Stdin:           c.App.Reader,
		To:              c.StringSlice("to"),
		ToColumn:        c.String("to-column"),
		Charset:         c.String("charset"),
		Templates:       c.String("templates"),
		Template:        c.String("template"),
		Text:            c.String("text"),
		AllowEmpty:      c.Bool("allow-empty"),
		DefaultRegion:   c.String("default-region"),
		AllowDuplicates: c.Bool("allow-duplicates"),
		From:            c.String("from"),
		Exclude:         c.String("exclude"),
		Transliterate:   c.Bool("transliterate"),
	}
	if len(cfg.To) > 0 && cfg.Recipients != "" {
		return cfg, errors.New("give either --recipients or --to, not both: --to replaces the recipients file")
	}
	var err error
	if cfg.Delimiter, err = parseDelimiter(c.String("delimiter")); err != nil {
		return cfg, err
	}
	if err := csvin.CheckCharset(cfg.Charset); err != nil {
		return cfg, err
	}
	for _, f := range []struct {
		name string
		dst  **uint8
	}{{"source-ton", &cfg.SourceTON}, {"source-npi", &cfg.SourceNPI}} {
		if !c.IsSet(f.name) {
			continue
		}
		v := c.Int(f.name)
		if v < 0 || v > 255 {
			return cfg, fmt.Errorf("--%s %d: must be 0 … 255", f.name, v)
		}
		u := uint8(v)
		*f.dst = &u
	}
	if cfg.Coding.Encoding, err = coding.ParseEncoding(c.String("encoding")); err != nil {
		return cfg, fmt.Errorf("--encoding: %w", err)
	}
	if cfg.Coding.Split, err = coding.ParseSplit(c.String("split")); err != nil {
		return cfg, fmt.Errorf("--split: %w", err)
	}
	cfg.Coding.MaxParts = c.Int("max-parts")
	if cfg.Coding.MaxParts < 1 || cfg.Coding.MaxParts > 255 {
		return cfg, fmt.Errorf("--max-parts %d: must be 1 … 255 (a concatenated SMS has at most 255 parts)", cfg.Coding.MaxParts)
	}
	cfg.Coding.Packed = c.Bool("gsm7-packed")
	if cfg.Shard, err = csvin.ParseShard(c.String("shard"), os.Getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// parseDelimiter reads --delimiter: "" or "auto" detects it; "tab" or "\t" is a tab;
// otherwise one character that cannot be part of a CSV field's syntax.
func parseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case "tab", `\t`, "\t":
		return '\t', nil
	}
	r, size := utf8.DecodeRuneInString(s)
	if size != len(s) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
		return 0, fmt.Errorf("--delimiter %q: give one character such as , ; | or the word tab", s)
	}
	return r, nil
}

// runPlan reads every row of cfg, writes the plan to out ("" = none, "-" = stdout) and the
// summary (with the cost at pricePerPart and the duration at rate parts per second, 0 = not
// estimated) to stderr. The plan file appears only complete: it is written to a temporary
// file and renamed. Exit statuses: 1 when the input cannot be read (nothing written), 3 when
// some rows are invalid.
func runPlan(ctx context.Context, cfg csvin.Config, out string, pricePerPart, rate float64, stdout, stderr io.Writer) error {
	if err := checkPlanOut(out, cfg); err != nil {
		return withExit(exitUsage, err)
	}
	r, err := csvin.Open(cfg)
	if err != nil {
		return withExit(exitUsage, err)
	}
	defer r.Close()

	var sum csvin.Summary
	shown := 0
	var inputErr *inputError // reading the input failed: exit 1, whatever was written
	write := func(sink io.Writer) error {
		err := writePlan(ctx, r, sink, stderr, &sum, &shown)
		errors.As(err, &inputErr)
		return err
	}
	switch out {
	case "":
		err = write(io.Discard)
	case "-":
		bw := bufio.NewWriterSize(stdout, 64<<10)
		if err = write(bw); err == nil {
			err = bw.Flush()
		}
	default:
		// Complete or not at all, with the mode a new file gets from the umask (as the report).
		err = report.WriteAtomic(out, true, write)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case inputErr != nil:
		return withExit(exitUsage, inputErr.err)
	case err != nil:
		return withExit(exitUsage, fmt.Errorf("write plan: %w", err))
	}

	if more := sum.Invalid - shown; more > 0 {
		where := "the plan"
		if out == "" {
			where = "smscast plan --out FILE"
		}
		fmt.Fprintf(stderr, "… and %d more invalid rows; %s lists each with its reason\n", more, where)
	}
	switch out {
	case "":
		fmt.Fprintln(stderr, "plan (no --out: the per-row plan was not written; smscast plan --out FILE writes it)")
	case "-":
		fmt.Fprintln(stderr, "plan (written to standard output)")
	default:
		fmt.Fprintf(stderr, "plan written to %s\n", out)
	}
	if err := sum.Write(stderr, csvin.Estimate{PricePerPart: pricePerPart, Rate: rate}); err != nil {
		return err
	}
	if sum.Invalid > 0 {
		return withExit(exitIncomplete, fmt.Errorf("%d of %d rows are invalid and would not be sent; fix them, or send knowing they will be skipped", sum.Invalid, sum.Rows))
	}
	return nil
}

// planRecord fills record with row's plan columns. Cells a spreadsheet would run as a
// formula are neutralised as in the report.
func planRecord(record []string, row csvin.Row) {
	record[0] = strconv.Itoa(row.Num)
	record[1] = report.SafeCell(row.MSISDN)
	record[2] = report.SafeCell(row.Template)
	record[3], record[4] = "", "0"
	if row.Status == csvin.StatusOK {
		record[3] = row.Message.Encoding.String()
		record[4] = strconv.Itoa(len(row.Message.Parts))
	}
	record[5] = row.Status.String()
	record[6] = report.SafeCell(row.Reason)
	record[7] = report.SafeCell(row.Text)
	record[8] = report.SafeCell(row.From)
}

// checkPlanOut refuses, before the input is read, an --out that is one of the input files,
// which the plan would replace, or in a directory where it cannot be written.
func checkPlanOut(out string, cfg csvin.Config) error {
	if out == "" || out == "-" {
		return nil
	}
	if err := checkOutputDir("--out", out); err != nil {
		return err
	}
	outInfo, err := os.Stat(out)
	if err != nil {
		return nil // a new file
	}
	for _, in := range []string{cfg.Recipients, cfg.Templates, cfg.Exclude} {
		if in == "" || in == "-" {
			continue
		}
		if inInfo, err := os.Stat(in); err == nil && os.SameFile(inInfo, outInfo) {
			return fmt.Errorf("--out %s is an input file; write the plan elsewhere", out)
		}
	}
	return nil
}

// inputError is an error of writePlan that comes from reading the input, not from writing.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// writePlan writes the plan of every row of r to sink as CSV and adds each row to sum,
// printing the first planShownErrors row errors (counted in shown) to stderr.
func writePlan(ctx context.Context, r *csvin.Reader, sink io.Writer, stderr io.Writer, sum *csvin.Summary, shown *int) error {
	w := csv.NewWriter(sink)
	if err := w.Write(planColumns); err != nil {
		return err
	}
	record := make([]string, len(planColumns))
	for i := 0; ; i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &inputError{err}
		}
		sum.Add(row)
		if row.Err != nil && *shown < planShownErrors {
			fmt.Fprintln(stderr, row.Err)
			(*shown)++
		}
		planRecord(record, row)
		if err := w.Write(record); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}
