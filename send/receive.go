package send

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"smscast/report"
	"smscast/smpp"
	"smscast/smpp/coding"
)

// handle is the sessions' AsyncHandler: every deliver_sm and data_sm comes here, on the
// session's reader goroutine, and answer sends its deliver_sm_resp (data_sm_resp). A receipt
// is answered only once it is durable, in the journal or the spool, so the SMSC is never told
// it may forget a receipt we could still lose; no goroutine waits for that, so the receipts
// sharing an fsync cost nothing each. When it cannot be kept, ESME_RX_T_APPN asks the SMSC to
// deliver it again later. Incoming messages go to their own goroutine, because writing the
// inbox may wait for the disk and the reader must not.
func (c *Campaign) handle(_ context.Context, p smpp.PDU, answer func(smpp.Status)) {
	now := time.Now()
	var (
		esm, fromTON, code uint8
		from, to           string
		sm                 []byte
		tlvs               smpp.TLVs
		receiptOf          func() (smpp.Receipt, error)
	)
	switch p := p.(type) {
	case *smpp.DeliverSM:
		esm, receiptOf = p.ESMClass, func() (smpp.Receipt, error) { return smpp.ReceiptFromDeliverSM(p) }
		from, to, fromTON, code, tlvs, sm = p.SourceAddr, p.DestinationAddr, p.SourceAddrTON, p.DataCoding, p.TLVs, p.ShortMessage
		if len(sm) == 0 {
			sm, _ = p.TLVs.Get(smpp.TagMessagePayload)
		}
	case *smpp.DataSM:
		esm, receiptOf = p.ESMClass, func() (smpp.Receipt, error) { return smpp.ReceiptFromDataSM(p) }
		from, to, fromTON, code, tlvs = p.SourceAddr, p.DestinationAddr, p.SourceAddrTON, p.DataCoding, p.TLVs
		sm, _ = p.TLVs.Get(smpp.TagMessagePayload)
	default:
		answer(smpp.StatusOK)
		return
	}
	if smpp.IsReceipt(esm) {
		r, err := receiptOf()
		c.receipt(r, err, now, answer)
		return
	}
	if smeAck(esm) {
		if r, err := receiptOf(); err == nil {
			c.receipt(r, nil, now, answer)
			return
		}
	}
	m := incoming(now, from, to, sm, esm, code, tlvs, c.cfg.PackedGSM7)
	m.FromTON = fromTON
	c.moAsync(m, answer)
}

// shorten cuts s to at most n runes, marking the cut with "…": a line of a log need not
// hold all of what the SMSC sent.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// smeAck reports whether esmClass marks an SME delivery acknowledgement (message type 0x08).
// smscast never asks for one, so an SMSC that sends it is likely marking its delivery receipts
// so (Kannel takes them as receipts too): handle takes one as a receipt when it reads as one,
// else as an incoming message.
func smeAck(esmClass uint8) bool { return esmClass&0x3C == 0x08 }

// receipt makes one delivery receipt durable — in the journal when it matches a message of
// the campaign, in the spool when it does not — then records it in the Book, and only then
// answers ESME_ROK. A receipt that cannot be parsed still goes to the Book, which keeps what
// it cannot match in the unmatched file, so nothing the SMSC sent is dropped.
//
// A receipt that overtook its submit_sm_resp counts as unmatched here and goes to the spool
// (unless a row of an earlier run still to be read has its id: report.Book.Expect); the Book
// still matches it once the response arrives, and a later --resume or smscast receipts finds
// it in the spool.
func (c *Campaign) receipt(r smpp.Receipt, parseErr error, now time.Time, answer func(smpp.Status)) {
	if parseErr != nil {
		c.warn(fmt.Errorf("delivery receipt %q: %w", shorten(r.Text, 200), parseErr))
	}
	c.receiptCalls.Add(1) // done in finish
	k := keptReceipts.Get().(*keptReceipt)
	k.c, k.r, k.at, k.answer = c, r, now, answer
	switch {
	case c.cfg.Spool != nil && !c.book.Matches(r, now):
		k.where = "spool"
		c.cfg.Spool.ReceiptThen(r, now, k.done)
	case c.cfg.Journal != nil:
		k.where = "journal"
		c.cfg.Journal.ReceiptThen(r, now, k.done)
	default:
		k.done(nil)
	}
}

// keptReceipt is a receipt waiting to be durable. They are pooled, and done is bound once per
// pooled value, because at full speed a receipt arrives every few microseconds.
type keptReceipt struct {
	c      *Campaign
	r      smpp.Receipt
	at     time.Time
	answer func(smpp.Status)
	where  string      // "journal" or "spool", for the error
	done   func(error) // k.finish, bound once
}

var keptReceipts sync.Pool

func init() {
	// Set here, not in keptReceipts' declaration: finish puts values back into the pool.
	keptReceipts.New = func() any {
		k := new(keptReceipt)
		k.done = k.finish
		return k
	}
}

