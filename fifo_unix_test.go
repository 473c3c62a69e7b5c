//go:build unix

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"smscast/report"
	"smscast/smsc"
)

// fifoWith makes a FIFO at dir/name and feeds it content once, as a shell's process
// substitution would; the test fails if the campaign never reads it.
func fifoWith(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	wrote := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0) // blocks until the campaign opens it
		if err != nil {
			wrote <- err
			return
		}
		_, err = f.Write(content)
		f.Close()
		wrote <- err
	}()
	t.Cleanup(func() {
		// Should the campaign never have opened the FIFO, open it here so the writer ends.
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		if err := <-wrote; err != nil {
			t.Errorf("feeding %s: %v", name, err)
		}
	})
	return path
}

// Inputs that are pipes (a FIFO, or /dev/fd/N from a shell's process substitution) can be
// read once only. Estimating the row count or hashing the inputs into the journal must not
// read them again: the second open would wait for a writer that never comes, or the count
// would take the campaign's rows. Such a campaign cannot be resumed, and --resume says why.
func TestSend_inputsFromPipes(t *testing.T) {
	tests := []struct {
		name          string
		pipeTemplates bool
		journal       []string
	}{
		{"recipients, no journal", false, []string{"--journal", "off"}},
		{"recipients and templates, with the journal", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := smsc.NewServer(smsc.Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			recipientsFile, templates := campaignFiles(t, dir, 20)
			content, err := os.ReadFile(recipientsFile)
			if err != nil {
				t.Fatal(err)
			}
			recipients := fifoWith(t, dir, "recipients.fifo", content)
			tplFile := templates
			if tt.pipeTemplates {
				tpl, err := os.ReadFile(templates)
				if err != nil {
					t.Fatal(err)
				}
				templates = fifoWith(t, dir, "templates.fifo", tpl)
			}
			reportPath := filepath.Join(dir, "out.csv")
			args := append([]string{"send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
				"--from", "ACME", "--rate", "0", "--wait", "0", "--report", reportPath, "--quiet"}, tt.journal...)
			code, stderr := runWithin(t, 30*time.Second, func() {
				// A campaign stuck opening a FIFO a second time gets a writer that closes at
				// once, so that it ends before the test does.
				for _, p := range []string{recipients, templates} {
					if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
						f.Close()
					}
				}
			}, args...)
			if code != exitOK {
				t.Fatalf("exit %d; stderr:\n%s", code, stderr)
			}
			if rows := readReport(t, reportPath); len(rows) != 20 {
				t.Errorf("report has %d rows, want all 20 from the pipe", len(rows))
			}
			if got := srv.Stats().Accepted; got != 20 {
				t.Errorf("simulator accepted %d, want 20", got)
			}
			if tt.journal != nil {
				return
			}
			code, stderr = runApp(t, append(args[:len(args):len(args)], "--resume")...)
			if code != exitUsage || !strings.Contains(stderr, "pipe") {
				t.Errorf("--resume of a campaign read from pipes: exit %d, stderr %q; want 1 and why", code, stderr)
			}
			// The same rows from a file cannot be checked against what the pipes held.
			fileArgs := slices.Clone(args)
			fileArgs[slices.Index(fileArgs, recipients)] = recipientsFile
			fileArgs[slices.Index(fileArgs, templates)] = tplFile
			code, stderr = runApp(t, append(fileArgs, "--resume")...)
			if code != exitUsage || !strings.Contains(stderr, "cannot be resumed") || strings.Contains(stderr, `was "-"`) {
				t.Errorf("--resume from files of a campaign read from pipes: exit %d, stderr %q; want 1 and why", code, stderr)
			}
			// Nor does the rerun without --resume offer --resume.
			code, stderr = runApp(t, args...)
			if code != exitUsage || strings.Contains(stderr, "use --resume") {
				t.Errorf("rerun of a campaign read from pipes: exit %d, stderr %q; want 1 without --resume advice", code, stderr)
			}
		})
	}
}

// runWithin runs the app with args; if it has not ended after limit, it fails the test,
// calling unstick (every 100 ms, up to 100 times) so that the app ends first.
func runWithin(t *testing.T, limit time.Duration, unstick func(), args ...string) (int, string) {
	t.Helper()
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stderr := runApp(t, args...)
		done <- result{code, stderr}
	}()
	select {
	case res := <-done:
		return res.code, res.stderr
	case <-time.After(limit):
	}
	for range 100 { // it may get stuck again on the next open
		unstick()
		select {
		case res := <-done:
			t.Fatalf("smscast %s hung for %v; stderr:\n%s", args[0], limit, res.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("smscast %s hung for %v and stayed stuck", args[0], limit)
	return 0, ""
}

// An --inbox that is a pipe (a FIFO, or >(a script) in a shell) gets each line as it comes:
// nothing is kept beside it, and it is not fsynced (a pipe cannot be), so no reply is refused
// for that. The parts of a long reply are lines of their own there.
func TestOpenMO_inboxIsAPipe(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	// The reading end is open before openMO, as a shell's >(script) is.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	onMO, closeMO, err := openMO(path, "", "", nil, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	// Only now: a FIFO without a writer reads as at its end.
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(f) // until openMO's close
		got <- string(b)
	}()
	for _, m := range []report.MO{moPart(1, 2, 1, "first half, "), moPart(1, 2, 2, "second half"), {Time: time.Now(), From: "491722", To: "12345", Text: "hello"}} {
		if err := onMO(m); err != nil {
			t.Errorf("MO %q refused: %v", m.Text, err)
		}
	}
	closeMO()
	var text string
	select {
	case text = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the reader got nothing")
	}
	for _, want := range []string{"time,from,to,text\n", ",\"first half, \"\n", ",second half\n", ",hello\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the pipe got %q, want it to contain %q", text, want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files beside the pipe: %v, want none", entries)
	}
}

// A pipe that nobody reads would swallow every reply: --inbox refuses it at the start.
func TestOpenMO_inboxPipeWithoutReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	_, closeMO, err := openMO(path, "", "", nil, &strings.Builder{})
	closeMO()
	if err == nil || !strings.Contains(err.Error(), "nobody reads") {
		t.Errorf("openMO on a pipe without a reader: %v, want a refusal that says so", err)
	}
}

