package report

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
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

// JoinerLimits bound what a Joiner holds. The zero value gives the defaults.
type JoinerLimits struct {
	// Age is how long an incomplete message waits for its missing parts before it is
	// delivered as it is, the gaps marked. 0 means 24 hours.
	Age time.Duration
	// Waiting caps the incomplete messages, Bytes the octets of their parts: beyond either,
	// the oldest is delivered as it is. A handset that gave up, or an SMSC that sends junk,
	// cannot grow them without bound. 0 means 10,000 messages and 16 MiB.
	Waiting, Bytes int
	// Remember is how long a delivered message is remembered, so that a part of it sent
	// again (our answer was lost with the connection) is not taken for a new message;
	// RememberMax caps how many are. 0 means an hour and 10,000.
	Remember    time.Duration
	RememberMax int
}

func (l JoinerLimits) withDefaults() JoinerLimits {
	if l.Age <= 0 {
		l.Age = 24 * time.Hour
	}
	if l.Waiting <= 0 {
		l.Waiting = 10000
	}
	if l.Bytes <= 0 {
		l.Bytes = 16 << 20
	}
	if l.Remember <= 0 {
		l.Remember = time.Hour
	}
	if l.RememberMax <= 0 {
		l.RememberMax = 10000
	}
	return l
}

// Joiner puts the parts of long incoming messages back together, so that the inbox gets one
// line per message. Its state is the parts file (beside the inbox), an append-only log: every
// part is synced to it before Add returns (and so before the SMSC is told it arrived), so a
// part acknowledged once is never lost, and a message still incomplete when a run ends is
// completed by a later run, to which the SMSC delivers the rest. A delivered message gets a
// record of its own. Each change is made under a lock on the inbox file, after reading what
// other processes sharing the inbox appended, so they join each other's parts. It is safe for
// concurrent use.
//
// A crash between delivering a message and recording it delivers it again on the next run: a
// duplicate inbox line, never a lost message.
type Joiner struct {
	mu      sync.Mutex
	path    string
	lock    *os.File // the inbox file, locked around each change
	deliver func(MO) error
	warn    func(error)
	lim     JoinerLimits
	slack   int // records beyond twice the live ones before the file is compacted

	// What the parts file holds, as far as it was read or written. f stays open: it pins the
	// file's inode, so that a file another process removed or replaced can never be taken for
	// this one because a new file got the same inode number.
	f       *os.File // nil: no file
	size    int64    // its bytes taken into account
	records int      // its records (for deciding when to compact)
	stale   bool     // an append failed and could not be undone: read it all again first
	sets    map[joinKey]*moSet
	bytes   int // what the parts in sets hold (see partCost)
	done    map[joinKey]doneRecord
	doneQ   []doneRecord // done in the order delivered, for forgetting the oldest

	write         func(*os.File, []byte) (int, error) // (*os.File).Write; tests make it fail
	compactWarned bool                                // a failing compaction is said once
}

// joinKey identifies one long message: its parts share sender, recipient, reference and total.
type joinKey struct {
	from, to string
	ref      uint16
	total    uint8
}

// moSet is a long message whose parts are arriving.
type moSet struct {
	parts []record // the parts there are, in Seq order
	first time.Time
}

// doneRecord is a delivered message: the hash of each of its parts (0 for one missing).
type doneRecord struct {
	key  joinKey
	at   time.Time
	sums []uint64
}

// record is one line of the parts file: a part, or (Done) a message delivered, with the hash
// of each of its parts (Sums).
type record struct {
	Time   time.Time `json:"time"`
	From   string    `json:"from"`
	TON    uint8     `json:"from_ton,omitempty"` // source_addr_ton, for the opt-out of the whole
	To     string    `json:"to"`
	Ref    uint16    `json:"ref"`
	Total  uint8     `json:"total"`
	Seq    uint8     `json:"seq,omitempty"`
	Coding uint8     `json:"coding,omitempty"`
	Data   []byte    `json:"data,omitempty"` // base64 in the file
	Done   bool      `json:"done,omitempty"`
	Sums   []uint64  `json:"sums,omitempty"`
}

