package smsc

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"smscast/smpp"
)

// IDFormat is how the simulator writes message ids. The zero value means IDHex.
type IDFormat string

// Message id formats.
const (
	IDHex IDFormat = "hex" // lower-case hexadecimal, e.g. "5f1e0b7a3c"
	IDDec IDFormat = "dec" // decimal, e.g. "409337420604"
)

// ParseIDFormat reads an --id-format value: hex or dec (any case).
func ParseIDFormat(s string) (IDFormat, error) {
	switch f := IDFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case IDHex, IDDec:
		return f, nil
	}
	return "", fmt.Errorf("unknown message id format %q: use hex or dec", s)
}

// Config is everything the simulator can be told. The zero value is a plain-TCP SMSC on
// 127.0.0.1 with an ephemeral port that accepts any bind, accepts every message, answers at
// once and sends a DELIVRD receipt at once to whoever asked for one.
type Config struct {
	// Listen is the TCP address to listen on; "" means "127.0.0.1:0" (an ephemeral port, read
	// it back with Server.Addr).
	Listen string

	// TLSCertFile and TLSKeyFile, both set, make the listener speak TLS with that PEM
	// certificate and key. TLSSelfSigned makes it speak TLS with a throwaway self-signed
	// certificate for 127.0.0.1, ::1 and localhost instead (see Server.Certificate).
	TLSCertFile, TLSKeyFile string
	TLSSelfSigned           bool

	// SystemID and Password, when set, are the only credentials a bind may use; any other
	// gets ESME_RINVSYSID (system id) or ESME_RINVPASWD (password). "" accepts anything in
	// that field.
	SystemID, Password string

	// IDFormat is the format of the message ids in submit_sm_resp and data_sm_resp ("" =
	// IDHex). ReceiptIDFormat is the format of the same ids in receipts ("" = IDFormat); set
	// it to the other format to rehearse the carrier quirk of hex ids in responses and
	// decimal ids in receipt texts (the receipted_message_id TLV keeps the response's id, as
	// the specification has it; NoInterfaceVersion leaves the text alone to match).
	IDFormat, ReceiptIDFormat IDFormat
	// FirstID > 0 numbers the messages FirstID, FirstID+1, … instead of from a random start,
	// as an SMSC whose counter restarted gives out the ids of earlier messages again (a
	// receipt may then fit messages of several runs); 0 = a random start, new each run.
	FirstID uint64

	// ReceiptDelay is how long after acceptance a receipt is sent (0 = at once), plus a
	// uniformly random extra in [0, ReceiptJitter).
	ReceiptDelay, ReceiptJitter time.Duration
	// ReceiptRetry is how long the simulator waits for the deliver_sm_resp of a receipt
	// before sending the receipt again, and how long it waits after a negative
	// deliver_sm_resp (0 = DefaultReceiptRetry). A receipt whose session closes before it
	// was acknowledged is sent again at once on another session, or queued until one binds.
	ReceiptRetry time.Duration
	// ReceiptAttempts bounds how often one receipt is sent (0 = DefaultReceiptAttempts);
	// then it is abandoned (Stats.ReceiptsAbandoned).
	ReceiptAttempts int
	// DeliverWindow is how many deliver_sm (receipts and replies) a session may have
	// unanswered before the simulator waits for a deliver_sm_resp, as SMSCs do (0 =
	// DefaultDeliverWindow). A backlog then reaches the client as fast as it answers.
	DeliverWindow int

	// Outcome rules, decided by destination_addr, so that tests are repeatable.
	// RejectPrefixes: the submit is refused with ESME_RINVDSTADR. UndelivPrefixes: accepted,
	// the receipt says UNDELIV. ExpirePrefixes: accepted, the receipt says EXPIRED. The first
	// matching rule in that order wins; an empty prefix is ignored.
	RejectPrefixes, UndelivPrefixes, ExpirePrefixes []string
	// UndelivRatio in [0, 1] is the share of destinations, among those no prefix rule
	// matched, whose receipts say UNDELIV. The choice is a hash of Seed and destination_addr,
	// so it does not depend on the order of submits and a destination keeps its fate.
	UndelivRatio float64
	Seed         int64

	// ReplyPrefixes: a handset whose number starts with one of them answers every message
	// delivered to it (fate DELIVRD) with ReplyText, as a mobile-originated deliver_sm from
	// its number to the message's sender, just before the receipt (once per message, on its
	// first part). A reply too long for one part goes in several, with a concatenation UDH
	// whose reference changes with every reply of the handset, as a handset's does. For
	// rehearsing --inbox and --optout-keywords. An empty prefix is ignored.
	ReplyPrefixes []string
	ReplyText     string

	// ThrottleTPS > 0 answers ESME_RTHROTTLED (and does not accept) every submit_sm or
	// data_sm past the first ThrottleTPS of a wall-clock second, counted across the server.
	ThrottleTPS int
	// QueueFullAfter > 0 answers ESME_RMSGQFUL once QueueFullAfter messages were accepted in
	// the current wall-clock second, until the next second.
	QueueFullAfter int
	// RespDelay delays every response the simulator sends (0 = answer at once), which makes
	// the client's window visible in Stats.MaxOutstanding.
	RespDelay time.Duration
	// DropAfter lists positions in the server-wide count of accepted messages (1 = the
	// first accepted): right after accepting each of them, the simulator closes that
	// message's TCP connection without unbind and without sending its response. The
	// message stays accepted (recorded, receipt scheduled), as with a real SMSC that
	// crashed after committing it.
	DropAfter []int
	// UnbindAfter lists positions in the same count: right after answering each of those
	// submits the simulator sends unbind on that session, refuses further submits on it with
	// ESME_RINVBNDSTS and closes it when unbind_resp arrives (or after ten seconds).
	UnbindAfter []int
	// ForgetBindAfter lists positions in the same count: right after answering each of those
	// submits the simulator forgets that session's bind but keeps its connection, as an SMSC
	// that restarted its bind table: later submits on it get ESME_RINVBNDSTS, and it gets no
	// more receipts; enquire_link is still answered.
	ForgetBindAfter []int
	// NoEnquireResp leaves enquire_link unanswered, like a dead peer.
	NoEnquireResp bool
	// EnquireLinkInterval > 0 sends enquire_link on every bound session this often, as
	// carriers probe their clients, and closes the connection (no unbind, like DropAfter)
	// when a probe is still unanswered an interval (plus RespDelay, which holds it back too)
	// after it was queued; 0 = never.
	EnquireLinkInterval time.Duration
	// SessionInitTimeout closes a connection that has not bound this long after it opened
	// (SMPP's session_init_timer), so idle or stray connections cannot pile up; 0 = no limit.
	SessionInitTimeout time.Duration

	// NoInterfaceVersion answers binds without the sc_interface_version TLV, as some SMSCs
	// do; by the specification that means the SMSC takes no TLVs, and it sends none either:
	// its receipts carry the text only.
	NoInterfaceVersion bool
	// MaxBinds > 0 refuses a bind while MaxBinds sessions are bound, with ESME_RALYBND, and
	// closes that connection, as carriers that allow an account a few binds do; 0 = no limit.
	MaxBinds int

	// GSM7Packed reads data_coding 0 as packed septets, and packs the GSM 7-bit replies of
	// ReplyPrefixes, to rehearse with a client that packs (smscast's --gsm7-packed); by
	// default it is one unpacked septet per octet.
	GSM7Packed bool

	// Log, when set, receives each accepted message as one line of JSON (a Message) as soon
	// as all its parts arrived; multipart messages still missing parts are written at Close.
	// The server does not close it.
	Log io.Writer
	// DiscardMessages keeps no record in memory: Messages returns only multipart messages
	// still waiting for parts. Counters and Log still work. The sim command sets it so that
	// a long rehearsal does not grow.
	DiscardMessages bool

	// MaxPDULen caps command_length of PDUs read from clients (0 = smpp.DefaultMaxPDULen);
	// a longer one gets generic_nack ESME_RINVCMDLEN and the connection is closed.
	MaxPDULen int
}

