package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"

	"github.com/sessionkit/sessiond/pkg/session"
)

var introspectEndpoint = endpoint{methods: []string{http.MethodPost}}

// Introspect serves POST /api/introspect (RFC 7662) for resource servers
// holding the introspection key (or the admin key). The answer is exactly
// {"active":false} for any token that is not active, whatever the reason.
func (a *App) Introspect(w http.ResponseWriter, r *http.Request) {
	a.handle(w, r, introspectEndpoint, func(c *call) error {
		key, err := c.requireKey("the introspection key", c.st.introspectKey, c.st.adminKey)
		if err != nil {
			return err
		}
		kind, body, err := readBody(w, r, true)
		if err != nil {
			return err
		}
		req, endUser, err := parseIntrospect(kind, body)
		if err != nil {
			return err
		}
		res, err := c.st.m.Introspect(c.ctx, req.Token, session.IntrospectRequest{
			Caller: key.caller, Client: c.client, EndUser: endUser,
		})
		if err != nil {
			return err
		}
		buf := introspectBufs.Get().(*[]byte)
		*buf = res.AppendJSON((*buf)[:0])
		writeRaw(w, http.StatusOK, *buf)
		if cap(*buf) <= 4096 {
			introspectBufs.Put(buf)
		}
		return nil
	})
}

// introspectBufs holds answer buffers: the ResponseWriter copies what it
// is given, so a buffer is free again once Write returns.
var introspectBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// callerID is a stable, non-secret name for the key a resource server
// presented: a short prefix of its SHA-256, enough to key a rate limit and
// to tell two callers apart in the audit, useless for guessing the key.
func callerID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "key-" + hex.EncodeToString(sum[:6])
}
