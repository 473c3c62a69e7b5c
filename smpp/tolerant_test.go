package smpp

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"reflect"
	"strings"
	"testing"
)

// DecodeTolerant drops junk after the last field a body can hold, which real SMSCs send (a
// NUL after short_message, a TLV cut short), and adds the NUL a last C-string lacks, where
// Decode refuses the PDU; it gives the same PDU as the vector without the fault. Errors
// inside the fields stay errors.
func TestDecodeTolerant(t *testing.T) {
	vectors := goldenVectors(t)
	withTail := func(name string, tail ...byte) []byte {
		pdu := append(bytes.Clone(vectors[name]), tail...)
		binary.BigEndian.PutUint32(pdu, uint32(len(pdu)))
		return pdu
	}
	withoutLast := func(name string) []byte {
		pdu := bytes.Clone(vectors[name][:len(vectors[name])-1])
		binary.BigEndian.PutUint32(pdu, uint32(len(pdu)))
		return pdu
	}
	// The receipt's TLVs are receipted_message_id then message_state; cut message_state's
	// value off, keeping its tag and a length that claims one octet.
	receipt := vectors["12.3-deliver_sm-receipt"]
	cutTLV := bytes.Clone(receipt[:len(receipt)-1])
	binary.BigEndian.PutUint32(cutTLV, uint32(len(cutTLV)))
	wantCut := bytes.Clone(receipt[:len(receipt)-5])
	binary.BigEndian.PutUint32(wantCut, uint32(len(wantCut)))

	tests := []struct {
		name      string
		pdu, want []byte // want: the PDU it must decode as
	}{
		{"deliver_sm receipt with a NUL after the TLVs", withTail("12.3-deliver_sm-receipt", 0), receipt},
		{"deliver_sm receipt with CR LF after the TLVs", withTail("12.3-deliver_sm-receipt", '\r', '\n'), receipt},
		{"deliver_sm receipt with its last TLV cut short", cutTLV, wantCut},
		{"submit_sm_resp with a NUL after message_id", withTail("12.2-submit_sm_resp", 0), vectors["12.2-submit_sm_resp"]},
		{"submit_sm_resp with three stray octets", withTail("12.2-submit_sm_resp", 0, 0, 0), vectors["12.2-submit_sm_resp"]},
		{"bind_transceiver_resp with a stray octet", withTail("12.1-bind_transceiver_resp", 0), vectors["12.1-bind_transceiver_resp"]},
		{"enquire_link_resp with a body", withTail("12.4-enquire_link_resp", 0), vectors["12.4-enquire_link_resp"]},
		{"submit_sm_resp whose message_id lacks its NUL", withoutLast("12.2-submit_sm_resp"), vectors["12.2-submit_sm_resp"]},
		{"bind_transceiver_resp whose system_id lacks its NUL", withoutLast("12.1-bind_transceiver_resp-no-tlv"), vectors["12.1-bind_transceiver_resp-no-tlv"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Decode(tt.pdu); err == nil {
				t.Error("Decode accepted the junk: the simulator must stay strict")
			}
			h, got, err := DecodeTolerant(tt.pdu)
			if err != nil {
				t.Fatalf("DecodeTolerant: %v", err)
			}
			wh, want, err := Decode(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %#v, want %#v", got, want)
			}
			if h.Length != uint32(len(tt.pdu)) || h.ID != wh.ID || h.Sequence != wh.Sequence {
				t.Errorf("header %+v, want the received one (length %d)", h, len(tt.pdu))
			}
		})
	}

	// A message_id longer than SMPP 3.4's 64 characters is still the id the SMSC accepted the
	// message under, whatever its octets: refusing the response would report the message
	// rejected, and a resend would reach the recipient twice.
	for _, long := range []string{strings.Repeat("A", 70), strings.Repeat("A", 35) + " " + strings.Repeat("B", 33) + "\n\xff"} {
		if _, p, err := DecodeTolerant(hexPDU(t, SubmitSMRespID, 0, hex.EncodeToString([]byte(long))+"00")); err != nil || p.(*SubmitSMResp).MessageID != long {
			t.Errorf("submit_sm_resp with a %d-character id %q: %#v, %v", len(long), long, p, err)
		}
	}
	// An error response with such an id keeps its status.
	if h, p, err := DecodeTolerant(hexPDU(t, SubmitSMRespID, StatusThrottled, hex.EncodeToString([]byte(strings.Repeat("A", 70)))+"00")); err != nil || h.Status != StatusThrottled || p.(*SubmitSMResp).MessageID != "" {
		t.Errorf("an ESME_RTHROTTLED submit_sm_resp with a 70-character id: %+v %#v, %v", h, p, err)
	}

	// A system_id longer than SMPP 3.4's 15 characters in a bind response: the SMSC bound the
	// session; the name is kept (cut to 64 characters), and so is sc_interface_version.
	for _, name := range []string{"ABCDEFGHIJKLMNOP", strings.Repeat("X", 80)} {
		pdu := hexPDU(t, BindTransceiverRespID, 0, hex.EncodeToString([]byte(name))+"00 0210 0001 34")
		_, p, err := DecodeTolerant(pdu)
		r, ok := p.(*BindResp)
		if err != nil || !ok || r.Mode != BindTransceiver || r.SystemID != name[:min(len(name), 64)] {
			t.Errorf("bind_transceiver_resp with a %d-character system_id: %#v, %v", len(name), p, err)
			continue
		}
		if v, ok := r.TLVs.Uint8(TagSCInterfaceVersion); !ok || v != 0x34 {
			t.Errorf("bind_transceiver_resp with a %d-character system_id lost sc_interface_version: %#v", len(name), r.TLVs)
		}
	}

	// Errors inside the fields are not junk.
	badLen := bytes.Clone(receipt)
	smLen := bytes.Index(badLen, []byte("id:")) - 1 // sm_length precedes the text
	badLen[smLen] = 0xFF
	for name, pdu := range map[string][]byte{
		"sm_length beyond the body":    badLen,
		"service_type without its NUL": hexPDU(t, DeliverSMID, 0, "43 4D 54"),
		"unknown command_id":           hexPDU(t, 0x00000222, 0, ""),
	} {
		if _, p, err := DecodeTolerant(pdu); err == nil {
			t.Errorf("%s: decoded as %#v, want an error", name, p)
		}
	}
}

