package outcome_test

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
	"net/textproto"
	"net/url"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/outcome"
	barragev1 "github.com/barrage-dev/barrage/proto/barrage/v1"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// rawServer serves every connection with handle on 127.0.0.1 until the
// test ends.
func rawServer(t *testing.T, handle func(conn net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readHead reads a request head; it reports false if the client went away.
func readHead(br *bufio.Reader) bool {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			return true
		}
	}
}

// respond returns a handler that reads a request and writes resp, then
// closes the connection.
func respond(resp string) func(net.Conn) {
	return func(conn net.Conn) {
		if readHead(bufio.NewReader(conn)) {
			io.WriteString(conn, resp)
		}
	}
}

// hang reads the request and waits for the client to give up.
func hang(conn net.Conn) {
	readHead(bufio.NewReader(conn))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn)
}

// reset reads the request and resets the connection.
func reset(conn net.Conn) {
	readHead(bufio.NewReader(conn))
	conn.(*net.TCPConn).SetLinger(0)
}

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// target says how to reach a server and with what client settings.
type target struct {
	addr    string // host:port
	tls     bool   // speak TLS
	trust   *x509.CertPool
	timeout time.Duration
	ctx     func() (context.Context, context.CancelFunc)
}

// viaH1 sends a GET with internal/h1 and returns its error.
func viaH1(tg target) error {
	cfg := h1.Config{Addr: tg.addr, Timeout: tg.timeout}
	if tg.tls {
		cfg.TLS = &tls.Config{RootCAs: tg.trust}
	}
	c := h1.NewClient(cfg)
	defer c.Close()
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if tg.ctx != nil {
		ctx, cancel = tg.ctx()
	}
	defer cancel()
	req := append(h1.AppendRequest(nil, "GET", tg.addr, "/"), "\r\n"...)
	_, err := c.Do(ctx, req, false)
	return err
}

// viaNetHTTP sends a GET with net/http, reads the whole body, and returns
// the first error.
func viaNetHTTP(tg target) error {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tg.trust}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: tg.timeout}
	scheme := "http"
	if tg.tls {
		scheme = "https"
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if tg.ctx != nil {
		ctx, cancel = tg.ctx()
	}
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", scheme+"://"+tg.addr+"/", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// TestKindRealErrors makes each kind of failure happen on real sockets and
// checks that Kind names it, for errors from both clients.
func TestKindRealErrors(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	tlsAddr := tlsSrv.Listener.Addr().String()
	plainSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer plainSrv.Close()

	tests := []struct {
		name   string
		target func(t *testing.T) target
		want   string
		// wantNetHTTP, when set, is what net/http's error gives instead.
		wantNetHTTP string
	}{
		{"success", func(t *testing.T) target {
			return target{addr: plainSrv.Listener.Addr().String()}
		}, "", ""},
		{"refused", func(t *testing.T) target {
			return target{addr: closedAddr(t)}
		}, outcome.KindRefused, ""},
		{"dns", func(t *testing.T) target {
			return target{addr: "no-such-host.invalid:80"}
		}, outcome.KindDNS, ""},
		{"timeout", func(t *testing.T) target {
			return target{addr: rawServer(t, hang), timeout: 50 * time.Millisecond}
		}, outcome.KindTimeout, ""},
		{"context deadline", func(t *testing.T) target {
			return target{addr: rawServer(t, hang), ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			}}
		}, outcome.KindTimeout, ""},
		{"context canceled", func(t *testing.T) target {
			got := make(chan struct{}, 1)
			addr := rawServer(t, func(conn net.Conn) {
				br := bufio.NewReader(conn)
				readHead(br)
				got <- struct{}{}
				io.Copy(io.Discard, br)
			})
			return target{addr: addr, ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				go func() {
					<-got
					cancel()
				}()
				return ctx, cancel
			}}
		}, outcome.KindCanceled, ""},
		{"reset", func(t *testing.T) target {
			return target{addr: rawServer(t, reset)}
		}, outcome.KindReset, ""},
		{"closed without response", func(t *testing.T) target {
			return target{addr: rawServer(t, respond(""))}
		}, outcome.KindClosed, ""},
		{"closed after a header line", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"))}
		}, outcome.KindClosed, ""},
		{"closed mid-header line", func(t *testing.T) target {
			// net/http's textproto takes the partial line for a whole one
			// and reports a malformed header, not the early close.
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nContent-Le"))}
		}, outcome.KindClosed, outcome.KindProtocol},
		{"closed mid-body", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"))}
		}, outcome.KindClosed, ""},
		{"bad status line", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 abc OK\r\n\r\n"))}
		}, outcome.KindProtocol, ""},
		{"not HTTP at all", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("SSH-2.0-OpenSSH_9.6\r\n"))}
		}, outcome.KindProtocol, ""},
		{"conflicting content-length", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"))}
		}, outcome.KindProtocol, ""},
		{"bad content-length", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"))}
		}, outcome.KindProtocol, ""},
		{"bad chunk size", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"))}
		}, outcome.KindProtocol, ""},
		{"malformed header line", func(t *testing.T) target {
			return target{addr: rawServer(t, respond("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"))}
		}, outcome.KindProtocol, ""},
		{"untrusted certificate", func(t *testing.T) target {
			return target{addr: tlsAddr, tls: true}
		}, outcome.KindTLS, ""},
		{"tls to a plain server", func(t *testing.T) target {
			return target{addr: plainSrv.Listener.Addr().String(), tls: true}
		}, outcome.KindTLS, ""},
	}
	clients := []struct {
		name string
		do   func(target) error
	}{
		{"h1", viaH1},
		{"net/http", viaNetHTTP},
	}
	for _, tt := range tests {
		for _, cl := range clients {
			t.Run(tt.name+"/"+cl.name, func(t *testing.T) {
				err := cl.do(tt.target(t))
				t.Logf("error: %v", err)
				want := tt.want
				if cl.name == "net/http" && tt.wantNetHTTP != "" {
					want = tt.wantNetHTTP
				}
				if got := outcome.Kind(err); got != want {
					t.Errorf("Kind(%v) = %q, want %q", err, got, want)
				}
			})
		}
	}
}

