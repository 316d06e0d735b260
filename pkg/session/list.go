package session

import (
	"context"
)

type listArgs struct {
	base
	Cur string `json:"cur,omitempty"`
}

// List returns the live sessions of userID, oldest first, in one KV round
// trip, and writes session.listed. currentSessionID marks the caller's own
// session (Current); pass "" for an admin listing. Ended and vanished
// sessions are skipped (the cron prunes their index entries).
func (m *Manager) List(ctx context.Context, userID, currentSessionID string, c Client) ([]Session, error) {
	if err := validUserID(userID); err != nil {
		return nil, err
	}
	actor := "user"
	if currentSessionID == "" {
		actor = "admin"
	}
	a := listArgs{base: m.base(m.cfg.Now(), c, actor, rules{}), Cur: currentSessionID}
	a.UID = userID
	reply, err := m.run(ctx, scriptList, a)
	if err != nil {
		return nil, err
	}
	items, _ := reply[1].([]any)
	out := make([]Session, 0, len(items))
	for _, it := range items {
		pair, _ := it.([]any)
		if len(pair) != 2 {
			continue
		}
		s := view(str(pair, 0), fields(pair[1]))
		s.Current = s.ID == currentSessionID
		out = append(out, s)
	}
	return out, nil
}
