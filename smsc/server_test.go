package smsc

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

func TestServer_RecordsMessages(t *testing.T) {
	long := strings.Repeat("Long message with € and {braces} ", 12)
	tests := []struct {
		name      string
		text      string
		opt       coding.Options
		cfg       Config
		wantParts int
		wantDC    uint8
	}{
		{"gsm7", "Hello @ €uro {x}", coding.Options{}, Config{}, 1, 0x00},
		{"ucs2 emoji", "Привет 👋", coding.Options{}, Config{}, 1, 0x08},
		{"latin1", "Grüße", coding.Options{Encoding: coding.Latin1}, Config{}, 1, 0x03},
		{"udh8", long, coding.Options{Ref: 0xA7}, Config{}, 3, 0x00},
		{"udh16", long, coding.Options{Split: coding.SplitUDH16, Ref: 0x1234}, Config{}, 3, 0x00},
		{"sar", long, coding.Options{Split: coding.SplitSAR, Ref: 0x1234}, Config{}, 3, 0x00},
		{"payload", long, coding.Options{Split: coding.SplitPayload}, Config{}, 1, 0x00},
		{"ucs2 udh", strings.Repeat("Ж👋", 40), coding.Options{}, Config{}, 2, 0x08},
		{"packed", "packed hello", coding.Options{Packed: true, Encoding: coding.GSM7}, Config{GSM7Packed: true}, 1, 0x00},
		{"packed udh", long, coding.Options{Packed: true, Encoding: coding.GSM7}, Config{GSM7Packed: true}, 3, 0x00},
		{"packed seven septets", "1234567", coding.Options{Packed: true, Encoding: coding.GSM7}, Config{GSM7Packed: true}, 1, 0x00},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.cfg)
			s := dial(t, srv, smpp.Options{})
			ids := submitAll(t, s, textSubmits(t, "Brand", "447700900123", tt.text, tt.opt, 0))
			if len(ids) != tt.wantParts {
				t.Fatalf("sent %d parts, want %d", len(ids), tt.wantParts)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("Messages() has %d messages, want 1: %+v", len(msgs), msgs)
			}
			m := msgs[0]
			if m.Text != tt.text || m.TextError != "" {
				t.Errorf("Text = %q (error %q), want %q", m.Text, m.TextError, tt.text)
			}
			if m.Parts != tt.wantParts || m.TotalParts != tt.wantParts || !m.Complete() {
				t.Errorf("Parts %d of %d, want %d of %d", m.Parts, m.TotalParts, tt.wantParts, tt.wantParts)
			}
			if strings.Join(m.IDs, ",") != strings.Join(ids, ",") {
				t.Errorf("IDs = %v, want the response ids %v", m.IDs, ids)
			}
			wantSrc := Address{TON: 5, Addr: "Brand"}
			wantDst := Address{TON: 1, NPI: 1, Addr: "447700900123"}
			if m.Source != wantSrc || m.Destination != wantDst {
				t.Errorf("addresses %+v -> %+v, want %+v -> %+v", m.Source, m.Destination, wantSrc, wantDst)
			}
			if m.DataCoding != tt.wantDC || m.Command != "submit_sm" || m.SystemID != "tester" || m.State != "DELIVRD" {
				t.Errorf("got %+v", m)
			}
			if m.Accepted.IsZero() {
				t.Error("Accepted time not set")
			}
			st := srv.Stats()
			if st.Accepted != tt.wantParts || st.Submits != tt.wantParts || st.Sessions != 1 {
				t.Errorf("Stats %+v", st)
			}
		})
	}
}

