package smpp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"smscast/smpp"
)

// A sender's session: TLS, a receipt handler that stores each receipt before acknowledging
// it, and what each kind of Submit error means. (Not run: it needs a real SMSC.)
func ExampleDial() {
	tlsConfig, err := smpp.TLSConfig("", "", false) // system roots; name taken from the address
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	sess, err := smpp.Dial(ctx, "smsc.example.com:3550", smpp.Options{
		Bind:   smpp.Bind{SystemID: "acme", Password: os.Getenv("SMPP_PASSWORD")},
		TLS:    tlsConfig,
		Window: 50,
		Handler: func(ctx context.Context, p smpp.PDU) smpp.Status {
			d, ok := p.(*smpp.DeliverSM)
			if !ok || !smpp.IsReceipt(d.ESMClass) {
				return smpp.StatusOK // not a receipt: nothing to keep
			}
			r, err := smpp.ReceiptFromDeliverSM(d)
			if err != nil {
				log.Printf("unreadable receipt: %v", err)
				return smpp.StatusOK // redelivery would not make it readable
			}
			if err := storeReceipt(ctx, r); err != nil {
				return smpp.StatusXTAppn // not stored: ask the SMSC to deliver it again later
			}
			return smpp.StatusOK
		},
	})
	var st smpp.Status
	if errors.As(err, &st) {
		log.Fatalf("the SMSC refused the bind (%s): check the credentials", st.Name())
	}
	if err != nil {
		log.Fatal(err)
	}
	defer sess.Close()

	resp, err := sess.Submit(ctx, &smpp.SubmitSM{
		SourceAddrTON: 5, SourceAddr: "Acme",
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "447700900123",
		RegisteredDelivery: 1, ShortMessage: []byte("Your order has shipped"),
	})
	switch {
	case err == nil:
		fmt.Println("accepted as", resp.MessageID)
	case errors.As(err, &st) && st.Temporary():
		fmt.Println("refused for now, retry later:", st)
	case errors.As(err, &st):
		fmt.Println("refused for good:", st)
	case errors.Is(err, smpp.ErrNotSent):
		fmt.Println("never sent, safe to send again:", err)
	default: // ErrResponseTimeout or ErrConnectionLost: the SMSC may have accepted it
		fmt.Println("outcome unknown, check receipts before resending:", err)
	}
}

func storeReceipt(context.Context, smpp.Receipt) error { return nil }

// NewSession works over any net.Conn; here an in-memory pipe to a tiny stand-in SMSC.
func ExampleNewSession() {
	client, server := net.Pipe()
	smscDone := make(chan struct{})
	go func() {
		defer close(smscDone)
		standInSMSC(server)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sess, err := smpp.NewSession(ctx, client, smpp.Options{
		Bind: smpp.Bind{Mode: smpp.BindTransmitter, SystemID: "acme", Password: "secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("bound to", sess.SystemID())
	resp, err := sess.Submit(ctx, &smpp.SubmitSM{
		DestAddrTON: 1, DestAddrNPI: 1, DestinationAddr: "447700900123",
		ShortMessage: []byte("Hello"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("accepted as", resp.MessageID)
	fmt.Println("closed:", sess.Close(), sess.Err())
	<-smscDone
	// Output:
	// bound to STANDIN
	// accepted as 0001
	// closed: <nil> <nil>
}

// standInSMSC answers a bind, submit_sm and unbind until the connection ends.
func standInSMSC(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	var buf []byte
	for {
		pdu, err := smpp.ReadPDU(br, buf, 0)
		if err != nil {
			return
		}
		buf = pdu
		h, p, err := smpp.Decode(pdu)
		if err != nil {
			return
		}
		var answer smpp.PDU
		switch p := p.(type) {
		case *smpp.Bind:
			answer = &smpp.BindResp{Mode: p.Mode, SystemID: "STANDIN"}
		case *smpp.SubmitSM:
			answer = &smpp.SubmitSMResp{MessageID: "0001"}
		case *smpp.Unbind:
			answer = &smpp.UnbindResp{}
		default:
			return
		}
		out, err := smpp.AppendPDU(nil, h.Sequence, smpp.StatusOK, answer)
		if err != nil {
			return
		}
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}
