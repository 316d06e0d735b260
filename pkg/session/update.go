package session

import (
	"context"

	"github.com/google/uuid"
)

// Patch is a change to a session. Metadata merges: a key with a value
// sets it, a key with nil deletes it. Resume moves a suspended session
// back to active (our extension of PATCH: {"state": "active"}).
type Patch struct {
	Metadata map[string]*string
	Resume   bool
}

type updateArgs struct {
	base
	Owner  string            `json:"owner"`
	Cur    string            `json:"cur"`
	Set    map[string]string `json:"set,omitempty"`
	Del    []string          `json:"del,omitempty"`
	MaxK   int               `json:"maxk"`
	Resume bool              `json:"resume,omitempty"`
}

// Update applies p to a session in one atomic step and returns the result.
// ownerUserID is the user the caller acts as ("" = admin): another user's
// session is ErrNotFound. A suspended session may be resumed by the admin
// or by another active session of the same user (currentSessionID), never
// by itself: whoever was judged a hijacker cannot vouch for themselves
// (ErrForbidden). Metadata beyond the limits is *InvalidRequestError, and
// nothing changes.
func (m *Manager) Update(ctx context.Context, sessionID, ownerUserID, currentSessionID string, p Patch, c Client) (*Session, error) {
	if _, err := uuid.Parse(sessionID); err != nil {
		return nil, ErrNotFound
	}
	if len(p.Metadata) > MaxMetadataKeys {
		return nil, &InvalidRequestError{Field: "metadata", Reason: "has more than 32 keys"}
	}
	actor := "user"
	if ownerUserID == "" {
		actor = "admin"
	}
	a := updateArgs{base: m.base(m.cfg.Now(), c, actor, rules{}), Owner: ownerUserID, Cur: currentSessionID,
		MaxK: MaxMetadataKeys, Resume: p.Resume}
	a.SID = sessionID
	for k, v := range p.Metadata {
		if err := validMetadataEntry(k, v); err != nil {
			return nil, err
		}
		if v == nil {
			a.Del = append(a.Del, k)
			continue
		}
		if a.Set == nil {
			a.Set = map[string]string{}
		}
		a.Set[k] = *v
	}
	reply, err := m.run(ctx, scriptUpdate, a)
	if err != nil {
		return nil, err
	}
	switch str(reply, 0) {
	case "ok":
		s := view(sessionID, fields(reply[1]))
		s.Current = sessionID == currentSessionID
		return &s, nil
	case "forbidden":
		return nil, ErrForbidden
	case "invalid":
		return nil, &InvalidRequestError{Field: "metadata", Reason: str(reply, 1)}
	}
	return nil, ErrNotFound
}
