package main

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/sessionkit/sessiond/pkg/httpapi"
	"github.com/sessionkit/sessiond/web"
)

// webFiles maps the example app's URL paths to files of web.FS (web/README.md,
// "Static files"). Nothing else in web/ is served.
var webFiles = map[string]string{
	"/":                  "app/index.html",
	"/index.html":        "app/index.html",
	"/app.js":            "app/app.js",
	"/style.css":         "app/style.css",
	"/session-client.js": "session-client.js",
}

// webCSP allows the page its own scripts, styles and API calls, nothing
// inline, no framing.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// webHandler serves the embedded example app. Every file must be there: a
// missing one is a build mistake, reported at start.
func webHandler() (http.Handler, error) {
	files := map[string][]byte{}
	for p, name := range webFiles {
		b, err := fs.ReadFile(web.FS, name)
		if err != nil {
			return nil, err
		}
		files[p] = b
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := files[r.URL.Path]
		if !ok {
			httpapi.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		ct := mime.TypeByExtension(path.Ext(webFiles[r.URL.Path]))
		if strings.HasSuffix(webFiles[r.URL.Path], ".js") {
			ct = "text/javascript; charset=utf-8" // independent of the host's mime tables
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Security-Policy", webCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	}), nil
}
