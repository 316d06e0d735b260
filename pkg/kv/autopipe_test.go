package kv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// pipeBackends returns native clients with automatic pipelining on one
// lane: the embedded store always, and real Redis when REDIS_URL is set
// (package kv's own tests cannot import kvtest, which imports kv). Keys go
// under a prefix of their own.
func pipeBackends(t *testing.T) map[string]*Redis {
	t.Helper()
	e := miniRedis(t)
	e.SetPipelineLanes(1)
	out := map[string]*Redis{"embedded": e}
	if url := os.Getenv("REDIS_URL"); url != "" {
		r, err := NewRedisURL(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		r.SetPipelineLanes(1)
		out["redis"] = r
	} else {
		t.Log("real Redis skipped: set REDIS_URL=redis://127.0.0.1:6379/0")
	}
	return out
}

func testPrefix(t *testing.T) string {
	return fmt.Sprintf("test:autopipe:%s:%d:", t.Name(), time.Now().UnixNano())
}

// holdLane takes every lane as if batches were on the wire, so calls queue
// up; the returned function runs what queued as one lane would.
func holdLane(p *autoPipe) (release func()) {
	p.mu.Lock()
	p.lanes = p.maxLanes
	p.mu.Unlock()
	return func() {
		p.drain() // on one of the held lanes; releases it when the queue is empty
		p.mu.Lock()
		p.lanes -= p.maxLanes - 1 // the others
		p.mu.Unlock()
	}
}

func queued(p *autoPipe) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue)
}

func waitQueued(t *testing.T, p *autoPipe, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for queued(p) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want %d", queued(p), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Many callers at once: every reply reaches the caller whose command it
// answers, writes all land exactly once, and commands shared batches.
func TestAutoPipeRepliesReachTheirCallers(t *testing.T) {
	for name, r := range pipeBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p := testPrefix(t)
			script := NewScript("redis.call('INCR', KEYS[1]) return ARGV[1]")
			const workers, each = 32, 100
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			before := r.pipe.cmds.Load()
			batchesBefore := r.pipe.batches.Load()
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						want := fmt.Sprintf("w%d-i%d", w, i)
						var got any
						var err error
						if i%2 == 0 {
							got, err = r.Run(ctx, script, []string{p + "n"}, want)
						} else {
							if _, err = r.Do(ctx, "SET", p+want, want); err == nil {
								got, err = r.Do(ctx, "GET", p+want)
							}
						}
						if err != nil {
							errs <- err
							return
						}
						if got != want {
							errs <- fmt.Errorf("caller %s got %v", want, got)
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			n, err := r.Do(ctx, "GET", p+"n")
			if err != nil || n != fmt.Sprint(workers*each/2) {
				t.Fatalf("counter = %v (%v), want %d: a script ran twice or not at all", n, err, workers*each/2)
			}
			cmds, batches := r.pipe.cmds.Load()-before, r.pipe.batches.Load()-batchesBefore
			t.Logf("%d commands in %d batches", cmds, batches)
			if cmds < workers*each*3/2 || batches >= cmds {
				t.Fatalf("%d commands in %d batches: nothing was batched", cmds, batches)
			}
		})
	}
}

// Commands queued together go as one batch, each with its own reply or
// error: a command refused by Redis does not fail its neighbours.
func TestAutoPipeOneBatchSeparateErrors(t *testing.T) {
	for name, r := range pipeBackends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			p := testPrefix(t)
			if _, err := r.Do(ctx, "SET", p+"s", "text"); err != nil {
				t.Fatal(err)
			}
			release := holdLane(r.pipe)
			type res struct {
				v   any
				err error
			}
			cmds := [][]any{{"SET", p + "a", "1"}, {"INCR", p + "s"}, {"GET", p + "a"}, {"ECHO", "x"}}
			out := make([]chan res, len(cmds))
			for i, c := range cmds {
				out[i] = make(chan res, 1)
				go func() {
					v, err := r.Do(ctx, c...)
					out[i] <- res{v, err}
				}()
				waitQueued(t, r.pipe, i+1) // keep the order
			}
			batches := r.pipe.batches.Load()
			release()
			if got := r.pipe.batches.Load() - batches; got != 1 {
				t.Fatalf("%d batches, want 1", got)
			}
			got := make([]res, len(cmds))
			for i := range out {
				got[i] = <-out[i]
			}
			var re *RedisError
			if got[0].err != nil || got[0].v != "OK" || !errors.As(got[1].err, &re) || re.Prefix() != "ERR" && re.Prefix() != "WRONGTYPE" ||
				got[2].err != nil || got[2].v != "1" || got[3].err != nil || got[3].v != "x" {
				t.Fatalf("replies %+v", got)
			}
		})
	}
}

