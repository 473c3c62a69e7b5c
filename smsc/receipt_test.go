package smsc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"smscast/smpp"
	"smscast/smpp/coding"
)

// TestServer_Receipts checks when a receipt is sent and what it says. After each case a
// marker message asks for a receipt: receipts due at once leave in submit order, so once
// the marker's receipt is in, any receipt the case should have produced is in too.
func TestServer_Receipts(t *testing.T) {
	srv := startServer(t, Config{
		RejectPrefixes:  []string{"4477"},
		UndelivPrefixes: []string{"4479"},
		ExpirePrefixes:  []string{"4478"},
	})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	tests := []struct {
		name        string
		dest        string
		regDelivery uint8
		wantStat    string // "" = no receipt
		wantErr     string
		wantNetErr  []byte
	}{
		{"delivered", "447001", 1, "DELIVRD", "000", []byte{3, 0, 0}},
		{"undeliverable", "447901", 1, "UNDELIV", "001", []byte{3, 0, 1}},
		{"expired", "447801", 1, "EXPIRED", "027", []byte{3, 0, 27}},
		{"no receipt asked", "447901", 0, "", "", nil},
		{"failure only, delivered", "447001", 2, "", "", nil},
		{"failure only, undeliverable", "447901", 2, "UNDELIV", "001", []byte{3, 0, 1}},
		{"success only, delivered", "447001", 3, "DELIVRD", "000", []byte{3, 0, 0}},
		{"success only, expired", "447801", 3, "", "", nil},
		{"intermediate bit ignored", "447001", 0x11, "DELIVRD", "000", []byte{3, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sentBefore := srv.Stats().ReceiptsSent
			p := textSubmits(t, "MyBrand", tt.dest, "Hello ¡$@ world, this text is longer than twenty", coding.Options{}, tt.regDelivery)[0]
			id := submitAll(t, s, []*smpp.SubmitSM{p})[0]
			marker := submitText(t, s, "440000", "marker")[0]
			in.waitReceipt(t, marker)
			sent := srv.Stats().ReceiptsSent - sentBefore - 1
			if tt.wantStat == "" {
				if sent != 0 {
					t.Fatalf("%d receipts sent, want none", sent)
				}
				return
			}
			if sent != 1 {
				t.Fatalf("%d receipts sent, want 1", sent)
			}
			d := in.waitReceipt(t, id)
			if d.ESMClass != 0x04 || d.DataCoding != 0 {
				t.Errorf("esm_class 0x%02X, data_coding 0x%02X; want 0x04, 0x00", d.ESMClass, d.DataCoding)
			}
			if d.SourceAddr != tt.dest || d.SourceAddrTON != 1 || d.SourceAddrNPI != 1 ||
				d.DestinationAddr != "MyBrand" || d.DestAddrTON != 5 {
				t.Errorf("receipt addresses %d/%d %q -> %d/%d %q, want the message's reversed",
					d.SourceAddrTON, d.SourceAddrNPI, d.SourceAddr, d.DestAddrTON, d.DestAddrNPI, d.DestinationAddr)
			}
			// Both the TLVs and the text must carry the receipt on their own.
			fromText, err := smpp.ParseReceiptText(string(d.ShortMessage))
			if err != nil {
				t.Fatalf("receipt text %q: %v", d.ShortMessage, err)
			}
			if fromText.ID != id || fromText.Stat != tt.wantStat || fromText.Err != tt.wantErr {
				t.Errorf("receipt text %q: id %q stat %q err %q; want %q %q %q",
					d.ShortMessage, fromText.ID, fromText.Stat, fromText.Err, id, tt.wantStat, tt.wantErr)
			}
			if !strings.HasSuffix(string(d.ShortMessage), " text:Hello ??? world, thi") {
				t.Errorf("receipt text %q does not end with the first 20 characters, non-ASCII-safe ones as '?'", d.ShortMessage)
			}
			if v, _ := d.TLVs.CString(smpp.TagReceiptedMessageID); v != id {
				t.Errorf("receipted_message_id %q, want %q", v, id)
			}
			if v, _ := d.TLVs.Uint8(smpp.TagMessageState); smpp.MessageState(v).Stat() != tt.wantStat {
				t.Errorf("message_state %d, want %s", v, tt.wantStat)
			}
			if v, _ := d.TLVs.Get(smpp.TagNetworkErrorCode); !bytes.Equal(v, tt.wantNetErr) {
				t.Errorf("network_error_code % X, want % X", v, tt.wantNetErr)
			}
		})
	}
	t.Run("rejected", func(t *testing.T) {
		_, err := s.Submit(testContext(t), textSubmits(t, "B", "447701", "no", coding.Options{}, 1)[0])
		if st := statusOf(t, err); st != smpp.StatusInvDstAdr {
			t.Fatalf("status %v, want ESME_RINVDSTADR", st)
		}
		for _, m := range srv.Messages() {
			if m.Destination.Addr == "447701" {
				t.Errorf("rejected message recorded: %+v", m)
			}
		}
	})
}

