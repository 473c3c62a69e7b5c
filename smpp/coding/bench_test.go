package coding

import (
	"strings"
	"testing"
)

// BenchmarkSplitText measures the per-message cost the plan and send commands pay (1,000,000
// rows in 5 s leaves 5 µs per row for everything, CSV and number parsing included).
func BenchmarkSplitText(b *testing.B) {
	cases := []struct {
		name string
		text string
		opt  Options
	}{
		{"gsm7-160", strings.Repeat("Hello Anna, your code is 123456. ", 5)[:160], Options{}},
		{"gsm7-3parts", strings.Repeat("Hello Anna, your code is 123456. ", 13)[:400], Options{Ref: 42}},
		{"gsm7-3parts-packed", strings.Repeat("Hello Anna, your code is 123456. ", 13)[:400], Options{Ref: 42, Packed: true}},
		{"ucs2-3parts", strings.Repeat("Привет, Анна! Ваш код 123456. 👋 ", 5), Options{Ref: 42}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			msg, err := SplitText(c.text, c.opt)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(len(msg.Parts)), "parts")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := SplitText(c.text, c.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTransliterate(b *testing.B) {
	text := "“Hello” – your order… is ready"
	b.ReportAllocs()
	for b.Loop() {
		Transliterate(text)
	}
}
