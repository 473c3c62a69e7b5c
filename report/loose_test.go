package report

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"smscast/smpp"
)

// TestBook_LooseKeysIndexedLazily: a book that indexes the looser id keys only when a receipt
// first needs them matches exactly as one that indexes them all from the start, whatever the
// mix of id shapes, receipt formats, receipts ahead of their response, duplicates and unknown
// ids.
func TestBook_LooseKeysIndexedLazily(t *testing.T) {
	for _, f := range []smpp.IDFormat{smpp.IDAuto, smpp.IDHex, smpp.IDDec, smpp.IDExact} {
		for seed := range uint64(40) {
			t.Run(fmt.Sprintf("%v/%d", f, seed), func(t *testing.T) {
				events := looseScript(seed)
				lazy, eager := NewBook(Options{IDFormat: f}), NewBook(Options{IDFormat: f})
				eager.mu.Lock()
				eager.indexLooseKeys()
				eager.mu.Unlock()
				for _, b := range []*Book{lazy, eager} {
					for _, ev := range events {
						ev(b)
					}
				}
				if got, want := slices.Collect(lazy.Rows()), slices.Collect(eager.Rows()); !reflect.DeepEqual(got, want) {
					t.Errorf("rows differ:\nlazy  %+v\neager %+v", got, want)
				}
				if got, want := lazy.Unmatched(), eager.Unmatched(); !reflect.DeepEqual(got, want) {
					t.Errorf("unmatched receipts differ:\nlazy  %+v\neager %+v", got, want)
				}
			})
		}
	}
}

// looseScript returns a random campaign of 30 rows as events: ids in assorted shapes,
// receipts that repeat them in other shapes, sometimes before the id is accepted, and
// receipts for ids nobody accepted.
func looseScript(seed uint64) []func(b *Book) {
	rng := rand.New(rand.NewPCG(seed, 7))
	shapes := []func(n uint64) string{
		func(n uint64) string { return fmt.Sprintf("%x", n) },
		func(n uint64) string { return fmt.Sprintf("%X", n) },
		func(n uint64) string { return fmt.Sprint(n) },
		func(n uint64) string { return fmt.Sprintf("%010d", n) },
		func(n uint64) string { return fmt.Sprintf("msg-%x", n) },
		func(n uint64) string { return strings.ToUpper(fmt.Sprintf("msg-%x", n)) },
	}
	const rows = 30
	var events []func(b *Book)
	for row := 1; row <= rows; row++ {
		events = append(events, func(b *Book) { b.Add(Entry{Row: row, Parts: 2}) })
	}
	var later []func(b *Book)
	for row := 1; row <= rows; row++ {
		for part := range 2 {
			n := uint64(rng.IntN(40) + 8) // small numbers: ids collide across rows now and then
			id := shapes[rng.IntN(len(shapes))](n)
			rid := shapes[rng.IntN(len(shapes))](n)
			if rng.IntN(4) == 0 || seed%2 == 0 && row < rows-3 {
				rid = id // the usual receipt: the same id (even seeds: all but the last rows)
			}
			state := smpp.StateDelivered
			if rng.IntN(5) == 0 {
				state = smpp.StateUndeliverable
			}
			accept := func(b *Book) { b.Accepted(row, part, id, at(row)) }
			receipt := func(b *Book) { b.Receipt(rcpt(rid, state), at(100+row)) }
			switch rng.IntN(3) {
			case 0: // the receipt overtakes its response
				events = append(events, receipt, accept)
			case 1:
				events = append(events, accept, receipt)
			default: // the receipt comes at the end
				events = append(events, accept)
				later = append(later, receipt)
			}
		}
	}
	for range 5 {
		unknown := shapes[rng.IntN(len(shapes))](uint64(1000 + rng.IntN(100)))
		later = append(later, func(b *Book) { b.Receipt(rcpt(unknown, smpp.StateDelivered), at(500)) })
	}
	return append(events, later...)
}
