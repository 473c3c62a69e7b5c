package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// part is one part of the long message ref from 491711 to 12345.
func part(ref uint16, total, seq uint8, dc uint8, data []byte, at time.Time) MO {
	return MO{Time: at, From: "491711", To: "12345", Text: MOText(data, dc),
		Part: &MOPart{Ref: ref, Total: total, Seq: seq, Coding: dc, Data: data}}
}

// collector is a deliver func that keeps what it gets and fails while fail is set.
type collector struct {
	got  []MO
	fail bool
}

func (c *collector) deliver(m MO) error {
	if c.fail {
		return errors.New("inbox unwritable")
	}
	c.got = append(c.got, m)
	return nil
}

// openTestJoiner opens the Joiner of the parts file at path, locking an inbox of its own.
func openTestJoiner(t *testing.T, path string) *Joiner {
	t.Helper()
	j, err := openJoiner(t, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func openJoiner(t *testing.T, path string) (*Joiner, error) {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "inbox.csv")
	if err := os.WriteFile(lock, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	return OpenJoiner(path, lock)
}

// waiting is j.Waiting, failing the test on an error.
func waiting(t *testing.T, j *Joiner) int {
	t.Helper()
	n, err := j.Waiting()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestJoiner_joinsParts(t *testing.T) {
	gsm := func(s string) []byte { return []byte(s) } // ASCII letters are their own GSM codes
	tests := []struct {
		name  string
		parts []MO
		want  string
	}{
		{"in order", []MO{part(7, 2, 1, 0, gsm("Hello "), t0), part(7, 2, 2, 0, gsm("world"), t0.Add(time.Second))}, "Hello world"},
		{"out of order, a part twice", []MO{part(7, 3, 3, 0, gsm("C"), t0), part(7, 3, 2, 0, gsm("B"), t0), part(7, 3, 2, 0, gsm("B"), t0), part(7, 3, 1, 0, gsm("A"), t0)}, "ABC"},
		// € is the escape 0x1B then 0x65: split between the parts, each alone decodes wrong.
		{"GSM escape across parts", []MO{part(1, 2, 1, 0, []byte{'5', 0x1B}, t0), part(1, 2, 2, 0, []byte{0x65, '!'}, t0)}, "5€!"},
		// 👍 is the surrogate pair D83D DC4D.
		{"UTF-16 surrogate pair across parts", []MO{part(2, 2, 1, 8, []byte{0x00, 'H', 0xD8, 0x3D}, t0), part(2, 2, 2, 8, []byte{0xDC, 0x4D, 0x00, '!'}, t0)}, "H👍!"},
		{"parts in different codings", []MO{part(3, 2, 1, 0, gsm("Hi "), t0), part(3, 2, 2, 8, []byte{0x00, 'o', 0x00, 'k'}, t0)}, "Hi ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inbox.csv.parts")
			j := openTestJoiner(t, path)
			var c collector
			for i, p := range tt.parts {
				if err := j.Add(p, c.deliver); err != nil {
					t.Fatal(err)
				}
				if last := i == len(tt.parts)-1; !last && len(c.got) != 0 {
					t.Fatalf("delivered %+v before the last part", c.got)
				}
			}
			if len(c.got) != 1 {
				t.Fatalf("delivered %d messages, want 1: %+v", len(c.got), c.got)
			}
			m := c.got[0]
			if m.Text != tt.want || m.From != "491711" || m.To != "12345" || m.Part != nil {
				t.Errorf("delivered %+v, want text %q from 491711 to 12345", m, tt.want)
			}
			if n := waiting(t, j); n != 0 {
				t.Errorf("%d messages still waiting", n)
			}
			// The file remembers the message a while, for parts sent again; a change after
			// that removes it.
			if err := j.Expire(t0.Add(time.Hour), 24*time.Hour, c.deliver); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("parts file left behind with nothing waiting: %v", err)
			}
		})
	}
}

func TestJoiner_messageOfItsOwn(t *testing.T) {
	j := openTestJoiner(t, filepath.Join(t.TempDir(), "p"))
	var c collector
	whole := MO{Time: t0, From: "491711", To: "12345", Text: "STOP"}
	if err := j.Add(whole, c.deliver); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].Text != "STOP" {
		t.Errorf("delivered %+v, want the message as it came", c.got)
	}
}