func (r *record) key() joinKey { return joinKey{r.From, r.To, r.Ref, r.Total} }

// partSum identifies a part's octets in a Done record.
func partSum(data []byte) uint64 {
	h := fnv.New64a()
	h.Write(data)
	return max(h.Sum64(), 1) // 0 marks a missing part
}

// maxLine caps a line of the parts file: a part's octets (at most a PDU) in base64, and more.
const maxLine = 1 << 20

// OpenJoiner returns the Joiner of the parts file at path, which delivers whole messages to
// deliver and reports to warn what it cannot do without failing a part (deliver failing:
// the message is tried again on the next change). Its changes are made under a lock on
// lockPath, a file of its own that is created if needed and never removed (the parts file is
// replaced when compacted, and the inbox may be moved away, so neither can carry the lock). It
// reads the parts file at once, so that a damaged one stops the run at its start, and
// delivers what is due.
func OpenJoiner(path, lockPath string, deliver func(MO) error, warn func(error), lim JoinerLimits) (*Joiner, error) {
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o666) // read-write: on NFS, flock needs it
	if err != nil {
		return nil, fmt.Errorf("open the lock file of the long incoming messages: %w", err)
	}
	j := &Joiner{path: path, lock: lock, deliver: deliver, warn: warn, lim: lim.withDefaults(),
		sets: make(map[joinKey]*moSet), done: make(map[joinKey]doneRecord), slack: 64,
		write: (*os.File).Write}
	if err := j.Settle(time.Now()); err != nil {
		lock.Close()
		return nil, err
	}
	return j, nil
}

// Add takes one part of a long message (an MO without Part is delivered at once). A part not
// seen before is synced to the parts file; an error means it was not, and must not be
// acknowledged. A message is delivered once its last part is in; a part of a message
// delivered lately that comes again with the same octets changes nothing (a handset reusing
// the reference for a new message sends other octets).
func (j *Joiner) Add(m MO) error {
	if m.Part == nil || m.Part.Total < 2 || m.Part.Seq < 1 || m.Part.Seq > m.Part.Total {
		return j.deliver(m) // not a part a handset would join: a message of its own
	}
	// Addresses go through JSON in the file, which keeps only valid UTF-8: make them so now,
	// or a part read back would not match one kept in memory.
	p := record{Time: m.Time.UTC(), From: strings.ToValidUTF8(m.From, "\uFFFD"), TON: m.FromTON, To: strings.ToValidUTF8(m.To, "\uFFFD"),
		Ref: m.Part.Ref, Total: m.Part.Total, Seq: m.Part.Seq, Coding: m.Part.Coding, Data: slices.Clone(m.Part.Data)}
	if p.Data == nil {
		p.Data = []byte{}
	}
	return j.change(p.Time, func() error {
		k := p.key()
		s := j.sets[k]
		if s != nil && s.index(p.Seq) >= 0 || s == nil && j.redelivered(p) {
			return nil
		}
		if err := j.makeRoom(k, partCost(&p), p.Time); err != nil {
			return err
		}
		return j.append(p)
	})
}

// Settle delivers what is due at now: the messages that are complete (their delivery failed
// before, or a crash came between), and those older than JoinerLimits.Age, as they are.
func (j *Joiner) Settle(now time.Time) error {
	return j.change(now, func() error { return nil })
}

// Waiting returns the number of incomplete messages whose parts wait in the parts file, and
// the number of complete ones that could not be delivered yet.
func (j *Joiner) Waiting() (incomplete, undelivered int, err error) {
	err = j.change(time.Now(), func() error {
		for k, s := range j.sets {
			if len(s.parts) == int(k.total) {
				undelivered++
			} else {
				incomplete++
			}
		}
		return nil
	})
	return incomplete, undelivered, err
}

// Close closes the parts file and the lock file.
func (j *Joiner) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.closeFile()
	return j.lock.Close()
}

// closeFile lets go of the parts file as read.
func (j *Joiner) closeFile() {
	if j.f != nil {
		j.f.Close()
		j.f = nil
	}
}

