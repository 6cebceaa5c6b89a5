package h1

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/google/go-cmp/cmp"
)

// newHTTPTestServer starts an httptest server with a few endpoints and
// counts the connections it accepts.
func newHTTPTestServer(t *testing.T, tlsOn bool) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/cl", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
		for i := range 5 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strings.Repeat("x", 1<<20))
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/close", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %d", r.Method, n)
	})
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // some tests fail handshakes on purpose
	var conns atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, &conns
}

func TestDoHTTPTestServer(t *testing.T) {
	srv, conns := newHTTPTestServer(t, false)
	addr := srv.Listener.Addr().String()
	c := NewClient(Config{Addr: addr})
	defer c.Close()

	post := AppendRequest(nil, "POST", addr, "/echo")
	post = append(post, "Content-Length: 11\r\n\r\nhello world"...)
	expect := AppendRequest(nil, "PUT", addr, "/echo")
	expect = append(expect, "Expect: 100-continue\r\nContent-Length: 4\r\n\r\nbody"...)
	head := append(AppendRequest(nil, "HEAD", addr, "/big"), "\r\n"...)

	// One sequence on one client: each step says what it sends and what
	// must come back; minIn is a lower bound on BytesIn (headers vary).
	steps := []struct {
		name       string
		req        []byte
		head       bool
		wantStatus int
		wantReused bool
		minIn      int64
	}{
		{"content-length", getRequest(addr, "/cl"), false, 200, false, 5},
		{"chunked", getRequest(addr, "/chunked"), false, 200, true, 35},
		{"big body", getRequest(addr, "/big"), false, 200, true, 1 << 20},
		{"head", head, true, 200, true, 1},
		{"204", getRequest(addr, "/status/204"), false, 204, true, 1},
		{"304", getRequest(addr, "/status/304"), false, 304, true, 1},
		{"404", getRequest(addr, "/nope"), false, 404, true, 1},
		{"503", getRequest(addr, "/status/503"), false, 503, true, 1},
		{"post", post, false, 200, true, 1},
		{"expect 100-continue", expect, false, 200, true, 1},
		{"connection close", getRequest(addr, "/close"), false, 200, true, 3},
		{"after close", getRequest(addr, "/cl"), false, 200, false, 5},
		{"reused again", getRequest(addr, "/cl"), false, 200, true, 5},
	}
	for _, s := range steps {
		resp, err := c.Do(context.Background(), s.req, s.head)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if resp.Status != s.wantStatus || resp.Reused != s.wantReused || resp.Retried {
			t.Errorf("%s: Status, Reused, Retried = %d, %v, %v; want %d, %v, false",
				s.name, resp.Status, resp.Reused, resp.Retried, s.wantStatus, s.wantReused)
		}
		if resp.BytesIn < s.minIn || resp.BytesOut != int64(len(s.req)) {
			t.Errorf("%s: BytesIn, BytesOut = %d, %d; want >= %d, %d",
				s.name, resp.BytesIn, resp.BytesOut, s.minIn, len(s.req))
		}
	}
	// Had any body been framed wrongly, a later response in the sequence
	// would have failed to parse.
	if got := conns.Load(); got != 2 {
		t.Errorf("server saw %d connections, want 2 (one redial after Connection: close)", got)
	}
}

// TestDoBytesInExact checks BytesIn against what the server really wrote,
// counted by the server's connection.
func TestDoBytesInExact(t *testing.T) {
	var written atomic.Int64
	resp := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	srv := newRawServer(t, func(_ int, conn net.Conn) {
		br := bufio.NewReader(conn)
		for readRequest(br) == nil {
			n, _ := io.WriteString(conn, resp)
			written.Add(int64(n))
		}
	})
	c := NewClient(Config{Addr: srv.addr()})
	defer c.Close()
	var in int64
	for range 10 {
		r, err := c.Do(context.Background(), getRequest(srv.addr(), "/"), false)
		if err != nil {
			t.Fatal(err)
		}
		in += r.BytesIn
	}
	if in != written.Load() {
		t.Errorf("sum of BytesIn = %d, server wrote %d", in, written.Load())
	}
	if srv.conns.Load() != 1 {
		t.Errorf("server saw %d connections, want 1", srv.conns.Load())
	}
}

