package kv_test

import (
	"os/exec"
	"strings"
	"testing"
)

// With -tags noembedded the Vercel functions build without the embedded
// store, and neither miniredis nor its Lua interpreter is linked in
// (docs/performance.md: about 2 MB less per function).
func TestFunctionsBuildWithoutEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the functions")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not found")
	}
	build := exec.Command(goBin, "build", "-tags", "noembedded", "github.com/sessionkit/sessiond/api/...")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags noembedded: %v\n%s", err, out)
	}
	deps, err := exec.Command(goBin, "list", "-tags", "noembedded", "-deps", "github.com/sessionkit/sessiond/api/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range []string{"github.com/alicebob/miniredis/v2", "github.com/yuin/gopher-lua"} {
		if strings.Contains(string(deps), dep+"\n") {
			t.Errorf("%s is linked into the functions despite -tags noembedded", dep)
		}
	}
	all, err := exec.Command(goBin, "list", "-deps", "github.com/sessionkit/sessiond/api/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	if !strings.Contains(string(all), "github.com/alicebob/miniredis/v2\n") {
		t.Error("without the tag the embedded store should be there (the default build is unchanged)")
	}
}
