package smpp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// ProtocolError is malformed or unencodable PDU content: a broken conversation rather than
// the peer's negative answer (which is a Status).
type ProtocolError struct {
	// Command is the operation being decoded or encoded; 0 when the header itself was bad.
	Command CommandID
	// Field is the spec's name of the offending field, e.g. "source_addr", "command_length",
	// "message_payload".
	Field string
	// Status is the command_status a generic_nack (or the failed response) should carry,
	// e.g. StatusInvCmdLen or StatusInvSrcAdr.
	Status Status
	Err    error
	// junk is how many octets at the end of the body are junk after the last whole field
	// (stray octets, a TLV cut short, a body on a header-only PDU): DecodeTolerant drops
	// them. 0 when the error is elsewhere.
	junk int
	// unterminated says a C-string runs to the end of the body without its NUL, which
	// DecodeTolerant adds.
	unterminated bool
}

func (e *ProtocolError) Error() string {
	if e.Command != 0 {
		return fmt.Sprintf("smpp: %v %s: %v", e.Command, e.Field, e.Err)
	}
	return fmt.Sprintf("smpp: %s: %v", e.Field, e.Err)
}

func (e *ProtocolError) Unwrap() error { return e.Err }

// DecodeHeader decodes the 16-octet header at the start of b. It checks only that b holds a
// header and that command_length is at least 16; Decode checks the length against the PDU.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, &ProtocolError{Field: "command_length", Status: StatusInvCmdLen,
			Err: fmt.Errorf("%d octets is too short for a PDU header (16)", len(b))}
	}
	h := Header{
		Length:   binary.BigEndian.Uint32(b[0:]),
		ID:       CommandID(binary.BigEndian.Uint32(b[4:])),
		Status:   Status(binary.BigEndian.Uint32(b[8:])),
		Sequence: binary.BigEndian.Uint32(b[12:]),
	}
	if h.Length < HeaderLen {
		return h, &ProtocolError{Command: h.ID, Field: "command_length", Status: StatusInvCmdLen,
			Err: fmt.Errorf("%d is less than the 16-octet header", h.Length)}
	}
	return h, nil
}

// newBody returns an empty body for id, or nil if this package does not decode id.
func newBody(id CommandID) PDU {
	switch id {
	case BindTransmitterID:
		return &Bind{Mode: BindTransmitter}
	case BindReceiverID:
		return &Bind{Mode: BindReceiver}
	case BindTransceiverID:
		return &Bind{Mode: BindTransceiver}
	case BindTransmitterRespID:
		return &BindResp{Mode: BindTransmitter}
	case BindReceiverRespID:
		return &BindResp{Mode: BindReceiver}
	case BindTransceiverRespID:
		return &BindResp{Mode: BindTransceiver}
	case OutbindID:
		return &Outbind{}
	case UnbindID:
		return &Unbind{}
	case UnbindRespID:
		return &UnbindResp{}
	case EnquireLinkID:
		return &EnquireLink{}
	case EnquireLinkRespID:
		return &EnquireLinkResp{}
	case GenericNackID:
		return &GenericNack{}
	case SubmitSMID:
		return &SubmitSM{}
	case SubmitSMRespID:
		return &SubmitSMResp{}
	case DeliverSMID:
		return &DeliverSM{}
	case DeliverSMRespID:
		return &DeliverSMResp{}
	case DataSMID:
		return &DataSM{}
	case DataSMRespID:
		return &DataSMResp{}
	}
	return nil
}

