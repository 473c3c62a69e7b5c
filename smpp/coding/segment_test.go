package coding

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// sheetCapacity is SMPP.md §10.2 (units per SMS): single message, then a segment after an
// 8-bit-reference UDH (also used for SAR and payload) and after a 16-bit-reference UDH.
var sheetCapacity = map[Encoding][3]int{
	GSM7:   {160, 153, 152},
	UCS2:   {70, 67, 66},
	Latin1: {140, 134, 133},
}

// checkMessage verifies everything SplitText promises about msg, the result for text and opt:
// headers and SAR fields, every part within capacity, no escape or surrogate pair split, as
// few parts as possible, packed parts equal to the packed unpacked parts, and the parts
// decoding back to text.
func checkMessage(t testing.TB, text string, opt Options, msg Message) {
	t.Helper()
	if msg.Encoding == Auto || msg.DataCoding != msg.Encoding.DataCoding() || len(msg.Parts) == 0 {
		t.Fatalf("bad message header: %v dc %#x, %d parts", msg.Encoding, msg.DataCoding, len(msg.Parts))
	}
	if opt.Packed && msg.Encoding == GSM7 {
		checkPacked(t, text, opt, msg)
		return
	}
	want := text
	if msg.Encoding == GSM7 {
		want = strings.ReplaceAll(text, "ç", "Ç") // 23.038 has only the capital
	}
	if opt.Split == SplitPayload {
		p := msg.Parts[0]
		if len(msg.Parts) != 1 || len(p.ShortMessage) != 0 || p.Payload == nil || p.ESMClass != 0 || p.SARTotal != 0 {
			t.Fatalf("payload message: %d parts, first %+v", len(msg.Parts), p)
		}
		if got := decodeUnits(t, msg.Encoding, p.Payload); got != want {
			t.Fatalf("payload decodes to %q, want %q", got, want)
		}
		return
	}
	capa := sheetCapacity[msg.Encoding]
	segCap := capa[1]
	if opt.Split == SplitUDH16 {
		segCap = capa[2]
	}
	multi := len(msg.Parts) > 1
	var all strings.Builder
	total := 0
	for i, p := range msg.Parts {
		data := checkHeader(t, opt, msg, i)
		n := unitCount(msg.Encoding, data)
		total += n
		limit := capa[0]
		if multi {
			limit = segCap
		}
		if n > limit {
			t.Fatalf("part %d holds %d units, more than %d", i+1, n, limit)
		}
		// 140 octets on the air; unpacked septets travel one per octet (at most 160, or 6+153).
		if octets, limit := len(p.ShortMessage), map[bool]int{true: 160, false: 140}[msg.Encoding == GSM7]; octets > limit {
			t.Fatalf("part %d is %d octets, more than %d", i+1, octets, limit)
		}
		if i+1 < len(msg.Parts) {
			next := checkHeader(t, opt, msg, i+1)
			if n+firstUnits(msg.Encoding, next) <= segCap {
				t.Fatalf("part %d holds %d units and the next character would still fit in %d", i+1, n, segCap)
			}
		}
		all.WriteString(decodeUnits(t, msg.Encoding, data))
	}
	if !multi && total > capa[0] || multi && total <= capa[0] {
		t.Fatalf("%d units in %d parts; single capacity %d", total, len(msg.Parts), capa[0])
	}
	if total != msg.Units {
		t.Fatalf("Units = %d, parts hold %d", msg.Units, total)
	}
	if all.String() != want {
		t.Fatalf("parts decode to %q, want %q", all.String(), want)
	}
}

