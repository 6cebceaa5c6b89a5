// Package recorder counts a shard's request outcomes on the agent's hot path
// and cuts them into result windows.
//
// Outcomes are recorded into a fixed number of groups (one per P by default),
// each guarded by its own mutex, so workers on different Ps rarely contend
// and memory does not grow with the number of workers or connections: an
// HDR histogram is ~190 KiB, and a group holds at most one pair per
// (endpoint, outcome class) actually seen. Flush swaps every group's counters
// for a spare set and encodes the swapped-out set into one window's
// EndpointWindow messages (histograms in the V2 compressed encoding).
//
// Usage:
//
//	s := recorder.New(len(plan.Requests), runtime.GOMAXPROCS(0))
//	s.Record(worker%s.Groups(), ep, 200, "", latency, service, in, out) // from any goroutine
//	eps, err := s.Flush()                                           // once per window
//
// Concurrency: Record and Dropped are safe from any goroutine; Flush must not
// be called concurrently with itself.
package recorder
