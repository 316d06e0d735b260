package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// keySet fetches sessiond's JWKS and keeps it, refreshing it every maxAge
// (the endpoint says public, max-age=300) and when a token names a key id
// it does not know (a key rotation), at most once per minRefetch so a flood
// of forged kids cannot make it hammer sessiond.
type keySet struct {
	url        string
	http       *http.Client
	maxAge     time.Duration
	minRefetch time.Duration

	mu      sync.Mutex
	keys    map[string]ed25519.PublicKey
	fetched time.Time
}

func newKeySet(url string) *keySet {
	return &keySet{url: url, http: &http.Client{Timeout: 5 * time.Second}, maxAge: 5 * time.Minute, minRefetch: 30 * time.Second}
}

// key returns the public key with id kid.
func (k *keySet) key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	stale := time.Since(k.fetched) > k.maxAge
	if pk, ok := k.keys[kid]; ok && !stale {
		return pk, nil
	}
	if stale || time.Since(k.fetched) > k.minRefetch {
		if err := k.fetchLocked(ctx); err != nil && k.keys == nil {
			return nil, err
		}
	}
	if pk, ok := k.keys[kid]; ok {
		return pk, nil
	}
	return nil, errors.New("unknown key id")
}

func (k *keySet) fetchLocked(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return err
	}
	res, err := k.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("jwks: HTTP %d", res.StatusCode)
	}
	var set struct {
		Keys []struct {
			Kty, Crv, X, Kid, Use, Alg string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, j := range set.Keys {
		if j.Kty != "OKP" || j.Crv != "Ed25519" || j.Kid == "" {
			continue
		}
		x, err := base64.RawURLEncoding.DecodeString(j.X)
		if err != nil || len(x) != ed25519.PublicKeySize {
			continue
		}
		keys[j.Kid] = ed25519.PublicKey(x)
	}
	k.keys, k.fetched = keys, time.Now()
	return nil
}
