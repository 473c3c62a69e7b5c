package send

import (
	"bytes"
	hexpkg "encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"smscast/report"
	"smscast/smpp"
	"smscast/smpp/coding"
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
			m := incoming(at, "491711", "12345", tt.data, tt.esmClass, 0, tt.tlvs, false)
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

// With packed GSM 7-bit (an SMSC set up for --gsm7-packed), the septets follow the UDH after
// its fill bits, and a part's octets are its septets, one per octet, so that the parts of a
// message join by concatenation; other data codings are not touched.
func TestIncoming_packed(t *testing.T) {
	hex := func(s string) []byte {
		b, err := hexpkg.DecodeString(strings.ReplaceAll(s, " ", ""))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name             string
		data             []byte
		esmClass, coding uint8
		text             string
		part             bool
	}{
		{"whole, SMPP.md §9.4", hex("E8 32 9B FD 06"), 0, 0, "hello", false},
		{"GSM with a message class", hex("E8 32 9B FD 06"), 0, 0xF0, "hello", false},
		{"padding CR dropped", hex("31 D9 8C 56 B3 DD 1A"), 0, 0, "1234567", false},
		{"part after a 6-octet UDH: one fill bit", hex("05 00 03 2A 02 01 D0 65 36 FB 0D"), 0x40, 0, "hello", true},
		{"part after a 7-octet UDH: no fill bit", hex("06 08 04 12 34 02 02 E8 32 9B FD 06"), 0x40, 0, "hello", true},
		{"UCS-2 is never packed", hex("00 68 00 69"), 0, 8, "hi", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := incoming(time.Time{}, "491711", "12345", tt.data, tt.esmClass, tt.coding, nil, true)
			if m.Text != tt.text {
				t.Errorf("text %q, want %q", m.Text, tt.text)
			}
			if (m.Part != nil) != tt.part {
				t.Fatalf("part %+v, want a part: %v", m.Part, tt.part)
			}
			if m.Part != nil && (string(m.Part.Data) != tt.text || m.Part.Coding != tt.coding) {
				t.Errorf("part octets %q (coding %d), want the septets of %q", m.Part.Data, m.Part.Coding, tt.text)
			}
		})
	}
	if m := incoming(time.Time{}, "491711", "12345", hex("E8 32 9B FD 06"), 0, 0, nil, false); m.Text == "hello" {
		t.Error("packed septets read as unpacked came out as text")
	}
}

// FuzzIncoming feeds hostile deliver_sm contents to incoming: it never panics, a part it
// reports is one a handset would join (2 ≤ total, 1 ≤ seq ≤ total), and its octets are a
// copy of the PDU's.
func FuzzIncoming(f *testing.F) {
	f.Add([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i'}, uint8(0x40), uint8(0), []byte{0x00, 0x07}, uint8(2), uint8(1), false)
	f.Add([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x03, 0xD8, 0x3D}, uint8(0x40), uint8(8), []byte(nil), uint8(0), uint8(0), false)
	f.Add([]byte("STOP"), uint8(0), uint8(0), []byte{0x01, 0x02}, uint8(3), uint8(4), false)
	f.Add([]byte{0xFF}, uint8(0x40), uint8(4), []byte{0x01}, uint8(1), uint8(1), false)
	f.Add([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 0xD0, 0x65, 0x36, 0xFB, 0x0D}, uint8(0x40), uint8(0), []byte(nil), uint8(0), uint8(0), true)
	f.Fuzz(func(t *testing.T, data []byte, esmClass, dataCoding uint8, ref []byte, total, seq uint8, packed bool) {
		var tlvs smpp.TLVs
		if ref != nil {
			tlvs.Set(smpp.TagSarMsgRefNum, ref)
			tlvs.SetUint8(smpp.TagSarTotalSegments, total)
			tlvs.SetUint8(smpp.TagSarSegmentSeqnum, seq)
		}
		orig := bytes.Clone(data)
		m := incoming(time.Time{}, "4917", "ACME", data, esmClass, dataCoding, tlvs, packed)
		if p := m.Part; p != nil {
			if p.Total < 2 || p.Seq < 1 || p.Seq > p.Total || p.Coding != dataCoding {
				t.Fatalf("part %d of %d (coding %d) from %x", p.Seq, p.Total, p.Coding, orig)
			}
			if packed && coding.IsGSM7(dataCoding) && slices.ContainsFunc(p.Data, func(b byte) bool { return b >= 0x80 }) {
				t.Fatalf("packed part % X unpacked to % X: not septets", orig, p.Data)
			}
			for i := range p.Data {
				p.Data[i] ^= 0xFF // the part's octets are a copy: the PDU's must not change
			}
		}
		if !bytes.Equal(data, orig) {
			t.Fatal("incoming changed the PDU's octets, or its part shares them")
		}
	})
}
