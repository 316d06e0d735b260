package api_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestHandlerFiles holds every file under api/ to what Vercel's Go builder
// needs (issue 4): exactly one exported func(w http.ResponseWriter, r
// *http.Request) and nothing else exported, net/http imported unaliased, a
// package other than main, and no use of anything declared in a sibling
// file (`vercel dev` compiles each entry file alone).
func TestHandlerFiles(t *testing.T) {
	dirs := map[string]map[string]string{} // dir -> file -> source
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		if dirs[dir] == nil {
			dirs[dir] = map[string]string{}
		}
		dirs[dir][path] = string(src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, files := range dirs {
		n += len(files)
		for _, p := range checkHandlerFiles(files) {
			t.Error(p)
		}
	}
	if n < 9 {
		t.Fatalf("found %d handler files under api/, want at least 9 (one per endpoint)", n)
	}
}

// TestCheckerCatches proves the checker above can fail: each fixture breaks
// one rule.
func TestCheckerCatches(t *testing.T) {
	const good = `package api

import (
	"net/http"

	"github.com/sessionkit/sessiond/pkg/httpapi"
)

func Good(w http.ResponseWriter, r *http.Request) { httpapi.Health(w, r) }
`
	cases := []struct {
		name  string
		files map[string]string
		want  string // substring of a problem; "" = no problem
	}{
		{"good", map[string]string{"a.go": good}, ""},
		{"package main", map[string]string{"a.go": strings.Replace(good, "package api", "package main", 1)}, "package main"},
		{"aliased net/http", map[string]string{"a.go": strings.Replace(good, `"net/http"`, `h "net/http"`, 1)}, "unaliased"},
		{"no handler", map[string]string{"a.go": "package api\n\nimport \"net/http\"\n\nvar _ http.Handler\n"}, "exported handler"},
		{"two handlers", map[string]string{"a.go": strings.Replace(good,
			"func Good(w http.ResponseWriter, r *http.Request) { httpapi.Health(w, r) }",
			"func Good(w http.ResponseWriter, r *http.Request) {}\nfunc Two(w http.ResponseWriter, r *http.Request) {}", 1)}, "2 exported"},
		{"sibling call", map[string]string{
			"a.go": strings.Replace(good, "httpapi.Health(w, r)", "helper(w, r)", 1),
			"b.go": strings.Replace(strings.Replace(good, "Good", "Other", 1), "httpapi.Health(w, r) }",
				"httpapi.Health(w, r) }\nfunc helper(w http.ResponseWriter, r *http.Request) {}", 1),
		}, "sibling"},
		{"method", map[string]string{"a.go": strings.Replace(good, "func Good(", "type T struct{}\n\nfunc (T) Good(", 1)}, "exported handler"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			probs := checkHandlerFiles(tc.files)
			if tc.want == "" {
				if len(probs) != 0 {
					t.Fatalf("unexpected problems: %v", probs)
				}
				return
			}
			for _, p := range probs {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got %v", tc.want, probs)
		})
	}
}

// checkHandlerFiles checks the files of one directory (path -> source) and
// returns the problems found.
func checkHandlerFiles(files map[string]string) []string {
	var probs []string
	fset := token.NewFileSet()
	parsed := map[string]*ast.File{}
	declared := map[string]map[string]bool{} // file -> its top-level names
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		f, err := parser.ParseFile(fset, p, files[p], parser.SkipObjectResolution)
		if err != nil {
			probs = append(probs, fmt.Sprintf("%s: does not parse: %v", p, err))
			continue
		}
		parsed[p] = f
		declared[p] = topLevelNames(f)
	}
	for _, p := range names {
		f := parsed[p]
		if f == nil {
			continue
		}
		if f.Name.Name == "main" {
			probs = append(probs, p+": package main is refused by the builder")
		}
		probs = append(probs, checkImports(p, f)...)
		probs = append(probs, checkExports(p, f)...)
		// Any identifier declared in a sibling file and not in this one.
		for q, decl := range declared {
			if q == p {
				continue
			}
			var visit func(n ast.Node) bool
			visit = func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					// pkg.Name refers to another package, not a sibling.
					ast.Inspect(n.X, visit)
					return false
				case *ast.Ident:
					if decl[n.Name] && !declared[p][n.Name] && n.Name != "_" {
						probs = append(probs, fmt.Sprintf("%s: uses %s declared in sibling file %s", p, n.Name, q))
					}
				}
				return true
			}
			ast.Inspect(f, visit)
		}
	}
	return probs
}

func topLevelNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				out[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						out[n.Name] = true
					}
				case *ast.TypeSpec:
					out[s.Name.Name] = true
				}
			}
		}
	}
	return out
}

func checkImports(p string, f *ast.File) []string {
	for _, imp := range f.Imports {
		if imp.Path.Value == `"net/http"` {
			if imp.Name != nil {
				return []string{p + `: net/http must be imported unaliased`}
			}
			return nil
		}
	}
	return []string{p + ": does not import net/http (unaliased)"}
}

// checkExports wants exactly one exported declaration: a plain function
// whose parameters are written as two fields, `w http.ResponseWriter, r
// *http.Request` (the builder's analyzer counts fields), with no results.
func checkExports(p string, f *ast.File) []string {
	var handlers, others []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil && isHandlerType(d.Type) {
				handlers = append(handlers, d.Name.Name)
			} else {
				others = append(others, d.Name.Name)
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							others = append(others, n.Name)
						}
					}
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						others = append(others, s.Name.Name)
					}
				}
			}
		}
	}
	var probs []string
	if len(handlers) != 1 {
		probs = append(probs, fmt.Sprintf("%s: has %d exported handler functions %v, want exactly 1", p, len(handlers), handlers))
	}
	if len(others) != 0 {
		probs = append(probs, fmt.Sprintf("%s: exports %v besides its exported handler", p, others))
	}
	return probs
}

func isHandlerType(ft *ast.FuncType) bool {
	if ft.Results != nil && len(ft.Results.List) > 0 {
		return false
	}
	ps := ft.Params.List
	if len(ps) != 2 || len(ps[0].Names) != 1 || len(ps[1].Names) != 1 {
		return false
	}
	return isSel(ps[0].Type, "http", "ResponseWriter") && isStar(ps[1].Type, "http", "Request")
}

func isSel(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := s.X.(*ast.Ident)
	return ok && x.Name == pkg && s.Sel.Name == name
}

func isStar(e ast.Expr, pkg, name string) bool {
	s, ok := e.(*ast.StarExpr)
	return ok && isSel(s.X, pkg, name)
}
