package token

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// AccessClaims are the variable claims of an access token. The fixed ones
// (iss, aud) come from the Signer and are checked by the Verifier.
//
// Times are carried at one-second precision on the wire (JWT NumericDate):
// Sign truncates them, and Verify returns them in UTC.
type AccessClaims struct {
	Subject   string    // sub: the user id
	SessionID string    // sid: the session the token belongs to
	JTI       string    // jti: the token's own id, used for revocation
	IssuedAt  time.Time // iat
	ExpiresAt time.Time // exp
	Scope     string    // scope: space-separated, omitted from the token when empty
}

// wireClaims is the JSON payload of an access token (RFC 9068 §2.2). Field
// order here is the order on the wire, so a given AccessClaims always
// serialises to the same bytes.
type wireClaims struct {
	Issuer    string           `json:"iss"`
	Audience  audience         `json:"aud"`
	Subject   string           `json:"sub"`
	SessionID string           `json:"sid"`
	ID        string           `json:"jti"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	ExpiresAt *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf,omitempty"`
	Scope     string           `json:"scope,omitempty"`
}

// The jwt.Claims interface, so golang-jwt validates times, iss and aud.
func (c *wireClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c *wireClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c *wireClaims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore, nil }
func (c *wireClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *wireClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *wireClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}

// audience is the aud claim: written as a plain string when it holds one
// value (as every token we sign does), read from a string or an array (RFC
// 7519 §4.1.3). It does not use jwt.ClaimStrings for writing because that
// type's shape depends on a mutable package variable of golang-jwt, and the
// bytes of a token must not change behind the Signer's back.
type audience []string

func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (a *audience) UnmarshalJSON(b []byte) error {
	var cs jwt.ClaimStrings
	if err := cs.UnmarshalJSON(b); err != nil {
		return err
	}
	*a = audience(cs)
	return nil
}

var errMissingClaim = errors.New("required claim missing")

// Validate is called by golang-jwt after its own checks (jwt.ClaimsValidator):
// RFC 9068 §2.2 makes sub, jti and iat required; sid is what ties the token to
// a session, without which it could never be revoked by ending the session.
func (c *wireClaims) Validate() error {
	if c.Subject == "" || c.SessionID == "" || c.ID == "" || c.IssuedAt == nil || c.ExpiresAt == nil {
		return errMissingClaim
	}
	return nil
}

var _ jwt.ClaimsValidator = (*wireClaims)(nil)
