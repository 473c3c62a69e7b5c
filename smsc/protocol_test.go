package smsc

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

func TestServer_Protocol(t *testing.T) {
	submit := textSubmits(t, "B", "447020", "x", coding.Options{}, 0)[0]
	header := func(id smpp.CommandID, seq uint32, body ...byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(16+len(body)))
		b = binary.BigEndian.AppendUint32(b, uint32(id))
		b = binary.BigEndian.AppendUint32(b, 0)
		b = binary.BigEndian.AppendUint32(b, seq)
		return append(b, body...)
	}
	tests := []struct {
		name      string
		bind      bool
		send      []byte
		wantID    smpp.CommandID
		wantSeq   uint32
		want      smpp.Status
		wantClose bool
	}{
		{"submit before bind", false, mustPDU(t, 7, 0, submit), smpp.SubmitSMRespID, 7, smpp.StatusInvBndSts, false},
		{"data_sm before bind", false, mustPDU(t, 7, 0, &smpp.DataSM{DestinationAddr: "1"}), smpp.DataSMRespID, 7, smpp.StatusInvBndSts, false},
		{"bind twice", true, mustPDU(t, 7, 0, &smpp.Bind{SystemID: "again"}), smpp.BindTransceiverRespID, 7, smpp.StatusAlyBnd, false},
		{"unknown command", true, header(0x00000111, 9), smpp.GenericNackID, 9, smpp.StatusInvCmdID, false},
		{"query_sm", true, header(smpp.QuerySMID, 9, 'x', 0, 0, 0, 0), smpp.GenericNackID, 9, smpp.StatusInvCmdID, false},
		{"deliver_sm from a client", true, mustPDU(t, 9, 0, (*smpp.DeliverSM)(submit)), smpp.GenericNackID, 9, smpp.StatusInvCmdID, false},
		{"outbind from a client", true, mustPDU(t, 9, 0, &smpp.Outbind{SystemID: "x"}), smpp.GenericNackID, 9, smpp.StatusInvCmdID, false},
		{"truncated submit_sm", true, header(smpp.SubmitSMID, 11, 0, 1, 1), smpp.GenericNackID, 11, smpp.StatusInvCmdLen, false},
		{"source_addr too long", true, header(smpp.SubmitSMID, 12, append(append([]byte{0, 1, 1}, bytes.Repeat([]byte{'9'}, 30)...), 0)...), smpp.GenericNackID, 12, smpp.StatusInvSrcAdr, false},
		{"stray octets after the TLVs", true, withTail(mustPDU(t, 13, 0, submit), 0x02, 0x0C), smpp.GenericNackID, 13, smpp.StatusInvOptParStream, false},
		{"command_length 8", true, []byte{0, 0, 0, 8, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1}, smpp.GenericNackID, 0, smpp.StatusInvCmdLen, true},
		{"command_length 1 GiB", true, []byte{0x40, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1}, smpp.GenericNackID, 0, smpp.StatusInvCmdLen, true},
		{"unbind", true, mustPDU(t, 14, 0, &smpp.Unbind{}), smpp.UnbindRespID, 14, smpp.StatusOK, true},
		{"unbind before bind", false, mustPDU(t, 14, 0, &smpp.Unbind{}), smpp.UnbindRespID, 14, smpp.StatusOK, true},
	}
	srv := startServer(t, Config{MaxPDULen: 4096})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := dialRaw(t, srv)
			if tt.bind {
				r.bind(smpp.BindTransceiver)
			}
			r.write(tt.send)
			h, _ := r.read()
			if h.ID != tt.wantID || h.Sequence != tt.wantSeq || h.Status != tt.want {
				t.Fatalf("got %v seq %d %v, want %v seq %d %v", h.ID, h.Sequence, h.Status, tt.wantID, tt.wantSeq, tt.want)
			}
			// SMPP 3.4 sends failed bind and submit responses without a body.
			if h.Status != smpp.StatusOK && h.ID != smpp.DataSMRespID && h.Length != smpp.HeaderLen {
				t.Errorf("a failed %v of %d octets, want the 16-octet header only", h.ID, h.Length)
			}
			if tt.wantClose {
				r.expectClosed(0)
				return
			}
			// The connection still works.
			seq := r.send(&smpp.EnquireLink{})
			if h, _ := r.read(); h.ID != smpp.EnquireLinkRespID || h.Sequence != seq {
				t.Fatalf("after the error: got %v seq %d, want enquire_link_resp seq %d", h.ID, h.Sequence, seq)
			}
		})
	}
	if st := srv.Stats(); st.GenericNacks != 9 {
		t.Errorf("GenericNacks = %d, want 9", st.GenericNacks)
	}
}

