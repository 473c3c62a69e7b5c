package journal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"smscast/smpp"
)

// Errors returned by a Writer.
var (
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("journal is closed")
	// ErrLocked means another process (a send or a receipts run still going) has the journal
	// open for writing.
	ErrLocked = errors.New("journal is in use by another smscast process: wait for it to finish")
)

// Options tune a Writer. The zero value gives the defaults.
type Options struct {
	// SyncInterval is how long a record may stay in memory before its batch is written and
	// fsynced, unless someone waits for it (Receipt, Sync) or receipts go quiet (see
	// ReceiptQuiet). 0 means 2ms.
	SyncInterval time.Duration
	// BatchBytes starts a write and fsync at once when this many bytes are buffered.
	// 0 means 256 KiB.
	BatchBytes int
	// MaxBuffered makes callers wait while this many bytes are buffered and the disk catches
	// up, bounding memory. 0 means 8 MiB.
	MaxBuffered int
	// ReceiptQuiet ends the wait for more records early while fewer than quietReceipts
	// (16) ReceiptThen callers wait and no record came for this long: an SMSC that sends
	// one receipt at a time, or a few, and waits for the answers gets them after about
	// ReceiptQuiet plus an fsync. Once more receipts wait, a stream is under way and the
	// batch takes the whole SyncInterval, so that they share one fsync. 0 means 200µs.
	ReceiptQuiet time.Duration
}

// quietReceipts is the number of waiting receipts from which a batch no longer goes out
// early on ReceiptQuiet: see Options.ReceiptQuiet.
const quietReceipts = 16

func (o Options) withDefaults() Options {
	if o.SyncInterval <= 0 {
		o.SyncInterval = 2 * time.Millisecond
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 256 << 10
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 8 << 20
	}
	if o.ReceiptQuiet <= 0 {
		o.ReceiptQuiet = 200 * time.Microsecond
	}
	if o.MaxBuffered < o.BatchBytes {
		o.MaxBuffered = o.BatchBytes
	}
	return o
}

// Horizon lead bounds, in rows; see Writer.Attempt.
const (
	minLead = 16
	maxLead = 16384
)

// Writer appends records to a journal with group commit: one goroutine owns the file and
// writes and fsyncs buffered records in batches, every SyncInterval, as soon as a caller waits
// for durability, when BatchBytes are buffered, and at Close. It is safe for concurrent use.
//
// Attempt, Accepted, Rejected and Resubmitted return once the record is buffered, without
// waiting for the disk; Receipt and Sync return once it is durable. A crash therefore loses at
// most the records of the batches not yet fsynced, never a receipt that was acknowledged; see
// Attempt for why a lost attempt record still cannot hide a submitted row.
//
// If a write or fsync fails, every later call returns that error: after a failed fsync the
// kernel may have dropped the data, so continuing would record outcomes that are not there.
type Writer struct {
	path    string
	f       *os.File
	opt     Options
	started time.Time // the time of this run's start record

	kick chan struct{} // buffer went from empty to non-empty
	// receipts: the batch being filled got its first ReceiptThen record, so gather looks
	// for quiet (capacity 1; a stale signal only causes an extra look)
	receipts chan struct{}
	urgent   chan struct{} // someone waits for durability, or the buffer is large
	stop     chan struct{} // closed by Close
	wg       sync.WaitGroup

	mu      sync.Mutex
	space   *sync.Cond // signalled when the buffer is handed to the disk goroutine
	buf     []byte     // encoded records not yet taken by the disk goroutine
	batch   *batch     // the batch buf will become
	writing *batch     // the batch being written, nil when idle
	err     error      // sticky write failure
	closed  bool
	closeCh chan struct{} // closed when Finish has finished
	closeEr error
	// The file is closed (and the lock released) once, by Close.
	fileOnce sync.Once
	fileErr  error

	// Horizon: rows this run may submit without a record of their own surviving a crash.
	durable      int    // highest row covered by a durable horizon record
	asked        int    // highest row covered by a buffered horizon record
	askedIn      *batch // the batch holding that record
	lead         int    // rows the horizon runs ahead of the highest attempt
	grownFor     *batch // the horizon batch lead was last doubled for, by a sender waiting on it
	attemptsSeen int    // attempts in the batch being filled, to adapt lead

	durableSize int64 // bytes of the file known to be fsynced: what a crash keeps at least

	syncs atomic.Int64 // batches written and fsynced, for the benchmarks
}

