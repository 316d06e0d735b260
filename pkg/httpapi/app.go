package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessionkit/sessiond/pkg/config"
	"github.com/sessionkit/sessiond/pkg/kv"
	"github.com/sessionkit/sessiond/pkg/session"
)

// Time budgets. On Vercel r.Context() has no deadline, so every request gets
// its own, below the functions' maxDuration (10s in vercel.json) so that we
// answer 503 ourselves rather than being killed mid-write.
const (
	DefaultBudget       = 8 * time.Second
	DefaultHealthBudget = 2 * time.Second
)

// App serves every endpoint of the API. It builds its configuration, KV
// client and session Manager on first use and keeps them for the life of the
// process (a warm Vercel instance serves many requests). An App is safe for
// concurrent use.
type App struct {
	getenv       func(string) string
	log          *slog.Logger
	budget       time.Duration
	healthBudget time.Duration
	openStore    func(getenv func(string) string) (kv.Client, kv.Info, error)
	injected     bool // the store came from WithStore: not ours to close
	configure    func(*config.Config)
	tweak        func(*session.Config)

	mu      sync.Mutex // serializes builds
	st      atomic.Pointer[state]
	fatal   error // a configuration error: permanent, answered with 503
	devOnce sync.Once

	authzEndpoint string // the provider's, for /dev/config (guarded by mu)
}

// state is what a successful build produced.
type state struct {
	cfg     *config.Config
	store   kv.Client
	info    kv.Info
	m       *session.Manager
	ip      ipPolicy
	cors    corsPolicy
	vercel  bool
	ownsKV  bool
	devMode bool // dev-only routes allowed (see devAllowed)

	// The configured keys, hashed once (auth.go).
	adminKey, introspectKey, cronKey *secret
}

// Option changes how an App is built.
type Option func(*App)

// WithLogger sets the logger (default: slog.Default() at the time of each
// line, so a program may install its logger after Default was created).
func WithLogger(l *slog.Logger) Option { return func(a *App) { a.log = l } }

// WithBudget sets the per-request time budget (default DefaultBudget) and
// that of /api/health (default DefaultHealthBudget).
func WithBudget(d, health time.Duration) Option {
	return func(a *App) { a.budget, a.healthBudget = d, health }
}

// WithStore makes the App use store instead of opening one from the
// environment (tests: a shared Redis, a store whose clock they move). The
// App does not close it.
func WithStore(store kv.Client, info kv.Info) Option {
	return func(a *App) {
		a.openStore = func(func(string) string) (kv.Client, kv.Info, error) { return store, info, nil }
		a.injected = true
	}
}

// WithConfig lets the caller adjust the parsed configuration before the
// Manager is built (tests: a key prefix, a clock).
func WithConfig(f func(*config.Config)) Option { return func(a *App) { a.configure = f } }

// WithSessionConfig lets tests adjust the Manager's configuration (key
// prefix on a shared Redis, clock, limits).
func WithSessionConfig(f func(*session.Config)) Option { return func(a *App) { a.tweak = f } }

// New returns an App that reads its configuration through getenv (os.Getenv
// in production). Nothing is built until the first request or Init.
func New(getenv func(string) string, opts ...Option) *App {
	a := &App{getenv: getenv, budget: DefaultBudget, healthBudget: DefaultHealthBudget,
		openStore: kv.Open}
	for _, o := range opts {
		o(a)
	}
	return a
}

var (
	defaultOnce sync.Once
	defaultApp  *App
)

// Default returns the process-wide App over os.Getenv, the one the Vercel
// functions under api/ and cmd/sessiond share.
func Default() *App {
	defaultOnce.Do(func() { defaultApp = New(os.Getenv) })
	return defaultApp
}

func (a *App) logger() *slog.Logger {
	if a.log != nil {
		return a.log
	}
	return slog.Default()
}

// ConfigError is a configuration the service cannot run with. Its text names
// the variable and never holds a secret's value.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "httpapi: bad configuration: " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Init builds the App now instead of on the first request and reports what
// went wrong: a *ConfigError (permanent) or a store error (retried on the
// next call). cmd/sessiond calls it to fail at start on a bad configuration.
// Init does not log a configuration error: the caller reports it.
func (a *App) Init(ctx context.Context) error {
	_, err := a.build(false)
	return err
}

// Info describes the KV transport in use (after a successful Init).
func (a *App) Info() (kv.Info, bool) {
	st := a.st.Load()
	if st == nil {
		return kv.Info{}, false
	}
	return st.info, true
}

// Config returns the parsed configuration (after a successful Init).
func (a *App) Config() (*config.Config, bool) {
	st := a.st.Load()
	if st == nil {
		return nil, false
	}
	return st.cfg, true
}

// Manager returns the session Manager (after a successful Init), for tests
// and the dev server.
func (a *App) Manager() (*session.Manager, bool) {
	st := a.st.Load()
	if st == nil {
		return nil, false
	}
	return st.m, true
}

