package smpp

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Tag identifies an optional parameter (TLV).
type Tag uint16

// Optional parameter tags of SMPP 3.4 [S34 §5.3.2] (SMPP.md §4 lists the ones a bulk sender
// uses), plus congestion_state from v5.0.
const (
	TagDestAddrSubunit          Tag = 0x0005 // Int 1: 1 MS display, 2 ME, 3 SIM, 4 external unit
	TagDestNetworkType          Tag = 0x0006 // Int 1
	TagDestBearerType           Tag = 0x0007 // Int 1
	TagDestTelematicsID         Tag = 0x0008 // Int 2
	TagSourceAddrSubunit        Tag = 0x000D // Int 1
	TagSourceNetworkType        Tag = 0x000E // Int 1
	TagSourceBearerType         Tag = 0x000F // Int 1
	TagSourceTelematicsID       Tag = 0x0010 // Int 1
	TagQosTimeToLive            Tag = 0x0017 // Int 4
	TagPayloadType              Tag = 0x0019 // Int 1: 0 default (WDP), 1 WCMP
	TagAdditionalStatusInfoText Tag = 0x001D // C(≤256): human-readable reason in a response
	TagReceiptedMessageID       Tag = 0x001E // C(≤65): in receipts, the id from submit_sm_resp
	TagMsMsgWaitFacilities      Tag = 0x0030 // Int 1
	TagPrivacyIndicator         Tag = 0x0201 // Int 1
	TagSourceSubaddress         Tag = 0x0202 // Oct 2–23
	TagDestSubaddress           Tag = 0x0203 // Oct 2–23
	TagUserMessageReference     Tag = 0x0204 // Int 2: the ESME's own reference
	TagUserResponseCode         Tag = 0x0205 // Int 1
	TagSourcePort               Tag = 0x020A // Int 2
	TagDestinationPort          Tag = 0x020B // Int 2
	TagSarMsgRefNum             Tag = 0x020C // Int 2: concatenation reference, same in all parts
	TagLanguageIndicator        Tag = 0x020D // Int 1
	TagSarTotalSegments         Tag = 0x020E // Int 1: 1–255
	TagSarSegmentSeqnum         Tag = 0x020F // Int 1: 1–255, starts at 1
	TagSCInterfaceVersion       Tag = 0x0210 // Int 1: in bind_*_resp, 0x34 for 3.4
	TagCallbackNumPresInd       Tag = 0x0302 // Int 1
	TagCallbackNumAtag          Tag = 0x0303 // Oct ≤65
	TagNumberOfMessages         Tag = 0x0304 // Int 1
	TagCallbackNum              Tag = 0x0381 // Oct 4–19
	TagDpfResult                Tag = 0x0420 // Int 1
	TagSetDpf                   Tag = 0x0421 // Int 1
	TagMsAvailabilityStatus     Tag = 0x0422 // Int 1
	TagNetworkErrorCode         Tag = 0x0423 // Oct 3: network type, then a 2-octet error code
	TagMessagePayload           Tag = 0x0424 // Oct: user data instead of short_message
	TagDeliveryFailureReason    Tag = 0x0425 // Int 1: 0 unavailable, 1 invalid, 2 permanent, 3 temporary
	TagMoreMessagesToSend       Tag = 0x0426 // Int 1
	TagMessageState             Tag = 0x0427 // Int 1: final state in receipts (MessageState)
	TagCongestionState          Tag = 0x0428 // Int 1: v5.0 only, 0–100 load of the peer
	TagUssdServiceOp            Tag = 0x0501 // Int 1
	TagDisplayTime              Tag = 0x1201 // Int 1
	TagSmsSignal                Tag = 0x1203 // Int 2
	TagMsValidity               Tag = 0x1204 // Int 1
	TagAlertOnMessageDelivery   Tag = 0x130C // no value
	TagItsReplyType             Tag = 0x1380 // Int 1
	TagItsSessionInfo           Tag = 0x1383 // Oct 2
)