// A session forgives the SMSC junk after the last field: a submit_sm_resp with a stray NUL
// after message_id is the accepted message it says, not a failed submit, and a receipt with
// a NUL after short_message reaches the handler and is acknowledged, instead of being
// refused and resent until the SMSC gives up.
func TestSession_ToleratesJunkAfterTheLastField(t *testing.T) {
	leakCheck(t)
	handled := make(chan *DeliverSM, 1)
	respStatus := make(chan Status, 1)
	opt := Options{Handler: func(_ context.Context, p PDU) Status {
		if d, ok := p.(*DeliverSM); ok {
			handled <- d
		}
		return StatusOK
	}}
	s := startSession(t, opt, func(f *fakeSMSC) {
		h, _, ok := f.expect(SubmitSMID)
		if !ok {
			return
		}
		resp, err := AppendPDU(nil, h.Sequence, StatusOK, &SubmitSMResp{MessageID: "42"})
		if err != nil {
			t.Error(err)
			return
		}
		receipt, err := AppendPDU(nil, 100, StatusOK, &DeliverSM{ESMClass: 0x04,
			ShortMessage: []byte("id:42 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Hi")})
		if err != nil {
			t.Error(err)
			return
		}
		for _, pdu := range [][]byte{resp, receipt} {
			pdu = append(pdu, 0)
			binary.BigEndian.PutUint32(pdu, uint32(len(pdu)))
			if !f.sendRaw(pdu) {
				return
			}
		}
		if dh, _, ok := f.expect(DeliverSMRespID); ok {
			respStatus <- dh.Status
		}
		f.finish()
	})
	resp, err := s.Submit(context.Background(), testSubmit("447700900001"))
	if err != nil || resp.MessageID != "42" {
		t.Errorf("Submit = %+v, %v; want message_id 42", resp, err)
	}
	if d := recv(t, handled, "the handler to receive the receipt"); !bytes.HasPrefix(d.ShortMessage, []byte("id:42 ")) {
		t.Errorf("handler got %q, want the receipt", d.ShortMessage)
	}
	if st := recv(t, respStatus, "the deliver_sm_resp"); st != StatusOK {
		t.Errorf("deliver_sm_resp status %v, want 0", st)
	}
}

// A deliver_sm whose fields cannot be read (a source_addr of 25 digits, over SMPP 3.4's 20)
// gets a deliver_sm_resp naming the problem, and OnUnreadable hears of it, so the campaign
// can say that a receipt may be lost.
func TestSession_OnUnreadable(t *testing.T) {
	leakCheck(t)
	type unreadable struct {
		h   Header
		err error
	}
	heard := make(chan unreadable, 1)
	respStatus := make(chan Status, 1)
	opt := Options{OnUnreadable: func(h Header, err error) { heard <- unreadable{h, err} }}
	startSession(t, opt, func(f *fakeSMSC) {
		body := "00 01 01 " + hex.EncodeToString([]byte(strings.Repeat("4", 25))) + "00 01 01 3434373700 04 00 00 00 00 00 00 00 05 7374617420"
		if !f.sendRaw(hexPDU(t, DeliverSMID, 0, body)) {
			return
		}
		if h, _, ok := f.expect(DeliverSMRespID); ok {
			respStatus <- h.Status
		}
		f.finish()
	})
	got := recv(t, heard, "OnUnreadable")
	if got.h.ID != DeliverSMID || got.h.Sequence != 5 || got.err == nil || !strings.Contains(got.err.Error(), "source_addr") {
		t.Errorf("OnUnreadable(%+v, %v), want the deliver_sm and an error about source_addr", got.h, got.err)
	}
	if st := recv(t, respStatus, "the deliver_sm_resp"); st != StatusInvSrcAdr {
		t.Errorf("deliver_sm_resp status %v, want ESME_RINVSRCADR", st)
	}
}
