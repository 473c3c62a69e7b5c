// Package send is the campaign engine of smscast: it takes rendered rows, paces their
// submit_sm PDUs over one or more SMPP sessions under a shared rate limit and a per-session
// window, retries what can be retried, survives throttling, drops and unbinds, collects
// delivery receipts, and records every row's outcome in a report.Book. It never prints; it
// reports through events (Config.OnEvent) and snapshots (Campaign.Snapshot).
package send

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"smscast/csvin"
	"smscast/report"
	"smscast/smpp"
)

// Source yields a campaign's rows in input order and io.EOF after the last; *csvin.Reader
// satisfies it.
type Source interface {
	Next() (csvin.Row, error)
}

// Config is one campaign's settings. Addr, Book and Session.Bind are required; every other
// zero value has the default its comment gives.
type Config struct {
	Addr string // host:port of the SMSC
	// Session is the template of every session: Bind, TLS, Window (default 10; the campaign
	// works on Window × Binds messages at once, on the binds that are up), RespTimeout (default 30s), BindTimeout,
	// EnquireLinkInterval, MaxPDULen. AsyncHandler, OnLateResponse, OnStray and OnUnreadable
	// are the engine's own and are overwritten (the Receiver session also binds as a receiver
	// whatever Bind.Mode says).
	Session smpp.Options
	Binds   int // sessions sharing the campaign; 0 means 1
	// Receiver adds one receiver session (bind_receiver) for the receipts and replies beside
	// the Binds sessions, which then bind as Session.Bind.Mode says (a transmitter): for
	// SMSCs that deliver receipts only to receivers or allow no transceivers. Its failures
	// never end the campaign: receipts it misses wait at the SMSC for its next bind or for
	// smscast receipts.
	Receiver bool
	// UsesTLVs says the messages carry optional parameters (--split sar or payload). A bind
	// response that announces no TLV support (no sc_interface_version, or one below 0x34) then
	// fails the campaign with *TLVSupportError before the session sends anything, unless
	// AssumeTLVSupport: the SMSC could drop the TLVs and deliver the parts unjoined.
	UsesTLVs, AssumeTLVSupport bool

	Rate  float64 // submit_sm PDUs per second over all binds; 0 = unlimited
	Burst int     // PDUs that may leave back to back; 0 means 1 (evenly spaced)

	MaxAttempts int           // tries per PDU for transient errors, timeouts and drops; 0 means 5
	GiveUpAfter time.Duration // how long an unreachable SMSC, or one PDU throttled without end, is retried; 0 means 2m
	Retry       Backoff       // between tries of one PDU
	Reconnect   Backoff       // between connection or bind attempts

	Schedule, Validity TimeSpec // schedule_delivery_time and validity_period; zero = not set
	ServiceType        string   // submit_sm service_type (at most 5 ASCII characters); "" = the SMSC's default
	Hours              Hours    // when sending is allowed; zero = any time
	// PartReceipts decides which parts ask for a receipt (registered_delivery 1): all parts,
	// or with report.PartsLast the last part only.
	PartReceipts report.PartReceipts
	// Wait is how long to stay bound after the last submit until every accepted row has a
	// final receipt; 0 = do not wait.
	Wait time.Duration

	Total   int          // rows expected, for progress (Snapshot.Total) and sizing the Book; 0 = unknown
	Book    *report.Book // the ledger every outcome goes to
	Journal Journal      // durable record of the campaign; nil = none
	// Spool keeps receipts that match no row of this campaign; nil = the Journal takes them
	// (or, without a journal, they are only in the Book's unmatched list).
	Spool  Spool
	Resume Resume // rows already done by an earlier run; nil = send every row
	// ResumeRead is called once the input has been read (all true), or failed, after the last
	// call of Resume (Resumption.AllRead). nil = nothing to do then.
	ResumeRead func(all bool)
	// PackedGSM7 reads incoming GSM 7-bit messages as packed septets: an SMSC that wants
	// packed data_coding 0 (--gsm7-packed) delivers replies packed too.
	PackedGSM7 bool
	// Offline binds nothing: for a run that sends nothing and does not wait for receipts
	// (smscast receipts --wait 0, which only matches the spool). Every row must be skipped
	// by Resume.
	Offline bool
	// OnMO receives mobile-originated messages. It runs before the deliver_sm is answered;
	// an error makes the SMSC deliver the message again later. nil acknowledges and drops them.
	OnMO func(report.MO) error
	// OnEvent receives events from many goroutines; it must be quick and must not call back
	// into the campaign. nil drops them.
	OnEvent func(Event)
}

