package send

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smscast/csvin"
	"smscast/report"
	"smscast/smpp"
	"smscast/smpp/coding"
	"smscast/smsc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// rowSource is a Source over rows made in the test.
type rowSource struct {
	rows []csvin.Row
	next int
}

func (s *rowSource) Next() (csvin.Row, error) {
	if s.next >= len(s.rows) {
		return csvin.Row{}, io.EOF
	}
	s.next++
	return s.rows[s.next-1], nil
}

// testRows returns n rows to numbers 4917100000001, 4917100000002, ... with text (a %d in it
// is replaced by the row number), split as send would get them from csvin.
func testRows(t testing.TB, n int, text string) []csvin.Row {
	t.Helper()
	rows := make([]csvin.Row, n)
	for i := range rows {
		num := i + 1
		msg := text
		if containsVerb(text) {
			msg = fmt.Sprintf(text, num)
		}
		m, err := coding.SplitText(msg, coding.Options{Ref: uint16(num)})
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = csvin.Row{
			Num: num, Line: num + 1, MSISDN: fmt.Sprintf("49171%08d", num), Template: "t",
			From: "smscast", SourceTON: 5, SourceNPI: 0, Text: msg, Message: m,
		}
	}
	return rows
}

func containsVerb(s string) bool {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 'd' {
			return true
		}
	}
	return false
}

// newSim starts a simulator and closes it when the test ends.
func newSim(t testing.TB, cfg smsc.Config) *smsc.Server {
	t.Helper()
	srv, err := smsc.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// testConfig is a campaign config for srv with fast timers.
func testConfig(srv *smsc.Server) Config {
	return Config{
		Addr: srv.Addr(),
		Session: smpp.Options{
			Bind:        smpp.Bind{SystemID: "test", Password: "secret"},
			Window:      5,
			RespTimeout: 2 * time.Second,
		},
		Retry:       Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		Reconnect:   Backoff{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond},
		GiveUpAfter: 5 * time.Second,
		Book:        report.NewBook(report.Options{}),
	}
}

// eventLog collects events for assertions.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) count(k EventKind) int {
	return l.countOf(func(e Event) bool { return e.Kind == k })
}

// countOf counts the events that match.
func (l *eventLog) countOf(match func(Event) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if match(e) {
			n++
		}
	}
	return n
}

// run runs a campaign over rows with a time limit, failing the test if it does not end.
func run(t testing.TB, cfg Config, rows []csvin.Row) (Result, error) {
	t.Helper()
	_, res, err := runCampaign(t, cfg, rows)
	return res, err
}

// runCampaign is run that also returns the campaign, for a look at its state afterwards.
func runCampaign(t testing.TB, cfg Config, rows []csvin.Row) (*Campaign, Result, error) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := c.Run(ctx, &rowSource{rows: rows})
	if ctx.Err() != nil {
		t.Fatal("campaign did not finish within 60s")
	}
	return c, res, err
}

// runResult is what a campaign started by startRun returned.
type runResult struct {
	Result
	Err error
}

// startRun makes a campaign of cfg and runs it on rows in a goroutine under ctx (the
// caller's, which bounds it); the channel delivers Run's outcome once it returns.
func startRun(t testing.TB, ctx context.Context, cfg Config, rows []csvin.Row) (*Campaign, <-chan runResult) {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan runResult, 1)
	go func() {
		res, err := c.Run(ctx, &rowSource{rows: rows})
		done <- runResult{res, err}
	}()
	return c, done
}

// bookRows returns every row of the book by number.
func bookRows(b *report.Book) map[int]report.Row {
	m := map[int]report.Row{}
	for r := range b.Rows() {
		m[r.Row] = r
	}
	return m
}

