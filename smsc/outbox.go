package smsc

import (
	"net"
	"sync"
	"time"

	"smscast/smpp"
)

const (
	// flushThreshold is how many encoded octets the reader lets pile up before it wakes
	// the writer even though more requests are already buffered.
	flushThreshold = 64 << 10
	// finalWriteTimeout bounds the last flush of a connection that is being closed, so a
	// client that stopped reading cannot hold it open.
	finalWriteTimeout = 10 * time.Second
)

// maxQueued is how many encoded octets may wait for a client that does not read its
// responses before the reader stops reading its requests (TCP-like backpressure). A
// variable so that a test can reach it quickly.
var maxQueued = 4 << 20

// outbox is what one connection's writer goroutine writes: encoded PDUs ready now, and
// responses held back by Config.RespDelay. Other goroutines only append; the writer alone
// touches the connection, in batches, so a pipelined client costs one write per batch.
type outbox struct {
	delay time.Duration

	mu        sync.Mutex
	buf       []byte    // encoded PDUs ready to write
	counted   int64     // message responses (submit_sm_resp, data_sm_resp) in buf
	delayed   []delayed // responses not yet due; due times never decrease
	delayedN  int       // octets in delayed
	finishing bool      // write what is queued, then close the connection
	stopped   bool      // the writer has exited: appends are dropped

	wake    chan struct{} // capacity 1: there is something to look at
	drained chan struct{} // capacity 1: the writer wrote a batch
}

type delayed struct {
	due     time.Time
	pdu     []byte
	counted bool
}

func newOutbox(delay time.Duration) *outbox {
	return &outbox{delay: delay, wake: make(chan struct{}, 1), drained: make(chan struct{}, 1)}
}

// respond queues a response, after Config.RespDelay if one is set. counted marks the
// responses to submit_sm and data_sm, which close an outstanding request. It does not wake
// the writer: the reader does that once it has no complete request left to handle.
func (o *outbox) respond(seq uint32, status smpp.Status, p smpp.PDU, counted bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return nil
	}
	if o.delay <= 0 {
		var err error
		if o.buf, err = smpp.AppendPDU(o.buf, seq, status, p); err != nil {
			return err
		}
		if counted {
			o.counted++
		}
		return nil
	}
	pdu, err := smpp.AppendPDU(nil, seq, status, p)
	if err != nil {
		return err
	}
	o.delayed = append(o.delayed, delayed{due: time.Now().Add(o.delay), pdu: pdu, counted: counted})
	o.delayedN += len(pdu)
	return nil
}

// request queues a PDU the simulator originates (deliver_sm, unbind); the caller wakes the
// writer (kick) once it has queued what it has. Behind delayed responses it waits for them,
// so that, say, a receipt never overtakes the bind_resp of its session. It reports false
// when the connection is gone.
func (o *outbox) request(seq uint32, p smpp.PDU) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped || o.finishing {
		return false, nil
	}
	if n := len(o.delayed); n > 0 {
		pdu, err := smpp.AppendPDU(nil, seq, smpp.StatusOK, p)
		if err != nil {
			return false, err
		}
		o.delayed = append(o.delayed, delayed{due: o.delayed[n-1].due, pdu: pdu})
		o.delayedN += len(pdu)
	} else {
		var err error
		if o.buf, err = smpp.AppendPDU(o.buf, seq, smpp.StatusOK, p); err != nil {
			return false, err
		}
	}
	return true, nil
}

// kick wakes the writer without blocking.
func (o *outbox) kick() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// finish asks the writer to write what is queued, delayed responses included, then close.
func (o *outbox) finish() {
	o.mu.Lock()
	o.finishing = true
	o.mu.Unlock()
	o.kick()
}

// queued returns the number of encoded octets waiting for the writer, delayed ones
// included.
func (o *outbox) queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.buf) + o.delayedN
}

// take hands the writer everything due at now, swapping in spare as the new buffer. next
// is when the next delayed response is due (zero if none); done means the writer should
// exit after writing batch.
func (o *outbox) take(now time.Time, spare []byte) (batch []byte, counted int64, next time.Time, done bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	i := 0
	for ; i < len(o.delayed) && !o.delayed[i].due.After(now); i++ {
		o.buf = append(o.buf, o.delayed[i].pdu...)
		o.delayedN -= len(o.delayed[i].pdu)
		if o.delayed[i].counted {
			o.counted++
		}
	}
	if i > 0 {
		n := copy(o.delayed, o.delayed[i:])
		clear(o.delayed[n:])
		o.delayed = o.delayed[:n]
	}
	if len(o.delayed) > 0 {
		next = o.delayed[0].due
	}
	batch, counted = o.buf, o.counted
	o.buf, o.counted = spare[:0], 0
	done = o.finishing && len(o.delayed) == 0
	if done {
		o.stopped = true
	}
	return batch, counted, next, done
}

// stop makes further appends no-ops once the writer has exited on an error.
func (o *outbox) stop() {
	o.mu.Lock()
	o.stopped = true
	o.buf, o.delayed, o.delayedN = nil, nil, 0
	o.mu.Unlock()
}

// writeLoop is the connection's writer goroutine: the only one that writes to nc. It
// returns when the outbox is finished and flushed, on a write error, or when done closes.
// Each batch closes `counted` outstanding requests, reported to onAnswered before the
// batch is written: once the client can read a response it may send the next request, and
// that one must not find the answered one still counted.
func (o *outbox) writeLoop(nc net.Conn, done <-chan struct{}, onAnswered func(counted int64)) {
	defer o.stop()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var spare []byte
	deadlineSet := false
	for {
		batch, counted, next, finished := o.take(time.Now(), spare)
		if finished && !deadlineSet {
			nc.SetWriteDeadline(time.Now().Add(finalWriteTimeout))
			deadlineSet = true
		}
		if len(batch) > 0 {
			onAnswered(counted)
			if _, err := nc.Write(batch); err != nil {
				return
			}
			select {
			case o.drained <- struct{}{}:
			default:
			}
		}
		if finished {
			return
		}
		spare = batch[:0]
		if cap(spare) > 4*flushThreshold {
			spare = nil // do not keep a burst's buffer for the life of the connection
		}
		if !next.IsZero() {
			timer.Reset(time.Until(next))
		}
		select {
		case <-o.wake:
		case <-timer.C:
		case <-done:
			return
		}
		timer.Stop()
	}
}
