package h1

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

const (
	// DefaultTimeout is the per-request timeout when Config.Timeout is 0.
	DefaultTimeout = 10 * time.Second
	// DefaultReadBufferSize is the read buffer size when
	// Config.ReadBufferSize is 0.
	DefaultReadBufferSize = 16 << 10
	// MaxHeaderBytes bounds a response's header section (status line, header
	// fields, blank line) and, separately, its chunked trailer section.
	MaxHeaderBytes = 64 << 10
	// minReadBufferSize is the smallest read buffer a Client uses.
	minReadBufferSize = 16
)

var (
	// ErrAborted is returned by a Do that [Client.Abort] interrupted. It
	// wraps context.Canceled, so outcome.Kind reports it as "canceled".
	ErrAborted = fmt.Errorf("h1: request aborted: %w", context.Canceled)
	// ErrClosed is returned by Do after [Client.Close]. It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("h1: client closed: %w", net.ErrClosed)
)

// Config configures a [Client].
type Config struct {
	// Addr is the host:port to dial.
	Addr string
	// TLS, when non-nil, makes the client speak TLS. Its NextProtos is
	// replaced by ["http/1.1"], and an empty ServerName is set to Addr's host.
	// Nil means plain TCP.
	TLS *tls.Config
	// Dial opens the TCP connection. Nil means a zero net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds one Do: dial (when needed), TLS handshake, write and
	// the full response read, including a retry. Zero means DefaultTimeout.
	Timeout time.Duration
	// ReadBufferSize is the size in bytes of the read buffer; responses are
	// parsed in place from it. It grows (once, up to MaxHeaderBytes) for a
	// header line that does not fit. Zero means DefaultReadBufferSize;
	// values below 16 are raised to 16.
	ReadBufferSize int
}

// Response describes one response. The body is read and discarded.
type Response struct {
	// Status is the final status code, 100..599 (interim 1xx responses such
	// as 100 Continue are skipped; a 101 is final). Zero after an error.
	Status int
	// BytesIn is the number of bytes read for this Do: interim responses,
	// status line, headers, body and trailers, framing included. After an
	// error it counts what was read before the error.
	BytesIn int64
	// BytesOut is the number of request bytes written, on every attempt.
	BytesOut int64
	// Reused reports that the final attempt was sent on a kept-alive
	// connection.
	Reused bool
	// Retried reports that a first attempt on a stale kept-alive connection
	// failed before any response byte arrived and the request was sent again
	// on a fresh connection.
	Retried bool
}

// Client is one HTTP/1.1 connection, dialled lazily and redialled after the
// server closes it or after an error. See the package comment for the
// concurrency contract.
type Client struct {
	addr    string
	tls     *tls.Config
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)
	timeout time.Duration

	// Used only by the goroutine calling Do (conn is also read by Abort,
	// under mu; it is written under mu).
	conn      net.Conn
	buf       []byte // read buffer; unread bytes are buf[r:w]
	r, w      int
	got       bool // a byte arrived from the server during the current attempt
	mustClose bool // the response just read ends the connection

	// Context watch: one context.AfterFunc per distinct Done channel, kept
	// across calls so that a long-lived ctx costs nothing per request.
	watchDone <-chan struct{}
	stopWatch func() bool
	onDone    func()

	mu         sync.Mutex
	inflight   bool               // a Do is running
	aborted    bool               // Abort interrupted the Do in flight
	closed     bool               // Close was called
	ctx        context.Context    // the ctx of the Do in flight
	dialCancel context.CancelFunc // cancels the dial in progress
}

