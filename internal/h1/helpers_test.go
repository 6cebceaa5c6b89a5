package h1

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv names the environment variable that turns the test binary into
// a helper server process (see TestMain): "raw" or "http".
const helperEnv = "H1_TEST_HELPER_SERVER"

func TestMain(m *testing.M) {
	if kind := os.Getenv(helperEnv); kind != "" {
		os.Exit(helperServer(kind))
	}
	goleak.VerifyTestMain(m)
}

// helperServer serves on 127.0.0.1 until its stdin closes, after printing
// its address. Running the server in another process keeps its allocations
// and CPU time out of this process's measurements.
func helperServer(kind string) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	switch kind {
	case "raw":
		go serveRaw(ln, smallResponse)
	case "http":
		mux := http.NewServeMux()
		mux.HandleFunc("/cl", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "13")
			io.WriteString(w, "Hello, World!")
		})
		mux.HandleFunc("/chunked", func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "Hello, ")
			w.(http.Flusher).Flush()
			io.WriteString(w, "World!")
		})
		go http.Serve(ln, mux)
	case "https":
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, "Hello, World!")
		}))
		srv.Listener.Close()
		srv.Listener = ln
		srv.StartTLS()
	default:
		fmt.Fprintln(os.Stderr, "unknown helper server", kind)
		return 1
	}
	fmt.Println(ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes the pipe
	return 0
}

// startHelper starts the test binary as a helper server of the given kind
// and returns its address; the process is stopped at cleanup.
func startHelper(tb testing.TB, kind string) string {
	tb.Helper()
	addr, stop, err := spawnHelper(kind)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return addr
}

// spawnHelper starts a helper server process. It runs until stop is called
// or this process exits (its stdin pipe closes either way); the caller must
// keep stop reachable, or the pipe may be closed by its finalizer.
func spawnHelper(kind string) (addr string, stop func(), err error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+kind)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, fmt.Errorf("helper server: %w", err)
	}
	return strings.TrimSpace(line), stop, nil
}

// smallResponse is what the raw responder answers to every request.
const smallResponse = "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, World!"

// serveRaw answers every request head (up to a blank line) on every
// connection with resp. It assumes requests without bodies, allocates
// nothing per request and returns when ln is closed.
func serveRaw(ln net.Listener, resp string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			out := []byte(resp)
			buf := make([]byte, 64<<10)
			state := 0 // progress through "\r\n\r\n"
			for {
				n, err := conn.Read(buf)
				for _, b := range buf[:n] {
					switch {
					case b == '\r' && (state == 0 || state == 2):
						state++
					case b == '\r':
						state = 1
					case b == '\n' && (state == 1 || state == 3):
						state++
					default:
						state = 0
					}
					if state == 4 {
						state = 0
						if _, err := conn.Write(out); err != nil {
							return
						}
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

// rawServer is a scripted TCP server on 127.0.0.1: each accepted connection
// is passed to handle, in order (handle's index argument counts from 0).
type rawServer struct {
	ln    net.Listener
	conns atomic.Int32
	wg    sync.WaitGroup
}

func newRawServer(tb testing.TB, handle func(i int, conn net.Conn)) *rawServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(s.conns.Add(1)) - 1
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer conn.Close()
				handle(i, conn)
			}()
		}
	}()
	tb.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) addr() string { return s.ln.Addr().String() }

// readRequest reads one request head (no body) from r.
func readRequest(r *bufio.Reader) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

// drain reads conn until the client closes it, so a handler's deferred
// close never races a client still reading.
func drain(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, conn)
}

// scriptConn is an in-memory net.Conn whose reads return data in pieces of
// at most chunk bytes, then io.EOF. Writes are counted and discarded.
type scriptConn struct {
	data    []byte
	chunk   int
	written int
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.chunk)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error)      { c.written += len(p); return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// scriptDial returns a Dial func whose every connection serves data.
func scriptDial(data []byte, chunk int) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		return &scriptConn{data: data, chunk: chunk}, nil
	}
}

// getRequest is a minimal GET request for tests.
func getRequest(host, target string) []byte {
	return append(AppendRequest(nil, "GET", host, target), "\r\n"...)
}
