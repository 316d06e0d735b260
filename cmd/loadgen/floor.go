package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// floorFlags are the options of `loadgen floor`.
type floorFlags struct {
	addr     string
	redisURL string
	lifetime time.Duration
}

func parseFloorFlags(args []string, stderr io.Writer) (*floorFlags, error) {
	f := &floorFlags{}
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:3100", "listen address (loopback only)")
	fs.StringVar(&f.redisURL, "redis", "redis://127.0.0.1:6379/9", "Redis URL (loopback host, explicit database other than 0)")
	fs.DurationVar(&f.lifetime, "d", maxDuration, "exit by itself after this long (max 10m)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("loadgen floor: unexpected arguments %q", fs.Args())
	}
	if f.lifetime <= 0 || f.lifetime > maxDuration {
		return nil, fmt.Errorf("loadgen floor: -d %v is outside (0, %v]", f.lifetime, maxDuration)
	}
	return f, nil
}

// checkLoopbackAddr accepts host:port whose host is a loopback IP literal
// or "localhost" (the listener's actual address is checked again).
func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("loadgen floor: -addr %q: %w", addr, err)
	}
	if !loopbackHost(host) {
		return fmt.Errorf("%w: -addr %q", ErrNotLoopback, addr)
	}
	return nil
}

// floorRedisOptions parses a redis:// URL with redis.ParseURL and keeps its
// options, after checking what bench.sh's check_redis_url checks: a
// loopback host and a database other than 0 (the tests' database). Its
// connections go through loopbackControl, like the generator's own, so
// whatever "localhost" resolves to, none can leave the machine.
func floorRedisOptions(raw string) (*redis.Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("loadgen floor: -redis is not a URL")
	}
	if u.Scheme != "redis" {
		return nil, fmt.Errorf("loadgen floor: -redis %q: scheme must be redis", u.Redacted())
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("loadgen floor: -redis %q: %v", u.Redacted(), err)
	}
	if opt.DB == 0 {
		return nil, fmt.Errorf("loadgen floor: -redis %q: database 0 (or none) is the tests' database; name another, e.g. /9", u.Redacted())
	}
	host, _, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("loadgen floor: -redis %q: %v", u.Redacted(), err)
	}
	if !loopbackHost(host) {
		return nil, fmt.Errorf("%w: -redis %q", ErrNotLoopback, u.Redacted())
	}
	opt.Dialer = rawDialer.DialContext // go-redis's 5 s dial timeout, and the guard
	return opt, nil
}

// floorHandler is the floor server of `loadgen floor`: the reference "bare
// Go server doing one Redis GET per request".
//
// Why it exists: the performance issue says that "a bare Go server doing
// one Redis GET per request reached about 15,000-18,000/s, which is the
// floor to aim at". `loadgen floor` is that server, so that the floor is
// measured in the same run, on the same machine, with the same generator
// and the same request as our introspection (scripts/bench.sh runs it
// right after sessiond's redis store), instead of being a number quoted
// from elsewhere. The summary then says how far our introspection is from
// the floor and whether 8x Hydra's rate (the target of issue 7) lies above
// or below it.
//
// It is the reference "bare server doing one Redis GET per request": a plain
// net/http server with go-redis at the default options of redis.ParseURL,
// with the same HTTP shape as our introspection (POST /api/introspect, a
// bearer key, a form-encoded token, a JSON answer), and nothing else: no
// token parsing or hashing, no session logic, no middleware, no logging, no
// rate limiting. Every introspection does exactly one Redis GET, always of
// the same key (set to "1" at start, deleted on exit), so the figure is the
// cost of HTTP plus one Redis round trip, not of any key layout. Whatever a
// real introspection does beyond that is what separates it from the floor.
//
// It serves GET /api/health and POST /api/introspect (401 invalid_client
// without the bearer key, 400 invalid_request without a token, 200
// {"active":true} when key holds "1", {"active":false} otherwise, 503 when
// Redis fails). It is a function of its inputs so that tests can build it.
func floorHandler(rdb *redis.Client, key, introspectKey string) http.Handler {
	want := []byte("Bearer " + introspectKey)
	var (
		health   = []byte(`{"status":"ok"}`)
		active   = []byte(`{"active":true}`)
		inactive = []byte(`{"active":false}`)
		unauth   = []byte(`{"error":"invalid_client"}`)
		badReq   = []byte(`{"error":"invalid_request"}`)
		unavail  = []byte(`{"error":"temporarily_unavailable"}`)
	)
	answer := func(w http.ResponseWriter, status int, body []byte) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, _ *http.Request) {
		answer(w, http.StatusOK, health)
	})
	mux.HandleFunc("POST /api/introspect", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			answer(w, http.StatusUnauthorized, unauth)
			return
		}
		if r.PostFormValue("token") == "" {
			answer(w, http.StatusBadRequest, badReq)
			return
		}
		v, err := rdb.Get(r.Context(), key).Result()
		switch {
		case err == nil && v == "1":
			answer(w, http.StatusOK, active)
		case err == nil || errors.Is(err, redis.Nil):
			answer(w, http.StatusOK, inactive)
		default:
			answer(w, http.StatusServiceUnavailable, unavail)
		}
	})
	return mux
}

