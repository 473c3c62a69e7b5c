package journal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIdentity_Sum(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	recipients := write("recipients.csv", "msisdn,template\n+31612345678,t1\n")
	templates := write("templates.csv", "id,text\nt1,Hello\n")
	build := func(change func(*Identity)) Identity {
		var id Identity
		id.SetOption("from", "ACME")
		id.SetOption("encoding", "auto")
		if err := id.AddFile("recipients", recipients); err != nil {
			t.Fatal(err)
		}
		if err := id.AddFile("templates", templates); err != nil {
			t.Fatal(err)
		}
		if change != nil {
			change(&id)
		}
		return id
	}
	base := build(nil)

	same := map[string]func(*Identity){
		"options set in another order": func(id *Identity) {
			*id = Identity{}
			id.SetOption("encoding", "auto")
			id.SetOption("from", "ACME")
			must(t, id.AddFile("templates", templates))
			must(t, id.AddFile("recipients", recipients))
		},
		"same content at another path": func(id *Identity) {
			must(t, id.AddFile("recipients", write("moved.csv", "msisdn,template\n+31612345678,t1\n")))
		},
		"content given as bytes": func(id *Identity) {
			id.AddBytes("recipients", "stdin", []byte("msisdn,template\n+31612345678,t1\n"))
		},
	}
	for name, change := range same {
		if id := build(change); id.Sum() != base.Sum() || base.Compare(id) != nil {
			t.Errorf("%s: identity changed (%v)", name, base.Compare(id))
		}
	}

	differ := map[string]struct {
		change func(*Identity)
		says   string
	}{
		"an input file's content": {func(id *Identity) {
			must(t, id.AddFile("recipients", write("r2.csv", "msisdn,template\n+31612345679,t1\n")))
		}, "recipients file changed"},
		"an option's value":            {func(id *Identity) { id.SetOption("from", "ACME2") }, `option from was "ACME", now "ACME2"`},
		"an option added":              {func(id *Identity) { id.SetOption("validity", "") }, `option validity was not set, now ""`},
		"an option removed":            {func(id *Identity) { delete(id.Options, "encoding") }, "option encoding was \"auto\", now not set"},
		"a file added":                 {func(id *Identity) { id.AddBytes("exclude", "exclude.csv", nil) }, "exclude file exclude.csv was not used"},
		"a file removed":               {func(id *Identity) { delete(id.Files, "templates") }, "templates file"},
		"an option named like a file":  {func(id *Identity) { id.SetOption("recipients", "") }, "option recipients"},
		"a value moved between fields": {func(id *Identity) { id.SetOption("from", "ACMEauto"); id.SetOption("encoding", "") }, "option"},
	}
	for name, tt := range differ {
		id := build(tt.change)
		if id.Sum() == base.Sum() {
			t.Errorf("%s: identity did not change", name)
			continue
		}
		err := base.Compare(id)
		var me *MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s: Compare = %v, want a *MismatchError saying %q", name, err, tt.says)
		}
	}
}

func TestIdentity_AddFileMissing(t *testing.T) {
	var id Identity
	err := id.AddFile("recipients", filepath.Join(t.TempDir(), "nope.csv"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "recipients") {
		t.Errorf("AddFile of a missing file = %v", err)
	}
}

func TestIdentity_String(t *testing.T) {
	id := testIdentity()
	if s := id.String(); len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("String() = %q, want 64 hex digits", s)
	}
}
