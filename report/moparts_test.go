package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// part is part seq of total of the long message ref from 491711 to 12345.
func part(ref uint16, total, seq uint8, dc uint8, data []byte, at time.Time) MO {
	return MO{Time: at, From: "491711", To: "12345", Text: MOText(data, dc),
		Part: &MOPart{Ref: ref, Total: total, Seq: seq, Coding: dc, Data: data}}
}

// inboxStub stands in for the inbox: it keeps what a Joiner delivers, and refuses while fail
// is set.
type inboxStub struct {
	got   []MO
	warns []error
	fail  bool
}

func (in *inboxStub) deliver(m MO) error {
	if in.fail {
		return errors.New("inbox unwritable")
	}
	in.got = append(in.got, m)
	return nil
}

func (in *inboxStub) texts() []string {
	var s []string
	for _, m := range in.got {
		s = append(s, m.Text)
	}
	return s
}

// openJoiner opens the Joiner of the parts file at path, delivering to in and locking an
// inbox file of its own.
func openJoiner(t *testing.T, path string, in *inboxStub, lim JoinerLimits) (*Joiner, error) {
	t.Helper()
	lock := filepath.Join(t.TempDir(), "inbox.csv")
	if err := os.WriteFile(lock, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	return OpenJoiner(path, lock, in.deliver, func(err error) { in.warns = append(in.warns, err) }, lim)
}

func mustOpenJoiner(t *testing.T, path string, in *inboxStub, lim JoinerLimits) *Joiner {
	t.Helper()
	j, err := openJoiner(t, path, in, lim)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func add(t *testing.T, j *Joiner, parts ...MO) {
	t.Helper()
	for _, p := range parts {
		if err := j.Add(p); err != nil {
			t.Fatal(err)
		}
	}
}

// waiting is the number of incomplete messages j holds.
func waiting(t *testing.T, j *Joiner) int {
	t.Helper()
	n, _, err := j.Waiting()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func sameTexts(got []string, want ...string) bool {
	return strings.Join(got, "|") == strings.Join(want, "|")
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
			var in inboxStub
			j := mustOpenJoiner(t, filepath.Join(t.TempDir(), "inbox.csv.parts"), &in, JoinerLimits{})
			for i, p := range tt.parts {
				add(t, j, p)
				if last := i == len(tt.parts)-1; !last && len(in.got) != 0 {
					t.Fatalf("delivered %+v before the last part", in.got)
				}
			}
			if len(in.got) != 1 {
				t.Fatalf("delivered %d messages, want 1: %+v", len(in.got), in.got)
			}
			m := in.got[0]
			if m.Text != tt.want || m.From != "491711" || m.To != "12345" || m.Part != nil || !m.Time.Equal(tt.parts[len(tt.parts)-1].Time) {
				t.Errorf("delivered %+v, want text %q from 491711 to 12345, received with its last part", m, tt.want)
			}
			if n := waiting(t, j); n != 0 || len(in.warns) != 0 {
				t.Errorf("%d messages still waiting, warnings %v", n, in.warns)
			}
		})
	}
}

func TestJoiner_messageOfItsOwn(t *testing.T) {
	var in inboxStub
	j := mustOpenJoiner(t, filepath.Join(t.TempDir(), "p"), &in, JoinerLimits{})
	add(t, j, MO{Time: t0, From: "491711", To: "12345", Text: "STOP"})
	if !sameTexts(in.texts(), "STOP") {
		t.Errorf("delivered %q, want the message as it came", in.texts())
	}
}

