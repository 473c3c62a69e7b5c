package main

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"smscast/smsc"
)

func init() { register(simCommand()) }

func simCommand() *cli.Command {
	return &cli.Command{
		Name:      "sim",
		Usage:     "run an SMPP 3.4 SMSC simulator to test, demo and rehearse a campaign against",
		UsageText: "smscast sim [--listen 127.0.0.1:2775] [options]",
		Description: "Accepts binds, answers submit_sm and data_sm with message ids and sends delivery receipts,\n" +
			"with deterministic outcomes per destination prefix and the faults of real carriers.\n" +
			"The first line on stdout is the address it listens on (useful with --listen 127.0.0.1:0).\n" +
			"SIGINT, SIGTERM or SIGHUP stops it: it prints a one-line JSON summary on stdout and exits 0.\n\n" +
			"Exit status: 0 stopped by a signal; 1 usage error or the --log file failed;\n" +
			"2 could not listen on --listen.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:2775", Usage: "TCP `ADDRESS` to listen on; port 0 picks a free port (printed on the first line)"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve TLS with this PEM certificate `FILE` (needs --tls-key)"},
			&cli.StringFlag{Name: "tls-key", Usage: "PEM private key `FILE` of --tls-cert"},
			&cli.BoolFlag{Name: "tls-self-signed", Usage: "serve TLS with a throwaway self-signed certificate for 127.0.0.1, ::1 and localhost"},
			&cli.StringFlag{Name: "system-id", Usage: "accept only binds with this `ID` (default: any)"},
			&cli.StringFlag{Name: "password", EnvVars: []string{"SMSCAST_SIM_PASSWORD"}, Usage: "accept only binds with this `PASSWORD` (default: any); prefer the environment variable, the command line is visible to other users"},
			&cli.StringFlag{Name: "id-format", Value: "hex", Usage: "message ids in responses: `FORMAT` hex or dec"},
			&cli.StringFlag{Name: "receipt-id-format", Usage: "message ids in the receipt text: `FORMAT` hex or dec (default: as --id-format); the other one rehearses a common carrier quirk (the receipted_message_id TLV keeps the response's id)"},
			&cli.Uint64Flag{Name: "first-id", DefaultText: "random", Usage: "number the messages from `N` on (written in --id-format) instead of from a random start, as an SMSC whose counter restarted gives out earlier ids again"},
			&cli.DurationFlag{Name: "receipt-delay", Usage: "send each receipt this `DURATION` after acceptance (e.g. 2s)"},
			&cli.DurationFlag{Name: "receipt-jitter", Usage: "add a random delay up to `DURATION` to each receipt"},
			&cli.DurationFlag{Name: "receipt-retry", Value: smsc.DefaultReceiptRetry, Usage: "send a receipt again when its deliver_sm_resp has not come after `DURATION`, or came with an error"},
			&cli.IntFlag{Name: "receipt-attempts", Value: smsc.DefaultReceiptAttempts, Usage: "give a receipt up after sending it `N` times"},
			&cli.IntFlag{Name: "deliver-window", Value: smsc.DefaultDeliverWindow, Usage: "send at most `N` deliver_sm (receipts, replies) per session before waiting for a deliver_sm_resp, as SMSCs do"},
			&cli.StringSliceFlag{Name: "undeliv-prefix", Usage: "receipts say UNDELIV for destinations starting with `PREFIX` (repeatable, or comma-separated)"},
			&cli.StringSliceFlag{Name: "expire-prefix", Usage: "receipts say EXPIRED for destinations starting with `PREFIX`"},
			&cli.StringSliceFlag{Name: "reject-prefix", Usage: "refuse submits to destinations starting with `PREFIX` with ESME_RINVDSTADR"},
			&cli.StringSliceFlag{Name: "reply-prefix", Usage: "handsets whose number starts with `PREFIX` answer every message delivered to them with --reply-text (a deliver_sm to the sender, just before the receipt), to rehearse --inbox and --optout-keywords"},
			&cli.StringFlag{Name: "reply-text", Value: "STOP", Usage: "what the --reply-prefix handsets answer: `TEXT` (a long one goes in several parts)"},
			&cli.Float64Flag{Name: "undeliv-ratio", Usage: "receipts say UNDELIV for this `FRACTION` (0-1) of the other destinations, chosen by --seed"},
			&cli.Int64Flag{Name: "seed", Usage: "`N` that chooses the --undeliv-ratio destinations: the same seed, the same choice"},
			&cli.IntFlag{Name: "throttle-tps", Usage: "answer ESME_RTHROTTLED to submits past the first `N` of each second (0 = never)"},
			&cli.IntFlag{Name: "queue-full-after", Usage: "answer ESME_RMSGQFUL once `N` messages were accepted in the current second (0 = never)"},
			&cli.DurationFlag{Name: "resp-delay", Usage: "delay every response by `DURATION`, which makes the client's window visible"},
			&cli.StringFlag{Name: "drop-after", Usage: "close the connection, without unbind or response, right after the `N[,M...]`th accepted message (counted across all sessions)"},
			&cli.StringFlag{Name: "unbind-after", Usage: "unbind the session right after answering the `N[,M...]`th accepted message (counted across all sessions)"},
			&cli.StringFlag{Name: "forget-bind-after", Usage: "forget the session's bind right after answering the `N[,M...]`th accepted message, keeping the connection: later submits on it get ESME_RINVBNDSTS (an SMSC that restarted its bind table)"},
			&cli.BoolFlag{Name: "no-enquire-resp", Usage: "never answer enquire_link, like a dead peer"},
			&cli.DurationFlag{Name: "enquire-link", Usage: "send enquire_link on each bound session every `DURATION`, as carriers do, and close a connection whose client leaves one unanswered for as long (0 = never)"},
			&cli.DurationFlag{Name: "session-init-timeout", Value: 30 * time.Second, Usage: "close a connection that has not bound within `DURATION` of connecting (0 = never)"},
			&cli.BoolFlag{Name: "gsm7-packed", Usage: "read data_coding 0 as packed septets, and pack GSM 7-bit replies (for clients sending with --gsm7-packed)"},
			&cli.BoolFlag{Name: "no-interface-version", Usage: "answer binds without sc_interface_version, like an SMSC that announces no TLV support"},
			&cli.IntFlag{Name: "max-binds", Usage: "refuse a bind with ESME_RALYBND while `N` sessions are bound, like a carrier that allows an account N binds (0 = no limit)"},
			&cli.StringFlag{Name: "log", Usage: "append every accepted message as a JSON line to `FILE`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("sim takes no arguments, got %q", c.Args().First())
			}
			cfg, err := simConfig(c)
			if err != nil {
				return err
			}
			// SIGHUP too: a terminal that closes ends it as documented, with its summary.
			ctx, stop := signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			defer stop()
			return runSim(ctx, cfg, c.String("log"), c.App.Writer, c.App.ErrWriter)
		},
	}
}

