package journal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleFile is a journal whose last record is a receipt (the longest kind), returned with
// the offset of each record.
func sampleFile(t *testing.T) ([]byte, []int64) {
	t.Helper()
	id := testIdentity()
	data := encodeFile(
		Record{Kind: KindStart, At: t0, Identity: &id},
		Record{Kind: KindHorizon, At: t0, Row: 20},
		Record{Kind: KindAttempt, At: t0, Row: 1},
		Record{Kind: KindAccepted, At: t0, Row: 1, MessageID: "id-1"},
		Record{Kind: KindAttempt, At: t0, Row: 2},
		Record{Kind: KindReceipt, At: t0, Receipt: testReceipt("id-1")},
	)
	var offs []int64
	_, err := replay(bytes.NewReader(data), int64(len(data)), "sample", func(r Record) error {
		offs = append(offs, r.Offset)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return data, offs
}

func TestReplay_TornTailAtEveryOffsetIsCut(t *testing.T) {
	data, offs := sampleFile(t)
	last := offs[len(offs)-1]
	if n := int64(len(data)) - last; n > 200 {
		t.Fatalf("last record is %d bytes; the loop below is meant to stay small", n)
	}
	for cut := last + 1; cut < int64(len(data)); cut++ {
		t.Run(fmt.Sprintf("cut=%d", cut), func(t *testing.T) {
			path := writeTemp(t, data[:cut])
			recs, torn := readRecords(t, path)
			if torn == nil || torn.Offset != last || torn.Size != cut-last {
				t.Fatalf("torn = %+v, want offset %d size %d", torn, last, cut-last)
			}
			if len(recs) != len(offs)-1 {
				t.Fatalf("%d records before the torn tail, want %d", len(recs), len(offs)-1)
			}
			if !strings.Contains(torn.String(), fmt.Sprintf("byte %d", last)) {
				t.Errorf("warning %q does not name byte %d", torn.String(), last)
			}

			// Open cuts the tail and appends after the intact records.
			w, st, err := Open(path, nil, Options{})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if st.Torn == nil || st.Size != last || st.Status(2, 1) != InFlight {
				t.Errorf("state: torn %v, size %d, row 2 %v", st.Torn, st.Size, st.Status(2, 1))
			}
			must(t, w.Close())
			recs, torn = readRecords(t, path)
			if torn != nil {
				t.Fatalf("after Open and Close the file still has a torn tail: %v", torn)
			}
			want := []Kind{KindStart, KindHorizon, KindAttempt, KindAccepted, KindAttempt, KindStart, KindEnd}
			if got := kinds(recs); !reflect.DeepEqual(got, want) {
				t.Errorf("after Open and Close: %v, want %v", got, want)
			}
		})
	}
}

func TestReplay_TornTailOfJunk(t *testing.T) {
	data, offs := sampleFile(t)
	badChecksum := appendRecord(nil, &Record{Kind: KindEnd, At: t0}) // complete, but one bit off
	badChecksum[len(badChecksum)-1] ^= 1
	for name, tail := range map[string][]byte{
		"zeros":           make([]byte, 4096), // a file extended but not written before a crash
		"one byte":        {0x42},
		"huge length":     {0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5},
		"bad checksum":    badChecksum,
		"length past end": binary.LittleEndian.AppendUint32(nil, 100),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeTemp(t, append(bytes.Clone(data), tail...))
			recs, torn := readRecords(t, path)
			if torn == nil || torn.Offset != int64(len(data)) || len(recs) != len(offs) {
				t.Errorf("torn = %+v after %d records, want a torn tail at %d after %d", torn, len(recs), len(data), len(offs))
			}
		})
	}
}

func TestReplay_TornHeader(t *testing.T) {
	data, _ := sampleFile(t)
	for cut := 0; cut < headerLen; cut++ {
		path := writeTemp(t, data[:cut])
		recs, torn := readRecords(t, path)
		if torn == nil || torn.Offset != 0 || len(recs) != 0 {
			t.Fatalf("cut %d: torn %+v, %d records; want a torn tail at 0", cut, torn, len(recs))
		}
		id := testIdentity()
		w, st, err := Open(path, &id, Options{})
		if err != nil {
			t.Fatalf("cut %d: Open: %v", cut, err)
		}
		must(t, w.Close())
		if st.Runs != 0 {
			t.Errorf("cut %d: %d runs in a torn header", cut, st.Runs)
		}
		if recs, torn := readRecords(t, path); torn != nil || !reflect.DeepEqual(kinds(recs), []Kind{KindStart, KindEnd}) {
			t.Errorf("cut %d: after Open: %v, torn %v", cut, kinds(recs), torn)
		}
	}
}

