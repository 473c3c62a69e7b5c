package smpp

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Errors a Session reports. Test them with errors.Is: the errors returned wrap them with
// details.
var (
	// ErrNotSent: the request was never written (the context ended while it waited for a
	// window slot or for the writer, or the session was closing or had ended). Sending it
	// again cannot duplicate it.
	ErrNotSent = errors.New("smpp: request not sent")
	// ErrResponseTimeout: the request was written but no response came within
	// Options.RespTimeout. The SMSC may or may not have accepted it; see *TimeoutError.
	ErrResponseTimeout = errors.New("smpp: no response within the response timeout")
	// ErrConnectionLost: the connection ended while the request was in flight, so its outcome
	// is unknown (resending may duplicate it, not resending may lose it). Session.Err wraps
	// it with the cause when the session ended that way.
	ErrConnectionLost = errors.New("smpp: connection lost")
	// ErrUnboundByPeer: the SMSC sent unbind; the session answered and ended. Reconnect with
	// a back-off.
	ErrUnboundByPeer = errors.New("smpp: the SMSC unbound the session")
	// ErrDeadPeer: the SMSC did not answer an enquire_link within Options.RespTimeout, or
	// left the whole window unanswered (every slot held by a request that timed out) for
	// another RespTimeout, so the session closed the connection. Reconnect with a back-off.
	ErrDeadPeer = errors.New("smpp: the SMSC stopped answering")
	// ErrUnexpectedResponse: the SMSC answered a request with a response of another command
	// (an enquire_link_resp carrying a submit_sm's sequence_number). Whether it acted on the
	// request is unknown.
	ErrUnexpectedResponse = errors.New("smpp: the SMSC answered with another command's response")

	// ErrTLSMismatch: one side speaks TLS and the other does not. The SMSC answered the TLS
	// hello in plain text, or a bind in the clear with a TLS record: a setting to change,
	// not an outage to wait out.
	ErrTLSMismatch = errors.New("TLS on one side only")
)

// errClosed is the reason a request is refused once Close has been called.
var errClosed = errors.New("smpp: session closed by Close")

// TimeoutError reports a request that was written but not answered within
// Options.RespTimeout. errors.Is(err, ErrResponseTimeout) holds. A response that arrives later
// goes to Options.OnLateResponse with this sequence number. Until then the request keeps its
// window slot: the SMSC still counts it as outstanding.
type TimeoutError struct {
	Seq uint32 // sequence_number of the unanswered request
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("smpp: no response to sequence_number %d within the response timeout: "+
		"the SMSC may still have accepted it, so check its receipts before resending", e.Seq)
}

// Is makes errors.Is(err, ErrResponseTimeout) true.
func (e *TimeoutError) Is(target error) bool { return target == ErrResponseTimeout }

// Session defaults and limits.
const (
	defaultWindow  = 10
	defaultTimeout = 30 * time.Second
	maxSequence    = 0x7FFFFFFF

	// maxHandlers caps the handler goroutines running at once. The SMSC's own window
	// normally keeps far fewer deliver_sm in flight; beyond the cap the session answers
	// ESME_RX_T_APPN at once (the SMSC redelivers later) rather than stall the reader.
	// Each running call holds one decoded PDU, so the cap also bounds memory (1024 ×
	// MaxPDULen at worst).
	maxHandlers = 1024
	// maxIdleHandlers caps the handler goroutines kept waiting for the next deliver_sm, so
	// that a burst of slow handler calls leaves no thousand idle goroutines behind.
	maxIdleHandlers = 64
	// maxControlQueue caps responses waiting for the writer; beyond it the reader waits for
	// the writer (see reply), so that a peer that sends faster than it reads our answers
	// (a backlog of receipts pushed without a window) is slowed down as TCP would, rather
	// than the queue growing without bound.
	maxControlQueue = 4096
	// maxBatch caps the PDUs the writer buffers before it flushes, so a steady stream still
	// reaches the network and each batch's write deadline stays meaningful.
	maxBatch = 256
	// readerWaitMax bounds how long the writer holds a batch back while the reader is still
	// handling PDUs it has read (see writeLoop).
	readerWaitMax = 500 * time.Microsecond
	// unbindGrace bounds how long a session the SMSC unbound reads on for the answers to its
	// requests before it closes the connection (see awaitAnswersAfterUnbind): SMPP wants it
	// closed. unbindPoll is how often it looks whether they have come.
	unbindGrace = time.Second
	unbindPoll  = 5 * time.Millisecond
)

