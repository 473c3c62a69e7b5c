package report

import "slices"

// expectedKeys counts the id hashes of the ids a resumption has yet to replay (Book.Expect).
// A sorted array, not a map: a resumed campaign of a million rows expects a million ids,
// which a map holds in several times the memory. Every id is added before the first lookup
// (Expect comes before any receipt).
type expectedKeys struct {
	added  []uint64 // hashes added since the last seal
	hashes []uint64 // sorted, distinct
	counts []int32  // ids yet to arrive per entry of hashes
	left   int      // sum of counts; at 0 the arrays are freed
}

// add counts one expected id with hash h.
func (e *expectedKeys) add(h uint64) { e.added = append(e.added, h) }

// seal merges the added hashes into the sorted array.
func (e *expectedKeys) seal() {
	if len(e.added) == 0 {
		return
	}
	all := e.added
	for i, h := range e.hashes { // the ones sealed before, as many times as they are expected
		for range e.counts[i] {
			all = append(all, h)
		}
	}
	e.added = nil
	slices.Sort(all)
	e.hashes, e.counts, e.left = e.hashes[:0], e.counts[:0], len(all)
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j] == all[i] {
			j++
		}
		e.hashes = append(e.hashes, all[i])
		e.counts = append(e.counts, int32(j-i))
		i = j
	}
	e.hashes, e.counts = slices.Clip(e.hashes), slices.Clip(e.counts)
}

// has reports whether an expected id, not arrived yet, has hash h.
func (e *expectedKeys) has(h uint64) bool {
	e.seal()
	if e.left == 0 {
		return false
	}
	i, found := slices.BinarySearch(e.hashes, h)
	return found && e.counts[i] > 0
}

// arrive counts one expected id with hash h as arrived and reports whether no other one has
// it now; at the last one the arrays are freed.
func (e *expectedKeys) arrive(h uint64) (none bool) {
	e.seal()
	if i, found := slices.BinarySearch(e.hashes, h); found && e.counts[i] > 0 {
		e.counts[i]--
		e.left--
		none = e.counts[i] == 0
	}
	if e.left == 0 {
		*e = expectedKeys{}
	}
	return none
}

// clear forgets every expected id and reports whether there were any.
func (e *expectedKeys) clear() bool {
	had := e.left > 0 || len(e.added) > 0
	*e = expectedKeys{}
	return had
}