func TestServer_ReceiptPerPart(t *testing.T) {
	srv := startServer(t, Config{})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	ids := submitText(t, s, "447002", strings.Repeat("part ", 80)) // 400 septets: 3 parts
	got := in.wait(t, len(ids))
	seen := map[string]bool{}
	for _, d := range got {
		rc, err := smpp.ReceiptFromDeliverSM(d)
		if err != nil {
			t.Fatal(err)
		}
		seen[rc.ID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("no receipt for part id %s (receipts for %v)", id, seen)
		}
	}
	st := waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 3 })
	if st.ReceiptsSent != 3 || st.DeliverSMResp != 3 || st.ReceiptsPending != 0 {
		t.Errorf("Stats %+v", st)
	}
}

func TestServer_ReceiptRouting(t *testing.T) {
	srv := startServer(t, Config{})
	tx := dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindTransmitter, SystemID: "acme"}})
	other := newInbox()
	dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindReceiver, SystemID: "someone-else"}, Handler: other.handle})
	var ids []string
	for range 10 {
		ids = append(ids, submitText(t, tx, "447003", "queued")...)
	}
	// Only a transmitter of acme is bound: the receipts wait.
	if st := srv.Stats(); st.ReceiptsSent != 0 || st.ReceiptsPending != 10 {
		t.Fatalf("before a receiver binds: %d sent, %d pending; want 0 and 10", st.ReceiptsSent, st.ReceiptsPending)
	}
	// The first receiver of acme gets the ten queued receipts; once a second one is bound,
	// new receipts alternate between them.
	rx1, rx2 := newInbox(), newInbox()
	dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindReceiver, SystemID: "acme"}, Handler: rx1.handle})
	rx1.wait(t, 10)
	dial(t, srv, smpp.Options{Bind: smpp.Bind{Mode: smpp.BindTransceiver, SystemID: "acme"}, Handler: rx2.handle})
	for range 10 {
		submitText(t, tx, "447003", "round robin")
	}
	waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 20 })
	if rx1.count()+rx2.count() != 20 || rx1.count() != 15 || rx2.count() != 5 {
		t.Errorf("receivers got %d and %d receipts, want 15 (10 queued + 5) and 5", rx1.count(), rx2.count())
	}
	if other.count() != 0 {
		t.Errorf("a receiver of another system_id got %d receipts", other.count())
	}
}

