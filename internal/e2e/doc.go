// Package e2e holds Barrage's end-to-end tests: real etcd (embedded, or the
// etcd binary built from the Go module proxy), real gRPC over loopback, real
// HTTP targets, and — for cluster mode — real processes, killed and
// restarted. It has no non-test code.
package e2e
