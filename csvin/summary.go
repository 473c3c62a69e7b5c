package csvin

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Summary counts the rows of a plan, or of `send --dry-run`, for a summary a person can read
// at a glance. The zero value is an empty summary; Add every row, then Write.
type Summary struct {
	Rows      int `json:"rows"`
	OK        int `json:"ok"`
	Invalid   int `json:"invalid"`
	Duplicate int `json:"duplicate"`
	Excluded  int `json:"excluded"`
	// InvalidBy counts invalid rows by kind ("invalid number", "empty value", ...: the
	// messages of the Err variables).
	InvalidBy map[string]int `json:"invalid_by,omitempty"`
	// Encodings counts valid rows by encoding name (gsm7, ucs2, latin1).
	Encodings map[string]int `json:"encodings,omitempty"`
	// PartsPerMessage counts valid rows by their number of parts.
	PartsPerMessage map[int]int `json:"parts_per_message,omitempty"`
	// Senders counts valid rows by sender as sent ("" for the SMSC's default), the first
	// maxSenders senders; OtherSenders counts the rows of all the others.
	Senders      map[string]int `json:"senders,omitempty"`
	OtherSenders int            `json:"other_senders,omitempty"`
	// Parts is the submit_sm PDUs of all valid rows; SMS the SMS they make, what carriers
	// bill: the same, except with --split payload, where the SMSC splits each message.
	Parts int `json:"parts"`
	SMS   int `json:"sms"`
	// Transliterated counts valid rows whose text --transliterate changed, and SavedParts the
	// parts that saved.
	Transliterated int `json:"transliterated"`
	SavedParts     int `json:"saved_parts"`
}

// Add counts one row.
func (s *Summary) Add(r Row) {
	s.Rows++
	switch r.Status {
	case StatusOK:
		s.OK++
		if s.Encodings == nil {
			s.Encodings = make(map[string]int)
			s.PartsPerMessage = make(map[int]int)
		}
		sms := max(r.Message.SMS, len(r.Message.Parts)) // a Message not made by SplitText has no SMS
		s.addSender(r.From)
		s.Encodings[r.Message.Encoding.String()]++
		s.PartsPerMessage[sms]++
		s.Parts += len(r.Message.Parts)
		s.SMS += sms
		if r.Transliterated {
			s.Transliterated++
			s.SavedParts += r.SavedParts
		}
	case StatusInvalid:
		s.Invalid++
		if s.InvalidBy == nil {
			s.InvalidBy = make(map[string]int)
		}
		kind := "other"
		if k := Kind(r.Err); k != nil {
			kind = k.Error()
		}
		s.InvalidBy[kind]++
	case StatusDuplicate:
		s.Duplicate++
	case StatusExcluded:
		s.Excluded++
	}
}

// maxSenders bounds the senders a Summary counts one by one: a campaign with a sender per
// row would otherwise keep them all.
const maxSenders = 20

func (s *Summary) addSender(from string) {
	if s.Senders == nil {
		s.Senders = make(map[string]int)
	}
	if _, ok := s.Senders[from]; ok || len(s.Senders) < maxSenders {
		s.Senders[from]++
		return
	}
	s.OtherSenders++
}

// Estimate says how Write estimates cost and duration.
type Estimate struct {
	// PricePerPart is the price of one part (submit_sm) in any currency; 0 leaves out the cost.
	PricePerPart float64
	// Rate is parts per second (what --rate paces); 0 leaves out the duration.
	Rate float64
}

// histogramWidth is the longest bar of the parts histogram, in characters.
const histogramWidth = 40

// factWidth is the usual width of a summary line up to the end of its number: a 20-character
// label column, a space and a 12-character number column. A label too long for its line (an
// invalid reason such as "wrong number of fields" next to a wide number) widens every line.
const factWidth = 20 + 1 + 12