func TestServer_ReceiptRetryAfterNegativeAnswer(t *testing.T) {
	srv := startServer(t, Config{ReceiptRetry: 200 * time.Millisecond})
	in := newInbox()
	in.answer = func(n int, _ *smpp.DeliverSM) smpp.Status {
		if n == 1 {
			return smpp.StatusXTAppn // "not now, send it again later"
		}
		return smpp.StatusOK
	}
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	id := submitText(t, s, "447004", "retry")[0]
	got := in.wait(t, 2)
	for _, d := range got {
		if rc, _ := smpp.ReceiptFromDeliverSM(d); rc.ID != id {
			t.Errorf("receipt for %q, want %q", rc.ID, id)
		}
	}
	// On a loaded machine an answer may also miss ReceiptRetry and cause one more resend:
	// count only what must hold whatever the timing.
	st := waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 1 })
	if st.ReceiptsSent < 2 || st.ReceiptsResent != st.ReceiptsSent-1 || st.DeliverSMResp < 2 || st.ReceiptsPending != 0 {
		t.Errorf("Stats %+v", st)
	}
}

func TestServer_ReceiptUnansweredIsResentThenAbandoned(t *testing.T) {
	srv := startServer(t, Config{ReceiptRetry: 20 * time.Millisecond, ReceiptAttempts: 3})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	r.send(textSubmits(t, "B", "447005", "never acked", coding.Options{}, 1)[0])
	var receiptSeqs []uint32
	for len(receiptSeqs) < 3 {
		h, p := r.read()
		if d, ok := p.(*smpp.DeliverSM); ok {
			if _, err := smpp.ReceiptFromDeliverSM(d); err != nil {
				t.Fatal(err)
			}
			receiptSeqs = append(receiptSeqs, h.Sequence)
		}
	}
	if receiptSeqs[0] == receiptSeqs[1] || receiptSeqs[1] == receiptSeqs[2] {
		t.Errorf("resends reuse sequence numbers %v", receiptSeqs)
	}
	st := waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAbandoned == 1 })
	if st.ReceiptsSent != 3 || st.ReceiptsResent != 2 || st.ReceiptsPending != 0 {
		t.Errorf("Stats %+v", st)
	}
	// A late answer to a receipt already given up changes nothing.
	r.write(mustPDU(t, receiptSeqs[0], smpp.StatusOK, &smpp.DeliverSMResp{}))
	r.send(&smpp.EnquireLink{})
	r.read()
	if st := srv.Stats(); st.ReceiptsAcked != 0 || st.DeliverSMResp != 1 {
		t.Errorf("after a late answer: %+v", st)
	}
}

// A session has at most DeliverWindow receipts unanswered; each answer lets the next go.
func TestServer_ReceiptWindow(t *testing.T) {
	srv := startServer(t, Config{DeliverWindow: 2})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	for i := range 5 {
		r.send(textSubmits(t, "B", fmt.Sprintf("44700%d", i), "windowed", coding.Options{}, 1)[0])
	}
	var unanswered []uint32
	for resps := 0; resps < 5 || len(unanswered) < 2; {
		h, p := r.read()
		switch p.(type) {
		case *smpp.SubmitSMResp:
			resps++
		case *smpp.DeliverSM:
			unanswered = append(unanswered, h.Sequence)
			if len(unanswered) > 2 {
				t.Fatalf("%d receipts unanswered at once, want at most the window of 2", len(unanswered))
			}
		}
	}
	waitStats(t, srv, func(st Stats) bool { return st.ReceiptsSent == 2 && st.ReceiptsPending == 5 })
	time.Sleep(50 * time.Millisecond) // time to send more, which it must not
	if st := srv.Stats(); st.ReceiptsSent != 2 {
		t.Fatalf("%d receipts sent with none answered, want the window of 2", st.ReceiptsSent)
	}
	for got := 2; len(unanswered) > 0; {
		r.write(mustPDU(t, unanswered[0], smpp.StatusOK, &smpp.DeliverSMResp{}))
		unanswered = unanswered[1:]
		if got < 5 {
			h, p := r.read()
			if _, ok := p.(*smpp.DeliverSM); !ok {
				t.Fatalf("after an answer: %v, want the next receipt", h.ID)
			}
			unanswered = append(unanswered, h.Sequence)
			got++
		}
	}
	if st := waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 5 }); st.ReceiptsSent != 5 || st.ReceiptsPending != 0 {
		t.Errorf("Stats %+v", st)
	}
}