// checkHeader checks part i's UDH, esm_class and SAR fields and returns its text octets.
func checkHeader(t testing.TB, opt Options, msg Message, i int) []byte {
	t.Helper()
	p := msg.Parts[i]
	if p.Payload != nil {
		t.Fatalf("part %d has a payload", i+1)
	}
	multi := len(msg.Parts) > 1
	udh := multi && (opt.Split == SplitUDH || opt.Split == SplitUDH16)
	if !udh {
		if p.ESMClass != 0 {
			t.Fatalf("part %d: esm_class %#x without a UDH", i+1, p.ESMClass)
		}
		sar := Part{SARRef: p.SARRef, SARTotal: p.SARTotal, SARSeq: p.SARSeq}
		want := Part{}
		if multi && opt.Split == SplitSAR {
			want = Part{SARRef: opt.Ref, SARTotal: uint8(len(msg.Parts)), SARSeq: uint8(i + 1)}
		}
		if fmt.Sprint(sar) != fmt.Sprint(want) {
			t.Fatalf("part %d: SAR fields %+v, want %+v", i+1, sar, want)
		}
		return p.ShortMessage
	}
	ref, total, seq, rest, ok := ParseUDH(p.ShortMessage)
	wantRef, wantLen := opt.Ref&0xFF, 6
	if opt.Split == SplitUDH16 {
		wantRef, wantLen = opt.Ref, 7
	}
	if !ok || ref != wantRef || int(total) != len(msg.Parts) || int(seq) != i+1 || p.ESMClass != 0x40 ||
		len(p.ShortMessage)-len(rest) != wantLen || p.SARTotal != 0 {
		t.Fatalf("part %d: UDH % X (ref %#x total %d seq %d ok %v), esm_class %#x",
			i+1, p.ShortMessage[:min(len(p.ShortMessage), 8)], ref, total, seq, ok, p.ESMClass)
	}
	return rest
}

// checkPacked compares a packed message with the unpacked one for the same text.
func checkPacked(t testing.TB, text string, opt Options, msg Message) {
	t.Helper()
	unpackedOpt := opt
	unpackedOpt.Packed = false
	plain, err := SplitText(text, unpackedOpt)
	if err != nil {
		t.Fatalf("unpacked split failed where packed succeeded: %v", err)
	}
	checkMessage(t, text, unpackedOpt, plain)
	if len(plain.Parts) != len(msg.Parts) || plain.Units != msg.Units {
		t.Fatalf("packed: %d parts %d units, unpacked %d parts %d units", len(msg.Parts), msg.Units, len(plain.Parts), plain.Units)
	}
	for i, p := range msg.Parts {
		u := plain.Parts[i]
		if opt.Split == SplitPayload {
			if want := PackSeptets(u.Payload, 0); !bytes.Equal(p.Payload, want) || p.ShortMessage != nil {
				t.Fatalf("packed payload % X, want % X", p.Payload, want)
			}
			continue
		}
		udh := len(u.ShortMessage) - len(checkHeader(t, unpackedOpt, plain, i))
		want := append(append([]byte{}, u.ShortMessage[:udh]...), PackSeptets(u.ShortMessage[udh:], fillBits(udh))...)
		if !bytes.Equal(p.ShortMessage, want) || p.ESMClass != u.ESMClass || p.SARSeq != u.SARSeq {
			t.Fatalf("packed part %d = % X, want % X", i+1, p.ShortMessage, want)
		}
		if len(p.ShortMessage) > 140 {
			t.Fatalf("packed part %d is %d octets", i+1, len(p.ShortMessage))
		}
	}
}

func unitCount(enc Encoding, data []byte) int {
	if enc == UCS2 {
		return len(data) / 2
	}
	return len(data)
}

// firstUnits is how many units the first character of data takes.
func firstUnits(enc Encoding, data []byte) int {
	switch {
	case enc == GSM7 && len(data) > 0 && data[0] == 0x1B:
		return 2
	case enc == UCS2 && len(data) > 1 && data[0]&0xFC == 0xD8:
		return 2
	}
	return 1
}

// decodeUnits decodes one part on its own, so that a split escape or surrogate pair shows.
func decodeUnits(t testing.TB, enc Encoding, data []byte) string {
	t.Helper()
	switch enc {
	case GSM7:
		if len(data) > 0 && data[len(data)-1] == 0x1B {
			t.Fatalf("part ends with an escape: % X", data)
		}
		s, err := DecodeGSM7(data)
		if err != nil {
			t.Fatal(err)
		}
		return s
	case UCS2:
		s, err := DecodeUCS2(data)
		if err != nil {
			t.Fatalf("part does not decode on its own: %v", err)
		}
		return s
	}
	return DecodeLatin1(data)
}

