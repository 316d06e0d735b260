package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/sessionkit/sessiond/pkg/token"
)

// RefreshRequest is a refresh-token grant (RFC 6749 §6).
type RefreshRequest struct {
	RefreshToken string
	Device       *Device // the client's current fingerprint, optional
	Client       Client
}

type refreshArgs struct {
	base
	Gen    uint32  `json:"gen"`
	H      string  `json:"h"`
	NH     string  `json:"nh"`
	Idle   int64   `json:"idle"`
	Grace  int64   `json:"grace"`
	Slack  int64   `json:"slack"`
	Block  float64 `json:"block"`
	Thr    float64 `json:"thr"`
	UpW    int64   `json:"upw"`
	Up     string  `json:"up,omitempty"`
	UpX    int64   `json:"upx,omitempty"`
	UpRot  bool    `json:"uprot,omitempty"`
	UpSeen int64   `json:"ups,omitempty"`
	UpSkip bool    `json:"upskip,omitempty"`
	Hist   int     `json:"hist"`
	IPK    int     `json:"ipk"`
	riskArgs
}

// riskArgs are the fields risk.lua reads. The device's are sent outside
// the JSON object A (ARGV[2..4], see extraArgs), so that a call decodes
// them only when it compares two different fingerprints.
type riskArgs struct {
	W    *RiskWeights `json:"W,omitempty"`
	DK   bool         `json:"dk,omitempty"`
	IPN  string       `json:"ipn,omitempty"`
	UAF  string       `json:"uaf,omitempty"`
	Cad  int          `json:"cad"`
	FSat int          `json:"fsat"`

	DW   map[string]float64 `json:"-"` // ARGV[2]: field weights
	DevF string             `json:"-"` // ARGV[3]: the fingerprint's features, JSON with sorted keys
	DevJ string             `json:"-"` // ARGV[4]: the device as the client sent it
}

// extraArgs are ARGV[2..4] of a script that includes risk.lua.
func (r *riskArgs) extraArgs() ([]any, error) {
	if r.DevF == "" {
		return nil, nil // nothing to compare: risk.lua never reads them
	}
	dw, err := floatMapJSON(r.DW)
	if err != nil {
		return nil, err
	}
	return []any{dw, r.DevF, r.DevJ}, nil
}

func (m *Manager) riskArgs(c Client, dev *Device) riskArgs {
	r := riskArgs{
		W: m.cfg.Risk, DW: DeviceWeights, IPN: ipNetwork(c.IP), UAF: uaFamily(c.UserAgent),
		Cad: m.cfg.Risk.CadencePerMinute, FSat: max(1, m.cfg.Risk.FailuresSaturate),
	}
	if dev != nil {
		r.DevF, r.DK = deviceFeaturesJSON(dev, DeviceWeights)
		if r.DevF != "" {
			r.DevJ = deviceJSON(dev)
		}
	}
	return r
}

