package upstream

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// postForm POSTs form to endpoint with client authentication by method and
// returns the status, headers and (capped) body. Transport failures come
// back as *transientError. The form is never part of any error.
func (p *Provider) postForm(ctx context.Context, endpoint, method string, form url.Values) (int, http.Header, []byte, error) {
	form = cloneValues(form)
	switch method {
	case AuthMethodPost:
		form.Set("client_id", p.cfg.ClientID)
		form.Set("client_secret", p.cfg.ClientSecret)
	case AuthMethodNone:
		form.Set("client_id", p.cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, &transientError{reason: "bad endpoint URL"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if method == AuthMethodBasic {
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic.
		req.SetBasicAuth(url.QueryEscape(p.cfg.ClientID), url.QueryEscape(p.cfg.ClientSecret))
	}
	resp, err := p.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, nil, &transientError{reason: transportReason(err).Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return 0, nil, nil, &transientError{reason: "reading the response failed"}
	}
	return resp.StatusCode, resp.Header, body, nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