func TestSplitText(t *testing.T) {
	a := strings.Repeat
	tests := []struct {
		name  string
		text  string
		opt   Options
		enc   Encoding
		units int
		parts []int // units in each part
	}{
		{"empty", "", Options{}, GSM7, 0, []int{0}},
		{"exactly 160 septets", a("a", 160), Options{}, GSM7, 160, []int{160}},
		{"161 septets", a("a", 161), Options{}, GSM7, 161, []int{153, 8}},
		{"two full segments", a("a", 306), Options{}, GSM7, 306, []int{153, 153}},
		{"one more", a("a", 307), Options{}, GSM7, 307, []int{153, 153, 1}},
		{"escape ends a single SMS", a("a", 158) + "€", Options{}, GSM7, 160, []int{160}},
		{"escape makes it 161", a("a", 159) + "€", Options{}, GSM7, 161, []int{153, 8}},
		{"escape at the boundary moves whole", a("a", 152) + "€" + a("b", 10), Options{}, GSM7, 164, []int{152, 12}},
		{"escape just fits", a("a", 151) + "€" + a("b", 10), Options{}, GSM7, 163, []int{153, 10}},
		{"udh16 161 septets", a("a", 161), Options{Split: SplitUDH16}, GSM7, 161, []int{152, 9}},
		{"udh16 escape at the 152 boundary", a("a", 151) + "{" + a("x", 10), Options{Split: SplitUDH16, Encoding: GSM7}, GSM7, 163, []int{151, 12}},
		{"sar 161", a("a", 161), Options{Split: SplitSAR, Ref: 0x1234}, GSM7, 161, []int{153, 8}},
		{"sar single", "hi", Options{Split: SplitSAR, Ref: 0x1234}, GSM7, 2, []int{2}},
		{"ucs2 70", a("ж", 70), Options{}, UCS2, 70, []int{70}},
		{"ucs2 71", a("ж", 71), Options{}, UCS2, 71, []int{67, 4}},
		{"emoji ends a single SMS", a("ж", 68) + "👋", Options{}, UCS2, 70, []int{70}},
		{"emoji makes it 71", a("ж", 69) + "👋", Options{}, UCS2, 71, []int{67, 4}},
		{"emoji at the 67 boundary", a("ж", 66) + "👋" + a("ж", 5), Options{}, UCS2, 73, []int{66, 7}},
		{"emoji at the 66 boundary, udh16", a("ж", 65) + "👋" + a("ж", 5), Options{Split: SplitUDH16}, UCS2, 72, []int{65, 7}},
		{"forced ucs2 for ASCII", "Hi", Options{Encoding: UCS2}, UCS2, 2, []int{2}},
		{"latin1 140", a("é", 140), Options{Encoding: Latin1}, Latin1, 140, []int{140}},
		{"latin1 141", a("é", 141), Options{Encoding: Latin1}, Latin1, 141, []int{134, 7}},
		{"latin1 141 udh16", a("é", 141), Options{Encoding: Latin1, Split: SplitUDH16}, Latin1, 141, []int{133, 8}},
		{"payload", a("a", 400), Options{Split: SplitPayload}, GSM7, 400, []int{400}},
		{"payload empty", "", Options{Split: SplitPayload}, GSM7, 0, []int{0}},
		{"255 parts allowed by default", a("a", 255*153), Options{}, GSM7, 255 * 153, nil},
		{"cedilla", "Ça ç", Options{}, GSM7, 4, []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := SplitText(tt.text, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if msg.Encoding != tt.enc || msg.Units != tt.units {
				t.Fatalf("encoding %v units %d, want %v %d", msg.Encoding, msg.Units, tt.enc, tt.units)
			}
			checkMessage(t, tt.text, tt.opt, msg)
			if tt.parts == nil {
				return
			}
			var got []int
			for i, p := range msg.Parts {
				data := p.ShortMessage
				if p.Payload != nil {
					data = p.Payload
				} else {
					data = checkHeader(t, tt.opt, msg, i)
				}
				got = append(got, unitCount(msg.Encoding, data))
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.parts) {
				t.Errorf("units per part %v, want %v", got, tt.parts)
			}
		})
	}
}

