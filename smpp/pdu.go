// Package smpp implements the SMPP 3.4 wire protocol for an ESME (the client side) and for the
// test SMSC: PDU and TLV encoding and decoding, command_status codes, delivery receipt parsing,
// message-id matching and a windowed, asynchronous session. Text encodings and segmentation live
// in the sub-package smpp/coding.
package smpp

import (
	"fmt"
	"strings"
)

// CommandID identifies an operation; a response is its request's id with bit 31 set.
type CommandID uint32

// Command ids of SMPP 3.4 (SMPP.md §2).
const (
	GenericNackID         CommandID = 0x80000000
	BindReceiverID        CommandID = 0x00000001
	BindReceiverRespID    CommandID = 0x80000001
	BindTransmitterID     CommandID = 0x00000002
	BindTransmitterRespID CommandID = 0x80000002
	QuerySMID             CommandID = 0x00000003
	QuerySMRespID         CommandID = 0x80000003
	SubmitSMID            CommandID = 0x00000004
	SubmitSMRespID        CommandID = 0x80000004
	DeliverSMID           CommandID = 0x00000005
	DeliverSMRespID       CommandID = 0x80000005
	UnbindID              CommandID = 0x00000006
	UnbindRespID          CommandID = 0x80000006
	ReplaceSMID           CommandID = 0x00000007
	ReplaceSMRespID       CommandID = 0x80000007
	CancelSMID            CommandID = 0x00000008
	CancelSMRespID        CommandID = 0x80000008
	BindTransceiverID     CommandID = 0x00000009
	BindTransceiverRespID CommandID = 0x80000009
	OutbindID             CommandID = 0x0000000B
	EnquireLinkID         CommandID = 0x00000015
	EnquireLinkRespID     CommandID = 0x80000015
	SubmitMultiID         CommandID = 0x00000021
	SubmitMultiRespID     CommandID = 0x80000021
	AlertNotificationID   CommandID = 0x00000102
	DataSMID              CommandID = 0x00000103
	DataSMRespID          CommandID = 0x80000103
)

// HeaderLen is the size of the PDU header: command_length, command_id, command_status and
// sequence_number, four octets each.
const HeaderLen = 16

// DefaultMaxPDULen is the default cap on command_length for PDUs read from the network.
const DefaultMaxPDULen = 64 << 10

// Header is the fixed 16-octet start of every PDU.
type Header struct {
	Length   uint32 // command_length, including the header itself
	ID       CommandID
	Status   Status // 0 in requests
	Sequence uint32 // 1..0x7FFFFFFF; 0 only in a generic_nack for an undecodable PDU
}

// PDU is one decoded operation body. The header travels separately (see Header, AppendPDU,
// Decode), so the same value can be sent with any sequence number.
type PDU interface {
	// CommandID is the operation this body belongs to.
	CommandID() CommandID
	// AppendBody appends the encoded body (mandatory fields, then TLVs) to dst.
	AppendBody(dst []byte) ([]byte, error)
	// DecodeBody replaces the receiver's fields with those decoded from body, which excludes
	// the header. Strings are copied; body may be reused by the caller afterwards.
	DecodeBody(body []byte) error
}

// BindMode selects which bind operation a session performs.
type BindMode uint8

const (
	BindTransceiver BindMode = iota // the default: submits and receipts on one link
	BindTransmitter
	BindReceiver
)

// Bind is the body of bind_transmitter, bind_receiver and bind_transceiver, which share one
// layout; Mode selects the command id.
type Bind struct {
	Mode             BindMode
	SystemID         string // C(16)
	Password         string // C(9)
	SystemType       string // C(13)
	InterfaceVersion uint8  // 0x34 for SMPP 3.4
	AddrTON          uint8
	AddrNPI          uint8
	AddressRange     string // C(41)
}

// BindResp is the body of bind_*_resp.
type BindResp struct {
	Mode     BindMode
	SystemID string // C(16): the SMSC's id; absent when the status is not 0
	TLVs     TLVs   // usually sc_interface_version
}

// Outbind is sent by an SMSC to ask the ESME to bind (decode only).
type Outbind struct {
	SystemID string // C(16)
	Password string // C(9)
}

// The header-only PDUs.
type (
	Unbind          struct{}
	UnbindResp      struct{}
	EnquireLink     struct{}
	EnquireLinkResp struct{}
	GenericNack     struct{}
)

