package smsc

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"smscast/internal/cputime"
	"smscast/smpp"
)

// BenchmarkServer_SubmitPipelined measures the simulator alone: a raw client writes
// pre-encoded submit_sm on one session, keeping 100 outstanding, and answers receipts with
// pre-encoded deliver_sm_resp. The simulator must sustain 300,000 submit_sm/s on a 2-core
// machine so that it is never the bottleneck of a client benchmark.
//
//	go test -run '^$' -bench SubmitPipelined -benchtime 2000000x ./smsc/
func BenchmarkServer_SubmitPipelined(b *testing.B) {
	cases := []struct {
		name        string
		cfg         Config
		regDelivery uint8
	}{
		{"recorded", Config{}, 0},
		{"recorded+receipts", Config{}, 1},
		{"discarded", Config{DiscardMessages: true}, 0},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			srv, err := NewServer(tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			nc, err := net.Dial("tcp", srv.Addr())
			if err != nil {
				b.Fatal(err)
			}
			defer nc.Close()
			bindRaw(b, nc)
			submit, err := smpp.AppendPDU(nil, 0, smpp.StatusOK, &smpp.SubmitSM{
				SourceAddrTON: 5, SourceAddr: "MyBrand", DestAddrTON: 1, DestAddrNPI: 1,
				DestinationAddr: "447700900123", RegisteredDelivery: tc.regDelivery,
				ShortMessage: []byte("Hello from the benchmark, a typical short text"),
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cpuTime(b)
			b.ResetTimer()
			pipeline(b, nc, submit, b.N, 100)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
			// CPU time of the whole process (client included) per submit: a figure that
			// other jobs on the machine do not inflate as much as wall time.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/submit")
		})
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	d, err := cputime.Process()
	if err != nil {
		b.Skip(err)
	}
	return d
}

func bindRaw(b *testing.B, nc net.Conn) {
	req, _ := smpp.AppendPDU(nil, 1, smpp.StatusOK, &smpp.Bind{SystemID: "bench", InterfaceVersion: 0x34})
	if _, err := nc.Write(req); err != nil {
		b.Fatal(err)
	}
	resp, err := smpp.ReadPDU(nc, nil, 0)
	if err != nil {
		b.Fatal(err)
	}
	if h, _ := smpp.DecodeHeader(resp); h.Status != smpp.StatusOK {
		b.Fatalf("bind: %v", h.Status)
	}
}

// pipeline writes n copies of the submit_sm template (sequence numbers patched) with at
// most window outstanding, and reads until every submit_sm_resp arrived.
func pipeline(b *testing.B, nc net.Conn, template []byte, n, window int) {
	credits := make(chan struct{}, window)
	for range window {
		credits <- struct{}{}
	}
	var writeMu sync.Mutex // the client's writer and its receipt answers share nc
	errs := make(chan error, 2)
	go func() {
		buf := make([]byte, 0, window*len(template))
		seq := uint32(1)
		for sent := 0; sent < n; {
			<-credits
			k := 1
		more:
			for k < window && sent+k < n {
				select {
				case <-credits:
					k++
				default:
					break more
				}
			}
			buf = buf[:0]
			for range k {
				seq++
				buf = append(buf, template...)
				binary.BigEndian.PutUint32(buf[len(buf)-len(template)+12:], seq)
			}
			writeMu.Lock()
			_, err := nc.Write(buf)
			writeMu.Unlock()
			if err != nil {
				errs <- err
				return
			}
			sent += k
		}
	}()
	br := bufio.NewReaderSize(nc, 64<<10)
	var pdu, acks []byte
	for got := 0; got < n; {
		var err error
		if pdu, err = smpp.ReadPDU(br, pdu, 0); err != nil {
			b.Fatalf("read after %d responses: %v", got, err)
		}
		h, _ := smpp.DecodeHeader(pdu)
		switch h.ID {
		case smpp.SubmitSMRespID:
			if h.Status != smpp.StatusOK {
				b.Fatalf("submit_sm_resp %v", h.Status)
			}
			got++
			credits <- struct{}{}
		case smpp.DeliverSMID:
			acks, _ = smpp.AppendPDU(acks, h.Sequence, smpp.StatusOK, &smpp.DeliverSMResp{})
		}
		if len(acks) > 0 && br.Buffered() == 0 {
			writeMu.Lock()
			_, err := nc.Write(acks)
			writeMu.Unlock()
			if err != nil {
				b.Fatal(err)
			}
			acks = acks[:0]
		}
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
