package smpp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MessageState is the state of a submitted message: the message_state TLV, query_sm_resp's
// field and, as a word, a receipt's stat (SMPP.md §6.7).
type MessageState uint8

// Message states; the comment gives the receipt stat word.
const (
	StateScheduled     MessageState = 0 // SCHEDULED (v5.0; 3.4 SMSCs say ENROUTE)
	StateEnroute       MessageState = 1 // ENROUTE
	StateDelivered     MessageState = 2 // DELIVRD
	StateExpired       MessageState = 3 // EXPIRED
	StateDeleted       MessageState = 4 // DELETED
	StateUndeliverable MessageState = 5 // UNDELIV
	StateAccepted      MessageState = 6 // ACCEPTD
	StateUnknown       MessageState = 7 // UNKNOWN
	StateRejected      MessageState = 8 // REJECTD
	StateSkipped       MessageState = 9 // SKIPPED (v5.0)
)

var stateStats = [...]string{"SCHEDULED", "ENROUTE", "DELIVRD", "EXPIRED", "DELETED", "UNDELIV",
	"ACCEPTD", "UNKNOWN", "REJECTD", "SKIPPED"}

// Stat returns the receipt stat word of s, e.g. "DELIVRD", "UNDELIV"; values beyond
// StateSkipped return "UNKNOWN".
func (s MessageState) Stat() string {
	if int(s) < len(stateStats) {
		return stateStats[s]
	}
	return "UNKNOWN"
}

// String returns Stat.
func (s MessageState) String() string { return s.Stat() }

// Final reports whether no further receipt is expected for the message. ENROUTE, SCHEDULED
// and ACCEPTD are not final: ACCEPTD is final in the spec, but SMSCs send it as an early
// intermediate receipt (jasmin #885; Kannel maps it to "buffered") and a DELIVRD or UNDELIV
// may follow. UNKNOWN is final, as Kannel treats it.
func (s MessageState) Final() bool {
	switch s {
	case StateScheduled, StateEnroute, StateAccepted:
		return false
	}
	return true
}

// statStates maps stat words, including the non-standard ones real SMSCs send (SMPP.md §8),
// to a state. Words meaning "still on its way" (BUFFRED, ACKED, ...) map to StateEnroute.
var statStates = map[string]MessageState{
	"SCHEDULED": StateScheduled, "SCHEDUL": StateScheduled,
	"ENROUTE": StateEnroute, "BUFFRED": StateEnroute, "BUFFERED": StateEnroute, "BUFFERD": StateEnroute,
	"ACKED": StateEnroute, "SENT": StateEnroute, "PENDING": StateEnroute,
	"DELIVRD": StateDelivered, "DELIVERED": StateDelivered,
	"EXPIRED": StateExpired,
	"DELETED": StateDeleted,
	"UNDELIV": StateUndeliverable, "UNDELIVERABLE": StateUndeliverable, "UNDELIVERED": StateUndeliverable,
	"FAILED":  StateUndeliverable,
	"ACCEPTD": StateAccepted, "ACCEPTED": StateAccepted,
	"UNKNOWN": StateUnknown,
	"REJECTD": StateRejected, "REJECTED": StateRejected,
	"SKIPPED": StateSkipped,
}

// Receipt is a parsed delivery receipt. Strings are as the SMSC sent them: the id is never
// normalised (use SameMessageID or MessageIDKeys to match it).
type Receipt struct {
	ID         string    // the submit_sm_resp message_id this receipt is for
	Sub, Dlvrd string    // sub: and dlvrd: counts as sent ("001"); "" when absent
	SubmitDate time.Time // submit date, UTC as written (receipts carry no zone); zero when absent or invalid
	DoneDate   time.Time // done date (when the state was reached); zero when absent or invalid
	// Stat is the upper-case stat word as sent, e.g. "DELIVRD", "BUFFRED"; when the
	// message_state TLV disagrees with the text (or there is no text), it is the TLV's word.
	Stat         string
	State        MessageState // Stat as a state; non-standard pending words are StateEnroute
	Err          string       // err: as sent, any length ("000", "0", "21b"); "" when absent
	NetworkError []byte       // network_error_code TLV: network type, then a 2-octet code; nil when absent
	Text         string       // text: (the first characters of the message); "" when absent
}

// ErrNotReceipt reports text or a PDU that carries no receipt id.
var ErrNotReceipt = errors.New("not a delivery receipt: no message id (neither receipted_message_id nor id:)")

// ErrNoReceiptState reports a receipt with an id but neither a stat word nor message_state.
var ErrNoReceiptState = errors.New("delivery receipt has no state (neither stat: nor message_state)")

