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
// line per message. Every part is synced to a file of its own (the parts file, beside the
// inbox) before the SMSC is told it arrived, so a part acknowledged once is never lost: the
// parts of a message not yet complete when the run ends wait there for the next run, whose
// SMSC delivers the rest. It is safe for concurrent use.
//
// A crash between writing a whole message and forgetting its parts writes that message again
// on the next run: a duplicate inbox line, never a lost one.
type Joiner struct {
	mu   sync.Mutex
	path string
	f    *os.File // the parts file, open for appending; nil until a part arrives
	sets map[joinKey]*moSet
	max  int // maxWaiting, lowered by tests
	// done remembers the messages delivered lately, so that a part the SMSC sends again
	// (our answer was lost with the connection) does not start a message of its own.
	done map[joinKey]doneSet
}

// doneSet is a message delivered lately: its parts' octets, and when it was delivered.
type doneSet struct {
	parts [][]byte
	at    time.Time
}

// redeliveryWindow is how long a delivered message's parts are recognised when they come
// again; maxDone caps how many are remembered.
const (
	redeliveryWindow = 10 * time.Minute
	maxDone          = 1000
)

// joinKey identifies one long message: the parts of a message share sender, recipient,
// reference and total.
type joinKey struct {
	from, to string
	ref      uint16
	total    uint8
}

// moSet is a long message whose parts are arriving.
type moSet struct {
	parts []partRecord // by Seq-1; Data nil while missing
	got   int
	first time.Time // arrival of its first part, for giving up on it
}