// batch is one write+fsync; done is closed after it, with err set if it failed, and then
// each of then is called with err.
type batch struct {
	done    chan struct{}
	err     error
	horizon int           // highest horizon record in the batch, 0 if none
	then    []func(error) // ReceiptThen callbacks
}

func newBatch() *batch { return &batch{done: make(chan struct{})} }

// Create starts a new journal at path for the campaign id and returns once the file, its
// header and a start record are durable. It fails if path exists (an earlier campaign's
// journal must be resumed with Open or removed deliberately, never overwritten).
func Create(path string, id Identity, opt Options) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			if inUse(path) {
				return nil, fmt.Errorf("create journal: %s belongs to a campaign that another smscast process is running now: choose another --report or --journal: %w", path, err)
			}
			return nil, fmt.Errorf("create journal: %s already exists (an earlier campaign's): resume that campaign, or remove the file to start a new one: %w", path, err)
		}
		return nil, fmt.Errorf("create journal: %w", err)
	}
	if err := lockCreated(f); err != nil {
		// Another process opened the new file first (a --resume or receipts run started
		// at the same moment): it is theirs now, so it stays.
		f.Close()
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	// Once locked, the file is this run's, unless another run removed or replaced it before
	// the lock (--force): then neither may write it.
	if st, err := f.Stat(); err != nil || !samePath(path, st) {
		f.Close()
		return nil, fmt.Errorf("create journal %s: another smscast run replaced it as it was created: %w", path, ErrLocked)
	}
	// On failure from here on the file goes, so that an empty journal does not stand in the
	// way of the next run.
	fail := func(err error) (*Writer, error) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("create journal %s: %w", path, err)
	}
	started := time.Now().UTC()
	start := appendHeader(nil)
	start = appendRecord(start, &Record{Kind: KindStart, At: started, Identity: &id})
	if err := writeSync(f, start); err != nil {
		return fail(err)
	}
	// The new file's name must survive a crash too.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fail(err)
	}
	w := newWriter(path, f, int64(len(start)), 0, opt)
	w.started = started
	return w, nil
}

// inUse reports whether another process holds the journal at path open for writing.
func inUse(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return errors.Is(inUseLock(f), ErrLocked)
}

// samePath reports whether path still names the file st describes.
func samePath(path string, st os.FileInfo) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(now, st)
}

