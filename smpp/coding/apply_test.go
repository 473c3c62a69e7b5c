package coding

import (
	"bytes"
	"strings"
	"testing"

	"smscast/smpp"
)

// encodeTail returns the end of the encoded submit_sm from data_coding on:
// data_coding, sm_default_msg_id, sm_length, short_message, TLVs.
func encodeTail(t *testing.T, p *smpp.SubmitSM) []byte {
	t.Helper()
	pdu, err := smpp.AppendPDU(nil, 1, smpp.StatusOK, p)
	if err != nil {
		t.Fatal(err)
	}
	// Empty C-strings and one-octet fields: 14 octets of the body come before data_coding.
	return pdu[smpp.HeaderLen+14:]
}

func TestPart_Apply(t *testing.T) {
	sar, err := SplitText(strings.Repeat("a", 161), Options{Split: SplitSAR, Ref: 0x1234})
	if err != nil {
		t.Fatal(err)
	}
	udh, err := SplitText(strings.Repeat("a", 161), Options{Ref: 0xA7})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := SplitText("Hi", Options{Split: SplitPayload})
	if err != nil {
		t.Fatal(err)
	}
	single, err := SplitText("Hi", Options{})
	if err != nil {
		t.Fatal(err)
	}

	// One SubmitSM reused for every part, the way a sender fills PDUs: each Apply must leave
	// exactly that part's fields, nothing from the one before.
	p := &smpp.SubmitSM{ESMClass: 0x03, TLVs: smpp.TLVs{{Tag: smpp.TagUserMessageReference, Value: []byte{0, 9}}}}
	steps := []struct {
		name     string
		part     Part
		esmClass uint8
		tail     string // hex from data_coding (always 00 here) on
	}{
		// SMPP.md §10.3: part 1 of 2, ref 0x1234.
		{"sar part 1", sar.Parts[0], 0x03,
			"00 00 99 " + strings.Repeat("61 ", 153) + "02 04 00 02 00 09 02 0C 00 02 12 34 02 0E 00 01 02 02 0F 00 01 01"},
		{"udh part 2", udh.Parts[1], 0x43,
			"00 00 0E 05 00 03 A7 02 02 " + strings.Repeat("61 ", 8) + "02 04 00 02 00 09"},
		{"payload", payload.Parts[0], 0x03, "00 00 00 02 04 00 02 00 09 04 24 00 02 48 69"},
		{"single", single.Parts[0], 0x03, "00 00 02 48 69 02 04 00 02 00 09"},
	}
	for _, s := range steps {
		s.part.Apply(p)
		if p.ESMClass != s.esmClass {
			t.Errorf("%s: esm_class %#x, want %#x", s.name, p.ESMClass, s.esmClass)
		}
		if got, want := encodeTail(t, p), mustHex(t, s.tail); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got % X\nwant % X", s.name, got, want)
		}
	}
}
