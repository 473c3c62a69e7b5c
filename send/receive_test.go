package send

import (
	"bytes"
	"testing"
	"time"

	"smscast/report"
	"smscast/smpp"
)

func TestIncoming_parts(t *testing.T) {
	sar := func(ref uint16, total, seq uint8) smpp.TLVs {
		var ts smpp.TLVs
		ts.SetUint16(smpp.TagSarMsgRefNum, ref)
		ts.SetUint8(smpp.TagSarTotalSegments, total)
		ts.SetUint8(smpp.TagSarSegmentSeqnum, seq)
		return ts
	}
	withUDH := func(udh []byte, text string) []byte { return append(append([]byte{}, udh...), text...) }
	tests := []struct {
		name     string
		data     []byte
		esmClass uint8
		tlvs     smpp.TLVs
		text     string
		part     *report.MOPart // Data is checked against text's octets
	}{
		{"whole", []byte("STOP"), 0, nil, "STOP", nil},
		{"UDH, 8-bit reference", withUDH([]byte{0x05, 0x00, 0x03, 0x2A, 0x03, 0x02}, "middle"), 0x40, nil, "middle",
			&report.MOPart{Ref: 0x2A, Total: 3, Seq: 2}},
		{"UDH, 16-bit reference, after a port element", withUDH([]byte{0x0C, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01}, "first"), 0x40, nil, "first",
			&report.MOPart{Ref: 0x1234, Total: 2, Seq: 1}},
		{"UDH, part 1 of 1: whole", withUDH([]byte{0x05, 0x00, 0x03, 0x2A, 0x01, 0x01}, "all"), 0x40, nil, "all", nil},
		{"UDH without concatenation: header skipped", withUDH([]byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}, "port"), 0x40, nil, "port", nil},
		{"sar TLVs", []byte("second"), 0, sar(77, 2, 2), "second", &report.MOPart{Ref: 77, Total: 2, Seq: 2}},
		{"sar TLVs and a UDH without concatenation", withUDH([]byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}, "ported"), 0x40, sar(78, 3, 1), "ported",
			&report.MOPart{Ref: 78, Total: 3, Seq: 1}},
		{"sar TLVs, impossible part: whole", []byte("odd"), 0, sar(77, 2, 3), "odd", nil},
	}
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := incoming(at, "491711", "12345", tt.data, tt.esmClass, 0, tt.tlvs)
			if m.Text != tt.text || m.From != "491711" || m.To != "12345" || !m.Time.Equal(at) {
				t.Errorf("MO %+v, want text %q", m, tt.text)
			}
			switch {
			case tt.part == nil && m.Part != nil:
				t.Errorf("part %+v, want a message of its own", *m.Part)
			case tt.part != nil && m.Part == nil:
				t.Errorf("no part, want %+v", *tt.part)
			case tt.part != nil:
				want := *tt.part
				want.Data = []byte(tt.text)
				if m.Part.Ref != want.Ref || m.Part.Total != want.Total || m.Part.Seq != want.Seq || m.Part.Coding != 0 || !bytes.Equal(m.Part.Data, want.Data) {
					t.Errorf("part %+v, want %+v", *m.Part, want)
				}
				// The MO outlives the PDU: its octets must not be the PDU's.
				tt.data[len(tt.data)-1] ^= 0xFF
				if !bytes.Equal(m.Part.Data, want.Data) {
					t.Error("the part's octets share the PDU's memory")
				}
			}
		})
	}
}

// FuzzIncoming feeds hostile deliver_sm contents to incoming: it never panics, a part it
// reports is one a handset would join (2 ≤ total, 1 ≤ seq ≤ total), and its octets are a
// copy of the PDU's.
func FuzzIncoming(f *testing.F) {
	f.Add([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i'}, uint8(0x40), uint8(0), []byte{0x00, 0x07}, uint8(2), uint8(1))
	f.Add([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03, 0xD8, 0x3D}, uint8(0x40), uint8(8), []byte(nil), uint8(0), uint8(0))
	f.Add([]byte("STOP"), uint8(0), uint8(0), []byte{0x01, 0x02}, uint8(3), uint8(4))
	f.Add([]byte{0xFF}, uint8(0x40), uint8(4), []byte{0x01}, uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, esmClass, dataCoding uint8, ref []byte, total, seq uint8) {
		var tlvs smpp.TLVs
		if ref != nil {
			tlvs.Set(smpp.TagSarMsgRefNum, ref)
			tlvs.SetUint8(smpp.TagSarTotalSegments, total)
			tlvs.SetUint8(smpp.TagSarSegmentSeqnum, seq)
		}
		orig := bytes.Clone(data)
		m := incoming(time.Time{}, "4917", "ACME", data, esmClass, dataCoding, tlvs)
		if p := m.Part; p != nil {
			if p.Total < 2 || p.Seq < 1 || p.Seq > p.Total || p.Coding != dataCoding {
				t.Fatalf("part %d of %d (coding %d) from %x", p.Seq, p.Total, p.Coding, orig)
			}
			if len(p.Data) > 0 && len(data) > 0 && &p.Data[0] == &data[len(data)-len(p.Data)] {
				t.Fatal("the part's octets share the PDU's memory")
			}
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("incoming changed the PDU's octets")
		}
	})
}