// lockCreated locks the file Create has just made. Nobody else writes a file created
// with O_EXCL a moment ago, but another Create that lost the race may be probing it (inUse)
// for that moment: the lock is tried again for up to about 100 ms before ErrLocked.
func lockCreated(f *os.File) error {
	for try := 0; ; try++ {
		err := lockFile(f)
		if !errors.Is(err, ErrLocked) || try == 50 {
			return err
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Open continues the journal at path: it reads it (see Load), cuts a torn tail, appends a
// start record and returns the writer with the journal's state before this run. When id is
// not nil it must be the same campaign as the journal's (else *MismatchError, and the file is
// left untouched); a nil id continues under the journal's own identity, as collecting late
// receipts does.
func Open(path string, id *Identity, opt Options) (*Writer, *State, error) {
	return OpenChecked(path, id, nil, opt)
}

// OpenChecked is Open with a condition of the caller's: check sees the journal's state before
// this run while the journal is locked, so that no other run changes it in between, and an
// error from check is returned as is, with the file left untouched. A nil check accepts
// every state.
func OpenChecked(path string, id *Identity, check func(*State) error, opt Options) (*Writer, *State, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	w, st, err := openFile(path, f, id, check, opt)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return w, st, nil
}

func openFile(path string, f *os.File, id *Identity, check func(*State) error, opt Options) (*Writer, *State, error) {
	st, err := lockAndLoad(path, f)
	if err != nil {
		return nil, nil, err
	}
	runID := st.Identity
	if id != nil {
		if st.Runs > 0 {
			if err := st.Identity.Compare(*id); err != nil {
				return nil, nil, fmt.Errorf("resume from journal %s: %w", path, err)
			}
		}
		runID = *id
	}
	if check != nil {
		if err := check(st); err != nil {
			return nil, nil, err
		}
	}
	var start []byte
	if st.Size < int64(headerLen) {
		start = appendHeader(nil) // the header itself was torn: nothing was recorded
	}
	if err := cutTorn(path, f, st); err != nil {
		return nil, nil, err
	}
	started := time.Now().UTC()
	start = appendRecord(start, &Record{Kind: KindStart, At: started, Identity: &runID})
	if err := writeSync(f, start); err != nil {
		return nil, nil, fmt.Errorf("append to journal %s: %w", path, err)
	}
	w := newWriter(path, f, st.Size+int64(len(start)), st.Horizon, opt)
	w.started = started
	return w, st, nil
}

// lockAndLoad locks the journal f, opened at path, for this process and reads its state.
func lockAndLoad(path string, f *os.File) (*State, error) {
	if err := lockFile(f); err != nil {
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return load(f, fi.Size(), path)
}

// cutTorn cuts the torn tail Load found in f, if any, so that what is appended next follows
// the intact records: bytes before an intact record would read as damage.
func cutTorn(path string, f *os.File, st *State) error {
	if st.Torn == nil {
		return nil
	}
	if err := f.Truncate(st.Size); err != nil {
		return fmt.Errorf("cut torn tail of journal %s: %w", path, err)
	}
	return nil
}

// reportRecord is the record that the campaign's report is at report, with the journal at
// journal: both made absolute and resolved through directory links (a path through a link
// that is later pointed elsewhere, "current" -> next month's directory, would name another
// campaign's files).
func reportRecord(report, journal string) (*Record, error) {
	r, err := ResolvedPath(report)
	if err != nil {
		return nil, fmt.Errorf("journal: report path: %w", err)
	}
	j, err := ResolvedPath(journal)
	if err != nil {
		return nil, fmt.Errorf("journal: journal path: %w", err)
	}
	return &Record{Kind: KindReport, At: time.Now().UTC(), Report: r, JournalAt: j}, nil
}

// ResolvedPath is path made absolute, its directory resolved through links when it exists.
func ResolvedPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	return abs, nil
}

// bareErr is err without the path an *fs.PathError repeats (the message names the journal).
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func writeSync(f *os.File, b []byte) error {
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Sync()
}

// syncDir makes the names in dir durable. A variable, so that a test can make it fail.
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, fs.ErrInvalid) {
		return err // some platforms cannot fsync a directory; there is nothing more to do there
	}
	return nil
}

// newWriter starts the disk goroutine for f, which holds size durable bytes and continues a
// campaign whose crashed runs may have submitted rows up to horizon.
func newWriter(path string, f *os.File, size int64, horizon int, opt Options) *Writer {
	w := &Writer{
		path:        path,
		f:           f,
		opt:         opt.withDefaults(),
		kick:        make(chan struct{}, 1),
		urgent:      make(chan struct{}, 1),
		receipts:    make(chan struct{}, 1),
		stop:        make(chan struct{}),
		closeCh:     make(chan struct{}),
		batch:       newBatch(),
		durable:     horizon,
		durableSize: size,
		asked:       horizon,
		lead:        minLead,
	}
	w.space = sync.NewCond(&w.mu)
	w.wg.Add(1)
	go w.run()
	return w
}

// Path is the journal's file name.
func (w *Writer) Path() string { return w.path }

// Started is the time this run's start record gives: what a report rebuilt later takes for
// the run's start.
func (w *Writer) Started() time.Time { return w.started }

// Attempt records that part (0-based) of row, planned at at, is about to be submitted (the
// record keeps the time too). Call it right before writing the submit_sm, and do not write it
// if Attempt fails.
//
// Attempt does not wait for the disk, so a crash can lose the record of a submit that went
// out. To keep that from hiding the row, the journal also records a horizon: a durable promise
// that this run submits no row above some number. A row above the durable horizon waits for a
// new horizon record to reach the disk; the horizon is extended ahead of time, by a lead that
// adapts to the send rate (16 to 16384 rows), so in steady state nothing waits. After a crash,
// rows up to the horizon with no record are MaybeSent. This assumes rows are attempted in
// roughly ascending order, as a campaign sends them; otherwise it is only slower.
func (w *Writer) Attempt(row, part int, at time.Time) error {
	_, err := w.AttemptSent(row, part, at)
	return err
}

// AttemptSent is Attempt, and returns the send time the record gives (see Row.EarliestSend),
// for the caller's own ledger to take the same.
func (w *Writer) AttemptSent(row, part int, at time.Time) (sent time.Time, err error) {
	if err := checkRowPart(row, part); err != nil {
		return time.Time{}, fmt.Errorf("journal attempt: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for {
		if err := w.waitSpace(); err != nil {
			return time.Time{}, err
		}
		if row > w.asked-w.lead/2 {
			w.asked = min(row+w.lead, maxRow)
			w.askedIn = w.batch
			w.batch.horizon = w.asked
			w.appendLocked(&Record{Kind: KindHorizon, At: at, Row: w.asked})
			w.signal(w.urgent)
		}
		if row <= w.durable {
			break
		}
		b := w.askedIn
		if w.grownFor != b {
			// We had to wait: look further ahead next time. Once per horizon waited for,
			// not per sender waiting for it: a hundred senders starting together would
			// otherwise push the lead to its maximum, and the horizon with it, so that a
			// crash would make thousands of rows never sent look maybe sent.
			w.lead = min(w.lead*2, maxLead)
			w.grownFor = b
		}
		w.mu.Unlock()
		<-b.done
		w.mu.Lock()
	}
	w.attemptsSeen++
	// Sent is now, past any wait for the horizon, right before the caller writes the submit:
	// a receipt that came earlier cannot be about it (see report's matching).
	sent = time.Now()
	w.appendLocked(&Record{Kind: KindAttempt, At: at, Sent: sent, Row: row, Part: part})
	return sent, nil
}

// Accepted records a submit_sm_resp with status 0 for part of row, with its message id as the
// SMSC sent it. A late response for a part that was already accepted adds a second id.
func (w *Writer) Accepted(row, part int, messageID string, at time.Time) error {
	if err := checkRowPart(row, part); err != nil {
		return fmt.Errorf("journal accepted: %w", err)
	}
	return w.add(&Record{Kind: KindAccepted, At: at, Row: row, Part: part, MessageID: messageID})
}

// Rejected records that row ended without being accepted; errText is what the report shows.
func (w *Writer) Rejected(row int, errText string, at time.Time) error {
	if err := checkRowPart(row, 0); err != nil {
		return fmt.Errorf("journal rejected: %w", err)
	}
	return w.add(&Record{Kind: KindRejected, At: at, Row: row, Err: errText})
}

// Resubmitted records that part of row is being sent again after an attempt whose outcome is
// unknown (connection lost or response timed out), so the report can mark the row
// resubmitted even after a resume. Call it before the new Attempt.
func (w *Writer) Resubmitted(row, part int, at time.Time) error {
	if err := checkRowPart(row, part); err != nil {
		return fmt.Errorf("journal resubmitted: %w", err)
	}
	return w.add(&Record{Kind: KindResubmitted, At: at, Row: row, Part: part})
}

// NotAccepted records that no attempt of part of row so far can have been accepted: the SMSC
// refused the last one with an error status (throttled, or a transient error to retry) or it
// was never written, and none had an unknown outcome. A resume then sends the row as never
// sent instead of marking it resubmitted. The next Attempt for the part cancels it.
func (w *Writer) NotAccepted(row, part int, at time.Time) error {
	if err := checkRowPart(row, part); err != nil {
		return fmt.Errorf("journal not accepted: %w", err)
	}
	return w.add(&Record{Kind: KindNotAccepted, At: at, Row: row, Part: part})
}

// Report records where this run writes the campaign's report (made absolute; see
// State.ReportPath) and returns once the record is durable. Call it at the start of the run,
// before anything is sent, so that the next run checks its --report against it.
func (w *Writer) Report(path string) error {
	rec, err := reportRecord(path, w.path)
	if err != nil {
		return err
	}
	if err := w.add(rec); err != nil {
		return err
	}
	return w.Sync()
}

// Receipt records a delivery receipt and returns only once it is durable, so that the caller
// can then acknowledge it (deliver_sm_resp): the SMSC resends a receipt that a crash kept us
// from acknowledging, and forgets one we did.
func (w *Writer) Receipt(r smpp.Receipt, at time.Time) error {
	errc := make(chan error, 1)
	w.receipt(r, at, func(err error) { errc <- err }, true)
	return <-errc
}

// ReceiptThen is Receipt without the wait: it buffers the record and returns, and done is
// called exactly once, with nil once the receipt is durable or with the reason it is not.
// The batch goes to disk within Options.SyncInterval, so that the receipts arriving in that
// time share one fsync, and no goroutine waits for each. done runs on the disk goroutine (or
// on the caller's, when the record cannot be buffered): it must return quickly and must not
// wait for this Writer.
func (w *Writer) ReceiptThen(r smpp.Receipt, at time.Time, done func(error)) {
	w.receipt(r, at, done, false)
}

// receipt buffers a receipt record and calls done after its batch; urgent starts the batch at
// once rather than within SyncInterval.
func (w *Writer) receipt(r smpp.Receipt, at time.Time, done func(error), urgent bool) {
	w.mu.Lock()
	if err := w.addLocked(&Record{Kind: KindReceipt, At: at, Receipt: r}); err != nil {
		w.mu.Unlock()
		done(err)
		return
	}
	w.batch.then = append(w.batch.then, done)
	switch {
	case urgent:
		w.signal(w.urgent)
	case len(w.batch.then) == 1:
		w.signal(w.receipts)
	}
	w.mu.Unlock()
}

// Sync returns once every record added before it is durable.
func (w *Writer) Sync() error {
	w.mu.Lock()
	if err := w.usable(); err != nil {
		w.mu.Unlock()
		return err
	}
	b := w.writing
	if len(w.buf) > 0 {
		b = w.batch
		w.signal(w.urgent)
	}
	w.mu.Unlock()
	if b == nil {
		return nil
	}
	<-b.done
	return b.err
}

// Close writes a clean-end marker, waits until everything is durable, stops the disk goroutine
// and closes the file. It returns the first write error, if any. Calls after the first return
// the same result.
func (w *Writer) Close() error {
	err := w.Finish()
	w.fileOnce.Do(func() {
		if cerr := w.f.Close(); cerr != nil {
			w.fileErr = fmt.Errorf("close journal %s: %w", w.path, cerr)
		}
	})
	if err == nil {
		err = w.fileErr
	}
	return err
}

// Finish ends the run's records as Close does (the end record on disk), but keeps the
// journal open and locked: the run can then record the report it writes (ReportWritten)
// before Close lets another run (smscast receipts from cron) open the journal and find a
// report that no record vouches for. Records after Finish fail; Close must still be called.
func (w *Writer) Finish() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.closeCh
		return w.closeEr
	}
	if w.err == nil {
		// No horizon may outlive a clean end: the marker says every attempt before it is on
		// disk, so rows without a record were not sent by this run.
		w.appendLocked(&Record{Kind: KindEnd, At: time.Now().UTC()})
	}
	w.closed = true
	w.space.Broadcast()
	w.mu.Unlock()

	close(w.stop)
	w.wg.Wait()
	w.closeEr = w.err
	close(w.closeCh)
	return w.closeEr
}