// cmdFloor runs the floor server until ctx ends (SIGINT, SIGTERM) or -d
// passes, then deletes its key.
func cmdFloor(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string) error {
	f, err := parseFloorFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := checkLoopbackAddr(f.addr); err != nil {
		return err
	}
	introKey := getenv("SESSION_INTROSPECT_KEY")
	if introKey == "" {
		return errors.New("loadgen floor: SESSION_INTROSPECT_KEY must be set: it is the bearer key of /api/introspect")
	}
	opt, err := floorRedisOptions(f.redisURL)
	if err != nil {
		return err
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	key := "loadgen:floor:" + hex.EncodeToString(rnd[:])

	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ttl := f.lifetime + time.Minute
	setCtx, cancelSet := context.WithTimeout(ctx, 10*time.Second)
	err = rdb.Do(setCtx, "SET", key, "1", "PX", ttl.Milliseconds()).Err()
	cancelSet()
	if err != nil {
		return fmt.Errorf("loadgen floor: SET at %s: %w", opt.Addr, err)
	}
	defer func() {
		delCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rdb.Del(delCtx, key).Err(); err != nil {
			fmt.Fprintf(stderr, "loadgen floor: deleting %s: %v (it expires by itself)\n", key, err)
		}
	}()

	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("loadgen floor: %w", err)
	}
	if err := loopbackControl("tcp", l.Addr().String(), nil); err != nil {
		l.Close()
		return fmt.Errorf("%w (listening)", err)
	}
	srv := &http.Server{
		Handler:           floorHandler(rdb, key, introKey),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	life, cancel := context.WithTimeout(ctx, f.lifetime)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(stderr, "loadgen floor: http://%s: one GET of %s at %s db %d per introspection; exits after %v\n",
		l.Addr(), key, opt.Addr, opt.DB, f.lifetime)

	select {
	case err := <-served:
		return fmt.Errorf("loadgen floor: %w", err)
	case <-life.Done():
	}
	why := "lifetime over"
	if ctx.Err() != nil {
		why = "signal"
	}
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShut()
	if err := srv.Shutdown(shutCtx); err != nil {
		srv.Close()
	}
	<-served
	fmt.Fprintf(stderr, "loadgen floor: stopped (%s)\n", why)
	return nil
}

// floorToken is a fixed random token of 300 URL-safe characters (225
// random bytes in unpadded base64url), about the size of our access tokens.
func floorToken() (string, error) {
	var b [225]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// floorIntrospectScenario: POST /api/introspect at the floor server with
// one fixed token, through the same code path as introspectScenario
// (service.introspect, form body, introspection bearer, checkActive). No
// seeding: the floor server answers active for any token.
type floorIntrospectScenario struct {
	svc *service
	workers
	token string
}

func buildFloorScenario(f *runFlags, client *http.Client, getenv func(string) string) (Scenario, string, error) {
	u, err := checkLoopbackURL(f.target)
	if err != nil {
		return nil, "", err
	}
	intro := getenv("SESSION_INTROSPECT_KEY")
	if intro == "" {
		return nil, "", errors.New("loadgen run: SESSION_INTROSPECT_KEY must be set for floor-introspect (the floor server's bearer key)")
	}
	tok, err := floorToken()
	if err != nil {
		return nil, "", err
	}
	// form is forced: the floor server reads r.PostFormValue only.
	svc := &service{base: strings.TrimRight(u.String(), "/"), introspectKey: intro, form: true, client: client}
	return &floorIntrospectScenario{svc: svc, token: tok}, svc.base, nil
}

func (sc *floorIntrospectScenario) Prepare(_ context.Context, n int) error {
	sc.reset(n, sc.svc.client)
	return nil
}

func (sc *floorIntrospectScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	sc.svc.introspect(ctx, sc.rq[w], rec, sc.token)
	return true
}
