package report

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"smscast/smpp"
)

// Receipts are matched to ids through the lookup keys of smpp.MessageIDKeys (exact id first,
// then looser interpretations: case-insensitive, hex or decimal value). The index is keyed by
// a 64-bit hash of each key rather than the key itself, which keeps it pointer-free and small;
// every hash hit is verified against the stored id, so a hash collision can never match the
// wrong row.

// idIndex maps key hashes to id indexes (in Book.ids). It is an open-addressing table with
// linear probing: the keys are already uniform hashes, so the slot is the hash itself, and a
// lookup costs about one cache miss (a Go map would hash them again and probe slower).
type idIndex struct {
	slots  []indexSlot
	n      int // used slots
	shared [][]uint32
}

// indexSlot is one entry of idIndex: hash and value side by side, in one cache line.
type indexSlot struct {
	hash uint64 // 0 = empty; a hash of 0 is stored as 1 (every hit is verified)
	val  uint32 // id index, or sharedBit|i to list several in idIndex.shared[i]
}

// sharedBit marks an idIndex value that refers to a list in idIndex.shared.
const sharedBit = 1 << 31

// slot returns the slot of h: the one holding h, or the empty one where h belongs.
func (x *idIndex) slot(h uint64) *indexSlot {
	mask := len(x.slots) - 1
	i := int(h) & mask
	for x.slots[i].hash != 0 && x.slots[i].hash != h {
		i = (i + 1) & mask
	}
	return &x.slots[i]
}

// add indexes id under each hash.
func (x *idIndex) add(hashes []uint64, id uint32) { x.addFrom(hashes, 0, id) }

// addFrom indexes id under each hash from hashes[from] on (the earlier ones are indexed
// already).
func (x *idIndex) addFrom(hashes []uint64, from int, id uint32) {
	for i, h := range hashes {
		h = max(h, 1)
		if i < from || slices.Contains(hashes[:i], h) {
			continue // indexed already, or two keys of one id with the same hash (or the same key twice)
		}
		if (x.n+1)*4 > len(x.slots)*3 {
			x.grow()
		}
		s := x.slot(h)
		switch {
		case s.hash == 0:
			*s = indexSlot{hash: h, val: id}
			x.n++
		case s.val&sharedBit == 0:
			x.shared = append(x.shared, []uint32{s.val, id})
			s.val = sharedBit | uint32(len(x.shared)-1)
		default:
			x.shared[s.val&^sharedBit] = append(x.shared[s.val&^sharedBit], id)
		}
	}
}

// reserve makes room for n entries without growing; it never shrinks the table.
func (x *idIndex) reserve(n int) {
	n = min(n, maxReserve)
	size := max(len(x.slots), 1024)
	for n*4 > size*3 {
		size *= 2
	}
	if size != len(x.slots) {
		x.resize(size)
	}
}

// maxReserve caps a reservation: a hint is no reason to allocate gigabytes up front.
const maxReserve = 1 << 26

// grow doubles the table (starting at 1024 slots).
func (x *idIndex) grow() { x.resize(max(2*len(x.slots), 1024)) }

// resize moves every entry into a table of size slots (a power of two).
func (x *idIndex) resize(size int) {
	old := x.slots
	x.slots = make([]indexSlot, size)
	for _, e := range old {
		if e.hash != 0 {
			*x.slot(e.hash) = e
		}
	}
}

// appendIDs appends the ids indexed under h to dst.
func (x *idIndex) appendIDs(dst []uint32, h uint64) []uint32 {
	if x.n == 0 {
		return dst
	}
	s := x.slot(max(h, 1))
	switch {
	case s.hash == 0:
		return dst
	case s.val&sharedBit == 0:
		return append(dst, s.val)
	default:
		return append(dst, x.shared[s.val&^sharedBit]...)
	}
}

// The looser keys are indexed only once a receipt needs them. As long as every receipt finds
// its id exactly (the usual case: the SMSC writes ids the same way in responses and
// receipts), the index holds one key per id instead of two to five, and Accepted computes no
// MessageIDKeys. The first lookup that goes beyond the exact id (match) indexes the looser
// keys of every id so far, and Accepted indexes all keys from then on, so matching gives the
// same results either way. Held receipts exist only after such a lookup.

// idKeyHashes appends the hashes of id's lookup keys: all of them when loose is set, else
// only the id's own (the first key). "" has no keys.
func (b *Book) idKeyHashes(dst []uint64, id string, loose bool) []uint64 {
	if !loose && id != "" {
		return append(dst, maphash.String(b.seed, id))
	}
	return b.appendKeyHashes(dst, smpp.MessageIDKeys(id, b.opt.IDFormat))
}

// indexLooseKeys indexes the keys after the first of every id, once. Called with b.mu held.
func (b *Book) indexLooseKeys() {
	if b.looseIndexed.Load() {
		return
	}
	b.looseIndexed.Store(true)
	var buf [6]uint64
	for i := range b.ids.len() {
		id := string(b.strs.bytes(b.ids.at(i).id))
		b.index.addFrom(b.appendKeyHashes(buf[:0], smpp.MessageIDKeys(id, b.opt.IDFormat)), 1, uint32(i))
	}
}

