package kv

import (
	"context"
	"errors"
)

// transport is what the shared script runner needs of a Client: one command
// and one batch, each one round trip, with op naming the public call in
// TransportError. Every Client of this package implements it.
type transport interface {
	doOp(ctx context.Context, op string, args []any) (any, error)
	pipeOp(ctx context.Context, op string, cmds [][]any) ([]Result, error)
}

// observedRunner is implemented by this package's Clients: Run that reports
// each round trip it makes (with the command names sent), so Counting can
// count the extra trip of a NOSCRIPT fallback.
type observedRunner interface {
	runObserved(ctx context.Context, s *Script, keys []string, args []any, trip func(names []string)) (any, error)
}

// runScript is Run for every transport: EVALSHA first; on NOSCRIPT (first use
// on this server, or after SCRIPT FLUSH) one more round trip, a pipeline of
// SCRIPT LOAD and the same EVALSHA. Loading rather than EVAL keeps the script
// cached for the next call and sends the source once; the pipeline keeps the
// fallback to a single extra trip.
//
// The client keeps no "already loaded" state, so a flush behind its back
// costs exactly one extra trip and is never visible to the caller.
func runScript(ctx context.Context, t transport, s *Script, keys []string, args []any, trip func([]string)) (any, error) {
	evalsha := make([]any, 0, 3+len(keys)+len(args))
	evalsha = append(evalsha, "EVALSHA", s.SHA(), len(keys))
	for _, k := range keys {
		evalsha = append(evalsha, k)
	}
	evalsha = append(evalsha, args...)

	trip([]string{"EVALSHA"})
	v, err := t.doOp(ctx, "run", evalsha)
	if !isNoScript(err) {
		return v, err
	}
	trip([]string{"SCRIPT", "EVALSHA"})
	res, err := t.pipeOp(ctx, "run", [][]any{{"SCRIPT", "LOAD", s.Source()}, evalsha})
	if err != nil {
		return nil, err
	}
	if res[0].Err != nil {
		return nil, res[0].Err
	}
	return res[1].Val, res[1].Err
}

func isNoScript(err error) bool {
	var re *RedisError
	return errors.As(err, &re) && re.Prefix() == "NOSCRIPT"
}

func noTrip([]string) {}