// NewClient returns a Client for cfg. It does not dial; the first Do does.
func NewClient(cfg Config) *Client {
	c := &Client{
		addr:    cfg.Addr,
		dial:    cfg.Dial,
		timeout: cfg.Timeout,
	}
	if c.dial == nil {
		var d net.Dialer
		c.dial = d.DialContext
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	size := cfg.ReadBufferSize
	if size == 0 {
		size = DefaultReadBufferSize
	}
	size = max(size, minReadBufferSize)
	c.buf = make([]byte, size)
	if cfg.TLS != nil {
		c.tls = cfg.TLS.Clone()
		c.tls.NextProtos = []string{"http/1.1"}
		if c.tls.ServerName == "" {
			if host, _, err := net.SplitHostPort(cfg.Addr); err == nil {
				c.tls.ServerName = host
			}
		}
	}
	c.onDone = c.ctxDone
	return c
}

// Do sends one complete, already-serialized HTTP/1.1 request (request line,
// headers, blank line, body) and reads the whole response. head says the
// request method was HEAD, so the response has no body.
//
// The whole call, a retry included, is bounded by Config.Timeout and by
// ctx's deadline; cancelling ctx makes it return promptly. For a ctx that
// can be cancelled, the first Do with it registers a context.AfterFunc that
// later calls with the same ctx reuse, so pass a long-lived ctx, not one per
// request, to keep Do free of allocations.
//
// On error the connection is closed and the Response still carries the byte
// counts (and Retried). Errors wrap outcome.ErrProtocol for a malformed
// response, ErrAborted after Abort, ctx.Err() after cancellation, or the
// network error (see outcome.Kind).
func (c *Client) Do(ctx context.Context, req []byte, head bool) (Response, error) {
	var resp Response
	c.watch(ctx)
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.begin(ctx); err != nil {
		return resp, err
	}
	defer c.end()
	for attempt := 0; ; attempt++ {
		reused := c.conn != nil
		if !reused {
			if err := c.connect(ctx, deadline); err != nil {
				return resp, c.cause(ctx, fmt.Errorf("h1: dial %s: %w", c.addr, err))
			}
		}
		if err := c.arm(ctx, deadline); err != nil {
			c.closeConn()
			return resp, err
		}
		resp.Reused = reused
		c.got = false
		c.mustClose = false

		n, werr := c.conn.Write(req)
		resp.BytesOut += int64(n)
		// When the peer closed or reset the connection during the write, it
		// may have answered first (an early 413, say): read what it sent.
		rerr := werr
		if werr == nil || stale(werr) {
			rerr = c.readResponse(&resp, head)
		}
		if rerr == nil {
			if werr != nil || c.mustClose || c.r != c.w {
				// Unread bytes after the response mean the framing cannot be
				// trusted for the next one.
				c.closeConn()
			}
			return resp, nil
		}
		err := fmt.Errorf("h1: read response: %w", rerr)
		if werr != nil && !c.got {
			err = fmt.Errorf("h1: write request: %w", werr)
		}
		resp.Status = 0
		c.closeConn()
		if reused && attempt == 0 && !c.got && stale(err) && !c.interrupted(ctx) {
			resp.Retried = true
			continue
		}
		return resp, c.cause(ctx, err)
	}
}

// stale reports whether err is how a kept-alive connection that the server
// had already closed fails.
func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED)
}

// Abort makes the Do in flight, if any, fail fast with ErrAborted (its
// connection gets a deadline in the past, or its dial is cancelled). It
// affects only the Do running when it is called; a later Do runs normally.
// Abort is safe to call from any goroutine.
func (c *Client) Abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.inflight {
		return
	}
	c.aborted = true
	c.interruptLocked()
}

// Close closes the connection. Later calls to Do fail with ErrClosed. Close
// is idempotent; it must not run concurrently with Do.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if c.stopWatch != nil {
		c.stopWatch()
		c.stopWatch, c.watchDone = nil, nil
	}
	if conn != nil {
		return conn.Close()
	}
	return nil
}

// watch arranges for ctx's cancellation to interrupt a Do in flight.
func (c *Client) watch(ctx context.Context) {
	done := ctx.Done()
	if done == nil || done == c.watchDone {
		return
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
	c.watchDone = done
	c.stopWatch = context.AfterFunc(ctx, c.onDone)
}

// ctxDone runs (in its own goroutine) when a watched ctx is done.
func (c *Client) ctxDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight && c.ctx != nil && c.ctx.Err() != nil {
		c.interruptLocked()
	}
}

