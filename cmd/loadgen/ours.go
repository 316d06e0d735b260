package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// service speaks the HTTP contract of /work/shared/SPEC.md (our server).
type service struct {
	base          string // "http://127.0.0.1:3000", no trailing slash
	adminKey      string // SESSION_ADMIN_KEY
	introspectKey string // SESSION_INTROSPECT_KEY (the admin key is accepted too)
	form          bool   // form bodies for introspect and revoke (RFC shapes); JSON otherwise
	device        bool   // send a device fingerprint on create and refresh
	runID         string // keeps user ids of reruns against one store apart
	client        *http.Client
	seedN         int           // sessions seeded for introspect, list, refresh and mixed
	seedC         int           // concurrency of seeding
	revokePool    int           // sessions created before each revoke level
	revokeSeed    time.Duration // at most this long creating them

	seedOnce sync.Once
	seedErr  error
	seeded   []*slot
	users    atomic.Int64 // serial of created users
}

// slot is one seeded session. During a level a slot is touched by one
// worker only (see owners), so its fields need no lock.
type slot struct {
	sessionID string
	access    string
	refresh   string
}

// deviceJSON is a plausible browser fingerprint, the same on every call so
// that hijack scoring sees one device.
const deviceJSON = `{"user_agent":"Mozilla/5.0 (X11; Linux x86_64) loadgen","platform":"Linux x86_64",` +
	`"os":"Linux","browser":"Firefox","browser_version":"128.0","device_type":"desktop","language":"en-US",` +
	`"timezone":"Europe/Paris","timezone_offset":-60,"screen_width":1920,"screen_height":1080,"color_depth":24,` +
	`"pixel_ratio":1,"hardware_concurrency":8,"cookies_enabled":true}`

