package smpp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Field sizes of SMPP 3.4 (SMPP.md §3), counting the NUL terminator as the spec's C(n) does.
const (
	maxSystemID     = 16
	maxPassword     = 9
	maxSystemType   = 13
	maxAddressRange = 41
	maxServiceType  = 6
	maxAddr         = 21 // submit_sm / deliver_sm addresses
	maxDataSMAddr   = 65 // data_sm addresses
	maxMessageID    = 65
	// MaxShortMessageLen is the largest sm_length: 255 is forbidden [S34 §5.2.21].
	MaxShortMessageLen = 254
)

// CommandID returns bind_transmitter, bind_receiver or bind_transceiver by Mode; 0 for a
// Mode out of range.
func (p *Bind) CommandID() CommandID { return p.Mode.requestID() }

// passwordError says why password cannot be sent, without echoing it. The limit is in
// octets, which a user counting characters of a non-ASCII password would not see.
func passwordError(password string) error {
	if strings.IndexByte(password, 0) >= 0 {
		return &ProtocolError{Field: "password", Status: StatusInvPaswd,
			Err: errors.New("the password contains a NUL byte, which ends it on the wire; check the password file or variable")}
	}
	n := fmt.Sprintf("%d octets", len(password))
	if utf8.RuneCountInString(password) != len(password) {
		n += fmt.Sprintf(" (%d characters: those beyond ASCII take 2 to 4 octets each)", utf8.RuneCountInString(password))
	}
	return &ProtocolError{Field: "password", Status: StatusInvPaswd,
		Err: fmt.Errorf("%s: a password is at most %d octets", n, maxPassword-1)}
}

// AppendBody appends the bind body. Too-long fields are a *ProtocolError naming the field.
func (p *Bind) AppendBody(dst []byte) ([]byte, error) {
	if p.Mode.requestID() == 0 {
		return dst, &ProtocolError{Field: "command_id", Status: StatusInvCmdID,
			Err: fmt.Errorf("bind mode %d is not transceiver, transmitter or receiver", p.Mode)}
	}
	var err error
	if dst, err = appendCString(dst, "system_id", p.SystemID, maxSystemID, StatusInvSysID); err != nil {
		return dst, err
	}
	if dst, err = appendCString(dst, "password", p.Password, maxPassword, StatusInvPaswd); err != nil {
		return dst, passwordError(p.Password)
	}
	if dst, err = appendCString(dst, "system_type", p.SystemType, maxSystemType, StatusInvSysTyp); err != nil {
		return dst, err
	}
	dst = append(dst, p.InterfaceVersion, p.AddrTON, p.AddrNPI)
	return appendCString(dst, "address_range", p.AddressRange, maxAddressRange, StatusInvCmdLen)
}

// DecodeBody decodes a bind body; Mode is kept, since it comes from the command id.
func (p *Bind) DecodeBody(body []byte) error {
	d := decoder{b: body}
	*p = Bind{
		Mode:             p.Mode,
		SystemID:         d.cstring("system_id", maxSystemID, StatusInvSysID),
		Password:         d.cstring("password", maxPassword, StatusInvPaswd),
		SystemType:       d.cstring("system_type", maxSystemType, StatusInvSysTyp),
		InterfaceVersion: d.u8("interface_version"),
		AddrTON:          d.u8("addr_ton"),
		AddrNPI:          d.u8("addr_npi"),
		AddressRange:     d.cstring("address_range", maxAddressRange, StatusInvCmdLen),
	}
	return d.end()
}

// String describes the bind without its password, so that logging a Bind never leaks it.
func (p Bind) String() string {
	return fmt.Sprintf("%v system_id=%q system_type=%q interface_version=0x%02X addr_ton=%d addr_npi=%d address_range=%q password=<%d characters, hidden>",
		p.Mode.requestID(), p.SystemID, p.SystemType, p.InterfaceVersion, p.AddrTON, p.AddrNPI, p.AddressRange, len(p.Password))
}

// GoString is String, so that %#v hides the password too.
func (p Bind) GoString() string { return p.String() }

// CommandID returns the bind_*_resp id for Mode; 0 for a Mode out of range.
func (p *BindResp) CommandID() CommandID {
	if id := p.Mode.requestID(); id != 0 {
		return id.Response()
	}
	return 0
}

// AppendBody appends system_id and the TLVs.
func (p *BindResp) AppendBody(dst []byte) ([]byte, error) {
	dst, err := appendCString(dst, "system_id", p.SystemID, maxSystemID, StatusInvSysID)
	if err != nil {
		return dst, err
	}
	return appendTLVs(dst, p.TLVs)
}

