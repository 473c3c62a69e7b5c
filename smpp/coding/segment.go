package coding

import (
	"fmt"
	"strings"
)

// Split is how a text longer than one SMS travels. The zero value is SplitUDH.
type Split uint8

// Split methods (SMPP.md §10).
const (
	// SplitUDH puts a 6-octet UDH with IEI 0x00 (8-bit reference) at the start of each part's
	// short_message and sets UDHI (esm_class 0x40).
	SplitUDH Split = iota
	// SplitUDH16 puts a 7-octet UDH with IEI 0x08 (16-bit reference) at the start of each part.
	SplitUDH16
	// SplitSAR sends each part's text bare and the sar_msg_ref_num, sar_total_segments and
	// sar_segment_seqnum TLVs; the SMSC builds the UDH.
	SplitSAR
	// SplitPayload sends the whole text in one submit_sm as message_payload with an empty
	// short_message; whether and how it is split for the handset is up to the SMSC.
	SplitPayload
)

var splitNames = [...]string{SplitUDH: "udh", SplitUDH16: "udh16", SplitSAR: "sar", SplitPayload: "payload"}

// ParseSplit reads a --split value: udh, udh16, sar or payload (any case).
func ParseSplit(s string) (Split, error) {
	for m, name := range splitNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Split(m), nil
		}
	}
	return SplitUDH, fmt.Errorf("unknown split method %q: use udh, udh16, sar or payload", s)
}

// String returns the name ParseSplit accepts.
func (m Split) String() string {
	if int(m) < len(splitNames) {
		return splitNames[m]
	}
	return fmt.Sprintf("Split(%d)", uint8(m))
}

// Options says how SplitText encodes and splits a text. The zero value means: Auto encoding,
// UDH with an 8-bit reference, at most 255 parts, unpacked septets, reference 0.
type Options struct {
	Encoding Encoding
	Split    Split
	// MaxParts is the most parts (submit_sm PDUs, or for SplitPayload the segments the text
	// would need) a text may take; 0, or anything above 255, means 255, the most a
	// concatenated SMS can have.
	MaxParts int
	// Packed packs GSM 7-bit septets, 8 to 7 octets, for SMSCs configured for packed
	// data_coding 0; most want them unpacked, one per octet.
	Packed bool
	// Ref is the concatenation reference shared by all parts of one message; it must differ
	// between messages to the same handset that may be in flight together. SplitUDH sends
	// its low byte, SplitUDH16 and SplitSAR all 16 bits.
	Ref uint16
}

// Part is one submit_sm's worth of a message.
type Part struct {
	// ShortMessage is the short_message octets, the UDH included for SplitUDH and SplitUDH16;
	// empty for SplitPayload.
	ShortMessage []byte
	// Payload is the message_payload TLV value for SplitPayload (non-nil, possibly empty);
	// nil for every other method.
	Payload []byte
	// ESMClass is 0x40 (UDHI) when ShortMessage starts with a UDH, else 0.
	ESMClass uint8
	// SARRef, SARTotal and SARSeq are the sar_* TLV values; set only for SplitSAR when the
	// text needs more than one part (SARTotal 0 means no SAR TLVs). SARSeq counts from 1.
	SARRef   uint16
	SARTotal uint8
	SARSeq   uint8
}

// Message is a text encoded and split, ready to become submit_sm PDUs.
type Message struct {
	Encoding   Encoding // the encoding used; SplitText resolves Auto, so never Auto
	DataCoding uint8    // the submit_sm data_coding for Encoding
	Parts      []Part   // at least one
	Units      int      // length of the whole text: septets (GSM7), UTF-16 units (UCS2) or octets (Latin1)
	// SMS is how many SMS the handset receives, what carriers bill: len(Parts), except for
	// SplitPayload, whose one submit_sm the SMSC splits (at the udh capacities).
	SMS int
}

// TooManyPartsError says a text needs more parts than allowed.
type TooManyPartsError struct {
	Need int // parts the text needs
	Max  int // parts allowed (Options.MaxParts, 255 when that is 0)
}

func (e *TooManyPartsError) Error() string {
	if e.Max >= maxConcatParts {
		return fmt.Sprintf("the text needs %d parts, more than the %d a concatenated SMS can have; shorten it",
			e.Need, maxConcatParts)
	}
	return fmt.Sprintf("the text needs %d parts, more than --max-parts %d", e.Need, e.Max)
}