// appendKeyHashes appends the hash of each key, in order. It needs no lock: the seed never
// changes.
func (b *Book) appendKeyHashes(dst []uint64, keys []string) []uint64 {
	for _, k := range keys {
		dst = append(dst, maphash.String(b.seed, k))
	}
	return dst
}

// heldReceipt is a receipt that matched no id when it arrived. It is retried whenever an id
// with a common key is accepted (the receipt overtook its submit_sm_resp), and is reported as
// unmatched if none ever matches.
type heldReceipt struct {
	r       smpp.Receipt
	at      time.Time
	keys    []string
	hashes  []uint64
	reason  string // why it did not match (last attempt)
	matched bool
}

// matchedHeld stands in the list of held receipts for one that has matched since.
var matchedHeld = &heldReceipt{matched: true}

// heldReceipts holds unmatched receipts in arrival order, indexed by key hash.
type heldReceipts struct {
	list  []*heldReceipt     // pointers: growing a slice of ~250-byte values by a resumed campaign's receipts cost seconds
	byKey map[uint64][]int32 // hash → indexes in list (may include matched ones, skipped)
	open  int                // receipts in list not matched yet
}

// Receipt records a delivery receipt received at time at and reports whether it matched a
// message of this book. A receipt that matches nothing yet is kept: it is applied when a
// matching id is accepted later (a receipt may overtake its submit_sm_resp), and reported as
// unmatched otherwise (Unmatched, and <report>.unmatched.jsonl). A duplicate receipt changes
// nothing: the first final state of an id wins.
func (b *Book) Receipt(r smpp.Receipt, at time.Time) bool {
	if r.ID != "" && b.receiptExact(r, at) {
		return true
	}
	keys := smpp.MessageIDKeys(r.ID, b.opt.IDFormat)
	hashes := b.appendKeyHashes(nil, keys)
	b.mu.Lock()
	defer b.mu.Unlock()
	id, reason := b.match(r.ID, keys, hashes, unixNano(at))
	if id >= 0 {
		b.applyReceipt(id, r, at)
		return true
	}
	h := &b.held
	if h.byKey == nil {
		h.byKey = make(map[uint64][]int32)
	}
	h.list = append(h.list, &heldReceipt{r: r, at: at, keys: keys, hashes: hashes, reason: reason})
	h.open++
	for i, k := range hashes {
		if !slices.Contains(hashes[:i], k) {
			h.byKey[k] = append(h.byKey[k], int32(len(h.list)-1))
		}
	}
	return false
}

// receiptExact is the fast path of Receipt, for the usual receipt whose id is byte-identical
// to exactly one accepted id: the most specific match there is, found without computing the
// looser keys. It reports whether it applied r; if not, Receipt does the full match.
func (b *Book) receiptExact(r smpp.Receipt, at time.Time) bool {
	h := maphash.String(b.seed, r.ID)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.expected.has(h) {
		return false // match holds it for the expected id
	}
	found := b.exactMatch(r.ID, h, unixNano(at))
	if found < 0 {
		return false
	}
	b.applyReceipt(found, r, at)
	return true
}

// exactMatch returns the index of the id byte-identical to rid (h is its hash) when all such
// ids belong to one row part, which is then what match would find for a receipt that arrived
// at at; -1 when there is none or the match is ambiguous. Called with b.mu held.
func (b *Book) exactMatch(rid string, h uint64, at int64) int {
	var cands [8]uint32
	found := -1
	for _, c := range b.index.appendIDs(cands[:0], h) {
		rec := b.ids.at(int(c))
		if string(b.strs.bytes(rec.id)) != rid || b.sentAfter(rec, at) {
			continue
		}
		if found >= 0 && !samePart(rec, b.ids.at(found)) {
			return -1 // ambiguous: the full match explains why
		}
		if found < 0 {
			found = int(c)
		}
	}
	return found
}

// Reasons given for an unmatched receipt.
const (
	reasonNoID    = "receipt has no message id"
	reasonUnknown = "no message of this campaign has this id"
	reasonBefore  = "it came before every message of this campaign with this id was sent: the SMSC used the id before (an earlier message, another campaign)"
	// reasonExpected is final only when the input ended early (no ExpectNoMore): Arrived,
	// or ExpectNoMore, matches such receipts again.
	reasonExpected = "a row of an earlier run with this id was not read (the input ended early), so which message it is about is not known"
)

// sentAfter reports whether the message of rec was sent after at, the time a receipt arrived:
// the receipt cannot be about it, however well its id fits (an SMSC that restarts or wraps its
// counter gives out the same ids again). It was sent when its part first went out in the run
// that got its id (partSent), after its row was first sent, and after that run started (a
// resend of an earlier run's row). Without a recorded send time (Sent), the planned time,
// which comes before it, stands in; with neither, and no run recorded, it is never sent after.
// Called with b.mu held.
func (b *Book) sentAfter(rec *idRec, at int64) bool {
	r := b.rows.at(int(rec.row))
	sent := r.firstSend()
	if sent != 0 {
		sent += int64(rec.partSent) * int64(time.Millisecond)
	}
	if rec.run > 0 {
		sent = max(sent, b.runStarts[rec.run-1])
	}
	return sent != 0 && at != 0 && at < sent
}