// change brings the state up to date with the parts file, runs op, delivers what is due at
// now, and compacts the file when most of it is history; all under the lock.
func (j *Joiner) change(now time.Time, op func() error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := lockWait(j.lock); err != nil {
		return fmt.Errorf("lock %s: %w (on a network file system without locks, give --inbox a file on a local disk)", j.lock.Name(), err)
	}
	defer unlock(j.lock)
	if err := j.read(); err != nil {
		return err
	}
	err := op()
	j.settle(now)
	if cerr := j.compact(now); cerr != nil && !j.compactWarned {
		j.warn(cerr)
		j.compactWarned = true
	} else if cerr == nil {
		j.compactWarned = false
	}
	return err
}

// read takes in what the parts file gained since the Joiner last read or wrote it, or all of
// it when it was replaced (compacted by another process), removed, or is new to the Joiner. A
// last line cut short by a crash is cut off: its part was never acknowledged, so the SMSC
// sends it again.
func (j *Joiner) read() error {
	info, err := os.Stat(j.path)
	if errors.Is(err, fs.ErrNotExist) {
		j.closeFile()
		j.reset()
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the parts of long incoming messages: %w", err)
	}
	if j.f != nil {
		cur, err := j.f.Stat()
		if err != nil || !os.SameFile(info, cur) || info.Size() < j.size || j.stale {
			j.closeFile()
		}
	}
	if j.f == nil {
		j.reset()
		if j.f, err = os.OpenFile(j.path, os.O_RDWR|os.O_APPEND, 0); err != nil {
			return fmt.Errorf("read the parts of long incoming messages: %w", err)
		}
		if info, err = j.f.Stat(); err != nil { // the file opened, should it have changed since
			return fmt.Errorf("read %s: %w", j.path, err)
		}
	}
	if info.Size() == j.size {
		return nil
	}
	r := bufio.NewReader(io.NewSectionReader(j.f, j.size, info.Size()-j.size))
	line := j.records
	for {
		text, err := r.ReadBytes('\n')
		line++
		switch {
		case errors.Is(err, io.EOF):
			if len(text) > 0 {
				if err := j.f.Truncate(j.size); err != nil {
					return fmt.Errorf("%s: cut off its incomplete last line: %w", j.path, err)
				}
			}
			return nil
		case err != nil:
			return fmt.Errorf("read %s: %w", j.path, err)
		}
		var p record
		if len(text) > maxLine {
			err = errors.New("line too long")
		} else {
			err = json.Unmarshal(text, &p)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: not a record of smscast's (%v): the file is damaged; move it away and keep it (it may hold parts of messages not yet in the inbox)", j.path, line, err)
		}
		if p.Total < 2 || !p.Done && (p.Seq < 1 || p.Seq > p.Total) || p.Done && len(p.Sums) != int(p.Total) {
			return fmt.Errorf("%s:%d: part %d of %d is impossible: the file is damaged; move it away and keep it (it may hold parts of messages not yet in the inbox)", j.path, line, p.Seq, p.Total)
		}
		j.apply(p)
		j.size += int64(len(text))
		j.records++
	}
}

// reset forgets the state, before reading the parts file from its start.
func (j *Joiner) reset() {
	j.size, j.records, j.bytes, j.stale = 0, 0, 0, false
	clear(j.sets)
	clear(j.done)
	j.doneQ = j.doneQ[:0]
}

// apply adds a record to the state.
func (j *Joiner) apply(p record) {
	k := p.key()
	if p.Done {
		if s := j.sets[k]; s != nil && s.matches(p.Sums) {
			j.drop(k, s)
		}
		d := doneRecord{key: k, at: p.Time, sums: p.Sums}
		j.done[k] = d
		j.doneQ = append(j.doneQ, d)
		return
	}
	s := j.sets[k]
	if s == nil {
		s = &moSet{first: p.Time}
		j.sets[k] = s
	}
	if s.index(p.Seq) >= 0 {
		return
	}
	i, _ := slices.BinarySearchFunc(s.parts, p.Seq, func(r record, seq uint8) int { return int(r.Seq) - int(seq) })
	s.parts = slices.Insert(s.parts, i, p)
	s.first = minTime(s.first, p.Time)
	j.bytes += partCost(&p)
}

