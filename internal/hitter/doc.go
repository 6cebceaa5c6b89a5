// Package hitter builds and sends one request of a plan and reports its
// outcome. A Factory is compiled once per shard from the plan; each worker
// gets its own Hitter (its own connection and buffers).
//
// HTTP/1.1 (plain or TLS) goes through internal/h1, a lean client that
// writes pre-rendered request bytes and parses responses in place, so a
// request costs no allocation; templates without generators are rendered
// once. HTTP/2 and h2c go through net/http's transport (one per shard,
// multiplexed).
//
// Usage:
//
//	f, err := hitter.Compile(plan, hitter.Options{Dial: allowList.Dialer(nil)})
//	h := f.New(workerSeed)
//	defer h.Close()
//	res := h.Hit(ep, seq)
//
// Concurrency: a Factory is safe for concurrent use; a Hitter is not (one
// per worker goroutine).
package hitter
