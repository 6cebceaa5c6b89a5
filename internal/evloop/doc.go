// Package evloop is the agent's fast path for plain-TCP HTTP/1.1: one
// goroutine drives many non-blocking connections through epoll (Linux),
// the way wrk does, instead of one goroutine per connection.
//
// Why: with a goroutine per connection every request pays for a read that
// returns EAGAIN, a park and an unpark, and the scheduler's extra epoll
// calls; a loop reads only when epoll says data is there (usually the whole
// response in one read), batches readiness, and sleeps with epoll_pwait2's
// nanosecond timeout, so open-model arrivals leave on time instead of on
// the runtime's millisecond timer grain.
//
// The loop knows nothing of templates or recording: Config.Build renders a
// request, Config.Done receives each outcome, Config.Dropped each arrival
// that found every connection busy. Responses are parsed with h1.Parser,
// which has exactly the blocking client's semantics. TLS, HTTP/2 and other
// systems use the goroutine path (internal/hitter); Supported says which.
//
// Usage:
//
//	l, err := evloop.New(cfg)
//	err = l.RunOpen(ctx, shard, start, sub, nsub) // or RunClosed
//
// Concurrency: a Loop is driven by the one goroutine that calls Run*; all
// callbacks run on that goroutine. Run* return after every request they
// started has finished (or timed out) and every connection is closed.
package evloop
