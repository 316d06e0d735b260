package session

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeDevice: any input either decodes to a Device that passes
// Validate and survives a JSON round trip, or fails with ErrDevice. Never a
// panic.
func FuzzDecodeDevice(f *testing.F) {
	seed, _ := json.Marshal(laptop())
	for _, s := range []string{string(seed), `{}`, `null`, `[]`, `{"screen_width":"wide"}`, `{"languages":[1]}`,
		`{"pixel_ratio":1e309}`, `{"do_not_track":"1"}`, `{"user_agent":"` + string(make([]byte, 600)) + `"}`, "{\"os\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := DecodeDevice(data)
		if err != nil {
			if !errors.Is(err, ErrDevice) {
				t.Fatalf("error %v does not wrap ErrDevice", err)
			}
			return
		}
		if d == nil {
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("decoded device fails Validate: %v", err)
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := DecodeDevice(again)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		f1, f2 := d.Features(), d2.Features()
		if sim, _ := Similarity(f1, f2); len(f1) > 0 && sim != 1 {
			t.Fatalf("round trip changed features: %v vs %v", f1, f2)
		}
	})
}

// FuzzRefreshToken: whatever string is presented as a refresh token, the
// Manager answers ErrInvalidGrant or a rate limit, never another error or
// a panic, and never issues anything.
func FuzzRefreshToken(f *testing.F) {
	e := newEnv(f, nil)
	is := e.create(f, "fuzz")
	for _, s := range []string{"", "rt1.", is.RefreshToken, is.RefreshToken[:len(is.RefreshToken)-1] + "A", is.AccessToken, "rt1." + string(make([]byte, 200))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if tok == is.RefreshToken {
			return
		}
		r, err := e.refresh(tok)
		var rl *RateLimitError
		if r != nil || (err != nil && !errors.Is(err, ErrInvalidGrant) && !errors.As(err, &rl)) {
			t.Fatalf("refresh(%q) = %v, %v", tok, r, err)
		}
	})
}

// FuzzAuditCursor: whatever a client sends as before=, the store never
// sees a cursor it refuses: Audit answers a page or *InvalidRequestError.
func FuzzAuditCursor(f *testing.F) {
	e := newEnv(f, nil)
	e.create(f, "cursor")
	for _, s := range []string{"0-0", "1-1", "99999999999999999999-1", "18446744073709551615-18446744073709551615", "-1", "1-", "+1-1", "1-2-3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, before string) {
		_, err := e.Audit(e.ctx, AuditQuery{Before: before})
		var ire *InvalidRequestError
		if err != nil && !errors.As(err, &ire) {
			t.Fatalf("Audit(before=%q): %v", before, err)
		}
	})
}
