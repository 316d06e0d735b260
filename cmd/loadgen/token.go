package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// cmdToken prints one fresh access token, for tools that replay a single
// request (wrk): with -hydra-admin it registers a client at Hydra and prints
// a client_credentials token; otherwise it creates a session at -target with
// SESSION_ADMIN_KEY and prints its access token.
func cmdToken(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	target := fs.String("target", "http://127.0.0.1:3000", "base URL of sessiond (loopback only)")
	hydraPublic := fs.String("hydra-public", "", "Hydra public URL: print a Hydra token instead")
	hydraAdmin := fs.String("hydra-admin", "", "Hydra admin URL (with -hydra-public)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	client := newHTTPClient(1, 10*time.Second)
	if *hydraPublic != "" {
		f := &runFlags{scenario: "hydra-introspect", hydraPublic: *hydraPublic, hydraAdmin: *hydraAdmin, seed: 1, seedC: 1}
		sc, _, err := buildScenario(f, client, os.Getenv)
		if err != nil {
			return err
		}
		h := sc.(*hydraIntrospectScenario).h
		if err := h.seed(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, h.tokens[0])
		return nil
	}
	f := &runFlags{scenario: "introspect", target: *target, device: true, seed: 1, seedC: 1, revokePool: 1}
	sc, _, err := buildScenario(f, client, os.Getenv)
	if err != nil {
		return err
	}
	svc := sc.(*introspectScenario).svc
	rq := &requester{client: client}
	defer rq.close()
	c, sl := svc.create(ctx, rq, svc.newUser("t", 0))
	if sl == nil {
		return describeFailure("POST /api/sessions", c, http.StatusCreated)
	}
	if sl.access == "" {
		return errors.New("loadgen token: no access token in the answer")
	}
	fmt.Fprintln(stdout, sl.access)
	return nil
}
