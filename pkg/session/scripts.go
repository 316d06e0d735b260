package session

import (
	"embed"
	"strings"

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

// script is the concatenation of the named files, read and hashed on first
// use (kv.NewScriptFunc): a function that runs one of these scripts does
// not build the others at start.
func script(files ...string) *kv.Script {
	return kv.NewScriptFunc(func() string {
		var b strings.Builder
		for _, f := range files {
			b.WriteString(lua(f))
		}
		return b.String()
	})
}

// The scripts. Each is lib.lua (plus risk.lua where a request is judged)
// followed by its own file; see the header of each file for KEYS, ARGV and
// the reply. The check script starts with check_fast.lua, which answers
// the common active case before lib's definitions are even built.
var (
	scriptCreate       = script("lib.lua", "create.lua")
	scriptRefresh      = script("lib.lua", "risk.lua", "refresh.lua")
	scriptCheck        = script("check_fast.lua", "lib.lua", "risk.lua", "check.lua")
	scriptEnd          = script("lib.lua", "end.lua")
	scriptRevokeAccess = script("lib.lua", "revoke_access.lua")
	scriptList         = script("lib.lua", "list.lua")
	scriptUpdate       = script("lib.lua", "update.lua")
	scriptCleanup      = script("lib.lua", "cleanup.lua")
	scriptFail         = script("lib.lua", "fail.lua")
	scriptLease        = script("lease.lua")
	scriptLeaseTake    = script("lease_take.lua")
)
