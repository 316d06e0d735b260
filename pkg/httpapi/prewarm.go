package httpapi

import (
	"context"
	"os"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// On Vercel (and any AWS Lambda) a function's process starts, then waits
// for its first event; whatever the process does before that event is off
// the request's path. The Default App is therefore built as soon as the
// package is initialised there, in the background: the configuration is
// parsed, the store client opened, and a PING opens the connection to the
// store (a TLS connection to Upstash, or Redis connections), so the first
// request finds them ready instead of paying for them. Everywhere else
// (tests, cmd/sessiond, any program importing the package) nothing happens
// until the first request or Init, as before.
//
// The warm-up is exactly what the first request would do, through the same
// mutex-guarded build: a request that arrives meanwhile waits for it and
// uses its result; a bad configuration is logged once, by whichever comes
// first, and every request answers 503 as before; a store that does not
// answer yet costs nothing but the PING (one command per cold start on
// Upstash).
func init() {
	if onServerless(os.Getenv) {
		go Default().prewarm(context.Background())
	}
}

// onServerless reports whether the process runs as a Vercel or Lambda
// function: VERCEL=1 and VERCEL_ENV are what Vercel sets at run time,
// AWS_LAMBDA_FUNCTION_NAME what Lambda sets.
func onServerless(getenv func(string) string) bool {
	return getenv("VERCEL") == "1" || getenv("VERCEL_ENV") != "" || getenv("AWS_LAMBDA_FUNCTION_NAME") != ""
}

// prewarm builds the App and opens its connection to the store. Errors are
// left to the first request (build logs a bad configuration itself). Over
// the native protocol go-redis gives a pipeline another pooled connection
// than a single command (the security summary and the audit page are
// pipelines), so both are opened; over REST one keep-alive connection
// serves both.
func (a *App) prewarm(ctx context.Context) {
	st, err := a.build(true)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, a.healthBudget)
	defer cancel()
	if _, err := st.store.Do(ctx, "PING"); err != nil {
		return
	}
	if st.info.Transport != kv.TransportREST {
		_, _ = st.store.Pipeline(ctx, []any{"PING"})
	}
}
