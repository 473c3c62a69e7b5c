package report

import "smscast/smpp"

// Matches reports whether Receipt would match r to a message of the book now, without
// recording anything. The send engine asks it before a receipt is made durable, to decide
// whether the receipt belongs in the campaign's journal or in the spool of receipts of other
// campaigns; only then does it call Receipt and acknowledge the receipt.
func (b *Book) Matches(r smpp.Receipt) bool {
	keys := smpp.MessageIDKeys(r.ID, b.opt.IDFormat)
	hashes := b.appendKeyHashes(nil, keys)
	b.mu.Lock()
	defer b.mu.Unlock()
	id, _ := b.match(r.ID, keys, hashes)
	return id >= 0
}