// Defaults for zero Config fields.
const (
	defaultWindow      = 10
	defaultMaxAttempts = 5
	defaultGiveUp      = 2 * time.Minute
	defaultRespTimeout = 30 * time.Second
	// abortGrace bounds how long Run waits for its goroutines once ctx is cancelled.
	abortGrace = 2 * time.Second
	// receiptPoll bounds how long the --wait phase goes without looking at Book.Pending.
	receiptPoll = time.Second
)

// BindError is a bind the SMSC refused for its credentials, or as a command it does not
// know, before any bind of the campaign succeeded; retrying would not help.
type BindError struct {
	Addr       string
	Status     smpp.Status
	Mode       smpp.BindMode
	NoPassword bool // the bind carried an empty password
	NoSystemID bool // the bind carried an empty system_id
}

func (e *BindError) Error() string {
	if e.Status == smpp.StatusInvCmdID {
		hint := "this bind"
		if e.Mode == smpp.BindTransceiver {
			hint = "bind_transceiver (new in SMPP 3.4): send on transmitters with a receiver for the receipts beside them (--bind-mode tx+rx)"
		}
		return fmt.Sprintf("SMSC %s refused the bind: %v: it does not know %s", e.Addr, e.Status, hint)
	}
	var missing []string
	if e.NoSystemID {
		missing = append(missing, "no --system-id was given (SMSCAST_SYSTEM_ID, or system-id in --config)")
	}
	if e.NoPassword {
		// Cron does not have the login shell's environment: SMSCAST_PASSWORD is easily missing.
		missing = append(missing, "no password was given (SMSCAST_PASSWORD, --password-file or password in --config)")
	}
	if missing != nil {
		return fmt.Sprintf("SMSC %s refused the bind: %v; %s; check the rest of the credentials and --system-type too", e.Addr, e.Status, strings.Join(missing, "; "))
	}
	return fmt.Sprintf("SMSC %s refused the bind: %v; check --system-id, the password and --system-type", e.Addr, e.Status)
}

func (e *BindError) Unwrap() error { return e.Status }

// TLVSupportError is a bind response that announces no TLV support while the campaign's
// messages need TLVs (Config.UsesTLVs).
type TLVSupportError struct {
	Addr      string
	Version   uint8 // the announced sc_interface_version, when Announced
	Announced bool
}

func (e *TLVSupportError) Error() string {
	said := "announces no sc_interface_version"
	if e.Announced {
		said = fmt.Sprintf("announces sc_interface_version 0x%02X (before SMPP 3.4)", e.Version)
	}
	return fmt.Sprintf("SMSC %s %s, which means it takes no optional parameters, but --split sar and payload "+
		"send the message in them; nothing was sent. Use --split udh, or --assume-tlv-support if you know "+
		"this SMSC accepts them", e.Addr, said)
}

// tlvSupport returns a *TLVSupportError when the campaign needs TLVs and s's SMSC did not
// announce them.
func (c *Campaign) tlvSupport(s *smpp.Session) error {
	if !c.cfg.UsesTLVs || c.cfg.AssumeTLVSupport {
		return nil
	}
	v, announced := s.InterfaceVersion()
	if announced && v >= 0x34 {
		return nil
	}
	return &TLVSupportError{Addr: c.cfg.Addr, Version: v, Announced: announced}
}

// CertificateError means the SMSC's TLS certificate was refused before any bind of the
// campaign succeeded: a setting to fix, not an outage to wait out.
type CertificateError struct {
	Addr string
	Err  error
}

func (e *CertificateError) Error() string {
	return fmt.Sprintf("the TLS certificate of SMSC %s was refused: %v; give the CA that signed it with --tls-ca, the name it was issued for with --tls-server-name, or (to test only) --tls-insecure",
		e.Addr, e.Err)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// certificateRefused reports whether err is the refusal of a TLS certificate.
func certificateRefused(err error) bool {
	var verify *tls.CertificateVerificationError
	var authority x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &authority) || errors.As(err, &host) || errors.As(err, &invalid)
}

