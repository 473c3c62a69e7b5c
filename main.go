// Command smscast sends bulk SMS over SMPP 3.4: it reads a recipients CSV and a templates
// CSV, paces submit_sm under a rate limit and a window, collects delivery receipts and writes
// a receipt report. main only wires flags to the packages and maps errors to exit statuses.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at build time with -ldflags "-X main.version=..."; "dev" otherwise, which
// versionString completes from the build information Go records.
var version = "dev"

// versionString is what --version prints: version, and for a "dev" build the module version
// or commit it was built from (and whether the tree had changes), so that a bug report can
// name the code that ran.
func versionString(v string, info *debug.BuildInfo) string {
	if v != "dev" || info == nil {
		return v
	}
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		return mv
	}
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", with uncommitted changes"
			}
		}
	}
	if rev == "" {
		return v
	}
	return fmt.Sprintf("%s (commit %.12s of %s%s, %s)", v, rev, at, modified, info.GoVersion)
}

// Exit statuses shared by every command; README.md documents them.
const (
	exitOK         = 0
	exitUsage      = 1 // usage or input error, nothing sent
	exitConnect    = 2 // could not connect or bind, nothing sent
	exitIncomplete = 3 // finished, but some rows were rejected, invalid, not sent or still pending
)

// commands is filled by each command's file (sim.go, plan.go, send.go, ...) so that only
// commands that exist are registered.
var commands []*cli.Command

func register(c *cli.Command) { commands = append(commands, c) }

// exitError attaches an exit status to an error.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

// joinErrs is err and more in one error of one line ("err; more"), either of which may be nil.
func joinErrs(err, more error) error {
	switch {
	case err == nil:
		return more
	case more == nil:
		return err
	}
	return fmt.Errorf("%w; %w", err, more)
}

// withExit wraps err (nil stays nil) so that main exits with code.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// buildInfo is the binary's build information, nil when it has none.
func buildInfo() *debug.BuildInfo {
	info, _ := debug.ReadBuildInfo()
	return info
}

