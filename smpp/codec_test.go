package smpp

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// goldenVectors reads testdata/vectors.txt: "name: hex" lines, '#' comments.
func goldenVectors(t testing.TB) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/vectors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, hx, ok := strings.Cut(line, ":")
		if !ok {
			t.Fatalf("vectors.txt: bad line %q", line)
		}
		b, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(hx), " ", ""))
		if err != nil {
			t.Fatalf("vectors.txt: %s: %v", name, err)
		}
		out[name] = b
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const receiptText = "id:5f1e0b7a sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000 text:Hello"

func TestGoldenVectors(t *testing.T) {
	vectors := goldenVectors(t)
	tests := []struct {
		name string
		h    Header
		p    PDU
	}{
		{"12.1-bind_transceiver", Header{42, BindTransceiverID, 0, 1},
			&Bind{Mode: BindTransceiver, SystemID: "smppclient1", Password: "password", InterfaceVersion: 0x34}},
		{"12.1-bind_transceiver_resp", Header{26, BindTransceiverRespID, 0, 1},
			&BindResp{Mode: BindTransceiver, SystemID: "SMSC", TLVs: TLVs{{TagSCInterfaceVersion, []byte{0x34}}}}},
		{"12.1-bind_transceiver_resp-no-tlv", Header{21, BindTransceiverRespID, 0, 1},
			&BindResp{Mode: BindTransceiver, SystemID: "SMSC"}},
		{"12.1-bind_transceiver_resp-bad-password", Header{16, BindTransceiverRespID, StatusInvPaswd, 1},
			&BindResp{Mode: BindTransceiver}},
		{"12.2-submit_sm", Header{57, SubmitSMID, 0, 2}, &SubmitSM{
			SourceAddrTON: 5, SourceAddr: "MyBrand", DestAddrTON: 1, DestAddrNPI: 1,
			DestinationAddr: "447700900123", RegisteredDelivery: 1, ShortMessage: []byte("Hello")}},
		{"12.2-submit_sm_resp", Header{25, SubmitSMRespID, 0, 2}, &SubmitSMResp{MessageID: "5f1e0b7a"}},
		{"12.2-submit_sm_resp-throttled", Header{16, SubmitSMRespID, StatusThrottled, 2}, &SubmitSMResp{}},
		{"12.3-deliver_sm-receipt", Header{175, DeliverSMID, 0, 7}, &DeliverSM{
			SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "447700900123", DestAddrTON: 5,
			DestinationAddr: "MyBrand", ESMClass: 4, ShortMessage: []byte(receiptText),
			TLVs: TLVs{{TagReceiptedMessageID, []byte("5f1e0b7a\x00")}, {TagMessageState, []byte{2}}}}},
		{"12.3-deliver_sm_resp", Header{17, DeliverSMRespID, 0, 7}, &DeliverSMResp{}},
		{"12.4-enquire_link", Header{16, EnquireLinkID, 0, 3}, &EnquireLink{}},
		{"12.4-enquire_link_resp", Header{16, EnquireLinkRespID, 0, 3}, &EnquireLinkResp{}},
		{"12.4-unbind", Header{16, UnbindID, 0, 4}, &Unbind{}},
		{"12.4-unbind_resp", Header{16, UnbindRespID, 0, 4}, &UnbindResp{}},
		{"12.4-generic_nack", Header{16, GenericNackID, StatusInvCmdID, 0}, &GenericNack{}},
		{"12.4-spec-bind_transmitter", Header{47, BindTransmitterID, 0, 1}, &Bind{Mode: BindTransmitter,
			SystemID: "SMPP3TEST", Password: "secret08", SystemType: "SUBMIT1", AddrTON: 1, AddrNPI: 1}},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire, ok := vectors[tt.name]
			if !ok {
				t.Fatalf("no vector %q in testdata/vectors.txt", tt.name)
			}
			seen[tt.name] = true
			h, p, err := Decode(wire)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if h != tt.h {
				t.Errorf("header = %+v, want %+v", h, tt.h)
			}
			if !reflect.DeepEqual(p, tt.p) {
				t.Errorf("body = %#v\nwant   %#v", p, tt.p)
			}
			got, err := AppendPDU(nil, tt.h.Sequence, tt.h.Status, tt.p)
			if err != nil {
				t.Fatalf("AppendPDU: %v", err)
			}
			if !bytes.Equal(got, wire) {
				t.Errorf("AppendPDU =\n% X\nwant\n% X", got, wire)
			}
		})
	}
	for name := range vectors {
		if !seen[name] {
			t.Errorf("vector %q has no expected struct", name)
		}
	}
}

