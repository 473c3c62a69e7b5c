package report

import (
	"fmt"
	"strings"
	"time"

	"smscast/smpp"
)

// A row's receipt state is derived, never stored independently: each message id keeps the
// state of its own receipts, and settle recomputes the row from its ids under the
// --part-receipts rule after every event. Replaying the same events therefore always gives the
// same report. Intermediate states (ENROUTE, ACCEPTD, ...) are those smpp.MessageState.Final
// says are not final.

// applyReceipt sets the receipt state of id. Once an id has a final state, receipts that came
// later (duplicates, or a late intermediate one) change nothing; a final one that came earlier
// takes its place, so that the state is the same in whatever order the receipts are applied
// (a rebuild applies the journal's as their rows are read, some once every row is read, while
// new ones come). Called with b.mu held.
func (b *Book) applyReceipt(id int, r smpp.Receipt, at time.Time) {
	rec := b.ids.at(id)
	if rec.final() && (!r.State.Final() || unixNano(at) >= rec.at) {
		return
	}
	rec.state = uint8(r.State) + 1
	rec.at = unixNano(at)
	rec.err = span{}
	if r.State.Final() && r.State != smpp.StateDelivered {
		rec.err = b.strs.add(receiptError(r))
	}
	b.update(int(rec.row), func(*rowRec) {})
}

// receiptError is the receipt_error cell: the receipt's err field as sent, then the
// network_error_code TLV in hex when present, e.g. "001 network:03000B".
func receiptError(r smpp.Receipt) string {
	e := strings.TrimSpace(r.Err)
	if len(r.NetworkError) > 0 {
		if e != "" {
			e += " "
		}
		e += fmt.Sprintf("network:%X", r.NetworkError)
	}
	return e
}

// severity orders final states from best (DELIVRD) to worst, to pick the state of a multipart
// row whose parts ended differently.
func severity(s smpp.MessageState) int {
	switch s {
	case smpp.StateDelivered:
		return 0
	case smpp.StateUnknown:
		return 1
	case smpp.StateDeleted:
		return 2
	case smpp.StateExpired:
		return 3
	case smpp.StateUndeliverable, smpp.StateSkipped:
		return 4
	case smpp.StateRejected:
		return 5
	}
	return 1 // a final state this code does not know: as bad as UNKNOWN
}

// settle derives the row's receipt state from the states of its ids under the PartReceipts
// rule. Every part counts, except that a row whose sending ended without all parts accepted
// (a multipart message rejected half way) is judged on the parts that were. Called with b.mu
// held.
func (b *Book) settle(r *rowRec) {
	r.flags &^= flagFinal
	r.rstate, r.done, r.rerr = 0, 0, span{}
	if r.firstID == 0 {
		return
	}
	// Parts without an id leave the row incomplete, unless no more parts will be sent.
	excused := r.status != stToSend && !r.accepted()
	parts := int(max(r.parts, 1))
	// best[p] is the index+1 of the id that speaks for part p (see better).
	for next := r.firstID; next != 0; next = b.ids.at(int(next) - 1).next {
		parts = max(parts, int(b.ids.at(int(next)-1).part)+1)
	}
	if cap(b.scratch) < parts {
		b.scratch = make([]int32, parts)
	}
	best := b.scratch[:parts]
	clear(best)
	for next := r.firstID; next != 0; next = b.ids.at(int(next) - 1).next {
		p := b.ids.at(int(next) - 1).part
		if best[p] == 0 || b.better(next-1, best[p]-1) {
			best[p] = next
		}
	}

	decider := int32(-1)
	var done int64
	switch b.opt.PartReceipts {
	case PartsAll:
		complete := true
		for _, x := range best {
			if x == 0 {
				complete = complete && excused
				continue
			}
			rec := b.ids.at(int(x) - 1)
			if !rec.final() {
				complete = false
				continue
			}
			done = max(done, rec.at)
			if decider < 0 || rec.severity() > b.ids.at(int(decider)).severity() {
				decider = x - 1
			}
		}
		if !complete {
			decider = -1
		}
	case PartsAny:
		for _, x := range best {
			if x == 0 {
				continue
			}
			if rec := b.ids.at(int(x) - 1); rec.final() && (decider < 0 || rec.at < b.ids.at(int(decider)).at) {
				decider = x - 1
			}
		}
		if decider >= 0 {
			done = b.ids.at(int(decider)).at
		}
	case PartsLast:
		if x := best[parts-1]; x != 0 && b.ids.at(int(x)-1).final() {
			decider = x - 1
			done = b.ids.at(int(decider)).at
		}
	}
	if decider < 0 {
		return
	}
	rec := b.ids.at(int(decider))
	r.flags |= flagFinal
	r.rstate, r.done, r.rerr = rec.state, done, rec.err
}

// final reports whether the id has a final receipt state.
func (rec *idRec) final() bool { return rec.state != 0 && smpp.MessageState(rec.state-1).Final() }

// severity is the severity of the id's final state.
func (rec *idRec) severity() int { return severity(smpp.MessageState(rec.state - 1)) }

// better reports whether id a speaks for its part rather than id b (two ids of one part after
// a resend): a final state beats none or an intermediate one; between final states the best
// wins (the customer got the message if either copy was delivered), then the earlier; between
// intermediate states the later wins.
func (b *Book) better(a, c int32) bool {
	x, y := b.ids.at(int(a)), b.ids.at(int(c))
	switch {
	case x.final() != y.final():
		return x.final()
	case x.final():
		if x.severity() != y.severity() {
			return x.severity() < y.severity()
		}
		return x.at < y.at
	case x.state == 0 || y.state == 0:
		return y.state == 0 && x.state != 0
	default:
		return x.at > y.at
	}
}