// TestSplitText_Golden pins exact octets: SMPP.md §12.5's UDH prefixes and vectors.
func TestSplitText_Golden(t *testing.T) {
	long := strings.Repeat("a", 161)
	tests := []struct {
		name     string
		text     string
		opt      Options
		dc       uint8
		esmClass uint8
		want     []string // hex of each short_message (prefix when it ends in "…")
	}{
		{"8-bit ref uses the low byte", long, Options{Ref: 0x12A7}, 0x00, 0x40,
			[]string{"05 00 03 A7 02 01 61…", "05 00 03 A7 02 02 61…"}},
		{"16-bit ref", long, Options{Split: SplitUDH16, Ref: 0x1234}, 0x00, 0x40,
			[]string{"06 08 04 12 34 02 01 61…", "06 08 04 12 34 02 02 61…"}},
		{"auto picks UCS-2", "Привет 👋", Options{}, 0x08, 0,
			[]string{"04 1F 04 40 04 38 04 32 04 35 04 42 00 20 D8 3D DC 4B"}},
		{"auto picks GSM 7-bit", "Hello @ €uro {x}", Options{}, 0x00, 0,
			[]string{"48 65 6C 6C 6F 20 00 20 1B 65 75 72 6F 20 1B 28 78 1B 29"}},
		{"packed single", "hello", Options{Packed: true}, 0x00, 0, []string{"E8 32 9B FD 06"}},
		{"packed after a 6-octet UDH has one fill bit", strings.Repeat("a", 153) + "helloabc", Options{Packed: true, Ref: 1}, 0x00, 0x40,
			[]string{"05 00 03 01 02 01 C2…", "05 00 03 01 02 02 D0 65 36 FB 1D 16 8F 1B"}},
		{"packed is ignored for UCS-2", "ж", Options{Packed: true, Encoding: UCS2}, 0x08, 0, []string{"04 36"}},
		{"latin1", "café", Options{Encoding: Latin1}, 0x03, 0, []string{"63 61 66 E9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := SplitText(tt.text, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkMessage(t, tt.text, tt.opt, msg)
			if msg.DataCoding != tt.dc || len(msg.Parts) != len(tt.want) {
				t.Fatalf("data_coding %#x, %d parts; want %#x, %d", msg.DataCoding, len(msg.Parts), tt.dc, len(tt.want))
			}
			for i, w := range tt.want {
				p := msg.Parts[i]
				got := p.ShortMessage
				if prefix, ok := strings.CutSuffix(w, "…"); ok {
					got = got[:min(len(got), len(mustHex(t, prefix)))]
					w = prefix
				}
				if !bytes.Equal(got, mustHex(t, w)) || p.ESMClass != tt.esmClass {
					t.Errorf("part %d = % X esm_class %#x, want %s %#x", i+1, got, p.ESMClass, w, tt.esmClass)
				}
			}
		})
	}
}

