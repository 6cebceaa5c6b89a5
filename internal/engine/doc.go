// Package engine runs one shard of a run on an agent: it paces requests
// (open model) or keeps workers busy (closed model), hands them to hitters,
// records every outcome, and emits a result window at every window boundary
// plus a final one when the shard is over.
//
// When is split from what: internal/pacer says when each arrival of the open
// model is due; the engine hands a due arrival to an idle worker, starts a
// new worker (one connection each) while under the in-flight cap, or counts
// the arrival as dropped — never queues it. Latency is measured from the
// arrival's intended time, so a stalled target shows up in the percentiles
// (no coordinated omission); the service time from the actual send is kept
// beside it.
//
// Exactness: a request is counted once, in the window in which its outcome
// becomes known. When the shard ends (schedule over, or ctx cancelled by a
// stop or the dead-man switch) no new request starts, requests in flight
// finish (bounded by the request timeout), and the final window carries what
// is left; nothing recorded is lost.
//
// Usage:
//
//	err := engine.Run(ctx, engine.Config{Assignment: a, Start: localStart, Emit: send})
//
// Concurrency: Run blocks until the final window was emitted; Emit is called
// from one goroutine, in seq order.
package engine
