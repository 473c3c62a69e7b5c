package report

import (
	"testing"

	"smscast/smpp"
)

// FuzzBook_Match checks the matching rules on arbitrary ids: a receipt never panics the book,
// only matches a row whose id is the same message (smpp.SameMessageID), and an id identical to
// exactly one accepted id always matches that row.
func FuzzBook_Match(f *testing.F) {
	f.Add("0012", "12", "012", uint8(0))
	f.Add("1A", "26", "001a", uint8(0))
	f.Add("1234", "4660", "1234", uint8(1))
	f.Add("abc", "ABC", "Abc", uint8(2))
	f.Add("x", "x", "x", uint8(3))
	f.Fuzz(func(t *testing.T, id1, id2, rx string, format uint8) {
		opt := Options{IDFormat: smpp.IDFormat(format % 4)}
		b := NewBook(opt)
		addSent(b, 2)
		b.Accepted(1, 0, id1, t0)
		b.Accepted(2, 0, id2, t0)
		matched := b.Receipt(rcpt(rx, smpp.StateDelivered), at(1))
		var got []int
		for r := range b.Rows() {
			if r.ReceiptStatus == "DELIVRD" {
				got = append(got, r.Row)
			}
		}
		if matched != (len(got) == 1) || len(got) > 1 {
			t.Fatalf("matched %v, rows delivered %v", matched, got)
		}
		ids := map[int]string{1: id1, 2: id2}
		if matched && !smpp.SameMessageID(ids[got[0]], rx, opt.IDFormat) {
			t.Fatalf("receipt %q matched row %d with id %q", rx, got[0], ids[got[0]])
		}
		if rx != "" && (rx == id1) != (rx == id2) {
			want := 1
			if rx == id2 {
				want = 2
			}
			if !matched || got[0] != want {
				t.Fatalf("receipt %q identical to row %d's id matched %v", rx, want, got)
			}
		}
		if !matched && len(b.Unmatched()) != 1 {
			t.Fatalf("unmatched receipt not kept")
		}
	})
}
