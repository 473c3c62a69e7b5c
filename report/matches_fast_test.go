package report

import (
	"testing"
	"time"

	"smscast/smpp"
)

// TestBook_MatchesExactPath: Matches with its exact-id fast path answers as the full match
// does, for ids that are identical, looser, ambiguous (the same id on two rows, or on two
// parts of one row) and unknown.
func TestBook_MatchesExactPath(t *testing.T) {
	for _, f := range []smpp.IDFormat{smpp.IDAuto, smpp.IDHex, smpp.IDDec, smpp.IDExact} {
		b := NewBook(Options{IDFormat: f})
		now := time.Now()
		b.Add(Entry{Row: 1, Parts: 1})
		b.Add(Entry{Row: 2, Parts: 1})
		b.Add(Entry{Row: 3, Parts: 2})
		b.Add(Entry{Row: 4, Parts: 1})
		b.Accepted(1, 0, "5f1e0b7a", now)
		b.Accepted(2, 0, "dup", now)
		b.Accepted(4, 0, "dup", now) // one id on two rows: ambiguous
		b.Accepted(3, 0, "twice", now)
		b.Accepted(3, 1, "twice", now) // one id on two parts of a row: ambiguous
		b.Accepted(4, 0, "0042", now)  // a second id for the part (a resend)
		for _, id := range []string{"5f1e0b7a", "5F1E0B7A", "1595804538", "dup", "DUP", "twice",
			"0042", "42", "2a", "unknown", " 5f1e0b7a", ""} {
			keys := smpp.MessageIDKeys(id, f)
			hashes := b.appendKeyHashes(nil, keys)
			b.mu.Lock()
			full, _ := b.match(id, keys, hashes, unixNano(now))
			b.mu.Unlock()
			if got := b.Matches(smpp.Receipt{ID: id}, now); got != (full >= 0) {
				t.Errorf("%v: Matches(%q) = %v, the full match says %v", f, id, got, full >= 0)
			}
		}
	}
}
