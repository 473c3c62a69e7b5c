package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"time"

	"smscast/smpp"
)

// The on-disk format, version 1. All fixed-width integers are little-endian.
//
//	file   = header record*
//	header = "SMSCJRNL" version:uint32                          (12 bytes)
//	record = length:uint32 crc:uint32 body                      (8 + length bytes)
//	body   = kind:uint8 at:time fields...                       (1 ≤ length ≤ MaxRecordLen)
//	crc    = CRC-32C (Castagnoli) of the 4 length bytes followed by body
//	time   = unix seconds:varint, nanoseconds:uvarint (the zero time.Time round-trips)
//	string = byte length:uvarint, bytes
//
// The fields after at, by kind: Start: options (count:uvarint, then name and value strings,
// sorted by name), files (count:uvarint, then role, path strings, size:varint, sha256: 32
// bytes, sorted by role); Horizon: row; Attempt: row, part; Accepted: row, part, message id;
// Rejected: row, error text; Resubmitted: row, part; Receipt: id, sub, dlvrd, submit date,
// done date, stat, state:uint8, err, network error (string), text; End: nothing; NotAccepted:
// row, part; Report: report path, journal path (strings), the written report's size and
// modification time in Unix nanoseconds (varints; 0 and 0 before it is written). Row and part
// are uvarints.
//
// Kinds added after the first release of version 1 (NotAccepted, Report) extend it: a journal
// without them reads as before, and an older smscast stops at them with "unknown record kind
// (written by a newer smscast?)" rather than misreading them.
//
// Why binary and not JSON lines: at 100,000 messages per second the journal writes about
// 300,000 records per second. Encoding one of these records is a few dozen nanoseconds of
// appends into a reused buffer with no allocation; encoding/json costs a microsecond or more and
// allocates, which on a two-core machine would alone eat a large part of the 30% budget. The
// explicit length and CRC also make a torn or damaged record detectable at an exact byte offset,
// which a text format would only approximate. Replay (and Load) is the way to read a journal.

// Magic starts every journal file; the four bytes after it are the format version.
const Magic = "SMSCJRNL"

// Version is the journal format this package writes and reads. A file with another version is
// refused with a *VersionError rather than misread.
const Version = 1