type tokenResponse struct {
	SessionID    string `json:"session_id"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func (s *service) newUser(kind string, worker int) string {
	return "lg-" + s.runID + "-" + kind + strconv.Itoa(worker) + "-" + strconv.FormatInt(s.users.Add(1), 10)
}

// create sends POST /api/sessions for a fresh user with the admin key and
// returns the call and, on 201, the new session's tokens.
func (s *service) create(ctx context.Context, rq *requester, user string) (call, *slot) {
	body := `{"user_id":` + strconv.Quote(user)
	if s.device {
		body += `,"device":` + deviceJSON
	}
	body += `}`
	c := rq.do(ctx, http.MethodPost, s.base+"/api/sessions", ctJSON, body, bearer(s.adminKey))
	if c.err != nil || c.status != http.StatusCreated {
		return c, nil
	}
	var tr tokenResponse
	if json.Unmarshal(c.body, &tr) != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return c, nil
	}
	return c, &slot{sessionID: tr.SessionID, access: tr.AccessToken, refresh: tr.RefreshToken}
}

// seed creates n sessions at concurrency conc and fails on the first error,
// naming the status and the error code of the answer (never a token).
func (s *service) seed(ctx context.Context, n, conc int) ([]*slot, error) {
	return s.seedWithin(ctx, n, conc, 0)
}

// seedWithin is seed bounded in time: when budget (> 0) runs out it returns
// the sessions created so far (at least one), so that a slow server cannot
// stretch a run without bound.
func (s *service) seedWithin(ctx context.Context, n, conc int, budget time.Duration) ([]*slot, error) {
	if conc < 1 {
		conc = 1
	}
	var stopAt time.Time
	if budget > 0 {
		stopAt = time.Now().Add(budget)
	}
	out := make([]*slot, n)
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rq := &requester{client: s.client}
			defer rq.close()
			for {
				if !stopAt.IsZero() && time.Now().After(stopAt) {
					return
				}
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c, sl := s.create(ctx, rq, s.newUser("s", w))
				if sl == nil {
					errOnce.Do(func() { first = describeFailure("seed: POST /api/sessions", c, http.StatusCreated); cancel() })
					return
				}
				out[i] = sl
			}
		}(w)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	created := out[:0]
	for _, sl := range out {
		if sl != nil {
			created = append(created, sl)
		}
	}
	if len(created) == 0 {
		return nil, fmt.Errorf("loadgen: seeding created no session within %v", budget)
	}
	return created, nil
}

// describeFailure explains a failed setup call without echoing secrets: the
// status and the "error" code of a JSON error body only.
func describeFailure(what string, c call, want int) error {
	if c.err != nil {
		return fmt.Errorf("loadgen: %s: %w", what, c.err)
	}
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(c.body, &e)
	if c.status == want {
		return fmt.Errorf("loadgen: %s: status %d but the body lacks the expected fields", what, c.status)
	}
	return fmt.Errorf("loadgen: %s: status %d (want %d), error %q", what, c.status, want, e.Error)
}

// ensureSeeded seeds the shared pool once per process, topping it up to at
// least min sessions (refresh chains need one per worker).
func (s *service) ensureSeeded(ctx context.Context, min int) error {
	s.seedOnce.Do(func() {
		s.seeded, s.seedErr = s.seed(ctx, s.seedN, s.seedC)
	})
	if s.seedErr != nil {
		return s.seedErr
	}
	if len(s.seeded) < min {
		more, err := s.seed(ctx, min-len(s.seeded), s.seedC)
		if err != nil {
			return err
		}
		s.seeded = append(s.seeded, more...)
	}
	return nil
}

func checkActive(b []byte) string {
	if bytes.Contains(b, []byte(`"active":true`)) || bytes.Contains(b, []byte(`"active": true`)) {
		return ""
	}
	return "inactive"
}

func checkContains(field string) func([]byte) string {
	want := []byte(`"` + field + `"`)
	return func(b []byte) string {
		if bytes.Contains(b, want) {
			return ""
		}
		return "bad_body"
	}
}

func (s *service) introspect(ctx context.Context, rq *requester, rec *Recorder, token string) {
	var c call
	if s.form {
		c = rq.do(ctx, http.MethodPost, s.base+"/api/introspect", ctForm, "token="+url.QueryEscape(token), bearer(s.introspectKey))
	} else {
		c = rq.do(ctx, http.MethodPost, s.base+"/api/introspect", ctJSON, `{"token":`+strconv.Quote(token)+`}`, bearer(s.introspectKey))
	}
	rec.Observe(ctx, "introspect", c, http.StatusOK, checkActive)
}

// refresh rotates sl's refresh token. A refused chain (invalid_grant: it
// expired, was suspended, or the server saw a reuse) is replaced by a new
// session, recorded as "reseed", so the worker keeps a live chain.
func (s *service) refresh(ctx context.Context, rq *requester, rec *Recorder, sl *slot, worker int) {
	body := `{"refresh_token":` + strconv.Quote(sl.refresh)
	if s.device {
		body += `,"device":` + deviceJSON
	}
	body += `}`
	c := rq.do(ctx, http.MethodPost, s.base+"/api/refresh", ctJSON, body)
	ok := rec.Observe(ctx, "refresh", c, http.StatusOK, func(b []byte) string {
		var tr tokenResponse
		if json.Unmarshal(b, &tr) != nil || tr.RefreshToken == "" || tr.AccessToken == "" {
			return "bad_body"
		}
		sl.refresh, sl.access = tr.RefreshToken, tr.AccessToken
		return ""
	})
	if ok || c.err != nil {
		// After a transport error the old token is kept: if the server did
		// rotate, it is within the grace window and yields the same successor.
		return
	}
	if c.status == http.StatusBadRequest {
		rc, fresh := s.create(ctx, rq, s.newUser("r", worker))
		if rec.Observe(ctx, "reseed", rc, http.StatusCreated, nil) && fresh != nil {
			*sl = *fresh
		}
	}
}

func (s *service) revoke(ctx context.Context, rq *requester, rec *Recorder, refreshToken string) {
	var c call
	if s.form {
		c = rq.do(ctx, http.MethodPost, s.base+"/api/revoke", ctForm,
			"token="+url.QueryEscape(refreshToken)+"&token_type_hint=refresh_token")
	} else {
		c = rq.do(ctx, http.MethodPost, s.base+"/api/revoke", ctJSON,
			`{"token":`+strconv.Quote(refreshToken)+`,"token_type_hint":"refresh_token"}`)
	}
	rec.Observe(ctx, "revoke", c, http.StatusOK, nil)
}

// workers holds per-worker requesters, rebuilt for every level.
type workers struct {
	rq []*requester
}

func (w *workers) reset(n int, client *http.Client) {
	for _, r := range w.rq {
		r.close()
	}
	w.rq = make([]*requester, n)
	for i := range w.rq {
		w.rq[i] = &requester{client: client}
	}
}

// owners splits n slots among k workers: worker w owns w, w+k, w+2k, ...
// Every slot has exactly one owner, so refresh chains never race.
func owners(n, k int) [][]int {
	out := make([][]int, k)
	for i := 0; i < n; i++ {
		out[i%k] = append(out[i%k], i)
	}
	return out
}

// accessTokens snapshots the access tokens of the pool, read-only during a
// level.
func accessTokens(slots []*slot) []string {
	out := make([]string, len(slots))
	for i, sl := range slots {
		out[i] = sl.access
	}
	return out
}

// introspectScenario: POST /api/introspect of pre-seeded access tokens,
// each worker walking the pool from its own offset.
type introspectScenario struct {
	svc *service
	workers
	pool   []string
	cursor []int
}

func (sc *introspectScenario) Prepare(ctx context.Context, n int) error {
	if err := sc.svc.ensureSeeded(ctx, 1); err != nil {
		return err
	}
	sc.reset(n, sc.svc.client)
	sc.pool = accessTokens(sc.svc.seeded)
	sc.cursor = spread(n, len(sc.pool))
	return nil
}

func (sc *introspectScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	tok := sc.pool[sc.cursor[w]%len(sc.pool)]
	sc.cursor[w]++
	sc.svc.introspect(ctx, sc.rq[w], rec, tok)
	return true
}

// spread gives each of n workers a starting offset into a pool of size m.
func spread(n, m int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i * m / n
	}
	return out
}

// listScenario: GET /api/sessions with a seeded user's access token.
type listScenario struct {
	introspectScenario
}

func (sc *listScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	tok := sc.pool[sc.cursor[w]%len(sc.pool)]
	sc.cursor[w]++
	c := sc.rq[w].do(ctx, http.MethodGet, sc.svc.base+"/api/sessions", "", "", bearer(tok))
	rec.Observe(ctx, "list", c, http.StatusOK, checkContains("sessions"))
	return true
}

// refreshScenario: every worker rotates its own refresh-token chains.
type refreshScenario struct {
	svc *service
	workers
	own  [][]int
	next []int
}

func (sc *refreshScenario) Prepare(ctx context.Context, n int) error {
	if err := sc.svc.ensureSeeded(ctx, n); err != nil {
		return err
	}
	sc.reset(n, sc.svc.client)
	sc.own = owners(len(sc.svc.seeded), n)
	sc.next = make([]int, n)
	return nil
}

func (sc *refreshScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	mine := sc.own[w]
	sl := sc.svc.seeded[mine[sc.next[w]%len(mine)]]
	sc.next[w]++
	sc.svc.refresh(ctx, sc.rq[w], rec, sl, w)
	return true
}

// createScenario: POST /api/sessions with the admin key, a new user each time.
type createScenario struct {
	svc *service
	workers
}

func (sc *createScenario) Prepare(_ context.Context, n int) error {
	sc.reset(n, sc.svc.client)
	return nil
}

func (sc *createScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	c, sl := sc.svc.create(ctx, sc.rq[w], sc.svc.newUser("c", w))
	rec.Observe(ctx, "create", c, http.StatusCreated, func([]byte) string {
		if sl == nil {
			return "bad_body"
		}
		return ""
	})
	return true
}

// revokeScenario: POST /api/revoke of refresh tokens (each ends its
// session) from a pool created before the level, each token revoked once.
// The level ends early when the pool runs out ("exhausted").
type revokeScenario struct {
	svc *service
	workers
	stash [][]*slot
}

func (sc *revokeScenario) Prepare(ctx context.Context, n int) error {
	size := sc.svc.revokePool
	if size < n {
		size = n
	}
	pool, err := sc.svc.seedWithin(ctx, size, sc.svc.seedC, sc.svc.revokeSeed)
	if err != nil {
		return err
	}
	sc.reset(n, sc.svc.client)
	sc.stash = make([][]*slot, n)
	for w, idx := range owners(len(pool), n) {
		for _, i := range idx {
			sc.stash[w] = append(sc.stash[w], pool[i])
		}
	}
	return nil
}

func (sc *revokeScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	st := sc.stash[w]
	if len(st) == 0 {
		return false
	}
	sl := st[len(st)-1]
	sc.stash[w] = st[:len(st)-1]
	sc.svc.revoke(ctx, sc.rq[w], rec, sl.refresh)
	return true
}

// mixedScenario: 90 % introspect, 9 % refresh, 1 % create then revoke,
// drawn per step from a per-worker generator seeded by the worker index
// (the same sequence on every run).
type mixedScenario struct {
	refreshScenario
	pool   []string
	cursor []int
	rng    []*rand.Rand
}

func (sc *mixedScenario) Prepare(ctx context.Context, n int) error {
	if err := sc.refreshScenario.Prepare(ctx, n); err != nil {
		return err
	}
	sc.pool = accessTokens(sc.svc.seeded)
	sc.cursor = spread(n, len(sc.pool))
	sc.rng = make([]*rand.Rand, n)
	for i := range sc.rng {
		sc.rng[i] = rand.New(rand.NewPCG(uint64(i)+1, 0x6c67))
	}
	return nil
}

func (sc *mixedScenario) Step(ctx context.Context, w int, rec *Recorder) bool {
	r := sc.rng[w].IntN(1000)
	switch {
	case r < 900:
		tok := sc.pool[sc.cursor[w]%len(sc.pool)]
		sc.cursor[w]++
		sc.svc.introspect(ctx, sc.rq[w], rec, tok)
	case r < 990:
		return sc.refreshScenario.Step(ctx, w, rec)
	default:
		c, sl := sc.svc.create(ctx, sc.rq[w], sc.svc.newUser("m", w))
		if rec.Observe(ctx, "create", c, http.StatusCreated, nil) && sl != nil {
			sc.svc.revoke(ctx, sc.rq[w], rec, sl.refresh)
		}
	}
	return true
}
