package evloop

import (
	"net/netip"
	"time"
)

// Config is one loop's work.
type Config struct {
	// Addr is the target's address, already resolved and allow-checked.
	Addr netip.AddrPort
	// Timeout bounds each request: connecting (when needed), writing and
	// reading the whole response. Zero means 10s.
	Timeout time.Duration
	// MaxConns caps this loop's connections (one request in flight each):
	// the open model's in-flight cap. Zero means 1.
	MaxConns int
	// MaxDialing caps connections being opened at once; an arrival that
	// finds every connection busy and this many dials under way is dropped.
	// Zero means 64.
	MaxDialing int
	// InitialConns are opened before the start (open model).
	InitialConns int
	// Pick maps a global arrival number to an endpoint index.
	Pick func(g int64) int
	// Build appends the request bytes for endpoint ep, sequence number seq
	// to dst, and says how to handle the request (HEAD, response capture,
	// a tag handed back to Done).
	Build func(dst []byte, ep int, seq uint64) ([]byte, Meta)
	// Done receives each request's outcome. req is the request as sent and
	// resp the captured response (when Meta.Capture asked for it); both are
	// valid only during the call.
	Done func(o *Outcome)
	// Dropped receives each arrival that was not started.
	Dropped func(ep int)
	// ReadBuffer is each connection's read buffer size; 0 means 16 KiB.
	ReadBuffer int
	// SeqBase and SeqStride number the closed model's requests: this loop's
	// iteration i gets the global number i*SeqStride+SeqBase (for {{seq}}
	// and the endpoint choice). SeqStride 0 means 1.
	SeqBase, SeqStride int64
}

// ClosedStage is one stage of the closed model for this loop.
type ClosedStage struct {
	// Duration of the stage.
	Duration time.Duration
	// Conns is how many connections send back to back during it.
	Conns int
}

// Meta tells the loop how to handle one request.
type Meta struct {
	// Head: the request is HEAD (the response has no body).
	Head bool
	// Capture > 0 keeps the response's header section and up to Capture
	// bytes of its body for Done.
	Capture int
	// Tag is handed back to Done unchanged.
	Tag uint64
}

// Outcome is one request's result.
type Outcome struct {
	Ep  int
	Seq uint64
	Tag uint64
	// Status is the HTTP status; 0 for a transport error.
	Status int
	// ErrKind is the transport error kind (outcome.Kinds), "" for a response.
	ErrKind string
	// Latency from the intended start; Service time from the actual send.
	Latency, Service time.Duration
	In, Out          int64
	// Sent is when the request was sent (for findings' first-seen time).
	Sent time.Time
	// Req is the request as sent; Head and Body the captured response.
	Req, Head, Body []byte
	Truncated       bool
}