const (
	headerLen      = 12 // Magic + version
	frameHeaderLen = 8  // length + crc
	// MaxRecordLen caps the body length of one record (bytes). A receipt is a few hundred bytes
	// and the identity a few kilobytes, so a larger length can only come from damage.
	MaxRecordLen = 1 << 20
	// maxRow and maxPart bound the numbers a record may carry, so that arithmetic on them
	// (such as the horizon lead) cannot overflow and a damaged file cannot make Load allocate
	// without bound. Data-row numbers and 0-based part indexes stay far below both.
	maxRow  = math.MaxInt32
	maxPart = 254 // a message has at most 255 parts
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Kind tells what a record says.
type Kind uint8

// The record kinds. Their numeric values are part of the file format: never renumber them.
const (
	// KindStart opens each run (send, resume or receipts) and carries the campaign identity.
	KindStart Kind = iota + 1
	// KindHorizon promises that the run submits no row above Row before another horizon
	// record is durable; see Writer.Attempt.
	KindHorizon
	// KindAttempt is written before a submit_sm for (Row, Part) goes to the SMSC.
	KindAttempt
	// KindAccepted records a submit_sm_resp with status 0 and its message id.
	KindAccepted
	// KindRejected records that a row ended without being accepted, with the error text.
	KindRejected
	// KindResubmitted records that a part was sent again after an unknown outcome, so the
	// recipient may receive it twice.
	KindResubmitted
	// KindReceipt records a delivery receipt.
	KindReceipt
	// KindEnd marks a run that closed its journal cleanly: nothing it did was lost.
	KindEnd
	// KindNotAccepted records that no attempt of (Row, Part) so far can have been accepted:
	// the SMSC answered the last one with an error status, or it was never written, and no
	// earlier one had an unknown outcome. The next KindAttempt cancels it.
	KindNotAccepted
	// KindReport records where the run writes the campaign's report, and where the journal
	// was then (absolute paths, through directory links), so that a later run can tell the
	// campaign's report from another campaign's file, also after the two were moved.
	KindReport
	kindLimit // one past the last valid kind
)

var kindNames = [...]string{
	KindStart: "start", KindHorizon: "horizon", KindAttempt: "attempt", KindAccepted: "accepted",
	KindRejected: "rejected", KindResubmitted: "resubmitted", KindReceipt: "receipt", KindEnd: "end",
	KindNotAccepted: "not accepted", KindReport: "report",
}

func (k Kind) String() string {
	if k > 0 && k < kindLimit {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Record is one decoded journal record. Which fields are set depends on Kind; the others are
// zero.
type Record struct {
	Offset int64 // byte offset of the record in the file
	Kind   Kind
	At     time.Time // when it happened, as the caller said (UTC after decoding)
	// Sent is when an attempt was recorded, right before the submit_sm went out; At is when
	// the schedule planned it (the latency base). Zero in journals of earlier builds.
	Sent      time.Time
	Identity  *Identity // KindStart: the campaign identity
	Row       int       // data-row number: Attempt, Accepted, Rejected, Resubmitted; Horizon: the highest row covered
	Part      int       // 0-based part index: Attempt, Accepted, Resubmitted
	MessageID string    // KindAccepted: as the SMSC sent it
	Err       string    // KindRejected: what the report shows, such as "0x0000000B ESME_RINVDSTADR"
	Report    string    // KindReport: the report's absolute path
	JournalAt string    // KindReport: the journal's absolute path when Report was recorded
	// KindReport: the size and modification time (Unix ns) of the report just written; 0 in
	// the record a run writes before it has written the report.
	ReportSize, ReportModTime int64
	Receipt                   smpp.Receipt
}

// errRange reports a row or part number that the format cannot carry.
var errRange = errors.New("out of range")

func checkRowPart(row, part int) error {
	if row < 0 || row > maxRow {
		return fmt.Errorf("row %d %w (0..%d)", row, errRange, maxRow)
	}
	if part < 0 || part > maxPart {
		return fmt.Errorf("part %d %w (0..%d)", part, errRange, maxPart)
	}
	return nil
}

// appendHeader appends the file header.
func appendHeader(dst []byte) []byte {
	dst = append(dst, Magic...)
	return binary.LittleEndian.AppendUint32(dst, Version)
}

// appendRecord appends r as a framed record. The caller has checked r's row and part.
func appendRecord(dst []byte, r *Record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, frameHeaderLen)...)
	dst = appendBody(dst, r)
	body := dst[start+frameHeaderLen:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(body)))
	crc := crc32.Update(0, castagnoli, dst[start:start+4])
	crc = crc32.Update(crc, castagnoli, body)
	binary.LittleEndian.PutUint32(dst[start+4:], crc)
	return dst
}