// TestAppendPDU_NilIsGenericNack checks the header-only form used for undecodable PDUs.
func TestAppendPDU_NilIsGenericNack(t *testing.T) {
	got, err := AppendPDU([]byte{0xEE}, 0, StatusInvCmdLen, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xEE, 0, 0, 0, 16, 0x80, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0}
	if !bytes.Equal(got, want) {
		t.Errorf("got % X, want % X", got, want)
	}
}

// TestRoundTrip encodes every PDU type with every field set, decodes it, and compares.
func TestRoundTrip(t *testing.T) {
	tlvs := TLVs{{Tag(0x1401), []byte("vendor")}, {TagUserMessageReference, []byte{0x12, 0x34}}, {TagAlertOnMessageDelivery, []byte{}}}
	sm := SubmitSM{
		ServiceType: "CMT", SourceAddrTON: 1, SourceAddrNPI: 1, SourceAddr: "12345678901234567890",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "447700900123", ESMClass: 0x40, ProtocolID: 1,
		PriorityFlag: 3, ScheduleDeliveryTime: "250314153000000+", ValidityPeriod: "000000010000000R",
		RegisteredDelivery: 1, ReplaceIfPresentFlag: 1, DataCoding: 8, SMDefaultMsgID: 1,
		ShortMessage: append([]byte{0, 0, 0x1B, 0x65}, bytes.Repeat([]byte{'@'}, 250)...), TLVs: tlvs,
	}
	tests := []struct {
		name   string
		status Status
		p      PDU
	}{
		{"bind_transmitter", 0, &Bind{Mode: BindTransmitter, SystemID: "abcdefghijklmno", Password: "12345678",
			SystemType: "abcdefghijkl", InterfaceVersion: 0x34, AddrTON: 2, AddrNPI: 3, AddressRange: strings.Repeat("9", 40)}},
		{"bind_receiver", 0, &Bind{Mode: BindReceiver, SystemID: "rx"}},
		{"bind_transceiver", 0, &Bind{Mode: BindTransceiver, SystemID: "trx", Password: "pw"}},
		{"bind_transmitter_resp", 0, &BindResp{Mode: BindTransmitter, SystemID: "SMSC", TLVs: tlvs}},
		{"bind_receiver_resp", 0, &BindResp{Mode: BindReceiver, SystemID: "SMSC"}},
		{"bind_transceiver_resp with body and error", StatusBindFail, &BindResp{Mode: BindTransceiver, SystemID: "SMSC"}},
		{"outbind", 0, &Outbind{SystemID: "SMSC", Password: "secret"}},
		{"unbind", 0, &Unbind{}},
		{"unbind_resp", 0, &UnbindResp{}},
		{"enquire_link", 0, &EnquireLink{}},
		{"enquire_link_resp", 0, &EnquireLinkResp{}},
		{"generic_nack", StatusInvCmdID, &GenericNack{}},
		{"submit_sm", 0, &sm},
		{"submit_sm empty", 0, &SubmitSM{}},
		{"submit_sm payload", 0, &SubmitSM{DestinationAddr: "1", TLVs: TLVs{{TagMessagePayload, bytes.Repeat([]byte{0}, 3000)}}}},
		{"deliver_sm", 0, (*DeliverSM)(&sm)},
		{"submit_sm_resp", 0, &SubmitSMResp{MessageID: strings.Repeat("f", 64)}},
		{"submit_sm_resp with body and error", StatusSysErr, &SubmitSMResp{MessageID: "x", TLVs: tlvs}},
		{"deliver_sm_resp", 0, &DeliverSMResp{}},
		{"deliver_sm_resp error", StatusXTAppn, &DeliverSMResp{}},
		{"data_sm", 0, &DataSM{ServiceType: "WAP", SourceAddrTON: 1, SourceAddrNPI: 2, SourceAddr: strings.Repeat("1", 64),
			DestAddrTON: 3, DestAddrNPI: 4, DestinationAddr: strings.Repeat("2", 64), ESMClass: 4, RegisteredDelivery: 1,
			DataCoding: 3, TLVs: tlvs}},
		{"data_sm_resp", 0, &DataSMResp{MessageID: "abc", TLVs: TLVs{{TagDeliveryFailureReason, []byte{3}}}}},
		{"data_sm_resp error", StatusDeliveryFailure, &DataSMResp{TLVs: TLVs{{TagDeliveryFailureReason, []byte{3}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const seq = 0x7FFFFFFF
			wire, err := AppendPDU(nil, seq, tt.status, tt.p)
			if err != nil {
				t.Fatalf("AppendPDU: %v", err)
			}
			h, p, err := Decode(wire)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			want := Header{uint32(len(wire)), tt.p.CommandID(), tt.status, seq}
			if h != want {
				t.Errorf("header = %+v, want %+v", h, want)
			}
			if !reflect.DeepEqual(p, tt.p) {
				t.Errorf("body = %#v\nwant   %#v", p, tt.p)
			}
		})
	}
}

func TestAppendPDU_FailedResponseIsHeaderOnly(t *testing.T) {
	tests := []struct {
		p    PDU
		want int
	}{
		{&SubmitSMResp{}, HeaderLen},
		{&BindResp{Mode: BindReceiver}, HeaderLen},
		{&DeliverSMResp{}, HeaderLen + 1}, // message_id NUL kept: strict SMSCs expect it
		{&DataSMResp{}, HeaderLen + 1},
	}
	for _, tt := range tests {
		wire, err := AppendPDU(nil, 9, StatusXTAppn, tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if len(wire) != tt.want {
			t.Errorf("%T: %d octets, want %d", tt.p, len(wire), tt.want)
		}
	}
}

func TestAppendPDU_Errors(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name   string
		p      PDU
		field  string
		status Status
	}{
		{"system_id", &Bind{SystemID: long(16)}, "system_id", StatusInvSysID},
		{"password", &Bind{Password: "123456789"}, "password", StatusInvPaswd},
		{"system_type", &Bind{SystemType: long(13)}, "system_type", StatusInvSysTyp},
		{"address_range", &Bind{AddressRange: long(41)}, "address_range", StatusInvCmdLen},
		{"bind mode", &Bind{Mode: 7}, "command_id", StatusInvCmdID},
		{"service_type", &SubmitSM{ServiceType: long(6)}, "service_type", StatusInvSerTyp},
		{"source_addr", &SubmitSM{SourceAddr: long(21)}, "source_addr", StatusInvSrcAdr},
		{"destination_addr", &SubmitSM{DestinationAddr: long(21)}, "destination_addr", StatusInvDstAdr},
		{"NUL in destination_addr", &SubmitSM{DestinationAddr: "12\x0034"}, "destination_addr", StatusInvDstAdr},
		{"schedule 15 chars", &SubmitSM{ScheduleDeliveryTime: long(15)}, "schedule_delivery_time", StatusInvSched},
		{"validity 17 chars", &SubmitSM{ValidityPeriod: long(17)}, "validity_period", StatusInvExpiry},
		{"sm_length 255", &SubmitSM{ShortMessage: make([]byte, 255)}, "short_message", StatusInvMsgLen},
		{"both payloads", &SubmitSM{ShortMessage: []byte("a"), TLVs: TLVs{{TagMessagePayload, []byte("b")}}}, "short_message", StatusInvMsgLen},
		{"deliver_sm source_addr", &DeliverSM{SourceAddr: long(21)}, "source_addr", StatusInvSrcAdr},
		{"submit_sm_resp message_id", &SubmitSMResp{MessageID: long(65)}, "message_id", StatusInvMsgID},
		{"deliver_sm_resp message_id", &DeliverSMResp{MessageID: "1"}, "message_id", StatusInvMsgID},
		{"data_sm source_addr", &DataSM{SourceAddr: long(65)}, "source_addr", StatusInvSrcAdr},
		{"TLV too long", &DataSM{TLVs: TLVs{{TagMessagePayload, make([]byte, 65536)}}}, "message_payload", StatusInvParLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := AppendPDU(dst, 1, 0, tt.p)
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ProtocolError", err)
			}
			if pe.Field != tt.field || pe.Status != tt.status {
				t.Errorf("field, status = %q, %v; want %q, %v", pe.Field, pe.Status, tt.field, tt.status)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field", err)
			}
			if string(got) != "keep" {
				t.Errorf("dst = %q, want it unchanged", got)
			}
		})
	}
}

