// Package oracle holds the response detectors that turn a response into
// evidence of a defect: [InfoLeak] (stack traces, SQL errors, debug pages,
// source paths in a body) and [Injection] (proof that an injection probe
// was interpreted: a database syntax error, /etc/passwd, the output of id,
// evaluated template arithmetic, unescaped markup).
//
// They run on the agent's hot path, on sampled and mutated responses, so
// they are pure functions that never panic, look for rare "pivot" bytes
// with vectorised scans before comparing anything, and allocate only when
// they report a hit. They look for specific signatures, not words: a body
// that talks about "errors" or "SQL" does not match.
//
// Usage:
//
//	if kind, ev, ok := oracle.InfoLeak(body); ok {
//		report(finding.InfoLeak, kind, fmt.Sprintf("HTTP %d; body shows %s: %q", status, kind, ev))
//	}
//	if ev, ok := oracle.Injection(oracle.DetectSQL, probe, resp.ContentType, body); ok {
//		report(finding.InjectionEvidence, oracle.DetectSQL, ev)
//	}
//
// Concurrency: everything here is safe for concurrent use; the signature
// tables are built once at package initialisation and only read after.
package oracle
