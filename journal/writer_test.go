package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func createTemp(t *testing.T, opt Options) (*Writer, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "campaign.journal")
	w, err := Create(path, testIdentity(), opt)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return w, path
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWriter_EveryMethodRoundTrips(t *testing.T) {
	w, path := createTemp(t, Options{})
	must(t, w.Attempt(1, 0, t0))
	must(t, w.Accepted(1, 0, "msg-1", t0.Add(time.Millisecond)))
	must(t, w.Attempt(2, 0, t0))
	must(t, w.Rejected(2, "0x0000000B ESME_RINVDSTADR", t0))
	must(t, w.Resubmitted(3, 1, t0))
	must(t, w.Receipt(testReceipt("msg-1"), t0.Add(time.Second)))
	must(t, w.Close())

	recs, torn := readRecords(t, path)
	if torn != nil {
		t.Fatalf("torn tail after Close: %v", torn)
	}
	want := []Kind{KindStart, KindHorizon, KindAttempt, KindAccepted, KindAttempt, KindRejected,
		KindResubmitted, KindReceipt, KindEnd}
	if got := kinds(recs); !reflect.DeepEqual(got, want) {
		t.Fatalf("kinds = %v, want %v", got, want)
	}
	if id := testIdentity(); recs[0].Identity.Sum() != id.Sum() {
		t.Errorf("start record identity = %v, want %v", recs[0].Identity, id)
	}
	if r := recs[3]; r.Row != 1 || r.Part != 0 || r.MessageID != "msg-1" || !r.At.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("accepted record = %+v", r)
	}
	if r := recs[5]; r.Row != 2 || r.Err != "0x0000000B ESME_RINVDSTADR" {
		t.Errorf("rejected record = %+v", r)
	}
	if r := recs[6]; r.Row != 3 || r.Part != 1 {
		t.Errorf("resubmitted record = %+v", r)
	}
	if r := recs[7]; !reflect.DeepEqual(r.Receipt, testReceipt("msg-1")) {
		t.Errorf("receipt = %+v, want %+v", r.Receipt, testReceipt("msg-1"))
	}
	if recs[1].Row < 2 {
		t.Errorf("horizon %d does not cover the attempted rows", recs[1].Row)
	}
}

