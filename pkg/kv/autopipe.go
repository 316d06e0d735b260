package kv

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Automatic pipelining of the native transport's single commands.
//
// Under concurrent load most of a request's cost on both ends of a loopback
// or LAN connection is the system calls: one write and one read per command
// in the service, and the same again in Redis, each write also paying for
// the receiver's TCP processing. Commands issued at the same moment by
// different requests are therefore sent together: every Do (and the EVALSHA
// of every Run) joins a queue, and at most maxLanes batches are on the wire
// at once, each one pipeline (one write, one read) of up to maxBatch queued
// commands. A caller that finds a lane free does not hand its command to
// another goroutine: it runs the lane itself, so a lone request costs what
// a plain Do costs.
//
// Nothing about an operation changes: each command is still one command,
// with its own reply and its own error, and a script still runs atomically
// in Redis. Batching changes only how commands share a connection. A
// caller whose context ends while its command is queued returns at once,
// and the command is never sent; one whose command a lane has taken waits
// for that batch. A batch's socket deadline is the latest of its commands'
// deadlines (or the client's read timeout), so one short deadline does not
// fail its neighbours. When the
// connection breaks mid-batch, every command of the batch fails with a
// TransportError, as a lone command on that connection would have: the
// caller cannot know whether it ran, and no command is ever resent.
const autoPipeMaxBatch = 64

// DefaultPipelineLanes is how many automatic pipelines the native transport
// keeps on the wire at once unless SESSIOND_KV_LANES says otherwise. One
// measured best on the 2-core machine of docs/performance.md: the larger
// the batches, the fewer system calls on both ends, and Redis runs commands
// one at a time whatever the number of connections.
const DefaultPipelineLanes = 1

type pcall struct {
	ctx  context.Context
	args []any
	val  any
	err  error
	done chan struct{}

	taken    bool // by a lane, under autoPipe.mu: it will be sent or answered
	answered bool // by the lane that took it (only that goroutine reads it)
}

// answer hands the result to the caller; the lane that took the call
// answers it exactly once.
func (c *pcall) answer() {
	c.answered = true
	close(c.done)
}

type autoPipe struct {
	rdb      *redis.Client
	maxLanes int

	mu    sync.Mutex
	queue []*pcall
	lanes int

	batches, cmds atomic.Int64 // sent so far, for tests and benchmarks
}

func newAutoPipe(rdb *redis.Client, maxLanes int) *autoPipe {
	if maxLanes < 1 {
		maxLanes = 1
	}
	return &autoPipe{rdb: rdb, maxLanes: maxLanes}
}

// do runs one command (already converted by nativeArgs) and returns
// go-redis's value and error for it.
func (p *autoPipe) do(ctx context.Context, args []any) (any, error) {
	c := &pcall{ctx: ctx, args: args, done: make(chan struct{})}
	p.mu.Lock()
	p.queue = append(p.queue, c)
	if p.lanes < p.maxLanes {
		p.lanes++
		p.mu.Unlock()
		p.lead(c)
	} else {
		p.mu.Unlock()
	}
	// Answered already when this caller's lane sent it; otherwise another
	// lane took it from the queue first.
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
	}
	// The caller gives up. A command still queued leaves the queue and is
	// never sent. One a lane has taken is being sent: wait for its batch
	// (bounded by the batch's deadline or the client's timeouts), because
	// its arguments may be the caller's buffers, reused once this returns.
	p.mu.Lock()
	if !c.taken {
		if i := slices.Index(p.queue, c); i >= 0 {
			p.queue = slices.Delete(p.queue, i, i+1)
		}
		p.mu.Unlock()
		return nil, ctx.Err()
	}
	p.mu.Unlock()
	<-c.done
	return c.val, c.err
}

// lead runs batches on the lane the caller took until the caller's own
// command is answered or the queue is empty (another lane took the command),
// then leaves the lane to a goroutine if commands are still queued, so none
// waits for a caller that is not coming.
func (p *autoPipe) lead(own *pcall) {
	for {
		batch := p.take()
		if batch == nil {
			return // the queue is empty and take released the lane
		}
		p.exec(batch)
		select {
		case <-own.done:
			p.mu.Lock()
			if len(p.queue) == 0 {
				p.lanes--
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			go p.drain()
			return
		default:
		}
	}
}

// drain runs batches on a lane until the queue is empty.
func (p *autoPipe) drain() {
	for {
		batch := p.take()
		if batch == nil {
			return
		}
		p.exec(batch)
	}
}

// take removes up to autoPipeMaxBatch commands from the queue. With the
// queue empty it releases the caller's lane and returns nil.
func (p *autoPipe) take() []*pcall {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.queue)
	if n == 0 {
		p.lanes--
		return nil
	}
	if n > autoPipeMaxBatch {
		n = autoPipeMaxBatch
	}
	batch := make([]*pcall, n)
	copy(batch, p.queue)
	for _, c := range batch {
		c.taken = true
	}
	rest := copy(p.queue, p.queue[n:])
	clear(p.queue[rest:])
	p.queue = p.queue[:rest]
	return batch
}

// exec sends a batch as one pipeline and answers each command. A panic
// below (a bug in go-redis or a hook) answers every command of the batch
// not answered yet with an error instead of leaving its callers waiting and
// the lane taken for good; callers see a TransportError.
func (p *autoPipe) exec(batch []*pcall) {
	p.batches.Add(1)
	p.cmds.Add(int64(len(batch)))
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("kv: pipelined call panicked: %v", r)
			for _, c := range batch {
				if !c.answered {
					c.err = err
					c.answer()
				}
			}
		}
	}()
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err
			c.answer()
			continue
		}
		live = append(live, c)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		c := live[0]
		c.val, c.err = p.rdb.Do(c.ctx, c.args...).Result()
		c.answer()
		return
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	pipe := p.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(live))
	for i, c := range live {
		cmds[i] = pipe.Do(ctx, c.args...)
	}
	_, _ = pipe.Exec(ctx) // per-command results below
	for i, c := range live {
		c.val, c.err = cmds[i].Result()
		c.answer()
	}
}

// batchContext is the context a batch is sent under: no cancellation (one
// caller giving up must not break the connection under the others) and the
// latest deadline of its commands, or none when one of them has none (the
// client's read and write timeouts then apply).
func batchContext(batch []*pcall) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, c := range batch {
		dl, ok := c.ctx.Deadline()
		if !ok {
			return context.Background(), func() {}
		}
		if dl.After(latest) {
			latest = dl
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