// DecodeBody decodes a bind_*_resp body; Mode is kept, since it comes from the command id.
// An empty body (the usual form of a refused bind) leaves SystemID empty.
func (p *BindResp) DecodeBody(body []byte) error {
	if len(body) == 0 {
		*p = BindResp{Mode: p.Mode}
		return nil
	}
	d := decoder{b: body}
	*p = BindResp{Mode: p.Mode, SystemID: d.cstring("system_id", maxSystemID, StatusInvSysID), TLVs: d.tlvs()}
	return d.end()
}

// CommandID returns OutbindID.
func (p *Outbind) CommandID() CommandID { return OutbindID }

// AppendBody appends system_id and password (the test SMSC may send an outbind).
func (p *Outbind) AppendBody(dst []byte) ([]byte, error) {
	dst, err := appendCString(dst, "system_id", p.SystemID, maxSystemID, StatusInvSysID)
	if err != nil {
		return dst, err
	}
	if dst, err = appendCString(dst, "password", p.Password, maxPassword, StatusInvPaswd); err != nil {
		return dst, passwordError(p.Password)
	}
	return dst, nil
}

// String describes the outbind without its password.
func (p Outbind) String() string {
	return fmt.Sprintf("outbind system_id=%q password=<%d characters, hidden>", p.SystemID, len(p.Password))
}

// GoString is String, so that %#v hides the password too.
func (p Outbind) GoString() string { return p.String() }

// DecodeBody decodes an outbind body.
func (p *Outbind) DecodeBody(body []byte) error {
	d := decoder{b: body}
	*p = Outbind{
		SystemID: d.cstring("system_id", maxSystemID, StatusInvSysID),
		Password: d.cstring("password", maxPassword, StatusInvPaswd),
	}
	return d.end()
}

// CommandID returns UnbindID.
func (*Unbind) CommandID() CommandID { return UnbindID }

// CommandID returns UnbindRespID.
func (*UnbindResp) CommandID() CommandID { return UnbindRespID }

// CommandID returns EnquireLinkID.
func (*EnquireLink) CommandID() CommandID { return EnquireLinkID }

// CommandID returns EnquireLinkRespID.
func (*EnquireLinkResp) CommandID() CommandID { return EnquireLinkRespID }

// CommandID returns GenericNackID.
func (*GenericNack) CommandID() CommandID { return GenericNackID }

// AppendBody appends nothing: unbind is header only.
func (*Unbind) AppendBody(dst []byte) ([]byte, error) { return dst, nil }

// AppendBody appends nothing: unbind_resp is header only.
func (*UnbindResp) AppendBody(dst []byte) ([]byte, error) { return dst, nil }

// AppendBody appends nothing: enquire_link is header only.
func (*EnquireLink) AppendBody(dst []byte) ([]byte, error) { return dst, nil }

// AppendBody appends nothing: enquire_link_resp is header only.
func (*EnquireLinkResp) AppendBody(dst []byte) ([]byte, error) { return dst, nil }

// AppendBody appends nothing: generic_nack is header only.
func (*GenericNack) AppendBody(dst []byte) ([]byte, error) { return dst, nil }

// DecodeBody accepts only an empty body.
func (*Unbind) DecodeBody(body []byte) error { return headerOnly(body) }

// DecodeBody accepts only an empty body.
func (*UnbindResp) DecodeBody(body []byte) error { return headerOnly(body) }

// DecodeBody accepts only an empty body.
func (*EnquireLink) DecodeBody(body []byte) error { return headerOnly(body) }

// DecodeBody accepts only an empty body.
func (*EnquireLinkResp) DecodeBody(body []byte) error { return headerOnly(body) }

// DecodeBody accepts only an empty body.
func (*GenericNack) DecodeBody(body []byte) error { return headerOnly(body) }

func headerOnly(body []byte) error {
	d := decoder{b: body}
	return d.end()
}

// CommandID returns SubmitSMID.
func (p *SubmitSM) CommandID() CommandID { return SubmitSMID }

// AppendBody appends the submit_sm body. It rejects too-long fields, a schedule or validity
// time that is neither empty nor 16 characters, more than 254 octets of short_message, and
// short_message together with a message_payload TLV.
func (p *SubmitSM) AppendBody(dst []byte) ([]byte, error) { return appendSM(dst, p) }

// DecodeBody decodes a submit_sm body.
func (p *SubmitSM) DecodeBody(body []byte) error { return decodeSM(body, p) }

