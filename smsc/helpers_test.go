package smsc

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smscast/smpp"
	"smscast/smpp/coding"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testTimeout bounds every wait in these tests; it is a safety net, not an assertion.
const testTimeout = 20 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a simulator closed at the end of the test.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

// inbox collects what the simulator delivers to a session and answers with a status that
// the test chooses per PDU (StatusOK by default).
type inbox struct {
	mu     sync.Mutex
	pdus   []*smpp.DeliverSM
	answer func(n int, p *smpp.DeliverSM) smpp.Status // n counts from 1
	signal chan struct{}
}

func newInbox() *inbox { return &inbox{signal: make(chan struct{}, 1)} }

func (in *inbox) handle(_ context.Context, p smpp.PDU) smpp.Status {
	d, ok := p.(*smpp.DeliverSM)
	if !ok {
		return smpp.StatusOK
	}
	in.mu.Lock()
	in.pdus = append(in.pdus, d)
	n, answer := len(in.pdus), in.answer
	in.mu.Unlock()
	select {
	case in.signal <- struct{}{}:
	default:
	}
	if answer != nil {
		return answer(n, d)
	}
	return smpp.StatusOK
}

// wait returns once at least n PDUs arrived, failing the test after testTimeout.
func (in *inbox) wait(t *testing.T, n int) []*smpp.DeliverSM {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		in.mu.Lock()
		got := append([]*smpp.DeliverSM(nil), in.pdus...)
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-in.signal:
		case <-deadline.C:
			t.Fatalf("waited for %d deliver_sm, got %d", n, len(got))
		}
	}
}

// waitReceipt returns the receipt for message id once it arrived.
func (in *inbox) waitReceipt(t *testing.T, id string) *smpp.DeliverSM {
	t.Helper()
	for n := 1; ; n++ {
		for _, d := range in.wait(t, n) {
			if rc, err := smpp.ReceiptFromDeliverSM(d); err == nil && rc.ID == id {
				return d
			}
		}
	}
}

func (in *inbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.pdus)
}

// dial binds a session to srv, closed at the end of the test.
func dial(t *testing.T, srv *Server, opt smpp.Options) *smpp.Session {
	t.Helper()
	if opt.Bind.SystemID == "" {
		opt.Bind.SystemID = "tester"
	}
	if opt.BindTimeout == 0 {
		opt.BindTimeout = testTimeout
	}
	if opt.RespTimeout == 0 {
		opt.RespTimeout = testTimeout
	}
	s, err := smpp.Dial(testContext(t), srv.Addr(), opt)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// textSubmits encodes text as the submit_sm PDUs smscast would send.
func textSubmits(t *testing.T, from, to, text string, opt coding.Options, regDelivery uint8) []*smpp.SubmitSM {
	t.Helper()
	msg, err := coding.SplitText(text, opt)
	if err != nil {
		t.Fatalf("SplitText(%q): %v", text, err)
	}
	pdus := make([]*smpp.SubmitSM, len(msg.Parts))
	for i, part := range msg.Parts {
		p := &smpp.SubmitSM{
			SourceAddrTON: 5, SourceAddr: from,
			DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: to,
			ESMClass: part.ESMClass, RegisteredDelivery: regDelivery,
			DataCoding: msg.DataCoding, ShortMessage: part.ShortMessage,
		}
		if part.Payload != nil {
			p.TLVs.Set(smpp.TagMessagePayload, part.Payload)
		}
		if part.SARTotal > 0 {
			p.TLVs.SetUint16(smpp.TagSarMsgRefNum, part.SARRef)
			p.TLVs.SetUint8(smpp.TagSarTotalSegments, part.SARTotal)
			p.TLVs.SetUint8(smpp.TagSarSegmentSeqnum, part.SARSeq)
		}
		pdus[i] = p
	}
	return pdus
}

// submitAll submits pdus in order and returns their message ids.
func submitAll(t *testing.T, s *smpp.Session, pdus []*smpp.SubmitSM) []string {
	t.Helper()
	ids := make([]string, len(pdus))
	for i, p := range pdus {
		resp, err := s.Submit(testContext(t), p)
		if err != nil {
			t.Fatalf("Submit part %d: %v", i+1, err)
		}
		ids[i] = resp.MessageID
	}
	return ids
}

// submitText submits a GSM text with a receipt request to dest and returns its ids.
func submitText(t *testing.T, s *smpp.Session, dest, text string) []string {
	t.Helper()
	return submitAll(t, s, textSubmits(t, "Brand", dest, text, coding.Options{}, 1))
}

// statusOf returns the Status an error carries, or fails the test.
func statusOf(t *testing.T, err error) smpp.Status {
	t.Helper()
	var st smpp.Status
	if !errors.As(err, &st) {
		t.Fatalf("error %v carries no SMPP status", err)
	}
	return st
}

// rawConn is a hand-driven client for what the session would never send.
type rawConn struct {
	t   *testing.T
	nc  net.Conn
	buf []byte
	seq uint32
}

func dialRaw(t *testing.T, srv *Server) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", srv.Addr(), testTimeout)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testTimeout))
	return &rawConn{t: t, nc: nc}
}

// send writes one request and returns its sequence number.
func (r *rawConn) send(p smpp.PDU) uint32 {
	r.t.Helper()
	r.seq++
	b, err := smpp.AppendPDU(nil, r.seq, smpp.StatusOK, p)
	if err != nil {
		r.t.Fatalf("AppendPDU: %v", err)
	}
	r.write(b)
	return r.seq
}

func (r *rawConn) write(b []byte) {
	r.t.Helper()
	if _, err := r.nc.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// read reads and decodes the next PDU.
func (r *rawConn) read() (smpp.Header, smpp.PDU) {
	r.t.Helper()
	pdu, err := smpp.ReadPDU(r.nc, r.buf, 0)
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	r.buf = pdu
	h, p, err := smpp.Decode(pdu)
	if err != nil {
		r.t.Fatalf("decode %x: %v", pdu, err)
	}
	return h, p
}

// bind binds the raw connection as a transceiver and checks the answer.
func (r *rawConn) bind(mode smpp.BindMode) {
	r.t.Helper()
	r.send(&smpp.Bind{Mode: mode, SystemID: "raw", InterfaceVersion: 0x34})
	if h, _ := r.read(); h.Status != smpp.StatusOK {
		r.t.Fatalf("bind: %v", h.Status)
	}
}

// expectClosed reads until the server closes the connection, failing if more than max
// PDUs arrive first.
func (r *rawConn) expectClosed(max int) {
	r.t.Helper()
	for range max + 1 {
		if _, err := smpp.ReadPDU(r.nc, nil, 0); err != nil {
			return
		}
	}
	r.t.Fatalf("connection still open after %d PDUs", max+1)
}
