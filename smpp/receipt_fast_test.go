package smpp

import (
	"reflect"
	"testing"
	"time"
)

// standardReceiptSeeds are receipts in and just outside the App. B layout that
// parseStandardReceipt reads.
var standardReceiptSeeds = []struct {
	in       string
	standard bool // the fast path takes it
}{
	{receiptText, true},
	{"id:0000029095 sub:001 dlvrd:000 submit date:0610191018 done date:0610191018 stat:UNDELIV err:000 Text:", true},
	{"ID:A1 SUB:001 DLVRD:001 SUBMIT DATE:2503141530 DONE DATE:2503141531 STAT:delivrd ERR:000 TEXT:Hi", true},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", true},
	{"id:1 sub:001 dlvrd:001 submit date:2513141530 done date:12 stat:WEIRD err:21b text:", true},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:EXPIRED err:000 text:Hi\x00", true},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000 text:id:2 stat:UNDELIV", true},
	{"id:x-submit sub:001 dlvrd:done submit date:2503141530 done date:2503141531 stat:DELIVRD err:text text:", true},
	// Outside the layout: the tolerant parser reads these.
	{"id:1 sub:001 dlvrd:001 submit_date:2503141530 done date:2503141531 stat:DELIVRD err:000 text:", false},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000\x00", false},
	{"id:1  sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", false},
	{"id:1 2 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", false},
	{"id:1 sub: dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", false},
	{"id:a:b sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", false},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000 text:Hi", true},
	{"id:1 sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000 txt:Hi", false},
	{"id:é sub:001 dlvrd:001 submit date:2503141530 done date:2503141531 stat:DELIVRD err:000", false},
	{"stat:DELIVRD id:1", false},
	{"id:1 stat:DELIVRD", false},
	{"", false},
}

// TestParseStandardReceipt: the fast path takes exactly the App. B layout and gives the same
// receipt as the tolerant parser.
func TestParseStandardReceipt(t *testing.T) {
	for _, tt := range standardReceiptSeeds {
		fast, ok := parseStandardReceipt(tt.in)
		if ok != tt.standard {
			t.Errorf("parseStandardReceipt(%q) took it: %v, want %v", tt.in, ok, tt.standard)
		}
		if !ok {
			continue
		}
		slow, err := parseReceiptTolerant(tt.in)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Errorf("%q:\nfast     %+v\ntolerant %+v, %v", tt.in, fast, slow, err)
		}
	}
	// The simulator's own form, for every state.
	for st := StateScheduled; st <= StateSkipped; st++ {
		text := FormatReceiptText(Receipt{ID: "5f1e0b7a", State: st, SubmitDate: time.Date(2025, 3, 14, 15, 30, 0, 0, time.UTC),
			DoneDate: time.Date(2025, 3, 14, 15, 31, 0, 0, time.UTC), Text: "Hello world, this is longer than twenty"})
		fast, ok := parseStandardReceipt(text)
		slow, err := parseReceiptTolerant(text)
		if !ok || err != nil || !reflect.DeepEqual(fast, slow) || fast.State != st {
			t.Errorf("%q: fast %+v (%v), tolerant %+v (%v)", text, fast, ok, slow, err)
		}
	}
}

// FuzzParseStandardReceipt: whatever the fast path accepts, the tolerant parser reads
// identically, so ParseReceiptText means the same with or without it.
func FuzzParseStandardReceipt(f *testing.F) {
	for _, s := range standardReceiptSeeds {
		f.Add(s.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseStandardReceipt(s)
		if !ok {
			return
		}
		slow, err := parseReceiptTolerant(s)
		if err != nil || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nfast     %+v\ntolerant %+v, %v", s, fast, slow, err)
		}
	})
}

// BenchmarkParseReceiptText: the standard layout (fast path) and a variant only the tolerant
// parser reads. Goal for the standard layout: no allocation.
func BenchmarkParseReceiptText(b *testing.B) {
	for _, c := range []struct{ name, text string }{
		{"standard", receiptText},
		{"tolerant", "ID:5f1e0b7a SUB:001 DLVRD:001 SUBMIT_DATE:2503141530 DONE_DATE:2503141531 STAT:DELIVRD ERR:000 TEXT:Hello"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseReceiptText(c.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAppendReceiptText: appending gives FormatReceiptText's text after what dst held, for
// every state and with defaults, dates and a long text.
func TestAppendReceiptText(t *testing.T) {
	for st := StateScheduled; st <= StateSkipped; st++ {
		r := Receipt{ID: "a1", State: st, DoneDate: time.Date(2025, 3, 14, 15, 31, 0, 0, time.FixedZone("x", 3600)),
			Text: "Привет, this is longer than twenty"}
		want := FormatReceiptText(r)
		if got := string(AppendReceiptText([]byte("prefix"), r)); got != "prefix"+want {
			t.Errorf("AppendReceiptText = %q, want prefix + %q", got, want)
		}
	}
}

// BenchmarkAppendReceiptText is the simulator's cost per receipt text. Goal: no allocation.
func BenchmarkAppendReceiptText(b *testing.B) {
	r := Receipt{ID: "5f1e0b7a", State: StateDelivered, SubmitDate: time.Now(), DoneDate: time.Now(), Text: "Hello world, welcome to smscast"}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReceiptText(buf[:0], r)
	}
}
