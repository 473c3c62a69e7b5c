package report

import (
	"time"

	"hash/maphash"

	"smscast/smpp"
)

// Matches reports whether Receipt would match r, received at at, to a message of the book
// now, or keep it for an expected one (Expect), without recording anything. The send engine asks it before a receipt is made durable, to decide
// whether the receipt belongs in the campaign's journal or in the spool of receipts of other
// campaigns; only then does it call Receipt and acknowledge the receipt.
func (b *Book) Matches(r smpp.Receipt, at time.Time) bool {
	if r.ID != "" && b.matchesExact(r.ID, unixNano(at)) {
		return true
	}
	keys := smpp.MessageIDKeys(r.ID, b.opt.IDFormat)
	hashes := b.appendKeyHashes(nil, keys)
	b.mu.Lock()
	defer b.mu.Unlock()
	id, reason := b.match(r.ID, keys, hashes, unixNano(at))
	return id >= 0 || reason == reasonExpected
}

// matchesExact is the fast path of Matches, as receiptExact is Receipt's: the usual receipt's
// id is byte-identical to one accepted id, found without computing the looser keys.
func (b *Book) matchesExact(rid string, at int64) bool {
	h := maphash.String(b.seed, rid)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.exactMatch(rid, h, at) >= 0
}