// withTail appends octets to a PDU and fixes its command_length.
func withTail(pdu []byte, tail ...byte) []byte {
	pdu = append(pdu, tail...)
	binary.BigEndian.PutUint32(pdu, uint32(len(pdu)))
	return pdu
}

func TestServer_ResponsesFromClientAreNotAnswered(t *testing.T) {
	srv := startServer(t, Config{})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	r.write(mustPDU(t, 5, smpp.StatusOK, &smpp.SubmitSMResp{MessageID: "x"}))
	r.write(mustPDU(t, 6, smpp.StatusOK, &smpp.EnquireLinkResp{}))
	r.write([]byte{0, 0, 0, 17, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 7, 'x'}) // broken submit_sm_resp
	r.write(mustPDU(t, 8, smpp.StatusOK, &smpp.UnbindResp{}))                // not unbinding: ignored
	seq := r.send(&smpp.EnquireLink{})
	if h, _ := r.read(); h.ID != smpp.EnquireLinkRespID || h.Sequence != seq {
		t.Fatalf("got %v seq %d, want only the enquire_link_resp (seq %d)", h.ID, h.Sequence, seq)
	}
}

func TestServer_SurvivesGarbage(t *testing.T) {
	srv := startServer(t, Config{})
	inputs := [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: smsc\r\n\r\n"),
		bytes.Repeat([]byte{0xFF}, 64),
		{0, 0, 0, 16, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0}, // header cut short, then EOF
		{0, 0, 0, 0},
	}
	for _, in := range inputs {
		nc, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(testTimeout))
		nc.Write(in)
		nc.(*net.TCPConn).CloseWrite()
		checkServerOutput(t, nc)
		nc.Close()
	}
	s := dial(t, srv, smpp.Options{})
	submitText(t, s, "447021", "still alive")
}

// checkServerOutput reads until the server closes the connection and checks that each PDU
// it sent is well formed and one a simulator may send.
func checkServerOutput(t testing.TB, nc net.Conn) {
	t.Helper()
	var buf []byte
	for range 100000 {
		pdu, err := smpp.ReadPDU(nc, buf, 0)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the simulator did not close the connection: %v", err)
			}
			return // a reset is a close too
		}
		buf = pdu
		h, _, err := smpp.Decode(pdu)
		if err != nil {
			t.Fatalf("the simulator sent a malformed PDU %x: %v", pdu, err)
		}
		if !h.ID.IsResponse() && h.ID != smpp.DeliverSMID && h.ID != smpp.UnbindID {
			t.Fatalf("the simulator sent %v", h.ID)
		}
	}
	t.Fatal("endless output")
}

// FuzzServer_Conn feeds arbitrary bytes to a connection: the simulator must answer with
// well-formed PDUs only, close the connection when the client stops, and keep serving.
func FuzzServer_Conn(f *testing.F) {
	bind := mustPDUF(f, 1, &smpp.Bind{SystemID: "fuzz", InterfaceVersion: 0x34})
	sm := &smpp.SubmitSM{DestinationAddr: "4470", RegisteredDelivery: 1, ESMClass: 0x40,
		ShortMessage: []byte{5, 0, 3, 1, 2, 1, 'h', 'i'}}
	f.Add(append(bind, mustPDUF(f, 2, sm)...))
	f.Add(append(bind, mustPDUF(f, 3, &smpp.EnquireLink{})...))
	srv, err := NewServer(Config{MaxPDULen: 4096})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()
	f.Fuzz(func(t *testing.T, in []byte) {
		nc, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testTimeout))
		var wg sync.WaitGroup
		wg.Go(func() {
			nc.Write(in)
			nc.(*net.TCPConn).CloseWrite()
		})
		checkServerOutput(t, nc)
		wg.Wait()
	})
}

