package kv_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The embedded store is linked only into binaries that import
// pkg/kv/embedded: cmd/sessiond does, the Vercel functions under api/ do
// not, so neither miniredis nor its Lua interpreter is in a deployed
// function (docs/performance.md: about 2 MB less per function), with no
// build flag to remember.
func TestFunctionsDoNotLinkEmbedded(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found")
	}
	list := func(pkg string) string {
		t.Helper()
		out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return string(out)
	}
	fns := list("github.com/sessionkit/sessiond/api/...")
	for _, dep := range []string{"github.com/sessionkit/sessiond/pkg/kv/embedded", "github.com/alicebob/miniredis/v2", "github.com/yuin/gopher-lua"} {
		if strings.Contains(fns, dep+"\n") {
			t.Errorf("%s is linked into the Vercel functions", dep)
		}
	}
	if !strings.Contains(list("github.com/sessionkit/sessiond/cmd/sessiond"), "github.com/sessionkit/sessiond/pkg/kv/embedded\n") {
		t.Error("cmd/sessiond has no embedded store: `go run ./cmd/sessiond` would need a KV store configured")
	}
}
