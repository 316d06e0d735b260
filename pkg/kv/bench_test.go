package kv_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/kv/embedded"
	"github.com/sessionkit/sessiond/pkg/kv/kvtest"
)

// Benchmarks per transport: one GET, and one pipeline of three commands.
// With REDIS_URL set, "redis" and "rest-redis" run against that Redis (the
// REST one through the Upstash-protocol front over loopback HTTP); without
// it, only the in-process transports run. Figures are in doc.go.

func BenchmarkGet(b *testing.B) {
	for _, tr := range kvtest.Transports(b) {
		b.Run(tr.Name, func(b *testing.B) {
			ctx, k := context.Background(), kvtest.Prefix(b)+"k"
			if _, err := tr.Client.Do(ctx, "SET", k, "value-of-some-32-bytes-0123456789"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tr.Client.Do(ctx, "GET", k); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPipeline3(b *testing.B) {
	for _, tr := range kvtest.Transports(b) {
		b.Run(tr.Name, func(b *testing.B) {
			ctx, p := context.Background(), kvtest.Prefix(b)
			b.ReportAllocs()
			for b.Loop() {
				res, err := tr.Client.Pipeline(ctx,
					[]any{"SET", p + "a", "1", "PX", 60000},
					[]any{"INCR", p + "n"},
					[]any{"HGET", p + "h", "f"},
				)
				if err != nil || len(res) != 3 {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// BenchmarkParallelRun: 16 goroutines per GOMAXPROCS each running a small
// script over the native transport (real Redis with REDIS_URL, else the
// embedded store), with automatic pipelining on its default lanes
// ("lanes=1") and off ("lanes=0": every call takes a pooled connection of
// its own). It reports the test process's CPU per call (cpu-ns/op), which
// is what pipelining saves: system calls. Compare the two with
// `benchstat -col /lanes`.
func BenchmarkParallelRun(b *testing.B) {
	for _, n := range []int{kv.DefaultPipelineLanes, 0} {
		b.Run(fmt.Sprintf("lanes=%d", n), func(b *testing.B) {
			var r *kv.Redis
			if url := kvtest.RedisURL(); url != "" {
				c, err := kv.NewRedisURL(url)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				r = c
			} else {
				e, err := embedded.New()
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close() // closes e.Redis too
				r = e.Redis
			}
			r.SetPipelineLanes(n)
			ctx, k := context.Background(), kvtest.Prefix(b)+"k"
			s := kv.NewScript("return redis.call('INCR', KEYS[1])")
			if _, err := r.Run(ctx, s, []string{k}); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(16)
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Run(ctx, s, []string{k}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is this process's user+system CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
