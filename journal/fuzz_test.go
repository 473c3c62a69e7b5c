package journal

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// FuzzReplay feeds arbitrary bytes to the reader. It must never panic or allocate without
// bound; whatever it accepts must re-encode to records that decode the same; a torn tail must
// lie within the input; and Load must agree with Replay.
func FuzzReplay(f *testing.F) {
	// The seeds live in testdata/fuzz/FuzzReplay: a valid journal with every record kind of
	// the first release, torn at the tail and in the header, zero-padded, damaged, and of a
	// newer version; and one with the kinds added since (not accepted, report).
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []Record
		torn, err := replay(bytes.NewReader(data), int64(len(data)), "fuzz", func(r Record) error {
			recs = append(recs, r)
			return nil
		})
		if err != nil {
			var ce *CorruptError
			var ve *VersionError
			if !errors.As(err, &ce) && !errors.As(err, &ve) && !errors.Is(err, ErrNotJournal) {
				t.Fatalf("unexpected kind of error: %v", err)
			}
			if ce != nil && (ce.Offset < headerLen || ce.Offset >= int64(len(data))) {
				t.Fatalf("corruption at byte %d outside the records of a %d-byte file", ce.Offset, len(data))
			}
			return
		}
		if torn != nil && (torn.Offset < 0 || torn.Offset+torn.Size != int64(len(data))) {
			t.Fatalf("torn tail %+v does not end the %d-byte input", torn, len(data))
		}
		for _, r := range recs {
			again := encodeFile(r)
			var back Record
			if _, err := replay(bytes.NewReader(again), int64(len(again)), "again", func(x Record) error {
				back = x
				return nil
			}); err != nil {
				t.Fatalf("re-encoded %+v does not decode: %v", r, err)
			}
			back.Offset = r.Offset
			if !reflect.DeepEqual(back, r) {
				t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", back, r)
			}
		}
		st, err := load(bytes.NewReader(data), int64(len(data)), "fuzz")
		if err != nil {
			t.Fatalf("Load failed where Replay succeeded: %v", err)
		}
		if st.Size > int64(len(data)) || (torn == nil) != (st.Torn == nil) {
			t.Fatalf("Load: size %d of %d, torn %v vs %v", st.Size, len(data), st.Torn, torn)
		}
	})
}
