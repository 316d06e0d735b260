package session

import (
	"embed"

	"github.com/sessionkit/sessiond/pkg/kv"
)

//go:embed lua/*.lua
var luaFiles embed.FS

func lua(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name)
	if err != nil {
		panic("session: missing embedded script " + name) // a build defect, caught by every test
	}
	return string(b)
}

// The scripts. Each is lib.lua (plus risk.lua where a request is judged)
// followed by its own file; see the header of each file for KEYS, ARGV and
// the reply.
var (
	scriptCreate       = kv.NewScript(lua("lib.lua") + lua("create.lua"))
	scriptRefresh      = kv.NewScript(lua("lib.lua") + lua("risk.lua") + lua("refresh.lua"))
	scriptCheck        = kv.NewScript(lua("lib.lua") + lua("risk.lua") + lua("check.lua"))
	scriptEnd          = kv.NewScript(lua("lib.lua") + lua("end.lua"))
	scriptRevokeAccess = kv.NewScript(lua("lib.lua") + lua("revoke_access.lua"))
	scriptList         = kv.NewScript(lua("lib.lua") + lua("list.lua"))
	scriptUpdate       = kv.NewScript(lua("lib.lua") + lua("update.lua"))
	scriptCleanup      = kv.NewScript(lua("lib.lua") + lua("cleanup.lua"))
	scriptFail         = kv.NewScript(lua("lib.lua") + lua("fail.lua"))
	scriptLease        = kv.NewScript(lua("lease.lua"))
	scriptLeaseTake    = kv.NewScript(lua("lease_take.lua"))
)
