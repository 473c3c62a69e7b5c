package smsc

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"smscast/smpp"
)

// simSystemID is the system_id the simulator gives in bind responses.
const simSystemID = "smscast"

// readBufSize is the reader's buffer: big enough that a pipelined window of submit_sm
// arrives in one read.
const readBufSize = 64 << 10

// conn is one client connection: a reader goroutine (serve) that handles requests in order,
// and a writer goroutine (outbox.writeLoop) that owns writes to nc.
type conn struct {
	srv *Server
	nc  net.Conn
	out *outbox

	// Session state, owned by the reader goroutine.
	bound     bool
	mode      smpp.BindMode
	systemID  string
	unbinding bool // the simulator sent unbind, or the client did: no more submits
	// legacy: bound with an interface_version below 0x34 (SMPP 3.3 or older), which has no
	// TLVs: nothing sent to it carries one. Set before the session takes receipts.
	legacy bool
	maxOut int64
	// wakeReceipts: this batch scheduled a receipt that the sender must be woken for.
	wakeReceipts bool

	outstanding atomic.Int64  // submit_sm/data_sm received minus responses handed to the writer
	heldBack    atomic.Bool   // the reader waits for the client to read its responses
	seq         atomic.Uint32 // sequence numbers of PDUs the simulator originates
	// Probes (Config.EnquireLinkInterval): probing is set while the session is bound and
	// not ending; probeSeq is the sequence number of the enquire_link awaiting its answer,
	// 0 when none does.
	probing  atomic.Bool
	probeSeq atomic.Uint32

	// inflight maps the sequence number of each receipt sent on this connection and not
	// yet answered to the receipt; guarded by srv.receipts.mu.
	inflight map[uint32]*receipt

	// Reused bodies: decoding into and encoding from a field does not allocate.
	sm          smpp.SubmitSM
	deliverResp smpp.DeliverSMResp
	submitResp  smpp.SubmitSMResp
	dataResp    smpp.DataSMResp

	unbindTimer *time.Timer // set by startUnbind; reader-owned
	closeOnce   sync.Once
	done        chan struct{} // closed by close
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{srv: s, nc: nc, out: newOutbox(s.cfg.RespDelay), done: make(chan struct{})}
}

// close tears the connection down at once, like a crash: no unbind, queued PDUs dropped.
func (c *conn) close() {
	c.closeOnce.Do(func() {
		close(c.done)
		c.nc.Close()
	})
}

// nextSeq returns the next sequence number for a PDU the simulator originates: 1 up to
// 0x7FFFFFFF, then 1 again.
func (c *conn) nextSeq() uint32 {
	for {
		old := c.seq.Load()
		next := old + 1
		if next > 0x7FFFFFFF {
			next = 1
		}
		if c.seq.CompareAndSwap(old, next) {
			return next
		}
	}
}

// serve runs the connection to its end: it starts the writer, reads and handles requests
// until the client leaves or something closes the connection, then releases the session.
func (c *conn) serve() {
	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		defer c.close() // a write error or the final flush ends the reader too
		c.out.writeLoop(c.nc, c.done, func(n int64) { c.outstanding.Add(-n) })
	}()
	var prober sync.WaitGroup
	if d := c.srv.cfg.EnquireLinkInterval; d > 0 {
		prober.Go(func() { c.probeLoop(d) })
	}
	c.readLoop()
	c.flush()
	c.out.finish()
	writer.Wait()
	c.close()
	prober.Wait()
	if c.unbindTimer != nil {
		c.unbindTimer.Stop()
	}
	c.srv.receipts.connGone(c)
	c.srv.untrack(c)
	if c.bound {
		c.srv.boundNow.Add(-1)
	}
}

