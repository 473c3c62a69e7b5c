package send

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"smscast/report"
	"smscast/smpp"
	"smscast/smsc"
)

// Regression tests for the engine's behaviour under failures: what is judged sent, when it
// backs off and gives up, and what outcome a row whose fate is unknown ends with.

func TestJudge(t *testing.T) {
	timeout := &smpp.TimeoutError{Seq: 7}
	lost := fmt.Errorf("%w: read: EOF", smpp.ErrConnectionLost)
	// What the session returns for a request it refused because it had just died: both
	// ErrNotSent and the session's end (ErrConnectionLost).
	notSentOnDead := fmt.Errorf("%w: %w", smpp.ErrNotSent, lost)
	tests := []struct {
		name string
		err  error
		want verdict
	}{
		{"nil", nil, vAccepted},
		{"permanent", smpp.StatusInvDstAdr, vRejected},
		{"transient", smpp.StatusSysErr, vRetry},
		{"throttled", smpp.StatusThrottled, vThrottled},
		{"queue full", smpp.StatusMsgQFul, vThrottled},
		{"timeout", timeout, vTimeout},
		{"lost in flight", lost, vLost},
		{"not sent", fmt.Errorf("%w: %w", smpp.ErrNotSent, context.Canceled), vNotSent},
		{"not sent on a dead session", notSentOnDead, vNotSent},
		{"cancelled", context.Canceled, vNotSent},
		{"encode error", errors.New("smpp: encode submit_sm: too long"), vRejected},
	}
	for _, tt := range tests {
		if got := judge(tt.err); got != tt.want {
			t.Errorf("%s: judge(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

// A submit on a session that has just died is refused unwritten: it must be judged not
// sent (no attempt burned, no resubmitted mark), not lost.
func TestJudge_notSentOnDeadSession(t *testing.T) {
	srv := newSim(t, smsc.Config{DropAfter: []int{1}})
	s, err := smpp.Dial(context.Background(), srv.Addr(), smpp.Options{Bind: smpp.Bind{SystemID: "a", Password: "b"}, RespTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := testRows(t, 2, "x %d")
	c, err := New(Config{Addr: "x", Book: report.NewBook(report.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(context.Background(), c.submitSM(&rows[0], 0, nil)); judge(err) != vLost && judge(err) != vAccepted {
		t.Fatalf("first submit: %v (%v), want lost or accepted", err, judge(err))
	}
	<-s.Done()
	_, err = s.Submit(context.Background(), c.submitSM(&rows[1], 0, nil))
	if v := judge(err); v != vNotSent {
		t.Errorf("a request never written: %v judged %v, want not_sent", err, v)
	}
	if n := srv.Stats().Submits; n != 1 {
		t.Errorf("simulator saw %d submit_sm, want 1", n)
	}
}
