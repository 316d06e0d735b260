package kv

import (
	"context"
	"strings"
	"sync"
)

// Counting wraps a Client and counts its round trips, for tests that pin
// how many trips an operation costs ("one KV round trip per refresh"). Each
// Do, each non-empty Pipeline and each Run is one trip; a Run that meets
// NOSCRIPT counts its fallback trip too when the wrapped Client is one of
// this package's (they report it). Calls that fail count all the same: they
// were attempted.
//
// Log records, per trip, the upper-cased command names sent, e.g.
// [["EVALSHA"] ["SCRIPT" "EVALSHA"] ["GET"] ["SET" "PEXPIRE"]]. Counting is
// safe for concurrent use; the order of trips from concurrent calls is the
// order in which they were made.
type Counting struct {
	inner Client
	mu    sync.Mutex
	log   [][]string
}

var (
	_ Client         = (*Counting)(nil)
	_ observedRunner = (*Counting)(nil)
)

// NewCounting returns a Counting over inner, starting at zero.
func NewCounting(inner Client) *Counting { return &Counting{inner: inner} }

// Reset forgets the trips counted so far.
func (c *Counting) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = nil
}

// Trips returns the number of round trips since NewCounting or Reset.
func (c *Counting) Trips() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.log)
}

// Log returns a copy of the command names of each trip, in order.
func (c *Counting) Log() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]string, len(c.log))
	for i, t := range c.log {
		out[i] = append([]string(nil), t...)
	}
	return out
}

// Unwrap returns the wrapped Client.
func (c *Counting) Unwrap() Client { return c.inner }

func (c *Counting) trip(names []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, names)
}

// Do counts one trip and runs the command on the wrapped Client.
func (c *Counting) Do(ctx context.Context, args ...any) (any, error) {
	c.trip([]string{nameOf(args)})
	return c.inner.Do(ctx, args...)
}

// Pipeline counts one trip (none for an empty batch) and runs the batch.
func (c *Counting) Pipeline(ctx context.Context, cmds ...[]any) ([]Result, error) {
	if len(cmds) > 0 {
		names := make([]string, len(cmds))
		for i, cmd := range cmds {
			names[i] = nameOf(cmd)
		}
		c.trip(names)
	}
	return c.inner.Pipeline(ctx, cmds...)
}

// Run counts the script's trips: one, or two after NOSCRIPT.
func (c *Counting) Run(ctx context.Context, s *Script, keys []string, args ...any) (any, error) {
	return c.runObserved(ctx, s, keys, args, noTrip)
}

func (c *Counting) runObserved(ctx context.Context, s *Script, keys []string, args []any, trip func([]string)) (any, error) {
	both := func(names []string) {
		c.trip(names)
		trip(names)
	}
	if o, ok := c.inner.(observedRunner); ok {
		return o.runObserved(ctx, s, keys, args, both)
	}
	both([]string{"EVALSHA"})
	return c.inner.Run(ctx, s, keys, args...)
}

// Close closes the wrapped Client.
func (c *Counting) Close() error { return c.inner.Close() }

func nameOf(args []any) string {
	if len(args) == 0 {
		return ""
	}
	if s, ok := argString(args[0]); ok {
		return strings.ToUpper(s)
	}
	return "?"
}
