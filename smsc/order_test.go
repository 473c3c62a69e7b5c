package smsc

import (
	"bufio"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"smscast/smpp"
)

// TestServer_ReceiptFollowsItsResponse: with no receipt delay and a client that keeps 100
// submit_sm outstanding, no deliver_sm receipt reaches the wire before the submit_sm_resp
// that gave the client its message id, as with a real SMSC (whose receipts take seconds).
func TestServer_ReceiptFollowsItsResponse(t *testing.T) {
	const n, window = 3000, 100
	srv := startServer(t, Config{})
	nc, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second)) // bounds the test; never a measurement
	bind, _ := smpp.AppendPDU(nil, 1, smpp.StatusOK, &smpp.Bind{SystemID: "order", InterfaceVersion: 0x34})
	submit, err := smpp.AppendPDU(nil, 0, smpp.StatusOK, &smpp.SubmitSM{SourceAddrTON: 5, SourceAddr: "MyBrand",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "447700900123", RegisteredDelivery: 1,
		ShortMessage: []byte("order")})
	if err != nil {
		t.Fatal(err)
	}
	// All writes happen on this goroutine: submits as the window allows, and the answers to
	// the receipts read meanwhile.
	out := append([]byte(nil), bind...)
	br := bufio.NewReaderSize(nc, 64<<10)
	seen := make(map[string]bool, n)
	var pdu []byte
	sent, answered, receipts, seq := 0, 0, 0, uint32(1)
	for answered < n || receipts < n {
		for sent < n && sent-answered < window {
			seq++
			out = append(out, submit...)
			binary.BigEndian.PutUint32(out[len(out)-len(submit)+12:], seq)
			sent++
		}
		if len(out) > 0 {
			if _, err := nc.Write(out); err != nil {
				t.Fatal(err)
			}
			out = out[:0]
		}
		for { // read what has arrived, at least one PDU
			if pdu, err = smpp.ReadPDU(br, pdu, 0); err != nil {
				t.Fatalf("after %d responses and %d receipts: %v", answered, receipts, err)
			}
			h, p, err := smpp.Decode(pdu)
			if err != nil {
				t.Fatal(err)
			}
			switch p := p.(type) {
			case *smpp.SubmitSMResp:
				if h.Status != smpp.StatusOK {
					t.Fatalf("submit_sm_resp %v", h.Status)
				}
				seen[p.MessageID] = true
				answered++
			case *smpp.DeliverSM:
				r, err := smpp.ReceiptFromDeliverSM(p)
				if err != nil {
					t.Fatal(err)
				}
				if !seen[r.ID] {
					t.Fatalf("receipt %d for %q came before the submit_sm_resp with that id", receipts+1, r.ID)
				}
				receipts++
				out, _ = smpp.AppendPDU(out, h.Sequence, smpp.StatusOK, &smpp.DeliverSMResp{})
			}
			if br.Buffered() == 0 {
				break
			}
		}
	}
}
