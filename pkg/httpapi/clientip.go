package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ipPolicy says which request data the client IP may be taken from. It is
// the security-relevant choice of the whole rate-limiting design: a limit
// keyed by an IP the client can choose is no limit at all.
type ipPolicy struct {
	// onVercel: behind Vercel's edge, which sets x-real-ip and
	// x-vercel-forwarded-for itself and overwrites whatever the client sent
	// under those names. The socket peer is Vercel's own infrastructure.
	onVercel bool
	// trustProxy (SESSION_TRUST_PROXY=1): the local server sits behind a
	// proxy the operator runs, which appends the peer it saw to
	// X-Forwarded-For. Off by default, since a client can send that header.
	trustProxy bool
}

// clientIP returns the IP of the end client, or the zero Addr when it cannot
// be told. Values that do not parse are ignored, never passed on.
func (p ipPolicy) clientIP(r *http.Request) netip.Addr {
	if p.onVercel {
		if a, ok := parseIP(r.Header.Get("X-Real-Ip")); ok {
			return a
		}
		// x-vercel-forwarded-for holds the client first.
		first, _, _ := strings.Cut(r.Header.Get("X-Vercel-Forwarded-For"), ",")
		if a, ok := parseIP(first); ok {
			return a
		}
		// The peer is Vercel's own proxy, shared by every client: keying
		// limits on it would lock everyone out at once. Unknown is safer.
		return netip.Addr{}
	}
	peer := peerIP(r)
	if p.trustProxy {
		if a, ok := rightmostUntrusted(r.Header.Values("X-Forwarded-For")); ok {
			return a
		}
	}
	return peer
}

// rightmostUntrusted walks X-Forwarded-For from the right (the hop our own
// proxy appended) and returns the first address that is not one of our own
// network's: loopback, private or link-local. Entries to the left of it were
// written by the client and may be forged. When every hop is internal the
// left-most one is the client. Entries that do not parse are skipped.
func rightmostUntrusted(headers []string) (netip.Addr, bool) {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	var leftmost netip.Addr
	found := false
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseIP(hops[i])
		if !ok {
			continue
		}
		if !internal(a) {
			return a, true
		}
		leftmost, found = a, true
	}
	return leftmost, found
}

func internal(a netip.Addr) bool {
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}

// parseIP parses one address as a header carries it: surrounding spaces,
// optional brackets or port ("[::1]:80", "1.2.3.4:5"), an IPv4-mapped IPv6
// form (unmapped). Zones are dropped: they mean nothing off this host.
func parseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalizeIP(ap.Addr())
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return normalizeIP(a)
}

func normalizeIP(a netip.Addr) (netip.Addr, bool) {
	if !a.IsValid() {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// peerIP is the address of the socket peer.
func peerIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := parseIP(host)
	return a
}
