package smpp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"smscast/internal/cputime"
)

// BenchmarkSessionSubmit measures Submit round trips over 127.0.0.1 TCP at window 100 against
// an in-process responder that answers each submit_sm with a pre-encoded submit_sm_resp as
// fast as it can. The figure that matters is submits/s.
func BenchmarkSessionSubmit(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- respondFast(ln) }()
	ctx := context.Background()
	s, err := Dial(ctx, ln.Addr().String(), Options{Window: 100})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(50) // 100 callers on 2 CPUs: enough to keep the window full
	cpu0 := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		p := testSubmit("447700900001")
		for pb.Next() {
			if _, err := s.Submit(ctx, p); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
	// CPU time of the whole process (session and responder) per submit: unlike submits/s
	// it barely moves when other work shares the machine.
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/submit")
	if err := s.Close(); err != nil {
		b.Error(err)
	}
	if err := <-served; err != nil {
		b.Error(err)
	}
}

// respondFast serves one connection: bind, then submit_sm answered from a pre-encoded
// submit_sm_resp, flushing only when no more input is buffered, until unbind.
func respondFast(ln net.Listener) error {
	conn, err := ln.Accept()
	ln.Close()
	if err != nil {
		return err
	}
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	bw := bufio.NewWriterSize(conn, 64<<10)
	submitResp, _ := AppendPDU(nil, 0, StatusOK, &SubmitSMResp{MessageID: "5f1e0b7a00000001"})
	bindResp, _ := AppendPDU(nil, 0, StatusOK, &BindResp{Mode: BindTransceiver, SystemID: "bench"})
	enquireResp, _ := AppendPDU(nil, 0, StatusOK, &EnquireLinkResp{})
	unbindResp, _ := AppendPDU(nil, 0, StatusOK, &UnbindResp{})
	var buf []byte
	for {
		pdu, err := ReadPDU(br, buf, 0)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		buf = pdu
		var answer []byte
		switch id := CommandID(binary.BigEndian.Uint32(pdu[4:])); id {
		case SubmitSMID:
			answer = submitResp
		case BindTransceiverID:
			answer = bindResp
		case EnquireLinkID:
			answer = enquireResp
		case UnbindID:
			answer = unbindResp
		default:
			return fmt.Errorf("responder: unexpected %v", id)
		}
		copy(answer[12:16], pdu[12:16])
		if _, err := bw.Write(answer); err != nil {
			return err
		}
		if br.Buffered() == 0 || len(answer) == len(unbindResp) {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
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