// TLSMismatchError means one side spoke TLS and the other did not, before any bind of the
// campaign succeeded: --tls is on for a plain port, or off for a TLS port.
type TLSMismatchError struct {
	Addr string
	TLS  bool // whether the campaign spoke TLS
	Err  error
}

func (e *TLSMismatchError) Error() string {
	if e.TLS {
		return fmt.Sprintf("SMSC %s does not speak TLS on this port: %v; turn TLS off (--tls, and --tls-ca, --tls-server-name and --tls-insecure, which imply it, also in the environment or --config), or give the SMSC's TLS port in --smsc",
			e.Addr, e.Err)
	}
	return fmt.Sprintf("SMSC %s wants TLS on this port: %v; add --tls (and --tls-ca if its certificate is not signed by a public CA), or give its plain port in --smsc",
		e.Addr, e.Err)
}

func (e *TLSMismatchError) Unwrap() error { return e.Err }

// settingRefused returns the campaign's error for a bind attempt that failed for a setting
// rather than an outage (the TLS certificate, TLS on one side only, the credentials); nil for
// anything else.
func (c *Campaign) settingRefused(err error) error {
	if certificateRefused(err) {
		return &CertificateError{Addr: c.cfg.Addr, Err: err}
	}
	if errors.Is(err, smpp.ErrTLSMismatch) {
		return &TLSMismatchError{Addr: c.cfg.Addr, TLS: c.cfg.Session.TLS != nil, Err: err}
	}
	if st, refused := bindRefused(err); refused {
		return &BindError{Addr: c.cfg.Addr, Status: st, Mode: c.cfg.Session.Bind.Mode, NoPassword: c.cfg.Session.Bind.Password == "", NoSystemID: c.cfg.Session.Bind.SystemID == ""}
	}
	return nil
}

// SettingRefused reports whether err stopped the campaign for a setting to fix before any
// bind succeeded: the credentials (BindError), the TLS certificate or TLS on one side only.
func SettingRefused(err error) bool {
	var bindErr *BindError
	var certErr *CertificateError
	var tlsErr *TLSMismatchError
	return errors.As(err, &bindErr) || errors.As(err, &certErr) || errors.As(err, &tlsErr)
}