// Options configure a Session. The zero value of each field selects the default noted on it.
type Options struct {
	// Bind holds the credentials and the bind mode (zero Mode = bind_transceiver). A zero
	// InterfaceVersion is sent as 0x34 (SMPP 3.4).
	Bind Bind
	// TLS, when not nil, makes Dial connect with TLS (see TLSConfig). nil = plain TCP.
	TLS *tls.Config
	// Window is the most requests awaiting a response at once; 0 = 10. Callers beyond it
	// wait for a slot (honouring their context). A request that timed out keeps its slot
	// until its late response arrives, so the SMSC never sees more than Window outstanding;
	// a window entirely held by such requests for another RespTimeout ends the session
	// (ErrDeadPeer).
	Window int
	// BindTimeout bounds connecting (Dial) and binding; 0 = 30s.
	BindTimeout time.Duration
	// RespTimeout bounds the wait for each response, for the enquire_link probe (a missing
	// answer ends the session with ErrDeadPeer), for each step of Close, and for a blocked
	// network write; 0 = 30s.
	RespTimeout time.Duration
	// EnquireLinkInterval is how long the session may write nothing before it probes the
	// link with enquire_link; 0 = 30s.
	EnquireLinkInterval time.Duration
	// MaxPDULen caps command_length in both directions, in octets; 0 = DefaultMaxPDULen.
	MaxPDULen int
	// Handler receives each deliver_sm (*DeliverSM) and data_sm (*DataSM) the SMSC sends,
	// on its own goroutine so that a slow handler never delays responses to submits. The
	// session answers with the returned status once Handler returns: return StatusOK only
	// after the PDU is safe (for example a receipt written durably), or StatusXTAppn to
	// have the SMSC deliver it again later. ctx ends when the session ends; the answer is
	// then lost and the SMSC redelivers. nil = every deliver_sm/data_sm is answered
	// ESME_RX_T_APPN, so none is acknowledged without being handled. At most 1024 calls
	// run at once: beyond that, and once an unbind is under way, the session answers
	// ESME_RX_T_APPN without calling Handler, so that a stuck handler holds a bounded
	// number of goroutines and PDUs instead of stalling the reader (and every submit).
	Handler func(ctx context.Context, p PDU) Status
	// AsyncHandler, when set, is called instead of Handler, but on the reader goroutine, and
	// answers through answer, which it may call later and from any goroutine: for example
	// once a batch of receipts is durable, so that no goroutine waits for the disk per
	// receipt. It must return quickly (every response waits behind it) and hand anything
	// slow to another goroutine; p is not reused, so it may keep it. Call answer exactly
	// once (later calls are ignored). Until it is called the PDU counts as a running handler
	// call, towards the cap of 1024 and for Close, which waits for it up to RespTimeout; an
	// answer given after the session ended is dropped and the SMSC redelivers the PDU.
	AsyncHandler func(ctx context.Context, p PDU, answer func(Status))
	// OnLateResponse receives the response to a request that already failed with
	// *TimeoutError (seq = its Seq), once. Responses that match no request at all (a
	// duplicate, a generic_nack with sequence_number 0) are discarded. It runs on the reader
	// goroutine, so it must return quickly; a timed-out request's window slot is freed only
	// after it returns, so it can cancel a resend still waiting for a slot. nil = late
	// responses are discarded too.
	OnLateResponse func(seq uint32, h Header, p PDU)
	// OnStray receives the header of each response that matches no request, late or not
	// (such as a generic_nack with sequence_number 0: the SMSC could not read a PDU's
	// header), on the reader goroutine; it must return quickly. nil = ignored.
	OnStray func(h Header)
	// OnUnreadable receives each deliver_sm or data_sm the session refused because its body
	// could not be read (err says why; the response carried the status that names it), on
	// the reader goroutine; it must return quickly. The SMSC will deliver it again or give
	// up on it: a receipt among them is not recorded. nil = ignored.
	OnUnreadable func(h Header, err error)

	// lastSeq is a test hook: the session's sequence numbers continue after it (the bind
	// takes lastSeq+1). 0 = start at 1.
	lastSeq uint32
}

// withDefaults returns o with every zero field replaced by its default.
func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = defaultWindow
	}
	if o.BindTimeout <= 0 {
		o.BindTimeout = defaultTimeout
	}
	if o.RespTimeout <= 0 {
		o.RespTimeout = defaultTimeout
	}
	if o.EnquireLinkInterval <= 0 {
		o.EnquireLinkInterval = defaultTimeout
	}
	if o.MaxPDULen <= 0 {
		o.MaxPDULen = DefaultMaxPDULen
	}
	if o.Bind.InterfaceVersion == 0 {
		o.Bind.InterfaceVersion = 0x34
	}
	return o
}