// ReportWritten records, between Finish and Close, that the run writes the campaign's report
// at report with the size and modification time of fi: a later run can tell that file from
// one another campaign wrote there since (see State.ReportModTime). Called with the written
// temporary file just before it is renamed to report (a rename keeps both), the record is
// durable before the file is in place: a crash in between leaves the report as it was,
// which the previous record vouches for (State.PrevReportModTime).
func (w *Writer) ReportWritten(report string, fi fs.FileInfo) error {
	if err := w.Finish(); err != nil {
		return err // the records before failed: the record could follow a hole
	}
	rec, err := reportRecord(report, w.path)
	if err != nil {
		return err
	}
	rec.ReportSize, rec.ReportModTime = fi.Size(), fi.ModTime().UnixNano()
	if err := writeSync(w.f, appendRecord(nil, rec)); err != nil {
		return fmt.Errorf("append to journal %s: %w", w.path, err)
	}
	return nil
}

// add buffers one record.
func (w *Writer) add(r *Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.addLocked(r)
}

// addLocked buffers r. w.mu is held.
func (w *Writer) addLocked(r *Record) error {
	if err := w.waitSpace(); err != nil {
		return err
	}
	w.appendLocked(r)
	return nil
}

// waitSpace waits while the buffer is full, and reports a closed or failed writer. w.mu is
// held (and released while waiting).
func (w *Writer) waitSpace() error {
	for {
		if err := w.usable(); err != nil {
			return err
		}
		if len(w.buf) < w.opt.MaxBuffered {
			return nil
		}
		w.signal(w.urgent)
		w.space.Wait()
	}
}