// TestStaleRetry: the server closes a kept-alive connection while it is
// idle; the next request is retried once, transparently, on a fresh one.
func TestStaleRetry(t *testing.T) {
	for _, reset := range []bool{false, true} {
		t.Run(fmt.Sprintf("reset=%v", reset), func(t *testing.T) {
			closed := make(chan struct{})
			srv := newRawServer(t, func(i int, conn net.Conn) {
				br := bufio.NewReader(conn)
				if readRequest(br) != nil {
					return
				}
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
				if i == 0 {
					if reset {
						conn.(*net.TCPConn).SetLinger(0) // close sends RST
					}
					conn.Close()
					close(closed)
					return
				}
				drain(conn)
			})
			c := NewClient(Config{Addr: srv.addr()})
			defer c.Close()
			req := getRequest(srv.addr(), "/")
			if _, err := c.Do(context.Background(), req, false); err != nil {
				t.Fatal(err)
			}
			<-closed
			resp, err := c.Do(context.Background(), req, false)
			if err != nil {
				t.Fatalf("second request: %v", err)
			}
			// The first attempt's write may or may not have gone out before
			// the reset was noticed.
			if resp.BytesOut != int64(len(req)) && resp.BytesOut != 2*int64(len(req)) {
				t.Errorf("BytesOut = %d, want %d or %d", resp.BytesOut, len(req), 2*len(req))
			}
			resp.BytesOut = 0
			want := Response{Status: 200, BytesIn: 40, Reused: false, Retried: true}
			if diff := cmp.Diff(want, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			if srv.conns.Load() != 2 {
				t.Errorf("server saw %d connections, want 2", srv.conns.Load())
			}
		})
	}
}

// TestNoRetry: failures that must not be retried.
func TestNoRetry(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
	tests := []struct {
		name string
		// serve handles the i-th connection.
		serve       func(i int, conn net.Conn, br *bufio.Reader)
		warmUp      bool // one successful request first, so the failing one is on a reused connection
		wantKind    string
		wantConns   int32
		wantRetried bool
	}{
		{
			name:      "fresh connection closed without response",
			serve:     func(_ int, _ net.Conn, br *bufio.Reader) { readRequest(br) },
			wantKind:  outcome.KindClosed,
			wantConns: 1,
		},
		{
			name: "reused connection closed after part of a response",
			serve: func(_ int, conn net.Conn, br *bufio.Reader) {
				readRequest(br)
				io.WriteString(conn, ok)
				readRequest(br)
				io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-")
			},
			warmUp:    true,
			wantKind:  outcome.KindClosed,
			wantConns: 1,
		},
		{
			name: "reused connection sends malformed response",
			serve: func(_ int, conn net.Conn, br *bufio.Reader) {
				readRequest(br)
				io.WriteString(conn, ok)
				readRequest(br)
				io.WriteString(conn, "HTTP/1.1 abc\r\n\r\n")
			},
			warmUp:    true,
			wantKind:  outcome.KindProtocol,
			wantConns: 1,
		},
		{
			name: "stale connection and the fresh one also fails",
			serve: func(i int, conn net.Conn, br *bufio.Reader) {
				readRequest(br)
				if i == 0 {
					io.WriteString(conn, ok)
					readRequest(br) // then close without answering
				}
			},
			warmUp:      true,
			wantKind:    outcome.KindClosed,
			wantConns:   2,
			wantRetried: true,
		},
		{
			name: "reused connection times out",
			serve: func(_ int, conn net.Conn, br *bufio.Reader) {
				readRequest(br)
				io.WriteString(conn, ok)
				readRequest(br)
				drain(conn) // never answers
			},
			warmUp:    true,
			wantKind:  outcome.KindTimeout,
			wantConns: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, func(i int, conn net.Conn) {
				tt.serve(i, conn, bufio.NewReader(conn))
			})
			c := NewClient(Config{Addr: srv.addr(), Timeout: 200 * time.Millisecond})
			defer c.Close()
			req := getRequest(srv.addr(), "/")
			if tt.warmUp {
				if _, err := c.Do(context.Background(), req, false); err != nil {
					t.Fatal(err)
				}
			}
			resp, err := c.Do(context.Background(), req, false)
			if got := outcome.Kind(err); got != tt.wantKind {
				t.Errorf("Kind(%v) = %q, want %q", err, got, tt.wantKind)
			}
			if resp.Retried != tt.wantRetried {
				t.Errorf("Retried = %v, want %v", resp.Retried, tt.wantRetried)
			}
			c.Close() // let the server's handlers finish before counting
			if got := srv.conns.Load(); got != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", got, tt.wantConns)
			}
		})
	}
}