// readLoop reads and handles PDUs until the stream ends, breaks, or the session is over.
func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, readBufSize)
	var buf []byte
	if t := c.srv.cfg.SessionInitTimeout; t > 0 {
		// Cleared by bind; a read that times out before then ends the connection.
		_ = c.nc.SetReadDeadline(time.Now().Add(t))
	}
	for {
		pdu, err := smpp.ReadPDU(br, buf, c.srv.cfg.MaxPDULen)
		if err != nil {
			var pe *smpp.ProtocolError
			if errors.As(err, &pe) {
				// A bad command_length: the stream is out of step, nothing after it can be
				// trusted. Say why, then close.
				c.nack(0, pe.Status)
			}
			return
		}
		buf = pdu
		if !c.handle(pdu) {
			return
		}
		if !smpp.PDUBuffered(br) || c.out.queued() >= flushThreshold {
			c.flush()
		}
		if !c.waitForRoom() {
			return
		}
	}
}

// flush wakes the writer, and the receipt sender if this batch of requests scheduled
// receipts for it.
func (c *conn) flush() {
	c.out.kick()
	if c.wakeReceipts {
		c.wakeReceipts = false
		c.srv.receipts.kick()
	}
}

// waitForRoom blocks while the client leaves too many responses unread, so a client that
// writes without reading cannot grow the simulator's memory. It reports false when the
// connection is closing.
func (c *conn) waitForRoom() bool {
	for c.out.queued() >= maxQueued {
		c.out.kick()
		c.heldBack.Store(true)
		select {
		case <-c.out.drained:
		case <-c.done:
			return false
		}
		c.heldBack.Store(false)
	}
	return true
}

// handle answers one PDU. It reports false when the reader should stop: the session is
// over or the connection was dropped.
func (c *conn) handle(pdu []byte) bool {
	h, p, err := c.decode(pdu)
	if err != nil {
		if h.ID.IsResponse() {
			return true // never answer a response, even a broken one
		}
		status := smpp.StatusSysErr
		var pe *smpp.ProtocolError
		if errors.As(err, &pe) {
			status = pe.Status
		}
		c.nack(h.Sequence, status)
		return true
	}
	switch p := p.(type) {
	case *smpp.Bind:
		return c.bind(h, p)
	case *smpp.SubmitSM:
		return c.submit(h, submission{
			cmd: smpp.SubmitSMID, serviceType: p.ServiceType,
			src: Address{TON: p.SourceAddrTON, NPI: p.SourceAddrNPI, Addr: p.SourceAddr},
			dst: Address{TON: p.DestAddrTON, NPI: p.DestAddrNPI, Addr: p.DestinationAddr},
			esm: p.ESMClass, regDelivery: p.RegisteredDelivery, dataCoding: p.DataCoding,
			shortMessage: p.ShortMessage, tlvs: p.TLVs,
			schedule: p.ScheduleDeliveryTime, validity: p.ValidityPeriod,
			priority: p.PriorityFlag, replaceIfPresent: p.ReplaceIfPresentFlag,
		})
	case *smpp.DataSM:
		return c.submit(h, submission{
			cmd: smpp.DataSMID, serviceType: p.ServiceType,
			src: Address{TON: p.SourceAddrTON, NPI: p.SourceAddrNPI, Addr: p.SourceAddr},
			dst: Address{TON: p.DestAddrTON, NPI: p.DestAddrNPI, Addr: p.DestinationAddr},
			esm: p.ESMClass, regDelivery: p.RegisteredDelivery, dataCoding: p.DataCoding,
			tlvs: p.TLVs,
		})
	case *smpp.EnquireLink:
		if !c.srv.cfg.NoEnquireResp {
			c.respond(h.Sequence, smpp.StatusOK, &smpp.EnquireLinkResp{}, false)
		}
	case *smpp.Unbind:
		// Receipts stop first: none may be queued behind the unbind_resp, which must be the
		// last PDU. Those in flight unacknowledged go to the next session.
		c.leaveReceipts()
		c.respond(h.Sequence, smpp.StatusOK, &smpp.UnbindResp{}, false)
		return false
	case *smpp.EnquireLinkResp:
		// Any status proves the client alive; an answer to no probe of ours is ignored.
		if h.Sequence != 0 && c.probeSeq.CompareAndSwap(h.Sequence, 0) {
			c.srv.enquireLinksAnswered.Add(1)
		}
	case *smpp.UnbindResp:
		if c.unbinding {
			return false // the answer to our unbind: the session is over
		}
	case *smpp.DeliverSMResp:
		c.srv.receipts.answered(c, h.Sequence, h.Status, true)
	case *smpp.GenericNack:
		// A client's generic_nack for one of our receipts refuses it.
		c.srv.receipts.answered(c, h.Sequence, h.Status, false)
	default:
		if !h.ID.IsResponse() {
			// deliver_sm, outbind and the like: not something a client sends an SMSC.
			c.nack(h.Sequence, smpp.StatusInvCmdID)
		}
		// Other responses (enquire_link_resp, ...) need nothing.
	}
	return true
}

