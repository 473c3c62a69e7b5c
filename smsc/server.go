// Package smsc is an SMPP 3.4 SMSC simulator for tests, demos and campaign rehearsals, in the
// spirit of net/http/httptest: start it on 127.0.0.1:0, point a client at Addr, inspect what
// it received with Messages and Stats, Close it.
//
// It answers bind_transmitter/receiver/transceiver, submit_sm, data_sm, enquire_link and
// unbind, accepts deliver_sm_resp for the delivery receipts it sends, and answers anything
// else with generic_nack. Config adds deterministic outcomes (rejected, undeliverable or
// expired destinations) and the faults of real carriers: throttling, full queues, slow
// responses, dropped connections, unbinds and a dead peer.
package smsc

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"smscast/smpp/coding"
)

// Server is a running simulator. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	ln   net.Listener
	cert *x509.Certificate

	ids      idGenerator
	adm      admission
	rec      recorder
	receipts receiptQueue
	log      *messageLog // nil without Config.Log

	dropAt, unbindAt, forgetAt map[int64]bool // positions in the server-wide accepted count

	sessions, bindFailures, genericNacks atomic.Int64
	boundNow                             atomic.Int64 // sessions bound at the moment (Config.MaxBinds)

	replyMu                 sync.Mutex
	replyRefs               map[string]uint8 // the last concatenation reference of each replying handset
	drops, unbinds, forgets atomic.Int64
	// enquire_link probes (Config.EnquireLinkInterval)
	enquireLinksSent, enquireLinksAnswered, enquireLinkDrops atomic.Int64
	maxOutstanding                                           atomic.Int64

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool

	connWG    sync.WaitGroup // the accept loop and every connection's goroutines
	wg        sync.WaitGroup // the background goroutines: receipts and log
	done      chan struct{}  // closed by Close once every connection is gone
	closeOnce sync.Once
	closeErr  error
}

// NewServer starts a simulator listening on cfg.Listen (127.0.0.1:0 by default). Close it
// when done.
func NewServer(cfg Config) (*Server, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, fmt.Errorf("smsc: %w", err)
	}
	tlsConf, cert, err := cfg.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("smsc: %w", err)
	}
	if cfg.ReplyText != "" {
		if _, err := coding.SplitText(cfg.ReplyText, coding.Options{Split: coding.SplitUDH}); err != nil {
			return nil, fmt.Errorf("smsc: reply text: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		hint := "give a HOST:PORT such as 127.0.0.1:2775"
		if errors.Is(err, syscall.EADDRINUSE) {
			hint = "is another simulator running there? use port 0 for any free port"
		}
		return nil, fmt.Errorf("smsc: listen on %s (%s): %w", cfg.Listen, hint, err)
	}
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		cert:     cert,
		ids:      newIDGenerator(cfg.FirstID),
		adm:      admission{throttleTPS: cfg.ThrottleTPS, queueFullAfter: cfg.QueueFullAfter},
		dropAt:   positions(cfg.DropAfter),
		unbindAt: positions(cfg.UnbindAfter),
		forgetAt: positions(cfg.ForgetBindAfter),
		conns:    make(map[*conn]struct{}),
		done:     make(chan struct{}),
	}
	s.replyRefs = make(map[string]uint8)
	if tlsConf != nil {
		s.ln = tls.NewListener(ln, tlsConf)
	}
	s.receipts.init(cfg)
	if cfg.Log != nil {
		s.log = newMessageLog(cfg.Log, cfg.GSM7Packed)
	}
	s.rec.init(cfg.DiscardMessages, cfg.GSM7Packed, s.log)

	s.wg.Add(1)
	go func() { defer s.wg.Done(); s.receipts.run(s.done) }()
	s.connWG.Add(1)
	go func() { defer s.connWG.Done(); s.acceptLoop() }()
	if s.log != nil {
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.log.run(s.done) }()
	}
	return s, nil
}

func positions(list []int) map[int64]bool {
	m := make(map[int64]bool, len(list))
	for _, n := range list {
		m[int64(n)] = true
	}
	return m
}

// Addr returns the address the server listens on, e.g. "127.0.0.1:40123".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Certificate returns the certificate the server presents over TLS (the throwaway one with
// Config.TLSSelfSigned), or nil for plain TCP. Add it to a client's RootCAs to trust it.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Close stops listening, closes every connection without unbind, writes the incomplete
// multipart messages to Config.Log, and waits for every goroutine the server started. It
// returns the first error writing Config.Log, if any. Calling it again returns the same.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]*conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		s.ln.Close()
		for _, c := range conns {
			c.close()
		}
		s.connWG.Wait()
		// No part can arrive any more: what is still waiting for parts is final.
		s.rec.closeOpenGroups()
		close(s.done)
		s.wg.Wait()
		if s.log != nil {
			s.closeErr = s.log.err()
		}
	})
	return s.closeErr
}

// acceptLoop serves each connection in its own goroutine until the listener is closed.
func (s *Server) acceptLoop() {
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or similar: wait a little instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			t := time.NewTimer(backoff)
			select {
			case <-s.done:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.track(c) {
			nc.Close()
			return
		}
		s.connWG.Add(1)
		go func() { defer s.connWG.Done(); c.serve() }()
	}
}

// track registers a connection so that Close can reach it; false once Close has begun.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// noteOutstanding raises the server-wide largest window to n if it is larger.
func (s *Server) noteOutstanding(n int64) {
	for {
		cur := s.maxOutstanding.Load()
		if n <= cur || s.maxOutstanding.CompareAndSwap(cur, n) {
			return
		}
	}
}