// hangingServer reads requests and never answers; each received request is
// signalled on the returned channel.
func hangingServer(t *testing.T) (*rawServer, <-chan struct{}) {
	got := make(chan struct{}, 16)
	srv := newRawServer(t, func(_ int, conn net.Conn) {
		if readRequest(bufio.NewReader(conn)) == nil {
			got <- struct{}{}
		}
		drain(conn)
	})
	return srv, got
}

func TestTimeout(t *testing.T) {
	srv, _ := hangingServer(t)
	c := NewClient(Config{Addr: srv.addr(), Timeout: 50 * time.Millisecond})
	defer c.Close()
	resp, err := c.Do(context.Background(), getRequest(srv.addr(), "/"), false)
	if outcome.Kind(err) != outcome.KindTimeout {
		t.Errorf("Kind(%v) = %q, want timeout", err, outcome.Kind(err))
	}
	if resp.Status != 0 || resp.Retried {
		t.Errorf("resp = %+v, want no status and no retry", resp)
	}
}

func TestContextDeadlineShorterThanTimeout(t *testing.T) {
	srv, _ := hangingServer(t)
	c := NewClient(Config{Addr: srv.addr(), Timeout: time.Hour})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, getRequest(srv.addr(), "/"), false)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if got := outcome.Kind(err); got != outcome.KindTimeout {
		t.Errorf("Kind = %q, want timeout", got)
	}
}

func TestContextCancel(t *testing.T) {
	srv, got := hangingServer(t)
	c := NewClient(Config{Addr: srv.addr(), Timeout: time.Hour})
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-got // the server has the request: Do is in flight
		cancel()
	}()
	_, err := c.Do(ctx, getRequest(srv.addr(), "/"), false)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if got := outcome.Kind(err); got != outcome.KindCanceled {
		t.Errorf("Kind = %q, want canceled", got)
	}
	// A Do with the cancelled ctx fails at once, without dialling.
	conns := srv.conns.Load()
	if _, err := c.Do(ctx, getRequest(srv.addr(), "/"), false); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with cancelled ctx: err = %v, want context.Canceled", err)
	}
	if srv.conns.Load() != conns {
		t.Errorf("Do with cancelled ctx dialled")
	}
}

// TestContextSwitch: a client that sees a new ctx watches the new one, and
// the old one's cancellation no longer interrupts it.
func TestContextSwitch(t *testing.T) {
	srv := newRawServer(t, func(_ int, conn net.Conn) {
		br := bufio.NewReader(conn)
		for readRequest(br) == nil {
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	})
	c := NewClient(Config{Addr: srv.addr()})
	defer c.Close()
	req := getRequest(srv.addr(), "/")
	ctx1, cancel1 := context.WithCancel(context.Background())
	if _, err := c.Do(ctx1, req, false); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if _, err := c.Do(ctx2, req, false); err != nil {
		t.Fatal(err)
	}
	cancel1()
	for range 3 {
		if _, err := c.Do(ctx2, req, false); err != nil {
			t.Fatalf("after cancelling the previous ctx: %v", err)
		}
	}
}

func TestAbort(t *testing.T) {
	srv, got := hangingServer(t)
	c := NewClient(Config{Addr: srv.addr(), Timeout: time.Hour})
	defer c.Close()
	c.Abort() // not in flight: no effect on the next Do
	go func() {
		<-got
		c.Abort()
	}()
	_, err := c.Do(context.Background(), getRequest(srv.addr(), "/"), false)
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("err = %v, want ErrAborted", err)
	}
	if got := outcome.Kind(err); got != outcome.KindCanceled {
		t.Errorf("Kind = %q, want canceled", got)
	}
}

