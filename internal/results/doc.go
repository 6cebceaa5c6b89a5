// Package results merges the result windows of a run's shards into the run's
// totals, per-endpoint histograms and timeline. It is the coordinator's one
// place where results are counted, so its rules are the rules of the report:
//
//   - A window's identity is (shard, epoch, seq); a second window with the
//     same identity is ignored (Ingest returns false), so resends after a
//     reconnect and replays after a coordinator restart count once.
//   - A window is checked whole before anything is merged: its counters must
//     agree with each other and with its histograms (every request in exactly
//     one outcome class). A bad window changes nothing and returns an error.
//   - The run is Done when every shard's final window and every window
//     before it are in.
//
// Usage:
//
//	r := results.New(plan, shards, startAt)
//	added, err := r.Ingest(w)
//	res := r.Result()   // endpoints, timeline, shard summaries
//
// Concurrency: a Run is not safe for concurrent use; the coordinator guards
// each run with its own mutex.
package results
