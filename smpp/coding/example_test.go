package coding_test

import (
	"errors"
	"fmt"
	"strings"

	"smscast/smpp"
	"smscast/smpp/coding"
)

func ExampleSplitText() {
	text := strings.Repeat("Your parcel is on its way. ", 6) // 162 characters
	msg, err := coding.SplitText(text, coding.Options{Split: coding.SplitUDH, MaxParts: 10, Ref: 0xA7})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(msg.Encoding, msg.Units, "septets in", len(msg.Parts), "parts")
	for _, part := range msg.Parts {
		p := &smpp.SubmitSM{DestinationAddr: "447700900123", DataCoding: msg.DataCoding}
		part.Apply(p)
		fmt.Printf("esm_class %#02x, UDH % X, %d octets\n", p.ESMClass, p.ShortMessage[:6], len(p.ShortMessage))
	}
	// Output:
	// gsm7 162 septets in 2 parts
	// esm_class 0x40, UDH 05 00 03 A7 02 01, 159 octets
	// esm_class 0x40, UDH 05 00 03 A7 02 02, 15 octets
}

func ExampleSplitText_tooManyParts() {
	_, err := coding.SplitText(strings.Repeat("ж", 700), coding.Options{MaxParts: 10})
	var tm *coding.TooManyPartsError
	fmt.Println(errors.As(err, &tm), err)
	// Output: true the text needs 11 parts, more than --max-parts 10
}

func ExampleTransliterate() {
	fmt.Println(coding.Transliterate("“Sale” – 20% off…"))
	fmt.Println(coding.Transliterate("Привет — друг"))
	// Output:
	// "Sale" - 20% off... true
	// Привет — друг false
}

func ExampleDecode() {
	text, err := coding.Decode([]byte{0x48, 0x69, 0x20, 0x1B, 0x65}, 0x00)
	fmt.Println(text, err)
	// Output: Hi € <nil>
}