// match finds the id that receipt id rid refers to. Keys are tried from the most specific
// (the exact id) to the loosest; the first key that finds anything decides. If that key finds
// ids of more than one row part, the receipt is ambiguous and matches nothing: guessing could
// mark the wrong customer's message delivered. Messages sent after at, when the receipt
// arrived, are not candidates. It returns the id index, or -1 and the reason. Called with
// b.mu held.
func (b *Book) match(rid string, keys []string, hashes []uint64, at int64) (int, string) {
	if rid == "" {
		return -1, reasonNoID
	}
	b.indexLooseKeys()
	var cands [8]uint32
	reason := reasonUnknown
	for i, key := range keys {
		if !b.hexSeen && smpp.IsCrossBaseKey(key) {
			continue // see Book.hexSeen
		}
		if i == 0 && b.expected.has(hashes[0]) {
			// A row an earlier run sent with this very id is still to be read: it may be
			// the one (or one of two). Only the id as written is expected (the looser keys
			// are never an id: see Book.Expect).
			return -1, reasonExpected
		}
		found := -1
		var clash []int // row numbers of the other candidates, for the reason
		for _, c := range b.index.appendIDs(cands[:0], hashes[i]) {
			rec := b.ids.at(int(c))
			if !b.hasKey(rec, rid, key) {
				continue // a hash collision
			}
			if b.sentAfter(rec, at) {
				reason = reasonBefore
				continue
			}
			switch {
			case found < 0:
				found = int(c)
			case !samePart(rec, b.ids.at(found)):
				clash = append(clash, int(b.rows.at(int(rec.row)).row))
			}
		}
		if found < 0 {
			continue
		}
		if clash != nil {
			return -1, b.ambiguous(found, clash)
		}
		return found, ""
	}
	return -1, reason
}

// hasKey reports whether the stored id of rec has key among its lookup keys. An id equal to
// the receipt's id rid has all of its keys.
func (b *Book) hasKey(rec *idRec, rid, key string) bool {
	stored := b.strs.bytes(rec.id)
	if string(stored) == rid {
		return true
	}
	return slices.Contains(smpp.MessageIDKeys(string(stored), b.opt.IDFormat), key)
}

// samePart reports whether two ids belong to the same part of the same row (a part accepted
// twice after a resend).
func samePart(a, b *idRec) bool { return a.row == b.row && a.part == b.part }

// ambiguous describes a receipt whose id fits messages of several row parts.
func (b *Book) ambiguous(found int, clash []int) string {
	rows := append([]int{int(b.rows.at(int(b.ids.at(found).row)).row)}, clash...)
	slices.Sort(rows)
	rows = slices.Compact(rows)
	names := make([]string, 0, min(len(rows), 5))
	for _, r := range rows[:min(len(rows), 5)] {
		names = append(names, fmt.Sprint(r))
	}
	more := ""
	if len(rows) > 5 {
		more = fmt.Sprintf(" and %d more", len(rows)-5)
	}
	if len(rows) == 1 {
		return fmt.Sprintf("ambiguous: the id fits several parts of row %s", names[0])
	}
	return fmt.Sprintf("ambiguous: the id fits messages of rows %s%s", strings.Join(names, ", "), more)
}

// retryAllHeld re-matches every held receipt: once hexadecimal ids are seen, receipts held
// for want of a cross-base match may now match. Called with b.mu held.
func (b *Book) retryAllHeld() {
	if b.held.open == 0 {
		return
	}
	var hashes []uint64
	for i := range b.held.list {
		if !b.held.list[i].matched {
			hashes = append(hashes, b.held.list[i].hashes...)
		}
	}
	b.retryHeld(hashes)
}

// retryHeld re-matches, in arrival order, the held receipts that share a key hash with a
// newly accepted id. Called with b.mu held.
func (b *Book) retryHeld(hashes []uint64) {
	h := &b.held
	if h.open == 0 {
		return
	}
	var todo []int32
	for _, k := range hashes {
		todo = append(todo, h.byKey[k]...)
	}
	if todo == nil {
		return
	}
	slices.Sort(todo)
	todo = slices.Compact(todo)
	for _, i := range todo {
		hr := h.list[i]
		if hr.matched {
			continue
		}
		id, reason := b.match(hr.r.ID, hr.keys, hr.hashes, unixNano(hr.at))
		if id < 0 {
			hr.reason = reason
			continue
		}
		b.applyReceipt(id, hr.r, hr.at)
		h.list[i] = matchedHeld // the receipt need not stay in memory (a resume holds many)
		h.open--
	}
	for _, k := range hashes {
		list := slices.DeleteFunc(h.byKey[k], func(i int32) bool { return h.list[i].matched })
		if len(list) == 0 {
			delete(h.byKey, k)
		} else {
			h.byKey[k] = list
		}
	}
}
