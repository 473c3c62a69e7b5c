package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/goleak"

	"smscast/smpp"
	"smscast/smsc"
)

// simExecEnv makes the test binary run smscast's main instead of the tests, so that a test
// can run `smscast sim` as a real process (signals, exit status) without building it.
const simExecEnv = "SMSCAST_SIM_TEST_EXEC"

func init() {
	if os.Getenv(simExecEnv) == "1" {
		main()
	}
}

const simTestTimeout = 20 * time.Second

func TestSim_FlagsToConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want smsc.Config
	}{
		{"defaults", nil, nil, smsc.Config{
			Listen: "127.0.0.1:2775", IDFormat: smsc.IDHex, ReceiptRetry: smsc.DefaultReceiptRetry,
			ReceiptAttempts: smsc.DefaultReceiptAttempts, DeliverWindow: smsc.DefaultDeliverWindow, SessionInitTimeout: 30 * time.Second,
			DiscardMessages: true, ReplyText: "STOP"}},
		{"everything", []string{
			"--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-self-signed",
			"--system-id", "acme", "--password", "pw", "--id-format", "dec", "--receipt-id-format", "hex", "--first-id", "1000",
			"--receipt-delay", "2s", "--receipt-jitter", "1s", "--receipt-retry", "3s", "--receipt-attempts", "7", "--deliver-window", "20",
			"--undeliv-prefix", "4479,4478", "--undeliv-prefix", "4470", "--expire-prefix", "4477",
			"--reject-prefix", "4476", "--undeliv-ratio", "0.25", "--seed", "42", "--throttle-tps", "100",
			"--queue-full-after", "50", "--resp-delay", "10ms", "--drop-after", "300, 900",
			"--unbind-after", "5", "--no-enquire-resp", "--enquire-link", "45s", "--gsm7-packed", "--session-init-timeout", "5s",
			"--reply-prefix", "4475", "--reply-text", "Stop it",
		}, nil, smsc.Config{
			Listen: "127.0.0.1:0", TLSCertFile: "c.pem", TLSKeyFile: "k.pem", TLSSelfSigned: true,
			SystemID: "acme", Password: "pw", IDFormat: smsc.IDDec, ReceiptIDFormat: smsc.IDHex, FirstID: 1000,
			ReceiptDelay: 2 * time.Second, ReceiptJitter: time.Second, ReceiptRetry: 3 * time.Second,
			ReceiptAttempts: 7, DeliverWindow: 20, UndelivPrefixes: []string{"4479", "4478", "4470"},
			ExpirePrefixes: []string{"4477"}, RejectPrefixes: []string{"4476"}, UndelivRatio: 0.25,
			Seed: 42, ThrottleTPS: 100, QueueFullAfter: 50, RespDelay: 10 * time.Millisecond,
			DropAfter: []int{300, 900}, UnbindAfter: []int{5}, NoEnquireResp: true, GSM7Packed: true,
			EnquireLinkInterval: 45 * time.Second, SessionInitTimeout: 5 * time.Second, DiscardMessages: true, ReplyPrefixes: []string{"4475"}, ReplyText: "Stop it"}},
		{"password from the environment", nil, map[string]string{"SMSCAST_SIM_PASSWORD": "envpw"}, smsc.Config{
			Listen: "127.0.0.1:2775", Password: "envpw", IDFormat: smsc.IDHex, ReceiptRetry: smsc.DefaultReceiptRetry,
			ReceiptAttempts: smsc.DefaultReceiptAttempts, DeliverWindow: smsc.DefaultDeliverWindow, SessionInitTimeout: 30 * time.Second,
			DiscardMessages: true, ReplyText: "STOP"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got, err := simConfigOf(append([]string{"sim"}, tt.args...))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("config\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// simConfigOf parses sim arguments into a Config without starting anything.
func simConfigOf(args []string) (smsc.Config, error) {
	cmd := simCommand()
	var cfg smsc.Config
	var cfgErr error
	cmd.Action = func(c *cli.Context) error {
		cfg, cfgErr = simConfig(c)
		return cfgErr
	}
	app := &cli.App{Name: "smscast", Commands: []*cli.Command{cmd}, Writer: io.Discard, ErrWriter: io.Discard}
	err := app.Run(append([]string{"smscast"}, args...))
	return cfg, err
}

func TestSim_UsageErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--drop-after", "300,x"}, exitUsage, `"x" is not a positive whole number`},
		{[]string{"--unbind-after", "0"}, exitUsage, "--unbind-after"},
		{[]string{"--id-format", "b64"}, exitUsage, "hex or dec"},
		{[]string{"--receipt-id-format", "oct"}, exitUsage, "--receipt-id-format"},
		{[]string{"--undeliv-ratio", "2"}, exitUsage, "between 0 and 1"},
		{[]string{"--tls-cert", "only.pem"}, exitUsage, "--tls-key"},
		{[]string{"--enquire-link", "1ns"}, exitUsage, "--enquire-link) 1ns is below 10ms"},
		{[]string{"extra"}, exitUsage, "no arguments"},
		{[]string{"--listen", busy.Addr().String()}, exitConnect, "listen on"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// Any start that got past the checks would fail on the busy port.
			args := append([]string{"smscast", "sim", "--listen", busy.Addr().String()}, tt.args...)
			err := newApp(&stdout, &stderr).RunContext(context.Background(), args)
			if code := exitCode(err); code != tt.wantCode || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("exit %d, error %v; want exit %d and an error about %q", code, err, tt.wantCode, tt.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("printed %q on a failed start", stdout.String())
			}
		})
	}
}

// TestSim_InProcess runs the command's action until its context is cancelled, the way
// SIGTERM ends it, and checks the address line, the faults it was given and the summary.
func TestSim_InProcess(t *testing.T) {
	// signal.NotifyContext starts the os/signal goroutine, which lives as long as the process.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreTopFunction("os/signal.signal_recv"))
	stdoutR, stdoutW := io.Pipe()
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- newApp(stdoutW, &stderr).RunContext(ctx, []string{"smscast", "sim", "--listen", "127.0.0.1:0",
			"--reject-prefix", "4476", "--id-format", "dec", "--undeliv-prefix", "4479"})
		stdoutW.Close()
	}()
	out := bufio.NewReader(stdoutR)
	addr := simReadLine(t, out)
	if _, _, err := net.SplitHostPort(addr); err != nil {
		t.Fatalf("first line %q is not an address: %v", addr, err)
	}

	s := dialSim(t, addr, smpp.Options{})
	if _, err := s.Submit(context.Background(), simSubmit("447600", 0)); err == nil || !strings.Contains(err.Error(), "ESME_RINVDSTADR") {
		t.Errorf("submit to a rejected prefix: %v, want ESME_RINVDSTADR", err)
	}
	resp, err := s.Submit(context.Background(), simSubmit("447900", 0))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Trim(resp.MessageID, "0123456789") != "" {
		t.Errorf("message id %q is not decimal", resp.MessageID)
	}
	s.Close()

	cancel()
	sum := simReadSummary(t, out)
	if err := <-done; err != nil {
		t.Fatalf("sim returned %v, want nil (exit 0)", err)
	}
	if sum.Sessions != 1 || sum.Accepted != 1 || sum.Rejected != 1 || sum.Submits != 2 {
		t.Errorf("summary %+v", sum)
	}
}

