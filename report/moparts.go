package report

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"smscast/smpp/coding"
)

// MOPart says which part of a concatenated (long) incoming message an MO is, from its user
// data header or its sar_* TLVs.
type MOPart struct {
	Ref    uint16 // concatenation reference, the same in every part
	Total  uint8  // number of parts, at least 2
	Seq    uint8  // this part, 1 to Total
	Coding uint8  // data_coding
	Data   []byte // the part's user data, without the header
}

// MOText decodes an incoming message's user data (without its header) in data_coding dc; data
// it cannot read as text comes back as "0x" followed by the octets in hex.
func MOText(data []byte, dc uint8) string {
	if s, err := coding.Decode(data, dc); err == nil {
		return s
	}
	return "0x" + hex.EncodeToString(data)
}

// Joiner puts the parts of long incoming messages back together, so that the inbox gets one
// line per message. The parts file (beside the inbox) is the whole state: every part is
// synced to it before the SMSC is told it arrived, so a part acknowledged once is never lost,
// and the parts of a message still incomplete when the run ends wait there for the next run,
// to which the SMSC delivers the rest. Each change reads the file, and is made under a lock
// on the inbox file, so several smscast processes sharing an inbox (and their SMSC's parts)
// join the same messages. It is safe for concurrent use.
//
// A crash between writing a whole message and recording it as written writes that message
// again on the next run: a duplicate inbox line, never a lost one.
type Joiner struct {
	mu   sync.Mutex
	path string
	lock *os.File // the inbox file, locked around each change
	max  int      // maxWaiting, lowered by tests
}

// joinKey identifies one long message: its parts share sender, recipient, reference and total.
type joinKey struct {
	from, to string
	ref      uint16
	total    uint8
}