func mustPDUF(f *testing.F, seq uint32, p smpp.PDU) []byte {
	b, err := smpp.AppendPDU(nil, seq, smpp.StatusOK, p)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

func TestServer_Log(t *testing.T) {
	var log lockedBuffer
	srv, err := NewServer(Config{Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	s, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "acme"}, BindTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	single := submitText(t, s, "447030", "Hi €")
	long := strings.Repeat("multi ", 50)
	multi := submitText(t, s, "447031", long)
	half := textSubmits(t, "Brand", "447032", strings.Repeat("half ", 50), coding.Options{Ref: 9}, 0)
	halfIDs := submitAll(t, s, half[:1])
	s.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	var got []Message
	dec := json.NewDecoder(strings.NewReader(log.String()))
	for dec.More() {
		var m Message
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("log line: %v\n%s", err, log.String())
		}
		got = append(got, m)
	}
	if len(got) != 3 {
		t.Fatalf("%d log lines, want 3:\n%s", len(got), log.String())
	}
	checks := []struct {
		text       string
		ids        []string
		parts, tot int
	}{
		{"Hi €", single, 1, 1},
		{long, multi, 2, 2},
		{strings.Repeat("half ", 31)[:153], halfIDs, 1, 2}, // written at Close, incomplete
	}
	for i, c := range checks {
		m := got[i]
		if m.Text != c.text || strings.Join(m.IDs, ",") != strings.Join(c.ids, ",") ||
			m.Parts != c.parts || m.TotalParts != c.tot || m.SystemID != "acme" ||
			m.Source.Addr != "Brand" || m.Destination.TON != 1 || m.State != "DELIVRD" || m.Accepted.IsZero() {
			t.Errorf("line %d: %+v", i+1, m)
		}
	}
	if !strings.Contains(log.String(), `"text":"Hi €"`) {
		t.Errorf("log is not plain UTF-8 JSON: %s", log.String())
	}
}

func TestServer_DiscardMessages(t *testing.T) {
	var log lockedBuffer
	srv := startServer(t, Config{DiscardMessages: true, Log: &log})
	s := dial(t, srv, smpp.Options{})
	submitText(t, s, "447033", "gone")
	parts := textSubmits(t, "B", "447034", strings.Repeat("open ", 50), coding.Options{}, 0)
	submitAll(t, s, parts[:1])
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Complete() {
		t.Fatalf("Messages() = %+v, want only the incomplete multipart message", msgs)
	}
	if st := srv.Stats(); st.Accepted != 2 {
		t.Errorf("Accepted = %d, want 2", st.Accepted)
	}
}

// lockedBuffer is a bytes.Buffer safe for the log goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestServer_LogWriteErrorIsReported(t *testing.T) {
	srv, err := NewServer(Config{Log: failingWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{BindTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	submitText(t, s, "447035", "lost line")
	s.Close()
	if err := srv.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close() = %v, want the log's write error", err)
	}
}

func TestServer_TLS(t *testing.T) {
	t.Run("self-signed", func(t *testing.T) {
		srv := startServer(t, Config{TLSSelfSigned: true})
		cert := srv.Certificate()
		if cert == nil {
			t.Fatal("no certificate")
		}
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		s := dial(t, srv, smpp.Options{TLS: &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}})
		submitText(t, s, "447040", "over TLS")
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("%d messages over TLS, want 1", n)
		}
	})
	t.Run("files", func(t *testing.T) {
		certFile, keyFile := writeCertFiles(t)
		srv := startServer(t, Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
		conf, err := smpp.TLSConfig(certFile, "localhost", false)
		if err != nil {
			t.Fatal(err)
		}
		s := dial(t, srv, smpp.Options{TLS: conf})
		submitText(t, s, "447041", "over TLS with files")
	})
	t.Run("plain client", func(t *testing.T) {
		srv := startServer(t, Config{TLSSelfSigned: true})
		_, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{BindTimeout: 2 * time.Second})
		if err == nil {
			t.Fatal("a plain-TCP bind to a TLS listener succeeded")
		}
	})
}

// writeCertFiles writes a throwaway certificate and key as PEM files.
func writeCertFiles(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	cert, err := selfSigned(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
