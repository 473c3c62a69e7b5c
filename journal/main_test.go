package journal

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"smscast/smpp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is a fixed instant with nanoseconds, so that time round trips are exact.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func testIdentity() Identity {
	var id Identity
	id.SetOption("from", "ACME")
	id.SetOption("encoding", "auto")
	id.AddBytes("recipients", "recipients.csv", []byte("msisdn,template\n+31612345678,t1\n"))
	id.AddBytes("templates", "templates.csv", []byte("id,text\nt1,Hello\n"))
	return id
}

func testReceipt(id string) smpp.Receipt {
	return smpp.Receipt{
		ID: id, Sub: "001", Dlvrd: "001",
		SubmitDate: time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC),
		DoneDate:   time.Date(2025, 3, 14, 9, 27, 0, 0, time.UTC),
		Stat:       "DELIVRD", State: smpp.StateDelivered, Err: "000",
		NetworkError: []byte{0x03, 0x00, 0x00},
		Text:         "Hello ☺ wörld",
	}
}

// encodeFile builds a journal file image from records, as a writer would have written them.
func encodeFile(recs ...Record) []byte {
	b := appendHeader(nil)
	for i := range recs {
		b = appendRecord(b, &recs[i])
	}
	return b
}

func writeTemp(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "campaign.journal")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readRecords replays path and returns its records and torn tail, failing on an error.
func readRecords(t *testing.T, path string) ([]Record, *TornTail) {
	t.Helper()
	var recs []Record
	torn, err := Replay(path, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	return recs, torn
}

func kinds(recs []Record) []Kind {
	ks := make([]Kind, len(recs))
	for i, r := range recs {
		ks[i] = r.Kind
	}
	return ks
}