// Defaults of Config's zero values.
const (
	DefaultReceiptRetry    = 10 * time.Second
	DefaultReceiptAttempts = 5
	DefaultDeliverWindow   = 1000
)

const (
	defaultListen = "127.0.0.1:0"
	// minEnquireLinkInterval is the shortest Config.EnquireLinkInterval: a client needs some
	// time to answer, and probing faster only burns CPU.
	minEnquireLinkInterval = 10 * time.Millisecond
	// unbindTimeout bounds how long a session the simulator unbound may take to answer.
	unbindTimeout = 10 * time.Second
)

// normalize fills in defaults and rejects contradictory or impossible settings with an
// error that names the option.
func (c Config) normalize() (Config, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.Listen == "" {
		c.Listen = defaultListen
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		bad("TLS needs both a certificate file and a key file (--tls-cert and --tls-key)")
	}
	if c.TLSSelfSigned && c.TLSCertFile != "" {
		bad("choose either a certificate file (--tls-cert/--tls-key) or --tls-self-signed, not both")
	}
	if len(c.SystemID) > 15 {
		bad("system id (--system-id) %q is longer than the 15 characters SMPP allows", c.SystemID)
	}
	if len(c.Password) > 8 {
		bad("password (--password) is longer than the 8 characters SMPP allows")
	}
	if c.IDFormat == "" {
		c.IDFormat = IDHex
	}
	if c.ReceiptIDFormat == "" {
		c.ReceiptIDFormat = c.IDFormat
	}
	for _, f := range []IDFormat{c.IDFormat, c.ReceiptIDFormat} {
		if _, err := ParseIDFormat(string(f)); err != nil {
			errs = append(errs, err)
		}
	}
	if c.EnquireLinkInterval != 0 && c.EnquireLinkInterval < minEnquireLinkInterval {
		bad("the enquire_link interval (--enquire-link) %v is below %v: every session would be probed without pause (and dropped before it could answer)", c.EnquireLinkInterval, minEnquireLinkInterval)
	}
	if c.ReceiptDelay < 0 || c.ReceiptJitter < 0 || c.ReceiptRetry < 0 || c.RespDelay < 0 {
		bad("delays (--receipt-delay, --receipt-jitter, --receipt-retry, --resp-delay) must not be negative")
	}
	if c.ReceiptRetry == 0 {
		c.ReceiptRetry = DefaultReceiptRetry
	}
	if c.ReceiptAttempts < 0 {
		bad("receipt attempts (--receipt-attempts) must not be negative")
	}
	if c.ReceiptAttempts == 0 {
		c.ReceiptAttempts = DefaultReceiptAttempts
	}
	if c.DeliverWindow < 0 {
		bad("deliver window (--deliver-window) must not be negative")
	}
	if c.DeliverWindow == 0 {
		c.DeliverWindow = DefaultDeliverWindow
	}
	if !(c.UndelivRatio >= 0 && c.UndelivRatio <= 1) { // also catches NaN
		bad("undeliverable ratio (--undeliv-ratio) %v is not between 0 and 1", c.UndelivRatio)
	}
	if slices.ContainsFunc(c.ReplyPrefixes, func(p string) bool { return p != "" }) && c.ReplyText == "" {
		bad("reply prefixes (--reply-prefix) need a reply text (--reply-text)")
	}
	if c.ThrottleTPS < 0 || c.QueueFullAfter < 0 || c.MaxBinds < 0 {
		bad("throttle, queue-full and bind limits (--throttle-tps, --queue-full-after, --max-binds) must not be negative")
	}
	for _, list := range [][]int{c.DropAfter, c.UnbindAfter, c.ForgetBindAfter} {
		for _, n := range list {
			if n < 1 {
				bad("--drop-after, --unbind-after and --forget-bind-after positions start at 1, got %d", n)
			}
		}
	}
	c.DropAfter = slices.Clone(c.DropAfter)
	c.UnbindAfter = slices.Clone(c.UnbindAfter)
	c.ForgetBindAfter = slices.Clone(c.ForgetBindAfter)
	if c.MaxPDULen == 0 {
		c.MaxPDULen = smpp.DefaultMaxPDULen
	}
	if c.MaxPDULen < smpp.HeaderLen {
		bad("maximum PDU length %d is below the 16-octet header", c.MaxPDULen)
	}
	return c, errors.Join(errs...)
}