// partRecord is one line of the parts file.
type partRecord struct {
	Time   time.Time `json:"time"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Ref    uint16    `json:"ref"`
	Total  uint8     `json:"total"`
	Seq    uint8     `json:"seq"`
	Coding uint8     `json:"coding"`
	Data   []byte    `json:"data"` // base64 in the file
}

// maxWaiting caps the incomplete messages held at one time. Parts that never complete (a
// handset that gave up, an SMSC that sends junk) would otherwise grow without bound; beyond
// it the oldest is delivered as it is, its missing parts marked.
const maxWaiting = 10000

// maxPartsFile caps what OpenJoiner reads: a parts file holds the few long messages that are
// incomplete at one time, far below this.
const maxPartsFile = 64 << 20

// OpenJoiner opens the parts file at path and reads the parts waiting there. A file that does
// not exist is created when the first part arrives. A last line cut short by a crash is
// ignored (its part was never acknowledged, so the SMSC sends it again).
func OpenJoiner(path string) (*Joiner, error) {
	j := &Joiner{path: path, sets: make(map[joinKey]*moSet), max: maxWaiting, done: make(map[joinKey]doneSet)}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open the parts of long incoming messages: %w", err)
	}
	if err := j.load(f); err != nil {
		f.Close()
		return nil, err
	}
	j.f = f
	return j, nil
}

// load reads the records of the parts file f.
func (j *Joiner) load(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", j.path, err)
	}
	if st.Size() > maxPartsFile {
		return fmt.Errorf("%s is %d bytes, more than the parts of incomplete messages can take: it is not smscast's, or damaged; move it away", j.path, st.Size())
	}
	r := bufio.NewReader(io.NewSectionReader(f, 0, st.Size()))
	for line := 1; ; line++ {
		text, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			if len(bytes.TrimSpace(text)) > 0 {
				// A torn last record, from a crash during its write: not acknowledged. Cut
				// it off, so that the next record starts on a line of its own.
				if terr := f.Truncate(st.Size() - int64(len(text))); terr != nil {
					return fmt.Errorf("%s: cut off its incomplete last line: %w", j.path, terr)
				}
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", j.path, err)
		}
		var p partRecord
		if err := json.Unmarshal(text, &p); err != nil {
			return fmt.Errorf("%s:%d: not a part of an incoming message (%v): the file is damaged; move it away to start afresh", j.path, line, err)
		}
		if p.Total < 2 || p.Seq < 1 || p.Seq > p.Total {
			return fmt.Errorf("%s:%d: part %d of %d is impossible: the file is damaged; move it away to start afresh", j.path, line, p.Seq, p.Total)
		}
		j.keep(p)
	}
}

// keep adds p to its message and reports whether it was new (not a part seen before).
func (j *Joiner) keep(p partRecord) (*moSet, joinKey, bool) {
	k := joinKey{p.From, p.To, p.Ref, p.Total}
	s := j.sets[k]
	if s == nil {
		s = &moSet{parts: make([]partRecord, p.Total), first: p.Time}
		j.sets[k] = s
	}
	if s.parts[p.Seq-1].Data != nil {
		return s, k, false
	}
	if p.Data == nil {
		p.Data = []byte{}
	}
	s.parts[p.Seq-1] = p
	s.got++
	if p.Time.Before(s.first) {
		s.first = p.Time
	}
	return s, k, true
}

// Add takes one part of a long message. A part not seen before is synced to the parts file;
// once every part of its message has arrived, deliver gets the whole message, and when deliver
// succeeds the parts are forgotten. An error means the part must not be acknowledged (the
// SMSC sends it again, and that completes a message whose delivery failed).
func (j *Joiner) Add(m MO, deliver func(MO) error) error {
	if m.Part == nil {
		return deliver(m)
	}
	p := partRecord{Time: m.Time.UTC(), From: m.From, To: m.To, Ref: m.Part.Ref, Total: m.Part.Total,
		Seq: m.Part.Seq, Coding: m.Part.Coding, Data: slices.Clone(m.Part.Data)}
	if p.Total < 2 || p.Seq < 1 || p.Seq > p.Total {
		return deliver(m) // not a part a handset would join: a message of its own
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.redelivered(p) {
		return nil
	}
	if err := j.makeRoom(p, deliver); err != nil {
		return err
	}
	s, k, fresh := j.keep(p)
	if fresh {
		if err := j.append(p); err != nil {
			j.unkeep(k, s, p.Seq)
			return err
		}
	}
	if s.got < len(s.parts) {
		return nil
	}
	if err := deliver(s.whole(k)); err != nil {
		return err
	}
	delete(j.sets, k)
	j.remember(k, s, p.Time)
	return j.rewrite()
}

// redelivered reports whether p is a part of a message delivered lately, sent again: same
// message, same part, same octets, within redeliveryWindow. A handset reusing the reference
// for a new message sends other octets.
func (j *Joiner) redelivered(p partRecord) bool {
	k := joinKey{p.From, p.To, p.Ref, p.Total}
	d, ok := j.done[k]
	return ok && j.sets[k] == nil && p.Time.Sub(d.at) < redeliveryWindow && bytes.Equal(d.parts[p.Seq-1], p.Data)
}

// remember keeps the parts of the message k, delivered at, for redelivered; it forgets those
// older than redeliveryWindow, and the oldest beyond maxDone.
func (j *Joiner) remember(k joinKey, s *moSet, at time.Time) {
	for dk, d := range j.done {
		if at.Sub(d.at) >= redeliveryWindow {
			delete(j.done, dk)
		}
	}
	if len(j.done) >= maxDone {
		delete(j.done, oldestKey(j.done, func(d doneSet) time.Time { return d.at }))
	}
	d := doneSet{parts: make([][]byte, len(s.parts)), at: at}
	for i, p := range s.parts {
		d.parts[i] = p.Data
	}
	j.done[k] = d
}

// makeRoom delivers the oldest incomplete message, as it is, when p would start a message
// beyond the cap (maxWaiting).
func (j *Joiner) makeRoom(p partRecord, deliver func(MO) error) error {
	if len(j.sets) < j.max || j.sets[joinKey{p.From, p.To, p.Ref, p.Total}] != nil {
		return nil
	}
	oldest := oldestKey(j.sets, func(s *moSet) time.Time { return s.first })
	if err := deliver(j.sets[oldest].incomplete(oldest)); err != nil {
		return err
	}
	delete(j.sets, oldest)
	return j.rewrite()
}

// oldestKey returns the key of m whose value has the earliest time.
func oldestKey[V any](m map[joinKey]V, when func(V) time.Time) joinKey {
	var oldest joinKey
	first := true
	for k, v := range m {
		if first || when(v).Before(when(m[oldest])) {
			oldest, first = k, false
		}
	}
	return oldest
}

// unkeep takes back a part that could not be written.
func (j *Joiner) unkeep(k joinKey, s *moSet, seq uint8) {
	s.parts[seq-1] = partRecord{}
	if s.got--; s.got == 0 {
		delete(j.sets, k)
	}
}

// append writes p to the parts file and syncs it.
func (j *Joiner) append(p partRecord) error {
	if j.f == nil {
		f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
		if err != nil {
			return fmt.Errorf("keep a part of a long incoming message: %w", err)
		}
		j.f = f
	}
	line, err := json.Marshal(p)
	if err == nil {
		_, err = j.f.Write(append(line, '\n'))
	}
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("keep a part of a long incoming message in %s: %w", j.path, err)
	}
	return nil
}

// rewrite replaces the parts file with the parts still waiting, or removes it when none is.
func (j *Joiner) rewrite() error {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
	if len(j.sets) == 0 {
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
	for _, s := range j.sets {
		for _, p := range s.parts {
			if p.Data != nil && err == nil {
				err = enc.Encode(p)
			}
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
	j.f, err = os.OpenFile(j.path, os.O_RDWR|os.O_APPEND, 0)
	return err
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
		last = maxTime(last, p.Time)
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

// Expire delivers the messages whose first part arrived more than age ago and which are still
// incomplete: the parts that came, in order, each missing one marked "[part k of n
// missing]". The parts file keeps those whose delivery failed.
func (j *Joiner) Expire(now time.Time, age time.Duration, deliver func(MO) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	var errs []error
	expired := 0
	for k, s := range j.sets {
		if now.Sub(s.first) <= age {
			continue
		}
		if err := deliver(s.incomplete(k)); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(j.sets, k)
		expired++
	}
	if expired > 0 {
		errs = append(errs, j.rewrite())
	}
	return errors.Join(errs...)
}

// Waiting returns the number of incomplete messages whose parts wait in the parts file.
func (j *Joiner) Waiting() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.sets)
}

// Close closes the parts file.
func (j *Joiner) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
