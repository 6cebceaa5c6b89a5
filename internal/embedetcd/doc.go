// Package embedetcd starts an etcd server inside the current process, for
// local mode (barrage run) and for tests. It listens on loopback only, keeps
// its data in a directory the caller owns, and logs through the caller's
// slog logger at warn level and above.
//
// Usage:
//
//	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()})
//	if err != nil { ... }
//	defer srv.Close()
//	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints()})
//
// Concurrency: Start and Close must not race; Endpoints is safe to call at
// any time after Start returns.
package embedetcd
