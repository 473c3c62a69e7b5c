package journal

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Identity names a campaign by what it sends: the content of its input files and the options
// that change which messages go out or what they say (sender, encoding, splitting, templates,
// exclusions, schedule, validity, ...). Options that only change how fast or where messages go
// (rate, window, binds, SMSC address, credentials) belong outside it, so that a resumed run may
// change them. --resume compares the identity recorded in the journal with the one computed
// from the rerun command and refuses to continue when they differ.
//
// The zero value is an empty identity ready to use. Option values are stored in the journal in
// clear, so never add a secret such as a password.
type Identity struct {
	Options map[string]string     // option name → value
	Files   map[string]FileDigest // role ("recipients", "templates", ...) → content digest
}

// FileDigest identifies one input file by its content.
type FileDigest struct {
	// Path is where the file was read, kept for error messages only: moving or renaming an
	// input does not change the campaign.
	Path   string
	Size   int64    // bytes
	SHA256 [32]byte // of the content
}

// SetOption records an option that changes what is sent, replacing an earlier value of the
// same name. An option that is not set and one set to "" are different.
func (id *Identity) SetOption(name, value string) {
	if id.Options == nil {
		id.Options = make(map[string]string)
	}
	id.Options[name] = value
}

// AddFile reads the file at path and records its digest under role. It is an error to add a
// file that cannot be read: a resume must not guess.
func (id *Identity) AddFile(role, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("campaign identity: read %s file: %w", role, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("campaign identity: read %s file %s: %w", role, path, err)
	}
	fd := FileDigest{Path: path, Size: n}
	h.Sum(fd.SHA256[:0])
	id.addDigest(role, fd)
	return nil
}

// AddBytes records data, already read from path, under role; use it when the caller has the
// content in memory (or it did not come from a file, with path describing where it came from).
func (id *Identity) AddBytes(role, path string, data []byte) {
	id.addDigest(role, FileDigest{Path: path, Size: int64(len(data)), SHA256: sha256.Sum256(data)})
}

func (id *Identity) addDigest(role string, fd FileDigest) {
	if id.Files == nil {
		id.Files = make(map[string]FileDigest)
	}
	id.Files[role] = fd
}

// Sum is the identity's hash: SHA-256 over the sorted option names and values and the sorted
// file roles with their content digests and sizes (not their paths). Two identities are the
// same campaign exactly when their sums are equal.
func (id Identity) Sum() [32]byte {
	h := sha256.New()
	var buf []byte
	buf = append(buf, "smscast campaign identity v1\x00"...)
	for _, name := range sortedKeys(id.Options) {
		buf = appendString(buf, name)
		buf = appendString(buf, id.Options[name])
	}
	buf = append(buf, 0xFF) // separates options from files whatever their names
	for _, role := range sortedKeys(id.Files) {
		fd := id.Files[role]
		buf = appendString(buf, role)
		buf = binary.AppendVarint(buf, fd.Size)
		buf = append(buf, fd.SHA256[:]...)
	}
	h.Write(buf)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// String is the hex form of Sum.
func (id Identity) String() string {
	sum := id.Sum()
	return hex.EncodeToString(sum[:])
}

// Compare returns nil when current is the same campaign as id (the identity recorded in a
// journal), and otherwise a *MismatchError listing every difference.
func (id Identity) Compare(current Identity) error {
	if id.Sum() == current.Sum() {
		return nil
	}
	var changes []string
	for _, name := range unionKeys(id.Options, current.Options) {
		was, hadWas := id.Options[name]
		now, hasNow := current.Options[name]
		switch {
		case !hadWas:
			changes = append(changes, fmt.Sprintf("option %s was not set, now %q", name, now))
		case !hasNow:
			changes = append(changes, fmt.Sprintf("option %s was %q, now not set", name, was))
		case was != now:
			changes = append(changes, fmt.Sprintf("option %s was %q, now %q", name, was, now))
		}
	}
	for _, role := range unionKeys(id.Files, current.Files) {
		was, hadWas := id.Files[role]
		now, hasNow := current.Files[role]
		switch {
		case !hadWas:
			changes = append(changes, fmt.Sprintf("%s file %s was not used, now it is", role, now.Path))
		case !hasNow:
			changes = append(changes, fmt.Sprintf("%s file %s was used, now it is not", role, was.Path))
		case was.SHA256 != now.SHA256 || was.Size != now.Size:
			changes = append(changes, fmt.Sprintf("%s file changed: %s had %d bytes (sha256 %x…), %s has %d bytes (sha256 %x…)",
				role, was.Path, was.Size, was.SHA256[:6], now.Path, now.Size, now.SHA256[:6]))
		}
	}
	return &MismatchError{Changes: changes, Recorded: id}
}

// MismatchError says why a journal does not belong to the campaign being resumed.
type MismatchError struct {
	Changes  []string // one line per difference, e.g. `option from was "ACME", now "ACME2"`
	Recorded Identity // the identity the journal holds
}

func (e *MismatchError) Error() string {
	return "the journal belongs to a different campaign: " + strings.Join(e.Changes, "; ") +
		". Restore the original inputs and options to resume it, or start a new campaign with a new journal"
}

// appendTo encodes the identity inside a start record.
func (id *Identity) appendTo(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(id.Options)))
	for _, name := range sortedKeys(id.Options) {
		dst = appendString(dst, name)
		dst = appendString(dst, id.Options[name])
	}
	dst = binary.AppendUvarint(dst, uint64(len(id.Files)))
	for _, role := range sortedKeys(id.Files) {
		fd := id.Files[role]
		dst = appendString(dst, role)
		dst = appendString(dst, fd.Path)
		dst = binary.AppendVarint(dst, fd.Size)
		dst = append(dst, fd.SHA256[:]...)
	}
	return dst
}

// identity decodes what appendTo wrote. Counts are bounded by the bytes left, so a damaged
// count cannot make it allocate without bound.
func (d *decoder) identity() *Identity {
	id := &Identity{}
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return id
	}
	for range n {
		name, value := d.string(), d.string()
		if d.err != nil {
			return id
		}
		id.SetOption(name, value)
	}
	n = d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errTruncated)
		return id
	}
	for range n {
		role := d.string()
		fd := FileDigest{Path: d.string(), Size: d.varint()}
		copy(fd.SHA256[:], d.fixed(len(fd.SHA256)))
		if d.err != nil {
			return id
		}
		id.addDigest(role, fd)
	}
	return id
}

func (d *decoder) fixed(n int) []byte {
	if len(d.b) < n {
		d.fail(errTruncated)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := sortedKeys(a)
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