// TLSConfig builds the TLS settings for Options.TLS. caFile ("" = the system roots) is a
// PEM file of the certificate authorities to trust; serverName ("" = the host part of the
// address given to Dial) is the name the SMSC's certificate must carry; insecure skips
// certificate verification, for test SMSCs only.
func TLSConfig(caFile, serverName string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: insecure, //nolint:gosec // the user asked for it explicitly
		MinVersion:         tls.VersionTLS12,
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("smpp: read TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smpp: TLS CA file %s holds no PEM certificate: "+
				"give a file with one or more BEGIN CERTIFICATE blocks", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Session is a bound SMPP connection to an SMSC. It is safe for concurrent use: any number
// of goroutines may call Submit and Request; at most Options.Window requests are in flight.
//
// One writer goroutine owns the connection's writes (it numbers requests, registers them and
// probes an idle link with enquire_link); one reader goroutine routes responses by
// sequence_number and answers the SMSC's requests. A Session ends when Close is called, the
// connection drops, the SMSC unbinds or stops answering enquire_link; it is not reconnected:
// dial a new one (with a back-off) and resend what failed with ErrNotSent or, knowing the
// risk of duplicates, ErrConnectionLost and ErrResponseTimeout.
type Session struct {
	conn     net.Conn
	opt      Options
	systemID string
	// scVersion is the bind response's sc_interface_version, when scVersionKnown.
	scVersion      uint8
	scVersionKnown bool

	window chan struct{} // a slot per request awaiting a response
	reqs   chan *request // requests handed to the writer

	mu          sync.Mutex
	pending     map[uint32]*request  // written, awaiting a response, by sequence_number
	timedOut    map[uint32]time.Time // callers' requests that timed out, each holding a window slot, with their deadlines
	outstanding int                  // pending requests of callers (not probes or unbind)
	handlers    int                  // Handler calls running or AsyncHandler answers awaited
	idle        int                  // handler workers waiting on idleWorkers
	closing     bool                 // Close was called: write no new requests
	closeStart  time.Time            // when Close began (see awaitedLocked)
	// strayProbeAnswers counts enquire_link_resp that matched no request, for the error of
	// a session that ends for want of one.
	strayProbeAnswers int
	unbinding         bool // our unbind is under way: call no new handlers
	// peerUnbound is set when the SMSC sent unbind: the connection ending after that
	// (the SMSC closing it once it read our unbind_resp, perhaps before the writer got to
	// end the session itself) is the unbind, not a lost connection.
	peerUnbound bool
	ended       bool          // the connection is closed or closing
	err         error         // why the session ended (or the SMSC unbound it); nil if by Close
	drained     chan struct{} // closed when nothing Close waits for is left (see awaitedLocked)

	stopping chan struct{} // closed by Close, the SMSC's unbind or the session's end: no new slots
	stopOnce sync.Once
	quit     chan struct{} // closed when the session ends
	// done is Done's: closed when the session ends, or already when the SMSC unbinds it
	// (it then reads on a moment for the last answers; see awaitAnswersAfterUnbind).
	done         chan struct{}
	doneOnce     sync.Once
	stopHandlers context.CancelFunc
	handlerCtx   context.Context
	wg           sync.WaitGroup // reader, writer and handler goroutines

	ctl controlQueue

	idleWorkers chan handlerCall // unbuffered: hands a call to an idle handler worker

	// Owned by the writer goroutine (by NewSession before it starts).
	bw         *bufio.Writer
	seq        uint32     // last sequence_number assigned
	wbuf       []byte     // scratch for encoding responses
	batchStart time.Time  // when the current batch of writes began
	expired    []*request // scratch for expire
	// windowLostSince is when every window slot came to be held by a timed-out request;
	// zero while one is free.
	windowLostSince time.Time
	// Empty bodies for deliver_sm_resp and data_sm_resp, kept here so that encoding them
	// through the PDU interface allocates nothing.
	deliverSMResp DeliverSMResp
	dataSMResp    DataSMResp

	// Owned by the reader goroutine (by NewSession before it starts).
	br   *bufio.Reader
	rbuf []byte
	// readerBusy is set while the reader handles PDUs it has already read in full, whose
	// responses wake callers that will have requests for the writer; readerIdle (capacity 1)
	// is signalled when it has handled the last of them. See writeLoop.
	readerBusy atomic.Bool
	readerIdle chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to addr ("host:port") over TCP, or TLS when opt.TLS is set, and binds.
// Options.BindTimeout bounds connecting and binding together. A refused bind returns an error
// that errors.As to the Status the SMSC answered.
func Dial(ctx context.Context, addr string, opt Options) (*Session, error) {
	opt = opt.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opt.BindTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		// TCP itself failed: TLS, the credentials or the bind are not the question yet.
		return nil, fmt.Errorf("smpp: connect to %s: %w (check the address and the port, and "+
			"that a firewall lets this machine reach it)", addr, err)
	}
	if opt.TLS != nil {
		conn, err = handshake(ctx, conn, addr, opt)
		if err != nil {
			return nil, err
		}
	}
	return NewSession(ctx, conn, opt)
}

// handshake runs the TLS handshake over conn, the TCP connection to addr; conn is closed if it
// fails.
func handshake(ctx context.Context, conn net.Conn, addr string, opt Options) (net.Conn, error) {
	cfg := opt.TLS
	if cfg.ServerName == "" {
		// As tls.Dialer does: the certificate must name the host dialled, and the hello names
		// it (SNI) also when the certificate is not checked, for a TLS front that routes by it.
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("smpp: connect to %s: %w", addr, err)
		}
		cfg = cfg.Clone()
		cfg.ServerName = host
	}
	tc := tls.Client(conn, cfg)
	err := tc.HandshakeContext(ctx)
	if err == nil {
		return tc, nil
	}
	conn.Close()
	var cert *tls.CertificateVerificationError
	var plain tls.RecordHeaderError
	switch {
	case errors.As(err, &cert):
		return nil, fmt.Errorf("smpp: connect to %s: %w", addr, err) // the caller says what to give
	case errors.As(err, &plain) && plain.Conn != nil:
		// Conn is set only when the first record does not look like TLS at all; a malformed
		// record from a TLS peer (too long, an old version) is not plain text.
		return nil, fmt.Errorf("smpp: connect to %s: TLS handshake: the SMSC answered in plain text (%w: %w)",
			addr, ErrTLSMismatch, err)
	case ctx.Err() != nil:
		return nil, fmt.Errorf("smpp: connect to %s: no answer to the TLS handshake within %v (the bind timeout): %w "+
			"(is this a TLS port? a plain SMPP port does not answer the TLS hello)", addr, opt.BindTimeout, context.DeadlineExceeded)
	}
	return nil, fmt.Errorf("smpp: connect to %s: TLS handshake: %w (is this a TLS port? a plain SMPP port does not answer the TLS hello)", addr, err)
}

// tlsRecordNext reports whether br starts with the header of a TLS alert or handshake record
// (what a TLS listener may answer a bind in the clear with). As a command_length it would be
// over 350 MB, which no SMPP peer sends.
func tlsRecordNext(br *bufio.Reader) bool {
	b, err := br.Peek(3)
	return err == nil && (b[0] == 0x15 || b[0] == 0x16) && b[1] == 0x03 && b[2] <= 0x04
}

// NewSession binds over conn and starts the session. The session owns conn from then on:
// it is closed when the session ends, and also when binding fails. ctx and
// Options.BindTimeout bound the bind. A refused bind returns an error that errors.As to the
// Status the SMSC answered.
func NewSession(ctx context.Context, conn net.Conn, opt Options) (*Session, error) {
	opt = opt.withDefaults()
	s := &Session{
		conn:     conn,
		opt:      opt,
		window:   make(chan struct{}, opt.Window),
		reqs:     make(chan *request, opt.Window+1), // +1: Close's unbind
		pending:  make(map[uint32]*request, opt.Window+2),
		timedOut: make(map[uint32]time.Time),
		stopping: make(chan struct{}),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		bw:       bufio.NewWriterSize(conn, opt.MaxPDULen),
		br:       bufio.NewReaderSize(conn, 64<<10),
		seq:      opt.lastSeq,
	}
	s.ctl.signal = make(chan struct{}, 1)
	s.ctl.space = make(chan struct{}, 1)
	s.readerIdle = make(chan struct{}, 1)
	s.idleWorkers = make(chan handlerCall)
	if err := s.bind(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	s.handlerCtx, s.stopHandlers = context.WithCancel(context.Background())
	s.wg.Add(2)
	go s.writeLoop()
	go s.readLoop()
	return s, nil
}

// bind performs the bind exchange before the reader and writer start, so a failed bind
// leaves no goroutine behind.
func (s *Session) bind(ctx context.Context) error {
	b := s.opt.Bind
	op := b.CommandID().String()
	deadline := time.Now().Add(s.opt.BindTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// Cancelling ctx must interrupt a blocked read or write: a deadline in the past does.
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s.conn.SetDeadline(deadline)

	err := s.bindExchange(&b, op)
	switch {
	case err == nil:
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("smpp: %s: %w", op, ctx.Err())
	case ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
		// Whichever of the two deadlines fired first, the SMSC did not answer in time.
		return fmt.Errorf("smpp: %s: no response within %v (the bind timeout): %w "+
			"(is this an SMPP port, and does it expect TLS?)", op, s.opt.BindTimeout, context.DeadlineExceeded)
	default:
		return err
	}
	if !stop() { // ctx ended just now and the AfterFunc broke the deadline
		return fmt.Errorf("smpp: %s: %w", op, ctx.Err())
	}
	return s.conn.SetDeadline(time.Time{})
}

// bindExchange writes the bind and reads until its response, answering enquire_link on the
// way. The connection's deadline bounds it.
func (s *Session) bindExchange(b *Bind, op string) error {
	seq := s.nextSeq()
	pdu, err := AppendPDU(nil, seq, StatusOK, b)
	if err != nil {
		return fmt.Errorf("smpp: encode %s: %w", op, err)
	}
	if _, err := s.conn.Write(pdu); err != nil {
		return fmt.Errorf("smpp: send %s: %w", op, err)
	}
	want := b.CommandID().Response()
	// A conforming SMSC sends nothing but the response (or an enquire_link); bound the loop
	// so a chatty peer cannot hold the bind open until the deadline.
	for range 16 {
		if s.opt.TLS == nil && tlsRecordNext(s.br) {
			return fmt.Errorf("smpp: read %s response: the SMSC answered with a TLS record (%w)", op, ErrTLSMismatch)
		}
		s.rbuf, err = ReadPDU(s.br, s.rbuf, s.opt.MaxPDULen)
		if errors.Is(err, io.EOF) && s.opt.TLS == nil {
			// What a TLS listener does with a bind in the clear, and an SMSC with an address
			// it does not know.
			return fmt.Errorf("smpp: read %s response: the SMSC closed the connection without an answer: %w "+
				"(does it expect TLS, or allow only known IP addresses?)", op, err)
		}
		if err != nil {
			return fmt.Errorf("smpp: read %s response: %w", op, err)
		}
		h, p, err := DecodeTolerant(s.rbuf)
		switch {
		case err == nil && h.ID == EnquireLinkID:
			resp, _ := AppendPDU(s.wbuf[:0], h.Sequence, StatusOK, &EnquireLinkResp{})
			if _, err := s.conn.Write(resp); err != nil {
				return fmt.Errorf("smpp: answer enquire_link during %s: %w", op, err)
			}
			continue
		case h.Sequence != seq || (h.ID != want && h.ID != GenericNackID):
			if err == nil {
				err = fmt.Errorf("unexpected %v with sequence_number %d", h.ID, h.Sequence)
			}
			return fmt.Errorf("smpp: %s: the SMSC answered with something else than a bind "+
				"response: %w", op, err)
		case h.Status == StatusAlyBnd:
			return fmt.Errorf("smpp: %s as %q refused by the SMSC: %w (the account is bound "+
				"already: an earlier session the SMSC still holds, or more binds than it allows)",
				op, b.SystemID, h.Status)
		case h.Status == StatusInvCmdID:
			return fmt.Errorf("smpp: %s as %q refused by the SMSC: %w (it does not know this bind)",
				op, b.SystemID, h.Status)
		case h.Status.Class() == ClassBind:
			return fmt.Errorf("smpp: %s as %q refused by the SMSC: %w (check system_id, "+
				"password, system_type and that your IP address is allowed)", op, b.SystemID, h.Status)
		case h.Status != StatusOK:
			// Not about the credentials (ESME_RSYSERR, a throttle): retrying later may work.
			return fmt.Errorf("smpp: %s as %q refused by the SMSC: %w", op, b.SystemID, h.Status)
		case h.ID == GenericNackID:
			return fmt.Errorf("smpp: %s: the SMSC answered generic_nack without a status: %w",
				op, StatusUnknownErr)
		case err != nil:
			return fmt.Errorf("smpp: decode %s response: %w", op, err)
		}
		if r, ok := p.(*BindResp); ok {
			s.systemID = r.SystemID
			s.scVersion, s.scVersionKnown = r.TLVs.Uint8(TagSCInterfaceVersion)
		}
		return nil
	}
	return fmt.Errorf("smpp: %s: no response among the first 16 PDUs the SMSC sent", op)
}

// SystemID is the system_id the SMSC gave in its bind response.
func (s *Session) SystemID() string { return s.systemID }

// InterfaceVersion is the sc_interface_version of the SMSC's bind response (0x34 for SMPP
// 3.4); announced is false when the response carried none, which [S50 §2.11.2] says means
// the SMSC does not support optional parameters (TLVs), although many that omit it accept
// them.
func (s *Session) InterfaceVersion() (version uint8, announced bool) {
	return s.scVersion, s.scVersionKnown
}

// Done is closed when the session takes no more requests: it has ended (Close, connection
// loss, a dead link), or the SMSC has unbound it (the session may then read on for up to a
// second for the answers to the requests in flight). Err says why. Call Close afterwards to
// wait for running handlers and the requests in flight.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err says why Done closed: an error wrapping ErrConnectionLost, ErrUnboundByPeer or
// ErrDeadPeer; nil while it runs, and when Close or Abort ended it before anything else did.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Outstanding is the number of the callers' requests written and awaiting their response
// (enquire_link probes and unbind excluded).
func (s *Session) Outstanding() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outstanding
}

// Submit sends a submit_sm and waits for its submit_sm_resp. See Request for ctx and the
// errors; with a Status error the response body, when the SMSC sent one, is returned too.
func (s *Session) Submit(ctx context.Context, p *SubmitSM) (*SubmitSMResp, error) {
	return s.SubmitNotify(ctx, p, nil)
}

// SubmitHooks are the callbacks of SubmitNotify; either may be nil.
type SubmitHooks struct {
	// BeforeWrite runs on the caller's goroutine once the submit holds a window slot, right
	// before it is handed to the writer: the moment to record that it is about to go out, or
	// to withdraw it. An error withdraws it unsent; SubmitNotify returns the error wrapped
	// with ErrNotSent. Once it returned nil, ctx no longer withdraws the submit: only the
	// end of the session can still keep it from being written (SubmitNotify then returns
	// ErrNotSent), so a record made here may name a submit that never left, but a submit
	// never leaves without one.
	BeforeWrite func() error
	// Accepted receives a successful submit_sm_resp on the session's reader goroutine,
	// before the reader handles any PDU that came after the response. Whatever it records
	// — the message id — is therefore in place before the Handler sees a receipt that
	// followed the response on the wire, although the Handler and the caller run
	// concurrently. It runs exactly when SubmitNotify returns a nil error, before it
	// returns; it must be quick (the reader waits for it) and must not call the session.
	Accepted func(*SubmitSMResp)
	// Written runs on the session's writer goroutine, with the session's lock held, when the
	// submit is put in the write buffer, which is flushed to the connection right after: the
	// moment it leaves, for a rate limiter that must count what the SMSC sees. It must be
	// quick and must not call the session.
	Written func()
}

// SubmitNotify is Submit with hooks (nil = none); see SubmitHooks.
func (s *Session) SubmitNotify(ctx context.Context, p *SubmitSM, hooks *SubmitHooks) (*SubmitSMResp, error) {
	_, body, err := s.request(ctx, p, hooks)
	resp, _ := body.(*SubmitSMResp)
	return resp, err
}

// Request sends any request the session does not manage itself (not bind, unbind or a
// response) and waits for its response.
//
// ctx governs only waiting for a window slot and for the write: once written, the call waits
// for the response, Options.RespTimeout or the end of the connection regardless of ctx.
// Errors: a non-zero command_status (also in a generic_nack) is a Status, returned with the
// response's header and decoded body (for example a data_sm_resp whose
// delivery_failure_reason DeliveryFailureTemporary reads); not written because ctx ended or
// the session is closing or ended wraps ErrNotSent; no response in time is a *TimeoutError
// (ErrResponseTimeout); the connection ending while in flight wraps ErrConnectionLost
// (outcome unknown). A PDU the codec cannot encode or longer than Options.MaxPDULen is
// refused before anything is sent, without ErrNotSent: resending it cannot help.
func (s *Session) Request(ctx context.Context, p PDU) (Header, PDU, error) {
	return s.request(ctx, p, nil)
}

// request is Request with SubmitNotify's hooks (nil = none).
func (s *Session) request(ctx context.Context, p PDU, hooks *SubmitHooks) (Header, PDU, error) {
	if p == nil {
		return Header{}, nil, errors.New("smpp: Request needs a PDU, got nil")
	}
	id := p.CommandID()
	if !requestAllowed(id) {
		return Header{}, nil, fmt.Errorf("smpp: Request cannot send %v: the session sends "+
			"binds, unbind and responses itself", id)
	}
	r := getRequest()
	r.id = id
	r.onAccepted, r.beforeWrite, r.onWritten = nil, nil, nil
	if hooks != nil {
		r.onAccepted, r.beforeWrite, r.onWritten = hooks.Accepted, hooks.BeforeWrite, hooks.Written
	}
	var err error
	r.buf, err = AppendPDU(r.buf[:0], 0, StatusOK, p)
	if err == nil && len(r.buf) > s.opt.MaxPDULen {
		err = fmt.Errorf("PDU of %d octets exceeds the %d-octet limit (Options.MaxPDULen)",
			len(r.buf), s.opt.MaxPDULen)
	}
	if err != nil {
		putRequest(r)
		return Header{}, nil, fmt.Errorf("smpp: encode %v: %w", id, err)
	}
	res := s.roundTrip(ctx, r)
	return res.h, res.p, res.err
}

// requestAllowed reports whether callers may send id through Request.
func requestAllowed(id CommandID) bool {
	switch id {
	case BindReceiverID, BindTransmitterID, BindTransceiverID, UnbindID, OutbindID:
		return false
	}
	return !id.IsResponse()
}

// roundTrip takes a window slot, hands r to the writer and waits for the outcome.
func (s *Session) roundTrip(ctx context.Context, r *request) result {
	if err := sendOrStop(ctx, s, s.window, struct{}{}); err != nil {
		putRequest(r)
		return result{err: notSent(err)}
	}
	if isClosed(s.stopping) {
		// Close was called or the SMSC unbound: the caller must not record it as going out.
		<-s.window
		putRequest(r)
		return result{err: notSent(s.stopReason())}
	}
	if r.beforeWrite != nil {
		if err := r.beforeWrite(); err != nil {
			<-s.window
			putRequest(r)
			return result{err: notSent(err)}
		}
		// The caller recorded it as going out: ctx may no longer withdraw it, only the end
		// of the session can.
		ctx = context.Background()
	}
	// reqs has room for every slot, but withdrawn requests keep theirs until the writer
	// discards them, so while the writer is stuck on a slow write this may wait too. The
	// fast path needs no check of stopping: the writer refuses requests once Close was
	// called, and await withdraws them once the session has ended.
	if err := sendOrStop(ctx, s, s.reqs, r); err != nil {
		<-s.window
		putRequest(r)
		return result{err: notSent(err)}
	}
	res := s.await(ctx, r)
	if !res.keepSlot { // a timed-out request's slot is freed by its late response (route)
		<-s.window
	}
	if res.reuse {
		putRequest(r)
	}
	return res
}

// isClosed reports whether ch is closed (or has a value ready).
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// sendOrStop sends v on ch, or returns why not once ctx ends or s stops taking requests. A
// channel with room costs one non-blocking send.
func sendOrStop[T any](ctx context.Context, s *Session, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	default:
	}
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.stopping:
		return s.stopReason()
	}
}

