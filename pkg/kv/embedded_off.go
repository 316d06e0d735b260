//go:build noembedded

package kv

import "fmt"

// Embedded is not available in this binary: it was built with -tags
// noembedded (see embedded.go). NewEmbedded always fails, so Open reports
// a configuration error when no store is configured instead of starting an
// in-process one.
type Embedded struct {
	*Redis
}

// NewEmbedded fails: this binary has no embedded store.
func NewEmbedded() (*Embedded, error) {
	return nil, fmt.Errorf("%w: no KV store configured, and this binary is built without the embedded store "+
		"(-tags noembedded); set KV_REST_API_URL and KV_REST_API_TOKEN (or REDIS_URL)", ErrConfig)
}

// Addr is empty: there is no server.
func (e *Embedded) Addr() string { return "" }
