// Package upstreamtest starts real OIDC providers for tests of any
// package: oauth2-mock-server (npm) in a child process, through
// scripts/oidc-mock-server.js.
package upstreamtest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StartNodeOIDC starts oauth2-mock-server (npm) through
// scripts/oidc-mock-server.js and returns its issuer URL. Without node or
// the installed package the test is skipped, unless CI or
// SESSIOND_REQUIRE_NODE is set: there a missing provider is a failure, so
// the test cannot silently skip where it is meant to run.
func StartNodeOIDC(t testing.TB) string {
	t.Helper()
	root := moduleRoot(t)
	missing := ""
	node, err := exec.LookPath("node")
	if err != nil {
		missing = "node is not on PATH"
	} else if _, err := os.Stat(filepath.Join(root, "node_modules", "oauth2-mock-server", "package.json")); err != nil {
		missing = "node_modules/oauth2-mock-server is not installed (run `npm ci` at the repository root)"
	}
	if missing != "" {
		if os.Getenv("CI") != "" || os.Getenv("SESSIOND_REQUIRE_NODE") != "" {
			t.Fatalf("oauth2-mock-server required here but %s", missing)
		}
		t.Skipf("skipping the oauth2-mock-server flow: %s", missing)
	}

	cmd := exec.Command(node, filepath.Join(root, "scripts", "oidc-mock-server.js"), "--watch-stdin")
	cmd.Dir = root
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node: %v", err)
	}
	t.Cleanup(func() {
		// Closing stdin stops the script (--watch-stdin); SIGTERM is the
		// fallback. Only our own child is signalled, by its pid.
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-done
		}
	})

	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- strings.TrimSpace(s.Text())
		}
		close(line)
	}()
	select {
	case issuer, ok := <-line:
		if !ok || !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			t.Fatalf("oidc-mock-server printed %q; stderr: %s", issuer, stderr.String())
		}
		return issuer
	case <-time.After(60 * time.Second): // a hang guard, not a speed check
		t.Fatalf("oidc-mock-server did not start; stderr: %s", stderr.String())
	}
	return ""
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