// acceptEach serves every connection to a new listener on 127.0.0.1 with serve, in the
// accepting goroutine, and returns its address. The listener (kept, so that no other test
// on the machine takes the port) and the connections are closed when the test ends.
func acceptEach(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			serve(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// wantNotSent fails the test for every row of book that is not not_sent.
func wantNotSent(t testing.TB, book *report.Book) {
	t.Helper()
	for n, r := range bookRows(book) {
		if r.SubmitStatus != report.SubmitNotSent {
			t.Errorf("row %d: %s (%s), want not_sent", n, r.SubmitStatus, r.SubmitError)
		}
	}
}

// sentCount counts the messages the simulator accepted per destination.
func sentCount(srv *smsc.Server) map[string]int {
	m := map[string]int{}
	for _, msg := range srv.Messages() {
		m[msg.Destination.Addr]++
	}
	return m
}

// checkAllAccepted fails unless every row is accepted (or resubmitted) and the simulator has
// each destination at least once.
func checkAllAccepted(t testing.TB, book *report.Book, srv *smsc.Server, rows []csvin.Row) {
	t.Helper()
	got := bookRows(book)
	sent := sentCount(srv)
	for _, r := range rows {
		br := got[r.Num]
		if br.SubmitStatus != report.SubmitAccepted && br.SubmitStatus != report.SubmitResubmitted {
			t.Errorf("row %d: %s %q, want accepted", r.Num, br.SubmitStatus, br.SubmitError)
		}
		if sent[r.MSISDN] == 0 {
			t.Errorf("row %d (%s) never reached the SMSC", r.Num, r.MSISDN)
		}
	}
}

// windowProxy sits between the engine and the simulator and measures, per connection, the
// largest number of submit_sm sent and not yet answered. It counts a response before passing
// it on, so the client cannot have sent its next submit before the count went down: the
// figure is exact, where a server can only see a lower bound.
type windowProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	max    int
	conns  []net.Conn
	wg     sync.WaitGroup
	// holdFirst, when set, holds back the first submit_sm_resp until the client has sent
	// its next submit_sm: the client must time out and resend before the answer arrives.
	holdFirst bool
	resent    chan struct{} // closed when the second submit_sm passes
	// refuseRebinds answers that many bind attempts after the first connection with
	// ESME_RBINDFAIL, like an SMSC that still holds the dropped bind.
	refuseRebinds int
	accepted      int // connections accepted so far
	// refuseReceivers answers every bind_receiver with ESME_RBINDFAIL, like an account
	// allowed no receiver; receiversRefused counts them. Both under mu.
	refuseReceivers  bool
	receiversRefused int
	bindsOf          map[smpp.CommandID]int // binds that passed, by operation
	// refuseSubmits, when set, replaces the status of every submit_sm_resp (under mu, read
	// when a connection is accepted): an SMSC that refuses everything on every session.
	refuseSubmits smpp.Status
	// blankIDs, when set, empties the message_id of every submit_sm_resp (its first octet
	// becomes the NUL; the rest is junk the client drops), like an SMSC that gives none.
	blankIDs bool
	// wrongResponses, when set, turns that many submit_sm_resp into deliver_sm_resp, like an
	// SMSC that answers with the wrong command.
	wrongResponses int
	// bindSeen, when set, is closed when bind number holdBind (1 = the first; 0 counts as
	// 1) reaches the proxy, which holds it back until releaseBind is closed: the client
	// waits for its bind meanwhile.
	bindSeen, releaseBind chan struct{}
	holdBind, binds       int
}

func newWindowProxy(t testing.TB, target string) *windowProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &windowProxy{ln: ln, target: target, resent: make(chan struct{}), bindsOf: map[smpp.CommandID]int{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *windowProxy) Addr() string { return p.ln.Addr().String() }

// proxiedConfig is testConfig for srv reached through a windowProxy, returned to be set up
// (before the campaign runs).
func proxiedConfig(t testing.TB, srv *smsc.Server) (Config, *windowProxy) {
	t.Helper()
	proxy := newWindowProxy(t, srv.Addr())
	cfg := testConfig(srv)
	cfg.Addr = proxy.Addr()
	return cfg, proxy
}

// holdBind returns a config for srv whose bind number n (1 = the first) a proxy holds back
// until release is called; held returns once that bind has reached the proxy.
func holdBind(t *testing.T, srv *smsc.Server, n int) (cfg Config, held func(context.Context), release func()) {
	t.Helper()
	cfg, proxy := proxiedConfig(t, srv)
	proxy.bindSeen, proxy.releaseBind, proxy.holdBind = make(chan struct{}), make(chan struct{}), n
	held = func(ctx context.Context) {
		t.Helper()
		select {
		case <-proxy.bindSeen:
		case <-ctx.Done():
			t.Fatalf("bind %d never reached the SMSC", n)
		}
	}
	return cfg, held, func() { close(proxy.releaseBind) }
}

func (p *windowProxy) Max() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.max
}

func (p *windowProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.accepted++
		refuse := p.accepted > 1 && p.refuseRebinds > 0
		if refuse {
			p.refuseRebinds--
		}
		refuseReceivers, refuseSubmits, blankIDs, wrong := p.refuseReceivers, p.refuseSubmits, p.blankIDs, p.wrongResponses
		p.mu.Unlock()
		if refuse {
			refuseBind(client, smpp.StatusBindFail)
			continue
		}
		var bindPDU []byte // read here to see whose bind it is; forwarded below
		if refuseReceivers {
			pdu, err := smpp.ReadPDU(client, nil, 0)
			h, herr := smpp.DecodeHeader(pdu)
			if err != nil || herr != nil {
				client.Close()
				continue
			}
			if h.ID == smpp.BindReceiverID {
				p.mu.Lock()
				p.receiversRefused++
				p.mu.Unlock()
				answerBind(client, h, smpp.StatusBindFail)
				client.Close()
				continue
			}
			bindPDU = pdu
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if bindPDU != nil {
			if _, err := server.Write(bindPDU); err != nil {
				client.Close()
				server.Close()
				continue
			}
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		var outstanding, submits, resps atomic.Int64
		p.wg.Add(2)
		go p.pipe(client, server, func(h smpp.Header, _ []byte) {
			isBind := h.ID == smpp.BindTransceiverID || h.ID == smpp.BindTransmitterID || h.ID == smpp.BindReceiverID
			if isBind {
				p.mu.Lock()
				p.bindsOf[h.ID]++
				p.mu.Unlock()
			}
			if isBind && p.bindSeen != nil {
				p.mu.Lock()
				p.binds++
				hold := p.binds == max(p.holdBind, 1)
				if hold {
					close(p.bindSeen)
				}
				p.mu.Unlock()
				if hold {
					<-p.releaseBind
				}
			}
			if h.ID == smpp.SubmitSMID {
				n := int(outstanding.Add(1))
				p.mu.Lock()
				p.max = max(p.max, n)
				p.mu.Unlock()
				if submits.Add(1) == 2 && p.holdFirst {
					close(p.resent)
				}
			}
		})
		go p.pipe(server, client, func(h smpp.Header, pdu []byte) {
			if h.ID == smpp.SubmitSMRespID && refuseSubmits != 0 {
				binary.BigEndian.PutUint32(pdu[8:12], uint32(refuseSubmits))
			}
			if h.ID == smpp.SubmitSMRespID && blankIDs && len(pdu) > smpp.HeaderLen {
				pdu[smpp.HeaderLen] = 0
			}
			if h.ID == smpp.SubmitSMRespID && wrong > 0 {
				wrong--
				binary.BigEndian.PutUint32(pdu[4:8], uint32(smpp.DeliverSMRespID))
			}
			if h.ID == smpp.SubmitSMRespID || h.ID == smpp.GenericNackID {
				outstanding.Add(-1)
				if resps.Add(1) == 1 && p.holdFirst {
					<-p.resent
				}
			}
		})
	}
}

// refuseBind reads a bind and answers it with status st, then closes the connection.
func refuseBind(c net.Conn, st smpp.Status) {
	defer c.Close()
	pdu, err := smpp.ReadPDU(c, nil, 0)
	if err != nil {
		return
	}
	h, err := smpp.DecodeHeader(pdu)
	if err != nil {
		return
	}
	answerBind(c, h, st)
}

// answerBind answers the bind h with status st and no body.
func answerBind(c net.Conn, h smpp.Header, st smpp.Status) {
	resp := binary.BigEndian.AppendUint32(nil, smpp.HeaderLen)
	resp = binary.BigEndian.AppendUint32(resp, uint32(h.ID)|0x80000000)
	resp = binary.BigEndian.AppendUint32(resp, uint32(st))
	resp = binary.BigEndian.AppendUint32(resp, h.Sequence)
	c.Write(resp)
}

// pipe copies PDUs from src to dst, calling see before forwarding each one (it may change
// the PDU in place).
func (p *windowProxy) pipe(src, dst net.Conn, see func(smpp.Header, []byte)) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	var buf []byte
	for {
		pdu, err := smpp.ReadPDU(src, buf, 0)
		if err != nil {
			return
		}
		buf = pdu[:0]
		if h, err := smpp.DecodeHeader(pdu); err == nil {
			see(h, pdu)
		}
		if _, err := dst.Write(pdu); err != nil {
			return
		}
	}
}

func (p *windowProxy) close() {
	p.ln.Close()
	if p.holdFirst {
		select {
		case <-p.resent:
		default:
			close(p.resent) // never resent: let the held answer go
		}
	}
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
