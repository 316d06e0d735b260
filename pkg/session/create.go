package session

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sessionkit/sessiond/pkg/token"
)

// CreateRequest is a session to create for a user the caller vouches for:
// the trusted back end (admin key), or the Manager itself after checking an
// upstream code or ID token.
type CreateRequest struct {
	UserID   string            // required: 1 to 255 bytes of printable UTF-8
	Upstream *UpstreamTokens   // the provider's tokens to hold for the session, optional
	Device   *Device           // the client's fingerprint, optional
	Metadata map[string]string // optional, within the metadata limits
	Client   Client            // who asks (IP, user agent)
	Actor    string            // for the audit: "admin" (default), "user"
}

type createArgs struct {
	base
	H     string `json:"h"`
	Idle  int64  `json:"idle"`
	Abs   int64  `json:"abs"`
	Slack int64  `json:"slack"`
	Max   int    `json:"max"`
	DevF  string `json:"-"` // ARGV[3]: the device's features (deviceFeaturesJSON)
	DevJ  string `json:"-"` // ARGV[4]: the device as the client sent it
	IPN   string `json:"ipn,omitempty"`
	UAF   string `json:"uaf,omitempty"`
	MD    string `json:"md,omitempty"`
	Scope string `json:"sc,omitempty"`
	Up    string `json:"up,omitempty"`
	UpX   int64  `json:"upx,omitempty"`
	UpI   bool   `json:"upi,omitempty"`
}

// extraArgs are create.lua's ARGV[2..4] (ARGV[2], risk.lua's weights, is
// not read there).
func (a *createArgs) extraArgs() ([]any, error) {
	if a.DevF == "" && a.DevJ == "" {
		return nil, nil
	}
	return []any{"", a.DevF, a.DevJ}, nil
}

// Create starts a session for req.UserID and issues its first access and
// refresh tokens. When the user already has MaxPerUser live sessions, the
// oldest are ended (session.evicted_limit) in the same atomic step, so
// parallel creations can never leave more than MaxPerUser.
//
// Provider tokens given without an expiry (opaque access tokens from a
// back end) are introspected at the provider when it supports RFC 7662,
// to refuse an inactive token and learn when to refresh it
// (upstream.introspected).
//
// Errors: *InvalidRequestError for a bad user id or metadata or an inactive
// upstream token, ErrDevice for a bad fingerprint, *RateLimitError, or an
// error wrapping kv.ErrUnavailable or upstream.ErrUnavailable; in every
// error case nothing was stored.
func (m *Manager) Create(ctx context.Context, req CreateRequest) (*Issued, error) {
	if err := validUserID(req.UserID); err != nil {
		return nil, err
	}
	if err := validMetadata(req.Metadata); err != nil {
		return nil, err
	}
	if err := req.Device.Validate(); err != nil {
		return nil, err
	}
	now := m.cfg.Now()
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("session: new id: %w", err)
	}
	sid := id.String()
	rt, err := token.NewRefresh(id)
	if err != nil {
		return nil, err
	}
	actor := req.Actor
	if actor == "" {
		actor = "admin"
	}
	var rs rules
	ipKey := ipKey(req.Client)
	rs.limit("create.ip", m.cfg.Limits.CreatePerIP, ipKey)
	rs.limit("create.user", m.cfg.Limits.CreatePerUser, req.UserID)
	a := createArgs{
		base:  m.base(now, req.Client, actor, rs),
		H:     token.Hash(rt),
		Idle:  m.cfg.IdleTimeout.Milliseconds(),
		Abs:   m.cfg.AbsoluteTimeout.Milliseconds(),
		Slack: m.cfg.TombstoneTTL.Milliseconds(),
		Max:   m.cfg.MaxPerUser,
		IPN:   ipNetwork(req.Client.IP),
		UAF:   uaFamily(req.Client.UserAgent),
	}
	a.UID, a.SID = req.UserID, sid
	if req.Device != nil {
		a.DevF, _ = deviceFeaturesJSON(req.Device, DeviceWeights)
		a.DevJ = deviceJSON(req.Device)
	}
	if len(req.Metadata) > 0 {
		j, _ := json.Marshal(req.Metadata)
		a.MD = string(j)
	}
	if req.Upstream != nil {
		up := *req.Upstream
		if a.UpI, err = m.introspectUpstream(ctx, &up); err != nil {
			return nil, err
		}
		req.Upstream = &up
		sealed, err := m.sealUpstream(sid, req.Upstream)
		if err != nil {
			return nil, err
		}
		a.Up, a.UpX, a.Scope = sealed, req.Upstream.Expiry.UnixMilli(), req.Upstream.Scope
	}
	if _, err := m.run(ctx, scriptCreate, &a); err != nil {
		return nil, err
	}
	idl := now.Add(m.cfg.IdleTimeout)
	abs := now.Add(m.cfg.AbsoluteTimeout)
	dl := idl
	if abs.Before(dl) {
		dl = abs
	}
	s := Session{
		ID: sid, UserID: req.UserID, State: StateActive,
		CreatedAt: ms(now.UnixMilli()), LastActiveAt: ms(now.UnixMilli()),
		ExpiresAt: ms(dl.UnixMilli()), AbsoluteExpiry: ms(abs.UnixMilli()),
		IP: a.IP, Device: req.Device, Metadata: req.Metadata,
	}
	if s.Metadata == nil {
		s.Metadata = map[string]string{}
	}
	if req.Upstream != nil && a.UpX > 0 { // as view: no expiry shown when unknown
		t := ms(a.UpX)
		s.UpstreamExpiry = &t
	}
	return m.issue(s, rt, now.UnixMilli(), a.Scope, now)
}

