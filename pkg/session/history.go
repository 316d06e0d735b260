package session

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/sessionkit/sessiond/pkg/kv"
)

// RefreshRecord is one rotation of a session's refresh token.
type RefreshRecord struct {
	Time     time.Time `json:"time"`
	IP       string    `json:"ip"`
	FromGen  uint32    `json:"from_generation"`
	ToGen    uint32    `json:"to_generation"`
	Upstream bool      `json:"upstream_refreshed"` // the provider's tokens were refreshed first
}

// History returns the last rotations of a session's refresh token, newest
// first (at most 50; refresh.lua keeps the list bounded in the same step as
// the rotation). An unknown session has an empty history.
func (m *Manager) History(ctx context.Context, sessionID string) ([]RefreshRecord, error) {
	if _, err := uuid.Parse(sessionID); err != nil {
		return nil, ErrNotFound
	}
	v, err := m.kv.Do(ctx, "LRANGE", m.cfg.KeyPrefix+"h:"+sessionID, 0, historyLen-1)
	if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	items, _ := v.([]any)
	out := make([]RefreshRecord, 0, len(items))
	for _, it := range items {
		s, _ := it.(string)
		var r struct {
			T        int64  `json:"t"`
			IP       string `json:"ip"`
			From     uint32 `json:"from"`
			To       uint32 `json:"to"`
			Upstream bool   `json:"upstream"`
		}
		if json.Unmarshal([]byte(s), &r) != nil {
			continue
		}
		out = append(out, RefreshRecord{Time: ms(r.T), IP: r.IP, FromGen: r.From, ToGen: r.To, Upstream: r.Upstream})
	}
	return out, nil
}
