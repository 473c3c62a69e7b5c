package coding

import "testing"

func TestTransliterate(t *testing.T) {
	tests := []struct {
		name, in, want string
		changed        bool
	}{
		{"curly quotes", "‘Hi’ “there”", `'Hi' "there"`, true},
		{"low and reversed quotes", "„Ja‟ ‚so‛", `"Ja" 'so'`, true},
		{"guillemets", "«Bonjour» ‹toi›", `"Bonjour" 'toi'`, true},
		{"apostrophe look-alikes", "don`t donʼt don´t", "don't don't don't", true},
		{"primes", "5′ 10″", `5' 10"`, true},
		{"dashes and minus", "a‐b‑c‒d–e—f―g −5", "a-b-c-d-e-f-g -5", true},
		{"spaces", "a\u00A0b\u2002c\u2009d\u202Fe\u3000f\tg", "a b c d e f g", true},
		{"ellipsis", "Wait…", "Wait...", true},
		{"bullets", "• one\n◦ two", "- one\n- two", true},
		{"invisible characters", "\uFEFFab\u200Bc\u00ADd\u200E", "abcd", true},
		{"line separator", "a\u2028b", "a\nb", true},
		{"slashes, tilde, caret, bar, times", "1⁄2 ˜ ˆ ¦ 3×4", "1/2 ~ ^ | 3x4", true},
		{"extension characters stay", "€10 – {ok}", "€10 - {ok}", true},
		{"already GSM", "Hello, World! €", "Hello, World! €", false},
		{"UCS-2 anyway: Cyrillic", "Привет — друг", "Привет — друг", false},
		{"UCS-2 anyway: emoji", "Hi “you” 👋", "Hi “you” 👋", false},
		{"accented letter outside GSM is not changed", "Olá – tudo", "Olá – tudo", false},
		{"invalid UTF-8 is left alone", "a\xff–", "a\xff–", false},
		{"empty", "", "", false},
		{"a combining accent composes to a GSM letter", "Cafe\u0301 \u2013 ok", "Caf\u00e9 - ok", true},
		{"only a combining accent", "U\u0308ber", "\u00dcber", true},
		{"a composed letter outside GSM is not changed", "O\u0301la \u2013 tudo", "O\u0301la \u2013 tudo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := Transliterate(tt.in)
			if got != tt.want || changed != tt.changed {
				t.Fatalf("Transliterate(%q) = %q, %v; want %q, %v", tt.in, got, changed, tt.want, tt.changed)
			}
			if _, ok := GSM7Len(got); changed && !ok {
				t.Errorf("changed text %q is not GSM 7-bit", got)
			}
		})
	}
}

// TestTransliterate_Table checks every entry: the character forces UCS-2, its replacement
// does not.
func TestTransliterate_Table(t *testing.T) {
	if len(lookalikes) < 50 {
		t.Fatalf("table has %d entries", len(lookalikes))
	}
	for r, rep := range lookalikes {
		if _, ok := GSM7Len(string(r)); ok {
			t.Errorf("U+%04X %q already has a GSM code; it does not belong in the table", r, r)
		}
		if _, ok := GSM7Len(rep); !ok {
			t.Errorf("U+%04X maps to %q, which is not GSM 7-bit", r, rep)
		}
		if got, changed := Transliterate("x" + string(r) + "y"); got != "x"+rep+"y" || !changed {
			t.Errorf("Transliterate(x%cy) = %q, %v", r, got, changed)
		}
	}
}