func TestServer_ReceiptRedeliveredAfterConnectionLoss(t *testing.T) {
	srv := startServer(t, Config{})
	r := dialRaw(t, srv)
	r.send(&smpp.Bind{Mode: smpp.BindTransceiver, SystemID: "acme"})
	r.read()
	r.send(textSubmits(t, "B", "447006", "crash before ack", coding.Options{}, 1)[0])
	var first *smpp.DeliverSM
	for first == nil {
		_, p := r.read()
		first, _ = p.(*smpp.DeliverSM)
	}
	r.nc.Close() // the client dies before acknowledging the receipt

	in := newInbox()
	dial(t, srv, smpp.Options{Bind: smpp.Bind{SystemID: "acme"}, Handler: in.handle})
	again := in.wait(t, 1)[0]
	a, _ := smpp.ReceiptFromDeliverSM(first)
	b, _ := smpp.ReceiptFromDeliverSM(again)
	if a.ID != b.ID || !bytes.Equal(first.ShortMessage, again.ShortMessage) {
		t.Errorf("redelivered %q, first %q", again.ShortMessage, first.ShortMessage)
	}
	if st := waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 1 }); st.ReceiptsResent != 1 {
		t.Errorf("Stats %+v", st)
	}
}

func TestServer_ReceiptDelay(t *testing.T) {
	const delay = 300 * time.Millisecond
	srv := startServer(t, Config{ReceiptDelay: delay})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	start := time.Now()
	submitText(t, s, "447007", "later")
	in.wait(t, 1)
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("receipt after %v, want at least %v", elapsed, delay)
	}
}

