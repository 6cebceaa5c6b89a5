// Package apireq builds the requests of OpenAPI operations on the agent:
// valid ones from the schemas (internal/valuegen), and, for a set share of
// them, requests carrying one mutation — value and structure cases from
// internal/mutate, and the wire-level families this package owns (body,
// methods, headers, auth, cross-user). It also judges each response of such
// a request against the spec and the mutation's expectation (the oracles
// that need the operation), and keeps ids returned by create operations in
// a per-loop pool so later requests reach real resources.
//
// Usage:
//
//	c, err := apireq.Compile(ctx, plan, apireq.Options{...}) // once per shard
//	s := c.NewSender(seed, loop, loops)                     // one per loop
//	req, info := s.Build(dst, endpoint, g)
//	hits := s.Check(info, status, errKind, head, body, hits[:0])
//	s.Learn(info, status, head, body)                       // fills the pool
//
// Determinism: whether arrival g is mutated depends only on (faults seed,
// g); the case it gets on loop j of L of shard k of N is case
// ((m·L + j)·N + k + seed) mod len(cases), m counting that loop's mutated
// requests of the operation, so shards and loops draw disjoint case
// indices and N agents cover N times more of the case space.
//
// Concurrency: a Compiled is immutable and shared; a Sender is used by one
// goroutine.
package apireq
