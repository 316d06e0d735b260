package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// ErrNotLoopback is returned for a target that is not on the loopback
// interface. The load generator must never be pointed at a machine it does
// not run on: at concurrency 64 it is a denial-of-service tool.
var ErrNotLoopback = errors.New("loadgen: target is not a loopback address")

// checkLoopbackURL accepts http(s) URLs whose host is a loopback IP literal
// (127.0.0.0/8, ::1) or the name "localhost". The name is accepted because
// the dialer guard (loopbackControl) re-checks the address actually dialed,
// so a hosts file that maps localhost elsewhere still cannot send traffic
// off the machine.
func checkLoopbackURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("loadgen: bad URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("loadgen: URL %q: scheme must be http or https", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("loadgen: URL %q: credentials in the URL are not accepted", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("loadgen: URL %q has no host", raw)
	}
	if !loopbackHost(host) {
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, raw)
	}
	return u, nil
}

// loopbackHost reports whether host is a loopback IP literal or the name
// "localhost" (whose resolution loopbackControl checks when dialing).
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// loopbackControl is a net.Dialer Control hook that refuses any connection
// whose resolved remote address is not loopback. It runs after name
// resolution and before connect, so it holds whatever the URL said.
func loopbackControl(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrNotLoopback, address)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !addr.Unmap().IsLoopback() {
		return fmt.Errorf("%w: dial %s %q", ErrNotLoopback, network, address)
	}
	return nil
}
