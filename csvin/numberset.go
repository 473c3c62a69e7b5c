package csvin

import (
	"math/bits"
	"math/rand/v2"
)

// numberSet remembers, for the duplicate check, the first valid row of each normalised
// number. It is the one structure of a Reader that grows with the rows, so it is compact:
// open addressing with linear probing over flat slices of 12-byte slots (key and row side by
// side, so that a lookup touches one cache line), at most 3/4 of them used, about 21 bytes a
// number where a Go map takes 37. The numbers are spread over 256 tables that grow one at a
// time, so growing never holds two copies of the whole set (which would double the memory
// peak). The hash is seeded per set, so that a crafted file cannot make numbers collide.
type numberSet struct {
	tables [256]numberTable
	seed   uint64
}

type numberTable struct {
	slots []numberSlot
	n     int
}

// numberSlot holds a number's key in two halves and its first row; key 0 marks an empty
// slot, as no normalised number is 0.
type numberSlot struct {
	keyLo, keyHi uint32
	row          int32
}

func (s numberSlot) key() uint64 { return uint64(s.keyHi)<<32 | uint64(s.keyLo) }

func newNumberSet() *numberSet {
	return &numberSet{seed: rand.Uint64()}
}

// add records row as the first row of key (not 0) and returns it, or returns the row
// recorded before and true. The top byte of the hash picks the table, the rest the slot.
func (s *numberSet) add(key uint64, row int32) (first int32, seen bool) {
	h := s.hash(key)
	t := &s.tables[h>>56]
	if (t.n+1)*4 > len(t.slots)*3 {
		s.grow(t)
	}
	return t.add(key, h<<8, row)
}

// hash is murmur3's 64-bit finaliser over the seeded key.
func (s *numberSet) hash(key uint64) uint64 {
	x := key ^ s.seed
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

// grow doubles t (at least 16 slots) and reinserts its numbers.
func (s *numberSet) grow(t *numberTable) {
	old := t.slots
	t.slots, t.n = make([]numberSlot, max(16, 2*len(old))), 0
	for _, sl := range old {
		if k := sl.key(); k != 0 {
			t.add(k, s.hash(k)<<8, sl.row)
		}
	}
}

// add inserts key with its slot hash h into t, which has room.
func (t *numberTable) add(key, h uint64, row int32) (int32, bool) {
	// Multiply-shift maps the hash onto any table size.
	i, _ := bits.Mul64(h, uint64(len(t.slots)))
	for ; ; i++ {
		if i == uint64(len(t.slots)) {
			i = 0
		}
		switch t.slots[i].key() {
		case 0:
			t.slots[i] = numberSlot{keyLo: uint32(key), keyHi: uint32(key >> 32), row: row}
			t.n++
			return row, false
		case key:
			return t.slots[i].row, true
		}
	}
}