// maxConcatParts is the largest total a concatenation UDH or sar_total_segments can carry.
const maxConcatParts = 255

// esmClassUDHI is the esm_class bit that says short_message starts with a UDH.
const esmClassUDHI = 0x40

// capacity is how many units (septets, UTF-16 units or octets) fit in one SMS (SMPP.md §10.2).
type capacity struct {
	single int // a message sent whole, without a UDH
	udh    int // a segment after a 6-octet UDH (8-bit reference); also SAR and payload segments
	udh16  int // a segment after a 7-octet UDH (16-bit reference)
}

// capacities is indexed by Encoding. SAR and payload use the udh figures: the SMSC adds a
// 6-octet UDH when it builds the segments (an SMSC that chooses the 16-bit form has room for
// one septet, unit or octet less, which no SMSC documented here does).
var capacities = [...]capacity{
	GSM7:   {single: 160, udh: 153, udh16: 152},
	UCS2:   {single: 70, udh: 67, udh16: 66},
	Latin1: {single: 140, udh: 134, udh16: 133},
}

func (c capacity) segment(m Split) int {
	if m == SplitUDH16 {
		return c.udh16
	}
	return c.udh
}

// udhLen is the UDH size in octets that m puts in short_message of a multi-part message.
func (m Split) udhLen() int {
	switch m {
	case SplitUDH:
		return 6
	case SplitUDH16:
		return 7
	}
	return 0
}

// SplitText encodes text and splits it into parts as opt says. A text that fits one SMS (160
// septets, 70 UTF-16 units or 140 Latin-1 octets) is one part without UDH or SAR TLVs; a longer
// one is split into segments of 153/152 septets, 67/66 units or 134/133 octets (8-/16-bit
// UDH; SAR as 8-bit), never inside a GSM escape pair or a UTF-16 surrogate pair. SplitPayload
// always gives one part. Errors: *EncodeError for a character the encoding cannot express,
// ErrInvalidUTF8, *TooManyPartsError when the text needs more than opt.MaxParts parts.
//
// Each ShortMessage and Payload is a slice of one buffer per message, capped so that
// appending to one never overwrites another.
func SplitText(text string, opt Options) (Message, error) {
	if opt.Encoding > Latin1 {
		return Message{}, fmt.Errorf("invalid encoding %v: use auto, gsm7, ucs2 or latin1", opt.Encoding)
	}
	if opt.Split > SplitPayload {
		return Message{}, fmt.Errorf("invalid split method %v: use udh, udh16, sar or payload", opt.Split)
	}
	maxParts := opt.MaxParts
	if maxParts <= 0 || maxParts > maxConcatParts {
		maxParts = maxConcatParts
	}

	enc := opt.Encoding
	if enc == Auto {
		enc = GSM7
	}
	units, segments, fail := measure(text, enc, capacities[enc].segment(opt.Split))
	if fail >= 0 && opt.Encoding == Auto && !isInvalidUTF8(text[fail:]) {
		enc = UCS2
		units, segments, fail = measure(text, enc, capacities[enc].segment(opt.Split))
	}
	if fail >= 0 {
		return Message{}, encodeErrorAt(text, enc, fail)
	}
	capa := capacities[enc]
	need := segments
	if units <= capa.single {
		need = 1
	}
	if need > maxParts {
		return Message{}, &TooManyPartsError{Need: need, Max: maxParts}
	}

	msg := Message{Encoding: enc, DataCoding: enc.DataCoding(), Units: units, SMS: need}
	packed := opt.Packed && enc == GSM7
	switch {
	case need == 1 || opt.Split == SplitPayload:
		msg.Parts = make([]Part, 1)
		w := partWriter{enc: enc, packed: packed, parts: msg.Parts,
			buf: make([]byte, 0, units*octetsPerUnit(enc))}
		w.write(text, maxUnits)
		if opt.Split == SplitPayload {
			msg.Parts[0] = Part{Payload: msg.Parts[0].ShortMessage}
		}
	default:
		msg.Parts = make([]Part, need)
		w := partWriter{enc: enc, packed: packed, parts: msg.Parts, split: opt.Split, ref: opt.Ref,
			buf: make([]byte, 0, need*opt.Split.udhLen()+units*octetsPerUnit(enc))}
		w.write(text, capa.segment(opt.Split))
	}
	return msg, nil
}