// await waits for the outcome of r, which has been handed to the writer. Until the writer
// takes r, the end of ctx or of the session withdraws it unsent; once written, only the
// response, the writer expiring it after RespTimeout, or the end of the connection finish
// the wait.
func (s *Session) await(ctx context.Context, r *request) result {
	ctxDone, quit := ctx.Done(), s.quit
	for {
		select {
		case res := <-r.done:
			return res
		case <-ctxDone:
			ctxDone = nil
			if s.withdraw(r) {
				return result{err: notSent(ctx.Err())}
			}
		case <-quit:
			quit = nil
			if s.withdraw(r) {
				return result{err: notSent(s.stopReason())}
			}
		}
	}
}

// withdraw takes r back if the writer has not taken it yet.
func (s *Session) withdraw(r *request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.state != stateQueued {
		return false
	}
	r.state = stateWithdrawn
	return true
}

// stopReason says why no new request is accepted.
func (s *Session) stopReason() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopReasonLocked()
}

func (s *Session) stopReasonLocked() error {
	if (s.ended || s.peerUnbound) && s.err != nil {
		return s.err
	}
	return errClosed
}

func notSent(reason error) error { return fmt.Errorf("%w: %w", ErrNotSent, reason) }

// requestDoneLocked accounts for r leaving the pending set. s.mu must be held.
func (s *Session) requestDoneLocked(r *request) {
	if !r.internal {
		s.outstanding--
		s.checkDrainedLocked()
	}
}

