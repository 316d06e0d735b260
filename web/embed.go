// Package web holds the browser side of the service: the client library
// (session-client.js) and the example app (app/). cmd/sessiond embeds them
// and serves them (see README.md, "Static files"); nothing else in this
// directory is embedded.
package web

import "embed"

// FS holds session-client.js and app/ (index.html, app.js, style.css).
//
//go:embed session-client.js app/index.html app/app.js app/style.css
var FS embed.FS