// A caller whose context ends while its command waits in the queue returns
// at once with the context's error, and the command is never sent.
func TestAutoPipeQueuedCallerGivesUp(t *testing.T) {
	for name, r := range pipeBackends(t) {
		t.Run(name, func(t *testing.T) {
			p := testPrefix(t)
			release := holdLane(r.pipe)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				_, err := r.Do(ctx, "SET", p+"gone", "1")
				done <- err
			}()
			waitQueued(t, r.pipe, 1)
			cancel()
			select {
			case err := <-done:
				var te *TransportError
				if !errors.As(err, &te) || !errors.Is(err, context.Canceled) || !errors.Is(err, ErrUnavailable) {
					t.Fatalf("err = %v, want a TransportError wrapping context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the caller waited for a lane after its context ended")
			}
			release()
			if v, err := r.Do(context.Background(), "EXISTS", p+"gone"); err != nil || v != int64(0) {
				t.Fatalf("EXISTS = %v, %v: the abandoned command was sent", v, err)
			}
			if q := queued(r.pipe); q != 0 {
				t.Fatalf("%d calls left in the queue", q)
			}
		})
	}
}

// A caller whose context ends after a lane took its command waits until
// that batch is done with it: its arguments may be buffers the caller
// reuses as soon as it returns.
func TestAutoPipeTakenCallWaitsForItsBatch(t *testing.T) {
	e := miniRedis(t)
	e.SetPipelineLanes(1)
	p := e.pipe
	p.mu.Lock()
	p.lanes = 1 // a lane is busy: the call below queues
	p.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Do(ctx, "ECHO", "x")
		done <- err
	}()
	waitQueued(t, p, 1)
	batch := p.take() // the lane takes it
	cancel()
	select {
	case err := <-done:
		t.Fatalf("returned (%v) while its command was taken and not yet sent", err)
	case <-time.After(50 * time.Millisecond):
	}
	p.exec(batch)
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("still waiting after its batch was done")
	}
}

// A store that cannot be reached fails every queued caller with a
// TransportError; none hangs, and the lanes are free afterwards.
func TestAutoPipeUnreachableStore(t *testing.T) {
	r, err := NewRedisURL("redis://" + ClosedAddr(t) + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.SetPipelineLanes(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := r.Do(ctx, "PING")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want unavailable (refused, not timed out)", err)
		}
	}
	r.pipe.mu.Lock()
	defer r.pipe.mu.Unlock()
	if r.pipe.lanes != 0 || len(r.pipe.queue) != 0 {
		t.Fatalf("lanes %d, queue %d after every caller returned", r.pipe.lanes, len(r.pipe.queue))
	}
}

// A batch is sent under the latest of its commands' deadlines (one short
// deadline must not cut the others off), or none if one has none.
func TestBatchContext(t *testing.T) {
	now := time.Now()
	short, c1 := context.WithDeadline(context.Background(), now.Add(time.Second))
	defer c1()
	long, c2 := context.WithDeadline(context.Background(), now.Add(time.Minute))
	defer c2()
	cancelled, c3 := context.WithCancel(long)
	c3()
	ctx, cancel := batchContext([]*pcall{{ctx: short}, {ctx: cancelled}})
	dl, ok := ctx.Deadline()
	if !ok || !dl.Equal(now.Add(time.Minute)) || ctx.Err() != nil {
		t.Fatalf("deadline %v %v, err %v: want the latest deadline and no cancellation", dl, ok, ctx.Err())
	}
	cancel()
	ctx, cancel = batchContext([]*pcall{{ctx: short}, {ctx: context.Background()}})
	defer cancel()
	if _, ok := ctx.Deadline(); ok {
		t.Fatal("a batch with a command without deadline got one")
	}
}

// SetPipelineLanes(0) is the plain pooled client: no queue at all.
func TestPipelineLanesOff(t *testing.T) {
	e := miniRedis(t)
	e.SetPipelineLanes(0)
	if e.pipe != nil {
		t.Fatal("automatic pipelining still on")
	}
	if v, err := e.Do(context.Background(), "ECHO", "x"); err != nil || v != "x" {
		t.Fatalf("ECHO = %v, %v", v, err)
	}
}

// panicHook makes go-redis panic while armed.
type panicHook struct{ armed *atomic.Bool }

func (h panicHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h panicHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.armed.Load() {
			panic("test: process hook")
		}
		return next(ctx, cmd)
	}
}

func (h panicHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.armed.Load() {
			panic("test: pipeline hook")
		}
		return next(ctx, cmds)
	}
}

// A panic under a batch answers its callers with an error and frees the
// lane: the next commands go through.
func TestAutoPipePanicAnswersAndFreesTheLane(t *testing.T) {
	e := miniRedis(t)
	e.SetPipelineLanes(1)
	var armed atomic.Bool
	e.rdb.AddHook(panicHook{&armed})
	armed.Store(true)
	ctx := context.Background()
	// One caller alone (its own lane, a plain Do), then two in one batch.
	if _, err := e.Do(ctx, "PING"); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("lone call: err = %v, want an unavailable error saying it panicked", err)
	}
	release := holdLane(e.pipe)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := e.Do(ctx, "PING")
			errs <- err
		}()
	}
	waitQueued(t, e.pipe, 2)
	release()
	for range 2 {
		if err := <-errs; !errors.Is(err, ErrUnavailable) {
			t.Fatalf("batched call: err = %v, want unavailable", err)
		}
	}
	armed.Store(false)
	if v, err := e.Do(ctx, "PING"); err != nil || v != "PONG" {
		t.Fatalf("after the panics: %v, %v; the lane is still taken or broken", v, err)
	}
}