func TestWriter_ConcurrentCallsAllRecorded(t *testing.T) {
	// A short batch size forces many batches while the goroutines race.
	w, path := createTemp(t, Options{BatchBytes: 512, MaxBuffered: 2048})
	const goroutines, perG = 8, 250
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perG {
				row := 1 + i*goroutines + g
				if err := w.Attempt(row, 0, t0); err != nil {
					errs <- err
					return
				}
				if err := w.Accepted(row, 0, fmt.Sprintf("id-%d", row), t0); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	must(t, w.Close())

	st, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Clean || st.Torn != nil {
		t.Errorf("Clean = %v, Torn = %v; want a clean journal", st.Clean, st.Torn)
	}
	if len(st.Rows) != goroutines*perG {
		t.Fatalf("%d rows recorded, want %d", len(st.Rows), goroutines*perG)
	}
	for row := 1; row <= goroutines*perG; row++ {
		r := st.Rows[row]
		if st.Status(row, 1) != Accepted || r.Parts[0].Attempts != 1 || r.Parts[0].MessageIDs[0] != fmt.Sprintf("id-%d", row) {
			t.Fatalf("row %d: status %v, record %+v", row, st.Status(row, 1), r)
		}
	}
}

// TestWriter_ReceiptDurableOnReturn shows both halves of group commit: with a sync interval
// far beyond the test's life, attempts stay buffered (they do not wait for the disk), and a
// receipt does not return before it, and everything buffered before it, is in the file as
// another reader sees it.
func TestWriter_ReceiptDurableOnReturn(t *testing.T) {
	w, path := createTemp(t, Options{SyncInterval: time.Hour})
	defer w.Close()
	must(t, w.Attempt(1, 0, t0)) // the first attempt waits for its horizon record only
	must(t, w.Attempt(2, 0, t0))
	must(t, w.Accepted(2, 0, "id-2", t0))
	recs, _ := readRecords(t, path)
	if got := kinds(recs); !reflect.DeepEqual(got, []Kind{KindStart, KindHorizon}) {
		t.Fatalf("before the receipt the file holds %v; want only the start and horizon records", got)
	}

	must(t, w.Receipt(testReceipt("id-2"), t0))
	recs, torn := readRecords(t, path)
	want := []Kind{KindStart, KindHorizon, KindAttempt, KindAttempt, KindAccepted, KindReceipt}
	if got := kinds(recs); !reflect.DeepEqual(got, want) || torn != nil {
		t.Fatalf("after Receipt returned the file holds %v (torn %v), want %v", got, torn, want)
	}

	must(t, w.Attempt(3, 0, t0))
	must(t, w.Sync())
	if recs, _ := readRecords(t, path); recs[len(recs)-1].Kind != KindAttempt || recs[len(recs)-1].Row != 3 {
		t.Fatalf("after Sync the last record is %+v, want the attempt of row 3", recs[len(recs)-1])
	}
}

func TestWriter_ConcurrentReceiptsAreDurable(t *testing.T) {
	w, path := createTemp(t, Options{SyncInterval: time.Hour})
	defer w.Close()
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Receipt(testReceipt(fmt.Sprintf("id-%d", i)), t0); err != nil {
				errs <- err
				return
			}
			// Read the file from another handle: the receipt must be there.
			found := false
			_, err := Replay(path, func(r Record) error {
				found = found || r.Kind == KindReceipt && r.Receipt.ID == fmt.Sprintf("id-%d", i)
				return nil
			})
			if err != nil || !found {
				errs <- fmt.Errorf("receipt %d not in the file after Receipt returned (err %v)", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestWriter_ReceiptThen checks the callback form of Receipt: it returns without waiting,
// each done is called exactly once, and when it is called with nil the receipt is in the file;
// a receipt offered after Close gets the error through done. The sync interval is an hour and
// fewer than quietReceipts receipts wait, so only the quiet rule (no record for ReceiptQuiet)
// can start the batch.
func TestWriter_ReceiptThen(t *testing.T) {
	w, path := createTemp(t, Options{SyncInterval: time.Hour})
	const n = quietReceipts - 1
	calls := make(chan int, 2*n)
	problems := make(chan error, n)
	for i := range n {
		id := fmt.Sprintf("id-%d", i)
		w.ReceiptThen(testReceipt(id), t0, func(err error) {
			calls <- i
			if err != nil {
				problems <- fmt.Errorf("receipt %s: %w", id, err)
				return
			}
			found := false
			_, rerr := Replay(path, func(r Record) error {
				found = found || r.Kind == KindReceipt && r.Receipt.ID == id
				return nil
			})
			if rerr != nil || !found {
				problems <- fmt.Errorf("receipt %s not in the file when done was called (err %v)", id, rerr)
			}
		})
	}
	seen := make(map[int]int)
	for range n {
		select {
		case i := <-calls:
			seen[i]++
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d ReceiptThen callbacks after 10 s", len(seen), n)
		}
	}
	must(t, w.Close())
	close(calls)
	for i := range calls {
		seen[i]++
	}
	for i := range n {
		if seen[i] != 1 {
			t.Errorf("done of receipt %d called %d times, want once", i, seen[i])
		}
	}
	close(problems)
	for err := range problems {
		t.Error(err)
	}

	var afterClose error
	w.ReceiptThen(testReceipt("late"), t0, func(err error) { afterClose = err })
	if !errors.Is(afterClose, ErrClosed) {
		t.Errorf("ReceiptThen after Close: done got %v, want ErrClosed", afterClose)
	}
}

// TestWriter_ReceiptThenStream: receipts arriving faster than they are answered (more than
// quietReceipts waiting) share batches of SyncInterval; every one becomes durable, and a
// receipt offered after an Accepted record opened the batch still goes out on the quiet rule.
func TestWriter_ReceiptThenStream(t *testing.T) {
	w, _ := createTemp(t, Options{SyncInterval: 5 * time.Millisecond})
	defer w.Close()
	const n = 500
	done := make(chan error, n)
	for i := range n {
		w.ReceiptThen(testReceipt(fmt.Sprintf("id-%d", i)), t0, func(err error) { done <- err })
	}
	for i := range n {
		select {
		case err := <-done:
			must(t, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d receipts durable after 10 s", i, n)
		}
	}

	slow, _ := createTemp(t, Options{SyncInterval: time.Hour})
	defer slow.Close()
	must(t, slow.Accepted(1, 0, "msg-1", t0)) // opens a batch that would wait an hour
	one := make(chan error, 1)
	slow.ReceiptThen(testReceipt("after-accepted"), t0, func(err error) { one <- err })
	select {
	case err := <-one:
		must(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("a receipt behind an Accepted record waited for the sync interval, not for quiet")
	}
}

// TestWriter_ReceiptThenOneAtATime is an SMSC that sends the next receipt only once the last
// one is answered: with a sync interval of an hour, each must still become durable (after
// ReceiptQuiet), or such an SMSC would stall.
func TestWriter_ReceiptThenOneAtATime(t *testing.T) {
	w, _ := createTemp(t, Options{SyncInterval: time.Hour})
	defer w.Close()
	for i := range 20 {
		done := make(chan error, 1)
		w.ReceiptThen(testReceipt(fmt.Sprintf("id-%d", i)), t0, func(err error) { done <- err })
		select {
		case err := <-done:
			must(t, err)
		case <-time.After(10 * time.Second):
			t.Fatalf("receipt %d not durable after 10 s", i)
		}
	}
}

func TestWriter_CallsAfterClose(t *testing.T) {
	w, _ := createTemp(t, Options{})
	must(t, w.Close())
	if err := w.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	for name, err := range map[string]error{
		"Attempt":  w.Attempt(1, 0, t0),
		"Accepted": w.Accepted(1, 0, "x", t0),
		"Receipt":  w.Receipt(testReceipt("x"), t0),
		"Sync":     w.Sync(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

func TestWriter_RejectsOutOfRange(t *testing.T) {
	w, _ := createTemp(t, Options{})
	defer w.Close()
	if err := w.Attempt(-1, 0, t0); !errors.Is(err, errRange) {
		t.Errorf("Attempt(-1, 0) = %v, want out of range", err)
	}
	if err := w.Accepted(1, 255, "x", t0); !errors.Is(err, errRange) {
		t.Errorf("Accepted(1, 255) = %v, want out of range", err)
	}
}

// An existing journal is never overwritten; the error tells an earlier campaign's (resume
// it) from one that a process is writing now (whose file must not be removed).
func TestCreate_RefusesExistingFile(t *testing.T) {
	w, path := createTemp(t, Options{})
	_, err := Create(path, testIdentity(), Options{})
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "another smscast process is running now") {
		t.Errorf("Create over a journal in use = %v, want fs.ErrExist saying a process runs it", err)
	}
	must(t, w.Close())
	if _, err := Create(path, testIdentity(), Options{}); !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "resume that campaign") {
		t.Errorf("Create over an earlier journal = %v, want fs.ErrExist and advice to resume it", err)
	}
}

// A journal whose creation failed is removed, also when only its directory could not be
// synced: nothing was sent, and the file would make the next run's Create refuse ("already
// exists: resume that campaign").
func TestCreate_FailureLeavesNoFile(t *testing.T) {
	orig := syncDir
	t.Cleanup(func() { syncDir = orig })
	syncDir = func(string) error { return errors.New("injected: directory not synced") }
	path := filepath.Join(t.TempDir(), "c.journal")
	if _, err := Create(path, testIdentity(), Options{}); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Create with the directory sync failing = %v, want that error", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after the failed Create the journal is still there (%v)", err)
	}
	syncDir = orig
	w, err := Create(path, testIdentity(), Options{})
	if err != nil {
		t.Fatalf("the next Create = %v, want a new journal", err)
	}
	must(t, w.Close())
}

func TestOpen_LockedWhileWriterOpen(t *testing.T) {
	w, path := createTemp(t, Options{})
	defer w.Close()
	if _, _, err := Open(path, nil, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("Open while a writer has the journal = %v, want ErrLocked", err)
	}
}

func TestOpen_ContinuesCampaign(t *testing.T) {
	w, path := createTemp(t, Options{})
	must(t, w.Attempt(1, 0, t0))
	must(t, w.Accepted(1, 0, "id-1", t0))
	must(t, w.Attempt(2, 0, t0))
	must(t, w.Close())

	id := testIdentity()
	w2, st, err := Open(path, &id, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if st.Status(1, 1) != Accepted || st.Status(2, 1) != InFlight || st.Status(3, 1) != NotSent || st.Runs != 1 || !st.Clean {
		t.Errorf("state: row1 %v row2 %v row3 %v, runs %d, clean %v", st.Status(1, 1), st.Status(2, 1), st.Status(3, 1), st.Runs, st.Clean)
	}
	must(t, w2.Attempt(2, 0, t0))
	must(t, w2.Accepted(2, 0, "id-2", t0))
	must(t, w2.Close())

	st, err = Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Runs != 2 || st.Status(2, 1) != Accepted {
		t.Errorf("after the second run: runs %d, row 2 %v", st.Runs, st.Status(2, 1))
	}
}

func TestOpen_RefusesChangedCampaign(t *testing.T) {
	w, path := createTemp(t, Options{})
	must(t, w.Attempt(1, 0, t0))
	must(t, w.Close())
	before, err := os.ReadFile(path)
	must(t, err)

	changed := testIdentity()
	changed.SetOption("from", "ACME2")
	_, _, err = Open(path, &changed, Options{})
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Changes) != 1 {
		t.Fatalf("Open with a changed option = %v, want a *MismatchError with one change", err)
	}
	after, err := os.ReadFile(path)
	must(t, err)
	if string(before) != string(after) {
		t.Error("a refused Open changed the journal")
	}

	// Collecting late receipts continues under the journal's own identity.
	w2, _, err := Open(path, nil, Options{})
	if err != nil {
		t.Fatalf("Open(nil identity): %v", err)
	}
	must(t, w2.Close())
}

// The report path is recorded absolute and durable; a check of the caller's refuses an Open
// with the file untouched; a run records the report it has written, wherever it went, with
// ReportWritten before it releases the journal.
func TestReportPath_RecordedCheckedAppended(t *testing.T) {
	w, path := createTemp(t, Options{})
	t.Chdir(filepath.Dir(path))
	must(t, w.Report("out.csv"))
	if st, err := Load(path); err != nil || st.ReportPath != filepath.Join(filepath.Dir(path), "out.csv") || st.ReportJournal != path {
		t.Fatalf("before Close: ReportPath %q, ReportJournal %q (%v), want the absolute paths of out.csv and the journal, durable at once",
			st.ReportPath, st.ReportJournal, err)
	}
	must(t, w.Close())
	before, err := os.ReadFile(path)
	must(t, err)

	refused := errors.New("not this campaign's report")
	var seen string
	_, _, err = OpenChecked(path, nil, func(st *State) error { seen = st.ReportPath; return refused }, Options{})
	if !errors.Is(err, refused) {
		t.Fatalf("OpenChecked with a refusing check = %v, want its error", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) || seen == "" {
		t.Errorf("a refused OpenChecked changed the journal, or the check saw no report path (%q)", seen)
	}

	// A run records the report it wrote between Finish and Close, while it still holds the
	// journal: no other run can open it and find a report that no record vouches for.
	w2, _, err := Open(path, nil, Options{})
	must(t, err)
	must(t, w2.Finish())
	if err := w2.Attempt(1, 0, time.Now()); err == nil {
		t.Error("a record after Finish was accepted")
	}
	if _, _, err := Open(path, nil, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("Open between Finish and Close = %v, want ErrLocked", err)
	}
	if _, err := LoadFactsIdle(path); !errors.Is(err, ErrLocked) {
		t.Errorf("LoadFactsIdle between Finish and Close = %v, want ErrLocked", err)
	}
	if st, err := LoadFacts(path); err != nil || st.Runs != 2 {
		t.Errorf("LoadFacts between Finish and Close = %v, %v; want the facts of 2 runs", st, err)
	}
	// The record is written before the report is put in place, with the facts of the
	// written file (a rename keeps them).
	first := filepath.Join(t.TempDir(), "first.csv")
	must(t, os.WriteFile(first, []byte("row\n"), 0o600))
	firstFI, err := os.Stat(first)
	must(t, err)
	must(t, w2.ReportWritten("../elsewhere/out-2.csv", firstFI))
	must(t, w2.Close())
	st, err := Load(path)
	must(t, err)
	if want := filepath.Join(filepath.Dir(filepath.Dir(path)), "elsewhere", "out-2.csv"); st.ReportPath != want || !st.Clean || st.Runs != 2 ||
		st.ReportSize != 4 || st.ReportModTime != firstFI.ModTime().UnixNano() || st.PrevReportModTime != 0 {
		t.Errorf("after ReportWritten: ReportPath %q (want %q), clean %v, runs %d, size %d, time %d, previous time %d",
			st.ReportPath, want, st.Clean, st.Runs, st.ReportSize, st.ReportModTime, st.PrevReportModTime)
	}
	recordRun := func(report string, fi os.FileInfo) {
		w, _, err := Open(path, nil, Options{})
		must(t, err)
		must(t, w.ReportWritten(report, fi))
		must(t, w.Close())
	}

	// Through a directory link, the link's target: pointing the link elsewhere later (a
	// "current" link moved on to next month's campaign) cannot change whose report it is.
	target, link := t.TempDir(), filepath.Join(t.TempDir(), "current")
	must(t, os.Symlink(target, link))
	recordRun(filepath.Join(link, "out.csv"), firstFI)
	st, err = Load(path)
	must(t, err)
	resolved, err := filepath.EvalSymlinks(target)
	must(t, err)
	if want := filepath.Join(resolved, "out.csv"); st.ReportPath != want {
		t.Errorf("through a link: ReportPath %q, want %q", st.ReportPath, want)
	}
	// A later write: its size and modification time, and the write before as the previous
	// ones (the report as it stays if the run dies between the record and the rename).
	written := filepath.Join(t.TempDir(), "written.csv")
	must(t, os.WriteFile(written, []byte("row\n1\n"), 0o600))
	fi, err := os.Stat(written)
	must(t, err)
	recordRun(written, fi)
	if st, err = Load(path); err != nil || st.ReportSize != 6 || st.ReportModTime != fi.ModTime().UnixNano() || !st.Clean ||
		st.PrevReportSize != 4 || st.PrevReportModTime != firstFI.ModTime().UnixNano() {
		t.Errorf("after writing: size %d, time %d, previous %d/%d, clean %v (%v); want 6, %d, previous 4/%d, clean",
			st.ReportSize, st.ReportModTime, st.PrevReportSize, st.PrevReportModTime, st.Clean, err, fi.ModTime().UnixNano(), firstFI.ModTime().UnixNano())
	}
	// LoadFacts reads the same without the rows, and LoadFactsIdle too once no run has it.
	facts, err := LoadFacts(path)
	must(t, err)
	if idle, err := LoadFactsIdle(path); err != nil || !reflect.DeepEqual(idle, facts) {
		t.Errorf("LoadFactsIdle = %+v, %v; want LoadFacts's", idle, err)
	}
	if r, err := LoadFacts(path); err != nil || r.ReportPath != st.ReportPath || r.ReportJournal != st.ReportJournal ||
		r.Runs != st.Runs || !reflect.DeepEqual(r.Identity, st.Identity) ||
		r.ReportSize != st.ReportSize || r.ReportModTime != st.ReportModTime || r.PrevReportModTime != st.PrevReportModTime ||
		len(r.RunStarts) != 1 || !r.RunStarts[0].Equal(st.RunStarts[0]) {
		t.Errorf("LoadFacts = %+v, %v; want the identity, runs, report fields and first start of Load's %+v", r, err, st)
	}
}

// TestWriter_CrashNeverHidesASubmittedRow is the guarantee --resume relies on. After each
// Attempt returns (the moment the row could go out), a crash keeps at least the bytes fsynced
// so far. For such crash images taken throughout a run, every row attempted so far must be
// something resume will not treat as unsent.
func TestWriter_CrashNeverHidesASubmittedRow(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			w, path := createTemp(t, Options{SyncInterval: 200 * time.Microsecond})
			const rows = 1200
			type snapshot struct{ row, durable int64 }
			var (
				mu     sync.Mutex
				snaps  []snapshot
				next   = 1
				failed error
				wg     sync.WaitGroup
			)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						mu.Lock()
						row := next
						next++
						mu.Unlock()
						if row > rows {
							return
						}
						if err := w.Attempt(row, 0, t0); err != nil {
							mu.Lock()
							failed = err
							mu.Unlock()
							return
						}
						w.mu.Lock()
						durable := w.durableSize
						w.mu.Unlock()
						mu.Lock()
						snaps = append(snaps, snapshot{int64(row), durable})
						mu.Unlock()
						if row%3 == 0 {
							w.Accepted(row, 0, "id", t0)
						}
					}
				}()
			}
			wg.Wait()
			must(t, failed)
			must(t, w.Close())
			data, err := os.ReadFile(path)
			must(t, err)

			// Crash images are bounded in number: every 40th attempt.
			for i := 0; i < len(snaps); i += 40 {
				s := snaps[i]
				st, err := load(bytes.NewReader(data[:s.durable]), s.durable, "crash image")
				if err != nil {
					t.Fatalf("crash image of %d bytes: %v", s.durable, err)
				}
				// Every row whose Attempt returned while at most s.durable bytes were durable
				// had its horizon within those bytes.
				for _, prior := range snaps {
					if prior.durable > s.durable {
						continue
					}
					if got := st.Status(int(prior.row), 1); got == NotSent {
						t.Fatalf("crash image of %d durable bytes: row %d, attempted when %d bytes were durable, is %v; resume would send it as new",
							s.durable, prior.row, prior.durable, got)
					}
				}
			}
		})
	}
}