// CommandID returns DeliverSMID.
func (p *DeliverSM) CommandID() CommandID { return DeliverSMID }

// AppendBody appends the deliver_sm body (submit_sm's layout and rules).
func (p *DeliverSM) AppendBody(dst []byte) ([]byte, error) { return appendSM(dst, (*SubmitSM)(p)) }

// DecodeBody decodes a deliver_sm body.
func (p *DeliverSM) DecodeBody(body []byte) error { return decodeSM(body, (*SubmitSM)(p)) }

var errBothPayloads = errors.New("short_message and the message_payload TLV are both set; send the text in one of them")

func appendSM(dst []byte, p *SubmitSM) ([]byte, error) {
	if len(p.ShortMessage) > MaxShortMessageLen {
		return dst, &ProtocolError{Field: "short_message", Status: StatusInvMsgLen,
			Err: fmt.Errorf("%d octets, at most %d fit: split the message or use message_payload", len(p.ShortMessage), MaxShortMessageLen)}
	}
	if len(p.ShortMessage) > 0 {
		if _, ok := p.TLVs.Get(TagMessagePayload); ok {
			return dst, &ProtocolError{Field: "short_message", Status: StatusInvMsgLen, Err: errBothPayloads}
		}
	}
	var err error
	if dst, err = appendCString(dst, "service_type", p.ServiceType, maxServiceType, StatusInvSerTyp); err != nil {
		return dst, err
	}
	dst = append(dst, p.SourceAddrTON, p.SourceAddrNPI)
	if dst, err = appendCString(dst, "source_addr", p.SourceAddr, maxAddr, StatusInvSrcAdr); err != nil {
		return dst, err
	}
	dst = append(dst, p.DestAddrTON, p.DestAddrNPI)
	if dst, err = appendCString(dst, "destination_addr", p.DestinationAddr, maxAddr, StatusInvDstAdr); err != nil {
		return dst, err
	}
	dst = append(dst, p.ESMClass, p.ProtocolID, p.PriorityFlag)
	if dst, err = appendTime(dst, "schedule_delivery_time", p.ScheduleDeliveryTime, StatusInvSched); err != nil {
		return dst, err
	}
	if dst, err = appendTime(dst, "validity_period", p.ValidityPeriod, StatusInvExpiry); err != nil {
		return dst, err
	}
	dst = append(dst, p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID,
		byte(len(p.ShortMessage)))
	dst = append(dst, p.ShortMessage...)
	return appendTLVs(dst, p.TLVs)
}

// decodeSM decodes submit_sm's layout. Time fields are checked only against their 17-octet
// maximum, not the 16-character rule, and sm_length 255 is accepted: a receipt from a sloppy
// SMSC is worth more than strictness (ParseTime validates times where they matter).
func decodeSM(body []byte, p *SubmitSM) error {
	d := ownedDecoder(body)
	*p = SubmitSM{
		ServiceType:          d.cstring("service_type", maxServiceType, StatusInvSerTyp),
		SourceAddrTON:        d.u8("source_addr_ton"),
		SourceAddrNPI:        d.u8("source_addr_npi"),
		SourceAddr:           d.cstring("source_addr", maxAddr, StatusInvSrcAdr),
		DestAddrTON:          d.u8("dest_addr_ton"),
		DestAddrNPI:          d.u8("dest_addr_npi"),
		DestinationAddr:      d.cstring("destination_addr", maxAddr, StatusInvDstAdr),
		ESMClass:             d.u8("esm_class"),
		ProtocolID:           d.u8("protocol_id"),
		PriorityFlag:         d.u8("priority_flag"),
		ScheduleDeliveryTime: d.cstring("schedule_delivery_time", 17, StatusInvSched),
		ValidityPeriod:       d.cstring("validity_period", 17, StatusInvExpiry),
		RegisteredDelivery:   d.u8("registered_delivery"),
		ReplaceIfPresentFlag: d.u8("replace_if_present_flag"),
		DataCoding:           d.u8("data_coding"),
		SMDefaultMsgID:       d.u8("sm_default_msg_id"),
	}
	smLen := d.u8("sm_length")
	p.ShortMessage = d.octets("short_message", int(smLen), StatusInvMsgLen)
	p.TLVs = d.tlvs()
	return d.end()
}

// CommandID returns SubmitSMRespID.
func (p *SubmitSMResp) CommandID() CommandID { return SubmitSMRespID }

// AppendBody appends message_id and the TLVs.
func (p *SubmitSMResp) AppendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, maxMessageID, p.TLVs)
}