// awaitedLocked is what Close, which began at s.closeStart, waits for: the answers awaited
// (see answersAwaitedLocked) and the running handlers. s.mu must be held.
func (s *Session) awaitedLocked() int { return s.answersAwaitedLocked(s.closeStart) + s.handlers }

// answersAwaitedLocked counts the requests whose answers may still come at since: those
// awaiting their response, and those that timed out but may still be answered (the SMSC may
// have accepted them: an answer now tells which). An answer is not expected more than
// RespTimeout after a request's deadline (a window held so long ends the session): older
// timed-out requests are not counted. s.mu must be held.
func (s *Session) answersAwaitedLocked(since time.Time) int {
	n := s.outstanding
	for _, deadline := range s.timedOut {
		if deadline.Add(s.opt.RespTimeout).After(since) {
			n++
		}
	}
	return n
}

// closeWaitLocked is how long Close waits for what awaitedLocked counts: RespTimeout for a
// request awaiting its response or a handler; else until RespTimeout after the deadline of
// the last request that timed out. s.mu must be held.
func (s *Session) closeWaitLocked() time.Duration {
	if s.awaitedLocked() == 0 {
		return 0
	}
	if s.outstanding+s.handlers > 0 {
		return s.opt.RespTimeout
	}
	var wait time.Duration
	for _, deadline := range s.timedOut {
		wait = max(wait, deadline.Add(s.opt.RespTimeout).Sub(s.closeStart))
	}
	return min(wait, s.opt.RespTimeout)
}

