package kv

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Embedded is the in-process store for local runs and tests: a
// github.com/alicebob/miniredis/v2 server on a loopback port, reached through
// the very same native client as a real Redis (Redis), so every command and
// script takes the production code path. State lives in memory and is lost
// on Close.
//
// Keys expire with the wall clock, as on a real Redis (miniredis's ClockTTL);
// tests may still move time on with Server().FastForward.
type Embedded struct {
	*Redis
	srv *miniredis.Miniredis
}

var (
	_ Client         = (*Embedded)(nil)
	_ observedRunner = (*Embedded)(nil)
)

// NewEmbedded starts an in-process server on 127.0.0.1 (a free port) and
// returns a Client connected to it. Close stops the server.
func NewEmbedded() (*Embedded, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("kv: start embedded store: %w", err)
	}
	srv.ClockTTL(true)
	return &Embedded{Redis: NewRedis(&redis.Options{Addr: srv.Addr()}), srv: srv}, nil
}

// Server returns the in-process server, for tests that move its clock
// (FastForward) or inspect it. Never nil.
func (e *Embedded) Server() *miniredis.Miniredis { return e.srv }

// Addr returns the loopback address the server listens on.
func (e *Embedded) Addr() string { return e.srv.Addr() }

// Close closes the client and stops the server.
func (e *Embedded) Close() error {
	err := e.Redis.Close()
	e.srv.Close()
	return err
}
