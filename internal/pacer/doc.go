// Package pacer decides when each request of the open model is due.
//
// A load profile is a list of stages; during a stage the arrival rate changes
// linearly from From to To requests per second (constant when they are equal,
// a pause when both are zero). With Λ(t) the cumulative number of intended
// arrivals, arrival g (counting from 0) is due at the first instant Λ exceeds
// g, so arrival 0 is due at t = 0 unless the profile starts with a pause, and
// the arrivals that follow a pause are due from its end. A Schedule holds the
// exact closed-form solution (quadratic for ramps); nothing is simulated, so
// any arrival's time is computed directly and schedules never drift.
//
// A run is split over N shards: shard k takes arrivals k, k+N, k+2N, … so the
// shards' merged stream is exactly the single-machine stream, evenly spaced
// and never bunched. Run paces one shard in real time.
//
// Usage:
//
//	s, err := pacer.NewSchedule([]pacer.Stage{{Duration: time.Minute, From: 0, To: 1000}})
//	sh, err := s.Shard(agentIndex, agents)
//	err = pacer.Run(ctx, sh, startAt, func(i, g int64, intended time.Time) {
//		select { case slots <- intended: default: dropped++ } // must not block
//	})
//
// For the closed model, Split shares a number of virtual users among shards.
//
// Concurrency: a Schedule is immutable and safe for concurrent use; Shard is a
// small value that may be copied and used concurrently. Run calls due from
// the calling goroutine only, one arrival at a time, in order.
package pacer
