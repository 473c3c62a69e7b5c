package smpp

import (
	"bytes"
	"reflect"
	"testing"
)

func TestTLVs_Accessors(t *testing.T) {
	var ts TLVs
	ts.SetUint16(TagSarMsgRefNum, 0x1234)
	ts.SetUint8(TagSarTotalSegments, 2)
	ts.SetUint8(TagSarSegmentSeqnum, 1)
	ts.SetCString(TagReceiptedMessageID, "abc")
	ts.Set(Tag(0x1400), []byte{9, 9})

	// SMPP.md §10.3: part 1 of 2, ref 0x1234.
	wire, err := appendTLVs(nil, ts[:3])
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x02, 0x0C, 0, 2, 0x12, 0x34, 0x02, 0x0E, 0, 1, 2, 0x02, 0x0F, 0, 1, 1}
	if !bytes.Equal(wire, want) {
		t.Errorf("SAR TLVs = % X, want % X", wire, want)
	}

	if v, ok := ts.Uint16(TagSarMsgRefNum); !ok || v != 0x1234 {
		t.Errorf("Uint16 = %#x, %v", v, ok)
	}
	if v, ok := ts.Uint8(TagSarTotalSegments); !ok || v != 2 {
		t.Errorf("Uint8 = %d, %v", v, ok)
	}
	if v, ok := ts.CString(TagReceiptedMessageID); !ok || v != "abc" {
		t.Errorf("CString = %q, %v", v, ok)
	}
	if v, ok := ts.Get(Tag(0x1400)); !ok || !bytes.Equal(v, []byte{9, 9}) {
		t.Errorf("Get = %v, %v", v, ok)
	}
	// Wrong sizes and absent tags are reported as absent.
	if _, ok := ts.Uint8(TagSarMsgRefNum); ok {
		t.Error("Uint8 of a 2-octet value: ok")
	}
	if _, ok := ts.Uint16(TagSarTotalSegments); ok {
		t.Error("Uint16 of a 1-octet value: ok")
	}
	if _, ok := ts.Get(TagMessagePayload); ok {
		t.Error("Get of an absent tag: ok")
	}
	// A C-string TLV without its NUL (a common peer mistake) still reads.
	if v, ok := (TLVs{{TagReceiptedMessageID, []byte("xyz")}}).CString(TagReceiptedMessageID); !ok || v != "xyz" {
		t.Errorf("CString without NUL = %q, %v", v, ok)
	}

	// Set replaces in place and drops duplicates; Del removes all.
	ts = append(ts, TLV{TagSarTotalSegments, []byte{7}})
	ts.SetUint8(TagSarTotalSegments, 3)
	wantTags := []Tag{TagSarMsgRefNum, TagSarTotalSegments, TagSarSegmentSeqnum, TagReceiptedMessageID, Tag(0x1400)}
	if got := tags(ts); !reflect.DeepEqual(got, wantTags) {
		t.Errorf("after Set: tags = %v, want %v", got, wantTags)
	}
	if v, _ := ts.Uint8(TagSarTotalSegments); v != 3 {
		t.Errorf("after Set: value %d", v)
	}
	ts = append(ts, TLV{TagSarMsgRefNum, []byte{1, 1}})
	ts.Del(TagSarMsgRefNum)
	if _, ok := ts.Get(TagSarMsgRefNum); ok || len(ts) != 4 {
		t.Errorf("after Del: %v", tags(ts))
	}
}

func tags(ts TLVs) []Tag {
	var out []Tag
	for _, tlv := range ts {
		out = append(out, tlv.Tag)
	}
	return out
}

func TestTLVs_UnknownKeptInOrder(t *testing.T) {
	area := []byte{
		0x14, 0x01, 0, 3, 'a', 'b', 'c', // vendor tag
		0x04, 0x27, 0, 1, 2, // message_state
		0x7F, 0xFF, 0, 0, // unknown, empty
		0x14, 0x01, 0, 1, 'z', // vendor tag again
	}
	ts, err := decodeTLVsIn(area, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tags(ts), []Tag{0x1401, TagMessageState, 0x7FFF, 0x1401}; !reflect.DeepEqual(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	back, err := appendTLVs(nil, ts)
	if err != nil || !bytes.Equal(back, area) {
		t.Errorf("re-encoded = % X, %v; want % X", back, err, area)
	}
	// Values must not alias each other: growing one must not overwrite the next.
	ts[0].Value = append(ts[0].Value, 'd')
	if ts[1].Value[0] != 2 {
		t.Error("appending to one TLV value overwrote the next")
	}
}

func TestTag_String(t *testing.T) {
	tests := map[Tag]string{
		TagSarMsgRefNum: "sar_msg_ref_num", TagSarTotalSegments: "sar_total_segments",
		TagSarSegmentSeqnum: "sar_segment_seqnum", TagMessagePayload: "message_payload",
		TagReceiptedMessageID: "receipted_message_id", TagMessageState: "message_state",
		TagNetworkErrorCode: "network_error_code", TagSCInterfaceVersion: "sc_interface_version",
		TagUserMessageReference: "user_message_reference", TagAdditionalStatusInfoText: "additional_status_info_text",
		TagDestAddrSubunit: "dest_addr_subunit", TagPayloadType: "payload_type", TagSourcePort: "source_port",
		TagDestinationPort: "destination_port", TagLanguageIndicator: "language_indicator",
		TagCallbackNum: "callback_num", TagDeliveryFailureReason: "delivery_failure_reason",
		TagMoreMessagesToSend: "more_messages_to_send", TagAlertOnMessageDelivery: "alert_on_message_delivery",
		TagCongestionState: "congestion_state", Tag(0x1401): "tag 0x1401",
	}
	for tag, want := range tests {
		if got := tag.String(); got != want {
			t.Errorf("Tag(0x%04X) = %q, want %q", uint16(tag), got, want)
		}
	}
	// The constants of SMPP.md §4 have the sheet's values.
	values := map[Tag]uint16{
		TagDestAddrSubunit: 0x0005, TagPayloadType: 0x0019, TagAdditionalStatusInfoText: 0x001D,
		TagReceiptedMessageID: 0x001E, TagUserMessageReference: 0x0204, TagSourcePort: 0x020A,
		TagDestinationPort: 0x020B, TagSarMsgRefNum: 0x020C, TagLanguageIndicator: 0x020D,
		TagSarTotalSegments: 0x020E, TagSarSegmentSeqnum: 0x020F, TagSCInterfaceVersion: 0x0210,
		TagCallbackNum: 0x0381, TagNetworkErrorCode: 0x0423, TagMessagePayload: 0x0424,
		TagDeliveryFailureReason: 0x0425, TagMoreMessagesToSend: 0x0426, TagMessageState: 0x0427,
		TagAlertOnMessageDelivery: 0x130C, TagCongestionState: 0x0428,
	}
	for tag, v := range values {
		if uint16(tag) != v {
			t.Errorf("%v = 0x%04X, want 0x%04X", tag, uint16(tag), v)
		}
	}
}