// partCost is what a waiting part counts towards JoinerLimits.Bytes: its octets and
// addresses, and its bookkeeping, so that a flood of empty parts is bounded too.
func partCost(p *record) int { return len(p.Data) + len(p.From) + len(p.To) + 128 }

// drop forgets the waiting message k.
func (j *Joiner) drop(k joinKey, s *moSet) {
	for i := range s.parts {
		j.bytes -= partCost(&s.parts[i])
	}
	delete(j.sets, k)
}

// redelivered reports whether p is a part of a message delivered within Remember, sent again.
func (j *Joiner) redelivered(p record) bool {
	d, ok := j.done[p.key()]
	return ok && p.Time.Sub(d.at) < j.lim.Remember && d.sums[p.Seq-1] == partSum(p.Data)
}

// makeRoom delivers the oldest incomplete messages, as they are, while a part of k costing n
// would go beyond the limits. When one cannot be delivered, the part is refused (the SMSC
// sends it again later).
func (j *Joiner) makeRoom(k joinKey, n int, now time.Time) error {
	for len(j.sets) > 0 && (len(j.sets) >= j.lim.Waiting && j.sets[k] == nil || j.bytes+n > j.lim.Bytes) {
		var oldest joinKey
		var first time.Time
		for k, s := range j.sets {
			if first.IsZero() || s.first.Before(first) {
				oldest, first = k, s.first
			}
		}
		if err := j.finish(oldest, j.sets[oldest], now); err != nil {
			return err
		}
	}
	return nil
}

// settle delivers the complete messages and those waiting longer than Age at now.
func (j *Joiner) settle(now time.Time) {
	for k, s := range j.sets {
		if len(s.parts) == int(k.total) || now.Sub(s.first) > j.lim.Age {
			if err := j.finish(k, s, now); err != nil {
				j.warn(err)
			}
		}
	}
}

// finish delivers the message k, whole or as it is, and records that it was.
func (j *Joiner) finish(k joinKey, s *moSet, now time.Time) error {
	if err := j.deliver(s.message(k)); err != nil {
		return fmt.Errorf("a long incoming message from %q could not be written, it is tried again later: %w", k.from, err)
	}
	d := record{Time: now, From: k.from, To: k.to, Ref: k.ref, Total: k.total, Done: true, Sums: make([]uint64, k.total)}
	for _, p := range s.parts {
		d.Sums[p.Seq-1] = partSum(p.Data)
	}
	if err := j.append(d); err != nil {
		// Delivered, yet perhaps not recorded: then the next run delivers it again (its
		// parts stay in the file). Forget it here, so that this run does not.
		j.drop(k, s)
		return err
	}
	return nil
}

// append writes p to the parts file, syncs it, and applies it. A write or sync that fails is
// undone (the file is cut back), so that the next record never follows a torn one; when even
// that fails, nothing more is appended until the file has been read again.
func (j *Joiner) append(p record) error {
	if j.stale {
		return fmt.Errorf("keep a part of a long incoming message in %s: an earlier write failed and could not be undone", j.path)
	}
	line, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("keep a part of a long incoming message: %w", err)
	}
	line = append(line, '\n')
	if j.f == nil {
		f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o666)
		if err == nil {
			err = syncDir(j.path) // a new file: its name must survive a crash too
		}
		if err != nil {
			if f != nil {
				f.Close()
			}
			return fmt.Errorf("keep a part of a long incoming message in %s: %w", j.path, err)
		}
		j.f = f
	}
	_, err = j.write(j.f, line)
	if err == nil {
		err = j.f.Sync()
	}
	if err != nil {
		if terr := j.f.Truncate(j.size); terr != nil {
			j.stale = true
		}
		return fmt.Errorf("keep a part of a long incoming message in %s: %w", j.path, err)
	}
	j.size += int64(len(line))
	j.records++
	j.apply(p)
	return nil
}