func TestAppendPDU_PasswordNeverInError(t *testing.T) {
	_, err := AppendPDU(nil, 1, 0, &Bind{Password: "sup3rSecretPW"})
	if err == nil || strings.Contains(err.Error(), "sup3rSecretPW") || !strings.Contains(err.Error(), "13 octets: a password is at most 8 octets") {
		t.Fatalf("err = %v: want an error that counts the octets and does not print the password", err)
	}
	// A short password with a NUL is refused for the NUL, not for its length.
	_, err = AppendPDU(nil, 1, 0, &Bind{Password: "ab\x00cd"})
	if err == nil || strings.Contains(err.Error(), "cd") || !strings.Contains(err.Error(), "contains a NUL byte") {
		t.Fatalf("err = %v: want the NUL named, and no part of the password", err)
	}
	// Six characters, nine octets: the count a user makes is said too.
	_, err = AppendPDU(nil, 1, 0, &Bind{Password: "Päss€1"})
	if err == nil || strings.Contains(err.Error(), "Päss€1") || !strings.Contains(err.Error(), "9 octets (6 characters") {
		t.Fatalf("err = %v: want the octets and the characters counted", err)
	}
}

// hexPDU builds a PDU from a header and a hex body, fixing command_length.
func hexPDU(t *testing.T, id CommandID, status Status, body string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(body, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	wire, err := AppendPDU(nil, 5, status, &rawBody{id, b})
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// rawBody sends arbitrary octets as a body, to build malformed PDUs.
type rawBody struct {
	id   CommandID
	body []byte
}

func (r *rawBody) CommandID() CommandID                  { return r.id }
func (r *rawBody) AppendBody(dst []byte) ([]byte, error) { return append(dst, r.body...), nil }
func (r *rawBody) DecodeBody([]byte) error               { return errors.New("not used") }

func TestDecode_Errors(t *testing.T) {
	submitHead := "00 05 00 4D 79 00 01 01 34 34 00 00 00 00 00 00 01 00 00 00" // up to sm_default_msg_id
	tests := []struct {
		name   string
		pdu    func(t *testing.T) []byte
		field  string
		status Status
	}{
		{"short header", func(*testing.T) []byte { return []byte{0, 0, 0, 16, 0, 0} }, "command_length", StatusInvCmdLen},
		{"command_length < 16", func(*testing.T) []byte {
			return []byte{0, 0, 0, 15, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1}
		}, "command_length", StatusInvCmdLen},
		{"command_length mismatch", func(*testing.T) []byte {
			return []byte{0, 0, 0, 17, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1}
		}, "command_length", StatusInvCmdLen},
		{"unknown command", func(t *testing.T) []byte { return hexPDU(t, 0x123, 0, "") }, "command_id", StatusInvCmdID},
		{"query_sm unsupported", func(t *testing.T) []byte { return hexPDU(t, QuerySMID, 0, "00 00 00 00") }, "command_id", StatusInvCmdID},
		{"enquire_link with body", func(t *testing.T) []byte { return hexPDU(t, EnquireLinkID, 0, "00") }, "command_length", StatusInvCmdLen},
		{"system_id too long", func(t *testing.T) []byte {
			return hexPDU(t, BindTransmitterID, 0, strings.Repeat("41 ", 16)+"00 00 00 34 00 00 00")
		}, "system_id", StatusInvSysID},
		{"system_id no NUL", func(t *testing.T) []byte { return hexPDU(t, BindTransmitterID, 0, "41 42 43") }, "system_id", StatusInvCmdLen},
		{"bind truncated", func(t *testing.T) []byte { return hexPDU(t, BindTransmitterID, 0, "41 00 42 00 00") }, "interface_version", StatusInvCmdLen},
		{"bind stray octets", func(t *testing.T) []byte {
			return hexPDU(t, BindReceiverID, 0, "41 00 42 00 00 34 00 00 00 99")
		}, "command_length", StatusInvCmdLen},
		{"source_addr too long", func(t *testing.T) []byte {
			return hexPDU(t, SubmitSMID, 0, "00 05 00"+strings.Repeat(" 31", 21)+" 00")
		}, "source_addr", StatusInvSrcAdr},
		{"short_message truncated", func(t *testing.T) []byte { return hexPDU(t, SubmitSMID, 0, submitHead+" 05 48 65") }, "short_message", StatusInvMsgLen},
		{"sm_length missing", func(t *testing.T) []byte { return hexPDU(t, SubmitSMID, 0, submitHead) }, "sm_length", StatusInvCmdLen},
		{"TLV header truncated", func(t *testing.T) []byte { return hexPDU(t, SubmitSMID, 0, submitHead+" 00 04 27 00") }, "optional parameters", StatusInvOptParStream},
		{"TLV value truncated", func(t *testing.T) []byte {
			return hexPDU(t, SubmitSMID, 0, submitHead+" 00 04 24 00 05 01 02")
		}, "message_payload", StatusInvOptParStream},
		{"message_id too long", func(t *testing.T) []byte {
			return hexPDU(t, SubmitSMRespID, 0, strings.Repeat("31 ", 65)+"00")
		}, "message_id", StatusInvMsgID},
		{"data_sm destination_addr no NUL", func(t *testing.T) []byte {
			return hexPDU(t, DataSMID, 0, "00 01 01 31 00 01 01 32 33")
		}, "destination_addr", StatusInvCmdLen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, err := Decode(tt.pdu(t))
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (body %#v), want a *ProtocolError", err, p)
			}
			if pe.Field != tt.field || pe.Status != tt.status {
				t.Errorf("field, status = %q, %v; want %q, %v (%v)", pe.Field, pe.Status, tt.field, tt.status, err)
			}
			if p != nil {
				t.Errorf("body = %#v, want nil on error", p)
			}
		})
	}
}

func TestDecode_HeaderReturnedOnBodyError(t *testing.T) {
	h, _, err := Decode(hexPDU(t, SubmitSMID, 0, "00"))
	if err == nil || h.Sequence != 5 || h.ID != SubmitSMID {
		t.Fatalf("h, err = %+v, %v; want the header and an error", h, err)
	}
	if !strings.Contains(err.Error(), "submit_sm") {
		t.Errorf("error %q does not name the command", err)
	}
}

// TestDecode_LenientForms covers what real peers send that the strict encoder would not.
func TestDecode_LenientForms(t *testing.T) {
	t.Run("submit_sm_resp status 0 without body", func(t *testing.T) {
		_, p, err := Decode([]byte{0, 0, 0, 16, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1})
		if err != nil || !reflect.DeepEqual(p, &SubmitSMResp{}) {
			t.Fatalf("p, err = %#v, %v", p, err)
		}
	})
	t.Run("deliver_sm_resp with an id", func(t *testing.T) {
		_, p, err := Decode(hexPDU(t, DeliverSMRespID, 0, "31 32 00"))
		if err != nil || p.(*DeliverSMResp).MessageID != "12" {
			t.Fatalf("p, err = %#v, %v", p, err)
		}
	})
	t.Run("sm_length 255 and a 12-character time", func(t *testing.T) {
		sm := "00 00 00 31 00 00 00 31 00 00 00 00" + strings.Repeat(" 31", 12) + " 00 00 00 00 00 00 FF" + strings.Repeat(" 40", 255)
		_, p, err := Decode(hexPDU(t, DeliverSMID, 0, sm))
		if err != nil {
			t.Fatal(err)
		}
		d := p.(*DeliverSM)
		if len(d.ShortMessage) != 255 || d.ScheduleDeliveryTime != "111111111111" {
			t.Errorf("got %#v", d)
		}
	})
}

func TestDecode_CopiesInput(t *testing.T) {
	wire := goldenVectors(t)["12.3-deliver_sm-receipt"]
	_, p, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	before := *p.(*DeliverSM)
	before.ShortMessage = bytes.Clone(before.ShortMessage)
	before.TLVs = TLVs{{TagReceiptedMessageID, []byte("5f1e0b7a\x00")}, {TagMessageState, []byte{2}}}
	for i := range wire {
		wire[i] = 0xAA
	}
	if !reflect.DeepEqual(*p.(*DeliverSM), before) {
		t.Errorf("decoded body changed when the input buffer was overwritten")
	}
}

// A deliver_sm's strings, short_message and TLV values share one copy of the body: writing
// into the octets a caller was given, or appending to them, must not change the strings or
// the other fields. Decoding into a struct costs two allocations: the body copy and the TLV
// list.
func TestDecode_SharedBodyIsolated(t *testing.T) {
	wire := goldenVectors(t)["12.3-deliver_sm-receipt"]
	_, p, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	d := p.(*DeliverSM)
	src, dst, text := d.SourceAddr, d.DestinationAddr, string(d.ShortMessage)
	id, _ := d.TLVs.CString(TagReceiptedMessageID)
	sm := append(d.ShortMessage, "overflow"...) // capped: must reallocate, not overwrite
	for i := range d.ShortMessage {
		d.ShortMessage[i] = 0xAA
	}
	for _, tlv := range d.TLVs {
		_ = append(tlv.Value, 0xBB, 0xBB, 0xBB)
	}
	st, _ := d.TLVs.Uint8(TagMessageState)
	if d.SourceAddr != src || d.DestinationAddr != dst || st != 2 {
		t.Errorf("fields changed by writes to short_message: %q %q state %d", d.SourceAddr, d.DestinationAddr, st)
	}
	if got, _ := d.TLVs.CString(TagReceiptedMessageID); got != id {
		t.Errorf("receipted_message_id %q became %q", id, got)
	}
	if string(sm[:len(text)]) != text || string(sm[len(text):]) != "overflow" {
		t.Errorf("append to short_message: %q", sm)
	}
	body := wire[HeaderLen:]
	if n := testing.AllocsPerRun(100, func() {
		var d DeliverSM
		if err := d.DecodeBody(body); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("DeliverSM.DecodeBody into a reused struct: %v allocations, want 2 (body copy, TLV list)", n)
	}
}

func TestReadPDU(t *testing.T) {
	vectors := goldenVectors(t)
	stream := append(append([]byte{}, vectors["12.2-submit_sm"]...), vectors["12.4-enquire_link"]...)
	r := bytes.NewReader(stream)
	buf := make([]byte, 0, 20) // too small for the submit_sm: must grow
	for _, name := range []string{"12.2-submit_sm", "12.4-enquire_link"} {
		got, err := ReadPDU(r, buf, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(got, vectors[name]) {
			t.Errorf("%s: got % X", name, got)
		}
		buf = got
	}
	if _, err := ReadPDU(r, buf, 0); err != io.EOF {
		t.Errorf("at end: err = %v, want io.EOF", err)
	}

	tests := []struct {
		name  string
		input []byte
		max   int
		want  error
	}{
		{"truncated length", []byte{0, 0}, 0, io.ErrUnexpectedEOF},
		{"truncated body", []byte{0, 0, 0, 20, 0, 0, 0, 0x15}, 0, io.ErrUnexpectedEOF},
		{"header only, no more", []byte{0, 0, 0, 16}, 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		if _, err := ReadPDU(bytes.NewReader(tt.input), nil, tt.max); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// countingReader records how much was asked for, to prove no huge buffer is allocated.
type countingReader struct {
	r       io.Reader
	largest int
}

func (c *countingReader) Read(p []byte) (int, error) {
	c.largest = max(c.largest, len(p))
	return c.r.Read(p)
}

func TestReadPDU_BadLength(t *testing.T) {
	tests := []struct {
		name   string
		length []byte
		max    int
	}{
		{"zero", []byte{0, 0, 0, 0}, 0},
		{"15", []byte{0, 0, 0, 15}, 0},
		{"4 GiB", []byte{0xFF, 0xFF, 0xFF, 0xFF}, 0},
		{"over default 64 KiB", []byte{0, 1, 0, 1}, 0},
		{"over configured max", []byte{0, 0, 1, 0}, 255},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &countingReader{r: io.MultiReader(bytes.NewReader(tt.length), bytes.NewReader(make([]byte, 1<<17)))}
			_, err := ReadPDU(cr, nil, tt.max)
			var pe *ProtocolError
			if !errors.As(err, &pe) || pe.Field != "command_length" || pe.Status != StatusInvCmdLen {
				t.Fatalf("err = %v, want command_length ESME_RINVCMDLEN", err)
			}
			if cr.largest > 4 {
				t.Errorf("read %d octets at once: the body must not be read", cr.largest)
			}
		})
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadPDU(bytes.NewReader([]byte{0x7F, 0xFF, 0xFF, 0xFF}), nil, 0)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a 2 GiB command_length was accepted")
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("rejecting a 2 GiB command_length allocated %d octets", grew)
	}
}

func TestBind_StringHidesPassword(t *testing.T) {
	b := &Bind{Mode: BindTransmitter, SystemID: "acme", Password: "s3cretpw"}
	o := Outbind{SystemID: "smsc", Password: "s3cretpw"}
	for _, s := range []string{fmt.Sprint(b), fmt.Sprintf("%+v", *b), fmt.Sprintf("%#v", b), fmt.Sprintf("%v", o), fmt.Sprintf("%#v", &o)} {
		if strings.Contains(s, "s3cretpw") || !strings.Contains(s, "hidden") {
			t.Errorf("printed %q", s)
		}
	}
}

func TestDecodeBody_EmptyResponses(t *testing.T) {
	for _, p := range []PDU{&SubmitSMResp{MessageID: "old"}, &DataSMResp{MessageID: "old"}, &DeliverSMResp{MessageID: "x"}, &BindResp{Mode: BindReceiver, SystemID: "old"}} {
		if err := p.DecodeBody(nil); err != nil {
			t.Errorf("%T: %v", p, err)
		}
		if !reflect.DeepEqual(p, newBody(p.CommandID())) {
			t.Errorf("%T: %#v, want the zero body", p, p)
		}
	}
}

func TestParseBindMode(t *testing.T) {
	for _, m := range []BindMode{BindTransceiver, BindTransmitter, BindReceiver} {
		if got, err := ParseBindMode(m.String()); err != nil || got != m {
			t.Errorf("ParseBindMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	for in, want := range map[string]BindMode{" Transceiver ": BindTransceiver, "TRANSMITTER": BindTransmitter, "receiver": BindReceiver} {
		if got, err := ParseBindMode(in); err != nil || got != want {
			t.Errorf("ParseBindMode(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseBindMode("rw"); err == nil || !strings.Contains(err.Error(), "trx, tx or rx") {
		t.Errorf("ParseBindMode(rw) = %v, want an error listing the modes", err)
	}
	if got := BindMode(9).String(); got != "BindMode(9)" {
		t.Errorf("BindMode(9).String() = %q", got)
	}
}
