package smpp

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

// TestParseReceiptText covers every variation of SMPP.md §8's table.
func TestParseReceiptText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Receipt
	}{
		{"App. B form", receiptText, Receipt{ID: "5f1e0b7a", Sub: "001", Dlvrd: "001",
			SubmitDate: utc(2025, 3, 14, 15, 30, 0), DoneDate: utc(2025, 3, 14, 15, 31, 0),
			Stat: "DELIVRD", State: StateDelivered, Err: "000", Text: "Hello"}},
		{"spec sample with Text: and decimal id",
			"id:0000029095 sub:001 dlvrd:000 submit date:0610191018 done date:0610191018 stat:UNDELIV err:000 Text:",
			Receipt{ID: "0000029095", Sub: "001", Dlvrd: "000", SubmitDate: utc(2006, 10, 19, 10, 18, 0),
				DoneDate: utc(2006, 10, 19, 10, 18, 0), Stat: "UNDELIV", State: StateUndeliverable, Err: "000"}},
		{"upper-case labels, underscores, 12-digit dates",
			"ID:a29f6845555647139e5c8f3b817f2c9a SUB:001 DLVRD:001 SUBMIT_DATE:141023215253 DONE_DATE:141023215259 STAT:DELIVRD ERR:000 TEXT:Hi",
			Receipt{ID: "a29f6845555647139e5c8f3b817f2c9a", Sub: "001", Dlvrd: "001",
				SubmitDate: utc(2014, 10, 23, 21, 52, 53), DoneDate: utc(2014, 10, 23, 21, 52, 59),
				Stat: "DELIVRD", State: StateDelivered, Err: "000", Text: "Hi"}},
		{"14-digit dates", "id:74e02ee1-4e2f-4b4e-9d2d-1c2f2ab0c0de submit date:20110314181534 done date:20110314181600 stat:EXPIRED err:0",
			Receipt{ID: "74e02ee1-4e2f-4b4e-9d2d-1c2f2ab0c0de", SubmitDate: utc(2011, 3, 14, 18, 15, 34),
				DoneDate: utc(2011, 3, 14, 18, 16, 0), Stat: "EXPIRED", State: StateExpired, Err: "0"}},
		{"12-digit YYYYMMDDhhmm", "id:1 submit date:201906190720 done date:201906190721 stat:DELIVRD",
			Receipt{ID: "1", SubmitDate: utc(2019, 6, 19, 7, 20, 0), DoneDate: utc(2019, 6, 19, 7, 21, 0),
				Stat: "DELIVRD", State: StateDelivered}},
		{"12-digit 20xx YYMMDDhhmmss", "id:1 done date:201206101112 stat:DELIVRD",
			Receipt{ID: "1", DoneDate: utc(2020, 12, 6, 10, 11, 12), Stat: "DELIVRD", State: StateDelivered}},
		{"missing sub, dlvrd and text", "id:0000000001 submit date:1807052207 done date:1807052208 stat:DELIVRD err:00",
			Receipt{ID: "0000000001", SubmitDate: utc(2018, 7, 5, 22, 7, 0), DoneDate: utc(2018, 7, 5, 22, 8, 0),
				Stat: "DELIVRD", State: StateDelivered, Err: "00"}},
		{"err not 3 digits", "id:9 stat:UNDELIV err:21b", Receipt{ID: "9", Stat: "UNDELIV", State: StateUndeliverable, Err: "21b"}},
		{"stat label missing", "id:77 sub:001 dlvrd:001 submit date:180903120816 done date:180903120816 DELIVRD err:000 Text:",
			Receipt{ID: "77", Sub: "001", Dlvrd: "001", SubmitDate: utc(2018, 9, 3, 12, 8, 16),
				DoneDate: utc(2018, 9, 3, 12, 8, 16), Stat: "DELIVRD", State: StateDelivered, Err: "000"}},
		{"non-standard BUFFRED", "id:5 stat:BUFFRED err:000", Receipt{ID: "5", Stat: "BUFFRED", State: StateEnroute, Err: "000"}},
		{"non-standard ACKED lower case", "id:5 stat:acked", Receipt{ID: "5", Stat: "ACKED", State: StateEnroute}},
		{"ACCEPTD early", "id:5 stat:ACCEPTD", Receipt{ID: "5", Stat: "ACCEPTD", State: StateAccepted}},
		{"unknown word", "id:5 stat:WEIRD", Receipt{ID: "5", Stat: "WEIRD", State: StateUnknown}},
		{"fields in another order", "stat:REJECTD err:001 id:abc done date:2503141531",
			Receipt{ID: "abc", DoneDate: utc(2025, 3, 14, 15, 31, 0), Stat: "REJECTD", State: StateRejected, Err: "001"}},
		{"text containing labels", "id:1 stat:DELIVRD err:000 text:id:2 stat:UNDELIV err:9",
			Receipt{ID: "1", Stat: "DELIVRD", State: StateDelivered, Err: "000", Text: "id:2 stat:UNDELIV err:9"}},
		{"text first", "text:Hello id:3 stat:DELIVRD", Receipt{ID: "3", Stat: "DELIVRD", State: StateDelivered, Text: "Hello"}},
		{"invalid dates ignored", "id:4 submit date:2513141530 done date:12 stat:DELIVRD",
			Receipt{ID: "4", Stat: "DELIVRD", State: StateDelivered}},
		{"label inside a word is not a label", "msgid:9 id:10 substat:X stat:DELIVRD",
			Receipt{ID: "10", Stat: "DELIVRD", State: StateDelivered}},
		{"NUL-terminated short_message", "id:8 stat:DELIVRD\x00", Receipt{ID: "8", Stat: "DELIVRD", State: StateDelivered}},
		{"NUL after the text", "id:8 stat:EXPIRED err:000 text:Hi\x00", Receipt{ID: "8", Stat: "EXPIRED", State: StateExpired, Err: "000", Text: "Hi"}},
		{"GSM underscore 0x11", "id:6 submit\x11date:2503141530 stat:DELIVRD",
			Receipt{ID: "6", SubmitDate: utc(2025, 3, 14, 15, 30, 0), Stat: "DELIVRD", State: StateDelivered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseReceiptText(tt.in)
			if err != nil {
				t.Fatalf("ParseReceiptText: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseReceiptText_Errors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrNotReceipt},
		{"Hello, this is a normal message", ErrNotReceipt},
		{"stat:DELIVRD err:000", ErrNotReceipt},
		{"id:123 sub:001 err:000", ErrNoReceiptState},
	}
	for _, tt := range tests {
		if _, err := ParseReceiptText(tt.in); !errors.Is(err, tt.want) {
			t.Errorf("ParseReceiptText(%q): err = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestReceiptFromDeliverSM(t *testing.T) {
	tests := []struct {
		name string
		p    DeliverSM
		want Receipt
	}{
		{"TLVs win over text", DeliverSM{ESMClass: 4, ShortMessage: []byte("id:0000029095 stat:DELIVRD err:000"),
			TLVs: TLVs{{TagReceiptedMessageID, []byte("71A7\x00")}, {TagMessageState, []byte{5}}, {TagNetworkErrorCode, []byte{3, 0, 1}}}},
			Receipt{ID: "71A7", Stat: "UNDELIV", State: StateUndeliverable, Err: "000", NetworkError: []byte{3, 0, 1}}},
		{"TLV state agrees with a non-standard word", DeliverSM{ShortMessage: []byte("id:1 stat:BUFFRED"),
			TLVs: TLVs{{TagMessageState, []byte{1}}}},
			Receipt{ID: "1", Stat: "BUFFRED", State: StateEnroute}},
		{"a message_state no SMPP version defines loses to the text", DeliverSM{ShortMessage: []byte("id:1 stat:DELIVRD"),
			TLVs: TLVs{{TagMessageState, []byte{255}}}},
			Receipt{ID: "1", Stat: "DELIVRD", State: StateDelivered}},
		{"TLVs only", DeliverSM{TLVs: TLVs{{TagReceiptedMessageID, []byte("abc")}, {TagMessageState, []byte{2}}}},
			Receipt{ID: "abc", Stat: "DELIVRD", State: StateDelivered}},
		{"text in message_payload", DeliverSM{TLVs: TLVs{{TagMessagePayload, []byte("id:42 stat:EXPIRED err:0 text:x")}}},
			Receipt{ID: "42", Stat: "EXPIRED", State: StateExpired, Err: "0", Text: "x"}},
		{"UCS-2 text", DeliverSM{DataCoding: 8, ShortMessage: []byte("\x00i\x00d\x00:\x007\x00 \x00s\x00t\x00a\x00t\x00:\x00D\x00E\x00L\x00I\x00V\x00R\x00D")},
			Receipt{ID: "7", Stat: "DELIVRD", State: StateDelivered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReceiptFromDeliverSM(&tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}

	// What arrived is kept in Text, for the warning and the unmatched file.
	if r, err := ReceiptFromDeliverSM(&DeliverSM{ShortMessage: []byte("hi there text:x")}); !errors.Is(err, ErrNotReceipt) || r.Text != "hi there text:x" {
		t.Errorf("MO message: %+v, err = %v, want ErrNotReceipt and the text as it came", r, err)
	}
	if _, err := ReceiptFromDeliverSM(&DeliverSM{TLVs: TLVs{{TagReceiptedMessageID, []byte("9\x00")}}}); !errors.Is(err, ErrNoReceiptState) {
		t.Errorf("id only: err = %v, want ErrNoReceiptState", err)
	}
}

func TestReceiptFromDeliverSM_Golden(t *testing.T) {
	_, p, err := Decode(goldenVectors(t)["12.3-deliver_sm-receipt"])
	if err != nil {
		t.Fatal(err)
	}
	d := p.(*DeliverSM)
	if !IsReceipt(d.ESMClass) {
		t.Fatalf("esm_class 0x%02X not a receipt", d.ESMClass)
	}
	r, err := ReceiptFromDeliverSM(d)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "5f1e0b7a" || r.State != StateDelivered || !r.DoneDate.Equal(utc(2025, 3, 14, 15, 31, 0)) {
		t.Errorf("got %+v", r)
	}
}

func TestReceiptFromDataSM(t *testing.T) {
	r, err := ReceiptFromDataSM(&DataSM{ESMClass: 4, TLVs: TLVs{
		{TagMessagePayload, []byte("id:99 sub:001 dlvrd:000 submit date:2503141530 done date:2503141531 stat:UNDELIV err:001")},
		{TagReceiptedMessageID, []byte("99\x00")}}})
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "99" || r.State != StateUndeliverable || r.Err != "001" || r.Dlvrd != "000" {
		t.Errorf("got %+v", r)
	}
}

func TestIsReceipt(t *testing.T) {
	for esm, want := range map[uint8]bool{
		0x00: false, 0x04: true, 0x20: true, 0x44: true, 0x84: true, 0x08: false, 0x10: false,
		0x18: false, 0x40: false, 0x01: false, 0x03: false, 0x0C: false, 0x1C: false,
		0x24: true, 0x28: true, 0x64: true, // intermediate bit with another type: still the SMSC's
	} {
		if got := IsReceipt(esm); got != want {
			t.Errorf("IsReceipt(0x%02X) = %v, want %v", esm, got, want)
		}
	}
}

func TestMessageState(t *testing.T) {
	tests := []struct {
		s     MessageState
		stat  string
		final bool
	}{
		{StateScheduled, "SCHEDULED", false}, {StateEnroute, "ENROUTE", false}, {StateDelivered, "DELIVRD", true},
		{StateExpired, "EXPIRED", true}, {StateDeleted, "DELETED", true}, {StateUndeliverable, "UNDELIV", true},
		{StateAccepted, "ACCEPTD", false}, {StateUnknown, "UNKNOWN", true}, {StateRejected, "REJECTD", true},
		{StateSkipped, "SKIPPED", true}, {42, "UNKNOWN", true},
	}
	for _, tt := range tests {
		if tt.s.Stat() != tt.stat || tt.s.Final() != tt.final {
			t.Errorf("state %d: Stat, Final = %q, %v; want %q, %v", tt.s, tt.s.Stat(), tt.s.Final(), tt.stat, tt.final)
		}
		if tt.s <= StateSkipped && stateOfStat(tt.stat) != tt.s {
			t.Errorf("stateOfStat(%q) = %v, want %v", tt.stat, stateOfStat(tt.stat), tt.s)
		}
	}
}

func TestFormatReceiptText(t *testing.T) {
	r := Receipt{ID: "5f1e0b7a", SubmitDate: utc(2025, 3, 14, 15, 30, 0), DoneDate: utc(2025, 3, 14, 15, 31, 59),
		State: StateDelivered, Text: "Hello"}
	if got := FormatReceiptText(r); got != receiptText {
		t.Errorf("got  %q\nwant %q", got, receiptText)
	}
	long := Receipt{ID: "1", State: StateUndeliverable, Err: "021", Text: "Привет, this is longer than twenty"}
	want := "id:1 sub:001 dlvrd:000 submit date:0000000000 done date:0000000000 stat:UNDELIV err:021 text:Привет, this is long"
	if got := FormatReceiptText(long); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	back, err := ParseReceiptText(want)
	if err != nil || back.ID != "1" || back.State != StateUndeliverable || back.Text != "Привет, this is long" || !back.DoneDate.IsZero() {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}