// decode is smpp.Decode, except that submit_sm and deliver_sm_resp, most of the traffic,
// are decoded into bodies the connection reuses (their fields are fresh copies each time, so
// records may keep them).
func (c *conn) decode(pdu []byte) (smpp.Header, smpp.PDU, error) {
	h, err := smpp.DecodeHeader(pdu)
	var p smpp.PDU
	switch {
	case err != nil || int(h.Length) != len(pdu):
	case h.ID == smpp.SubmitSMID:
		p = &c.sm
	case h.ID == smpp.DeliverSMRespID && len(pdu) > smpp.HeaderLen: // a bodiless one is Decode's case
		p = &c.deliverResp
	}
	if p == nil {
		return smpp.Decode(pdu)
	}
	if err := p.DecodeBody(pdu[smpp.HeaderLen:]); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// respond queues a response; a body that cannot be encoded (a bug, not the client's fault)
// becomes a generic_nack ESME_RSYSERR so that the client still gets an answer.
func (c *conn) respond(seq uint32, status smpp.Status, p smpp.PDU, counted bool) {
	if err := c.out.respond(seq, status, p, counted); err != nil {
		c.out.respond(seq, smpp.StatusSysErr, nil, counted)
	}
}

// request queues a PDU the simulator originates (a receipt or a reply), without its TLVs for
// a legacy (SMPP 3.3) session or when the simulator announces no TLV support
// (Config.NoInterfaceVersion); p is left as it was.
func (c *conn) request(seq uint32, p *smpp.DeliverSM) (bool, error) {
	if !(c.legacy || c.srv.cfg.NoInterfaceVersion) || len(p.TLVs) == 0 {
		return c.out.request(seq, p)
	}
	tlvs := p.TLVs
	p.TLVs = nil
	defer func() { p.TLVs = tlvs }()
	return c.out.request(seq, p)
}

// nack answers an unhandled or malformed request with generic_nack.
func (c *conn) nack(seq uint32, status smpp.Status) {
	c.srv.genericNacks.Add(1)
	c.respond(seq, status, nil, false)
}

// bind handles bind_transmitter, bind_receiver and bind_transceiver. A refused bind is
// answered and the connection closed, as many SMSCs do, so a client cannot try passwords
// on one connection.
func (c *conn) bind(h smpp.Header, b *smpp.Bind) bool {
	resp := &smpp.BindResp{Mode: b.Mode}
	if c.bound {
		c.srv.bindFailures.Add(1)
		c.respond(h.Sequence, smpp.StatusAlyBnd, resp, false)
		return true
	}
	if st := c.srv.checkCredentials(b.SystemID, b.Password); st != smpp.StatusOK {
		c.srv.bindFailures.Add(1)
		c.respond(h.Sequence, st, resp, false)
		return false
	}
	if n := c.srv.boundNow.Add(1); c.srv.cfg.MaxBinds > 0 && n > int64(c.srv.cfg.MaxBinds) {
		c.srv.boundNow.Add(-1)
		c.srv.bindFailures.Add(1)
		c.respond(h.Sequence, smpp.StatusAlyBnd, resp, false)
		return false
	}
	c.bound, c.mode, c.systemID = true, b.Mode, b.SystemID
	c.legacy = b.InterfaceVersion < 0x34
	_ = c.nc.SetReadDeadline(time.Time{}) // the session_init_timer is over
	c.srv.sessions.Add(1)
	resp.SystemID = simSystemID
	if !c.srv.cfg.NoInterfaceVersion && !c.legacy {
		resp.TLVs.SetUint8(smpp.TagSCInterfaceVersion, 0x34)
	}
	c.respond(h.Sequence, smpp.StatusOK, resp, false)
	if b.Mode != smpp.BindTransmitter {
		c.srv.receipts.addReceiver(c)
	}
	c.probing.Store(true)
	return true
}

// checkCredentials checks a bind against Config.SystemID and Config.Password (in constant
// time): ESME_RINVSYSID for an unknown system id, else ESME_RINVPASWD for a wrong password.
func (s *Server) checkCredentials(systemID, password string) smpp.Status {
	pwOK := s.cfg.Password == "" ||
		subtle.ConstantTimeCompare([]byte(password), []byte(s.cfg.Password)) == 1
	switch {
	case s.cfg.SystemID != "" && systemID != s.cfg.SystemID:
		return smpp.StatusInvSysID
	case !pwOK:
		return smpp.StatusInvPaswd
	}
	return smpp.StatusOK
}

// leaveReceipts stops routing receipts to this session; the ones in flight are sent again
// elsewhere once the connection is gone.
func (c *conn) leaveReceipts() {
	c.unbinding = true
	c.probing.Store(false)
	if c.bound && c.mode != smpp.BindTransmitter {
		c.srv.receipts.removeReceiver(c)
	}
}

// probeLoop sends enquire_link every interval while the session is bound, and closes the
// connection, as a carrier drops a client it takes for dead, when a probe is still
// unanswered interval plus Config.RespDelay after it was queued.
func (c *conn) probeLoop(interval time.Duration) {
	t := time.NewTimer(interval)
	defer t.Stop()
	patience := interval + c.srv.cfg.RespDelay
	var sentAt time.Time
	for {
		var now time.Time
		select {
		case <-c.done:
			return
		case now = <-t.C:
		}
		if c.probeSeq.Load() != 0 {
			if wait := sentAt.Add(patience).Sub(now); wait > 0 {
				t.Reset(wait)
				continue
			}
			c.srv.enquireLinkDrops.Add(1)
			c.close()
			return
		}
		if c.probing.Load() {
			seq := c.nextSeq()
			c.probeSeq.Store(seq) // before it can be written, so its answer always finds it
			if ok, err := c.out.request(seq, &smpp.EnquireLink{}); !ok || err != nil {
				return // the connection is closing
			}
			sentAt = now
			c.out.kick()
			c.srv.enquireLinksSent.Add(1)
		}
		t.Reset(interval)
	}
}

// startUnbind sends unbind (Config.UnbindAfter). Submits that follow are refused; the
// connection closes when unbind_resp arrives or after unbindTimeout.
func (c *conn) startUnbind() {
	c.leaveReceipts()
	c.srv.unbinds.Add(1)
	if ok, _ := c.out.request(c.nextSeq(), &smpp.Unbind{}); ok {
		c.out.kick()
		c.unbindTimer = time.AfterFunc(unbindTimeout, c.close)
	}
}

// noteRequest counts a submit_sm or data_sm as outstanding until its response is written.
func (c *conn) noteRequest() {
	if n := c.outstanding.Add(1); n > c.maxOut {
		c.maxOut = n
		c.srv.noteOutstanding(n)
	}
}