var tagNames = map[Tag]string{
	TagDestAddrSubunit:          "dest_addr_subunit",
	TagDestNetworkType:          "dest_network_type",
	TagDestBearerType:           "dest_bearer_type",
	TagDestTelematicsID:         "dest_telematics_id",
	TagSourceAddrSubunit:        "source_addr_subunit",
	TagSourceNetworkType:        "source_network_type",
	TagSourceBearerType:         "source_bearer_type",
	TagSourceTelematicsID:       "source_telematics_id",
	TagQosTimeToLive:            "qos_time_to_live",
	TagPayloadType:              "payload_type",
	TagAdditionalStatusInfoText: "additional_status_info_text",
	TagReceiptedMessageID:       "receipted_message_id",
	TagMsMsgWaitFacilities:      "ms_msg_wait_facilities",
	TagPrivacyIndicator:         "privacy_indicator",
	TagSourceSubaddress:         "source_subaddress",
	TagDestSubaddress:           "dest_subaddress",
	TagUserMessageReference:     "user_message_reference",
	TagUserResponseCode:         "user_response_code",
	TagSourcePort:               "source_port",
	TagDestinationPort:          "destination_port",
	TagSarMsgRefNum:             "sar_msg_ref_num",
	TagLanguageIndicator:        "language_indicator",
	TagSarTotalSegments:         "sar_total_segments",
	TagSarSegmentSeqnum:         "sar_segment_seqnum",
	TagSCInterfaceVersion:       "sc_interface_version",
	TagCallbackNumPresInd:       "callback_num_pres_ind",
	TagCallbackNumAtag:          "callback_num_atag",
	TagNumberOfMessages:         "number_of_messages",
	TagCallbackNum:              "callback_num",
	TagDpfResult:                "dpf_result",
	TagSetDpf:                   "set_dpf",
	TagMsAvailabilityStatus:     "ms_availability_status",
	TagNetworkErrorCode:         "network_error_code",
	TagMessagePayload:           "message_payload",
	TagDeliveryFailureReason:    "delivery_failure_reason",
	TagMoreMessagesToSend:       "more_messages_to_send",
	TagMessageState:             "message_state",
	TagCongestionState:          "congestion_state",
	TagUssdServiceOp:            "ussd_service_op",
	TagDisplayTime:              "display_time",
	TagSmsSignal:                "sms_signal",
	TagMsValidity:               "ms_validity",
	TagAlertOnMessageDelivery:   "alert_on_message_delivery",
	TagItsReplyType:             "its_reply_type",
	TagItsSessionInfo:           "its_session_info",
}

// String returns the spec's name of the tag, e.g. "message_payload", or "tag 0x1401" for a
// tag this package does not name (vendor-specific ones included).
func (t Tag) String() string {
	if name, ok := tagNames[t]; ok {
		return name
	}
	return fmt.Sprintf("tag 0x%04X", uint16(t))
}

// TLV is one optional parameter as it travels: tag, then value (its length is len(Value)).
type TLV struct {
	Tag   Tag
	Value []byte
}

// TLVs is the optional-parameter area of a PDU, in wire order; unknown tags are kept and
// re-encoded as they came. The zero value (nil) is an empty area.
type TLVs []TLV

// Get returns the value of the first TLV with tag t.
func (ts TLVs) Get(t Tag) ([]byte, bool) {
	for _, tlv := range ts {
		if tlv.Tag == t {
			return tlv.Value, true
		}
	}
	return nil, false
}

// Uint8 returns a one-octet integer TLV; ok is false when the tag is absent or its value is
// not exactly one octet long.
func (ts TLVs) Uint8(t Tag) (v uint8, ok bool) {
	b, ok := ts.Get(t)
	if !ok || len(b) != 1 {
		return 0, false
	}
	return b[0], true
}

// Uint16 returns a two-octet big-endian integer TLV; ok is false when the tag is absent or
// its value is not exactly two octets long.
func (ts TLVs) Uint16(t Tag) (v uint16, ok bool) {
	b, ok := ts.Get(t)
	if !ok || len(b) != 2 {
		return 0, false
	}
	return binary.BigEndian.Uint16(b), true
}