// TestWriter_WriteFailureSticks: once a write fails, nothing more may be recorded as if it
// had worked, and waiters are released with the error instead of hanging.
func TestWriter_WriteFailureSticks(t *testing.T) {
	w, _ := createTemp(t, Options{})
	w.f.Close() // the disk goroutine's next write fails
	err := w.Receipt(testReceipt("x"), t0)
	if err == nil || !strings.Contains(err.Error(), "the campaign must stop") {
		t.Fatalf("Receipt after a failed write = %v, want the write error", err)
	}
	if err2 := w.Attempt(1, 0, t0); err2 != err {
		t.Errorf("Attempt after a failed write = %v, want the same error %v", err2, err)
	}
	if err2 := w.Accepted(1, 0, "x", t0); err2 != err {
		t.Errorf("Accepted after a failed write = %v, want the same error", err2)
	}
	if err2 := w.Close(); err2 != err {
		t.Errorf("Close after a failed write = %v, want the same error", err2)
	}
}

// A hundred senders starting at once (a window of 50 on two binds) all wait for the first
// horizon: that is one wait, and must widen the lead once, not a hundred times. Otherwise the
// horizon jumps to the maximum lead, and a crash soon after would have --resume take
// thousands of rows that were never sent for maybe-sent ones, resending them as
// "resubmitted".
func TestWriter_HorizonStaysNearTheSending(t *testing.T) {
	w, path := createTemp(t, Options{})
	const start = 100
	var wg sync.WaitGroup
	errs := make(chan error, start)
	for row := 1; row <= start; row++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- w.Attempt(row, 0, t0)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	must(t, w.Sync())
	data, err := os.ReadFile(path) // a crash image: no clean end
	must(t, err)
	must(t, w.Close())
	st, err := load(bytes.NewReader(data), int64(len(data)), "crash image")
	must(t, err)
	if st.Horizon < start || st.Horizon > start+1024 {
		t.Errorf("horizon %d after attempts up to row %d: want it at most 1024 rows ahead", st.Horizon, start)
	}
}