// TestKindHTTP2 checks errors only the HTTP/2 client makes.
func TestKindHTTP2(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler) // resets the stream
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()

	resp, err := client.Get(srv.URL + "/abort")
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Fatalf("protocol %s, want HTTP/2", resp.Proto)
		}
	}
	t.Logf("error: %v", err)
	if got := outcome.Kind(err); got != outcome.KindReset {
		t.Errorf("stream reset: Kind(%v) = %q, want reset", err, got)
	}
}

// TestKindErrorShapes covers error values that are hard to provoke on a
// loopback socket, built the way the standard library builds them, and
// wrapping rules.
func TestKindErrorShapes(t *testing.T) {
	opErr := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: &os.SyscallError{Syscall: op, Err: err}}
	}
	uerr := func(err error) error { return &url.Error{Op: "Get", URL: "http://x/", Err: err} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"plain", errors.New("boom"), outcome.KindOther},
		{"io.EOF", io.EOF, outcome.KindClosed},
		{"io.ErrUnexpectedEOF wrapped", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), outcome.KindClosed},
		{"url.Error EOF", uerr(io.EOF), outcome.KindClosed},
		{"EPIPE", opErr("write", syscall.EPIPE), outcome.KindReset},
		{"ECONNRESET", opErr("read", syscall.ECONNRESET), outcome.KindReset},
		{"ECONNABORTED", opErr("read", syscall.ECONNABORTED), outcome.KindReset},
		{"ECONNREFUSED in url.Error", uerr(opErr("dial", syscall.ECONNREFUSED)), outcome.KindRefused},
		{"ETIMEDOUT", opErr("read", syscall.ETIMEDOUT), outcome.KindTimeout},
		{"os.ErrDeadlineExceeded", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, outcome.KindTimeout},
		{"context.DeadlineExceeded", uerr(context.DeadlineExceeded), outcome.KindTimeout},
		{"context.Canceled", uerr(context.Canceled), outcome.KindCanceled},
		{"h1.ErrAborted", fmt.Errorf("%w (read: i/o timeout)", h1.ErrAborted), outcome.KindCanceled},
		{"net/http request canceled", uerr(errors.New("net/http: request canceled")), outcome.KindCanceled},
		{"DNS timeout", &net.OpError{Op: "dial", Err: &net.DNSError{Err: "i/o timeout", Name: "x", IsTimeout: true}}, outcome.KindDNS},
		{"ErrProtocol", fmt.Errorf("h1: %w: bad", outcome.ErrProtocol), outcome.KindProtocol},
		{"textproto.ProtocolError", uerr(textproto.ProtocolError("malformed MIME header line: x")), outcome.KindProtocol},
		{"RecordHeaderError", uerr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), outcome.KindTLS},
		{"AlertError", uerr(&net.OpError{Op: "remote error", Err: tls.AlertError(42)}), outcome.KindTLS},
		{"x509 unknown authority", uerr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), outcome.KindTLS},
		{"x509 hostname", x509.HostnameError{Host: "x", Certificate: &x509.Certificate{}}, outcome.KindTLS},
		{"tls local error string", uerr(errors.New("tls: server selected unsupported protocol version 300")), outcome.KindTLS},
		{"scheme mismatch", uerr(http.ErrSchemeMismatch), outcome.KindTLS},
		{"http2 stream protocol error", uerr(errors.New("stream error: stream ID 3; PROTOCOL_ERROR; received from peer")), outcome.KindProtocol},
		{"http2 stream refused", uerr(errors.New("stream error: stream ID 3; REFUSED_STREAM")), outcome.KindReset},
		{"http2 connection error", uerr(errors.New("connection error: COMPRESSION_ERROR")), outcome.KindProtocol},
		{"http2 goaway", uerr(errors.New(`http2: server sent GOAWAY and closed the connection; LastStreamID=1, ErrCode=NO_ERROR, debug=""`)), outcome.KindClosed},
		{"http2 connection lost", uerr(errors.New("http2: client connection lost")), outcome.KindClosed},
		{"server closed idle", uerr(errors.New("http: server closed idle connection")), outcome.KindClosed},
		{"net/http headers too big", uerr(errors.New("net/http: server response headers exceeded 1048576 bytes; aborted")), outcome.KindProtocol},
		{"errors.Join", errors.Join(errors.New("a"), opErr("read", syscall.ECONNRESET)), outcome.KindReset},
		{"timeout beats reset", errors.Join(opErr("read", syscall.ECONNRESET), context.DeadlineExceeded), outcome.KindTimeout},
		{"wrapper text is not matched", fmt.Errorf("get tls: x: %w", errors.New("boom")), outcome.KindOther},
		{"net.ErrClosed", &net.OpError{Op: "read", Err: net.ErrClosed}, outcome.KindOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outcome.Kind(tt.err); got != tt.want {
				t.Errorf("Kind(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

// cycle is an error whose Unwrap returns itself.
type cycle struct{}

func (c *cycle) Error() string { return "cycle" }
func (c *cycle) Unwrap() error { return c }

func TestKindCyclicError(t *testing.T) {
	if got := outcome.Kind(&cycle{}); got != outcome.KindOther {
		t.Errorf("Kind(cycle) = %q, want other", got)
	}
}

func TestKinds(t *testing.T) {
	want := []string{"timeout", "refused", "reset", "tls", "dns", "closed", "protocol", "canceled", "other"}
	if !slices.Equal(outcome.Kinds, want) {
		t.Errorf("Kinds = %q, want %q", outcome.Kinds, want)
	}
}

func TestClass(t *testing.T) {
	tests := []struct {
		status int
		want   barragev1.OutcomeClass
		name   string
	}{
		{100, barragev1.OutcomeClass_OUTCOME_CLASS_1XX, "1xx"},
		{101, barragev1.OutcomeClass_OUTCOME_CLASS_1XX, "1xx"},
		{199, barragev1.OutcomeClass_OUTCOME_CLASS_1XX, "1xx"},
		{200, barragev1.OutcomeClass_OUTCOME_CLASS_2XX, "2xx"},
		{299, barragev1.OutcomeClass_OUTCOME_CLASS_2XX, "2xx"},
		{301, barragev1.OutcomeClass_OUTCOME_CLASS_3XX, "3xx"},
		{404, barragev1.OutcomeClass_OUTCOME_CLASS_4XX, "4xx"},
		{499, barragev1.OutcomeClass_OUTCOME_CLASS_4XX, "4xx"},
		{500, barragev1.OutcomeClass_OUTCOME_CLASS_5XX, "5xx"},
		{599, barragev1.OutcomeClass_OUTCOME_CLASS_5XX, "5xx"},
		{0, barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
		{99, barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
		{600, barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
		{999, barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
		{-1, barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			got := outcome.Class(tt.status)
			if got != tt.want {
				t.Errorf("Class(%d) = %v, want %v", tt.status, got, tt.want)
			}
			if name := outcome.ClassName(got); name != tt.name {
				t.Errorf("ClassName(%v) = %q, want %q", got, name, tt.name)
			}
		})
	}
}

func TestClassName(t *testing.T) {
	tests := []struct {
		class barragev1.OutcomeClass
		want  string
	}{
		{barragev1.OutcomeClass_OUTCOME_CLASS_UNSPECIFIED, "unspecified"},
		{barragev1.OutcomeClass(42), "unspecified"},
		{barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, "error"},
		{barragev1.OutcomeClass_OUTCOME_CLASS_3XX, "3xx"},
	}
	for _, tt := range tests {
		if got := outcome.ClassName(tt.class); got != tt.want {
			t.Errorf("ClassName(%v) = %q, want %q", tt.class, got, tt.want)
		}
	}
}

func BenchmarkClass(b *testing.B) {
	var sink barragev1.OutcomeClass
	for i := 0; b.Loop(); i++ {
		sink = outcome.Class(100 + i%500)
	}
	_ = sink
}
