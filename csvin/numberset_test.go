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
	if s.n != n || s.n*4 > len(s.keys)*3 {
		t.Fatalf("%d numbers in %d slots", s.n, len(s.keys))
	}
}