func TestServer_MultipartOutOfOrderAndRepeated(t *testing.T) {
	srv := startServer(t, Config{})
	s := dial(t, srv, smpp.Options{})
	text := strings.Repeat("abcdefghij", 40) // 3 parts
	parts := textSubmits(t, "Brand", "4470001", text, coding.Options{Ref: 7}, 0)
	// Part 2 first; then a client that lost the response of part 1 resends the message.
	submitAll(t, s, []*smpp.SubmitSM{parts[1], parts[0], parts[0], parts[1], parts[2]})

	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2 (one incomplete, one complete): %+v", len(msgs), msgs)
	}
	if msgs[0].Complete() || msgs[0].Parts != 2 || msgs[0].TotalParts != 3 {
		t.Errorf("first message: %d of %d parts, want the incomplete 2 of 3", msgs[0].Parts, msgs[0].TotalParts)
	}
	if !msgs[1].Complete() || msgs[1].Text != text {
		t.Errorf("second message: complete %v, text %q", msgs[1].Complete(), msgs[1].Text)
	}
}

func TestServer_IncompleteMultipartIsKept(t *testing.T) {
	srv := startServer(t, Config{})
	s := dial(t, srv, smpp.Options{})
	parts := textSubmits(t, "Brand", "4470001", strings.Repeat("x", 200), coding.Options{}, 0)
	submitAll(t, s, parts[:1])
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Complete() || msgs[0].Parts != 1 || msgs[0].TotalParts != 2 {
		t.Fatalf("Messages() = %+v, want one message with 1 of 2 parts", msgs)
	}
	if msgs[0].Text != strings.Repeat("x", 153) {
		t.Errorf("Text = %q, want the first part's text", msgs[0].Text)
	}
}

func TestServer_DataSM(t *testing.T) {
	srv := startServer(t, Config{})
	s := dial(t, srv, smpp.Options{})
	p := &smpp.DataSM{SourceAddr: "Brand", DestAddrTON: 1, DestinationAddr: "4470002", DataCoding: 0}
	p.TLVs.Set(smpp.TagMessagePayload, []byte("data sm text"))
	_, resp, err := s.Request(testContext(t), p)
	if err != nil {
		t.Fatalf("data_sm: %v", err)
	}
	r, ok := resp.(*smpp.DataSMResp)
	if !ok || r.MessageID == "" {
		t.Fatalf("response %#v, want a data_sm_resp with a message id", resp)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].Command != "data_sm" || msgs[0].Text != "data sm text" || msgs[0].IDs[0] != r.MessageID {
		t.Fatalf("Messages() = %+v", msgs)
	}
}

func TestServer_MessageIDFormats(t *testing.T) {
	for _, f := range []IDFormat{IDHex, IDDec} {
		t.Run(string(f), func(t *testing.T) {
			srv := startServer(t, Config{IDFormat: f})
			s := dial(t, srv, smpp.Options{})
			seen := map[string]bool{}
			for range 20 {
				id := submitText(t, s, "4470003", "id test")[0]
				base := 16
				if f == IDDec {
					base = 10
				}
				if _, err := strconv.ParseUint(id, base, 64); err != nil {
					t.Fatalf("id %q is not %s: %v", id, f, err)
				}
				if seen[id] {
					t.Fatalf("id %q given twice", id)
				}
				seen[id] = true
			}
		})
	}
}

