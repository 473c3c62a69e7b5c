package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// envPrefix starts the environment variable of every flag: --max-attempts is
// SMSCAST_MAX_ATTEMPTS.
const envPrefix = "SMSCAST_"

// dropEmptyEnv unsets the SMSCAST_ variables that are set but empty, so that an empty one
// counts as unset for every flag: urfave/cli reads an empty string flag as a value (so
// SMSCAST_TEXT= would override the config file's text) but skips an empty number. It also
// spells the yes/no/on/off of a boolean flag's variable as true/false.
func dropEmptyEnv() {
	for _, kv := range os.Environ() {
		name, value, ok := strings.Cut(kv, "=")
		switch {
		case !ok || !strings.HasPrefix(name, envPrefix):
		case value == "":
			os.Unsetenv(name)
		case boolEnvVars[name]:
			// As in --config: SMSCAST_QUIET=yes means what quiet: yes does there.
			os.Setenv(name, yamlBool(value))
		}
	}
}

// boolEnvVars holds the environment variables of boolean flags (withEnv fills it), whose
// yes/no/on/off dropEmptyEnv turns into the true/false the flags read.
var boolEnvVars = map[string]bool{}

// envVar is the environment variable that sets the flag called name.
func envVar(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// maxConfigSize caps a --config file; a config file is a handful of lines.
const maxConfigSize = 1 << 20

// configFlag is the name of --config FILE: YAML whose keys are flag names, so that a cron
// entry stays short and secrets stay off the command line.
const configFlag = "config"

// newConfigFlag makes --config for one command. A flag value is not shared between commands:
// urfave/cli stores what it reads from the environment in the flag itself, which would
// outlive the run (in tests, where apps run one after another in one process).
func newConfigFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:    configFlag,
		Usage:   "read flag values from this YAML `FILE` (keys are flag names, e.g. \"rate: 50\"; one file serves plan, send and receipts, each ignoring the others' keys); the command line wins over the environment, which wins over the file",
		EnvVars: []string{envVar(configFlag)},
	}
}

// withEnv gives every flag that has none its SMSCAST_ environment variable, which --help
// then shows, and returns flags.
func withEnv(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		// Every urfave/cli flag type has its own EnvVars field and no setter in common.
		v := reflect.ValueOf(f)
		if v.Kind() != reflect.Pointer {
			continue
		}
		field := v.Elem().FieldByName("EnvVars")
		if !field.IsValid() || !field.CanSet() {
			continue
		}
		env := orEnv(field.Interface().([]string), envVar(f.Names()[0]))
		field.Set(reflect.ValueOf(env))
		if _, isBool := f.(*cli.BoolFlag); isBool {
			for _, name := range env {
				boolEnvVars[name] = true
			}
		}
	}
	return flags
}

func orEnv(have []string, env string) []string {
	if len(have) > 0 {
		return have
	}
	return []string{env}
}

// campaignFlags are the flags of the commands that read a campaign's --config file.
func campaignFlags() []cli.Flag {
	var flags []cli.Flag
	for _, cmd := range []*cli.Command{planCommand(), sendCommand(), receiptsCommand()} {
		flags = append(flags, cmd.Flags...)
	}
	return flags
}

// applyConfigFile fills every flag that neither the command line nor the environment set from
// the YAML file named by --config (no file: nothing to do). Values go through the flag's own
// parser, so "rate: 50", "rate: '50'" and "--rate 50" mean the same; a list (for repeatable
// flags) sets the flag once per item. One file serves every command of a campaign: a key of
// another campaign command's flag is ignored (send's smsc in plan), and a key that names no
// flag of any is an error, because a typo would otherwise silently send with the default.
func applyConfigFile(c *cli.Context) error {
	path := c.String(configFlag)
	if path == "" {
		return nil
	}
	values, err := readConfigFile(path)
	if err != nil {
		if env := envVar(configFlag); os.Getenv(env) == path {
			// A cron entry's environment is not on its command line: say where the path came from.
			return fmt.Errorf("%w (the path is from the environment variable %s)", err, env)
		}
		return err
	}
	// One file serves every command of a campaign: a command ignores the others' keys.
	all := campaignFlags()
	campaign := map[string]bool{}
	for _, f := range all {
		for _, n := range f.Names() {
			campaign[n] = true
		}
	}
	known := map[string]cli.Flag{}
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			known[n] = f
		}
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// --password and --password-file are two ways to give one setting: either one from the
	// command line or the environment wins over both in the file.
	passwordAbove := c.IsSet("password") || c.IsSet("password-file")
	_, password := values["password"]
	_, passwordFile := values["password-file"]
	if password && passwordFile && !passwordAbove {
		// As on the command line and in the environment: which one was meant cannot be told.
		return fmt.Errorf("config %s: give the password once: password or password-file, not both", path)
	}
	if password {
		warnIfReadableByOthers(c.App.ErrWriter, "config file", path)
	}
	for _, key := range keys {
		flag := known[key]
		if flag == nil && campaign[key] && key != configFlag {
			continue // another command's setting, such as plan's out or send's smsc
		}
		if flag == nil || key == configFlag {
			near := ""
			if n := nearestName(all, key, true); n != "" && n != configFlag {
				near = fmt.Sprintf(" (did you mean %s?)", n)
			}
			return fmt.Errorf("config %s: %q is not a flag of smscast plan, send or receipts%s; keys are flag names without the dashes (see --help)",
				path, key, near)
		}
		if c.IsSet(key) || passwordAbove && (key == "password" || key == "password-file") {
			continue // the command line or the environment wins
		}
		items, err := configStrings(values[key])
		if err != nil {
			return fmt.Errorf("config %s: %s: %w", path, key, err)
		}
		_, list := flag.(*cli.StringSliceFlag)
		if len(items) > 1 && !list {
			// Taking the last item would send with a value nobody chose.
			return fmt.Errorf("config %s: %s takes one value, but the file gives a list of %d", path, key, len(items))
		}
		for _, v := range items {
			if _, isBool := flag.(*cli.BoolFlag); isBool {
				v = yamlBool(v)
			}
			if err := c.Set(key, v); err != nil {
				if takes := valuesTaken(flag); takes != "" {
					// The parser's own words ("parse error", strconv's) say nothing of what it takes.
					return fmt.Errorf("config %s: %s: invalid value %q: %s", path, key, v, takes)
				}
				return fmt.Errorf("config %s: %s: %q: %w", path, key, v, err)
			}
		}
	}
	return nil
}

