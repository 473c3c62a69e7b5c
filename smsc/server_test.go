package smsc

import (
	"errors"
	"fmt"
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

// FirstID numbers messages from it, in the id format: two simulators with the same FirstID
// give the same ids, as an SMSC whose counter restarted.
func TestServer_FirstID(t *testing.T) {
	for _, tt := range []struct {
		format IDFormat
		want   []string
	}{{IDDec, []string{"9", "10", "11"}}, {IDHex, []string{"9", "a", "b"}}} {
		for restart := range 2 {
			srv := startServer(t, Config{IDFormat: tt.format, FirstID: 9})
			s := dial(t, srv, smpp.Options{})
			for i, want := range tt.want {
				if id := submitText(t, s, "4470003", "id test")[0]; id != want {
					t.Errorf("%s, simulator %d, message %d: id %q, want %q", tt.format, restart+1, i+1, id, want)
				}
			}
		}
	}
}

// The id quirk (hex in responses, decimal in receipts) is the receipt text's: the
// receipted_message_id TLV keeps the response's id, as the specification has it. Without
// TLVs (NoInterfaceVersion) the decimal text is all a client gets.
func TestServer_ReceiptIDFormat(t *testing.T) {
	for _, noTLVs := range []bool{false, true} {
		t.Run(fmt.Sprint("no TLVs ", noTLVs), func(t *testing.T) {
			srv := startServer(t, Config{IDFormat: IDHex, ReceiptIDFormat: IDDec, NoInterfaceVersion: noTLVs})
			in := newInbox()
			s := dial(t, srv, smpp.Options{Handler: in.handle})
			id := submitText(t, s, "4470004", "quirk")[0]
			d := in.wait(t, 1)[0]
			text, err := smpp.ParseReceiptText(string(d.ShortMessage))
			if err != nil {
				t.Fatal(err)
			}
			hex, _ := strconv.ParseUint(id, 16, 64)
			dec, err := strconv.ParseUint(text.ID, 10, 64)
			if err != nil || hex != dec {
				t.Fatalf("receipt text id %q is not the decimal form of response id %q", text.ID, id)
			}
			if !smpp.SameMessageID(id, text.ID, smpp.IDAuto) {
				t.Errorf("smpp.SameMessageID(%q, %q, IDAuto) = false", id, text.ID)
			}
			tlv, ok := d.TLVs.CString(smpp.TagReceiptedMessageID)
			switch {
			case noTLVs && len(d.TLVs) > 0:
				t.Errorf("TLVs %v from an SMSC that announces no TLV support", d.TLVs)
			case !noTLVs && (!ok || tlv != id):
				t.Errorf("receipted_message_id %q, want the response's id %q", tlv, id)
			}
		})
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
		{"wrong password", Config{SystemID: "acme", Password: "s3cret"}, "acme", "guess", smpp.StatusInvPaswd},
		{"wrong system id", Config{SystemID: "acme", Password: "s3cret"}, "other", "s3cret", smpp.StatusInvSysID},
		{"both wrong", Config{SystemID: "acme", Password: "s3cret"}, "other", "guess", smpp.StatusInvSysID},
		{"password only", Config{Password: "s3cret"}, "whoever", "s3cret", smpp.StatusOK},
		{"password only, wrong", Config{Password: "s3cret"}, "whoever", "", smpp.StatusInvPaswd},
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

// Handsets of ReplyPrefixes answer every message delivered to them, once per message, with
// ReplyText: one deliver_sm from the handset to the sender when it fits, else parts with a
// concatenation UDH whose reference changes with every reply of the handset. GSM 7-bit goes
// packed when the simulator reads packed, as an SMSC set up for packed septets delivers.
func TestServer_Replies(t *testing.T) {
	long := strings.Repeat("Please stop sending these. ", 7) // 189 characters: two parts
	for _, tt := range []struct {
		name, text string
		parts      int
		packed     bool
	}{{"short", "STOP", 1, false}, {"long", long, 2, false}, {"short, packed", "STOP", 1, true}, {"long, packed", long, 2, true}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, Config{ReplyPrefixes: []string{"4470009"}, UndelivPrefixes: []string{"44700099"},
				ReplyText: tt.text, GSM7Packed: tt.packed})
			in := newInbox()
			s := dial(t, srv, smpp.Options{Handler: in.handle})
			opt := coding.Options{Packed: tt.packed}
			receipts := 0
			for _, m := range []struct{ to, text string }{
				{"4470001", "no reply to this one"},
				{"4470009001", "first"},
				{"4470009001", strings.Repeat("a long second message ", 10)}, // several parts, one reply
				{"4470009002", "third"},
				{"4470009900", "undelivered: no reply"},
			} {
				receipts += len(submitAll(t, s, textSubmits(t, "Brand", m.to, m.text, opt, 1)))
			}
			got := in.wait(t, receipts+3*tt.parts)
			type reply struct {
				ref   uint16
				parts []string
			}
			var replies []*reply // in the order their first part came
			open := map[string]*reply{}
			for _, d := range got {
				if smpp.IsReceipt(d.ESMClass) {
					continue
				}
				if d.DestinationAddr != "Brand" || d.DestAddrTON != 5 || d.SourceAddrTON != 1 || d.SourceAddrNPI != 1 || d.DataCoding != 0 {
					t.Errorf("reply from %q (TON %d NPI %d) to %q (TON %d), data_coding %d: want from the handset (1/1) to Brand (5), GSM",
						d.SourceAddr, d.SourceAddrTON, d.SourceAddrNPI, d.DestinationAddr, d.DestAddrTON, d.DataCoding)
				}
				data, seq, ref, udhLen := d.ShortMessage, uint8(1), uint16(0), 0
				if tt.parts > 1 {
					r, total, sq, rest, ok := coding.ParseUDH(data)
					if d.ESMClass != 0x40 || !ok || int(total) != tt.parts {
						t.Fatalf("reply part esm_class %#x, UDH %x: want a concatenation UDH of %d parts", d.ESMClass, data, tt.parts)
					}
					data, seq, ref, udhLen = rest, sq, r, len(data)-len(rest)
				} else if d.ESMClass != 0 {
					t.Errorf("one-part reply with esm_class %#x, want 0", d.ESMClass)
				}
				if tt.packed {
					data = coding.UnpackUserData(data, udhLen)
				}
				text, err := coding.Decode(data, 0)
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprintf("%s/%d", d.SourceAddr, ref)
				r := open[key]
				if r == nil || tt.parts == 1 {
					r = &reply{ref: ref, parts: make([]string, tt.parts)}
					open[key] = r
					replies = append(replies, r)
				}
				r.parts[seq-1] = text // handlers may run in any order
			}
			if len(replies) != 3 {
				t.Fatalf("%d replies, want 3: one per delivered message to a replying handset", len(replies))
			}
			for _, r := range replies {
				if text := strings.Join(r.parts, ""); text != tt.text {
					t.Errorf("reply %q, want %q", text, tt.text)
				}
			}
			if tt.parts > 1 && len(open) != 3 {
				t.Errorf("replies share references (%v): a handset changes it with every reply", open)
			}
			if st := srv.Stats(); st.RepliesSent != 3*tt.parts || st.ReceiptsSent != receipts {
				t.Errorf("stats: %d replies, %d receipts sent; want %d and %d", st.RepliesSent, st.ReceiptsSent, 3*tt.parts, receipts)
			}
		})
	}
}