// Decode decodes one whole PDU, header included, as returned by ReadPDU. The body is a
// pointer such as *SubmitSM or *EnquireLink; strings and octets are copied, so pdu may be
// reused. A response without a body (the normal form when its status is not 0) decodes to
// the zero body. An unknown or unsupported command_id gives a *ProtocolError with Status
// StatusInvCmdID. On a body error the header is still returned, so the caller can answer
// with a generic_nack carrying its sequence number.
func Decode(pdu []byte) (Header, PDU, error) {
	h, err := DecodeHeader(pdu)
	if err != nil {
		return h, nil, err
	}
	if int64(h.Length) != int64(len(pdu)) {
		return h, nil, &ProtocolError{Command: h.ID, Field: "command_length", Status: StatusInvCmdLen,
			Err: fmt.Errorf("%d but the PDU has %d octets", h.Length, len(pdu))}
	}
	p := newBody(h.ID)
	if p == nil {
		return h, nil, &ProtocolError{Field: "command_id", Status: StatusInvCmdID,
			Err: fmt.Errorf("0x%08X is unknown or not supported", uint32(h.ID))}
	}
	body := pdu[HeaderLen:]
	if len(body) == 0 && h.ID.IsResponse() {
		return h, p, nil
	}
	if err := p.DecodeBody(body); err != nil {
		var pe *ProtocolError
		if errors.As(err, &pe) && pe.Command == 0 {
			pe.Command = h.ID
		}
		return h, nil, err
	}
	return h, p, nil
}

// DecodeTolerant is Decode for what an SMSC sends to the ESME side: junk after the last
// field the body can hold (stray octets, say a NUL after short_message, a TLV cut short, a
// body on a header-only PDU) is dropped instead of failing the PDU, and a last C-string
// without its NUL (a message_id, say) is taken as it is. Real SMSCs send such
// octets, and refusing a receipt makes the SMSC resend it until it gives up, while failing
// a submit_sm_resp with status 0 would report an accepted message as rejected. Every other
// error is Decode's. The simulator decodes strictly, so that it shows a client's mistakes.
func DecodeTolerant(pdu []byte) (Header, PDU, error) {
	h, p, err := Decode(pdu)
	var pe *ProtocolError
	if err == nil || !errors.As(err, &pe) {
		return h, p, err
	}
	if len(pdu) < HeaderLen || int64(h.Length) != int64(len(pdu)) {
		return h, p, err // no whole PDU to repair
	}
	if p, ok := longMessageID(h, pdu[HeaderLen:], pe); ok {
		return h, p, nil
	}
	if p, ok := longSystemID(h, pdu[HeaderLen:], pe); ok {
		return h, p, nil
	}
	var repaired []byte
	switch {
	case pe.junk > 0 && pe.junk <= len(pdu)-HeaderLen:
		repaired = bytes.Clone(pdu[:len(pdu)-pe.junk])
	case pe.unterminated:
		repaired = append(bytes.Clone(pdu), 0)
	default:
		return h, p, err
	}
	binary.BigEndian.PutUint32(repaired, uint32(len(repaired)))
	if _, p, err = Decode(repaired); err != nil {
		return h, nil, err
	}
	return h, p, nil
}

// longMessageID reads the response of a submit_sm or data_sm whose message_id is longer than
// SMPP 3.4's 64 characters: the SMSC accepted the message under that id, and refusing the
// response would report an accepted message as failed (and a resend of it would reach the
// recipient twice). The id is taken as it is, whatever its octets (the PDU's length cap bounds
// it; the report escapes what is not printable); the TLVs after it are dropped. An error
// response keeps its status and loses only the id it should not have had.
func longMessageID(h Header, body []byte, pe *ProtocolError) (PDU, bool) {
	if pe.Field != "message_id" || pe.Status != StatusInvMsgID {
		return nil, false
	}
	id, _, _ := bytes.Cut(body, []byte{0})
	if h.Status != StatusOK {
		id = nil
	}
	switch h.ID {
	case SubmitSMRespID:
		return &SubmitSMResp{MessageID: string(id)}, true
	case DataSMRespID:
		return &DataSMResp{MessageID: string(id)}, true
	}
	return nil, false
}

// longSystemID reads a bind response whose system_id is longer than SMPP 3.4's 15 characters
// (or lacks its NUL): the SMSC has bound the session, and the name only serves to show it, so
// refusing the response would abandon a bind the SMSC holds and retry into ESME_RALYBND. The
// TLVs after the name are kept when they read well: sc_interface_version says whether the
// SMSC takes TLVs. The name is cut to maxShownSystemID characters.
func longSystemID(h Header, body []byte, pe *ProtocolError) (PDU, bool) {
	if pe.Field != "system_id" {
		return nil, false
	}
	var mode BindMode
	switch h.ID {
	case BindTransceiverRespID:
		mode = BindTransceiver
	case BindTransmitterRespID:
		mode = BindTransmitter
	case BindReceiverRespID:
		mode = BindReceiver
	default:
		return nil, false
	}
	id, rest, _ := bytes.Cut(body, []byte{0})
	r := &BindResp{Mode: mode, SystemID: string(id[:min(len(id), maxShownSystemID)])}
	if len(rest) > 0 {
		d := decoder{b: rest}
		if tlvs := d.tlvs(); d.end() == nil {
			r.TLVs = tlvs
		}
	}
	return r, true
}