// Close releases the store the App opened itself (the embedded one stops
// and its data is gone). A request after Close builds the App anew.
func (a *App) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.st.Swap(nil)
	if st == nil || !st.ownsKV {
		return nil
	}
	return st.store.Close()
}

// state returns the built state, building it if needed. A store that did
// not answer is retried on the next call; a configuration error is kept and
// logged once.
func (a *App) state() (*state, error) {
	if st := a.st.Load(); st != nil {
		return st, nil
	}
	return a.build(true)
}

func (a *App) build(logFatal bool) (*state, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st := a.st.Load(); st != nil {
		return st, nil
	}
	if a.fatal != nil {
		return nil, a.fatal
	}
	st, err := a.open()
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			a.fatal = err
		}
		if ce != nil && logFatal {
			a.logger().Error("sessiond: bad configuration; every request answers 503 until it is fixed", "err", ce.Err.Error())
		} else if ce == nil {
			a.logger().Warn("sessiond: start-up failed, retrying on the next request", "err", err.Error())
		}
		return nil, err
	}
	a.st.Store(st)
	return st, nil
}

func (a *App) open() (*state, error) {
	cfg, err := config.Load(a.getenv)
	if err != nil {
		return nil, &ConfigError{Err: err}
	}
	if a.configure != nil {
		a.configure(cfg)
	}
	store, info, err := a.openStore(a.getenv)
	if err != nil {
		if errors.Is(err, kv.ErrUnavailable) {
			return nil, err
		}
		return nil, &ConfigError{Err: err}
	}
	var tweaks []func(*session.Config)
	if a.tweak != nil {
		tweaks = append(tweaks, a.tweak)
	}
	m, err := session.NewFromConfig(store, cfg, tweaks...)
	if err != nil {
		if !a.injected {
			_ = store.Close()
		}
		return nil, &ConfigError{Err: err}
	}
	vercel := a.getenv("VERCEL") == "1" || a.getenv("VERCEL_ENV") != ""
	// One line per cold start saying which store is used (Info never holds
	// a token or password), then the configuration's own warnings.
	a.logger().Info("sessiond: " + info.String())
	for _, w := range cfg.Warnings() {
		a.logger().Warn("sessiond: " + w)
	}
	return &state{
		cfg: cfg, store: store, info: info, m: m,
		ip:      ipPolicy{onVercel: vercel, trustProxy: cfg.TrustProxy},
		cors:    newCORSPolicy(cfg.AllowedOrigins, cfg.CookieMode),
		vercel:  vercel,
		ownsKV:  !a.injected,
		devMode: devAllowed(cfg.VercelEnv),

		adminKey:      newSecret(cfg.AdminKey),
		introspectKey: newSecret(cfg.IntrospectKey),
		cronKey:       newSecret(cfg.CronSecret),
	}, nil
}

// endpoint describes one route for handle.
type endpoint struct {
	methods []string
	health  bool // a short budget, and a failed build answered in /api/health's shape
}

// call is one request in flight, handed to an endpoint's body.
type call struct {
	app    *App
	st     *state
	w      http.ResponseWriter
	r      *http.Request
	ctx    context.Context
	client session.Client
}

// handle runs the steps every request shares (see the package doc) and then
// fn. Whatever fn returns as an error is answered by fail; a panic is
// recovered, logged and answered with 500, so one bad request never takes
// the instance down.
func (a *App) handle(w http.ResponseWriter, r *http.Request, ep endpoint, fn func(c *call) error) {
	setSecurityHeaders(w.Header())
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			a.logger().Error("httpapi: panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p))
			writeError(w, &Error{Status: http.StatusInternalServerError, Code: CodeServerError, Description: "internal error"})
		}
	}()
	budget := a.budget
	if ep.health {
		budget = a.healthBudget
	}
	ctx, cancel := context.WithTimeout(r.Context(), budget)
	defer cancel()

	st, err := a.state()
	if err != nil {
		// CORS still applies, so a browser can read the 503.
		if r.Method == http.MethodOptions {
			answerOptions(w, ep.methods)
			return
		}
		e := buildError(err)
		if ep.health {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(e.RetryAfter)))
			writeJSON(w, e.Status, healthResponse{Status: "degraded", KV: "unavailable", Error: e.Code, Description: e.Description})
			return
		}
		writeError(w, e)
		return
	}
	if st.cors.apply(w, r, ep.methods) {
		return
	}
	if r.Method == http.MethodOptions {
		answerOptions(w, ep.methods)
		return
	}
	if !allowMethod(w, r, ep.methods) {
		return
	}
	c := &call{app: a, st: st, w: w, r: r, ctx: ctx,
		client: session.Client{IP: st.ip.clientIP(r), UserAgent: r.UserAgent()}}
	if err := fn(c); err != nil {
		fail(w, r, a.logger(), err)
	}
}

// buildError is the answer while the App cannot be built.
func buildError(err error) *Error {
	var ce *ConfigError
	if errors.As(err, &ce) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Description: "the service is misconfigured: " + ce.Err.Error(), RetryAfter: 60 * time.Second}
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
		Description: "the session store is unavailable", RetryAfter: unavailableRetry}
}