// interruptLocked makes blocked I/O of the Do in flight fail now.
func (c *Client) interruptLocked() {
	if c.dialCancel != nil {
		c.dialCancel()
	}
	if c.conn != nil {
		c.conn.SetDeadline(aLongTimeAgo) //nolint:errcheck // best effort; a closed conn fails anyway
	}
}

var aLongTimeAgo = time.Unix(1, 0)

// Warm dials the connection now if there is none, so that the first Do
// does not pay for the dial. It is bounded by Config.Timeout and ctx, and,
// like Do, must not run concurrently with Do or Close.
func (c *Client) Warm(ctx context.Context) error {
	if c.conn != nil {
		return nil
	}
	if err := c.begin(ctx); err != nil {
		return err
	}
	defer c.end()
	if err := c.connect(ctx, time.Now().Add(c.timeout)); err != nil {
		return c.cause(ctx, fmt.Errorf("h1: dial %s: %w", c.addr, err))
	}
	return nil
}

// begin marks a Do in flight.
func (c *Client) begin(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("h1: %w", err)
	}
	c.inflight, c.aborted, c.ctx = true, false, ctx
	return nil
}

func (c *Client) end() {
	c.mu.Lock()
	c.inflight, c.aborted, c.ctx = false, false, nil
	c.mu.Unlock()
}

// arm sets the connection deadline unless the Do was interrupted meanwhile
// (checked under mu, so an interrupt cannot be overwritten).
func (c *Client) arm(ctx context.Context, deadline time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return ErrAborted
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("h1: %w", err)
	}
	if err := c.conn.SetDeadline(deadline); err != nil {
		return fmt.Errorf("h1: set deadline: %w", err)
	}
	return nil
}

// interrupted reports whether Abort or ctx interrupted the Do in flight.
func (c *Client) interrupted(ctx context.Context) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.aborted || ctx.Err() != nil
}

// cause replaces err by the interruption that provoked it, if any: the
// deadline error that Abort or a cancelled ctx provoke is not a timeout.
func (c *Client) cause(ctx context.Context, err error) error {
	c.mu.Lock()
	aborted := c.aborted
	c.mu.Unlock()
	if aborted {
		return fmt.Errorf("%w (%v)", ErrAborted, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("h1: %w (%v)", cerr, err)
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) && errors.Is(err, os.ErrDeadlineExceeded) {
		// The connection deadline was ctx's and fired just before ctx's
		// own timer did.
		return fmt.Errorf("h1: %w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

// connect dials (and handshakes) a fresh connection.
func (c *Client) connect(ctx context.Context, deadline time.Time) error {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		return ErrAborted
	}
	c.dialCancel = cancel
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.dialCancel = nil
		c.mu.Unlock()
	}()

	conn, err := c.dial(dctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if conn == nil {
		return errors.New("dial returned no connection")
	}
	if c.tls != nil {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return fmt.Errorf("tls handshake: %w", err)
		}
		if p := tc.ConnectionState().NegotiatedProtocol; p != "" && p != "http/1.1" {
			conn.Close()
			return fmt.Errorf("tls: server negotiated protocol %q, want http/1.1", p)
		}
		conn = tc
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	c.r, c.w = 0, 0
	return nil
}

func (c *Client) closeConn() {
	c.mu.Lock()
	conn := c.conn
	c.conn = nil
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	c.r, c.w = 0, 0
}

// AppendRequest appends a request line and Host header to dst:
// "METHOD target HTTP/1.1\r\nHost: host\r\n". The caller appends further
// headers, Content-Length, the blank line and the body. Nothing is
// validated, so deliberately malformed requests can be built too.
func AppendRequest(dst []byte, method, host, target string) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, target...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	return append(dst, "\r\n"...)
}
