package send

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"smscast/report"
	"smscast/smpp"
	"smscast/smpp/coding"
)

// handle is the sessions' Handler: every deliver_sm and data_sm comes here, on its own
// goroutine. The returned status is sent in deliver_sm_resp (data_sm_resp) after handle
// returns, so a receipt is made durable in the journal before the SMSC is told it may forget
// it; when that fails, ESME_RX_T_APPN asks the SMSC to deliver it again later.
func (c *Campaign) handle(_ context.Context, p smpp.PDU) smpp.Status {
	now := time.Now()
	switch p := p.(type) {
	case *smpp.DeliverSM:
		if smpp.IsReceipt(p.ESMClass) {
			r, err := smpp.ReceiptFromDeliverSM(p)
			return c.receipt(r, err, now)
		}
		sm := p.ShortMessage
		if len(sm) == 0 {
			sm, _ = p.TLVs.Get(smpp.TagMessagePayload)
		}
		return c.mo(report.MO{Time: now, From: p.SourceAddr, To: p.DestinationAddr, Text: moText(sm, p.ESMClass, p.DataCoding)})
	case *smpp.DataSM:
		if smpp.IsReceipt(p.ESMClass) {
			r, err := smpp.ReceiptFromDataSM(p)
			return c.receipt(r, err, now)
		}
		payload, _ := p.TLVs.Get(smpp.TagMessagePayload)
		return c.mo(report.MO{Time: now, From: p.SourceAddr, To: p.DestinationAddr, Text: moText(payload, p.ESMClass, p.DataCoding)})
	}
	return smpp.StatusOK
}

// receipt makes one delivery receipt durable — in the journal when it matches a message of
// the campaign, in the spool when it does not — then records it in the Book, and only then
// lets the session acknowledge it. When it cannot be made durable the SMSC is told to send it
// again. A receipt that cannot be parsed still goes to the Book, which keeps what it cannot
// match in the unmatched file, so nothing the SMSC sent is dropped.
func (c *Campaign) receipt(r smpp.Receipt, parseErr error, now time.Time) smpp.Status {
	if parseErr != nil {
		c.warn(fmt.Errorf("delivery receipt %q: %w", r.Text, parseErr))
	}
	if err := c.keepReceipt(r, c.book.Matches(r), now); err != nil {
		c.warn(fmt.Errorf("receipt %s not recorded, the SMSC will send it again: %w", r.ID, err))
		return smpp.StatusXTAppn
	}
	c.book.Receipt(r, now)
	c.receipts.Add(1)
	select {
	case c.receiptPing <- struct{}{}:
	default:
	}
	return smpp.StatusOK
}

// keepReceipt makes r durable: a receipt of this campaign in the journal, any other in the
// spool (or the journal when there is no spool). A receipt that overtook its submit_sm_resp
// counts as unmatched here and goes to the spool; the Book still matches it once the response
// arrives, and a later --resume or smscast receipts finds it in the spool.
func (c *Campaign) keepReceipt(r smpp.Receipt, matched bool, now time.Time) error {
	if !matched && c.cfg.Spool != nil {
		if err := c.cfg.Spool.Receipt(r, now); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		return nil
	}
	if j := c.cfg.Journal; j != nil {
		if err := j.Receipt(r, now); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	return nil
}

// mo hands a mobile-originated message to Config.OnMO.
func (c *Campaign) mo(m report.MO) smpp.Status {
	if c.cfg.OnMO == nil {
		return smpp.StatusOK
	}
	if err := c.cfg.OnMO(m); err != nil {
		c.warn(fmt.Errorf("incoming message from %s not recorded, the SMSC will send it again: %w", m.From, err))
		return smpp.StatusXTAppn
	}
	return smpp.StatusOK
}

// esmUDHI is the esm_class bit saying the message starts with a user data header.
const esmUDHI = 0x40

// moText decodes an incoming message's octets, without its user data header; when
// data_coding is not a text encoding smscast reads, it returns the octets in hex, prefixed
// with "0x".
func moText(data []byte, esmClass, dataCoding uint8) string {
	if esmClass&esmUDHI != 0 && len(data) > 0 && int(data[0])+1 <= len(data) {
		data = data[1+int(data[0]):]
	}
	if s, err := coding.Decode(data, dataCoding); err == nil {
		return s
	}
	return "0x" + hex.EncodeToString(data)
}