// maxShownSystemID caps the system_id of longSystemID.
const maxShownSystemID = 64

// AppendPDU appends a whole PDU (header, then p's body) to dst and patches command_length.
// p nil means a generic_nack (header only). A bind_*_resp or submit_sm_resp whose status is
// not 0 and whose body is empty (no id, no TLVs) is sent header only, as SMPP 3.4 prescribes.
// On error dst is returned unchanged.
func AppendPDU(dst []byte, seq uint32, status Status, p PDU) ([]byte, error) {
	start := len(dst)
	id := GenericNackID
	if p != nil {
		id = p.CommandID()
		if id == 0 {
			return dst, &ProtocolError{Field: "command_id", Status: StatusInvCmdID,
				Err: fmt.Errorf("%T has no command id (bind mode out of range?)", p)}
		}
	}
	dst = binary.BigEndian.AppendUint32(dst, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(id))
	dst = binary.BigEndian.AppendUint32(dst, uint32(status))
	dst = binary.BigEndian.AppendUint32(dst, seq)
	if p != nil && !(status != StatusOK && id.IsResponse() && emptyResponse(p)) {
		var err error
		if dst, err = p.AppendBody(dst); err != nil {
			var pe *ProtocolError
			if errors.As(err, &pe) && pe.Command == 0 {
				pe.Command = id
			}
			return dst[:start], err
		}
	}
	if len(dst)-start > 0xFFFFFFFF {
		return dst[:start], &ProtocolError{Command: id, Field: "command_length", Status: StatusInvCmdLen,
			Err: fmt.Errorf("PDU of %d octets does not fit command_length", len(dst)-start)}
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}

// emptyResponse reports whether p is a bind or submit_sm response with nothing to carry:
// SMPP 3.4 (§4.1.2, §4.4.2) sends those header only when the status is not 0. deliver_sm_resp
// and data_sm_resp keep their body (an empty message_id), which strict peers expect.
func emptyResponse(p PDU) bool {
	switch r := p.(type) {
	case *BindResp:
		return r.SystemID == "" && len(r.TLVs) == 0
	case *SubmitSMResp:
		return r.MessageID == "" && len(r.TLVs) == 0
	}
	return false
}

// ReadPDU reads one PDU, header included, into buf (grown if its capacity is too small) and
// returns it. command_length outside [16, max] is a *ProtocolError (StatusInvCmdLen)
// reported before anything of that size is allocated; after it the stream is out of step
// and the connection should be closed. max <= 0 means DefaultMaxPDULen. A clean end of
// stream before the first octet is io.EOF; an end inside a PDU is io.ErrUnexpectedEOF.
func ReadPDU(r io.Reader, buf []byte, max int) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxPDULen
	}
	if cap(buf) < HeaderLen {
		buf = make([]byte, HeaderLen, 256)
	}
	buf = buf[:4]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(buf)
	if n < HeaderLen || uint64(n) > uint64(max) {
		return nil, &ProtocolError{Field: "command_length", Status: StatusInvCmdLen,
			Err: fmt.Errorf("%d is outside the accepted range 16..%d", n, max)}
	}
	if cap(buf) < int(n) {
		grown := make([]byte, n)
		copy(grown, buf)
		buf = grown
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// PDUBuffered reports whether br already holds a whole PDU, so that ReadPDU(br, ...) returns
// it without waiting for the network. A peer's reader uses it to hold its answers back until
// it has handled everything that arrived together, and answer it all in one write.
func PDUBuffered(br *bufio.Reader) bool {
	n := br.Buffered()
	if n < HeaderLen {
		return false
	}
	b, err := br.Peek(4)
	return err == nil && uint64(binary.BigEndian.Uint32(b)) <= uint64(n)
}

// appendCString appends s and its NUL terminator; max counts the NUL, as in the spec's C(n).
func appendCString(dst []byte, field, s string, max int, st Status) ([]byte, error) {
	if len(s) > max-1 {
		return dst, &ProtocolError{Field: field, Status: st,
			Err: fmt.Errorf("%q is %d characters, at most %d fit: shorten it", s, len(s), max-1)}
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return dst, &ProtocolError{Field: field, Status: st,
			Err: fmt.Errorf("NUL character at index %d: remove it", i)}
	}
	dst = append(dst, s...)
	return append(dst, 0), nil
}

// appendTime appends a C(1|17) time field: "" or exactly 16 characters (SMPP.md §7).
func appendTime(dst []byte, field, s string, st Status) ([]byte, error) {
	if s != "" && len(s) != 16 {
		return dst, &ProtocolError{Field: field, Status: st,
			Err: fmt.Errorf("%q is %d characters; an SMPP time is empty or exactly 16 (YYMMDDhhmmsstnnp)", s, len(s))}
	}
	return appendCString(dst, field, s, 17, st)
}

// decoder reads mandatory fields from a body. The first error sticks: later reads return
// zero values, so a body decoder reads every field and checks d.err once.
type decoder struct {
	b   []byte
	err error
	// owned says b is the decoder's own copy of the body, written by nobody: strings and
	// octets then share it instead of being copied one by one. Nothing can write a string's
	// octets through a slice either, since each slice handed out is capped at its own end.
	owned bool
}

// ownedDecoder decodes a private copy of body: one allocation for the body's strings,
// octets and TLV values, instead of one each. For the bodies that carry many of them.
func ownedDecoder(body []byte) decoder {
	return decoder{b: bytes.Clone(body), owned: true}
}

func (d *decoder) fail(field string, st Status, format string, args ...any) {
	if d.err == nil {
		d.err = &ProtocolError{Field: field, Status: st, Err: fmt.Errorf(format, args...)}
	}
}

// cstring reads a NUL-terminated string of at most max octets including the NUL.
func (d *decoder) cstring(field string, max int, st Status) string {
	if d.err != nil {
		return ""
	}
	limit := min(len(d.b), max)
	i := bytes.IndexByte(d.b[:limit], 0)
	if i < 0 {
		if len(d.b) < max {
			d.fail(field, StatusInvCmdLen, "missing NUL terminator: body truncated after %d octets", len(d.b))
			d.err.(*ProtocolError).unterminated = true
		} else {
			d.fail(field, st, "longer than %d characters (no NUL within %d octets)", max-1, max)
		}
		return ""
	}
	s := ""
	switch {
	case i == 0:
	case d.owned:
		s = unsafe.String(&d.b[0], i)
	default:
		s = string(d.b[:i])
	}
	d.b = d.b[i+1:]
	return s
}

// u8 reads a one-octet integer.
func (d *decoder) u8(field string) uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.fail(field, StatusInvCmdLen, "body truncated before this field")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// octets reads n raw octets and copies them (nil when n is 0).
func (d *decoder) octets(field string, n int, st Status) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b) < n {
		d.fail(field, st, "length %d but only %d octets left (body truncated)", n, len(d.b))
		return nil
	}
	var v []byte
	switch {
	case n == 0:
	case d.owned:
		v = d.b[:n:n]
	default:
		v = bytes.Clone(d.b[:n])
	}
	d.b = d.b[n:]
	return v
}

// tlvs decodes the rest of the body as optional parameters.
func (d *decoder) tlvs() TLVs {
	if d.err != nil {
		return nil
	}
	data := d.b
	if !d.owned {
		data = nil // decodeTLVsIn copies
	}
	ts, err := decodeTLVsIn(d.b, data)
	if err != nil {
		d.err = err
		return nil
	}
	d.b = nil
	return ts
}

// end reports the first error, or stray octets after the last field of a body without TLVs.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.fail("command_length", StatusInvCmdLen, "%d unexpected octets after the last field", len(d.b))
		d.err.(*ProtocolError).junk = len(d.b)
	}
	return d.err
}