// appendLocked encodes r into the buffer and wakes the disk goroutine. w.mu is held.
func (w *Writer) appendLocked(r *Record) {
	if len(w.buf) == 0 {
		w.signal(w.kick)
	}
	w.buf = appendRecord(w.buf, r)
	if len(w.buf) >= w.opt.BatchBytes {
		w.signal(w.urgent)
	}
}

func (w *Writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return fmt.Errorf("journal %s: %w", w.path, ErrClosed)
	}
	return nil
}

func (w *Writer) signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// run is the disk goroutine: it alone writes and fsyncs the file.
func (w *Writer) run() {
	defer w.wg.Done()
	var out []byte
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			w.flush(&out)
			return
		}
		select {
		case <-w.urgent:
		default:
			w.gather(timer)
		}
		w.flush(&out)
	}
}

// gather lets more records join the batch before it is written: until SyncInterval has
// passed, or, while a few receipts wait for it (ReceiptThen), until no record came for
// ReceiptQuiet; at once when someone needs the batch (urgent) or the writer stops. Only a
// batch with receipts is looked at more than once, and a stream of them at most a few times,
// because every look is a timer wake-up.
func (w *Writer) gather(timer *time.Timer) {
	deadline := time.Now().Add(w.opt.SyncInterval)
	seen := -1 // buffered bytes at the last look
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			return
		}
		w.mu.Lock()
		size, waiting := len(w.buf), len(w.batch.then)
		w.mu.Unlock()
		if waiting > 0 && waiting < quietReceipts {
			if size == seen {
				return // quiet: the SMSC may be waiting for these answers
			}
			wait = min(wait, w.opt.ReceiptQuiet)
		}
		seen = size
		timer.Reset(wait)
		select {
		case <-w.urgent:
			timer.Stop()
			return
		case <-w.stop:
			timer.Stop()
			return
		case <-w.receipts:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// flush takes the buffer, writes and fsyncs it, and releases the batch's waiters. out is the
// disk goroutine's spare buffer, swapped with w.buf so neither is reallocated.
func (w *Writer) flush(out *[]byte) {
	w.mu.Lock()
	if len(w.buf) == 0 {
		w.mu.Unlock()
		return
	}
	b := w.batch
	*out, w.buf = w.buf, (*out)[:0]
	w.batch = newBatch()
	w.writing = b
	// Adapt the horizon lead to what one batch holds: a few batches ahead is enough for the
	// next horizon record to become durable before any sender reaches it.
	w.lead = min(max(w.lead/2, 4*w.attemptsSeen, minLead), maxLead)
	w.attemptsSeen = 0
	failed := w.err
	w.space.Broadcast()
	w.mu.Unlock()

	err := failed
	if err == nil {
		if _, werr := w.f.Write(*out); werr != nil {
			err = fmt.Errorf("journal %s: write: %w (the campaign must stop: outcomes can no longer be recorded)", w.path, bareErr(werr))
		} else if serr := w.f.Sync(); serr != nil {
			err = fmt.Errorf("journal %s: fsync: %w (the campaign must stop: outcomes can no longer be recorded)", w.path, bareErr(serr))
		} else {
			w.syncs.Add(1)
		}
	}

	w.mu.Lock()
	if err != nil && w.err == nil {
		w.err = err
	}
	if err == nil {
		w.durableSize += int64(len(*out))
		w.durable = max(w.durable, b.horizon)
	}
	w.writing = nil
	w.mu.Unlock()
	b.err = err
	close(b.done)
	for _, done := range b.then {
		done(err)
	}
}