// checkDrainedLocked wakes Close once no request and no handler is left. s.mu must be held.
func (s *Session) checkDrainedLocked() {
	if s.drained != nil && s.awaitedLocked() == 0 {
		close(s.drained)
		s.drained = nil
	}
}

// Close ends the session gracefully: it refuses new requests, waits up to
// Options.RespTimeout for the outstanding responses (also those of requests that timed out,
// which go to OnLateResponse) and running handlers, sends unbind and
// waits up to Options.RespTimeout for unbind_resp, closes the connection and waits for every
// goroutine of the session (including handlers, which it cannot interrupt). Requests still
// unanswered fail with ErrConnectionLost. The error reports an unbind that was not answered;
// the session is closed either way. Close may be called more than once and after the session
// ended on its own; later calls return the first call's result. Never call it from a
// Handler: it waits for the handlers to return.
func (s *Session) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

// Abort ends the session at once, without unbind: it closes the connection, so that requests
// in flight fail with ErrConnectionLost and a Close under way returns without waiting for
// responses or unbind_resp. Err stays as it was (nil, unless the session had ended or the SMSC
// had unbound it), as after Close. For a second interrupt, when
// waiting is no longer wanted; Close still waits for the session's goroutines.
func (s *Session) Abort() {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	s.end(errClosed)
}