// simConfig maps the sim flags to the simulator's configuration.
func simConfig(c *cli.Context) (smsc.Config, error) {
	cfg := smsc.Config{
		Listen:              c.String("listen"),
		TLSCertFile:         c.String("tls-cert"),
		TLSKeyFile:          c.String("tls-key"),
		TLSSelfSigned:       c.Bool("tls-self-signed"),
		SystemID:            c.String("system-id"),
		FirstID:             c.Uint64("first-id"),
		Password:            c.String("password"),
		ReceiptDelay:        c.Duration("receipt-delay"),
		ReceiptJitter:       c.Duration("receipt-jitter"),
		ReceiptRetry:        c.Duration("receipt-retry"),
		ReceiptAttempts:     c.Int("receipt-attempts"),
		DeliverWindow:       c.Int("deliver-window"),
		UndelivPrefixes:     c.StringSlice("undeliv-prefix"),
		ExpirePrefixes:      c.StringSlice("expire-prefix"),
		RejectPrefixes:      c.StringSlice("reject-prefix"),
		ReplyPrefixes:       c.StringSlice("reply-prefix"),
		ReplyText:           c.String("reply-text"),
		UndelivRatio:        c.Float64("undeliv-ratio"),
		Seed:                c.Int64("seed"),
		ThrottleTPS:         c.Int("throttle-tps"),
		QueueFullAfter:      c.Int("queue-full-after"),
		RespDelay:           c.Duration("resp-delay"),
		NoEnquireResp:       c.Bool("no-enquire-resp"),
		EnquireLinkInterval: c.Duration("enquire-link"),
		SessionInitTimeout:  c.Duration("session-init-timeout"),
		GSM7Packed:          c.Bool("gsm7-packed"),
		NoInterfaceVersion:  c.Bool("no-interface-version"),
		MaxBinds:            c.Int("max-binds"),
		// The command has no use for the in-memory record: a long rehearsal must not grow.
		DiscardMessages: true,
	}
	var err error
	if cfg.IDFormat, err = smsc.ParseIDFormat(c.String("id-format")); err != nil {
		return cfg, fmt.Errorf("--id-format: %w", err)
	}
	if f := c.String("receipt-id-format"); f != "" {
		if cfg.ReceiptIDFormat, err = smsc.ParseIDFormat(f); err != nil {
			return cfg, fmt.Errorf("--receipt-id-format: %w", err)
		}
	}
	if cfg.DropAfter, err = parsePositions(c.String("drop-after")); err != nil {
		return cfg, fmt.Errorf("--drop-after: %w", err)
	}
	if cfg.UnbindAfter, err = parsePositions(c.String("unbind-after")); err != nil {
		return cfg, fmt.Errorf("--unbind-after: %w", err)
	}
	if cfg.ForgetBindAfter, err = parsePositions(c.String("forget-bind-after")); err != nil {
		return cfg, fmt.Errorf("--forget-bind-after: %w", err)
	}
	return cfg, nil
}

