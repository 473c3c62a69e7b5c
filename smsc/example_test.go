package smsc_test

import (
	"context"
	"fmt"
	"log"

	"smscast/smpp"
	"smscast/smsc"
)

// A test starts the simulator, points a client at it, then inspects what it received.
func ExampleNewServer() {
	srv, err := smsc.NewServer(smsc.Config{UndelivPrefixes: []string{"4479"}})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	s, err := smpp.Dial(context.Background(), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "shop"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, to := range []string{"447700900123", "447900900123"} {
		_, err := s.Submit(context.Background(), &smpp.SubmitSM{
			SourceAddrTON: 5, SourceAddr: "Shop", DestAddrTON: 1, DestAddrNPI: 1,
			DestinationAddr: to, ShortMessage: []byte("Your order has shipped"),
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	s.Close()

	for _, m := range srv.Messages() {
		fmt.Printf("%s -> %s: %q (%s)\n", m.Source.Addr, m.Destination.Addr, m.Text, m.State)
	}
	st := srv.Stats()
	fmt.Println("sessions:", st.Sessions, "accepted:", st.Accepted)
	// Output:
	// Shop -> 447700900123: "Your order has shipped" (DELIVRD)
	// Shop -> 447900900123: "Your order has shipped" (UNDELIV)
	// sessions: 1 accepted: 2
}