type receiptLabel int

const (
	labelID receiptLabel = iota
	labelSub
	labelDlvrd
	labelSubmitDate
	labelDoneDate
	labelStat
	labelErr
	labelText
	numLabels
)

// labelWords spells each label; two-word labels may be joined by spaces or underscores (or
// GSM's '_' at 0x11, for receipts sent as unpacked GSM 7-bit).
var labelWords = [numLabels][]string{
	labelID: {"id"}, labelSub: {"sub"}, labelDlvrd: {"dlvrd"}, labelSubmitDate: {"submit", "date"},
	labelDoneDate: {"done", "date"}, labelStat: {"stat"}, labelErr: {"err"}, labelText: {"text"},
}

// ParseReceiptText parses the text form of a receipt (SMPP.md §8; [S34] App. B):
//
//	id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
//
// It tolerates the variations real SMSCs send: labels in any case and order, found anywhere;
// "submit_date" for "submit date"; 10-, 12- and 14-digit dates (a 12-digit date starting "20"
// whose positions 3–4 are not a month is YYYYMMDDhhmm); missing sub, dlvrd, text or dates; err
// of any length; a stat word without its "stat:" label; non-standard stat words (BUFFRED,
// ACKED, ... are pending). text: runs to the end of the string once an id or stat has been
// seen, since the message text may itself contain "id:" or "err:".
//
// A text without an id gives ErrNotReceipt, one without a state ErrNoReceiptState; the
// fields found are returned in both cases, so TLVs can complete them.
func ParseReceiptText(text string) (Receipt, error) {
	if r, ok := parseStandardReceipt(text); ok {
		return r, nil
	}
	return parseReceiptTolerant(text)
}

// standardLabels are the labels of the App. B layout in order, each but the first after a
// single space: the form FormatReceiptText writes and most SMSCs send.
var standardLabels = [...]string{labelID: "id:", labelSub: " sub:", labelDlvrd: " dlvrd:",
	labelSubmitDate: " submit date:", labelDoneDate: " done date:", labelStat: " stat:",
	labelErr: " err:", labelText: " text:"}

// parseStandardReceipt is ParseReceiptText's fast path, for receipts in exactly the App. B
// layout (labels in any ASCII case, text: optional) whose values are single words of
// printable ASCII without ':'. Such a value can neither hide a label nor leave stray words,
// so the tolerant parser would read the text the same way; anything else reports false and
// goes to it. A receipt costs no allocation here, against one per word there.
func parseStandardReceipt(text string) (Receipt, bool) {
	var vals [labelText]string
	rest := text
	for l := range vals {
		label := standardLabels[l]
		if len(rest) < len(label) || !equalFoldASCII(rest[:len(label)], label) {
			return Receipt{}, false
		}
		rest = rest[len(label):]
		n := 0
		for n < len(rest) && rest[n] > ' ' && rest[n] < 0x7F && rest[n] != ':' {
			n++
		}
		if n == 0 {
			return Receipt{}, false
		}
		vals[l], rest = rest[:n], rest[n:]
	}
	var r Receipt
	switch label := standardLabels[labelText]; {
	case rest == "":
	case len(rest) >= len(label) && equalFoldASCII(rest[:len(label)], label):
		r.Text = strings.TrimFunc(rest[len(label):], isReceiptSpace)
	default:
		return Receipt{}, false
	}
	r.ID, r.Sub, r.Dlvrd, r.Err = vals[labelID], vals[labelSub], vals[labelDlvrd], vals[labelErr]
	r.SubmitDate = parseReceiptDate(vals[labelSubmitDate])
	r.DoneDate = parseReceiptDate(vals[labelDoneDate])
	r.Stat = strings.ToUpper(vals[labelStat]) // no copy when already upper case
	r.State = stateOfStat(r.Stat)
	return r, true
}

// equalFoldASCII reports whether s equals the lower-case ASCII label, ignoring ASCII case.
func equalFoldASCII(s, label string) bool {
	for i := 0; i < len(label); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != label[i] {
			return false
		}
	}
	return true
}

