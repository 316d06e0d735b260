package token

// RefreshPrefix starts every refresh token, so a caller can tell the two
// kinds of token apart by shape (RFC 7009 and RFC 7662 take either).
const RefreshPrefix = refreshPrefix

// Issuer returns the iss the Signer puts in every token.
func (s *Signer) Issuer() string { return s.issuer }

// Audience returns the aud the Signer puts in every token.
func (s *Signer) Audience() string { return s.audience[0] }