func TestReplay_CorruptionBeforeTheTailNamesTheByte(t *testing.T) {
	data, offs := sampleFile(t)
	// Damage every byte of a middle record (the first accepted response): its length, its
	// checksum and its body.
	victim, end := offs[3], offs[4]
	for at := victim; at < end; at++ {
		damaged := bytes.Clone(data)
		damaged[at] ^= 0x55
		path := writeTemp(t, damaged)
		_, err := Replay(path, func(Record) error { return nil })
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Offset != victim {
			t.Fatalf("byte %d damaged: Replay = %v, want a *CorruptError at %d", at, err, victim)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("byte %d", victim)) {
			t.Errorf("error %q does not name byte %d", err, victim)
		}
		if _, _, err := Open(path, nil, Options{}); !errors.As(err, &ce) {
			t.Fatalf("Open of a damaged journal = %v, want *CorruptError", err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, damaged) {
			t.Fatal("Open changed a damaged journal")
		}
	}
}

func TestReplay_ValidChecksumUnknownKindIsCorruption(t *testing.T) {
	data, _ := sampleFile(t)
	// A well-framed record of an unknown kind, as a newer writer might add.
	body := []byte{99, 0, 0}
	frame := binary.LittleEndian.AppendUint32(nil, uint32(len(body)))
	frame = binary.LittleEndian.AppendUint32(frame, crcOf(frame, body))
	data = append(data, append(frame, body...)...)
	_, err := Replay(writeTemp(t, data), func(Record) error { return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "unknown record kind 99") {
		t.Errorf("Replay = %v, want *CorruptError naming the unknown kind", err)
	}
}

func TestReplay_HeaderErrors(t *testing.T) {
	data, _ := sampleFile(t)
	withVersion := func(v uint32) []byte {
		d := bytes.Clone(data)
		binary.LittleEndian.PutUint32(d[len(Magic):], v)
		return d
	}
	tests := []struct {
		name  string
		data  []byte
		check func(error) bool
		text  string
	}{
		{"newer version", withVersion(2), func(err error) bool { var ve *VersionError; return errors.As(err, &ve) && ve.Version == 2 }, "newer smscast"},
		{"version 0", withVersion(0), func(err error) bool { var ve *VersionError; return errors.As(err, &ve) }, "version 0"},
		{"not a journal", []byte("msisdn,template\n+31612345678,t1\n"), func(err error) bool { return errors.Is(err, ErrNotJournal) }, "not an smscast journal"},
		{"short and not a journal", []byte("msisdn"), func(err error) bool { return errors.Is(err, ErrNotJournal) }, "not an smscast journal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Replay(writeTemp(t, tt.data), func(Record) error { return nil })
			if !tt.check(err) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Replay = %v, want an error saying %q", err, tt.text)
			}
		})
	}
}

func TestReplay_StopsOnCallbackError(t *testing.T) {
	data, _ := sampleFile(t)
	stop := errors.New("stop")
	n := 0
	_, err := Replay(writeTemp(t, data), func(Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("Replay = %v after %d records, want the callback's error after 2", err, n)
	}
}

// TestReplay_CraftedTailIsBounded: bytes crafted so that every other offset looks like the
// start of a half-megabyte record would make the search for intact records after damage
// checksum terabytes; it gives up after scanBudget and refuses the file instead.
func TestReplay_CraftedTailIsBounded(t *testing.T) {
	data := append(appendHeader(nil), bytes.Repeat([]byte{byte(KindEnd), 0}, 1<<20)...)
	_, err := Replay(writeTemp(t, data), func(Record) error { return nil })
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Offset != headerLen || !strings.Contains(err.Error(), "too costly to check") {
		t.Errorf("Replay = %v, want a *CorruptError at byte %d that gave up checking", err, headerLen)
	}
}

// CheckHeader tells a journal from another file by its first bytes alone.
func TestCheckHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "j")
	w, err := Create(path, Identity{}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"empty": "", "torn header": Magic[:3], "csv": "msisdn\n+4917112345678\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, notJournal := range map[string]bool{"j": false, "empty": false, "torn header": false, "csv": true} {
		err := CheckHeader(filepath.Join(dir, name))
		if got := errors.Is(err, ErrNotJournal); got != notJournal || !notJournal && err != nil {
			t.Errorf("%s: CheckHeader = %v, want not a journal: %v", name, err, notJournal)
		}
	}
}