func TestAbortDuringDial(t *testing.T) {
	dialing := make(chan struct{})
	c := NewClient(Config{
		Addr:    "127.0.0.1:1",
		Timeout: time.Hour,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			close(dialing)
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	defer c.Close()
	go func() {
		<-dialing
		c.Abort()
	}()
	_, err := c.Do(context.Background(), getRequest("x", "/"), false)
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("err = %v, want ErrAborted", err)
	}
}

// TestAbortNotSticky: after an aborted Do, the next Do works.
func TestAbortNotSticky(t *testing.T) {
	answer := make(chan struct{})
	srv := newRawServer(t, func(i int, conn net.Conn) {
		br := bufio.NewReader(conn)
		for readRequest(br) == nil {
			if i == 0 {
				<-answer // the first connection hangs until the test ends
				return
			}
			io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	})
	defer close(answer)
	c := NewClient(Config{Addr: srv.addr(), Timeout: time.Hour})
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for srv.conns.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		c.Abort()
	}()
	// The abort may land before the request is written or after; either
	// way this Do fails and the connection is dropped.
	for {
		_, err := c.Do(context.Background(), getRequest(srv.addr(), "/"), false)
		if errors.Is(err, ErrAborted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	<-done
	resp, err := c.Do(context.Background(), getRequest(srv.addr(), "/"), false)
	if err != nil || resp.Status != 200 || resp.Reused {
		t.Errorf("Do after abort = %+v, %v; want 200 on a fresh connection", resp, err)
	}
}

func TestRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := NewClient(Config{Addr: addr})
	defer c.Close()
	_, err = c.Do(context.Background(), getRequest(addr, "/"), false)
	if got := outcome.Kind(err); got != outcome.KindRefused {
		t.Errorf("Kind(%v) = %q, want refused", err, got)
	}
}

func TestTLS(t *testing.T) {
	srv, conns := newHTTPTestServer(t, true)
	addr := srv.Listener.Addr().String()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	c := NewClient(Config{Addr: addr, TLS: &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}}})
	defer c.Close()
	for i, target := range []string{"/cl", "/chunked", "/big"} {
		resp, err := c.Do(context.Background(), getRequest(addr, target), false)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if resp.Status != 200 || resp.Reused != (i > 0) {
			t.Errorf("%s: Status, Reused = %d, %v; want 200, %v", target, resp.Status, resp.Reused, i > 0)
		}
	}
	if conns.Load() != 1 {
		t.Errorf("server saw %d connections, want 1", conns.Load())
	}

	untrusted := NewClient(Config{Addr: addr, TLS: &tls.Config{}})
	defer untrusted.Close()
	_, err := untrusted.Do(context.Background(), getRequest(addr, "/cl"), false)
	if got := outcome.Kind(err); got != outcome.KindTLS {
		t.Errorf("untrusted certificate: Kind(%v) = %q, want tls", err, got)
	}
}

func TestTLSToPlainServer(t *testing.T) {
	srv, _ := newHTTPTestServer(t, false)
	addr := srv.Listener.Addr().String()
	c := NewClient(Config{Addr: addr, TLS: &tls.Config{InsecureSkipVerify: true}})
	defer c.Close()
	_, err := c.Do(context.Background(), getRequest(addr, "/cl"), false)
	if got := outcome.Kind(err); got != outcome.KindTLS {
		t.Errorf("Kind(%v) = %q, want tls", err, got)
	}
}