// issue signs the access token of generation r.Gen, issued at rot (ms),
// and packs the reply. The same (session, generation, rot) always gives the
// byte-identical access token: the jti is derived, Ed25519 is
// deterministic, so a racing refresh inside the grace window gets exactly
// what the first one got.
func (m *Manager) issue(s Session, r token.Refresh, rot int64, scope string, now time.Time) (*Issued, error) {
	iat := time.UnixMilli(rot).Truncate(time.Second)
	exp := iat.Add(m.cfg.Signer.TTL())
	at, err := m.cfg.Signer.Sign(token.AccessClaims{
		Subject: s.UserID, SessionID: s.ID, JTI: m.cfg.RefreshKeys.JTI(r.SessionID, r.Gen),
		IssuedAt: iat, ExpiresAt: exp, Scope: scope,
	})
	if err != nil {
		return nil, err
	}
	s.Generation = r.Gen
	return &Issued{
		Session:          s,
		AccessToken:      at,
		ExpiresIn:        secondsUntil(exp, now),
		RefreshToken:     m.cfg.RefreshKeys.Encode(r),
		RefreshExpiresIn: secondsUntil(s.ExpiresAt, now),
		Scope:            scope,
	}, nil
}

func secondsUntil(t, now time.Time) int {
	d := t.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + time.Second - 1) / time.Second)
}

func ipKey(c Client) string {
	if !c.IP.IsValid() {
		return ""
	}
	return c.IP.Unmap().String()
}

// validUserID accepts 1 to 255 bytes of UTF-8 without control characters:
// user ids become parts of store keys and audit lines.
func validUserID(uid string) error {
	switch {
	case uid == "":
		return &InvalidRequestError{Field: "user_id", Reason: "is required"}
	case len(uid) > 255:
		return &InvalidRequestError{Field: "user_id", Reason: "is longer than 255 bytes"}
	case !utf8.ValidString(uid):
		return &InvalidRequestError{Field: "user_id", Reason: "is not valid UTF-8"}
	}
	for _, r := range uid {
		// Control and format characters (NUL, newlines, bidi overrides such
		// as U+202E) would let an id forge how audit lines and admin UIs look.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return &InvalidRequestError{Field: "user_id", Reason: "contains a control or format character"}
		}
	}
	return nil
}

func validMetadata(md map[string]string) error {
	if len(md) > MaxMetadataKeys {
		return &InvalidRequestError{Field: "metadata", Reason: fmt.Sprintf("has more than %d keys", MaxMetadataKeys)}
	}
	for k, v := range md {
		if err := validMetadataEntry(k, &v); err != nil {
			return err
		}
	}
	return nil
}

func validMetadataEntry(k string, v *string) error {
	switch {
	case k == "":
		return &InvalidRequestError{Field: "metadata", Reason: "has an empty key"}
	case len(k) > MaxMetadataKeyLen:
		return &InvalidRequestError{Field: "metadata", Reason: fmt.Sprintf("key longer than %d bytes", MaxMetadataKeyLen)}
	case !utf8.ValidString(k):
		return &InvalidRequestError{Field: "metadata", Reason: "key is not valid UTF-8"}
	case strings.IndexFunc(k, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return &InvalidRequestError{Field: "metadata", Reason: "key contains a control or format character"}
	case v != nil && len(*v) > MaxMetadataValueLen:
		return &InvalidRequestError{Field: "metadata." + k, Reason: fmt.Sprintf("value longer than %d bytes", MaxMetadataValueLen)}
	case v != nil && !utf8.ValidString(*v):
		return &InvalidRequestError{Field: "metadata." + k, Reason: "value is not valid UTF-8"}
	}
	return nil
}
