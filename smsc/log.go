package smsc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// messageLog writes closed records to Config.Log as JSON Lines from its own goroutine, so
// that decoding and encoding stay off the submit path.
type messageLog struct {
	w      *bufio.Writer
	enc    *json.Encoder
	packed bool

	mu       sync.Mutex
	queue    []*record
	wake     chan struct{} // capacity 1
	firstErr error
}

func newMessageLog(w io.Writer, packed bool) *messageLog {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &messageLog{w: bw, enc: enc, packed: packed, wake: make(chan struct{}, 1)}
}

// push queues a closed record; it is never modified again.
func (l *messageLog) push(r *record) {
	l.mu.Lock()
	l.queue = append(l.queue, r)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// run writes queued records until done closes, then writes the rest. It flushes whenever
// the queue runs dry, so a reader of the file sees every message accepted so far.
func (l *messageLog) run(done <-chan struct{}) {
	for {
		select {
		case <-l.wake:
			l.drain()
		case <-done:
			l.drain()
			return
		}
	}
}

func (l *messageLog) drain() {
	for {
		l.mu.Lock()
		batch := l.queue
		l.queue = nil
		l.mu.Unlock()
		if len(batch) == 0 {
			break
		}
		for _, r := range batch {
			if err := l.enc.Encode(r.message(l.packed)); err != nil {
				l.fail(err)
			}
		}
	}
	if err := l.w.Flush(); err != nil {
		l.fail(err)
	}
}

func (l *messageLog) fail(err error) {
	l.mu.Lock()
	if l.firstErr == nil {
		l.firstErr = fmt.Errorf("write message log: %w", err)
	}
	l.mu.Unlock()
}

// err returns the first write error, if any.
func (l *messageLog) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.firstErr
}