// Write prints the summary, one fact per line, numbers aligned.
func (s *Summary) Write(w io.Writer, e Estimate) error {
	// Lines are collected first: the label column is as wide as the longest label.
	type fact struct{ label, value, note, raw string }
	var facts []fact
	line := func(label, value, note string) { facts = append(facts, fact{label: label, value: value, note: note}) }
	raw := func(format string, args ...any) { facts = append(facts, fact{raw: fmt.Sprintf(format, args...)}) }
	line("rows", group(s.Rows), "")
	line("  ok", group(s.OK), "will be sent")
	line("  invalid", group(s.Invalid), invalidNote(s.Invalid))
	for _, k := range sortedKeys(s.InvalidBy, func(a, b string) bool { return s.InvalidBy[a] > s.InvalidBy[b] }) {
		line("    "+k, group(s.InvalidBy[k]), "")
	}
	line("  duplicate", group(s.Duplicate), "skipped: same number as an earlier row")
	line("  excluded", group(s.Excluded), "skipped: on the opt-out list")
	if s.OK > 0 {
		raw("encodings")
		for _, name := range sortedKeys(s.Encodings, func(a, b string) bool { return s.Encodings[a] > s.Encodings[b] }) {
			line("  "+name, group(s.Encodings[name]), "")
		}
		// The senders are shown because a wrong one goes to every recipient: a column named
		// from that holds something else, a template's from that overrides --from.
		raw("senders")
		for _, from := range sortedKeys(s.Senders, func(a, b string) bool { return s.Senders[a] > s.Senders[b] || (s.Senders[a] == s.Senders[b] && a < b) }) {
			label := from
			if from == "" {
				label = "(none: the SMSC's default)"
			}
			line("  "+shown(label), group(s.Senders[from]), "")
		}
		if s.OtherSenders > 0 {
			line("  other senders", group(s.OtherSenders), "")
		}
		raw("parts per message")
		most := 0
		for _, n := range s.PartsPerMessage {
			most = max(most, n)
		}
		for _, parts := range sortedKeys(s.PartsPerMessage, func(a, b int) bool { return a < b }) {
			n := s.PartsPerMessage[parts]
			bar := strings.Repeat("#", max(1, n*histogramWidth/most))
			raw("  %3d %-*s %12s", parts, histogramWidth, bar, group(n))
		}
	}
	if s.SMS == s.Parts {
		line("total parts", group(s.Parts), "submit_sm PDUs: what the carrier bills")
	} else {
		line("total parts", group(s.Parts), "submit_sm PDUs (--split payload: the SMSC splits each message)")
		line("SMS", group(s.SMS), "what the handsets receive and the carrier bills")
	}
	if s.Transliterated > 0 {
		line("transliterated", group(s.Transliterated), fmt.Sprintf("rows with look-alikes replaced, saving %s parts", group(s.SavedParts)))
	}
	if e.PricePerPart > 0 {
		cost := float64(s.SMS) * e.PricePerPart
		line("estimated cost", groupFloat(cost),
			fmt.Sprintf("%s parts × %s (--price-per-part)", group(s.SMS), strconv.FormatFloat(e.PricePerPart, 'f', -1, 64)))
	}
	if e.Rate > 0 {
		d := time.Duration(float64(s.Parts) / e.Rate * float64(time.Second))
		if d >= time.Second {
			d = d.Round(time.Second)
		} else {
			d = d.Round(time.Millisecond)
		}
		line("estimated time", d.String(), fmt.Sprintf("at %s parts/s (--rate), without retries", strconv.FormatFloat(e.Rate, 'f', -1, 64)))
	}
	width := factWidth
	for _, f := range facts {
		if f.raw == "" {
			width = max(width, utf8.RuneCountInString(f.label)+1+utf8.RuneCountInString(f.value))
		}
	}
	var b strings.Builder
	for _, f := range facts {
		if f.raw != "" {
			b.WriteString(f.raw + "\n")
			continue
		}
		fmt.Fprintf(&b, "%s%*s", f.label, width-utf8.RuneCountInString(f.label), f.value)
		if f.note != "" {
			b.WriteString("  " + f.note)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func invalidNote(n int) string {
	if n == 0 {
		return ""
	}
	return "not sent: see the reasons above and in the plan"
}

// sortedKeys returns the keys of m in the order less gives, ties by key.
func sortedKeys[K int | string, V any](m map[K]V, less func(a, b K) bool) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int {
		switch {
		case less(a, b):
			return -1
		case less(b, a):
			return 1
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	return keys
}

// groupFloat writes f with two decimals and thousands separators: 62,935.85.
func groupFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	n, err := strconv.Atoi(whole)
	if err != nil {
		return s // beyond int: leave it plain
	}
	return group(n) + "." + frac
}

// group writes n with thousands separators: 1,234,567.
func group(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + group(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