func (s *Session) shutdown() error {
	s.mu.Lock()
	s.closing = true
	if s.ended {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	var drained chan struct{}
	s.closeStart = time.Now()
	wait := s.closeWaitLocked()
	if wait > 0 {
		drained = make(chan struct{})
		s.drained = drained
	}
	s.mu.Unlock()
	s.stopOnce.Do(func() { close(s.stopping) })

	if drained != nil {
		t := time.NewTimer(wait)
		select {
		case <-drained:
		case <-t.C:
		case <-s.quit:
		}
		t.Stop()
	}
	err := s.unbind()
	s.end(errClosed)
	s.wg.Wait()
	return err
}

// unbind sends unbind through the writer and waits for unbind_resp.
func (s *Session) unbind() error {
	s.mu.Lock()
	s.unbinding = true
	s.mu.Unlock()
	r := &request{id: UnbindID, internal: true, done: make(chan result, 1)}
	r.buf, _ = AppendPDU(nil, 0, StatusOK, &Unbind{})
	select {
	case s.reqs <- r:
	case <-s.quit:
		return nil
	}
	t := time.NewTimer(s.opt.RespTimeout)
	defer t.Stop()
	var res result
	select {
	case res = <-r.done:
	case <-s.quit:
		return nil // the connection ended first: nothing left to unbind
	case <-t.C:
		return fmt.Errorf("smpp: unbind: no unbind_resp within %v; closed the connection anyway",
			s.opt.RespTimeout)
	}
	switch {
	case errors.Is(res.err, ErrNotSent), errors.Is(res.err, ErrConnectionLost):
		return nil // the connection ended first: nothing left to unbind
	case res.err != nil:
		return fmt.Errorf("smpp: unbind: %w; closed the connection anyway", res.err)
	}
	return nil
}

// end closes the connection once, records why and fails every request in flight at once.
// cause is errClosed when Close ends the session.
func (s *Session) end(cause error) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	if s.peerUnbound && errors.Is(cause, ErrConnectionLost) {
		cause = ErrUnboundByPeer
	}
	if !s.closing && s.err == nil {
		s.err = cause
	}
	pending := s.pending
	s.pending = nil
	for _, r := range pending {
		r.state = stateDone
	}
	s.outstanding = 0
	s.checkDrainedLocked()
	s.mu.Unlock()

	s.stopOnce.Do(func() { close(s.stopping) })
	s.doneOnce.Do(func() { close(s.done) })
	close(s.quit)
	s.stopHandlers()
	s.conn.Close()
	lost := connLost(cause)
	if errors.Is(cause, ErrConnectionLost) {
		lost = cause
	}
	for _, r := range pending {
		r.done <- result{err: lost}
	}
}

