package allow

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Default is the list used when none is configured: loopback only.
var Default = []string{"127.0.0.0/8", "::1/128"}

// ErrNotAllowed is wrapped by every refusal.
var ErrNotAllowed = errors.New("target not allowed")

// List is a set of allowed address prefixes and host names.
type List struct {
	prefixes []netip.Prefix
	hosts    map[string]bool
}

// Parse builds a List from entries that are CIDR prefixes ("10.0.0.0/8"),
// single addresses ("10.1.2.3") or host names ("api.staging.internal"). An
// empty slice means Default.
func Parse(entries []string) (*List, error) {
	if len(entries) == 0 {
		entries = Default
	}
	l := &List{hosts: map[string]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if p, err := netip.ParsePrefix(e); err == nil {
			l.prefixes = append(l.prefixes, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(e); err == nil {
			l.prefixes = append(l.prefixes, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		if strings.ContainsAny(e, "/ :") {
			return nil, fmt.Errorf("allowed target %q: not a CIDR, address or host name", e)
		}
		l.hosts[strings.ToLower(strings.TrimSuffix(e, "."))] = true
	}
	return l, nil
}

// String lists the entries, for messages.
func (l *List) String() string {
	var parts []string
	for _, p := range l.prefixes {
		parts = append(parts, p.String())
	}
	for h := range l.hosts {
		parts = append(parts, h)
	}
	return strings.Join(parts, ",")
}

// AllowsAddr reports whether an IP address is inside an allowed prefix.
func (l *List) AllowsAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckHost checks a URL host (name or address, without port): an allowed
// host name passes; otherwise every address it resolves to must be allowed.
func (l *List) CheckHost(ctx context.Context, host string) error {
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		if !l.AllowsAddr(a) {
			return fmt.Errorf("%w: %s is outside the allowed targets (%s); widen them with --allow-targets", ErrNotAllowed, host, l)
		}
		return nil
	}
	if l.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolve target host %q: %w", host, err)
	}
	for _, a := range addrs {
		if !l.AllowsAddr(a) {
			return fmt.Errorf("%w: %s resolves to %s, outside the allowed targets (%s); widen them with --allow-targets", ErrNotAllowed, host, a, l)
		}
	}
	return nil
}

// Resolve returns an allowed address of host: an address literal inside an
// allowed prefix, or the first address a host name resolves to that is
// allowed (for a host name on the list, the first address it resolves to).
func (l *List) Resolve(ctx context.Context, host string) (netip.Addr, error) {
	host = strings.Trim(host, "[]")
	if a, err := netip.ParseAddr(host); err == nil {
		if !l.AllowsAddr(a) {
			return netip.Addr{}, fmt.Errorf("%w: %s is outside the allowed targets (%s)", ErrNotAllowed, a, l)
		}
		return a.Unmap(), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %q: %w", host, err)
	}
	byName := l.hosts[strings.ToLower(strings.TrimSuffix(host, "."))]
	for _, a := range addrs {
		if byName || l.AllowsAddr(a) {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: %s resolves to %v, outside the allowed targets (%s)", ErrNotAllowed, host, addrs, l)
}

// Dialer returns a dial function that connects only to allowed targets.
// An address literal must be inside an allowed prefix. A host name on the
// list is dialled as usual. Any other host name is resolved once here, every
// address is checked, and the first allowed one is dialled directly, so a
// second DNS answer cannot redirect the connection.
func (l *List) Dialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if d == nil {
		d = &net.Dialer{}
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("dial %q: %w", addr, err)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if !l.AllowsAddr(a) {
				return nil, fmt.Errorf("%w: %s is outside the allowed targets (%s)", ErrNotAllowed, a, l)
			}
			return d.DialContext(ctx, network, addr)
		}
		if l.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
			return d.DialContext(ctx, network, addr)
		}
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolve %q: %w", host, err)
		}
		for _, a := range addrs {
			if l.AllowsAddr(a) {
				return d.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			}
		}
		return nil, fmt.Errorf("%w: %s resolves to %v, outside the allowed targets (%s)", ErrNotAllowed, host, addrs, l)
	}
}
