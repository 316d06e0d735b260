// Package embedded is the in-process KV store for local runs and tests: a
// github.com/alicebob/miniredis/v2 server on a loopback port, reached through
// the very same native client as a real Redis (kv.Redis), so every command
// and script takes the production code path. State lives in memory and is
// lost on Close.
//
// Importing the package registers the store with kv.Open, which then uses it
// when no KV store is configured:
//
//	import _ "github.com/sessionkit/sessiond/pkg/kv/embedded"
//
// cmd/sessiond imports it; the Vercel functions under api/ do not, so
// miniredis and its Lua interpreter (about 2 MB) are never linked into a
// deployed function, whatever flags it is built with (a function started
// with no store configured gets a configuration error, never a store of its
// own that no other function could see).
package embedded

import (
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sessionkit/sessiond/pkg/kv"
)

func init() {
	kv.RegisterEmbedded(func() (kv.LocalStore, error) { return New() })
}

// Store is the embedded store: a kv.Redis client connected to an in-process
// miniredis server.
//
// Keys expire with the wall clock, as on a real Redis, to within tick while
// the store is small; tests may still move time on with
// Server().FastForward. (miniredis's own ClockTTL does the same on every
// command, scripts' redis.call included, by walking and sorting every key:
// at a few thousand keys that made one session script cost tens of
// milliseconds. A ticker does the walk a few times a second instead.)
type Store struct {
	*kv.Redis
	srv  *miniredis.Miniredis
	stop chan struct{}
	done chan struct{}
}

// tick is how often the store expires keys while that is cheap. Each pass
// walks and sorts every key with the server locked, so its cost grows with
// the data: the next pass waits at least tickFactor times as long as the
// last one took (a pass over half a million keys takes a good part of a
// second), which keeps expiry below about 1/tickFactor of the time instead
// of locking the store for good under a load test. Expiry then lags by that
// much more; TTLs still count from the real elapsed time.
const (
	tick       = 100 * time.Millisecond
	tickFactor = 20
)

var _ kv.LocalStore = (*Store)(nil)

// New starts an in-process server on 127.0.0.1 (a free port) and returns a
// client connected to it. Close stops the server.
func New() (*Store, error) {
	srv := miniredis.NewMiniRedis()
	if err := srv.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("kv: start embedded store: %w", err)
	}
	s := &Store{Redis: kv.NewRedis(&redis.Options{Addr: srv.Addr()}), srv: srv,
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.expire()
	return s, nil
}

// expire moves the server's TTL clock with the wall clock until Close.
func (s *Store) expire() {
	defer close(s.done)
	t := time.NewTimer(tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.srv.FastForward(now.Sub(last))
			last = now
			t.Reset(max(tick, tickFactor*time.Since(now)))
		}
	}
}

// Server returns the in-process server, for tests that move its clock
// (FastForward) or inspect it. Never nil.
func (s *Store) Server() *miniredis.Miniredis { return s.srv }

// Addr returns the loopback address the server listens on.
func (s *Store) Addr() string { return s.srv.Addr() }

// Close closes the client and stops the server.
func (s *Store) Close() error {
	close(s.stop)
	<-s.done
	err := s.Redis.Close()
	s.srv.Close()
	return err
}
