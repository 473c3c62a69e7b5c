package smpp

import (
	"testing"
)

func benchSubmitSM() *SubmitSM {
	return &SubmitSM{
		SourceAddrTON: 5, SourceAddr: "MyBrand", DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: "447700900123", RegisteredDelivery: 1,
		ShortMessage: []byte("Hello, your code is 123456. It expires in 10 minutes."),
		TLVs:         TLVs{{TagUserMessageReference, []byte{0, 42}}},
	}
}

// BenchmarkAppendSubmitSM encodes a submit_sm into a reused buffer: the send path's cost per
// PDU. Goal: at most one allocation (it makes none).
func BenchmarkAppendSubmitSM(b *testing.B) {
	p := benchSubmitSM()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = AppendPDU(buf[:0], 2, StatusOK, p); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecodeSubmitSMResp decodes a submit_sm_resp body into a reused *SubmitSMResp.
// Goal: no allocation beyond the message-id string (1 alloc/op).
func BenchmarkDecodeSubmitSMResp(b *testing.B) {
	wire, err := AppendPDU(nil, 2, StatusOK, &SubmitSMResp{MessageID: "5f1e0b7a"})
	if err != nil {
		b.Fatal(err)
	}
	var resp SubmitSMResp
	b.ReportAllocs()
	for b.Loop() {
		h, err := DecodeHeader(wire)
		if err != nil || h.ID != SubmitSMRespID {
			b.Fatal(h, err)
		}
		if err := resp.DecodeBody(wire[HeaderLen:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode_SubmitSMResp is the general path (Decode allocates the body as well).
func BenchmarkDecode_SubmitSMResp(b *testing.B) {
	wire, err := AppendPDU(nil, 2, StatusOK, &SubmitSMResp{MessageID: "5f1e0b7a"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode_DeliverSMReceipt decodes the §12.3 receipt and parses it.
func BenchmarkDecode_DeliverSMReceipt(b *testing.B) {
	wire := goldenVectors(b)["12.3-deliver_sm-receipt"]
	b.ReportAllocs()
	for b.Loop() {
		_, p, err := Decode(wire)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ReceiptFromDeliverSM(p.(*DeliverSM)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageIDKeys is the report's cost per id indexed or looked up, for the id shapes
// SMSCs use.
func BenchmarkMessageIDKeys(b *testing.B) {
	for _, c := range []struct{ name, id string }{
		{"hex8", "5f1e0b7a"},
		{"HEX8", "5F1E0B7A"},
		{"digits8", "12345678"},
		{"dec19", "1234567890123456789"},
		{"hex32", "a29f6845555647139e5c8f3b817f2c9a"},
		{"uuid", "3f3a6fac-0a1b-4c2d-8e3f-5a6b7c8d9e0f"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = MessageIDKeys(c.id, IDAuto)
			}
		})
	}
}
