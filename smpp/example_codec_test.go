package smpp_test

import (
	"bytes"
	"fmt"
	"time"

	"smscast/smpp"
)

func ExampleAppendPDU() {
	p := &smpp.SubmitSM{
		SourceAddrTON: 5, SourceAddr: "MyBrand",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "447700900123",
		RegisteredDelivery: 1, ShortMessage: []byte("Hello"),
	}
	buf, err := smpp.AppendPDU(nil, 2, smpp.StatusOK, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("% X\n", buf[:16])
	fmt.Println(len(buf), "octets")
	// Output:
	// 00 00 00 39 00 00 00 04 00 00 00 00 00 00 00 02
	// 57 octets
}

func ExampleReadPDU() {
	stream := bytes.NewReader([]byte{
		0, 0, 0, 0x19, 0x80, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2, '5', 'f', '1', 'e', '0', 'b', '7', 'a', 0,
		0, 0, 0, 0x10, 0x80, 0, 0, 4, 0, 0, 0, 0x58, 0, 0, 0, 3,
	})
	var buf []byte
	for {
		pdu, err := smpp.ReadPDU(stream, buf, smpp.DefaultMaxPDULen)
		if err != nil {
			break // io.EOF at the end
		}
		buf = pdu
		h, p, err := smpp.Decode(pdu)
		if err != nil {
			fmt.Println(err)
			continue
		}
		if h.Status != smpp.StatusOK {
			fmt.Printf("seq %d: %v (temporary: %v)\n", h.Sequence, h.Status, h.Status.Temporary())
			continue
		}
		fmt.Printf("seq %d: %v message_id=%s\n", h.Sequence, h.ID, p.(*smpp.SubmitSMResp).MessageID)
	}
	// Output:
	// seq 2: submit_sm_resp message_id=5f1e0b7a
	// seq 3: 0x00000058 ESME_RTHROTTLED (temporary: true)
}

func ExampleParseReceiptText() {
	r, err := smpp.ParseReceiptText("ID:0000029095 SUBMIT_DATE:141023215253 DONE_DATE:141023215301 STAT:UNDELIV ERR:21b")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.ID, r.Stat, r.State.Final(), r.Err, r.DoneDate.Format(time.RFC3339))
	// Output: 0000029095 UNDELIV true 21b 2014-10-23T21:53:01Z
}

func ExampleSameMessageID() {
	fmt.Println(smpp.SameMessageID("5f1e0b7a", "1595804538", smpp.IDAuto)) // hex vs decimal
	fmt.Println(smpp.SameMessageID("0000029095", "29095", smpp.IDAuto))    // leading zeros
	fmt.Println(smpp.SameMessageID("12345", "74565", smpp.IDAuto))         // hex without letters
	fmt.Println(smpp.SameMessageID("12345", "74565", smpp.IDDec))          // decimal only
	// Output:
	// true
	// true
	// true
	// false
}

func ExampleMessageIDKeys() {
	// Index submitted ids by every key; look a receipt's id up by each of its keys.
	index := map[string]int{}
	for row, id := range []string{"5F1E0B7A", "00000042"} {
		for _, k := range smpp.MessageIDKeys(id, smpp.IDAuto) {
			index[k] = row + 1
		}
	}
	for _, receiptID := range []string{"1595804538", "42", "43"} {
		row := 0
		for _, k := range smpp.MessageIDKeys(receiptID, smpp.IDAuto) {
			if r, ok := index[k]; ok {
				row = r
				break
			}
		}
		fmt.Printf("%s -> row %d\n", receiptID, row)
	}
	// Output:
	// 1595804538 -> row 1
	// 42 -> row 2
	// 43 -> row 0
}

func ExampleFormatRelativeTime() {
	fmt.Println(smpp.FormatRelativeTime(48 * time.Hour))
	fmt.Println(smpp.FormatAbsoluteTime(time.Date(2025, 3, 14, 16, 30, 0, 0, time.FixedZone("CET", 3600))))
	// Output:
	// 000002000000000R
	// 250314153000000+
}
