// Package allow decides which targets Barrage may send load to. A load
// tester is a weapon: by default only loopback addresses are allowed, and an
// operator widens the list explicitly (CIDRs and host names). The coordinator
// checks a scenario's base URL when it is submitted; the agent checks every
// address it dials, after name resolution, so a DNS answer cannot redirect
// load elsewhere.
//
// Usage:
//
//	l, err := allow.Parse([]string{"127.0.0.0/8", "::1/128", "staging.example.com"})
//	if err := l.CheckHost(ctx, "staging.example.com"); err != nil { ... }
//	dialer := &net.Dialer{Control: l.Control}
//
// Concurrency: a List is immutable after Parse and safe for concurrent use.
package allow
