package smpp

import (
	"bytes"
	"reflect"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary octets to ReadPDU and Decode: they must never panic, and what
// decodes and re-encodes must decode again to the same body. Seeds: the §12 vectors and
// testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, v := range goldenVectors(f) {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if pdu, err := ReadPDU(bytes.NewReader(data), nil, 4096); err == nil && len(pdu) > len(data) {
			t.Fatalf("ReadPDU returned %d octets from %d", len(pdu), len(data))
		}
		h, p, err := Decode(data)
		th, tp, terr := DecodeTolerant(data)
		switch {
		case err == nil && (terr != nil || th != h || !reflect.DeepEqual(tp, p)):
			t.Fatalf("DecodeTolerant differs from Decode on a clean PDU: %v %#v", terr, tp)
		case terr != nil && tp != nil:
			t.Fatalf("DecodeTolerant returned a body with error %v", terr)
		case terr == nil && th.Length != uint32(len(data)):
			t.Fatalf("DecodeTolerant's header says %d octets, the PDU has %d", th.Length, len(data))
		}
		if err != nil {
			if p != nil {
				t.Fatalf("Decode returned a body with error %v", err)
			}
			return
		}
		wire, err := AppendPDU(nil, h.Sequence, h.Status, p)
		if err != nil {
			return // decoding is more lenient than encoding (e.g. a 12-character time)
		}
		h2, p2, err := Decode(wire)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v\n% X", p, err, wire)
		}
		if h2.ID != h.ID || h2.Status != h.Status || h2.Sequence != h.Sequence || !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the PDU:\n%+v %#v\n%+v %#v", h, p, h2, p2)
		}
	})
}

// FuzzParseReceiptText: the receipt parser must never panic, and a parsed receipt must be
// consistent (an id, a stat and its state); its id must match itself in every format.
func FuzzParseReceiptText(f *testing.F) {
	for _, s := range []string{
		receiptText,
		"id:0000029095 sub:001 dlvrd:000 submit date:0610191018 done date:0610191018 stat:UNDELIV err:000 Text:",
		"ID:a29f6845555647139e5c8f3b817f2c9a SUBMIT_DATE:141023215253 DONE_DATE:20110314181534 STAT:BUFFRED ERR:21b",
		"id:77 done date:180903120816 DELIVRD err:000 Text:",
		"id:1 submit date:201906190720 stat:ACKED text:id:2 stat:x",
		"text:x id:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReceiptText(s)
		if err != nil {
			return
		}
		if r.ID == "" || r.Stat == "" || r.State != stateOfStat(r.Stat) {
			t.Fatalf("inconsistent receipt %+v from %q", r, s)
		}
		for _, f := range []IDFormat{IDAuto, IDHex, IDDec, IDExact} {
			if !SameMessageID(r.ID, r.ID, f) {
				t.Fatalf("id %q does not match itself under %v", r.ID, f)
			}
		}
		_ = FormatReceiptText(r)
	})
}

// FuzzParseTime: never panics; an accepted absolute time formats back to the same instant.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"250314153000000+", "250314103000020-", "020610233429000R", "250314153000", ""} {
		f.Add(s)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, now)
		if err != nil || len(s) != 16 {
			return
		}
		if s[15] == 'R' {
			// Whatever relative time is accepted, the one written for its length is too:
			// FormatRelativeTime keeps every field in the range ParseTime checks.
			if d := got.Sub(now); d > 0 {
				if _, err := ParseTime(FormatRelativeTime(d), now); err != nil {
					t.Fatalf("%q: %v written as %q: %v", s, d, FormatRelativeTime(d), err)
				}
			}
			return
		}
		back, err := ParseTime(FormatAbsoluteTime(got), now)
		if err != nil || !back.Equal(got) {
			// Years outside 1938..2037 cannot be written with two digits.
			if got.Year() >= 1938 && got.Year() <= 2037 {
				t.Fatalf("%q = %v, formatted back as %q = %v, %v", s, got, FormatAbsoluteTime(got), back, err)
			}
		}
	})
}
