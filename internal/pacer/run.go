package pacer

import (
	"context"
	"time"
)

// MinSleep is the shortest Run ever sleeps. When the next arrival is due
// sooner, Run sleeps MinSleep anyway and then delivers everything that came
// due in one batch, so an arrival may be delivered up to MinSleep (plus the
// timer's own lateness) after its intended time. At 20,000 arrivals per
// second per shard that is a wake-up for every 4 arrivals instead of one per
// arrival, and 200 µs stays far below the latencies it would distort (which
// are measured from the intended time anyway).
const MinSleep = 200 * time.Microsecond

// ctxCheckEvery bounds how many arrivals a batch delivers between checks of
// ctx, for large backlogs.
const ctxCheckEvery = 1024

// Run paces shard sh in real time. The run starts at start (typically a wall
// clock time chosen by the coordinator; it may lie in the future or the
// past). For each of the shard's arrivals, in order, once its intended time
// start+offset has come, Run calls due with the shard-local index i, the
// global index g and the intended time. The intended time carries a
// monotonic clock reading, so time.Since(intended) measures lateness and
// latency immune to wall clock steps.
//
// Run sleeps until the next arrival is due, but never for less than
// MinSleep; every arrival due when it wakes (after a late wake-up, at high
// rates, or all arrivals so far when start is in the past) is delivered in one
// batch without sleeping in between. due must not block: hand the slot over
// or count it as dropped. Run uses one timer and does not allocate per
// arrival.
//
// Run returns nil once every arrival was delivered (at once for an empty
// shard), or ctx.Err() as soon as ctx is done.
func Run(ctx context.Context, sh Shard, start time.Time, due func(i, g int64, intended time.Time)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	n := sh.Count()
	if n == 0 {
		return nil
	}
	// Pin start to the monotonic clock once: anchor is the same instant as
	// start, but with a monotonic reading, so elapsed times and intended
	// times do not jump with the wall clock.
	now := time.Now()
	anchor := now.Add(start.Sub(now))

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()

	var i int64
	g, next, _ := sh.At(0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		elapsed := time.Since(anchor)
		for next <= elapsed {
			due(i, g, anchor.Add(next))
			i++
			if i == n {
				return nil
			}
			g, next, _ = sh.At(i)
			if i%ctxCheckEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		wait := next - time.Since(anchor)
		if wait <= 0 {
			continue // came due while the batch was delivered
		}
		timer.Reset(max(wait, MinSleep))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
}
