package upstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Tokens are the provider's tokens held for one session. They are secrets:
// store them only sealed (SealTokens), never log them. String, GoString and
// LogValue print which tokens are present, never their values; MarshalJSON
// does print them (it exists for sealing).
type Tokens struct {
	AccessToken  string
	RefreshToken string
	IDToken      string
	TokenType    string // as the provider sent it, usually "Bearer"
	Scope        string // granted scope, when the provider said
	// Expiry is when AccessToken expires; zero when unknown (the provider
	// sent no usable expires_in and the access token is not a JWT with exp).
	// Tokens with an unknown expiry are never refreshed proactively.
	Expiry time.Time

	// PrevRefreshToken is the refresh token the provider rotated away on
	// the last refresh, kept until PrevRefreshUntil in case the provider did
	// not commit the rotation it answered (RefreshTokens falls back to it
	// once on invalid_grant). Empty when the last refresh did not rotate.
	PrevRefreshToken string
	PrevRefreshUntil time.Time
}

// NeedsRefresh reports whether t's access token expires within window of now
// (or has expired) and there is a refresh token to refresh it with. A zero
// window means DefaultRefreshWindow. An unknown (zero) Expiry never needs
// refreshing: there is nothing to schedule it by.
func NeedsRefresh(t Tokens, now time.Time, window time.Duration) bool {
	if window <= 0 {
		window = DefaultRefreshWindow
	}
	if t.RefreshToken == "" || t.Expiry.IsZero() {
		return false
	}
	return !now.Before(t.Expiry.Add(-window))
}

// merge returns next completed from t, the tokens it refreshed: the fields a
// refresh response may omit (id_token; scope, which RFC 6749 §5.1 says is
// then unchanged; token_type) are carried over, and so is a still-valid
// previous refresh token when next did not rotate.
func (t Tokens) merge(next Tokens, now time.Time) Tokens {
	if next.IDToken == "" {
		next.IDToken = t.IDToken
	}
	if next.Scope == "" {
		next.Scope = t.Scope
	}
	if next.TokenType == "" {
		next.TokenType = t.TokenType
	}
	if next.PrevRefreshToken == "" && t.PrevRefreshToken != "" &&
		t.PrevRefreshToken != next.RefreshToken && now.Before(t.PrevRefreshUntil) {
		next.PrevRefreshToken, next.PrevRefreshUntil = t.PrevRefreshToken, t.PrevRefreshUntil
	}
	return next
}

// tokensJSON is the compact stored form: short keys, times in Unix seconds
// (0 = unknown), empty fields left out.
type tokensJSON struct {
	AT  string `json:"at,omitempty"`
	RT  string `json:"rt,omitempty"`
	IT  string `json:"it,omitempty"`
	TT  string `json:"tt,omitempty"`
	SC  string `json:"sc,omitempty"`
	Exp int64  `json:"exp,omitempty"`
	PRT string `json:"prt,omitempty"`
	PRU int64  `json:"pru,omitempty"`
}

// maxUnix bounds stored times to year 9999, so that every accepted value
// marshals back (time.Time cannot format years past 9999 in RFC 3339) and
// Add does not overflow.
const maxUnix = 253402300799

var errTokensJSON = errors.New("upstream: malformed tokens record")

// MarshalJSON encodes t compactly, times with second precision.
func (t Tokens) MarshalJSON() ([]byte, error) {
	return json.Marshal(tokensJSON{
		AT: t.AccessToken, RT: t.RefreshToken, IT: t.IDToken, TT: t.TokenType, SC: t.Scope,
		Exp: unixOrZero(t.Expiry), PRT: t.PrevRefreshToken, PRU: unixOrZero(t.PrevRefreshUntil),
	})
}

// UnmarshalJSON decodes what MarshalJSON wrote. Unknown keys are ignored
// (forward compatibility); times outside [0, year 9999] are an error.
func (t *Tokens) UnmarshalJSON(b []byte) error {
	var j tokensJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return errTokensJSON
	}
	exp, err := fromUnix(j.Exp)
	if err != nil {
		return err
	}
	pru, err := fromUnix(j.PRU)
	if err != nil {
		return err
	}
	*t = Tokens{
		AccessToken: j.AT, RefreshToken: j.RT, IDToken: j.IT, TokenType: j.TT, Scope: j.SC,
		Expiry: exp, PrevRefreshToken: j.PRT, PrevRefreshUntil: pru,
	}
	return nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) (time.Time, error) {
	switch {
	case s == 0:
		return time.Time{}, nil
	case s < 0 || s > maxUnix:
		return time.Time{}, fmt.Errorf("%w: time out of range", errTokensJSON)
	}
	return time.Unix(s, 0).UTC(), nil
}

// String describes t without any token value.
func (t Tokens) String() string {
	exp := "unknown"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("upstream.Tokens{access:%s refresh:%s id:%s prev_refresh:%s expiry:%s}",
		present(t.AccessToken), present(t.RefreshToken), present(t.IDToken), present(t.PrevRefreshToken), exp)
}

// GoString is String, so %#v does not print the tokens either.
func (t Tokens) GoString() string { return t.String() }

// LogValue keeps token values out of slog output.
func (t Tokens) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("access", t.AccessToken != ""),
		slog.Bool("refresh", t.RefreshToken != ""),
		slog.Bool("id", t.IDToken != ""),
		slog.Bool("prev_refresh", t.PrevRefreshToken != ""),
		slog.Time("expiry", t.Expiry),
	)
}

func present(s string) string {
	if s == "" {
		return "-"
	}
	return "set"
}