// partRecord is one line of the parts file: a part, or (Done) the record that the message
// went to the inbox, with its parts' octets, so that a part sent again is recognised.
type partRecord struct {
	Time   time.Time `json:"time"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Ref    uint16    `json:"ref"`
	Total  uint8     `json:"total"`
	Seq    uint8     `json:"seq,omitempty"`
	Coding uint8     `json:"coding,omitempty"`
	Data   []byte    `json:"data,omitempty"` // base64 in the file
	Done   bool      `json:"done,omitempty"`
	Parts  [][]byte  `json:"parts,omitempty"` // of a Done record
}

func (p *partRecord) key() joinKey { return joinKey{p.From, p.To, p.Ref, p.Total} }

// maxWaiting caps the incomplete messages held at one time. Parts that never complete (a
// handset that gave up, an SMSC that sends junk) would otherwise grow without bound; beyond
// it the oldest is delivered as it is, its missing parts marked.
const maxWaiting = 10000

// maxPartsFile caps what is read of the parts file: it holds the few long messages that are
// incomplete at one time, far below this.
const maxPartsFile = 64 << 20

// redeliveryWindow is how long a delivered message's parts are recognised when they come
// again (our answer was lost with the connection, so the SMSC sends the part again).
const redeliveryWindow = 10 * time.Minute

// OpenJoiner returns the Joiner of the parts file at path, whose changes are made under a lock
// on lockPath (the inbox file). It reads the parts file once, so that a damaged one stops the
// run at its start. A parts file that does not exist is created when the first part arrives.
func OpenJoiner(path, lockPath string) (*Joiner, error) {
	lock, err := os.Open(lockPath)
	if err != nil {
		return nil, fmt.Errorf("open the inbox to lock it: %w", err)
	}
	j := &Joiner{path: path, lock: lock, max: maxWaiting}
	if err := j.change(time.Now(), func(*joinState) error { return nil }); err != nil {
		lock.Close()
		return nil, err
	}
	return j, nil
}

// joinState is the content of the parts file: the messages whose parts are arriving, and
// those delivered lately.
type joinState struct {
	sets   map[joinKey]*moSet
	done   map[joinKey]partRecord // Done records
	add    []partRecord           // to append to the file, synced before anything is delivered
	settle bool                   // messages were delivered: rewrite the file with what still counts
}

// moSet is a long message whose parts are arriving.
type moSet struct {
	parts []partRecord // by Seq-1; Data nil while missing
	got   int
	first time.Time // arrival of its first part, for giving up on it
}

// change runs op on the state of the parts file, under the lock, then writes what op added
// and, when op delivered messages or the file holds stale records, rewrites the file with the
// parts still waiting and the messages delivered within redeliveryWindow of now (it removes
// the file when there are none).
func (j *Joiner) change(now time.Time, op func(*joinState) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := lockWait(j.lock); err != nil {
		return fmt.Errorf("lock the inbox: %w", err)
	}
	defer unlock(j.lock)
	st, err := j.read(now)
	if err != nil {
		return err
	}
	err = op(st)
	if len(st.add) > 0 {
		err = errors.Join(err, j.append(st.add))
	}
	if st.settle {
		err = errors.Join(err, j.rewrite(st, now))
	}
	return err
}

// read loads the parts file. A last line cut short by a crash is cut off: its part was never
// acknowledged, so the SMSC sends it again. Records of messages delivered longer than
// redeliveryWindow before now make the change rewrite the file without them.
func (j *Joiner) read(now time.Time) (*joinState, error) {
	st := &joinState{sets: make(map[joinKey]*moSet), done: make(map[joinKey]partRecord)}
	f, err := os.OpenFile(j.path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the parts of long incoming messages: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", j.path, err)
	}
	if info.Size() > maxPartsFile {
		return nil, fmt.Errorf("%s is %d bytes, more than the parts of incomplete messages take: it is not smscast's, or damaged; move it away", j.path, info.Size())
	}
	r := bufio.NewReader(f)
	for line, off := 1, int64(0); ; line++ {
		text, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(text) > 0 {
				if err := f.Truncate(off); err != nil {
					return nil, fmt.Errorf("%s: cut off its incomplete last line: %w", j.path, err)
				}
			}
			return st, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", j.path, err)
		}
		off += int64(len(text))
		var p partRecord
		if err := json.Unmarshal(text, &p); err != nil {
			return nil, fmt.Errorf("%s:%d: not a part of an incoming message (%v): the file is damaged; move it away to start afresh", j.path, line, err)
		}
		if p.Total < 2 || !p.Done && (p.Seq < 1 || p.Seq > p.Total) || p.Done && len(p.Parts) != int(p.Total) {
			return nil, fmt.Errorf("%s:%d: part %d of %d is impossible: the file is damaged; move it away to start afresh", j.path, line, p.Seq, p.Total)
		}
		st.apply(p)
		if p.Done && now.Sub(p.Time) >= redeliveryWindow {
			st.settle = true
		}
	}
}

// apply adds a record to the state; it reports whether it was news (not a part seen before).
func (st *joinState) apply(p partRecord) bool {
	k := p.key()
	if p.Done {
		delete(st.sets, k)
		st.done[k] = p
		return true
	}
	s := st.sets[k]
	if s == nil {
		s = &moSet{parts: make([]partRecord, p.Total), first: p.Time}
		st.sets[k] = s
	}
	if s.parts[p.Seq-1].Data != nil {
		return false
	}
	if p.Data == nil {
		p.Data = []byte{}
	}
	s.parts[p.Seq-1] = p
	s.got++
	if p.Time.Before(s.first) {
		s.first = p.Time
	}
	return true
}

// delivered records that the message k went to the inbox at.
func (st *joinState) delivered(k joinKey, s *moSet, at time.Time) {
	d := partRecord{Time: at, From: k.from, To: k.to, Ref: k.ref, Total: k.total, Done: true, Parts: make([][]byte, len(s.parts))}
	for i, p := range s.parts {
		d.Parts[i] = p.Data
	}
	delete(st.sets, k)
	st.done[k] = d
	st.settle = true
}

// Add takes one part of a long message. A part not seen before is synced to the parts file;
// once every part of its message has arrived, deliver gets the whole message. An error means
// the part must not be acknowledged (the SMSC sends it again, and that completes a message
// whose delivery failed). A part of a message delivered lately that comes again with the same
// octets is taken without anything more; a handset reusing the reference for a new message
// sends other octets.
func (j *Joiner) Add(m MO, deliver func(MO) error) error {
	if m.Part == nil {
		return deliver(m)
	}
	p := partRecord{Time: m.Time.UTC(), From: m.From, To: m.To, Ref: m.Part.Ref, Total: m.Part.Total,
		Seq: m.Part.Seq, Coding: m.Part.Coding, Data: slices.Clone(m.Part.Data)}
	if p.Total < 2 || p.Seq < 1 || p.Seq > p.Total {
		return deliver(m) // not a part a handset would join: a message of its own
	}
	if p.Data == nil {
		p.Data = []byte{}
	}
	return j.change(p.Time, func(st *joinState) error {
		k := p.key()
		if d, ok := st.done[k]; ok && st.sets[k] == nil && p.Time.Sub(d.Time) < redeliveryWindow && bytes.Equal(d.Parts[p.Seq-1], p.Data) {
			return nil
		}
		if err := j.makeRoom(st, k, deliver); err != nil {
			return err
		}
		if st.apply(p) {
			st.add = append(st.add, p)
		}
		s := st.sets[k]
		if s.got < len(s.parts) {
			return nil
		}
		// The part that completes the message is durable before the message is delivered.
		if err := j.append(st.add); err != nil {
			return err
		}
		st.add = nil
		if err := deliver(s.whole(k)); err != nil {
			return err
		}
		st.delivered(k, s, p.Time)
		return nil
	})
}

// makeRoom delivers the oldest incomplete message, as it is, when k would start a message
// beyond the cap (maxWaiting).
func (j *Joiner) makeRoom(st *joinState, k joinKey, deliver func(MO) error) error {
	if len(st.sets) < j.max || st.sets[k] != nil {
		return nil
	}
	var oldest joinKey
	var first time.Time
	for k, s := range st.sets {
		if first.IsZero() || s.first.Before(first) {
			oldest, first = k, s.first
		}
	}
	s := st.sets[oldest]
	if err := deliver(s.incomplete(oldest)); err != nil {
		return err
	}
	st.delivered(oldest, s, s.last())
	return nil
}

// Expire delivers the messages whose first part arrived more than age before now and which
// are still incomplete: the parts that came, in order, each missing one marked "[part k of n
// missing]". The parts file keeps those whose delivery failed.
func (j *Joiner) Expire(now time.Time, age time.Duration, deliver func(MO) error) error {
	return j.change(now, func(st *joinState) error {
		var errs []error
		for k, s := range st.sets {
			if now.Sub(s.first) <= age {
				continue
			}
			if err := deliver(s.incomplete(k)); err != nil {
				errs = append(errs, err)
				continue
			}
			st.delivered(k, s, now)
		}
		return errors.Join(errs...)
	})
}

// Waiting returns the number of incomplete messages whose parts wait in the parts file.
func (j *Joiner) Waiting() (int, error) {
	n := 0
	err := j.change(time.Now(), func(st *joinState) error {
		n = len(st.sets)
		return nil
	})
	return n, err
}

// Close releases the inbox file held for locking.
func (j *Joiner) Close() error { return j.lock.Close() }

// append writes records to the parts file and syncs it.
func (j *Joiner) append(recs []partRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var buf []byte
	for _, p := range recs {
		line, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("keep a part of a long incoming message: %w", err)
		}
		buf = append(append(buf, line...), '\n')
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err == nil {
		_, err = f.Write(buf)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("keep a part of a long incoming message in %s: %w", j.path, err)
	}
	return nil
}

// rewrite replaces the parts file with what still counts at now: the parts still waiting and
// the messages delivered within redeliveryWindow. It removes the file when nothing does.
func (j *Joiner) rewrite(st *joinState, now time.Time) error {
	var live []partRecord
	for _, s := range st.sets {
		for _, p := range s.parts {
			if p.Data != nil {
				live = append(live, p)
			}
		}
	}
	for _, d := range st.done {
		if now.Sub(d.Time) < redeliveryWindow {
			live = append(live, d)
		}
	}
	if len(live) == 0 {
		if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", j.path, err)
		}
		return syncDir(j.path)
	}
	tmp, f, err := createTemp(j.path)
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", j.path, err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, p := range live {
		if err == nil {
			err = enc.Encode(p)
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = commit(tmp, j.path, true)
	}
	if err == nil {
		err = syncDir(j.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite %s: %w", j.path, err)
	}
	return nil
}

// whole is the message of a complete set, received when its last part arrived. Its parts'
// octets are decoded together, so that a character split between two parts (a GSM escape, a
// UTF-16 surrogate pair) comes out whole.
func (s *moSet) whole(k joinKey) MO {
	var data []byte
	same := true
	for _, p := range s.parts {
		data = append(data, p.Data...)
		same = same && p.Coding == s.parts[0].Coding
	}
	m := MO{Time: s.last(), From: k.from, To: k.to}
	if same {
		m.Text = MOText(data, s.parts[0].Coding)
	} else {
		m.Text = s.text()
	}
	return m
}

// incomplete is the message of a set that is given up on: what arrived, the gaps marked.
func (s *moSet) incomplete(k joinKey) MO {
	return MO{Time: s.last(), From: k.from, To: k.to, Text: s.text()}
}

// last is when the latest of the set's parts arrived.
func (s *moSet) last() time.Time {
	last := s.first
	for _, p := range s.parts {
		if p.Time.After(last) {
			last = p.Time
		}
	}
	return last
}

// text decodes the parts one by one, each missing part marked, for a message that cannot be
// decoded in one go: incomplete, or with parts in different codings.
func (s *moSet) text() string {
	var b strings.Builder
	for i, p := range s.parts {
		if p.Data == nil {
			fmt.Fprintf(&b, "[part %d of %d missing]", i+1, len(s.parts))
			continue
		}
		b.WriteString(MOText(p.Data, p.Coding))
	}
	return b.String()
}
