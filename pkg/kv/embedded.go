//go:build !noembedded

package kv

import (
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Embedded is the in-process store for local runs and tests: a
// github.com/alicebob/miniredis/v2 server on a loopback port, reached through
// the very same native client as a real Redis (Redis), so every command and
// script takes the production code path. State lives in memory and is lost
// on Close.
//
// Building with -tags noembedded leaves it (and miniredis with its Lua
// interpreter, about 2 MB) out of the binary: a deployed function never
// uses it, and a smaller binary starts sooner (docs/performance.md). Open
// then reports a configuration error where it would have chosen it.
//
// Keys expire with the wall clock, as on a real Redis, to within
// embeddedTick while the store is small; tests may still move time on with
// Server().FastForward.
// (miniredis's own ClockTTL does the same on every command, scripts'
// redis.call included, by walking and sorting every key: at a few thousand
// keys that made one session script cost tens of milliseconds. A ticker
// does the walk a few times a second instead.)
type Embedded struct {
	*Redis
	srv  *miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
}

// embeddedTick is how often the embedded store expires keys while that is
// cheap. Each pass walks and sorts every key with the server locked, so its
// cost grows with the data: the next pass waits at least
// embeddedTickFactor times as long as the last one took (a pass over half a
// million keys takes a good part of a second), which keeps expiry below
// about 1/embeddedTickFactor of the time instead of locking the store for
// good under a load test. Expiry then lags by that much more; TTLs still
// count from the real elapsed time.
const (
	embeddedTick       = 100 * time.Millisecond
	embeddedTickFactor = 20
)

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
	e := &Embedded{Redis: NewRedis(&redis.Options{Addr: srv.Addr()}), srv: srv,
		stop: make(chan struct{}), done: make(chan struct{})}
	go e.expire()
	return e, nil
}

// expire moves the server's TTL clock with the wall clock until Close.
func (e *Embedded) expire() {
	defer close(e.done)
	t := time.NewTimer(embeddedTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-e.stop:
			return
		case now := <-t.C:
			e.srv.FastForward(now.Sub(last))
			last = now
			t.Reset(max(embeddedTick, embeddedTickFactor*time.Since(now)))
		}
	}
}

// Server returns the in-process server, for tests that move its clock
// (FastForward) or inspect it. Never nil.
func (e *Embedded) Server() *miniredis.Miniredis { return e.srv }

// Addr returns the loopback address the server listens on.
func (e *Embedded) Addr() string { return e.srv.Addr() }

// Close closes the client and stops the server.
func (e *Embedded) Close() error {
	close(e.stop)
	<-e.done
	err := e.Redis.Close()
	e.srv.Close()
	return err
}