func TestServer_ReceiptIDFormat(t *testing.T) {
	srv := startServer(t, Config{IDFormat: IDHex, ReceiptIDFormat: IDDec})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	id := submitText(t, s, "4470004", "quirk")[0]
	rc, err := smpp.ReceiptFromDeliverSM(in.wait(t, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	hex, _ := strconv.ParseUint(id, 16, 64)
	dec, err := strconv.ParseUint(rc.ID, 10, 64)
	if err != nil || hex != dec {
		t.Fatalf("receipt id %q is not the decimal form of response id %q", rc.ID, id)
	}
	if !smpp.SameMessageID(id, rc.ID, smpp.IDAuto) {
		t.Errorf("smpp.SameMessageID(%q, %q, IDAuto) = false", id, rc.ID)
	}
}

func TestServer_Credentials(t *testing.T) {
	tests := []struct {
		name             string
		cfg              Config
		systemID, passwd string
		want             smpp.Status
	}{
		{"open server", Config{}, "anyone", "anything", smpp.StatusOK},
		{"right", Config{SystemID: "acme", Password: "s3cret"}, "acme", "s3cret", smpp.StatusOK},
		{"wrong password", Config{SystemID: "acme", Password: "s3cret"}, "acme", "guess", smpp.StatusBindFail},
		{"wrong system id", Config{SystemID: "acme", Password: "s3cret"}, "other", "s3cret", smpp.StatusBindFail},
		{"password only", Config{Password: "s3cret"}, "whoever", "s3cret", smpp.StatusOK},
		{"password only, wrong", Config{Password: "s3cret"}, "whoever", "", smpp.StatusBindFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.cfg)
			s, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{
				Bind: smpp.Bind{SystemID: tt.systemID, Password: tt.passwd}, BindTimeout: testTimeout})
			if tt.want == smpp.StatusOK {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if s.SystemID() != simSystemID {
					t.Errorf("SystemID() = %q, want %q", s.SystemID(), simSystemID)
				}
				s.Close()
				return
			}
			if err == nil {
				s.Close()
				t.Fatal("bind accepted, want refused")
			}
			if st := statusOf(t, err); st != tt.want {
				t.Fatalf("bind refused with %v, want %v", st, tt.want)
			}
			if st := srv.Stats(); st.BindFailures != 1 || st.Sessions != 0 {
				t.Errorf("Stats: %d bind failures, %d sessions; want 1 and 0", st.BindFailures, st.Sessions)
			}
		})
	}
}

func TestServer_BindModes(t *testing.T) {
	srv := startServer(t, Config{})
	rx := dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindReceiver}})
	_, err := rx.Submit(testContext(t), textSubmits(t, "B", "4470005", "no", coding.Options{}, 0)[0])
	if st := statusOf(t, err); st != smpp.StatusInvBndSts {
		t.Fatalf("submit on a receiver: %v, want ESME_RINVBNDSTS", st)
	}
	tx := dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindTransmitter}})
	submitText(t, tx, "4470005", "yes")
	st := srv.Stats()
	if st.Sessions != 2 || st.Accepted != 1 || st.Rejected != 1 || st.Submits != 2 {
		t.Fatalf("Stats %+v", st)
	}
}