func newApp(stdout, stderr io.Writer) *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	for _, c := range commands {
		c.OnUsageError = usageError
	}
	return &cli.App{
		OnUsageError: usageError,
		Name:         "smscast",
		Usage:        "send bulk SMS over SMPP 3.4 with pacing, delivery receipts and a report",
		Version:      versionString(version, buildInfo()),
		Description: "Exit status: 0 success; 1 usage or input error (nothing sent); 2 could not\n" +
			"connect or bind (nothing sent); 3 finished, but some rows were rejected, invalid, not\n" +
			"sent or uncertain (for receipts: some still wait for a final receipt); 129/130/143\n" +
			"stopped by SIGHUP/SIGINT/SIGTERM. Each command's --help says more.",
		Commands:             commands,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		// Errors are printed once, by main, with their exit status.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// usageError is a bad flag's error, said in one line on stderr (by main), without the help
// text urfave/cli would print on stdout: stdout may be a pipe (plan --out -, the simulator's
// address) and cron mails stderr. A bad value says what the flag takes instead of Go's
// parser's words ("parse error", "strconv.ParseInt: parsing ...").
func usageError(c *cli.Context, err error, _ bool) error {
	msg := strings.NewReplacer("flag -", "flag --", "defined: -", "defined: --").Replace(err.Error())
	if m := badFlagValue.FindStringSubmatch(msg); m != nil {
		if takes := flagTakes(c, m[2]); takes != "" {
			msg = fmt.Sprintf("invalid value %s for flag %s: %s", m[1], dashed(m[2]), takes)
		}
	} else if m := badEnvValue.FindStringSubmatch(msg); m != nil {
		if takes := flagTakes(c, m[3]); takes != "" {
			msg = fmt.Sprintf("invalid value %s in the environment variable %s (for --%s): %s", m[1], m[2], m[3], takes)
		}
	} else if m := unknownFlag.FindStringSubmatch(msg); m != nil {
		if near := nearestFlag(c, m[1]); near != "" {
			msg += fmt.Sprintf(" (did you mean --%s?)", near)
		}
	}
	name := "smscast"
	if c.Command != nil && c.Command.Name != "" && c.Command.Name != c.App.Name {
		name += " " + c.Command.Name
	}
	return fmt.Errorf("%s; see %s --help", msg, name)
}

// urfave/cli's errors for a value its parser refused, on the command line and from the
// environment.
var (
	badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value ("[^"]*") for (?:flag )?--?([\w-]+): parse error$`)
	badEnvValue  = regexp.MustCompile(`^could not parse ("[^"]*") as \w+ value from environment variable "(\w+)" for flag ([\w-]+): `)
	unknownFlag  = regexp.MustCompile(`^flag provided but not defined: --?([\w-]+)$`)
)

// nearestFlag is the visible flag of c's command whose name is within a typo of name, or "".
func nearestFlag(c *cli.Context, name string) string {
	flags := c.App.Flags
	if c.Command != nil {
		flags = c.Command.Flags
	}
	return nearestName(flags, name, false)
}

// nearestName is the name among flags within a typo of name (at most two edits, one for
// short names), or "": of a visible flag, or with hidden of any.
func nearestName(flags []cli.Flag, name string, hidden bool) string {
	best, bestDist := "", min(2, len(name)/3)+1
	for _, f := range flags {
		if vf, ok := f.(cli.VisibleFlag); ok && !vf.IsVisible() && !hidden {
			continue
		}
		for _, n := range f.Names() {
			if d := editDistance(name, n); d < bestDist {
				best, bestDist = n, d
			}
		}
	}
	return best
}

// editDistance is the number of single-character edits (insertions, deletions,
// substitutions, and swaps of two neighbours: "wiat" for "wait") between a and b.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// dashed is a flag's name as it is written: -h, --rate.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagTakes says what values the flag called name (of c's command) takes; "" for a flag it
// does not know.
func flagTakes(c *cli.Context, name string) string {
	flags := c.App.Flags
	if c.Command != nil {
		flags = c.Command.Flags
	}
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			return valuesTaken(f)
		}
	}
	return ""
}

// valuesTaken says what values f takes, by its type; "" for a type whose own errors say it.
func valuesTaken(f cli.Flag) string {
	switch f.(type) {
	case *cli.DurationFlag:
		return "give a duration with its unit, such as 90s, 10m or 2h (h is the largest: 48h for two days)"
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return "give a whole number"
	case *cli.Float64Flag:
		return "give a number, such as 50 or 2.5"
	case *cli.BoolFlag:
		return "give true or false (in a config file or the environment, yes/no and on/off too)"
	}
	return ""
}

// exitCode maps an error returned by a command to the process exit status.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	// Only our own exitError decides: urfave/cli's own errors (an unknown command, a bad
	// flag) carry codes of their own that would collide with ours.
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}

func main() {
	dropEmptyEnv()
	err := newApp(os.Stdout, os.Stderr).RunContext(context.Background(), os.Args)
	printError(os.Stderr, unknownCommand(err))
	os.Exit(exitCode(err))
}

// unknownCommand rewords urfave/cli's answer to a command that does not exist ("No help topic
// for 'frob'") to say so.
func unknownCommand(err error) error {
	if err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "No help topic for '"); ok {
			return withExit(exitUsage, fmt.Errorf("unknown command %q: smscast --help lists the commands", strings.TrimSuffix(name, "'")))
		}
	}
	return err
}

// printError says a command's error on stderr, each of its lines prefixed, unless it has been
// said (an empty message: --log-format json wrote it as an event).
func printError(w io.Writer, err error) {
	if err != nil && err.Error() != "" {
		// Every line prefixed: a log grep for "smscast:" finds each problem of a list.
		for line := range strings.SplitSeq(err.Error(), "\n") {
			fmt.Fprintln(w, "smscast:", line)
		}
	}
}
