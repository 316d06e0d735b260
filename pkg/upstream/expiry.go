package upstream

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// maxExpiresIn is the longest expires_in taken at its word. Longer values
// are not real lifetimes (mockoidc, for one, sends a Go duration in
// nanoseconds); the access token's own exp is used instead, if it has one.
const maxExpiresIn = 366 * 24 * time.Hour

// tokensFrom converts x/oauth2's token into ours, dating Expiry by now (the
// injected clock), not by the time.Now x/oauth2 used.
func tokensFrom(tok *oauth2.Token, now time.Time) Tokens {
	t := Tokens{
		AccessToken:  tok.AccessToken,
		RefreshToken: tok.RefreshToken,
		TokenType:    tok.TokenType,
	}
	t.IDToken, _ = tok.Extra("id_token").(string)
	t.Scope, _ = tok.Extra("scope").(string)
	t.Expiry = accessExpiry(tok, now)
	return t
}

func accessExpiry(tok *oauth2.Token, now time.Time) time.Time {
	secs := tok.ExpiresIn
	if secs == 0 {
		// x/oauth2 fills ExpiresIn only for JSON answers.
		if v, ok := tok.Extra("expires_in").(string); ok {
			secs, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if secs > 0 && time.Duration(secs) <= maxExpiresIn/time.Second {
		return now.Add(time.Duration(secs) * time.Second)
	}
	if exp, ok := jwtExpiry(tok.AccessToken); ok {
		return exp
	}
	return time.Time{}
}

// jwtExpiry reads the exp claim of a JWT without verifying it. The value
// only schedules a proactive refresh; nothing is trusted because of it.
// ok is false for anything that is not a compact JWS with a numeric exp in
// (0, year 9999].
func jwtExpiry(raw string) (time.Time, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 || len(parts[1]) > maxBody {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Exp == nil {
		return time.Time{}, false
	}
	f, err := c.Exp.Float64()
	if err != nil || f <= 0 || f > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0).UTC(), true
}
