// Command hello is the cold-start baseline of scripts/coldstart.sh: a
// hello-world Vercel-style handler inside the very main that
// `loadgen handlers -gen` wraps around each api/ handler, built with the same
// flags (CGO_ENABLED=0, -ldflags "-s -w"). The time from exec to its first
// answer is what the Go runtime and net/http cost before any of our code
// runs; issue 7 asks that our functions stay within 1.5x of it.
//
// It listens on 127.0.0.1:$PORT (default 3000) and answers every path.
package main

import (
	"log"
	"net/http"
	"os"
)

// Handler writes a greeting, like the hello world of Vercel's Go runtime docs.
func Handler(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("hello\n"))
}

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	log.Fatal(http.ListenAndServe("127.0.0.1:"+port, http.HandlerFunc(Handler)))
}