// parsePositions reads "300,900": positions in the count of accepted messages.
func parsePositions(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive whole number: give message counts such as 300,900", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// simSummary is the JSON line printed when the simulator stops.
type simSummary struct {
	smsc.Stats
	MaxSubmitsPerSecond int `json:"max_submits_per_second"`
}

// runSim serves until ctx ends, then prints the summary. The bound address is the first
// line on stdout, so that scripts can start the simulator on port 0 and read where it is.
func runSim(ctx context.Context, cfg smsc.Config, logPath string, stdout, stderr io.Writer) error {
	var logFile *os.File
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("--log: open the message log: %w", err)
		}
		logFile, cfg.Log = f, f
	}
	srv, err := smsc.NewServer(cfg)
	if err != nil {
		if logFile != nil {
			logFile.Close()
		}
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			return withExit(exitConnect, err)
		}
		return err
	}
	fmt.Fprintln(stdout, srv.Addr())
	fmt.Fprintf(stderr, "smscast sim: SMSC simulator on %s (%s), %s. Stop it with Ctrl-C, SIGTERM or SIGHUP for a summary.\n",
		srv.Addr(), transportNote(srv), credentialsNote(cfg))

	<-ctx.Done()
	closeErr := srv.Close()
	if logFile != nil {
		if err := logFile.Close(); err != nil && closeErr == nil {
			closeErr = fmt.Errorf("close the message log: %w", err)
		}
	}
	st := srv.Stats()
	line, err := json.Marshal(simSummary{Stats: st, MaxSubmitsPerSecond: st.MaxSubmitsPerSecond()})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", line)
	return closeErr
}

func transportNote(srv *smsc.Server) string {
	cert := srv.Certificate()
	if cert == nil {
		return "plain TCP"
	}
	return fmt.Sprintf("TLS, certificate %q SHA-256 %X; a client that does not trust it needs --tls-insecure",
		cert.Subject.CommonName, sha256.Sum256(cert.Raw))
}

func credentialsNote(cfg smsc.Config) string {
	note := "any bind accepted"
	switch {
	case cfg.SystemID != "" && cfg.Password != "":
		note = fmt.Sprintf("binds need system id %q and the password", cfg.SystemID)
	case cfg.SystemID != "":
		note = fmt.Sprintf("binds need system id %q", cfg.SystemID)
	case cfg.Password != "":
		note = "binds need the password"
	}
	if cfg.MaxBinds > 0 {
		note += fmt.Sprintf(", at most %d at once", cfg.MaxBinds)
	}
	return note
}
