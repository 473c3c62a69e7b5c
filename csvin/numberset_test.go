package csvin

import "testing"

func TestNumberSet_add(t *testing.T) {
	s := newNumberSet()
	const n = 5000
	for i := range n {
		key := uint64(4915100000000 + i*7919)
		if first, seen := s.add(key, int32(i+1)); seen || first != int32(i+1) {
			t.Fatalf("add(%d) = %d, %v on first sight", key, first, seen)
		}
	}
	for i := range n {
		key := uint64(4915100000000 + i*7919)
		if first, seen := s.add(key, -1); !seen || first != int32(i+1) {
			t.Fatalf("add(%d) again = %d, %v; want %d, true", key, first, seen, i+1)
		}
	}
	count, slots := 0, 0
	for _, tb := range s.tables {
		count += tb.n
		slots += len(tb.slots)
		if tb.n*4 > len(tb.slots)*3 {
			t.Fatalf("a table holds %d numbers in %d slots", tb.n, len(tb.slots))
		}
	}
	if count != n {
		t.Fatalf("%d numbers in the set, want %d (%d slots)", count, n, slots)
	}
}
