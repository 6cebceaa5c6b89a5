package pacer

import (
	"fmt"
	"time"
)

// Shard is the part of a schedule one of n shards runs: shard k takes the
// arrivals g with g mod n == k, so the shards together run every arrival
// exactly once and their merged stream is the schedule's. Its i-th arrival
// is arrival g = i·n + k of the schedule.
//
// Shard is a small immutable value, safe to copy and to use concurrently. The
// zero value has no arrivals.
type Shard struct {
	s     *Schedule
	k, n  int64
	count int64
	skip  int64 // leading arrivals left out (From)
}

// Shard returns shard k of n. It fails unless n >= 1 and 0 <= k < n.
func (s *Schedule) Shard(k, n int) (Shard, error) {
	if n < 1 {
		return Shard{}, fmt.Errorf("shard count %d is not positive", n)
	}
	if k < 0 || k >= n {
		return Shard{}, fmt.Errorf("shard index %d outside [0, %d)", k, n)
	}
	sh := Shard{s: s, k: int64(k), n: int64(n)}
	sh.count = sh.share(s.Count())
	return sh, nil
}

// share returns how many of the first c arrivals of the schedule are this
// shard's.
func (sh Shard) share(c int64) int64 {
	if c <= sh.k {
		return 0
	}
	return (c-1-sh.k)/sh.n + 1
}

// Count returns the number of arrivals of this shard. The counts of shards
// 0..n-1 sum to the schedule's Count.
func (sh Shard) Count() int64 { return sh.count }

// Total is the length of the whole schedule (the same for every shard).
func (sh Shard) Total() time.Duration { return sh.s.Total() }

// At returns the i-th arrival of this shard: its global index g = i·n + k and
// its intended offset from the start of the run. ok is false when i is
// outside [0, Count()).
func (sh Shard) At(i int64) (g int64, at time.Duration, ok bool) {
	if i < 0 || i >= sh.count {
		return 0, 0, false
	}
	g = (i+sh.skip)*sh.n + sh.k
	return g, sh.s.at(g), true
}

// Due returns the number of this shard's arrivals intended at or before
// offset t.
func (sh Shard) Due(t time.Duration) int64 {
	if sh.count == 0 {
		return 0
	}
	return max(0, sh.share(sh.s.Arrivals(t))-sh.skip)
}

// From returns the shard without its arrivals intended before offset t:
// what is left of a shard taken over part way through a run. Arrival i of
// the result is the (i+skipped)-th of sh, with the same global index and
// intended time.
func (sh Shard) From(t time.Duration) Shard {
	if t <= 0 || sh.count == 0 {
		return sh
	}
	skip := min(sh.Due(t-1), sh.count)
	sh.skip += skip
	sh.count -= skip
	return sh
}

// Split returns shard k's share of total for the closed model (virtual
// users, iterations): total/n, plus one for the first total%n shards, so the
// shares of shards 0..n-1 sum to total. It returns 0 when total <= 0, n < 1
// or k is outside [0, n).
func Split(total int64, k, n int) int64 {
	if total <= 0 || n < 1 || k < 0 || k >= n {
		return 0
	}
	share := total / int64(n)
	if int64(k) < total%int64(n) {
		share++
	}
	return share
}