// parseReceiptTolerant is ParseReceiptText's general parser.
func parseReceiptTolerant(text string) (Receipt, error) {
	var r Receipt
	var found [numLabels]bool
	var stray []string // words outside any label's first token: a stat word may hide there

	cur, valStart := receiptLabel(-1), 0
	take := func(end int) {
		words := strings.FieldsFunc(text[valStart:end], isReceiptSpace)
		if cur < 0 || found[cur] {
			stray = append(stray, words...)
			return
		}
		found[cur] = true
		if cur == labelText {
			r.Text = strings.TrimFunc(text[valStart:end], isReceiptSpace)
			return
		}
		if len(words) == 0 {
			return
		}
		v := words[0]
		stray = append(stray, words[1:]...)
		switch cur {
		case labelID:
			r.ID = v
		case labelSub:
			r.Sub = v
		case labelDlvrd:
			r.Dlvrd = v
		case labelSubmitDate:
			r.SubmitDate = parseReceiptDate(v)
		case labelDoneDate:
			r.DoneDate = parseReceiptDate(v)
		case labelStat:
			r.Stat = strings.ToUpper(v)
		case labelErr:
			r.Err = v
		}
	}
	for i := 0; i < len(text); i++ {
		if i > 0 && isWordByte(text[i-1]) {
			continue
		}
		l, end, ok := matchLabel(text, i)
		if !ok {
			continue
		}
		take(i)
		cur, valStart = l, end
		if l == labelText && !found[labelText] && (found[labelID] || found[labelStat]) {
			break // the message text runs to the end
		}
		i = end - 1
	}
	take(len(text))

	if !found[labelStat] || r.Stat == "" {
		for _, w := range stray {
			if _, ok := statStates[strings.ToUpper(w)]; ok {
				r.Stat = strings.ToUpper(w)
				break
			}
		}
	}
	r.State = stateOfStat(r.Stat)
	switch {
	case r.ID == "":
		// Keep what arrived, so that the warning and the unmatched file show it.
		r.Text = text
		return r, ErrNotReceipt
	case r.Stat == "":
		return r, ErrNoReceiptState
	}
	return r, nil
}

// stateOfStat maps a stat word (or a bare message_state number) to a state; words it does
// not know are StateUnknown.
func stateOfStat(stat string) MessageState {
	if s, ok := statStates[stat]; ok {
		return s
	}
	if len(stat) == 1 && stat[0] >= '0' && stat[0] <= '9' {
		return MessageState(stat[0] - '0')
	}
	return StateUnknown
}

// isReceiptSpace reports whether r separates receipt values: white space, or NUL, which
// SMSCs that end short_message as a C-string leave after the last value ("err:000\x00").
func isReceiptSpace(r rune) bool { return r == 0 || unicode.IsSpace(r) }

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// matchLabel reports whether a label followed by ':' starts at text[i], and where its value
// starts.
func matchLabel(text string, i int) (receiptLabel, int, bool) {
	for l, words := range labelWords {
		j := i
		ok := true
		for wi, w := range words {
			if wi > 0 {
				for j < len(text) && (text[j] == ' ' || text[j] == '_' || text[j] == 0x11) {
					j++
				}
			}
			if len(text)-j < len(w) || !strings.EqualFold(text[j:j+len(w)], w) {
				ok = false
				break
			}
			j += len(w)
		}
		if ok && j < len(text) && text[j] == ':' {
			return receiptLabel(l), j + 1, true
		}
	}
	return 0, 0, false
}