// The report's format is read from the report only when it is a regular file: a FIFO in its
// place (a report piped on) is not opened, which would wait for a writer.
func TestReportFormatOf_FIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.jsonl")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	got := make(chan report.Format, 1)
	go func() { got <- reportFormatOf(path) }()
	select {
	case f := <-got:
		if f != report.FormatJSONL {
			t.Errorf("format %v, want jsonl from the name", f)
		}
	case <-time.After(10 * time.Second):
		// Unblock the stuck open so the goroutine ends.
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		t.Fatal("reportFormatOf is still opening the FIFO after 10s")
	}
}

// A --summary-json or plan --out that names a FIFO, a link to one, or a path under /dev (as
// /dev/stdout is a link to the process's standard output, which may be a regular file) is
// written into and stays what it was: renaming the finished file over it, as for a regular
// file, turned /dev/null into a regular file when run as root. A FIFO that no process reads is
// an error at once, not a wait after the campaign. A --report there is refused before
// anything is sent.
func TestSend_outputsIntoSpecialFiles(t *testing.T) {
	srv, err := smsc.NewServer(smsc.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	recipients, templates := campaignFiles(t, dir, 3)
	fifo := filepath.Join(dir, "out.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	link := filepath.Join(dir, "stdout")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	stillSpecial := func(when string) {
		t.Helper()
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s: %s is no longer a link (%v)", when, link, err)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%s: %s is no longer a FIFO (%v)", when, fifo, err)
		}
	}
	send := func(report string, extra ...string) (int, string) {
		return runWithin(t, 30*time.Second, func() {}, append([]string{"send", "--smsc", srv.Addr(), "--recipients", recipients,
			"--templates", templates, "--rate", "0", "--wait", "0", "--report", filepath.Join(dir, report), "--quiet"}, extra...)...)
	}

	// No process reads the FIFO: said at once, exit 3 (the report stands).
	code, stderr := send("none.csv", "--summary-json", link)
	if code != exitIncomplete || !strings.Contains(stderr, "nothing reads it") {
		t.Errorf("--summary-json to a FIFO nobody reads: exit %d, stderr %q; want 3 and why", code, stderr)
	}
	stillSpecial("--summary-json, no reader")

	// A reader, open before smscast writes (O_RDWR: opening does not wait for a writer). The
	// output fits the pipe's buffer, so it is there once the command has returned.
	r, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd := int(r.Fd()) // once: Fd puts the file back in blocking mode
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	buffered := func() string {
		var b []byte
		buf := make([]byte, 64<<10)
		for range 100 {
			n, err := syscall.Read(fd, buf)
			if n <= 0 || err != nil {
				break
			}
			b = append(b, buf[:n]...)
		}
		return string(b)
	}
	code, stderr = send("out.csv", "--summary-json", link)
	if code != exitOK {
		t.Fatalf("send: exit %d; stderr:\n%s", code, stderr)
	}
	if s := buffered(); !strings.Contains(s, `"duration_seconds"`) {
		t.Errorf("the FIFO got %q, want the summary", s)
	}
	stillSpecial("--summary-json")

	code, _, stderr = runPlanApp(t, "", "--recipients", recipients, "--templates", templates, "--out", link)
	if code != exitOK {
		t.Fatalf("plan: exit %d; stderr:\n%s", code, stderr)
	}
	if s := buffered(); !strings.HasPrefix(s, "row,msisdn,") {
		t.Errorf("the FIFO got %q, want the plan", s)
	}
	stillSpecial("plan --out")

	// /dev/fd/N, here a regular file the process has open, as /dev/stdout is after "> file":
	// written into (appended to), never replaced.
	f, err := os.OpenFile(filepath.Join(dir, "redirected.json"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, stderr = send("fd.csv", "--summary-json", fmt.Sprintf("/dev/fd/%d", f.Fd()))
	if code != exitOK {
		t.Fatalf("send to /dev/fd: exit %d; stderr:\n%s", code, stderr)
	}
	if b, err := os.ReadFile(f.Name()); err != nil || !strings.Contains(string(b), `"duration_seconds"`) {
		t.Errorf("the file behind /dev/fd/%d holds %q (%v), want the summary", f.Fd(), b, err)
	}

	for _, report := range []string{link, "/dev/stdout"} {
		code, stderr = runApp(t, "send", "--smsc", srv.Addr(), "--recipients", recipients, "--templates", templates,
			"--report", report, "--force")
		if code != exitUsage || !strings.Contains(stderr, "not a regular file") {
			t.Errorf("--report %s: exit %d, stderr %q; want 1 and why", report, code, stderr)
		}
	}
	stillSpecial("--report")
	if n := srv.Stats().Submits; n != 9 {
		t.Errorf("%d submits, want the three campaigns' 9 only", n)
	}
}
