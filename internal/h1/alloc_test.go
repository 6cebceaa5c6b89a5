package h1

import (
	"context"
	"crypto/tls"
	"net"
	"testing"
)

// TestDoAllocs proves that a request on a kept-alive connection allocates
// nothing. AllocsPerRun counts every allocation in the process, so each
// server is either allocation-free itself (the raw responder) or runs in a
// helper process (net/http, TLS).
//
// Over TLS, crypto/tls itself allocates one 24-byte object per record it
// reads (Conn.readFromUntil's &atLeastReader escapes), so a one-record
// response costs exactly one allocation there, none of it in this package.
func TestDoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts helper processes")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go serveRaw(ln, smallResponse)
	rawAddr := ln.Addr().String()
	httpAddr := startHelper(t, "http")
	httpsAddr := startHelper(t, "https")

	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	tests := []struct {
		name   string
		addr   string
		target string
		tls    *tls.Config
		ctx    context.Context
		want   float64 // allocations per request
	}{
		{name: "raw responder", addr: rawAddr, target: "/", ctx: context.Background()},
		{name: "raw responder, cancellable ctx", addr: rawAddr, target: "/", ctx: cancellable},
		{name: "net/http content-length", addr: httpAddr, target: "/cl", ctx: context.Background()},
		{name: "net/http chunked", addr: httpAddr, target: "/chunked", ctx: context.Background()},
		{name: "tls", addr: httpsAddr, target: "/", tls: &tls.Config{InsecureSkipVerify: true}, ctx: context.Background(), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.tls != nil && raceEnabled {
				t.Skip("the race detector adds allocations in crypto/tls")
			}
			c := NewClient(Config{Addr: tt.addr, TLS: tt.tls})
			defer c.Close()
			req := getRequest(tt.addr, tt.target)
			var failed error
			do := func() {
				resp, err := c.Do(tt.ctx, req, false)
				if err != nil || resp.Status != 200 {
					failed = err
				}
			}
			for range 10 { // dial, handshake, grow whatever grows once
				do()
			}
			allocs := testing.AllocsPerRun(2000, do)
			if failed != nil {
				t.Fatalf("Do: %v", failed)
			}
			if allocs != tt.want {
				t.Errorf("Do allocates %v times per request, want %v", allocs, tt.want)
			}
		})
	}
}