func TestServer_ReceiptDelayJitter(t *testing.T) {
	srv := startServer(t, Config{ReceiptDelay: time.Second, ReceiptJitter: time.Second})
	seen := map[time.Duration]bool{}
	for range 100 {
		d := srv.receiptDelay()
		if d < time.Second || d >= 2*time.Second {
			t.Fatalf("delay %v outside [1s, 2s)", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Errorf("100 delays took %d values: no jitter", len(seen))
	}
}

func TestServer_UndelivRatio(t *testing.T) {
	fates := func(seed int64, ratio float64) map[string]bool {
		srv := startServer(t, Config{UndelivRatio: ratio, Seed: seed})
		undeliv := map[string]bool{}
		for i := range 1000 {
			dest := fmt.Sprintf("4470%04d", i)
			if _, fate := srv.outcome(dest); fate == smpp.StateUndeliverable {
				undeliv[dest] = true
			}
		}
		return undeliv
	}
	a, b, c := fates(42, 0.3), fates(42, 0.3), fates(7, 0.3)
	if len(a) < 200 || len(a) > 400 {
		t.Errorf("ratio 0.3 made %d of 1000 destinations undeliverable", len(a))
	}
	if !sameKeys(a, b) {
		t.Error("the same seed chose different destinations")
	}
	if sameKeys(a, c) {
		t.Error("seeds 42 and 7 chose the same destinations")
	}
	if n := len(fates(1, 0)); n != 0 {
		t.Errorf("ratio 0 made %d destinations undeliverable", n)
	}
	if n := len(fates(1, 1)); n != 1000 {
		t.Errorf("ratio 1 made %d of 1000 destinations undeliverable", n)
	}

	// End to end: the recorded state follows the same rule.
	srv := startServer(t, Config{UndelivRatio: 0.3, Seed: 42})
	s := dial(t, srv, smpp.Options{})
	for i := range 20 {
		submitText(t, s, fmt.Sprintf("4470%04d", i), "mix")
	}
	for _, m := range srv.Messages() {
		if want := a[m.Destination.Addr]; (m.State == "UNDELIV") != want {
			t.Errorf("%s: state %s, undeliverable by the rule: %v", m.Destination.Addr, m.State, want)
		}
	}
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// waitStats polls Stats until cond holds, failing after testTimeout.
func waitStats(t *testing.T, srv *Server, cond func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		st := srv.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not reached: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func mustPDU(t *testing.T, seq uint32, status smpp.Status, p smpp.PDU) []byte {
	t.Helper()
	b, err := smpp.AppendPDU(nil, seq, status, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SMPP 3.3 has no TLVs: a session bound with an interface_version below 0x34 must get none,
// neither sc_interface_version in the bind response nor the receipt TLVs; its receipts carry
// everything in the text.
func TestServer_LegacyBindGetsNoTLVs(t *testing.T) {
	for _, tc := range []struct {
		version uint8
		tlvs    bool
	}{{0x00, false}, {0x33, false}, {0x34, true}, {0x50, true}} {
		t.Run(fmt.Sprintf("%#02x", tc.version), func(t *testing.T) {
			srv := startServer(t, Config{})
			r := dialRaw(t, srv)
			r.send(&smpp.Bind{Mode: smpp.BindTransceiver, SystemID: "old", InterfaceVersion: tc.version})
			h, p := r.read()
			resp := p.(*smpp.BindResp)
			if h.Status != smpp.StatusOK || (len(resp.TLVs) > 0) != tc.tlvs {
				t.Fatalf("bind_resp %v with TLVs %v, want TLVs: %v", h.Status, resp.TLVs, tc.tlvs)
			}
			r.send(textSubmits(t, "B", "447008", "old handset", coding.Options{}, 1)[0])
			var receipt *smpp.DeliverSM
			for receipt == nil {
				_, p := r.read()
				receipt, _ = p.(*smpp.DeliverSM)
			}
			if _, ok := receipt.TLVs.Get(smpp.TagReceiptedMessageID); ok != tc.tlvs || (len(receipt.TLVs) > 0) != tc.tlvs {
				t.Errorf("receipt TLVs %v, want TLVs: %v", receipt.TLVs, tc.tlvs)
			}
			got, err := smpp.ReceiptFromDeliverSM(receipt)
			if err != nil || got.ID == "" || got.State != smpp.StateDelivered {
				t.Errorf("receipt %+v, %v: want a DELIVRD receipt read from the text", got, err)
			}
		})
	}
}

// The client's unbind is answered with the last PDU of the session: receipts due meanwhile
// are not queued behind the unbind_resp (the reader has stopped, so their answers would be
// lost); they go to the next session. Before, hundreds followed it while receipts streamed.
func TestServer_NothingAfterUnbindResp(t *testing.T) {
	srv := startServer(t, Config{ReceiptDelay: 20 * time.Millisecond})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	const n = 2000
	var burst []byte
	for i := range n {
		burst = append(burst, mustPDU(t, uint32(i+10), smpp.StatusOK, textSubmits(t, "B", fmt.Sprint(447100000000+i), "stream", coding.Options{}, 1)[0])...)
	}
	r.write(burst)
	unbindSeq := uint32(1 << 20)
	sentUnbind, gotResp, after := false, false, 0
	for range 3*n + 10 {
		pdu, err := smpp.ReadPDU(r.nc, nil, 0)
		if err != nil {
			break // the simulator closed the connection
		}
		h, err := smpp.DecodeHeader(pdu)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case gotResp:
			after++
		case h.ID == smpp.DeliverSMID && !sentUnbind:
			r.write(mustPDU(t, unbindSeq, smpp.StatusOK, &smpp.Unbind{}))
			sentUnbind = true
		case h.ID == smpp.UnbindRespID && h.Sequence == unbindSeq:
			gotResp = true
		}
	}
	if !sentUnbind || !gotResp {
		t.Fatalf("receipt seen: %v, unbind_resp seen: %v; want both", sentUnbind, gotResp)
	}
	if after > 0 {
		t.Errorf("%d PDUs came after the unbind_resp, want none", after)
	}
}

// schedule_delivery_time and validity_period count: a message scheduled later gets its
// receipt then, one whose validity ends before it could be delivered gets EXPIRED, and a
// malformed time is refused with ESME_RINVSCHED or ESME_RINVEXPIRY.
func TestServer_ScheduleAndValidity(t *testing.T) {
	srv := startServer(t, Config{})
	in := newInbox()
	s := dial(t, srv, smpp.Options{Handler: in.handle})
	submit := func(dest, schedule, validity string) (string, error) {
		t.Helper()
		p := textSubmits(t, "B", dest, "timed", coding.Options{}, 1)[0]
		p.ScheduleDeliveryTime, p.ValidityPeriod = schedule, validity
		resp, err := s.Submit(testContext(t), p)
		if err != nil {
			return "", err
		}
		return resp.MessageID, nil
	}
	now := time.Now()
	for _, tc := range []struct {
		name, schedule, validity string
		want                     smpp.Status
	}{
		{"schedule not a time", "301231235959000X", "", smpp.StatusInvSched},
		{"schedule on the 31st of February", "300231120000000+", "", smpp.StatusInvSched},
		{"validity not a time", "", "000000000001000X", smpp.StatusInvExpiry},
	} {
		if _, err := submit("447002", tc.schedule, tc.validity); statusOf(t, err) != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	expired, err := submit("447003", "", smpp.FormatAbsoluteTime(now.Add(-time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := smpp.ReceiptFromDeliverSM(in.waitReceipt(t, expired)); err != nil || r.State != smpp.StateExpired {
		t.Errorf("validity an hour ago: receipt %+v, %v; want EXPIRED", r, err)
	}
	if _, err := submit("447004", smpp.FormatRelativeTime(time.Hour), ""); err != nil {
		t.Fatal(err)
	}
	marker, _ := submit("447005", "", "")
	in.waitReceipt(t, marker)
	// The expired message's and the marker's receipts answered; the scheduled one not due.
	waitStats(t, srv, func(st Stats) bool { return st.ReceiptsAcked == 2 && st.ReceiptsPending == 1 })
}

// What a real SMSC refuses in a submit_sm is refused with the status SMPP.md gives for it,
// so that a client's encoder bugs show in a rehearsal instead of at the carrier.
func TestServer_SubmitChecks(t *testing.T) {
	srv := startServer(t, Config{})
	r := dialRaw(t, srv)
	r.bind(smpp.BindTransceiver)
	sar := func(ref []byte, total, seq byte) func(p *smpp.SubmitSM) {
		return func(p *smpp.SubmitSM) {
			p.TLVs.Set(smpp.TagSarMsgRefNum, ref)
			p.TLVs.SetUint8(smpp.TagSarTotalSegments, total)
			p.TLVs.SetUint8(smpp.TagSarSegmentSeqnum, seq)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(p *smpp.SubmitSM)
		raw    []byte // octets appended after encoding, for what the encoder refuses to build
		want   smpp.Status
	}{
		{"as built", func(*smpp.SubmitSM) {}, nil, smpp.StatusOK},
		{"message type 0x3C", func(p *smpp.SubmitSM) { p.ESMClass = 0x3F }, nil, smpp.StatusInvESMClass},
		{"priority 7", func(p *smpp.SubmitSM) { p.PriorityFlag = 7 }, nil, smpp.StatusInvPrtFlg},
		{"replace_if_present 5", func(p *smpp.SubmitSM) { p.ReplaceIfPresentFlag = 5 }, nil, smpp.StatusInvRepFlag},
		{"source TON 9", func(p *smpp.SubmitSM) { p.SourceAddrTON = 9 }, nil, smpp.StatusInvSrcTON},
		{"destination TON 9", func(p *smpp.SubmitSM) { p.DestAddrTON = 9 }, nil, smpp.StatusInvDstTON},
		{"destination not digits", func(p *smpp.SubmitSM) { p.DestinationAddr = "hello" }, nil, smpp.StatusInvDstAdr},
		{"short_message and message_payload", func(*smpp.SubmitSM) {}, []byte{0x04, 0x24, 0, 5, 'H', 'e', 'l', 'l', 'o'}, smpp.StatusInvMsgLen},
		{"two of the three sar_*", func(p *smpp.SubmitSM) {
			p.TLVs.SetUint16(smpp.TagSarMsgRefNum, 7)
			p.TLVs.SetUint8(smpp.TagSarTotalSegments, 2)
		}, nil, smpp.StatusMissingOptParam},
		{"a one-octet sar_msg_ref_num", sar([]byte{7}, 2, 1), nil, smpp.StatusInvParLen},
		{"segment 3 of 2", sar([]byte{0, 7}, 2, 3), nil, smpp.StatusInvOptParamVal},
		{"sar_* and a UDH", func(p *smpp.SubmitSM) {
			p.ESMClass |= 0x40
			p.ShortMessage = append([]byte{5, 0, 3, 7, 2, 1}, p.ShortMessage...)
			sar([]byte{0, 7}, 2, 1)(p)
		}, nil, smpp.StatusOptParNotAllwd},
	} {
		p := textSubmits(t, "B", "447009", "checked", coding.Options{}, 0)[0]
		tc.change(p)
		r.seq++
		b := append(mustPDU(t, r.seq, smpp.StatusOK, p), tc.raw...)
		binary.BigEndian.PutUint32(b, uint32(len(b)))
		r.write(b)
		if h, _ := r.read(); h.ID != smpp.SubmitSMRespID || h.Status != tc.want {
			t.Errorf("%s: %v %v, want submit_sm_resp %v", tc.name, h.ID, h.Status, tc.want)
		}
	}
}

// A receipt that falls due while the only session with room in its window is closing waits
// for room on another session of its system_id, not for a new bind.
func TestServer_ReceiptNotStrandedByAClosingSession(t *testing.T) {
	srv := startServer(t, Config{DeliverWindow: 1, RespDelay: 600 * time.Millisecond, ReceiptDelay: 300 * time.Millisecond})
	b := dialRaw(t, srv)
	b.bind(smpp.BindTransceiver)
	b.send(textSubmits(t, "B", "447001", "one", coding.Options{}, 1)[0])
	var first uint32
	for got := 0; got < 2; got++ { // submit_sm_resp and the receipt, in either order
		h, p := b.read()
		if _, ok := p.(*smpp.DeliverSM); ok {
			first = h.Sequence // left unanswered: B's window of 1 is full
		}
	}
	a := dialRaw(t, srv)
	a.bind(smpp.BindReceiver)

	b.send(textSubmits(t, "B", "447002", "two", coding.Options{}, 1)[0]) // its receipt falls due in 300 ms
	a.send(&smpp.EnquireLink{})                                          // answered in 600 ms
	a.nc.(*net.TCPConn).CloseWrite()                                     // A's reader ends; its writer waits for that answer
	for {                                                                // A closes once the enquire_link_resp is out
		if _, err := smpp.ReadPDU(a.nc, nil, 0); err != nil {
			break
		}
	}
	b.write(mustPDU(t, first, smpp.StatusOK, &smpp.DeliverSMResp{}))
	b.nc.SetReadDeadline(time.Now().Add(testTimeout)) // a bound on the wait, not on its speed
	for {
		pdu, err := smpp.ReadPDU(b.nc, nil, 0)
		if err != nil {
			t.Fatalf("B is bound with room in its window, but the second receipt never came (%v); stats %+v", err, srv.Stats())
		}
		h, p, _ := smpp.Decode(pdu)
		if _, ok := p.(*smpp.DeliverSM); ok {
			b.write(mustPDU(t, h.Sequence, smpp.StatusOK, &smpp.DeliverSMResp{}))
			return
		}
	}
}
