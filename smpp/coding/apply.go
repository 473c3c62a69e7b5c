package coding

import "smscast/smpp"

// Apply puts the part on a submit_sm: short_message, the UDHI bit of esm_class, and the sar_*
// and message_payload TLVs. The bit and the TLVs are set when the part has them and cleared
// when it does not, so one SubmitSM can be reused for every part of every message. It does not
// touch data_coding: set p.DataCoding from Message.DataCoding.
func (pt Part) Apply(p *smpp.SubmitSM) {
	p.ShortMessage = pt.ShortMessage
	p.ESMClass = p.ESMClass&^esmClassUDHI | pt.ESMClass
	if pt.SARTotal > 0 {
		p.TLVs.SetUint16(smpp.TagSarMsgRefNum, pt.SARRef)
		p.TLVs.SetUint8(smpp.TagSarTotalSegments, pt.SARTotal)
		p.TLVs.SetUint8(smpp.TagSarSegmentSeqnum, pt.SARSeq)
	} else {
		p.TLVs.Del(smpp.TagSarMsgRefNum)
		p.TLVs.Del(smpp.TagSarTotalSegments)
		p.TLVs.Del(smpp.TagSarSegmentSeqnum)
	}
	if pt.Payload != nil {
		p.TLVs.Set(smpp.TagMessagePayload, pt.Payload)
	} else {
		p.TLVs.Del(smpp.TagMessagePayload)
	}
}