// ConnectError means the SMSC could not be reached or bound, or dropped every session before
// it worked, for Config.GiveUpAfter.
type ConnectError struct {
	Addr  string
	After time.Duration
	Err   error // the last attempt's error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("gave up on SMSC %s after %v without a working bind: %v; check --smsc, the network and the SMSC (or raise --give-up-after)",
		e.Addr, e.After, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// ErrInput marks an error of the Source during Run (such as a malformed line deep in the
// recipients file): the rows read before it were sent, the rest were not.
var ErrInput = errors.New("read input")

// Result is how a run ended.
type Result struct {
	Snapshot
	Sent    bool // at least one submit_sm was written, so the report must be written
	Stopped bool // Stop was called before the input ended
	Aborted bool // ctx was cancelled
	// Expired counts the rows not sent (or not sent again, or not finished) because an
	// absolute Config.Validity had ended: no run can send them (they are among the not_sent
	// and uncertain rows).
	Expired int
	// ReceiverDown is the last refusal of Config.Receiver's session when it tried to bind
	// and never was bound during the run: no receipt could arrive on it. nil otherwise.
	ReceiverDown error
	// BindsDown are the sending binds that were never bound during the run, with their last
	// refusal, when another bind was (the campaign ran on fewer binds than Config.Binds).
	BindsDown []BindDown
}

// BindDown is a bind that was never bound, and why its last attempt failed.
type BindDown struct {
	Bind int // 1-based, as in the events
	Err  error
}

// Campaign is one run of the engine. Create it with New, then call Run once; Stop and
// Snapshot may be called from other goroutines meanwhile.
type Campaign struct {
	cfg   Config
	pacer *Pacer
	book  *report.Book

	stopOnce    sync.Once
	noMessageID sync.Once // warns of the first acceptance without a message id
	// wrongResponse warns of the first request answered with another command's response.
	wrongResponse sync.Once
	stopped       chan struct{} // closed by Stop: take no new rows
	// halt cancels the work context: at Stop + RespTimeout, on a fatal error, or on abort.
	halt context.CancelCauseFunc

	receiptPing chan struct{}  // a receipt arrived (capacity 1, never blocks)
	moCalls     sync.WaitGroup // OnMO calls running (see moAsync)
	// receiptCalls counts receipts handed to the journal or spool whose callback (finish)
	// has not run: it may come from the spool's goroutine after the sessions are gone.
	receiptCalls sync.WaitGroup
	// early holds the receipts that matched no row when they came, so went to the spool:
	// those that overtook their submit_sm_resp match once it came, and Run journals them,
	// so that the campaign's journal holds every receipt of the campaign.
	earlyMu  sync.Mutex
	early    []keptEarly
	runCtx   context.Context // Run's ctx: its end is an abort
	binds    []*bind
	receiver *bind // Config.Receiver's session; nil without one
	binding  bindState

	planMu sync.Mutex
	plan   schedule

	times *wireTimes // Config.Schedule and Validity as submit_sm carries them

	started   atomic.Pointer[time.Time] // set by Run
	rows      atomic.Int64
	done      atomic.Int64
	accepted  atomic.Int64
	failed    atomic.Int64
	skipped   atomic.Int64
	resubmits atomic.Int64
	pdus      atomic.Int64
	throttles atomic.Int64
	inFlight  atomic.Int64
	paused    atomic.Bool
	// pausedNs is the time of the pauses that ended, pauseStart (Unix ns) when the one
	// under way began, 0 when none is.
	pausedNs, pauseStart atomic.Int64
	waiting              atomic.Bool // every row has an outcome; only receipts are awaited
	everBound            atomic.Bool // some bind succeeded: a refused bind no longer means bad credentials
	// journalErrs counts the records the journal could not write (see journalFailed).
	journalErrs atomic.Int64
	receiptErrs atomic.Int64 // receipts that could not be kept, so were refused (see keptReceipt.finish)
	expiredRows atomic.Int64 // rows not sent because the validity had ended (see expired)
	// expiredSent are the rows among expiredRows that a try may have reached the SMSC with,
	// whose late acceptance takes them out again (see lateWait.deliver); lateAccepted the
	// rows a late acceptance came for, once the validity had ended, before they were counted.
	expiredMu                 sync.Mutex
	expiredSent, lateAccepted map[int]bool
	// inputRead is set once the source has given its last row: the rows read are then the
	// total, which Config.Total only estimated (a quoted line break, a blank line).
	inputRead atomic.Bool
	// journalBroken is set once the journal failed a write: it takes no record after that,
	// so no receipt can be kept and the wait for them ends.
	journalBroken atomic.Bool

	failMu  sync.Mutex
	failErr error // the first fatal error

	hoursNow func() time.Time // a test's clock for Config.Hours; nil = time.Now
}

// New checks cfg, fills in its defaults and returns a campaign ready to Run.
func New(cfg Config) (*Campaign, error) {
	if cfg.Addr == "" && !cfg.Offline {
		return nil, errors.New("send: no SMSC address; give --smsc host:port")
	}
	if cfg.Book == nil {
		return nil, errors.New("send: Config.Book is nil")
	}
	if cfg.Rate < 0 || cfg.Burst < 0 || cfg.Binds < 0 || cfg.MaxAttempts < 0 || cfg.Wait < 0 || cfg.GiveUpAfter < 0 {
		return nil, errors.New("send: --rate, --burst, --binds, --max-attempts, --wait and --give-up-after must not be negative")
	}
	if err := CheckServiceType(cfg.ServiceType); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	if cfg.Binds == 0 {
		cfg.Binds = 1
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.GiveUpAfter == 0 {
		cfg.GiveUpAfter = defaultGiveUp
	}
	if cfg.Session.Window <= 0 {
		cfg.Session.Window = defaultWindow
	}
	if cfg.Session.RespTimeout <= 0 {
		cfg.Session.RespTimeout = defaultRespTimeout
	}
	if cfg.Total > 0 {
		// Room for an id per row (the index's headroom takes most multipart campaigns too):
		// the Book then never rebuilds its id index while the responses pour in.
		cfg.Book.Reserve(cfg.Total)
	}
	c := &Campaign{
		cfg:         cfg,
		pacer:       NewPacer(cfg.Rate, cfg.Burst),
		book:        cfg.Book,
		stopped:     make(chan struct{}),
		receiptPing: make(chan struct{}, 1),
		plan:        schedule{rate: cfg.Rate},
		times:       newWireTimes(cfg.Schedule, cfg.Validity),
		binding:     bindState{changed: make(chan struct{}), attempts: cfg.Binds},
	}
	for i := range cfg.Binds {
		c.binds = append(c.binds, newBind(c, i+1))
	}
	if cfg.Receiver {
		c.receiver = newBind(c, cfg.Binds+1)
		c.receiver.receiver = true
	}
	return c, nil
}

// CheckServiceType says why t cannot be submit_sm's service_type, if it cannot: that is a
// C-Octet String of at most 6 octets with its NUL, and t must be printable ASCII so that it
// cannot smuggle in a NUL.
func CheckServiceType(t string) error {
	ok := len(t) <= 5
	for i := range len(t) {
		ok = ok && t[i] >= 0x20 && t[i] <= 0x7e
	}
	if !ok {
		return fmt.Errorf("--service-type %q: use at most 5 printable ASCII characters (such as CMT), as the SMSC's documentation names them", t)
	}
	if strings.TrimSpace(t) != t {
		// SMSCs route and bill by the exact string: "CMT " is not CMT, and a blank one is
		// not the empty default. Such a value comes from a quoted config value or a script.
		return fmt.Errorf("--service-type %q starts or ends with a space: give the type without spaces (such as CMT), or leave it out", t)
	}
	return nil
}

// Stop asks the campaign to stop taking rows: rows not started are reported not_sent, rows
// in flight get their responses (bounded by the response timeout), then the sessions
// unbind and Run returns. It reports whether this call was the one that stopped it.
func (c *Campaign) Stop() bool {
	first := false
	c.stopOnce.Do(func() {
		first = true
		close(c.stopped)
		e := Event{Kind: EventStopping}
		if !c.Sending() {
			e.Detail = stoppingTheWait
		}
		c.event(e)
	})
	return first
}

// Sending reports whether the campaign may still send: false once every row has its
// outcome and only receipts are waited for (Config.Wait).
func (c *Campaign) Sending() bool { return !c.waiting.Load() }

// stoppingTheWait is the Detail of an EventStopping that ended the wait for receipts.
const stoppingTheWait = "receipts"

func (c *Campaign) stopping() bool {
	select {
	case <-c.stopped:
		return true
	default:
		return false
	}
}

// Snapshot returns the campaign's progress now.
func (c *Campaign) Snapshot() Snapshot {
	bound := 0
	for _, b := range c.binds {
		if b.bound() {
			bound++
		}
	}
	counts := c.cfg.Book.Counts()
	total, rows := c.cfg.Total, int(c.rows.Load())
	if c.inputRead.Load() {
		total = rows
	}
	return Snapshot{
		Time:        time.Now(),
		Started:     c.startTime(),
		Total:       total,
		Rows:        rows,
		Done:        int(c.done.Load()),
		Accepted:    int(c.accepted.Load()),
		Failed:      int(c.failed.Load()),
		Skipped:     int(c.skipped.Load()),
		Resubmitted: int(c.resubmits.Load()),
		PDUs:        c.pdus.Load(),
		Receipts:    counts.Receipts,
		Pending:     counts.Pending,
		Throttled:   c.throttles.Load(),
		InFlight:    int(c.inFlight.Load()),
		Bound:       bound,
		Rate:        c.pacer.Rate(),
		Paused:      c.paused.Load(),
		PausedFor:   c.pausedFor(time.Now()),
	}
}

// pausedFor is the time spent paused until now.
func (c *Campaign) pausedFor(now time.Time) time.Duration {
	d := c.pausedNs.Load()
	if start := c.pauseStart.Load(); start != 0 {
		d += now.UnixNano() - start
	}
	return time.Duration(d)
}

// startTime is when Run started; zero before.
func (c *Campaign) startTime() time.Time {
	if t := c.started.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// event stamps e and hands it to Config.OnEvent.
func (c *Campaign) event(e Event) {
	if c.cfg.OnEvent == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	c.cfg.OnEvent(e)
}

// warn reports a problem that does not stop the campaign.
func (c *Campaign) warn(err error) { c.event(Event{Kind: EventWarning, Err: err}) }

// fail records the first fatal error and halts the work. Once every row has an outcome
// (the --wait phase) nothing is fatal any more: the error only ends the wait.
func (c *Campaign) fail(err error) {
	if c.waiting.Load() {
		c.warn(err)
		c.halt(err)
		return
	}
	c.failMu.Lock()
	if c.failErr == nil {
		c.failErr = err
	}
	c.failMu.Unlock()
	c.halt(err)
}

func (c *Campaign) fatal() error {
	c.failMu.Lock()
	defer c.failMu.Unlock()
	return c.failErr
}

// Run sends every row of src and returns when the campaign is over: the input is exhausted
// and every row has an outcome (and, with Config.Wait, receipts are in or the wait is over),
// Stop was called, a fatal error happened, or ctx was cancelled (an abort: Run returns
// within a couple of seconds; the sessions are closed at once, so rows in flight end
// uncertain).
// The Book holds every row read; rows never read are not in it.
//
// Errors: *BindError (credentials refused before any bind succeeded), *ConnectError (the
// SMSC unreachable for GiveUpAfter), ErrInput wrapping an error from src, ctx's error on abort.
func (c *Campaign) Run(ctx context.Context, src Source) (Result, error) {
	start := time.Now()
	c.started.Store(&start)
	c.runCtx = ctx
	c.planMu.Lock()
	c.plan.restart(start)
	c.planMu.Unlock()
	c.pacer.start(start)
	c.binding.update(func(st *bindState) { st.worked = start })

	workCtx, halt := context.WithCancelCause(ctx)
	defer halt(nil)
	c.halt = halt
	// After Stop, the responses in flight have RespTimeout before the work is halted.
	runDone := make(chan struct{})
	var watcher sync.WaitGroup
	watcher.Add(1)
	go func() {
		defer watcher.Done()
		select {
		case <-c.stopped:
		case <-runDone:
			return
		}
		t := time.NewTimer(c.cfg.Session.RespTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			halt(errStopped)
		case <-runDone:
		}
	}()
	defer watcher.Wait()
	defer close(runDone)

	// Sessions live until the end of the receipt wait; an abort closes them at once.
	linkCtx, closeLinks := context.WithCancel(ctx)
	defer closeLinks()
	var links sync.WaitGroup
	linksUp := false
	startLinks := func() {
		if linksUp || c.cfg.Offline {
			return
		}
		linksUp = true
		// --give-up-after counts from here: links started late (see expiredAtStart) were not
		// trying while the rows were read.
		now := time.Now()
		c.binding.update(func(st *bindState) { st.worked = now })
		for _, b := range c.binds {
			links.Go(func() { b.run(linkCtx) })
		}
		if c.receiver != nil {
			links.Go(func() { c.receiver.receive(linkCtx) })
		}
	}
	// With an absolute validity ended already (a late --resume), no row can be sent: the
	// SMSC is bound only to wait for the receipts of an earlier run, if any are pending.
	expiredAtStart := c.validityEnded(start)
	if !expiredAtStart {
		startLinks()
	}

	jobs := make(chan job, c.cfg.Session.Window*c.cfg.Binds)
	var workers sync.WaitGroup
	for _, b := range c.binds {
		for range c.cfg.Session.Window {
			workers.Add(1)
			go func() {
				defer workers.Done()
				var pdu smpp.SubmitSM // reused for every part this worker sends
				acc := newAcceptance(c)
				var j job // reused for every row, like pdu and acc: nothing outlives sendRow's use of it
				for next := range jobs {
					j = next
					j.pdu, j.acc = &pdu, acc
					c.sendRow(workCtx, b, &j)
				}
			}()
		}
	}
	inputErr := c.produce(workCtx, src, jobs)

	// Wait for the rows in flight; on abort give them a short grace only.
	waitGroup(ctx, &workers)

	c.waiting.Store(true)
	// Rows accepted by an earlier run (Resume) are waited for too, even if nothing was sent.
	if workCtx.Err() == nil && !c.stopping() && c.cfg.Wait > 0 {
		if c.book.Pending() > 0 {
			startLinks()
		}
		c.awaitReceipts(workCtx)
	}
	closeLinks()
	waitGroup(ctx, &links)
	waitGroup(ctx, &c.moCalls) // no OnMO call may outlive Run: the caller closes the inbox after it
	// No receipt is recorded, or warned about, after Run: the caller writes the report and
	// stderr then. The journal's and the spool's batches go to disk within their sync
	// intervals, so this wait is short; it comes before the journal is closed, so that the
	// early receipts that now match are journaled.
	waitGroup(ctx, &c.receiptCalls)
	if n := c.journalErrs.Load(); n > 1 {
		c.warn(fmt.Errorf("journal: %d more records could not be written (the first failure is above)", n-1))
	}
	if n := c.receiptErrs.Load(); n > 1 {
		c.warn(fmt.Errorf("%d more receipts could not be recorded (the first failure is above); the SMSC sends them again", n-1))
	}
	if j := c.cfg.Journal; j != nil {
		if ctx.Err() == nil {
			c.journalEarlyReceipts(j) // after an abort the spool keeps them
		}
		if err := closeJournal(ctx, j); err != nil {
			c.warn(fmt.Errorf("close journal: %w", err))
		}
	}

	res := Result{Snapshot: c.Snapshot(), Sent: c.pdus.Load() > 0, Stopped: c.stopping(), Aborted: ctx.Err() != nil}
	res.Expired = int(c.expiredRows.Load())
	if r := c.receiver; r != nil && !r.everUp.Load() {
		res.ReceiverDown = r.lastRefusal()
	}
	if c.everBound.Load() {
		for _, b := range c.binds {
			if err := b.lastRefusal(); err != nil && !b.everUp.Load() {
				res.BindsDown = append(res.BindsDown, BindDown{Bind: b.n, Err: err})
			}
		}
	}
	switch {
	case c.fatal() != nil:
		return res, c.fatal()
	case inputErr != nil:
		return res, fmt.Errorf("%w: %w", ErrInput, inputErr)
	case ctx.Err() != nil:
		return res, ctx.Err()
	}
	return res, nil
}

// errStopped is the cause of the work context's end after Stop.
var errStopped = errors.New("stopped")

// closeJournal closes j; once ctx is cancelled (an abort), it waits abortGrace at most, so
// that a disk that hangs (a stuck network mount) cannot keep the report from being written.
func closeJournal(ctx context.Context, j Journal) error {
	closed := make(chan error, 1)
	go func() { closed <- j.Close() }()
	select {
	case err := <-closed:
		return err
	case <-ctx.Done():
	}
	t := time.NewTimer(abortGrace)
	defer t.Stop()
	select {
	case err := <-closed:
		return err
	case <-t.C:
		return fmt.Errorf("not closed within %v of the abort: its last records may not be on disk", abortGrace)
	}
}

// waitGroup waits for wg; once ctx is cancelled (an abort), for abortGrace at most.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		waitOrTimeout(done, abortGrace)
	}
}

func waitOrTimeout(ch <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// job is one row on its way to the SMSC.
type job struct {
	row    csvin.Row
	resend bool // Resume: an earlier run wrote it and recorded no response
	from   int  // Resume: the first part to send; an earlier run had the ones before accepted
	// written is set once any part was written in this run; from then on the rest of the
	// message is sent even while stopping, so nobody receives half a message.
	written     bool
	resubmitted bool      // Book.Resubmitted was called
	bind        *bind     // the bind of the last try, which the next part prefers (Campaign.session)
	planned     time.Time // when the schedule wants the first part out; recorded at its first write
	// pdu is the worker's submit_sm, filled for each part: the session encodes it before
	// Submit returns and keeps no reference.
	pdu *smpp.SubmitSM
	acc *acceptance // the worker's, likewise
}

// produce reads rows in order, records each in the Book and hands the ones to send to the
// workers. After Stop, an abort or a fatal error it keeps reading, so that every row of the
// input is in the report (as not_sent) — unless nothing was sent, when there is no report.
// It closes jobs and returns the input's error, if any.
func (c *Campaign) produce(ctx context.Context, src Source, jobs chan<- job) error {
	defer close(jobs)
	if c.cfg.ResumeRead != nil {
		defer func() { c.cfg.ResumeRead(c.inputRead.Load()) }()
	}
	sending := true
	for {
		row, err := src.Next()
		if err == io.EOF {
			c.inputRead.Store(true)
			return nil
		}
		if err != nil {
			c.Stop()
			return err
		}
		c.rows.Add(1)
		c.book.Add(entryOf(row))
		skip, from, resend := false, 0, false
		if c.cfg.Resume != nil {
			skip, from, resend = c.cfg.Resume(&row)
			from = max(min(from, len(row.Message.Parts)-1), 0)
		}
		if skip || row.Status != csvin.StatusOK {
			c.skipped.Add(1)
			c.done.Add(1)
			continue
		}
		if sending && ctx.Err() == nil && !c.stopping() {
			j := job{row: row, resend: resend, from: from}
			select { // a channel with room costs one send, not a three-way select
			case jobs <- j:
				continue
			default:
			}
			select {
			case jobs <- j:
				continue
			case <-c.stopped:
			case <-ctx.Done():
			}
		}
		sending = false
		if c.fatal() != nil && c.pdus.Load() == 0 && c.cfg.Resume == nil {
			// Nothing was sent, so no report will be written: stop reading. (A resumed
			// campaign's report is written all the same, from its journal, so every row
			// must be in it.)
			return nil
		}
		c.leftUnsent(&job{row: row, resend: resend, from: from}, notSentReason(ctx, c.stopped))
	}
}

// entryOf is the Book's view of a row.
func entryOf(r csvin.Row) report.Entry {
	e := report.Entry{Row: r.Num, MSISDN: r.MSISDN, Template: r.Template, Reason: r.Reason}
	switch r.Status {
	case csvin.StatusOK:
		e.Encoding, e.Parts = r.Message.Encoding.String(), len(r.Message.Parts)
	case csvin.StatusInvalid:
		e.Status = report.SubmitInvalid
	case csvin.StatusDuplicate:
		e.Status = report.SubmitDuplicate
	case csvin.StatusExcluded:
		e.Status = report.SubmitExcluded
	}
	return e
}

// notSent ends a row that was not (completely) sent.
func (c *Campaign) notSent(row int, reason string) {
	c.book.SetStatus(row, report.SubmitNotSent, reason)
	c.done.Add(1)
}

// leftUnsent ends a row this run does not send: not_sent, or uncertain when an earlier run
// sent it and recorded no response (resend), since the SMSC may have it.
func (c *Campaign) leftUnsent(j *job, reason string) {
	if c.validityEnded(time.Now()) {
		// A stop (or an SMSC never reached) is not why: no run could send it any more, so no
		// resume is advised for it.
		reason = c.expiredReason()
		c.expiredRows.Add(1)
	}
	switch {
	case j.resend:
		reason = reasonEarlierRun + reason
	case j.from > 0:
		reason = partlySent(j.from, len(j.row.Message.Parts), reason)
	default:
		c.notSent(j.row.Num, reason)
		return
	}
	c.book.SetStatus(j.row.Num, report.SubmitUncertain, reason)
	c.failed.Add(1)
	c.done.Add(1)
}

// partlySent is the reason of a row whose first accepted parts are with the SMSC, so that the
// recipient may get the start of the message, and whose others are not (why: rest).
func partlySent(accepted, parts int, rest string) string {
	return fmt.Sprintf("partly sent: %d of %d parts accepted, the rest %s", accepted, parts, rest)
}

// reasonEarlierRun begins the reason of a resumed row left uncertain.
const reasonEarlierRun = "outcome unknown: an earlier run sent it and recorded no response; "

// notSentReason says why rows stop being sent.
func notSentReason(ctx context.Context, stopped <-chan struct{}) string {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, errStopped) && !errors.Is(cause, context.Canceled) {
		return "not sent: " + cause.Error()
	}
	select {
	case <-stopped:
		return "not sent: the run was stopped"
	default:
	}
	if ctx.Err() != nil {
		return "not sent: the run was aborted"
	}
	return "not sent"
}

// awaitReceipts stays bound until every accepted row has a final receipt state, Config.Wait
// has passed, Stop is called or ctx ends.
func (c *Campaign) awaitReceipts(ctx context.Context) {
	deadline := time.NewTimer(c.cfg.Wait)
	defer deadline.Stop()
	poll := time.NewTicker(receiptPoll)
	defer poll.Stop()
	for c.book.Pending() > 0 && !c.journalBroken.Load() {
		select {
		case <-c.receiptPing:
		case <-poll.C:
		case <-deadline.C:
			return
		case <-c.stopped:
			return
		case <-ctx.Done():
			return
		}
	}
}