// CString returns a C-string TLV without its NUL terminator. A value that lacks the NUL
// (a common peer mistake) is returned whole; anything after the first NUL is ignored.
func (ts TLVs) CString(t Tag) (string, bool) {
	b, ok := ts.Get(t)
	if !ok {
		return "", false
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), true
}

// Set sets the value of tag t, replacing the first TLV with that tag in place (and removing
// any later duplicates) or appending a new one. value is kept, not copied.
func (ts *TLVs) Set(t Tag, value []byte) {
	for i := range *ts {
		if (*ts)[i].Tag == t {
			(*ts)[i].Value = value
			rest := (*ts)[i+1:].del(t)
			*ts = (*ts)[:i+1+len(rest)]
			return
		}
	}
	*ts = append(*ts, TLV{Tag: t, Value: value})
}

// SetUint8 sets a one-octet integer TLV.
func (ts *TLVs) SetUint8(t Tag, v uint8) { ts.Set(t, []byte{v}) }

// SetUint16 sets a two-octet big-endian integer TLV.
func (ts *TLVs) SetUint16(t Tag, v uint16) { ts.Set(t, binary.BigEndian.AppendUint16(nil, v)) }

// SetCString sets a C-string TLV: s followed by a NUL terminator.
func (ts *TLVs) SetCString(t Tag, s string) { ts.Set(t, append([]byte(s), 0)) }

// Del removes every TLV with tag t.
func (ts *TLVs) Del(t Tag) { *ts = ts.del(t) }

// del filters out tag t in place and returns the shortened slice.
func (ts TLVs) del(t Tag) TLVs {
	out := ts[:0]
	for _, tlv := range ts {
		if tlv.Tag != t {
			out = append(out, tlv)
		}
	}
	return out
}

// appendTLVs encodes ts after the mandatory fields.
func appendTLVs(dst []byte, ts TLVs) ([]byte, error) {
	for _, tlv := range ts {
		if len(tlv.Value) > 0xFFFF {
			return dst, &ProtocolError{Field: tlv.Tag.String(), Status: StatusInvParLen,
				Err: fmt.Errorf("value is %d octets, a TLV holds at most 65535", len(tlv.Value))}
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(tlv.Tag))
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(tlv.Value)))
		dst = append(dst, tlv.Value...)
	}
	return dst, nil
}

// decodeTLVsIn decodes the whole of b as a TLV area. The values share data, which is b and
// owned by the caller; nil data makes them share one copy of b, so that the caller's buffer
// may be reused and a PDU costs at most two allocations for its TLVs.
func decodeTLVsIn(b, data []byte) (TLVs, error) {
	if len(b) == 0 {
		return nil, nil
	}
	n := 0
	for off := 0; off < len(b); n++ {
		if len(b)-off < 4 {
			return nil, &ProtocolError{Field: "optional parameters", Status: StatusInvOptParStream, junk: len(b) - off,
				Err: fmt.Errorf("%d stray octets at the end of the body, a TLV needs at least 4", len(b)-off)}
		}
		tag := Tag(binary.BigEndian.Uint16(b[off:]))
		l := int(binary.BigEndian.Uint16(b[off+2:]))
		if len(b)-off-4 < l {
			return nil, &ProtocolError{Field: tag.String(), Status: StatusInvOptParStream, junk: len(b) - off,
				Err: fmt.Errorf("TLV length %d but only %d octets left (truncated)", l, len(b)-off-4)}
		}
		off += 4 + l
	}
	if data == nil {
		data = bytes.Clone(b)
	}
	ts := make(TLVs, 0, n)
	for off := 0; off < len(data); {
		tag := Tag(binary.BigEndian.Uint16(data[off:]))
		l := int(binary.BigEndian.Uint16(data[off+2:]))
		ts = append(ts, TLV{Tag: tag, Value: data[off+4 : off+4+l : off+4+l]})
		off += 4 + l
	}
	return ts, nil
}