func TestSplitText_Errors(t *testing.T) {
	tests := []struct {
		name string
		text string
		opt  Options
		msg  string
		need int
	}{
		{"needs 12, max 10", strings.Repeat("a", 11*153+1), Options{MaxParts: 10},
			"the text needs 12 parts, more than --max-parts 10", 12},
		{"max 1", strings.Repeat("a", 161), Options{MaxParts: 1}, "needs 2 parts, more than --max-parts 1", 2},
		{"more than 255", strings.Repeat("a", 255*153+1), Options{},
			"the text needs 256 parts, more than the 255 a concatenated SMS can have", 256},
		{"payload counts segments", strings.Repeat("a", 400), Options{Split: SplitPayload, MaxParts: 2},
			"needs 3 parts", 3},
		{"ucs2 counts units", strings.Repeat("👋", 36), Options{MaxParts: 1}, "needs 2 parts", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := SplitText(tt.text, tt.opt)
			var tm *TooManyPartsError
			if !errors.As(err, &tm) || tm.Need != tt.need || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want *TooManyPartsError needing %d with %q", err, tt.need, tt.msg)
			}
		})
	}

	var ee *EncodeError
	if _, err := SplitText("Hi Ж", Options{Encoding: GSM7}); !errors.As(err, &ee) || ee.Index != 3 {
		t.Errorf("gsm7 with Cyrillic: err = %v, want *EncodeError at index 3", err)
	}
	if _, err := SplitText("ж", Options{Encoding: Latin1}); !errors.As(err, &ee) || ee.Encoding != Latin1 {
		t.Errorf("latin1 with Cyrillic: err = %v, want *EncodeError", err)
	}
	for _, enc := range []Encoding{Auto, GSM7, UCS2, Latin1} {
		if _, err := SplitText("ok \xff", Options{Encoding: enc}); !errors.Is(err, ErrInvalidUTF8) {
			t.Errorf("%v with invalid UTF-8: err = %v, want ErrInvalidUTF8", enc, err)
		}
	}
	if _, err := SplitText("x", Options{Encoding: 7}); err == nil {
		t.Error("unknown encoding accepted")
	}
	if _, err := SplitText("x", Options{Split: 9}); err == nil {
		t.Error("unknown split method accepted")
	}
}

func TestSplitText_PartsDoNotShareCapacity(t *testing.T) {
	msg, err := SplitText(strings.Repeat("a", 200), Options{})
	if err != nil {
		t.Fatal(err)
	}
	second := append([]byte{}, msg.Parts[1].ShortMessage...)
	_ = append(msg.Parts[0].ShortMessage, 'X')
	if !bytes.Equal(msg.Parts[1].ShortMessage, second) {
		t.Fatal("appending to part 1 changed part 2")
	}
}

func TestParseSplit(t *testing.T) {
	for _, m := range []Split{SplitUDH, SplitUDH16, SplitSAR, SplitPayload} {
		if got, err := ParseSplit(strings.ToUpper(m.String())); err != nil || got != m {
			t.Errorf("ParseSplit(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseSplit("tlv"); err == nil || !strings.Contains(err.Error(), "udh, udh16, sar or payload") {
		t.Errorf("ParseSplit(tlv) error = %v", err)
	}
}

func TestParseUDH(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		ref   uint16
		total uint8
		seq   uint8
		rest  string
		ok    bool
	}{
		{"8-bit", "05 00 03 A7 02 01 48 69", 0xA7, 2, 1, "48 69", true},
		{"16-bit", "06 08 04 12 34 02 02 48", 0x1234, 2, 2, "48", true},
		{"port element first", "0B 05 04 0B 84 23 F0 00 03 05 03 03 41", 5, 3, 3, "41", true},
		{"no text", "05 00 03 01 01 01", 1, 1, 1, "", true},
		{"no concatenation element", "06 05 04 0B 84 23 F0 41", 0, 0, 0, "", false},
		{"seq beyond total", "05 00 03 01 02 03", 0, 0, 0, "", false},
		{"total 0", "05 00 03 01 00 00", 0, 0, 0, "", false},
		{"UDHL beyond data", "09 00 03 01 02 01", 0, 0, 0, "", false},
		{"element length beyond UDH", "05 00 07 01 02 01", 0, 0, 0, "", false},
		{"dangling IEI", "01 00", 0, 0, 0, "", false},
		{"empty", "", 0, 0, 0, "", false},
		{"wrong length for IEI 0", "04 00 02 01 02", 0, 0, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, total, seq, rest, ok := ParseUDH(mustHex(t, tt.in))
			if ok != tt.ok || ref != tt.ref || total != tt.total || seq != tt.seq || !bytes.Equal(rest, mustHex(t, tt.rest)) {
				t.Errorf("ParseUDH(%s) = %#x %d %d % X %v; want %#x %d %d %s %v",
					tt.in, ref, total, seq, rest, ok, tt.ref, tt.total, tt.seq, tt.rest, tt.ok)
			}
		})
	}
}
