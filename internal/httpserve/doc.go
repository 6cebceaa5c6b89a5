// Package httpserve runs the small HTTP servers of the daemons (the
// coordinator's web view and /metrics, an agent's /metrics): listen, serve
// in a goroutine, stop and wait.
//
// Usage:
//
//	srv, err := httpserve.Start(ctx, "127.0.0.1:0", mux, log)
//	fmt.Println(srv.Addr) // the bound address
//	defer srv.Stop()
//
// Concurrency: Stop may be called once, from any goroutine.
package httpserve