func TestDoAfterClose(t *testing.T) {
	srv, _ := newHTTPTestServer(t, false)
	addr := srv.Listener.Addr().String()
	c := NewClient(Config{Addr: addr})
	if _, err := c.Do(context.Background(), getRequest(addr, "/cl"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Do(context.Background(), getRequest(addr, "/cl"), false); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: err = %v, want ErrClosed", err)
	}
}

func TestDialReturnsNilConn(t *testing.T) {
	c := NewClient(Config{
		Addr: "x:1",
		Dial: func(context.Context, string, string) (net.Conn, error) { return nil, nil },
	})
	defer c.Close()
	if _, err := c.Do(context.Background(), getRequest("x", "/"), false); err == nil {
		t.Error("Do with a nil connection: no error")
	}
}

func TestAppendRequest(t *testing.T) {
	tests := []struct {
		name                      string
		dst, method, host, target string
		want                      string
	}{
		{"get", "", "GET", "example.com", "/", "GET / HTTP/1.1\r\nHost: example.com\r\n"},
		{"appends", "X", "POST", "h:8080", "/a?b=c", "XPOST /a?b=c HTTP/1.1\r\nHost: h:8080\r\n"},
		{"not validated", "", "G T", "", "*", "G T * HTTP/1.1\r\nHost: \r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendRequest([]byte(tt.dst), tt.method, tt.host, tt.target))
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// failWriteConn is a scriptConn whose writes fail with err after half the
// bytes.
type failWriteConn struct {
	scriptConn
	err error
}

func (c *failWriteConn) Write(p []byte) (int, error) { return len(p) / 2, c.err }

// TestEarlyResponse: a server that answers, then closes before taking the
// whole request, still produces a response when the write failed with a
// closed-connection error; other write errors end the request at once.
func TestEarlyResponse(t *testing.T) {
	const early = "HTTP/1.1 413 Content Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
	tests := []struct {
		name       string
		writeErr   error
		wantStatus int
		wantErr    error
	}{
		{"EPIPE", &net.OpError{Op: "write", Err: syscall.EPIPE}, 413, nil},
		{"ECONNRESET", &net.OpError{Op: "write", Err: syscall.ECONNRESET}, 413, nil},
		{"other write error", errors.New("disk on fire"), 0, errors.New("")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(Config{Addr: "x:1", Dial: func(context.Context, string, string) (net.Conn, error) {
				return &failWriteConn{scriptConn: scriptConn{data: []byte(early), chunk: 1 << 20}, err: tt.writeErr}, nil
			}})
			defer c.Close()
			req := getRequest("x", "/")
			resp, err := c.Do(context.Background(), req, false)
			if (err != nil) != (tt.wantErr != nil) || resp.Status != tt.wantStatus {
				t.Fatalf("Do = %d, %v; want status %d, error %v", resp.Status, err, tt.wantStatus, tt.wantErr != nil)
			}
			if err != nil && !errors.Is(err, tt.writeErr) {
				t.Errorf("err = %v, want the write error", err)
			}
			if resp.BytesOut != int64(len(req)/2) {
				t.Errorf("BytesOut = %d, want %d", resp.BytesOut, len(req)/2)
			}
			if c.conn != nil {
				t.Error("connection kept after a failed write")
			}
		})
	}
}

func TestWarmDialsOnceAndDoReusesIt(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := NewClient(Config{Addr: srv.Listener.Addr().String()})
	defer c.Close()
	if err := c.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Warm(context.Background()); err != nil {
		t.Fatal(err)
	}
	req := append(AppendRequest(nil, "GET", "x", "/"), "\r\n"...)
	resp, err := c.Do(context.Background(), req, false)
	if err != nil || resp.Status != 200 {
		t.Fatalf("Do = %+v, %v", resp, err)
	}
	if !resp.Reused || conns.Load() != 1 {
		t.Fatalf("reused %v, connections %d; want the warmed connection reused", resp.Reused, conns.Load())
	}
	refused := NewClient(Config{Addr: "127.0.0.1:1"})
	if err := refused.Warm(context.Background()); err == nil {
		t.Fatal("Warm to a closed port must fail")
	}
}