// yamlBool gives the yes/no/on/off that YAML 1.1 (and people) use for booleans as true or
// false, which the flag reads; anything else is left for the flag to judge.
func yamlBool(v string) string {
	switch strings.ToLower(v) {
	case "yes", "on", "y":
		return "true"
	case "no", "off", "n":
		return "false"
	}
	return v
}

// readConfigFile reads a YAML mapping of flag names to values.
func readConfigFile(path string) (map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("config %s: larger than %d bytes; is this the right file?", path, maxConfigSize)
	}
	values := map[string]any{}
	if err := yaml.Unmarshal(b, &values); err != nil {
		return nil, fmt.Errorf("config %s: not a YAML mapping of flag names to values: %w", path, err)
	}
	return values, nil
}

// configStrings turns a YAML value into the strings to give the flag: one for a scalar, one
// per item for a list.
func configStrings(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, errors.New("no value; remove the key or give a value")
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, err := configStrings(item)
			if err != nil {
				return nil, err
			}
			out = append(out, s...)
		}
		return out, nil
	case map[string]any:
		return nil, errors.New("a mapping is not a flag value")
	case time.Time:
		// YAML reads an unquoted 2025-03-14T09:30:00Z as a timestamp; give it back as written.
		return []string{v.Format(time.RFC3339Nano)}, nil
	default:
		return []string{fmt.Sprint(v)}, nil
	}
}

// readPassword returns the bind password: from --password-file (first line, without the line
// end), or from --password / SMSCAST_PASSWORD / the config file. It warns when the password
// was typed on the command line (onCommandLine, see passwordOnCommandLine), where other users
// can read it in the process list. The password itself is never printed.
func readPassword(c *cli.Context, onCommandLine bool, warn func(string)) (string, error) {
	file, inline := c.String("password-file"), c.String("password")
	if file != "" && inline != "" {
		// One from the command line and the other from the environment: the command line
		// wins, as for every flag. (The config file's gave way to both in applyConfigFile.)
		fileOnCommandLine := file != os.Getenv(envVar("password-file"))
		switch {
		case fileOnCommandLine && !onCommandLine:
			inline = ""
		case onCommandLine && !fileOnCommandLine:
			file = ""
		}
	}
	switch {
	case file != "" && inline != "" && onCommandLine:
		return "", errors.New("give the password once: --password-file or --password, not both")
	case file != "" && inline != "":
		return "", fmt.Errorf("give the password once: the environment has both %s and %s; unset one", envVar("password-file"), envVar("password"))
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if line = strings.TrimRight(line, "\r"); line == "" {
			return "", fmt.Errorf("password file %s: its first line is empty; write the password there", file)
		}
		warnIfReadableByOthers(c.App.ErrWriter, "password file", file)
		return line, nil
	}
	if inline != "" && onCommandLine {
		warn("warning: --password on the command line can be read by other users of this machine (ps); use SMSCAST_PASSWORD or --password-file")
	}
	return inline, nil
}

// passwordOnCommandLine reports whether --password came from the command line rather than
// the environment; ask it before applyConfigFile, which would make the flag look set too.
func passwordOnCommandLine(c *cli.Context) bool {
	return c.IsSet("password") && c.String("password") != os.Getenv(envVar("password"))
}

// warnIfReadableByOthers warns, as ssh does for a key, when the file at path that holds a
// password (what: "password file", "config file") can be read by other users of the machine.
// Windows keeps no such mode bits.
func warnIfReadableByOthers(stderr io.Writer, what, path string) {
	fi, err := os.Stat(path)
	if err != nil || runtime.GOOS == "windows" || fi.Mode().Perm()&0o044 == 0 {
		return
	}
	fmt.Fprintf(stderr, "warning: %s %s holds the password and other users of this machine can read it (mode %04o); chmod 600 %s\n",
		what, path, fi.Mode().Perm(), shellQuote(path))
}
