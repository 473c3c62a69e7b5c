// Package csvin reads the recipients and templates of a campaign from CSV, renders each row's
// message and checks everything that can be checked before a single SMS is sent.
//
// A Reader streams the recipients file row by row: it normalises the destination number,
// resolves the template and the sender, renders the text, encodes and splits it exactly as
// submit_sm will carry it, and gives each row a status (ok, invalid, duplicate, excluded).
// Problems with the files themselves (no phone column, a template naming a column that does
// not exist, a file in the wrong character set) are errors from Open or Next; problems with
// one row make that row invalid and never stop the others.
package csvin

import (
	"errors"
	"fmt"
	"io"

	"smscast/smpp/coding"
)

// Config is everything the input flags of `smscast plan` and `smscast send` say about where
// the recipients and templates come from and how messages are built. The zero value is not
// usable: it needs recipients (Recipients or To) and a template (Templates or Text).
type Config struct {
	// Recipients is the path of the recipients CSV; "-" reads Stdin. Ignored when To is set.
	Recipients string
	// Stdin is read when Recipients is "-"; nil means os.Stdin.
	Stdin io.Reader
	// To replaces the recipients file with these numbers, one row each, in a single column
	// named "msisdn"; for a quick test or a one-off message.
	To []string
	// ToColumn names the phone column; "" finds it by name (msisdn, phone, mobile, to, number,
	// destination, any case).
	ToColumn string
	// Delimiter separates fields; 0 detects comma, semicolon or tab from the header line.
	Delimiter rune
	// Charset of every input file: "" or "utf-8" (a BOM is allowed), "windows-1252",
	// "iso-8859-1", "utf-16" (little-endian unless a BOM says otherwise), "utf-16le",
	// "utf-16be".
	Charset string

	// Templates is the path of the templates CSV (columns id, text, optional from).
	Templates string
	// Template is the id of the template for rows whose template cell is empty; "" means the
	// only template of the file (an error when it has several and a row needs the default).
	Template string
	// Text is a single inline template used instead of a templates file; its id is "text".
	Text string
	// AllowEmpty renders an empty cell without a fallback as nothing instead of making the
	// row invalid.
	AllowEmpty bool

	// DefaultRegion is the ISO 3166 region (e.g. "DE") of national numbers such as
	// "0171 1234567"; "" rejects numbers without a country code.
	DefaultRegion string
	// AllowDuplicates keeps every row of a number; by default only the first valid row of a
	// normalised number is sent and later ones get StatusDuplicate.
	AllowDuplicates bool
	// Exclude is the path of an opt-out list (one number per line, or a CSV with a phone
	// column); rows for these numbers get StatusExcluded. "" excludes nobody.
	Exclude string

	// From is the sender when neither the row nor the template names one; "" leaves it to the
	// SMSC.
	From string
	// SourceTON and SourceNPI override the type of number and numbering plan chosen from the
	// sender's form; nil keeps the choice (alphanumeric 5/0, short code 3/0, international 1/1).
	SourceTON, SourceNPI *uint8

	// Coding says how texts are encoded and split. Ref is ignored: each row gets its own
	// concatenation reference (see Row.Message and RefOffset). MaxParts 0 means 255; the flag
	// defaults to 10.
	Coding coding.Options
	// TemplateTextAsRead renders template texts as versions before 2026-12-01 did: a CR alone
	// kept, spaces at the ends kept but for the leading ones of an unquoted text. A campaign
	// begun by such a version is resumed with it, so that its parts are cut as before.
	TemplateTextAsRead bool
	// RefOffset is added to the row number to make the row's concatenation reference (8-bit
	// UDH references keep its low byte). A campaign draws it once and keeps it across
	// resumes, so that a resent part is byte-identical and joins the parts the handset has,
	// while two campaigns sending long messages to the same handsets at the same time (one
	// list, two templates) do not give one row's parts the same reference in both.
	RefOffset uint16
	// Transliterate replaces look-alike characters that force UCS-2 with GSM equivalents.
	Transliterate bool

	// Shard keeps only one shard's rows; the zero value keeps all of them.
	Shard Shard
}

// RowStatus is what will happen to a row.
type RowStatus uint8

// Row statuses; String gives the word the plan and the report use.
const (
	StatusOK        RowStatus = iota // will be sent
	StatusInvalid                    // cannot be sent; Row.Reason says why
	StatusDuplicate                  // an earlier row has the same number
	StatusExcluded                   // the number is on the --exclude list
)

var statusNames = [...]string{StatusOK: "ok", StatusInvalid: "invalid", StatusDuplicate: "duplicate", StatusExcluded: "excluded"}

func (s RowStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("RowStatus(%d)", uint8(s))
}

// Row is one recipient with its rendered message.
type Row struct {
	// Num is the data-row number: 1 is the first row after the header (for --to, the
	// position of the number). It does not change with --shard.
	Num int
	// Line is the line of the file where the row starts (1 is the header).
	Line int
	// MSISDN is the destination in international digits without "+" ("491711234567");
	// for an invalid number, the cell as written.
	MSISDN string
	// Template is the id of the template used ("" when none could be chosen).
	Template string
	// From is the sender ("" leaves it to the SMSC), with SourceTON and SourceNPI for it.
	From                 string
	SourceTON, SourceNPI uint8
	// Text is the rendered message (after transliteration, when that changed it).
	Text string
	// Message is Text encoded and split; set only for StatusOK. Its concatenation reference
	// is the low 16 bits of Num, so parts built again for the same row are identical.
	Message coding.Message
	Status  RowStatus
	// Reason says why the row is not StatusOK, and what to do about it when that applies.
	Reason string
	// Err is the problem of an invalid row with its file, line and column; nil otherwise.
	Err *RowError
	// Transliterated is true when --transliterate changed the text.
	Transliterated bool
	// SavedParts is how many parts transliteration saved on this row (0 when it saved none).
	SavedParts int
}

// Kinds of invalid rows; RowError.Err wraps one of them, and Summary counts rows by them.
var (
	ErrFieldCount      = errors.New("wrong number of fields")
	ErrRowBounds       = errors.New("unclosed quote or stray CR") // rows may have run together
	ErrInvalidNumber   = errors.New("invalid number")
	ErrUnknownTemplate = errors.New("unknown template")
	ErrEmptyValue      = errors.New("empty value")
	ErrBadSender       = errors.New("bad sender")
	ErrNotEncodable    = errors.New("not encodable")
	ErrTooManyParts    = errors.New("too many parts")
)

// invalidKinds lists the kinds in the order the summary shows them.
var invalidKinds = []error{ErrFieldCount, ErrRowBounds, ErrInvalidNumber, ErrUnknownTemplate, ErrEmptyValue, ErrBadSender, ErrNotEncodable, ErrTooManyParts}

// Kind returns the kind of an invalid row's problem (one of the Err variables above), or nil.
func Kind(err error) error {
	for _, k := range invalidKinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// kindError is a row problem of a given kind: errors.Is(err, kind) holds, and the message is
// the wrapped error's alone, because the kind only sorts rows in the summary.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() error        { return e.err }
func (e *kindError) Is(target error) bool { return target == e.kind }

// problem makes a row problem of kind from a fmt.Errorf format (%w allowed); the message
// should say what is wrong and what to do.
func problem(kind error, format string, args ...any) error {
	return &kindError{kind: kind, err: fmt.Errorf(format, args...)}
}