func appendBody(dst []byte, r *Record) []byte {
	dst = append(dst, byte(r.Kind))
	dst = appendTime(dst, r.At)
	switch r.Kind {
	case KindStart:
		dst = r.Identity.appendTo(dst)
	case KindHorizon:
		dst = binary.AppendUvarint(dst, uint64(r.Row))
	case KindAttempt, KindResubmitted, KindNotAccepted:
		dst = binary.AppendUvarint(dst, uint64(r.Row))
		dst = binary.AppendUvarint(dst, uint64(r.Part))
		if r.Kind == KindAttempt && !r.Sent.IsZero() {
			// After the fields of earlier builds: nanoseconds from At.
			dst = binary.AppendUvarint(dst, uint64(max(r.Sent.Sub(r.At), 0)))
		}
	case KindAccepted:
		dst = binary.AppendUvarint(dst, uint64(r.Row))
		dst = binary.AppendUvarint(dst, uint64(r.Part))
		dst = appendString(dst, r.MessageID)
	case KindRejected:
		dst = binary.AppendUvarint(dst, uint64(r.Row))
		dst = appendString(dst, r.Err)
	case KindReport:
		dst = appendString(dst, r.Report)
		dst = appendString(dst, r.JournalAt)
		dst = binary.AppendVarint(dst, r.ReportSize)
		dst = binary.AppendVarint(dst, r.ReportModTime)
	case KindReceipt:
		rc := &r.Receipt
		dst = appendString(dst, rc.ID)
		dst = appendString(dst, rc.Sub)
		dst = appendString(dst, rc.Dlvrd)
		dst = appendTime(dst, rc.SubmitDate)
		dst = appendTime(dst, rc.DoneDate)
		dst = appendString(dst, rc.Stat)
		dst = append(dst, byte(rc.State))
		dst = appendString(dst, rc.Err)
		dst = appendString(dst, string(rc.NetworkError))
		dst = appendString(dst, rc.Text)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

// decodeBody fills r (except Offset) from a record body whose CRC has been checked. It never
// panics: every length is checked against what is left of body.
func decodeBody(body []byte, r *Record) error {
	d := decoder{b: body}
	r.Kind = Kind(d.byte())
	if d.err == nil && (r.Kind == 0 || r.Kind >= kindLimit) {
		return fmt.Errorf("unknown record kind %d (written by a newer smscast?)", uint8(r.Kind))
	}
	r.At = d.time()
	switch r.Kind {
	case KindStart:
		r.Identity = d.identity()
	case KindHorizon:
		r.Row = d.row()
	case KindAttempt, KindResubmitted, KindNotAccepted:
		r.Row = d.row()
		r.Part = d.part()
		if r.Kind == KindAttempt && len(d.b) > 0 { // absent in the first builds
			r.Sent = r.At.Add(time.Duration(d.bounded(math.MaxInt64, "sent")))
		}
	case KindAccepted:
		r.Row = d.row()
		r.Part = d.part()
		r.MessageID = d.string()
	case KindRejected:
		r.Row = d.row()
		r.Err = d.string()
	case KindReport:
		r.Report = d.string()
		if len(d.b) > 0 { // absent in the first builds that wrote report records
			r.JournalAt = d.string()
		}
		if len(d.b) > 0 {
			r.ReportSize, r.ReportModTime = d.varint(), d.varint()
		}
	case KindReceipt:
		rc := &r.Receipt
		rc.ID = d.string()
		rc.Sub = d.string()
		rc.Dlvrd = d.string()
		rc.SubmitDate = d.time()
		rc.DoneDate = d.time()
		rc.Stat = d.string()
		rc.State = smpp.MessageState(d.byte())
		rc.Err = d.string()
		if ne := d.string(); ne != "" {
			rc.NetworkError = []byte(ne)
		}
		rc.Text = d.string()
	}
	if d.err != nil {
		return fmt.Errorf("%s record: %w", r.Kind, d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%s record: %d unexpected bytes after its fields", r.Kind, len(d.b))
	}
	return nil
}

var errTruncated = errors.New("truncated field")

// decoder reads fields from a record body; the first error sticks and later reads return
// zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail(errTruncated)
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errTruncated)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bounded(max uint64, what string) int {
	v := d.uvarint()
	if v > max {
		d.fail(fmt.Errorf("%s %d %w (0..%d)", what, v, errRange, max))
		return 0
	}
	return int(v)
}

func (d *decoder) row() int  { return d.bounded(maxRow, "row") }
func (d *decoder) part() int { return d.bounded(maxPart, "part") }

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

func (d *decoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if d.err != nil {
		return time.Time{}
	}
	if nsec >= uint64(time.Second) {
		d.fail(fmt.Errorf("nanoseconds %d %w", nsec, errRange))
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
