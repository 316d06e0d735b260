package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

const module = "github.com/sessionkit/sessiond"

// handlerFile is one Vercel function found under api/.
type handlerFile struct {
	route string // the path Vercel serves it at
	fn    string // fully qualified function name, as runtime reports it
}

// apiHandlers walks ../../api like Vercel's builder: every .go file but
// tests and paths with a segment starting with _ or ., and its first
// exported func(http.ResponseWriter, *http.Request).
func apiHandlers(t *testing.T) []handlerFile {
	t.Helper()
	root := filepath.Join("..", "..")
	var out []handlerFile
	err := filepath.WalkDir(filepath.Join(root, "api"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		for _, seg := range strings.Split(rel, "/") {
			if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() || !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if ok && fd.Recv == nil && fd.Name.IsExported() && len(fd.Type.Params.List) == 2 {
				out = append(out, handlerFile{
					route: "/" + strings.TrimSuffix(rel, ".go"),
					fn:    module + "/" + filepath.ToSlash(filepath.Dir(rel)) + "." + fd.Name.Name,
				})
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func funcName(h func(http.ResponseWriter, *http.Request)) string {
	return runtime.FuncForPC(reflect.ValueOf(h).Pointer()).Name()
}

// Every api/ file is mounted by the local server at its Vercel path, with
// its own function; nothing else is mounted under /api/.
func TestEveryAPIFileIsMounted(t *testing.T) {
	files := apiHandlers(t)
	if len(files) < 9 {
		t.Fatalf("found %d handlers under api/, want at least 9", len(files))
	}
	mounted := map[string]string{}
	for _, rt := range apiRoutes {
		mounted[rt.Path] = funcName(rt.Handler)
	}
	for _, f := range files {
		got, ok := mounted[f.route]
		if !ok {
			t.Errorf("%s (%s) is not mounted by cmd/sessiond", f.route, f.fn)
			continue
		}
		if got != f.fn {
			t.Errorf("%s is mounted with %s, want %s", f.route, got, f.fn)
		}
		delete(mounted, f.route)
	}
	for p, fn := range mounted {
		if p == "/.well-known/jwks.json" && fn == module+"/api.JWKS" {
			continue // vercel.json's rewrite, checked below
		}
		t.Errorf("%s (%s) is mounted but is no api/ file", p, fn)
	}

	// And the mux really routes each path to a handler (not the 404).
	web, err := webHandler()
	if err != nil {
		t.Fatal(err)
	}
	mux := newMux(httpapi.Default(), web)
	for _, f := range files {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodOptions, f.route, nil))
		if w.Code != http.StatusNoContent || w.Header().Get("Allow") == "" {
			t.Errorf("OPTIONS %s: %d, not an endpoint's answer", f.route, w.Code)
		}
	}
}

// vercel.json's cron and rewrite point at mounted functions, and it uses
// functions/crons/rewrites only (never builds or routes).
func TestVercelJSON(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "vercel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Functions map[string]struct {
			Memory      int `json:"memory"`
			MaxDuration int `json:"maxDuration"`
		} `json:"functions"`
		Crons []struct {
			Path, Schedule string
		} `json:"crons"`
		Rewrites []struct {
			Source, Destination string
		} `json:"rewrites"`
		Builds any `json:"builds"`
		Routes any `json:"routes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Builds != nil || v.Routes != nil {
		t.Fatal("vercel.json must not use builds or routes")
	}
	fn, ok := v.Functions["api/**/*.go"]
	if !ok || fn.MaxDuration <= 0 || fn.Memory <= 0 {
		t.Fatalf("functions %+v", v.Functions)
	}
	// The per-request budget must end before Vercel kills the function.
	if httpapi.DefaultBudget.Seconds() >= float64(fn.MaxDuration) {
		t.Fatalf("DefaultBudget %v is not below maxDuration %ds", httpapi.DefaultBudget, fn.MaxDuration)
	}
	routes := map[string]bool{}
	for _, f := range apiHandlers(t) {
		routes[f.route] = true
	}
	if len(v.Crons) != 1 || v.Crons[0].Path != "/api/cron/cleanup" || !routes[v.Crons[0].Path] {
		t.Fatalf("crons %+v", v.Crons)
	}
	if len(strings.Fields(v.Crons[0].Schedule)) != 5 || strings.Fields(v.Crons[0].Schedule)[1] == "*" {
		t.Fatalf("cron schedule %q is not daily", v.Crons[0].Schedule)
	}
	found := false
	for _, rw := range v.Rewrites {
		if rw.Source == "/.well-known/jwks.json" && routes[rw.Destination] && rw.Destination == "/api/jwks" {
			found = true
		}
	}
	if !found {
		t.Fatalf("rewrites %+v", v.Rewrites)
	}
}