// Refresh rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2) and
// issues a new access token, in one atomic step in the store:
//
//   - the current token is exchanged for its successor, and the session's
//     idle deadline slides (never past the absolute one);
//   - the token rotated less than RefreshGrace ago, presented again while
//     its successor is still current (racing tabs), gets the very same
//     successor and access token, and changes nothing: there are never two
//     live successors;
//   - a rotated token presented after the grace window ends the session
//     (token.reuse_detected): someone else holds a copy;
//   - the hijack risk of the request is scored against the session, and at
//     or above RiskBlock the session is suspended instead.
//
// When the session's upstream tokens expire within UpstreamRefreshWindow,
// they are refreshed at the provider first, by one instance at a time.
//
// Every refusal is ErrInvalidGrant, whatever the reason (the audit has it),
// except *RateLimitError and errors wrapping kv.ErrUnavailable or
// upstream.ErrUnavailable, after which nothing has changed.
func (m *Manager) Refresh(ctx context.Context, req RefreshRequest) (*Issued, error) {
	if err := req.Device.Validate(); err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	var rs rules
	ip := ipKey(req.Client)
	rs.lockout("refresh.fail", m.cfg.Limits.RefreshFailures, ip, m.cfg.Rand())
	r, err := m.cfg.RefreshKeys.Parse(req.RefreshToken)
	if err != nil {
		// Not a token we issued. Count it against the client like any
		// other bad token, so guessing costs a lockout.
		return nil, m.failure(ctx, now, req.Client, rs)
	}
	rs.limit("refresh.ip", m.cfg.Limits.RefreshPerIP, ip)
	sid := uuid.UUID(r.SessionID).String()
	rs.limit("refresh.session", m.cfg.Limits.RefreshPerSession, sid)
	next := m.cfg.RefreshKeys.Next(r)
	a := refreshArgs{
		base:  m.base(now, req.Client, "user", rs),
		Gen:   r.Gen,
		H:     token.Hash(r),
		NH:    token.Hash(next),
		Idle:  m.cfg.IdleTimeout.Milliseconds(),
		Grace: m.cfg.RefreshGrace.Milliseconds(),
		Slack: m.cfg.TombstoneTTL.Milliseconds(),
		Block: m.cfg.RiskBlock, Thr: m.cfg.DeviceMatchThreshold,
		UpW:      m.cfg.UpstreamRefreshWindow.Milliseconds(),
		Hist:     historyLen,
		IPK:      ipHistoryLen,
		riskArgs: m.riskArgs(req.Client, req.Device),
	}
	a.SID = sid
	for attempt := 0; ; attempt++ {
		reply, err := m.run(ctx, scriptRefresh, &a)
		if err != nil {
			return nil, err
		}
		switch str(reply, 0) {
		case "ok":
			gen, rot, uid, dl, scope := num(reply, 1), num(reply, 2), str(reply, 3), num(reply, 4), str(reply, 5)
			if gen != int64(next.Gen) {
				return nil, ErrInvalidGrant
			}
			s := Session{ID: sid, UserID: uid, State: StateActive, ExpiresAt: ms(dl)}
			return m.issue(s, next, rot, scope, now)
		case "upstream":
			if attempt > 0 || m.cfg.Upstream == nil {
				// No provider to ask (configuration removed) or it did
				// not settle: go on with the tokens the session has.
				a.UpSkip = true
				continue
			}
			// The lease is held until the next run has stored the result.
			release, err := m.refreshUpstream(ctx, sid, str(reply, 1), num(reply, 2), &a)
			defer release()
			if err != nil {
				return nil, err
			}
		default:
			m.cfg.Logger.Debug("refresh refused", slog.String("sid", sid), slog.String("reason", str(reply, 1)))
			return nil, ErrInvalidGrant
		}
	}
}

// failure records one failed attempt against rs's lockout counters and
// returns what the caller should see: ErrInvalidGrant, or the lockout.
func (m *Manager) failure(ctx context.Context, now time.Time, c Client, rs rules) error {
	if len(rs.lf) == 0 {
		return ErrInvalidGrant
	}
	_, err := m.run(ctx, scriptFail, &failArgs{base: m.base(now, c, "user", rules{lf: rs.lf})})
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return err
	}
	if err != nil && isUnavailable(err) {
		return err
	}
	return ErrInvalidGrant
}

type failArgs struct {
	base
}

// RecordFailure counts one failed attempt of kind rule by key (e.g. a wrong
// admin key from an IP) against the matching lockout: "admin" uses
// Limits.AdminFailures, "create" Limits.CreateFailures, "refresh"
// Limits.RefreshFailures. It returns a *RateLimitError when key was
// already locked out (the attempt is refused, not counted), nil otherwise
// (or an error wrapping kv.ErrUnavailable).
func (m *Manager) RecordFailure(ctx context.Context, rule, key string, c Client) error {
	var o Lockout
	switch rule {
	case "admin":
		o = m.cfg.Limits.AdminFailures
	case "create":
		o = m.cfg.Limits.CreateFailures
	case "refresh":
		o = m.cfg.Limits.RefreshFailures
	default:
		return fmt.Errorf("session: unknown failure rule %q", rule)
	}
	var rs rules
	rs.lockout(rule+".fail", o, key, m.cfg.Rand())
	err := m.failure(ctx, m.cfg.Now(), c, rs)
	if errors.Is(err, ErrInvalidGrant) {
		return nil
	}
	return err
}
