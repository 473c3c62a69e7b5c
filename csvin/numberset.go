package csvin

import (
	"math/bits"
	"math/rand/v2"
)

// numberSet remembers, for the duplicate check, the first valid row of each normalised
// number. It is the one structure of a Reader that grows with the rows, so it is compact:
// open addressing with linear probing over two flat slices, 12 bytes a slot and at most 3/4
// of the slots used (16–24 bytes a number, where a Go map takes about 37). The hash is
// seeded per set, so that a crafted file cannot make every number collide.
type numberSet struct {
	keys []uint64 // 0 marks an empty slot: no normalised number is 0
	rows []int32
	n    int
	seed uint64
}

func newNumberSet() *numberSet {
	return &numberSet{seed: rand.Uint64()}
}

// add records row as the first row of key and returns it, or returns the row recorded
// before and true.
func (s *numberSet) add(key uint64, row int32) (first int32, seen bool) {
	if (s.n+1)*4 > len(s.keys)*3 {
		s.grow()
	}
	for i := s.slot(key); ; i++ {
		if i == len(s.keys) {
			i = 0
		}
		switch s.keys[i] {
		case 0:
			s.keys[i], s.rows[i] = key, row
			s.n++
			return row, false
		case key:
			return s.rows[i], true
		}
	}
}

// slot maps key's hash onto the table (multiply-shift, so any size works).
func (s *numberSet) slot(key uint64) int {
	x := key ^ s.seed // murmur3's finaliser
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	hi, _ := bits.Mul64(x, uint64(len(s.keys)))
	return int(hi)
}

// grow makes the table half as large again (at least 1024 slots) and reinserts every number.
func (s *numberSet) grow() {
	old, oldRows := s.keys, s.rows
	size := max(1024, len(old)+len(old)/2)
	s.keys, s.rows, s.n = make([]uint64, size), make([]int32, size), 0
	for i, k := range old {
		if k != 0 {
			s.add(k, oldRows[i])
		}
	}
}
