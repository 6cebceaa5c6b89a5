// Package target is Barrage's bundled test target: a small HTTP API (a
// product catalogue and orders) that `make demo`, the tests and the
// benchmarks send load to, on loopback. It counts every request it serves,
// can add a fixed delay, and can stall: hold every request that arrives in
// the first Stall of each StallEvery period until that stall ends — the
// coordinated-omission experiment.
//
// Endpoints:
//
//	GET  /health            200 "ok"
//	GET  /products?limit=N  200, N products (1..100, default 10); 400 on a bad limit
//	GET  /products/{id}     200 for id 1..1000, 404 otherwise, 400 when not a number
//	POST /orders            201 for {"product_id": 1..1000, "quantity": 1..100}; 400 otherwise
//	GET  /small             200, a 12-byte JSON body (benchmarks)
//	GET  /_stats            {"requests": N} (not counted)
//
// Config.Handler replaces the catalogue with another API — the shop of
// package shop (`barrage target --api shop`) — keeping /health, /_stats,
// the request count, Delay and Stall.
//
// Usage:
//
//	t := target.New(target.Config{})
//	srv := httptest.NewServer(t)   // or http.Serve(lis, t)
//	n := t.Requests()
//
// Concurrency: a Target is safe for concurrent use.
package target
