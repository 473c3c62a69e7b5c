package smsc

import (
	"errors"
	"net"
	"testing"
	"time"

	"smscast/smpp"
)

// A connection that never binds is closed after SessionInitTimeout (SMPP's
// session_init_timer); a bound one is not.
func TestServer_SessionInitTimeout(t *testing.T) {
	const initTimeout = 100 * time.Millisecond
	srv := startServer(t, Config{SessionInitTimeout: initTimeout})

	idle := dialRaw(t, srv)
	_, err := smpp.ReadPDU(idle.nc, nil, 0)
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("unbound connection: read = %v, want the server to close it", err)
	}

	bound := dialRaw(t, srv)
	bound.bind(smpp.BindTransceiver)
	time.Sleep(3 * initTimeout) // past the init timer: a bound session must not be cut
	bound.send(&smpp.EnquireLink{})
	if h, _ := bound.read(); h.ID != smpp.EnquireLinkRespID {
		t.Fatalf("bound session after the init timeout: got %v, want enquire_link_resp", h.ID)
	}
}