// DecodeBody decodes message_id and the TLVs. Into a reused *SubmitSMResp without TLVs it
// allocates only the message id string.
func (p *SubmitSMResp) DecodeBody(body []byte) error {
	id, tlvs, err := decodeMessageIDResp(body, maxMessageID)
	p.MessageID, p.TLVs = id, tlvs
	return err
}

// CommandID returns DeliverSMRespID.
func (p *DeliverSMResp) CommandID() CommandID { return DeliverSMRespID }

// AppendBody appends message_id (C(1): always empty) and the TLVs.
func (p *DeliverSMResp) AppendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, 1, p.TLVs)
}

// DecodeBody decodes message_id and the TLVs. A message_id of up to 64 characters is
// accepted although the spec says C(1): some ESMEs echo an id, and refusing a response helps
// nobody.
func (p *DeliverSMResp) DecodeBody(body []byte) error {
	id, tlvs, err := decodeMessageIDResp(body, maxMessageID)
	p.MessageID, p.TLVs = id, tlvs
	return err
}

// CommandID returns DataSMRespID.
func (p *DataSMResp) CommandID() CommandID { return DataSMRespID }

// AppendBody appends message_id and the TLVs.
func (p *DataSMResp) AppendBody(dst []byte) ([]byte, error) {
	return appendMessageIDResp(dst, p.MessageID, maxMessageID, p.TLVs)
}

// DecodeBody decodes message_id and the TLVs.
func (p *DataSMResp) DecodeBody(body []byte) error {
	id, tlvs, err := decodeMessageIDResp(body, maxMessageID)
	p.MessageID, p.TLVs = id, tlvs
	return err
}

func appendMessageIDResp(dst []byte, id string, max int, tlvs TLVs) ([]byte, error) {
	dst, err := appendCString(dst, "message_id", id, max, StatusInvMsgID)
	if err != nil {
		return dst, err
	}
	return appendTLVs(dst, tlvs)
}

// decodeMessageIDResp decodes message_id and TLVs; an empty body (the usual form of a
// failed response) is an empty id.
func decodeMessageIDResp(body []byte, max int) (string, TLVs, error) {
	if len(body) == 0 {
		return "", nil, nil
	}
	d := decoder{b: body}
	id := d.cstring("message_id", max, StatusInvMsgID)
	tlvs := d.tlvs()
	if err := d.end(); err != nil {
		return "", nil, err
	}
	return id, tlvs, nil
}

// CommandID returns DataSMID.
func (p *DataSM) CommandID() CommandID { return DataSMID }

// AppendBody appends the data_sm body.
func (p *DataSM) AppendBody(dst []byte) ([]byte, error) {
	dst, err := appendCString(dst, "service_type", p.ServiceType, maxServiceType, StatusInvSerTyp)
	if err != nil {
		return dst, err
	}
	dst = append(dst, p.SourceAddrTON, p.SourceAddrNPI)
	if dst, err = appendCString(dst, "source_addr", p.SourceAddr, maxDataSMAddr, StatusInvSrcAdr); err != nil {
		return dst, err
	}
	dst = append(dst, p.DestAddrTON, p.DestAddrNPI)
	if dst, err = appendCString(dst, "destination_addr", p.DestinationAddr, maxDataSMAddr, StatusInvDstAdr); err != nil {
		return dst, err
	}
	dst = append(dst, p.ESMClass, p.RegisteredDelivery, p.DataCoding)
	return appendTLVs(dst, p.TLVs)
}

// DecodeBody decodes a data_sm body.
func (p *DataSM) DecodeBody(body []byte) error {
	d := ownedDecoder(body)
	*p = DataSM{
		ServiceType:        d.cstring("service_type", maxServiceType, StatusInvSerTyp),
		SourceAddrTON:      d.u8("source_addr_ton"),
		SourceAddrNPI:      d.u8("source_addr_npi"),
		SourceAddr:         d.cstring("source_addr", maxDataSMAddr, StatusInvSrcAdr),
		DestAddrTON:        d.u8("dest_addr_ton"),
		DestAddrNPI:        d.u8("dest_addr_npi"),
		DestinationAddr:    d.cstring("destination_addr", maxDataSMAddr, StatusInvDstAdr),
		ESMClass:           d.u8("esm_class"),
		RegisteredDelivery: d.u8("registered_delivery"),
		DataCoding:         d.u8("data_coding"),
	}
	p.TLVs = d.tlvs()
	return d.end()
}