// startSimProcess starts `smscast sim --listen 127.0.0.1:0 args...` as a process of its own
// (this test binary), with env added to its environment; it is killed when the test ends.
func startSimProcess(t *testing.T, env []string, args ...string) (*exec.Cmd, *bufio.Reader, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"sim", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(append(os.Environ(), simExecEnv+"=1"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(lockedBuffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd, bufio.NewReader(stdout), stderr
}

// A closed terminal (SIGHUP) stops the simulator as SIGINT and SIGTERM do: summary, exit 0.
func TestSim_SubprocessHangup(t *testing.T) {
	cmd, out, stderr := startSimProcess(t, nil)
	simReadLine(t, out) // the address: it listens, and its signal handling is in place
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	sum := simReadSummary(t, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sim exited with %v after SIGHUP, want status 0; stderr:\n%s", err, stderr.String())
	}
	if sum.Sessions != 0 {
		t.Errorf("summary %+v, want no sessions", sum)
	}
}

func TestSim_Subprocess(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "messages.jsonl")
	cmd, out, stderr := startSimProcess(t, []string{"SMSCAST_SIM_PASSWORD=pw12"}, "--system-id", "acme", "--log", logFile)
	addr := simReadLine(t, out)

	if _, err := smpp.Dial(context.Background(), addr, smpp.Options{
		Bind: smpp.Bind{SystemID: "acme", Password: "wrong"}, BindTimeout: simTestTimeout}); err == nil ||
		!strings.Contains(err.Error(), "ESME_RINVPASWD") {
		t.Errorf("bind with a wrong password: %v, want ESME_RINVPASWD", err)
	}
	receipts := make(chan struct{}, 10)
	s := dialSim(t, addr, smpp.Options{
		Bind: smpp.Bind{SystemID: "acme", Password: "pw12"},
		Handler: func(context.Context, smpp.PDU) smpp.Status {
			receipts <- struct{}{}
			return smpp.StatusOK
		},
	})
	for _, dest := range []string{"447001", "447002"} {
		if _, err := s.Submit(context.Background(), simSubmit(dest, 1)); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		select {
		case <-receipts:
		case <-time.After(simTestTimeout):
			t.Fatal("no receipt")
		}
	}
	s.Close()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sum := simReadSummary(t, out)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("sim exited with %v after SIGTERM, want status 0; stderr:\n%s", err, stderr.String())
	}
	if sum.Sessions != 1 || sum.BindFailures != 1 || sum.Accepted != 2 || sum.ReceiptsSent != 2 ||
		sum.DeliverSMResp != 2 || sum.MaxSubmitsPerSecond < 1 {
		t.Errorf("summary %+v", sum)
	}
	if strings.Contains(stderr.String(), "pw12") {
		t.Errorf("the password appears on stderr: %s", stderr.String())
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("log has %d lines, want 2:\n%s", len(lines), data)
	}
	var m smsc.Message
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil || m.Destination.Addr != "447002" || m.Text != "rehearsal" {
		t.Errorf("log line %s: %+v, %v", lines[1], m, err)
	}
}

func simSubmit(dest string, regDelivery uint8) *smpp.SubmitSM {
	return &smpp.SubmitSM{SourceAddrTON: 5, SourceAddr: "Brand", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: dest, RegisteredDelivery: regDelivery, ShortMessage: []byte("rehearsal")}
}

func dialSim(t *testing.T, addr string, opt smpp.Options) *smpp.Session {
	t.Helper()
	opt.BindTimeout, opt.RespTimeout = simTestTimeout, simTestTimeout
	s, err := smpp.Dial(context.Background(), addr, opt)
	if err != nil {
		t.Fatalf("bind to the simulator: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// readLine reads one line, failing after simTestTimeout.
func simReadLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := r.ReadString('\n')
		ch <- result{strings.TrimSuffix(line, "\n"), err}
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("read a line: %v (got %q)", res.err, res.line)
		}
		return res.line
	case <-time.After(simTestTimeout):
		t.Fatal("no line on stdout")
	}
	return ""
}

type simSummaryLine struct {
	smsc.Stats
	MaxSubmitsPerSecond int `json:"max_submits_per_second"`
}

func simReadSummary(t *testing.T, r *bufio.Reader) simSummaryLine {
	t.Helper()
	line := simReadLine(t, r)
	var s simSummaryLine
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("summary line %q: %v", line, err)
	}
	return s
}