func connLost(cause error) error { return fmt.Errorf("%w: %w", ErrConnectionLost, cause) }

// request is one PDU on its way through the writer, and its outcome.
type request struct {
	buf      []byte // the encoded PDU with sequence_number 0; the writer copies it out
	id       CommandID
	internal bool        // enquire_link probe or unbind: outside the window and the count
	done     chan result // capacity 1: whoever completes the request never blocks
	// onAccepted, beforeWrite and onWritten: see SubmitHooks; the reader calls onAccepted
	// before completing the request, roundTrip calls beforeWrite once it holds a window
	// slot, the writer calls onWritten when it buffers the request.
	onAccepted  func(*SubmitSMResp)
	beforeWrite func() error
	onWritten   func()

	seq      uint32    // guarded by Session.mu
	state    reqState  // guarded by Session.mu
	deadline time.Time // when the writer expires it unanswered; guarded by Session.mu
}

type reqState uint8

const (
	stateQueued    reqState = iota // handed to the writer, not written
	statePending                   // written; in Session.pending
	stateDone                      // completed: the result is (being) sent on done
	stateWithdrawn                 // the caller gave up on it; nothing will be sent on done
)

// result is the outcome of a request.
type result struct {
	h   Header
	p   PDU
	err error
	// reuse: no goroutine but the caller refers to the request any more, so it may go back
	// to the pool. A response proves the writer finished with it (register publishes a
	// request only once it is copied out); a connection loss does not.
	reuse bool
	// keepSlot: the request timed out and its window slot now belongs to Session.timedOut.
	keepSlot bool
}

// requestPool recycles requests, with their buffers and channels, so that a round trip
// allocates nothing but the decoded response.
var requestPool = sync.Pool{New: func() any { return &request{done: make(chan result, 1)} }}

func getRequest() *request {
	r := requestPool.Get().(*request)
	r.state = stateQueued
	r.internal = false
	return r
}

func putRequest(r *request) { requestPool.Put(r) }

// controlQueue carries the responses the reader and the handlers produce to the writer.
// push and pushAlways never block. The reader waits for room itself before it reads on
// (see maxControlQueue), so that a peer that does not read our answers is slowed down;
// handlers' answers (pushAlways) never wait, as a handler may serve others.
type controlQueue struct {
	mu     sync.Mutex
	items  []control
	spare  []control
	signal chan struct{} // capacity 1: there are items
	space  chan struct{} // capacity 1: take made room
}

// control is one response (or generic_nack) to write; then, if set, ends the session once
// it is flushed.
type control struct {
	id     CommandID
	status Status
	seq    uint32
	then   error
}

// full reports whether push would refuse an item now.
func (q *controlQueue) full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) >= maxControlQueue
}

// push queues c and reports false if the queue is full.
func (q *controlQueue) push(c control) bool { return q.add(c, maxControlQueue) }

// pushAlways queues c whatever the queue's length (see answer).
func (q *controlQueue) pushAlways(c control) { q.add(c, math.MaxInt) }

// add queues c unless limit items are queued, and reports whether it did.
func (q *controlQueue) add(c control, limit int) bool {
	q.mu.Lock()
	if len(q.items) >= limit {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, c)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued items; they stay valid until the next take.
func (q *controlQueue) take() []control {
	q.mu.Lock()
	items := q.items
	q.items = q.spare[:0]
	q.spare = items
	q.mu.Unlock()
	if len(items) > 0 {
		select {
		case q.space <- struct{}{}:
		default:
		}
	}
	return items
}