// octetsPerUnit is the unpacked size of one unit of enc.
func octetsPerUnit(enc Encoding) int {
	if enc == UCS2 {
		return 2
	}
	return 1
}

// partWriter fills parts from one buffer: for each part, the UDH (when split needs one and
// there is more than one part), then the encoded characters, packed in place when asked.
type partWriter struct {
	enc    Encoding
	packed bool
	split  Split // only for multi-part messages; a single part gets no UDH and no SAR fields
	ref    uint16
	parts  []Part
	buf    []byte // capacity for every part, so appends never reallocate
	start  int    // where the current part begins in buf
	data   int    // where its text begins, after the UDH
}

// write encodes text into w.parts, starting a new part whenever the next character would not
// fit in segCap units. SplitText has already checked that every character fits and that the
// greedy placement yields exactly len(w.parts) parts.
func (w *partWriter) write(text string, segCap int) {
	seq, fill := 0, 0
	w.begin(seq)
	buf := w.buf // a local, not w.buf, in the hot loop: no write barrier per character
	for _, r := range text {
		c := unitsOf(w.enc, r)
		if fill+c > segCap {
			w.buf = buf
			w.end(seq)
			seq++
			fill = 0
			w.begin(seq)
			buf = w.buf
		}
		buf = appendUnits(buf, w.enc, r)
		fill += c
	}
	w.buf = buf
	w.end(seq)
}

// begin starts part seq (0-based), writing its UDH if it has one.
func (w *partWriter) begin(seq int) {
	w.start = len(w.buf)
	total := byte(len(w.parts))
	if len(w.parts) > 1 {
		switch w.split {
		case SplitUDH:
			w.buf = append(w.buf, 0x05, 0x00, 0x03, byte(w.ref), total, byte(seq+1))
		case SplitUDH16:
			w.buf = append(w.buf, 0x06, 0x08, 0x04, byte(w.ref>>8), byte(w.ref), total, byte(seq+1))
		}
	}
	w.data = len(w.buf)
}

// end finishes part seq: packs its septets if asked and records it.
func (w *partWriter) end(seq int) {
	udh := w.data - w.start
	if w.packed {
		// In place: appendPacked never writes past the septet it has just read.
		w.buf = appendPacked(w.buf[:w.data], w.buf[w.data:], fillBits(udh))
	}
	p := Part{ShortMessage: w.buf[w.start:len(w.buf):len(w.buf)]}
	if udh > 0 {
		p.ESMClass = esmClassUDHI
	}
	if w.split == SplitSAR && len(w.parts) > 1 {
		p.SARRef, p.SARTotal, p.SARSeq = w.ref, uint8(len(w.parts)), uint8(seq+1)
	}
	w.parts[seq] = p
}

// fillBits is how many fill bits follow a UDH of udhLen octets so that the first septet starts
// on a septet boundary of the user data (SMPP.md §9.4): 1 after 6 octets, 0 after 7.
func fillBits(udhLen int) int { return (7 - (8*udhLen)%7) % 7 }

// ParseUDH reads the concatenation element from the UDH at the start of sm (call it only when
// esm_class has UDHI set): the reference (8- or 16-bit, IEI 0x00 or 0x08), total parts and this
// part's number, and rest, the octets after the UDH. Other elements (ports, ...) are skipped.
// ok is false when the UDH is truncated or malformed, has no concatenation element, or that
// element is one a handset ignores (total 0, seq 0 or seq > total).
func ParseUDH(sm []byte) (ref uint16, total, seq uint8, rest []byte, ok bool) {
	if len(sm) == 0 || int(sm[0])+1 > len(sm) {
		return 0, 0, 0, nil, false
	}
	udh, rest := sm[1:1+int(sm[0])], sm[1+int(sm[0]):]
	found := false
	for len(udh) > 0 {
		if len(udh) < 2 || int(udh[1])+2 > len(udh) {
			return 0, 0, 0, nil, false
		}
		iei, val := udh[0], udh[2:2+int(udh[1])]
		switch {
		case iei == 0x00 && len(val) == 3:
			ref, total, seq, found = uint16(val[0]), val[1], val[2], true
		case iei == 0x08 && len(val) == 4:
			ref, total, seq, found = uint16(val[0])<<8|uint16(val[1]), val[2], val[3], true
		}
		udh = udh[2+len(val):]
	}
	if !found || total == 0 || seq == 0 || seq > total {
		return 0, 0, 0, nil, false
	}
	return ref, total, seq, rest, true
}