// Two runs creating the same journal at once: exactly one gets it, whatever the timing (the
// loser's check whether the file is in use once made the winner's lock fail, and both failed,
// leaving an empty file that blocked the next run).
func TestCreate_RaceHasOneWinner(t *testing.T) {
	dir := t.TempDir()
	for i := range 200 {
		path := filepath.Join(dir, fmt.Sprintf("j%d.journal", i))
		var wg sync.WaitGroup
		results := make(chan *Writer, 2)
		for range 2 {
			wg.Go(func() {
				w, _ := Create(path, testIdentity(), Options{})
				results <- w
			})
		}
		wg.Wait()
		close(results)
		won := 0
		for w := range results {
			if w != nil {
				won++
				must(t, w.Close())
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d of 2 concurrent Creates succeeded, want exactly 1", i, won)
		}
		if _, err := Load(path); err != nil {
			t.Fatalf("round %d: the winner's journal does not load: %v", i, err)
		}
	}
}

// Another run opening the new journal in the moment between its creation and its lock (a
// --resume or receipts run started at that instant) keeps it: Create fails without removing
// the file the other run holds and writes.
func TestCreate_KeepsAJournalAnotherRunOpened(t *testing.T) {
	dir := t.TempDir()
	for i := range 30 {
		path := filepath.Join(dir, fmt.Sprintf("j%d.journal", i))
		var stop atomic.Bool
		var mu sync.Mutex
		var opened *Writer
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() {
				for n := 0; !stop.Load() && n < 1_000_000; n++ {
					w, _, err := Open(path, nil, Options{})
					if err == nil {
						mu.Lock()
						if opened == nil {
							opened, w = w, nil
						}
						mu.Unlock()
						if w != nil {
							w.Close()
						}
						return
					}
					if !errors.Is(err, fs.ErrNotExist) {
						return
					}
				}
			})
		}
		cw, cerr := Create(path, testIdentity(), Options{})
		stop.Store(true)
		wg.Wait()
		if cw != nil {
			must(t, cw.Close())
		}
		if opened != nil {
			if _, err := os.Stat(path); cerr != nil && err != nil {
				t.Fatalf("round %d: Create failed (%v) and removed the journal another run has open", i, cerr)
			}
			must(t, opened.Close())
		}
	}
}