func TestServer_ClosesConnections(t *testing.T) {
	srv, err := NewServer(Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := smpp.Dial(testContext(t), srv.Addr(), smpp.Options{BindTimeout: testTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(testTimeout):
		t.Fatal("session still up after the server closed")
	}
	if !errors.Is(s.Err(), smpp.ErrConnectionLost) {
		t.Errorf("session ended with %v, want ErrConnectionLost", s.Err())
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConfig_Errors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"cert without key", Config{TLSCertFile: "c.pem"}, "--tls-key"},
		{"cert and self-signed", Config{TLSCertFile: "c", TLSKeyFile: "k", TLSSelfSigned: true}, "not both"},
		{"long system id", Config{SystemID: strings.Repeat("s", 16)}, "15 characters"},
		{"long password", Config{Password: "123456789"}, "8 characters"},
		{"id format", Config{IDFormat: "octal"}, "hex or dec"},
		{"receipt id format", Config{ReceiptIDFormat: "b64"}, "hex or dec"},
		{"ratio", Config{UndelivRatio: 1.5}, "between 0 and 1"},
		{"negative delay", Config{RespDelay: -time.Second}, "negative"},
		{"drop position", Config{DropAfter: []int{0}}, "start at 1"},
		{"unbind position", Config{UnbindAfter: []int{-3}}, "start at 1"},
		{"throttle", Config{ThrottleTPS: -1}, "negative"},
		{"bind limit", Config{MaxBinds: -1}, "negative"},
		{"max pdu", Config{MaxPDULen: 8}, "16-octet header"},
		{"reply without text", Config{ReplyPrefixes: []string{"49"}}, "reply text"},
		{"reply too long", Config{ReplyPrefixes: []string{"49"}, ReplyText: strings.Repeat("x", 153*256)}, "reply text"},
		{"listen", Config{Listen: "256.0.0.1:0"}, "listen on"},
		{"cert files", Config{TLSCertFile: "/nonexistent/c.pem", TLSKeyFile: "/nonexistent/k.pem"}, "load TLS certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := NewServer(tt.cfg)
			if err == nil {
				srv.Close()
				t.Fatal("NewServer accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestParseIDFormat(t *testing.T) {
	for in, want := range map[string]IDFormat{"hex": IDHex, "DEC": IDDec, " hex ": IDHex} {
		if got, err := ParseIDFormat(in); err != nil || got != want {
			t.Errorf("ParseIDFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseIDFormat("uuid"); err == nil {
		t.Error(`ParseIDFormat("uuid") accepted`)
	}
}

// Handsets of ReplyPrefixes answer every message with ReplyText: one deliver_sm from the
// handset to the sender when it fits, else parts with a concatenation UDH whose reference
// differs between replies.
func TestServer_Replies(t *testing.T) {
	long := strings.Repeat("Please stop sending these. ", 7) // 189 characters: two parts
	for _, tt := range []struct {
		name, text string
		parts      int
	}{{"short", "STOP", 1}, {"long", long, 2}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, Config{ReplyPrefixes: []string{"4470009"}, ReplyText: tt.text})
			in := newInbox()
			s := dial(t, srv, smpp.Options{Handler: in.handle})
			submitText(t, s, "4470001", "no reply to this one")
			submitText(t, s, "4470009001", "first")
			submitText(t, s, "4470009002", "second")
			got := in.wait(t, 3+2*tt.parts) // three receipts, two replies
			refs := map[string]uint16{}
			parts := map[string][]string{} // by handset, in part order
			for _, d := range got {
				if smpp.IsReceipt(d.ESMClass) {
					continue
				}
				if d.DestinationAddr != "Brand" || d.DestAddrTON != 5 {
					t.Errorf("reply to %q (TON %d), want the sender Brand (TON 5)", d.DestinationAddr, d.DestAddrTON)
				}
				data, seq := d.ShortMessage, uint8(1)
				if tt.parts > 1 {
					ref, total, sq, rest, ok := coding.ParseUDH(data)
					if d.ESMClass != 0x40 || !ok || int(total) != tt.parts {
						t.Fatalf("reply part esm_class %#x, UDH %x: want a concatenation UDH of %d parts", d.ESMClass, data, tt.parts)
					}
					if r, seen := refs[d.SourceAddr]; seen && r != ref {
						t.Errorf("parts of one reply with references %d and %d", r, ref)
					}
					refs[d.SourceAddr] = ref
					data, seq = rest, sq
				}
				text, err := coding.Decode(data, d.DataCoding)
				if err != nil {
					t.Fatal(err)
				}
				if parts[d.SourceAddr] == nil {
					parts[d.SourceAddr] = make([]string, tt.parts)
				}
				parts[d.SourceAddr][seq-1] = text // handlers may run in any order
			}
			texts := map[string]string{}
			for from, p := range parts {
				texts[from] = strings.Join(p, "")
			}
			for _, from := range []string{"4470009001", "4470009002"} {
				if texts[from] != tt.text {
					t.Errorf("reply from %s: %q, want %q", from, texts[from], tt.text)
				}
			}
			if len(texts) != 2 {
				t.Errorf("replies from %d handsets, want 2 (none from 4470001)", len(texts))
			}
			if tt.parts > 1 && refs["4470009001"] == refs["4470009002"] {
				t.Errorf("both replies use reference %d: a handset changes it", refs["4470009001"])
			}
			if st := srv.Stats(); st.RepliesSent != 2*tt.parts || st.ReceiptsSent != 3 {
				t.Errorf("stats: %d replies, %d receipts sent; want %d and 3", st.RepliesSent, st.ReceiptsSent, 2*tt.parts)
			}
		})
	}
}