// finish records the receipt in the Book once it is durable and answers the SMSC: ESME_ROK,
// or ESME_RX_T_APPN when it could not be kept, so that the SMSC delivers it again later.
func (k *keptReceipt) finish(err error) {
	c, r, at, answer := k.c, k.r, k.at, k.answer
	where := k.where
	*k = keptReceipt{done: k.done}
	keptReceipts.Put(k)
	defer c.receiptCalls.Done()
	if err != nil {
		if where == "journal" {
			c.breakJournal()
		}
		if c.receiptErrs.Add(1) == 1 { // a full disk fails them all: said once, counted at the end
			c.warn(fmt.Errorf("receipt %q not recorded, the SMSC will send it again: %s: %w", r.ID, where, err))
		}
		answer(smpp.StatusXTAppn)
		return
	}
	c.book.Receipt(r, at)
	if where == "spool" && c.cfg.Journal != nil {
		c.earlyMu.Lock()
		if len(c.early) < maxEarly {
			c.early = append(c.early, keptEarly{r, at})
		}
		c.earlyMu.Unlock()
	}
	select {
	case c.receiptPing <- struct{}{}:
	default:
	}
	answer(smpp.StatusOK)
}

// maxEarly bounds the spooled receipts a run remembers for journalEarlyReceipts: on an
// account shared with other traffic most of them are other campaigns', and the ones beyond
// stay in the spool only, as every spooled receipt did before.
const maxEarly = 1 << 16

// keptEarly is a receipt that went to the spool, with when it came.
type keptEarly struct {
	r  smpp.Receipt
	at time.Time
}

// journalEarlyReceipts writes to the journal the receipts that went to the spool because they
// overtook their submit_sm_resp and that match a row now: without them, a report rebuilt from
// the journal (smscast receipts, --resume) without that spool file would show the row
// PENDING. Called at the end of Run, before the journal is closed.
func (c *Campaign) journalEarlyReceipts(j Journal) {
	c.earlyMu.Lock()
	early := c.early
	c.early = nil
	c.earlyMu.Unlock()
	var written sync.WaitGroup
	for _, e := range early {
		if !c.book.Matches(e.r, e.at) {
			continue // another campaign's: the spool keeps it
		}
		written.Add(1)
		j.ReceiptThen(e.r, e.at, func(err error) {
			defer written.Done()
			if err != nil {
				c.warn(fmt.Errorf("receipt %q stays in the spool only: journal: %w", e.r.ID, err))
			}
		})
	}
	written.Wait() // within the journal's sync interval
}

// moAsync runs mo on a goroutine of its own and answers with its status. The session's cap
// on unanswered PDUs bounds these goroutines; Run waits for them before it returns, so OnMO
// is never called after Run.
func (c *Campaign) moAsync(m report.MO, answer func(smpp.Status)) {
	if c.cfg.OnMO == nil {
		answer(smpp.StatusOK)
		return
	}
	c.moCalls.Add(1)
	go func() {
		defer c.moCalls.Done()
		answer(c.mo(m))
	}()
}

// mo hands a mobile-originated message to Config.OnMO.
func (c *Campaign) mo(m report.MO) smpp.Status {
	if c.cfg.OnMO == nil {
		return smpp.StatusOK
	}
	if err := c.cfg.OnMO(m); err != nil {
		c.warn(fmt.Errorf("incoming message from %q not recorded, the SMSC will send it again: %w", m.From, err))
		return smpp.StatusXTAppn
	}
	return smpp.StatusOK
}

// esmUDHI is the esm_class bit saying the message starts with a user data header.
const esmUDHI = 0x40

// incoming is the MO of a deliver_sm or data_sm: its text, without the user data header,
// and, when it is one part of a long message (a concatenation element in the header, or the
// sar_* TLVs), which part, with the part's octets, so that a Joiner can decode the whole
// message at once. The octets are copied: the MO outlives the PDU. packed says GSM 7-bit
// user data comes packed (an SMSC set up for packed data_coding 0); the part's octets are
// then its septets, one per octet, so that the parts of a message join by concatenation.
func incoming(at time.Time, from, to string, data []byte, esmClass, dataCoding uint8, tlvs smpp.TLVs, packed bool) report.MO {
	m := report.MO{Time: at, From: from, To: to}
	udhLen := 0
	if esmClass&esmUDHI != 0 {
		if ref, total, seq, rest, ok := coding.ParseUDH(data); ok {
			m.Part = &report.MOPart{Ref: ref, Total: total, Seq: seq}
			udhLen, data = len(data)-len(rest), rest
		} else if len(data) > 0 && int(data[0])+1 <= len(data) {
			udhLen, data = 1+int(data[0]), data[1+int(data[0]):] // a header without concatenation: skip it
		}
	}
	if packed && coding.IsGSM7(dataCoding) {
		data = coding.UnpackUserData(data, udhLen) // a copy
	}
	if ref, ok := tlvs.Uint16(smpp.TagSarMsgRefNum); ok && m.Part == nil {
		total, okTotal := tlvs.Uint8(smpp.TagSarTotalSegments)
		seq, okSeq := tlvs.Uint8(smpp.TagSarSegmentSeqnum)
		if okTotal && okSeq && seq >= 1 && seq <= total {
			m.Part = &report.MOPart{Ref: ref, Total: total, Seq: seq}
		}
	}
	if m.Part != nil && m.Part.Total < 2 {
		m.Part = nil // "part 1 of 1": a whole message
	}
	if m.Part != nil {
		m.Part.Coding, m.Part.Data = dataCoding, slices.Clone(data)
	}
	m.Text = report.MOText(data, dataCoding)
	return m
}
