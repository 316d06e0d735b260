package kv_test

import (
	"context"
	"testing"

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
