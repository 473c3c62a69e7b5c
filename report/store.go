package report

import (
	"strings"
	"unicode/utf8"
)

// The ledger keeps millions of rows. Its records hold no Go pointers (strings live in an arena,
// references are integers), so the garbage collector never scans them, and they are stored in
// fixed-size blocks so that growing never copies the whole ledger or doubles its peak memory.

// blockLen is the number of records per block of a blocks[T].
const blockLen = 4096

// blocks is an append-only sequence of T stored in fixed-size blocks. The zero value is empty.
type blocks[T any] struct {
	b [][]T
	n int
}

// len returns the number of records.
func (s *blocks[T]) len() int { return s.n }

// at returns the i-th record; i must be in [0, len).
func (s *blocks[T]) at(i int) *T { return &s.b[i/blockLen][i%blockLen] }

// add appends v and returns its index.
func (s *blocks[T]) add(v T) int {
	if s.n%blockLen == 0 {
		s.b = append(s.b, make([]T, blockLen))
	}
	i := s.n
	*s.at(i) = v
	s.n++
	return i
}

// span locates a string stored in an arena. The zero span is the empty string.
type span struct {
	chunk uint32
	off   uint16
	n     uint16
}

// Arena chunks are 64 KiB, so a span's offset and length fit in 16 bits. A longer string is
// truncated (see arena.add).
const (
	chunkLen = 1 << 16
	maxSpan  = chunkLen - 1
)

// arena stores strings back to back in 64 KiB chunks. Written bytes are never modified, so the
// copy-out in string is the only cost of reading. The zero value is ready to use.
type arena struct {
	chunks [][]byte
}

// truncMark ends a string that was too long to store whole.
const truncMark = "…"

// add stores s and returns its span. A string longer than 65,535 bytes (no phone number, id or
// status text is) is cut at a character boundary and ends with "…", so that one hostile CSV cell
// cannot make a row unbounded.
func (a *arena) add(s string) span {
	if s == "" {
		return span{}
	}
	if len(s) > maxSpan {
		cut := maxSpan - len(truncMark)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + truncMark
	}
	last := len(a.chunks) - 1
	if last < 0 || cap(a.chunks[last])-len(a.chunks[last]) < len(s) {
		a.chunks = append(a.chunks, make([]byte, 0, chunkLen))
		last++
	}
	c := a.chunks[last]
	off := len(c)
	a.chunks[last] = append(c, s...)
	return span{chunk: uint32(last), off: uint16(off), n: uint16(len(s))}
}

// bytes returns the stored bytes of sp without copying; callers must not modify them.
func (a *arena) bytes(sp span) []byte {
	if sp.n == 0 {
		return nil
	}
	return a.chunks[sp.chunk][int(sp.off) : int(sp.off)+int(sp.n)]
}

// string returns a copy of the string stored at sp.
func (a *arena) string(sp span) string { return string(a.bytes(sp)) }

// interner gives small integer codes to strings that repeat across rows (template ids,
// encodings), so that each row stores 4 bytes instead of a string. Code 0 is the empty string.
type interner struct {
	codes map[string]uint32
	strs  []string
}

// code returns the code of s, adding s (copied, so that it does not keep the caller's CSV
// record alive) when it is new.
func (in *interner) code(s string) uint32 {
	if s == "" {
		return 0
	}
	if c, ok := in.codes[s]; ok {
		return c
	}
	if in.codes == nil {
		in.codes = make(map[string]uint32)
		in.strs = []string{""}
	}
	s = strings.Clone(s)
	c := uint32(len(in.strs))
	in.strs = append(in.strs, s)
	in.codes[s] = c
	return c
}

// string returns the string whose code is c.
func (in *interner) string(c uint32) string {
	if c == 0 {
		return ""
	}
	return in.strs[c]
}