// SubmitSM is the body of submit_sm (SMPP.md §3). ShortMessage is an octet string whose
// length is sm_length: an 0x00 octet (GSM '@') inside it is data, never a terminator.
type SubmitSM struct {
	ServiceType          string // C(6)
	SourceAddrTON        uint8
	SourceAddrNPI        uint8
	SourceAddr           string // C(21)
	DestAddrTON          uint8
	DestAddrNPI          uint8
	DestinationAddr      string // C(21)
	ESMClass             uint8
	ProtocolID           uint8
	PriorityFlag         uint8
	ScheduleDeliveryTime string // C(1|17): "" or 16 characters
	ValidityPeriod       string // C(1|17): "" or 16 characters
	RegisteredDelivery   uint8
	ReplaceIfPresentFlag uint8
	DataCoding           uint8
	SMDefaultMsgID       uint8
	ShortMessage         []byte // 0..254 octets
	TLVs                 TLVs
}

// DeliverSM has submit_sm's layout; the SMSC sends it for receipts and mobile-originated
// messages.
type DeliverSM SubmitSM

// SubmitSMResp is the body of submit_sm_resp; MessageID is absent when the status is not 0.
type SubmitSMResp struct {
	MessageID string // C(65)
	TLVs      TLVs
}

// DeliverSMResp is the body of deliver_sm_resp: message_id is always empty.
type DeliverSMResp struct {
	MessageID string // C(1)
	TLVs      TLVs
}

// DataSM is the body of data_sm: no short_message, user data travels in message_payload.
type DataSM struct {
	ServiceType        string // C(6)
	SourceAddrTON      uint8
	SourceAddrNPI      uint8
	SourceAddr         string // C(65)
	DestAddrTON        uint8
	DestAddrNPI        uint8
	DestinationAddr    string // C(65)
	ESMClass           uint8
	RegisteredDelivery uint8
	DataCoding         uint8
	TLVs               TLVs
}

// DataSMResp is the body of data_sm_resp.
type DataSMResp struct {
	MessageID string // C(65)
	TLVs      TLVs
}

var commandNames = map[CommandID]string{
	GenericNackID:         "generic_nack",
	BindReceiverID:        "bind_receiver",
	BindReceiverRespID:    "bind_receiver_resp",
	BindTransmitterID:     "bind_transmitter",
	BindTransmitterRespID: "bind_transmitter_resp",
	QuerySMID:             "query_sm",
	QuerySMRespID:         "query_sm_resp",
	SubmitSMID:            "submit_sm",
	SubmitSMRespID:        "submit_sm_resp",
	DeliverSMID:           "deliver_sm",
	DeliverSMRespID:       "deliver_sm_resp",
	UnbindID:              "unbind",
	UnbindRespID:          "unbind_resp",
	ReplaceSMID:           "replace_sm",
	ReplaceSMRespID:       "replace_sm_resp",
	CancelSMID:            "cancel_sm",
	CancelSMRespID:        "cancel_sm_resp",
	BindTransceiverID:     "bind_transceiver",
	BindTransceiverRespID: "bind_transceiver_resp",
	OutbindID:             "outbind",
	EnquireLinkID:         "enquire_link",
	EnquireLinkRespID:     "enquire_link_resp",
	SubmitMultiID:         "submit_multi",
	SubmitMultiRespID:     "submit_multi_resp",
	AlertNotificationID:   "alert_notification",
	DataSMID:              "data_sm",
	DataSMRespID:          "data_sm_resp",
}

// String returns the spec's name, e.g. "submit_sm_resp", or "command_id 0x00000123".
func (id CommandID) String() string {
	if name, ok := commandNames[id]; ok {
		return name
	}
	return fmt.Sprintf("command_id 0x%08X", uint32(id))
}

// IsResponse reports whether id is a response (bit 31 set; generic_nack included).
func (id CommandID) IsResponse() bool { return id&0x80000000 != 0 }

// Response returns the id of the response to request id.
func (id CommandID) Response() CommandID { return id | 0x80000000 }

// requestID returns the bind operation for m, or 0 for a mode out of range.
func (m BindMode) requestID() CommandID {
	switch m {
	case BindTransceiver:
		return BindTransceiverID
	case BindTransmitter:
		return BindTransmitterID
	case BindReceiver:
		return BindReceiverID
	}
	return 0
}

// String returns "trx", "tx" or "rx", the names ParseBindMode accepts.
func (m BindMode) String() string {
	switch m {
	case BindTransceiver:
		return "trx"
	case BindTransmitter:
		return "tx"
	case BindReceiver:
		return "rx"
	}
	return fmt.Sprintf("BindMode(%d)", uint8(m))
}

// ParseBindMode accepts "trx"/"transceiver", "tx"/"transmitter" and "rx"/"receiver".
func ParseBindMode(s string) (BindMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trx", "transceiver":
		return BindTransceiver, nil
	case "tx", "transmitter":
		return BindTransmitter, nil
	case "rx", "receiver":
		return BindReceiver, nil
	}
	return 0, fmt.Errorf("bind mode %q: use trx, tx or rx", s)
}