// parseReceiptDate reads YYMMDDhhmm, YYMMDDhhmmss, YYYYMMDDhhmm or YYYYMMDDhhmmss as UTC; the
// zero time when v is none of them.
func parseReceiptDate(v string) time.Time {
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return time.Time{}
		}
	}
	num := func(s string) int {
		n := 0
		for i := 0; i < len(s); i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	var year int
	var rest string // MMDDhhmm[ss]
	switch {
	case len(v) == 14 || len(v) == 12 && v[:2] == "20" && num(v[2:4]) > 12:
		year, rest = num(v[:4]), v[4:]
	case len(v) == 10 || len(v) == 12:
		year, rest = 2000+num(v[:2]), v[2:]
		if num(v[:2]) >= centuryPivot {
			year -= 100
		}
	default:
		return time.Time{}
	}
	month, day, hour, minute := num(rest[0:2]), num(rest[2:4]), num(rest[4:6]), num(rest[6:8])
	sec := 0
	if len(rest) == 10 {
		sec = num(rest[8:10])
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
}

// IsReceipt reports whether a deliver_sm or data_sm with this esm_class is a receipt: its
// message type (bits 4–2) is an SMSC delivery receipt (0x04), or bit 5, the intermediate
// delivery notification (0x20), is set. SMPP 3.4 reads bits 5–2 as one 4-bit type, which
// leaves 0x24 undefined; SMSCs that send it mean a receipt, and cloudhopper and Kannel both
// read it so (SMPP.md §6.1). SME delivery and manual acknowledgements (0x08, 0x10) come from
// the handset's application, not the SMSC, and are treated as ordinary messages.
func IsReceipt(esmClass uint8) bool {
	return esmClass&0x1C == 0x04 || esmClass&0x20 != 0
}

// ReceiptFromDeliverSM extracts the receipt from a deliver_sm: the text from short_message
// (or message_payload when short_message is empty), completed and overridden by the TLVs
// receipted_message_id, message_state and network_error_code. It does not check esm_class
// (see IsReceipt). Errors are ErrNotReceipt and ErrNoReceiptState, with what was found.
func ReceiptFromDeliverSM(p *DeliverSM) (Receipt, error) {
	return receiptFrom(p.ShortMessage, p.DataCoding, p.TLVs)
}

// ReceiptFromDataSM extracts the receipt from a data_sm (some SMSCs send receipts that way):
// the text from message_payload, completed and overridden by the TLVs as in
// ReceiptFromDeliverSM.
func ReceiptFromDataSM(p *DataSM) (Receipt, error) {
	return receiptFrom(nil, p.DataCoding, p.TLVs)
}

func receiptFrom(sm []byte, dataCoding uint8, tlvs TLVs) (Receipt, error) {
	if len(sm) == 0 {
		sm, _ = tlvs.Get(TagMessagePayload)
	}
	text := receiptString(sm, dataCoding)
	r, _ := ParseReceiptText(text)
	if id, ok := tlvs.CString(TagReceiptedMessageID); ok && id != "" {
		r.ID = id
	}
	// A message_state no version of SMPP defines loses to the text's stat, if there is one.
	if st, ok := tlvs.Uint8(TagMessageState); ok && (MessageState(st) <= StateSkipped || r.Stat == "") {
		r.State = MessageState(st)
		if r.Stat == "" || stateOfStat(r.Stat) != r.State {
			r.Stat = r.State.Stat()
		}
	}
	if ne, ok := tlvs.Get(TagNetworkErrorCode); ok {
		r.NetworkError = bytes.Clone(ne)
	}
	switch {
	case r.ID == "":
		// Keep what arrived, so that the warning and the unmatched file show it.
		r.Text = text
		return r, ErrNotReceipt
	case r.Stat == "":
		return r, fmt.Errorf("receipt for message id %q: %w", r.ID, ErrNoReceiptState)
	}
	return r, nil
}

// receiptString turns receipt octets into text: UCS-2 for data_coding 0x08, otherwise the
// octets as they are (receipt labels and ids are ASCII, which GSM 7-bit unpacked and Latin-1
// share).
func receiptString(b []byte, dataCoding uint8) string {
	if dataCoding != 0x08 {
		return string(b)
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return string(utf16.Decode(units))
}

// FormatReceiptText writes r in the [S34] App. B form, as the simulator sends it:
//
//	id:ID sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:FIRST20CHARS
//
// Empty fields get defaults: sub "001", dlvrd "001" when delivered else "000", stat from
// State, err "000"; zero dates are written as "0000000000". text is the first 20 characters.
func FormatReceiptText(r Receipt) string { return string(AppendReceiptText(nil, r)) }

// AppendReceiptText appends FormatReceiptText(r) to dst, for senders of many receipts (the
// simulator) that reuse one buffer.
func AppendReceiptText(dst []byte, r Receipt) []byte {
	or := func(s, def string) string {
		if s == "" {
			return def
		}
		return s
	}
	dlvrd := "000"
	if r.State == StateDelivered {
		dlvrd = "001"
	}
	text := r.Text
	for i, n := 0, 0; i < len(text); n++ {
		if n == 20 {
			text = text[:i]
			break
		}
		_, size := utf8.DecodeRuneInString(text[i:])
		i += size
	}
	dst = append(append(dst, "id:"...), r.ID...)
	dst = append(append(dst, " sub:"...), or(r.Sub, "001")...)
	dst = append(append(dst, " dlvrd:"...), or(r.Dlvrd, dlvrd)...)
	dst = appendReceiptDate(append(dst, " submit date:"...), r.SubmitDate)
	dst = appendReceiptDate(append(dst, " done date:"...), r.DoneDate)
	dst = append(append(dst, " stat:"...), or(r.Stat, r.State.Stat())...)
	dst = append(append(dst, " err:"...), or(r.Err, "000")...)
	return append(append(dst, " text:"...), text...)
}

// appendReceiptDate appends t as YYMMDDhhmm in UTC; the zero time as "0000000000".
func appendReceiptDate(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, "0000000000"...)
	}
	return t.UTC().AppendFormat(dst, "0601021504")
}
