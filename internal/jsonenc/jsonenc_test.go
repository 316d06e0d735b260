package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// strings covers every branch of AppendString: plain ASCII, the short
// escapes, other control bytes, the HTML-sensitive <, > and &, multi-byte
// UTF-8, U+2028/U+2029, invalid UTF-8 and an encoded surrogate half.
var strings = []string{
	"", "a", "sd:", "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64) \"quoted\" \\ back",
	"<script>&amp;</script>", "tab\there\nnew\rret\bbs\fff", "\x00\x01\x1f\x7f", "é ü 日本 🙂",
	"\u2028\u2029", "bad \xff\xfe utf8 \xc3", "\xed\xa0\x80 surrogate", "key-0123456789ab",
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range strings {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); !bytes.Equal(got[1:], want) || got[0] != 'x' {
			t.Errorf("%q:\nours: %s\njson: %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range strings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\nours: %s\njson: %s", s, got, want)
		}
	})
}
