package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Introspect asks the provider about token (RFC 7662), authenticating as
// the client. It returns active=false with nil claims for any token the
// provider calls inactive; for an active one, every member of the answer,
// "active" included. A provider that publishes no introspection_endpoint
// gives ErrNotSupported. Transient failures are retried like Refresh; a
// 401/403 or other 4xx (the provider refusing our client) is ErrRejected; an
// answer that is not a JSON object with a boolean "active" is
// ErrUnavailable.
func (p *Provider) Introspect(ctx context.Context, token string) (bool, map[string]any, error) {
	if p == nil {
		return false, nil, ErrNotConfigured
	}
	if token == "" {
		return false, nil, nil
	}
	ctx, cancel := p.opContext(ctx)
	defer cancel()
	s, err := p.current(ctx)
	if err != nil {
		return false, nil, err
	}
	if s.md.IntrospectionEndpoint == "" {
		return false, nil, fmt.Errorf("%w: no introspection_endpoint", ErrNotSupported)
	}
	method := p.authMethod(s.md.IntrospectAuthMethods)
	var (
		active bool
		claims map[string]any
	)
	err = p.withRetries(ctx, "introspection", func(actx context.Context) error {
		status, hdr, body, err := p.postForm(actx, s.md.IntrospectionEndpoint, method, url.Values{"token": {token}})
		if err != nil {
			return err
		}
		if err := statusError(status, hdr, p); err != nil {
			return err
		}
		active, claims, err = parseIntrospection(body)
		if err != nil {
			return unavailable(0, "introspection: %v", err)
		}
		return nil
	})
	return active, claims, err
}

// parseIntrospection decodes an RFC 7662 §2.2 answer. Only a JSON boolean
// true counts as active; claims are returned only for active tokens.
func parseIntrospection(body []byte) (bool, map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return false, nil, errors.New("answer is not a JSON object")
	}
	if dec.More() {
		return false, nil, errors.New("trailing data after the JSON object")
	}
	active, ok := m["active"].(bool)
	if !ok {
		return false, nil, errors.New(`answer has no boolean "active"`)
	}
	if !active {
		return false, nil, nil
	}
	return true, m, nil
}

// statusError classifies a non-200 answer from the introspection or
// revocation endpoint.
func statusError(status int, hdr http.Header, p *Provider) error {
	switch {
	case status == http.StatusOK:
		return nil
	case retryableStatus(status):
		return &transientError{
			reason:     fmt.Sprintf("HTTP %d", status),
			retryAfter: parseRetryAfter(hdr.Get("Retry-After"), p.cfg.Now()),
		}
	default:
		return fmt.Errorf("%w (HTTP %d)", ErrRejected, status)
	}
}
