// Package h1 is a lean HTTP/1.1 client connection for the load generator:
// it writes one already-serialized request, reads the whole response (the
// body is counted and discarded, never copied to the heap) and keeps the
// connection alive for the next request. In steady state on a kept-alive
// connection a request allocates nothing.
//
// It does only what a load generator needs: no redirects, cookies, proxies,
// compression, pipelining or HTTP/2 (those go through net/http elsewhere).
// It frames responses the way RFC 9112 says (Content-Length, chunked with
// trailers, close-delimited, no body for HEAD/1xx/204/304), skips interim
// 1xx responses, and rejects malformed ones with an error wrapping
// outcome.ErrProtocol. After any error the connection is closed.
//
// A request that fails on a reused keep-alive connection before a single
// response byte arrives (the server closed the idle connection: write error,
// EOF, reset) is retried once on a fresh connection, as net/http does;
// Response.Retried says so. Nothing else is ever retried.
//
// For an event loop that drives many non-blocking connections from one
// goroutine, [Parser] is the same response reader turned inside out: the
// loop pushes whatever bytes a read brought (Feed) and reports the server's
// close (EOF); it frames, counts and rejects exactly as Client does (both
// use the same rules), allocates nothing in steady state, and stops at the
// end of a response so that bytes after it can be detected:
//
//	var p h1.Parser
//	p.Reset(false) // the request was not HEAD
//	n, done, err := p.Feed(buf[:nread]) // again with each read; p.EOF() on close
//	// when done: p.Status(), p.BytesIn(), p.MustClose() || n < nread
//
// Limits: the request is written in full before the response is read (no
// concurrent read and write), so a request body larger than the socket
// buffers, sent to a server that answers early without reading it and
// without closing, ends in a timeout. Over TLS, crypto/tls allocates one
// small object per record read; this package allocates nothing.
//
// Usage:
//
//	c := h1.NewClient(h1.Config{Addr: "127.0.0.1:8080"})
//	defer c.Close()
//	req := h1.AppendRequest(nil, "GET", "127.0.0.1:8080", "/health")
//	req = append(req, "\r\n"...) // end of headers
//	resp, err := c.Do(ctx, req, false)
//	// resp.Status, resp.BytesIn, outcome.Kind(err)
//
// Concurrency: a Client is one connection and must be used by one goroutine
// at a time (the engine gives each worker its own). The one exception is
// [Client.Abort], which any goroutine may call to make the Do in flight fail
// fast. Close must not run concurrently with Do. A Parser is likewise used
// by one goroutine at a time.
package h1
