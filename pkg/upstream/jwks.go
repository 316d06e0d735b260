package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// keySet is the provider's JWKS as go-oidc's verifier sees it. It differs
// from oidc.RemoteKeySet in three ways that matter here:
//   - a token whose kid is unknown causes a fetch at most once per
//     Config.KeyRefetchEvery (RemoteKeySet fetches for every such token,
//     which lets anyone make us hammer the provider with forged tokens);
//   - a failed fetch is reported to VerifyIDToken (through verifyProbe in
//     the context) so that it becomes ErrUnavailable, not ErrInvalidToken:
//     the provider being down must not look like the user's token being bad;
//   - it uses the Provider's HTTP client, timeouts and clock.
//
// It lives inside one discovery state, so it is dropped and fetched afresh
// with the discovery document (Config.DiscoveryTTL).
type keySet struct {
	p    *Provider
	url  string
	algs []jose.SignatureAlgorithm

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	loaded    bool      // at least one fetch succeeded
	lastFetch time.Time // start of the last fetch, successful or not
	inflight  *keysCall
}

var _ oidc.KeySet = (*keySet)(nil)

type keysCall struct {
	done chan struct{}
	keys []jose.JSONWebKey
	err  error
}

// verifyProbe travels in the context of one VerifyIDToken call and records
// whether the key set failed to fetch keys.
type verifyProbe struct{ fetchErr error }

type probeKey struct{}

func withProbe(ctx context.Context) (context.Context, *verifyProbe) {
	pr := &verifyProbe{}
	return context.WithValue(ctx, probeKey{}, pr), pr
}

var (
	errNoKey        = errors.New("no key for this token")
	errBadSignature = errors.New("signature does not verify")
)

// VerifySignature implements oidc.KeySet. go-oidc has already checked the
// algorithm against the pinned list; it is checked again here because the
// JWS is parsed again.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(raw, k.algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, errors.New("malformed jws")
	}
	hdr := jws.Signatures[0].Header
	keys, loaded, mayFetch := k.snapshot()
	if loaded {
		payload, err := verifyWith(jws, keys, hdr.KeyID, hdr.Algorithm)
		if err == nil || errors.Is(err, errBadSignature) || !mayFetch {
			return payload, err
		}
	}
	// No keys yet, or none for this kid: the provider may have rotated.
	// OpenID Connect Core §10.1.1 has clients fetch the JWKS again then.
	keys, err = k.fetch(ctx)
	if err != nil {
		if pr, ok := ctx.Value(probeKey{}).(*verifyProbe); ok {
			pr.fetchErr = err
		}
		return nil, err
	}
	return verifyWith(jws, keys, hdr.KeyID, hdr.Algorithm)
}

// snapshot returns the cached keys and whether a fetch for an unknown kid
// is allowed now.
func (k *keySet) snapshot() (keys []jose.JSONWebKey, loaded, mayFetch bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	may := !k.loaded || k.p.cfg.Now().Sub(k.lastFetch) >= k.p.cfg.KeyRefetchEvery
	return k.keys, k.loaded, may
}

// verifyWith tries the keys that may have made the signature: those with the
// token's kid (all keys when the token has none), meant for signing, and not
// pinned to another algorithm.
func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid, alg string) ([]byte, error) {
	candidates := 0
	for i := range keys {
		key := &keys[i]
		if kid != "" && key.KeyID != kid {
			continue
		}
		if key.Use != "" && key.Use != "sig" {
			continue
		}
		if key.Algorithm != "" && key.Algorithm != alg {
			continue
		}
		candidates++
		if payload, err := jws.Verify(key); err == nil {
			return payload, nil
		}
	}
	if candidates == 0 {
		return nil, errNoKey
	}
	return nil, errBadSignature
}

// fetch loads the JWKS, sharing one request among concurrent callers.
func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	k.mu.Lock()
	c := k.inflight
	if c == nil {
		c = &keysCall{done: make(chan struct{})}
		k.inflight = c
		k.lastFetch = k.p.cfg.Now()
		go k.load(c)
	}
	k.mu.Unlock()
	select {
	case <-c.done:
		return c.keys, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (k *keySet) load(c *keysCall) {
	ctx, cancel := context.WithTimeout(context.Background(), k.p.cfg.RequestTimeout)
	defer cancel()
	body, _, err := k.p.getJSON(ctx, k.url)
	var keys []jose.JSONWebKey
	if err == nil {
		keys, err = parseJWKS(body)
	}
	c.keys, c.err = keys, err
	k.mu.Lock()
	if err == nil {
		k.keys, k.loaded = keys, true
	}
	k.inflight = nil
	k.mu.Unlock()
	close(c.done)
}

// parseJWKS decodes a JWK Set (RFC 7517 §5), keeping the public part of
// every signing key go-jose understands and skipping the rest, as §5 asks
// ("implementations SHOULD ignore JWKs within a JWK Set that use kty values
// that are not understood by them"). A set without one usable key is an
// error.
func parseJWKS(body []byte) ([]jose.JSONWebKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("jwks is not valid JSON")
	}
	var out []jose.JSONWebKey
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(raw); err != nil || !key.Valid() {
			continue
		}
		if key.Algorithm != "" && !supportedAlgs[key.Algorithm] {
			continue
		}
		pub := key.Public()
		if !pub.Valid() {
			continue
		}
		out = append(out, pub)
	}
	if len(out) == 0 {
		return nil, errors.New("jwks has no usable signing key")
	}
	return out, nil
}
