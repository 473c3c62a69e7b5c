package report

import (
	"testing"
	"time"

	"smscast/smpp"
)

func TestBook_Matches(t *testing.T) {
	b := NewBook(Options{})
	b.Add(Entry{Row: 1, MSISDN: "491711", Parts: 1})
	now := time.Now()
	r := smpp.Receipt{ID: "1f", Stat: "DELIVRD", State: smpp.StateDelivered}
	if b.Matches(r, now) {
		t.Fatal("a receipt matches before its id was accepted")
	}
	b.Accepted(1, 0, "1f", now)
	tests := []struct {
		id   string
		want bool
	}{
		{"1f", true},
		{"31", true}, // the same id in decimal (auto id format)
		{"2a", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := b.Matches(smpp.Receipt{ID: tt.id}, now); got != tt.want {
			t.Errorf("Matches(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
	if n := len(b.Unmatched()); n != 0 {
		t.Errorf("Matches recorded %d unmatched receipts; it must record nothing", n)
	}
	if b.Pending() != 1 {
		t.Errorf("pending %d after Matches, want 1: it must not apply the receipt", b.Pending())
	}
}