// A part acknowledged in one run is still there in the next, even after a crash that tore
// the line after it: its message completes there.
func TestJoiner_partsOutliveTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv.parts")
	var in inboxStub
	j1, err := openJoiner(t, path, &in, JoinerLimits{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	add(t, j1, part(9, 2, 1, 0, []byte("first "), now))
	j1.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-11-30T09:00:01Z","from":"49`)
	f.Close()

	j2 := mustOpenJoiner(t, path, &in, JoinerLimits{})
	if n := waiting(t, j2); n != 1 {
		t.Fatalf("%d messages waiting after the restart, want 1", n)
	}
	if data, _ := os.ReadFile(path); !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("the torn last line was not cut off:\n%s", data)
	}
	add(t, j2, part(9, 2, 2, 0, []byte("second"), now.Add(time.Minute)))
	if !sameTexts(in.texts(), "first second") {
		t.Errorf("delivered %q, want \"first second\"", in.texts())
	}
}

func TestJoiner_damagedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv.parts")
	for _, tt := range []struct{ content, want string }{
		{"not json\n", path + ":1: not a record"},
		{`{"from":"1","to":"2","ref":1,"total":2,"seq":3}` + "\n", "part 3 of 2 is impossible"},
		{`{"from":"1","to":"2","ref":1,"total":2,"done":true,"sums":[1]}` + "\n", "impossible"},
	} {
		if err := os.WriteFile(path, []byte(tt.content), 0o666); err != nil {
			t.Fatal(err)
		}
		_, err := openJoiner(t, path, &inboxStub{}, JoinerLimits{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "move it away and keep it") {
			t.Errorf("%q: error %v, want %q and what to do", tt.content, err, tt.want)
		}
	}
}

// A message that cannot be delivered when complete stays in the parts file, its parts taken
// (they are kept), and goes out with the next change, once.
func TestJoiner_deliveryFailureIsRetried(t *testing.T) {
	var in inboxStub
	j := mustOpenJoiner(t, filepath.Join(t.TempDir(), "p"), &in, JoinerLimits{})
	add(t, j, part(5, 2, 1, 0, []byte("a"), t0))
	in.fail = true
	add(t, j, part(5, 2, 2, 0, []byte("b"), t0))
	if len(in.warns) != 1 || !strings.Contains(in.warns[0].Error(), "tried again later") {
		t.Fatalf("warnings %v, want one saying the message is tried again", in.warns)
	}
	if incomplete, undelivered, err := j.Waiting(); incomplete != 0 || undelivered != 1 || err != nil {
		t.Fatalf("Waiting: %d incomplete, %d undelivered (%v), want the message counted as not yet delivered", incomplete, undelivered, err)
	}
	in.fail = false
	if err := j.Settle(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	add(t, j, part(5, 2, 2, 0, []byte("b"), t0.Add(2*time.Second))) // the SMSC sends it again anyway
	if !sameTexts(in.texts(), "ab") || waiting(t, j) != 0 {
		t.Errorf("delivered %q with %d waiting, want \"ab\" once", in.texts(), waiting(t, j))
	}
}

// A part that cannot be kept is not taken: the error makes the caller refuse it.
func TestJoiner_partCannotBeKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	var in inboxStub
	j := mustOpenJoiner(t, filepath.Join(dir, "p"), &in, JoinerLimits{})
	if err := j.Add(part(5, 2, 1, 0, []byte("a"), t0)); err == nil {
		t.Fatal("Add took a part it could not write")
	}
	if n := waiting(t, j); n != 0 {
		t.Fatalf("%d messages waiting after a failed write, want 0", n)
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	add(t, j, part(5, 2, 1, 0, []byte("a"), t0), part(5, 2, 2, 0, []byte("b"), t0))
	if !sameTexts(in.texts(), "ab") {
		t.Errorf("delivered %q, want \"ab\"", in.texts())
	}
}

// An incomplete message goes out as it is after Age, at the next change: a part of another
// message in a long run, or a Settle.
func TestJoiner_giveUpAfterAge(t *testing.T) {
	var in inboxStub
	j := mustOpenJoiner(t, filepath.Join(t.TempDir(), "p"), &in, JoinerLimits{Age: time.Hour})
	add(t, j, part(4, 3, 1, 0, []byte("A"), t0), part(4, 3, 3, 0, []byte("C"), t0.Add(time.Second)))
	add(t, j, part(8, 2, 1, 0, []byte("x"), t0.Add(30*time.Minute)))
	if len(in.got) != 0 {
		t.Fatalf("half an hour on: delivered %q, want nothing yet", in.texts())
	}
	add(t, j, part(8, 2, 2, 0, []byte("y"), t0.Add(61*time.Minute)))
	if !sameTexts(in.texts(), "A[part 2 of 3 missing]C", "xy") && !sameTexts(in.texts(), "xy", "A[part 2 of 3 missing]C") {
		t.Fatalf("delivered %q, want the old message with its gap marked, and the new one", in.texts())
	}
	if !in.got[0].Time.Equal(t0.Add(time.Second)) && !in.got[1].Time.Equal(t0.Add(time.Second)) {
		t.Errorf("messages %+v: the incomplete one should be timed by its latest part", in.got)
	}
	if n := waiting(t, j); n != 0 {
		t.Errorf("%d waiting, want 0", n)
	}
}

// Parts that never complete cannot pile up: beyond the caps on messages and octets, the
// oldest message goes out as it is.
func TestJoiner_caps(t *testing.T) {
	for _, tt := range []struct {
		name string
		lim  JoinerLimits
		data []byte
	}{
		{"messages", JoinerLimits{Waiting: 2}, []byte("x")},
		{"octets", JoinerLimits{Bytes: 500}, []byte(strings.Repeat("x", 100))},
		// Empty parts cost their bookkeeping: a flood of them is bounded too.
		{"empty parts", JoinerLimits{Bytes: 300}, []byte{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "p")
			var in inboxStub
			j := mustOpenJoiner(t, path, &in, tt.lim)
			now := time.Now() // the restart below gives up on messages older than Age
			for ref := uint16(1); ref <= 3; ref++ {
				add(t, j, part(ref, 2, 1, 0, tt.data, now.Add(time.Duration(ref)*time.Second)))
			}
			want := string(tt.data) + "[part 2 of 2 missing]"
			if !sameTexts(in.texts(), want) || waiting(t, j) != 2 {
				t.Fatalf("delivered %q with %d waiting, want the oldest given up and 2 waiting", in.texts(), waiting(t, j))
			}
			j.Close()
			j2 := mustOpenJoiner(t, path, &in, tt.lim)
			if n := waiting(t, j2); n != 2 {
				t.Fatalf("%d waiting after a restart, want the same 2", n)
			}
			// The last part of a waiting message makes no room within the cap on
			// messages; within the cap on octets it does.
			add(t, j2, part(3, 2, 2, 0, tt.data, now.Add(4*time.Second)))
			whole := string(tt.data) + string(tt.data)
			if tt.lim.Bytes == 0 && !sameTexts(in.texts(), want, whole) || tt.lim.Bytes != 0 && !sameTexts(in.texts(), want, want, whole) {
				t.Errorf("delivered %q after the last part of the newest", in.texts())
			}
		})
	}
}

// A part the SMSC sends again after its message was delivered (our answer was lost) is taken
// without a second line, in this run or the next; a new message that reuses the reference is
// not mistaken for it.
func TestJoiner_partSentAgainAfterDelivery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	var in inboxStub
	j := mustOpenJoiner(t, path, &in, JoinerLimits{})
	now := time.Now()
	add(t, j, part(6, 2, 1, 0, []byte("one "), now), part(6, 2, 2, 0, []byte("two"), now),
		part(6, 2, 2, 0, []byte("two"), now.Add(time.Minute)))
	j.Close()
	j = mustOpenJoiner(t, path, &in, JoinerLimits{})
	add(t, j, part(6, 2, 1, 0, []byte("one "), now.Add(2*time.Minute)),
		part(6, 2, 1, 0, []byte("new "), now.Add(3*time.Minute)), part(6, 2, 2, 0, []byte("text"), now.Add(3*time.Minute)))
	if !sameTexts(in.texts(), "one two", "new text") || waiting(t, j) != 0 {
		t.Errorf("delivered %q with %d waiting, want \"one two\" once, then \"new text\"", in.texts(), waiting(t, j))
	}
}

// Compacting the file keeps a waiting message whose reference a delivered one used before.
func TestJoiner_referenceReusedAcrossCompaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	var in inboxStub
	j := mustOpenJoiner(t, path, &in, JoinerLimits{})
	j.slack = 0 // compact whenever most records are history
	now := time.Now()
	add(t, j, part(1, 2, 1, 0, []byte("one "), now), part(1, 2, 2, 0, []byte("two"), now), // A
		part(1, 2, 1, 0, []byte("new "), now),                                  // B reuses A's reference
		part(2, 2, 1, 0, []byte("c"), now), part(2, 2, 2, 0, []byte("d"), now)) // C: compaction
	j.Close()
	j = mustOpenJoiner(t, path, &in, JoinerLimits{})
	add(t, j, part(1, 2, 2, 0, []byte("text"), now))
	if !sameTexts(in.texts(), "one two", "cd", "new text") {
		t.Errorf("delivered %q, want B whole after the compaction", in.texts())
	}
}

// Addresses that are not valid UTF-8 (a Latin-1 alphanumeric sender) still join: the file
// keeps only valid UTF-8, and memory must agree with it.
func TestJoiner_senderNotUTF8(t *testing.T) {
	var in inboxStub
	j := mustOpenJoiner(t, filepath.Join(t.TempDir(), "p"), &in, JoinerLimits{})
	p1, p2 := part(3, 2, 1, 0, []byte("a"), t0), part(3, 2, 2, 0, []byte("b"), t0)
	p1.From, p2.From = "M\xfcller", "M\xfcller"
	add(t, j, p1, p2)
	if !sameTexts(in.texts(), "ab") || in.got[0].From != "M\uFFFDller" {
		t.Errorf("delivered %+v, want \"ab\" from M\uFFFDller", in.got)
	}
}

// Two runs sharing an inbox (two binds of one account, say) get the parts of one message
// between them: the one that gets the last part writes the message, once.
func TestJoiner_sharedInbox(t *testing.T) {
	dir := t.TempDir()
	path, inbox := filepath.Join(dir, "inbox.csv.parts"), filepath.Join(dir, "inbox.csv")
	if err := os.WriteFile(inbox, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	var in inboxStub
	var js [2]*Joiner
	for i := range js {
		j, err := OpenJoiner(path, inbox, in.deliver, func(err error) { t.Error(err) }, JoinerLimits{})
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		js[i] = j
	}
	for i, p := range []MO{part(8, 3, 2, 0, []byte("b"), t0), part(8, 3, 1, 0, []byte("a"), t0), part(8, 3, 3, 0, []byte("c"), t0)} {
		add(t, js[i%2], p)
	}
	if !sameTexts(in.texts(), "abc") || waiting(t, js[0]) != 0 || waiting(t, js[1]) != 0 {
		t.Errorf("delivered %q, want \"abc\" once and nothing waiting", in.texts())
	}
}

// The parts file does not grow with the messages that went through it, and is removed once
// nothing in it counts.
func TestJoiner_fileStaysSmall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	var in inboxStub
	j := mustOpenJoiner(t, path, &in, JoinerLimits{Remember: time.Minute})
	var biggest int64
	for i := range 500 {
		at := t0.Add(time.Duration(i) * time.Second)
		add(t, j, part(uint16(i), 2, 1, 0, []byte("hello "), at), part(uint16(i), 2, 2, 0, []byte("there"), at))
		if st, err := os.Stat(path); err == nil {
			biggest = max(biggest, st.Size())
		}
	}
	if len(in.got) != 500 {
		t.Fatalf("delivered %d messages, want 500", len(in.got))
	}
	// A minute of messages is remembered: 60 Done records, about 200 octets each.
	if biggest > 64<<10 {
		t.Errorf("the parts file grew to %d bytes", biggest)
	}
	if err := j.Settle(t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("parts file left behind with nothing in it that counts: %v", err)
	}
}

// FuzzJoiner feeds parts of four long messages to two Joiners sharing a parts file (two
// processes), with restarts and failing writes, in any order and any number of times: every
// message whose parts all came is delivered once, its parts' text in order; the others wait,
// and nothing is lost.
func FuzzJoiner(f *testing.F) {
	f.Add([]byte{0x01, 0x02, 0x11, 0x12})
	f.Add([]byte{0x23, 0x21, 0xFF, 0x22, 0x13, 0x12})
	f.Add([]byte{0x42, 0x41, 0xFE, 0x42, 0x80, 0x41})
	f.Add([]byte{0x01, 0xFD, 0x02, 0xFE, 0x02, 0x31, 0xFD, 0x32})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			return
		}
		var in inboxStub
		dir := t.TempDir()
		path, lock := filepath.Join(dir, "p"), filepath.Join(dir, "p.lock")
		open := func() *Joiner {
			j, err := OpenJoiner(path, lock, in.deliver, func(err error) { in.warns = append(in.warns, err) }, JoinerLimits{})
			if err != nil {
				t.Fatal(err)
			}
			j.slack = 0 // compact as often as can be
			return j
		}
		js := [2]*Joiner{open(), open()}
		defer func() { js[0].Close(); js[1].Close() }()
		cur, failNext := 0, false
		// Each op: 0xFF restarts the current Joiner, 0xFE switches to the other, 0xFD makes
		// the next write fail half-way; otherwise bits 4-5 pick one of 4 messages (2 or 3
		// parts), bits 0-1 the part.
		totals := [4]uint8{2, 3, 2, 3}
		var seen [4]map[uint8]bool
		base := time.Now() // a restart forgets delivered messages older than Remember: now
		for i, op := range ops {
			switch op {
			case 0xFF:
				js[cur].Close()
				js[cur] = open()
				continue
			case 0xFE:
				cur = 1 - cur
				continue
			case 0xFD:
				failNext = true
				continue
			}
			j := js[cur]
			if failNext {
				failNext = false
				j.write = func(f *os.File, b []byte) (int, error) {
					j.write = (*os.File).Write
					n, _ := f.Write(b[:len(b)/2])
					return n, errors.New("disk full")
				}
			}
			msg := op >> 4 & 3
			total := totals[msg]
			seq := op&3%total + 1
			err := j.Add(part(uint16(msg), total, seq, 0, []byte{'a' + msg, '0' + seq}, base.Add(time.Duration(i)*time.Millisecond)))
			if err != nil && !strings.Contains(err.Error(), "disk full") {
				t.Fatal(err)
			}
			if err == nil {
				if seen[msg] == nil {
					seen[msg] = map[uint8]bool{}
				}
				seen[msg][seq] = true
			}
		}
		// Within Remember a part sent again is not a new message, so each message is
		// delivered once at most: once all its parts came.
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
		for _, text := range in.texts() {
			if !complete[text] || delivered[text] {
				t.Fatalf("delivered %q: not a complete message, or twice (all: %q)", text, in.texts())
			}
			delivered[text] = true
		}
		for _, j := range js {
			if len(delivered) != len(complete) || waiting(t, j) != partial || len(in.warns) != 0 {
				t.Fatalf("delivered %d of %d complete messages, %d waiting of %d incomplete, warnings %v", len(delivered), len(complete), waiting(t, j), partial, in.warns)
			}
		}
	})
}

// openShared opens n Joiners on one parts file and one lock, as n processes sharing an inbox.
func openShared(t *testing.T, n int, in *inboxStub, lim JoinerLimits) (string, []*Joiner) {
	t.Helper()
	dir := t.TempDir()
	path, lock := filepath.Join(dir, "inbox.csv.parts"), filepath.Join(dir, "inbox.csv.parts.lock")
	js := make([]*Joiner, n)
	for i := range js {
		j, err := OpenJoiner(path, lock, in.deliver, func(err error) { t.Error(err) }, lim)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { j.Close() })
		js[i] = j
	}
	return path, js
}

// One process removes the parts file (nothing in it counts) and starts a new one, which the
// file system may give the old inode number: the other must read the new file from its start,
// not from where it had read the old one.
func TestJoiner_otherProcessReplacesTheFile(t *testing.T) {
	var in inboxStub
	path, js := openShared(t, 2, &in, JoinerLimits{Remember: time.Nanosecond}) // forget at once
	now := time.Now()
	add(t, js[0], part(1, 2, 1, 0, []byte("x1 "), now))
	add(t, js[1], part(1, 2, 2, 0, []byte("x2"), now))         // X complete: delivered
	if err := js[1].Settle(now.Add(time.Second)); err != nil { // X forgotten: the file removed
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the parts file is still there (%v): the test needs it removed", err)
	}
	// A new file, with a first line as long as the one js[0] read from the old one.
	add(t, js[1], part(2, 3, 1, 0, []byte("y1 "), now))
	add(t, js[0], part(2, 3, 2, 0, []byte("y2 "), now), part(2, 3, 3, 0, []byte("y3"), now))
	if !sameTexts(in.texts(), "x1 x2", "y1 y2 y3") || waiting(t, js[0]) != 0 {
		t.Errorf("delivered %q with %d waiting, want X and Y once each", in.texts(), waiting(t, js[0]))
	}
}

// A write that fails half-way is undone: the next record does not follow a torn one, and the
// file still reads.
func TestJoiner_failedWriteIsUndone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	var in inboxStub
	j := mustOpenJoiner(t, path, &in, JoinerLimits{Age: time.Hour})
	now := time.Now()
	add(t, j, part(1, 2, 1, 0, []byte("a"), now), part(3, 2, 1, 0, []byte("old"), now))
	failed := false
	j.write = func(f *os.File, b []byte) (int, error) { // the first write fails half-way
		if !failed {
			failed = true
			n, _ := f.Write(b[:len(b)/2])
			return n, errors.New("no space left on device")
		}
		return f.Write(b)
	}
	// Two hours on, the part cannot be written; the same change gives up on "old" and
	// records that, after the torn write.
	later := now.Add(2 * time.Hour)
	if err := j.Add(part(1, 2, 2, 0, []byte("b"), later)); err == nil {
		t.Fatal("Add took a part whose write failed")
	}
	add(t, j, part(1, 2, 2, 0, []byte("b"), later)) // the SMSC sends it again
	if !sameTexts(in.texts(), "a[part 2 of 2 missing]", "old[part 2 of 2 missing]") && !sameTexts(in.texts(), "old[part 2 of 2 missing]", "a[part 2 of 2 missing]") {
		t.Fatalf("delivered %q, want both given up after an hour", in.texts())
	}
	j2 := mustOpenJoiner(t, path, &inboxStub{}, JoinerLimits{Age: 24 * time.Hour})
	if n := waiting(t, j2); n != 1 {
		t.Errorf("another Joiner reading the file finds %d waiting, want 1 (b, which came after a gave up)", n)
	}
}

// The whole message keeps its sender's type of number, also across a restart (the parts
// file), so that its opt-out reads From as the parts said (international, national) instead
// of writing every reading, a stranger's number among them.
func TestJoiner_keepsTheTypeOfNumber(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox.csv.parts")
	var in inboxStub
	j1 := mustOpenJoiner(t, path, &in, JoinerLimits{})
	now := time.Now()
	first := part(9, 2, 1, 0, []byte("STOP "), now)
	first.FromTON = 1
	add(t, j1, first)
	j1.Close()
	j2 := mustOpenJoiner(t, path, &in, JoinerLimits{})
	second := part(9, 2, 2, 0, []byte("it"), now)
	second.FromTON = 1
	add(t, j2, second)
	j2.Close()
	if len(in.got) != 1 || in.got[0].FromTON != 1 || in.got[0].Text != "STOP it" {
		t.Errorf("delivered %+v, want one message \"STOP it\" from type of number 1", in.got)
	}
}