// compact forgets the delivered messages older than Remember at now (and the oldest beyond
// RememberMax), and rewrites the parts file with what still counts once most of its records
// are history; it removes the file when nothing counts.
func (j *Joiner) compact(now time.Time) error {
	for len(j.doneQ) > 0 && (now.Sub(j.doneQ[0].at) >= j.lim.Remember || len(j.done) > j.lim.RememberMax) {
		d := j.doneQ[0]
		j.doneQ = j.doneQ[1:]
		if j.current(d) {
			delete(j.done, d.key)
		}
	}
	if len(j.doneQ) > 2*len(j.done)+16 { // entries replaced by a later Done of their key
		j.doneQ = slices.DeleteFunc(j.doneQ, func(d doneRecord) bool { return !j.current(d) })
	}
	live := len(j.done)
	for _, s := range j.sets {
		live += len(s.parts)
	}
	if j.f == nil || j.records <= 2*live+j.slack && live > 0 {
		return nil
	}
	if live == 0 {
		if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", j.path, err)
		}
		j.closeFile()
		j.reset()
		return syncDir(j.path)
	}
	// Delivered messages first: a Done record closes the waiting message of its key, and
	// a newer message may have reused that key.
	var buf []byte
	for _, d := range j.doneQ {
		if j.current(d) {
			line, _ := json.Marshal(record{Time: d.at, From: d.key.from, To: d.key.to, Ref: d.key.ref, Total: d.key.total, Done: true, Sums: d.sums})
			buf = append(append(buf, line...), '\n')
		}
	}
	for _, s := range j.sets {
		for _, p := range s.parts {
			line, _ := json.Marshal(p)
			buf = append(append(buf, line...), '\n')
		}
	}
	if err := replaceFile(j.path, buf); err != nil {
		return fmt.Errorf("compact %s (it keeps growing until this works): %w", j.path, err)
	}
	j.closeFile() // read back what was written, next time
	j.reset()
	return nil
}

// current reports whether d is the latest Done record of its key.
func (j *Joiner) current(d doneRecord) bool {
	cur, ok := j.done[d.key]
	return ok && cur.at.Equal(d.at)
}

// replaceFile writes data to a temporary file beside path, syncs it and renames it to path.
func replaceFile(path string, data []byte) error {
	tmp, f, err := createTemp(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = commit(tmp, path, true)
	}
	if err == nil {
		err = syncDir(path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// index returns the position of part seq in s.parts, or -1.
func (s *moSet) index(seq uint8) int {
	i, ok := slices.BinarySearchFunc(s.parts, seq, func(r record, seq uint8) int { return int(r.Seq) - int(seq) })
	if !ok {
		return -1
	}
	return i
}

// matches reports whether the parts of s are those a Done record's sums describe.
func (s *moSet) matches(sums []uint64) bool {
	for _, p := range s.parts {
		if sums[p.Seq-1] != partSum(p.Data) {
			return false
		}
	}
	return true
}

// message is the message of s: when complete, its parts' octets decoded together, so that a
// character split between two parts (a GSM escape, a UTF-16 surrogate pair) comes out whole;
// else (or when the parts differ in coding) part by part, each missing one marked "[part k of
// n missing]". It was received when its latest part came.
func (s *moSet) message(k joinKey) MO {
	m := MO{Time: s.first, From: k.from, To: k.to}
	if len(s.parts) > 0 {
		m.FromTON = s.parts[0].TON // how to read From for an opt-out (the parts share From)
	}
	same := true
	var data []byte
	for _, p := range s.parts {
		m.Time = maxTime(m.Time, p.Time)
		same = same && p.Coding == s.parts[0].Coding
		data = append(data, p.Data...)
	}
	if same && len(s.parts) == int(k.total) {
		m.Text = MOText(data, s.parts[0].Coding)
		return m
	}
	var b strings.Builder
	next := 0
	for seq := 1; seq <= int(k.total); seq++ {
		if next < len(s.parts) && int(s.parts[next].Seq) == seq {
			b.WriteString(MOText(s.parts[next].Data, s.parts[next].Coding))
			next++
		} else {
			fmt.Fprintf(&b, "[part %d of %d missing]", seq, k.total)
		}
	}
	m.Text = b.String()
	return m
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
