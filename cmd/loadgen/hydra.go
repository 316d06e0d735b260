package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
)

// hydra speaks to Ory Hydra v2 (run with DSN=memory serve all --dev): its
// admin API to register a client_credentials client, its public token
// endpoint and its admin introspection endpoint.
type hydra struct {
	public string // "http://127.0.0.1:4444"
	admin  string // "http://127.0.0.1:4445"
	client *http.Client
	seedN  int
	seedC  int

	once     sync.Once
	err      error
	basic    string // "Basic ..." for the registered client
	tokens   []string
	seedOnce sync.Once
	seedErr  error
}

// register creates a client_credentials client with a random secret (once).
func (h *hydra) register(ctx context.Context) error {
	h.once.Do(func() {
		var raw [24]byte
		if _, err := rand.Read(raw[:]); err != nil {
			h.err = err
			return
		}
		secret := hex.EncodeToString(raw[:])
		body := `{"client_name":"loadgen","client_secret":"` + secret + `",` +
			`"grant_types":["client_credentials"],"token_endpoint_auth_method":"client_secret_basic"}`
		rq := &requester{client: h.client}
		defer rq.close()
		c := rq.do(ctx, http.MethodPost, h.admin+"/admin/clients", ctJSON, body)
		var out struct {
			ClientID string `json:"client_id"`
		}
		if c.err != nil || c.status != http.StatusCreated || json.Unmarshal(c.body, &out) != nil || out.ClientID == "" {
			h.err = describeFailure("hydra: POST /admin/clients", c, http.StatusCreated)
			return
		}
		// RFC 6749 section 2.3.1: id and secret are form-encoded before Basic.
		cred := url.QueryEscape(out.ClientID) + ":" + url.QueryEscape(secret)
		h.basic = "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
	})
	return h.err
}

func (h *hydra) grant(ctx context.Context, rq *requester) call {
	return rq.do(ctx, http.MethodPost, h.public+"/oauth2/token", ctForm, "grant_type=client_credentials",
		header{"Authorization", h.basic})
}

// seed fetches seedN access tokens for introspection (once).
func (h *hydra) seed(ctx context.Context) error {
	h.seedOnce.Do(func() {
		if h.seedErr = h.register(ctx); h.seedErr != nil {
			return
		}
		n, conc := max(h.seedN, 1), max(h.seedC, 1)
		h.tokens = make([]string, n)
		var (
			next    atomic.Int64
			wg      sync.WaitGroup
			errOnce sync.Once
		)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rq := &requester{client: h.client}
				defer rq.close()
				for {
					i := int(next.Add(1)) - 1
					if i >= n || ctx.Err() != nil {
						return
					}
					c := h.grant(ctx, rq)
					var tr tokenResponse
					if c.err != nil || c.status != http.StatusOK || json.Unmarshal(c.body, &tr) != nil || tr.AccessToken == "" {
						errOnce.Do(func() {
							h.seedErr = describeFailure("hydra: POST /oauth2/token", c, http.StatusOK)
							cancel()
						})
						return
					}
					h.tokens[i] = tr.AccessToken
				}
			}()
		}
		wg.Wait()
		if h.seedErr == nil && ctx.Err() != nil {
			h.seedErr = ctx.Err()
		}
	})
	return h.seedErr
}

// hydraTokenScenario: client_credentials grants at /oauth2/token.
type hydraTokenScenario struct {
	h *hydra
	workers
}

func (sc *hydraTokenScenario) Prepare(ctx context.Context, n int) error {
	if err := sc.h.register(ctx); err != nil {
		return err
	}
	sc.reset(n, sc.h.client)
	return nil
}

func (sc *hydraTokenScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	rec.Observe(ctx, "hydra-token", sc.h.grant(ctx, sc.rq[w]), http.StatusOK, checkContains("access_token"))
	return true
}

// hydraIntrospectScenario: POST /admin/oauth2/introspect of pre-issued
// access tokens, walked like introspectScenario walks ours.
type hydraIntrospectScenario struct {
	h *hydra
	workers
	cursor []int
}

func (sc *hydraIntrospectScenario) Prepare(ctx context.Context, n int) error {
	if err := sc.h.seed(ctx); err != nil {
		return err
	}
	sc.reset(n, sc.h.client)
	sc.cursor = spread(n, len(sc.h.tokens))
	return nil
}

func (sc *hydraIntrospectScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	tok := sc.h.tokens[sc.cursor[w]%len(sc.h.tokens)]
	sc.cursor[w]++
	c := sc.rq[w].do(ctx, http.MethodPost, sc.h.admin+"/admin/oauth2/introspect", ctForm, "token="+url.QueryEscape(tok))
	rec.Observe(ctx, "hydra-introspect", c, http.StatusOK, checkActive)
	return true
}