// A part acknowledged in one run is still there in the next: its message completes there.
func TestJoiner_partsOutliveTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv.parts")
	j1, err := openJoiner(t, path)
	if err != nil {
		t.Fatal(err)
	}
	var c collector
	if err := j1.Add(part(9, 2, 1, 0, []byte("first "), t0), c.deliver); err != nil {
		t.Fatal(err)
	}
	if err := j1.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash while the next part was written leaves half a line.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2025-03-14T09:00:01Z","from":"49`)
	f.Close()

	j2 := openTestJoiner(t, path)
	if n := waiting(t, j2); n != 1 {
		t.Fatalf("%d messages waiting after the restart, want 1", n)
	}
	if data, _ := os.ReadFile(path); !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("the torn last line was not cut off:\n%s", data)
	}
	later := t0.Add(time.Hour)
	if err := j2.Add(part(9, 2, 2, 0, []byte("second"), later), c.deliver); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].Text != "first second" || !c.got[0].Time.Equal(later) {
		t.Errorf("delivered %+v, want \"first second\" at %v (when it was complete)", c.got, later)
	}
}

func TestJoiner_damagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv.parts")
	if err := os.WriteFile(path, []byte("not json\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	_, err := openJoiner(t, path)
	if err == nil || !strings.Contains(err.Error(), path+":1:") || !strings.Contains(err.Error(), "move it away") {
		t.Errorf("error %v, want the file and line and what to do", err)
	}
	if err := os.WriteFile(path, []byte(`{"from":"1","to":"2","ref":1,"total":2,"seq":3}`+"\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := openJoiner(t, path); err == nil || !strings.Contains(err.Error(), "part 3 of 2") {
		t.Errorf("error %v, want the impossible part named", err)
	}
}

// When the whole message cannot be delivered, the part that completed it is not acknowledged;
// the SMSC sends it again, and then the message goes out once.
func TestJoiner_deliverFailsThenRedelivered(t *testing.T) {
	j := openTestJoiner(t, filepath.Join(t.TempDir(), "p"))
	var c collector
	if err := j.Add(part(5, 2, 1, 0, []byte("a"), t0), c.deliver); err != nil {
		t.Fatal(err)
	}
	c.fail = true
	if err := j.Add(part(5, 2, 2, 0, []byte("b"), t0), c.deliver); err == nil {
		t.Fatal("Add returned no error although the message could not be delivered")
	}
	c.fail = false
	if err := j.Add(part(5, 2, 2, 0, []byte("b"), t0), c.deliver); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].Text != "ab" || waiting(t, j) != 0 {
		t.Errorf("delivered %+v with %d waiting, want \"ab\" once", c.got, waiting(t, j))
	}
}

// A part that cannot be kept is not taken: the error makes the caller refuse it.
func TestJoiner_partCannotBeKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	j := openTestJoiner(t, filepath.Join(dir, "p"))
	var c collector
	if err := j.Add(part(5, 2, 1, 0, []byte("a"), t0), c.deliver); err == nil {
		t.Fatal("Add kept a part it could not write")
	}
	if n := waiting(t, j); n != 0 {
		t.Fatalf("%d messages waiting after a failed write, want 0", n)
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for seq := uint8(1); seq <= 2; seq++ {
		if err := j.Add(part(5, 2, seq, 0, []byte{'a' + seq - 1}, t0), c.deliver); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.got) != 1 || c.got[0].Text != "ab" {
		t.Errorf("delivered %+v, want \"ab\"", c.got)
	}
}

func TestJoiner_expire(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	j := openTestJoiner(t, path)
	var c collector
	for _, p := range []MO{part(4, 3, 1, 0, []byte("A"), t0), part(4, 3, 3, 0, []byte("C"), t0.Add(time.Second))} {
		if err := j.Add(p, c.deliver); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Expire(t0.Add(time.Hour), 24*time.Hour, c.deliver); err != nil || len(c.got) != 0 {
		t.Fatalf("an hour on: delivered %+v (%v), want nothing yet", c.got, err)
	}
	if err := j.Expire(t0.Add(25*time.Hour), 24*time.Hour, c.deliver); err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0].Text != "A[part 2 of 3 missing]C" || !c.got[0].Time.Equal(t0.Add(time.Second)) {
		t.Errorf("delivered %+v, want what came with the gap marked", c.got)
	}
	if n := waiting(t, j); n != 0 {
		t.Errorf("after expiry: %d waiting", n)
	}
}

// Parts that never complete cannot pile up: beyond the cap the oldest message goes out as
// it is.
func TestJoiner_capsWaiting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	j := openTestJoiner(t, path)
	j.max = 2
	var c collector
	for ref := uint16(1); ref <= 3; ref++ {
		if err := j.Add(part(ref, 2, 1, 0, []byte{'0' + byte(ref)}, t0.Add(time.Duration(ref)*time.Second)), c.deliver); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.got) != 1 || c.got[0].Text != "1[part 2 of 2 missing]" || waiting(t, j) != 2 {
		t.Fatalf("delivered %+v with %d waiting, want the oldest given up and 2 waiting", c.got, waiting(t, j))
	}
	// The file holds exactly the two still waiting: they survive a restart.
	j.Close()
	j2 := openTestJoiner(t, path)
	if n := waiting(t, j2); n != 2 {
		t.Errorf("%d waiting after a restart, want 2", n)
	}
}

// A part the SMSC sends again after its message was delivered (our answer was lost) is taken
// without a second inbox line; a new message that reuses the reference is not mistaken for it.
func TestJoiner_partSentAgainAfterDelivery(t *testing.T) {
	j := openTestJoiner(t, filepath.Join(t.TempDir(), "p"))
	var c collector
	for _, p := range []MO{
		part(6, 2, 1, 0, []byte("one "), t0), part(6, 2, 2, 0, []byte("two"), t0),
		part(6, 2, 2, 0, []byte("two"), t0.Add(time.Minute)), // sent again
		part(6, 2, 1, 0, []byte("new "), t0.Add(2*time.Minute)), part(6, 2, 2, 0, []byte("text"), t0.Add(2*time.Minute)),
	} {
		if err := j.Add(p, c.deliver); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.got) != 2 || c.got[0].Text != "one two" || c.got[1].Text != "new text" || waiting(t, j) != 0 {
		t.Errorf("delivered %+v with %d waiting, want \"one two\" once, then \"new text\"", c.got, waiting(t, j))
	}
}

// FuzzJoiner feeds parts of four long messages, with restarts, in any order and any number of
// times: every message whose parts all came is delivered once, its parts' text in order; the
// others wait, and nothing is lost.
func FuzzJoiner(f *testing.F) {
	f.Add([]byte{0x01, 0x02, 0x11, 0x12})
	f.Add([]byte{0x23, 0x21, 0xFF, 0x22, 0x13, 0x12})
	f.Add([]byte{0x42, 0x41, 0x42, 0x80, 0x41})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		path := filepath.Join(t.TempDir(), "p")
		j, err := openJoiner(t, path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { j.Close() }()
		var c collector
		// Each op: 0xFF restarts; otherwise bits 4-5 pick one of 4 messages (2 or 3 parts),
		// bits 0-1 the part.
		totals := [4]uint8{2, 3, 2, 3}
		var seen [4]map[uint8]bool
		base := time.Now() // a restart forgets delivered messages older than the window: now
		for i, op := range ops {
			if op == 0xFF {
				j.Close()
				if j, err = openJoiner(t, path); err != nil {
					t.Fatal(err)
				}
				continue
			}
			msg := op >> 4 & 3
			total := totals[msg]
			seq := op&3%total + 1
			if seen[msg] == nil {
				seen[msg] = map[uint8]bool{}
			}
			seen[msg][seq] = true
			text := []byte{'a' + msg, '0' + seq}
			if err := j.Add(part(uint16(msg), total, seq, 0, text, base.Add(time.Duration(i)*time.Millisecond)), c.deliver); err != nil {
				t.Fatal(err)
			}
		}
		// Within the redelivery window a part sent again is not a new message, so each
		// message is delivered once at most: once all its parts came.
		complete, partial := map[string]bool{}, 0
		for msg, got := range seen {
			want := ""
			for seq := uint8(1); seq <= totals[msg]; seq++ {
				want += string([]byte{'a' + byte(msg), '0' + seq})
			}
			switch {
			case len(got) == int(totals[msg]):
				complete[want] = true
			case len(got) > 0:
				partial++
			}
		}
		delivered := map[string]bool{}
		for _, m := range c.got {
			if !complete[m.Text] || delivered[m.Text] {
				t.Fatalf("delivered %q: not a complete message, or twice (all: %+v)", m.Text, c.got)
			}
			delivered[m.Text] = true
		}
		if len(delivered) != len(complete) || waiting(t, j) != partial {
			t.Fatalf("delivered %d of %d complete messages, %d waiting of %d incomplete", len(delivered), len(complete), waiting(t, j), partial)
		}
	})
}

// Two runs sharing an inbox (two binds of one account, say) get the parts of one message
// between them: the one that gets the last part writes the message, once.
func TestJoiner_sharedInbox(t *testing.T) {
	dir := t.TempDir()
	path, inbox := filepath.Join(dir, "inbox.csv.parts"), filepath.Join(dir, "inbox.csv")
	if err := os.WriteFile(inbox, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	var js [2]*Joiner
	for i := range js {
		j, err := OpenJoiner(path, inbox)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		js[i] = j
	}
	var c collector
	for i, p := range []MO{part(8, 3, 2, 0, []byte("b"), t0), part(8, 3, 1, 0, []byte("a"), t0), part(8, 3, 3, 0, []byte("c"), t0)} {
		if err := js[i%2].Add(p, c.deliver); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.got) != 1 || c.got[0].Text != "abc" || waiting(t, js[0]) != 0 || waiting(t, js[1]) != 0 {
		t.Errorf("delivered %+v, want \"abc\" once and nothing waiting", c.got)
	}
}
