//go:build linux

package evloop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/pacer"
)

type outcomes struct {
	capture int
	bad     int
	bodies  []string
	mu      sync.Mutex
	status  map[int]int
	kinds   map[string]int
	dropped int
	n       int
	lat     []time.Duration
}

func newOutcomes() *outcomes {
	return &outcomes{status: map[int]int{}, kinds: map[string]int{}}
}

func (o *outcomes) cfg(t *testing.T, addr string) Config {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		Addr:    ap,
		Timeout: 2 * time.Second,
		Pick:    func(g int64) int { return int(g % 2) },
		Build: func(dst []byte, ep int, seq uint64) ([]byte, Meta) {
			dst = fmt.Appendf(dst, "GET /e%d/%d HTTP/1.1\r\nHost: x\r\n\r\n", ep, seq)
			return dst, Meta{Capture: o.capture, Tag: seq}
		},
		Done: func(out *Outcome) {
			o.mu.Lock()
			defer o.mu.Unlock()
			o.n++
			if out.ErrKind != "" {
				o.kinds[out.ErrKind]++
			} else {
				o.status[out.Status]++
			}
			o.lat = append(o.lat, out.Latency)
			if out.Tag != out.Seq || !strings.HasPrefix(string(out.Req), "GET /e") {
				o.bad++
			}
			if o.capture > 0 && out.ErrKind == "" {
				o.bodies = append(o.bodies, string(out.Body))
			}
		},
		Dropped: func(int) {
			o.mu.Lock()
			o.dropped++
			o.mu.Unlock()
		},
	}
}

func counting(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func schedule(t *testing.T, rate float64, d time.Duration) *pacer.Schedule {
	t.Helper()
	s, err := pacer.NewSchedule([]pacer.Stage{{Duration: d, From: rate, To: rate}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenModelExactCounts(t *testing.T) {
	srv, served := counting(t, nil)
	o := newOutcomes()
	sched := schedule(t, 1000, 500*time.Millisecond)
	sh, _ := sched.Shard(0, 1)
	// Two loops share the shard: arrivals i ≡ j (mod 2).
	var wg sync.WaitGroup
	start := time.Now().Add(50 * time.Millisecond)
	for j := range 2 {
		cfg := o.cfg(t, srv.Listener.Addr().String())
		cfg.MaxConns, cfg.InitialConns = 50, 4
		l, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.RunOpen(context.Background(), sh, start, j, 2); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if o.n+o.dropped != 500 {
		t.Fatalf("done %d + dropped %d != 500 arrivals", o.n, o.dropped)
	}
	if int64(o.n) != served.Load() || o.status[200] != o.n {
		t.Fatalf("done %d (200s: %d), server saw %d", o.n, o.status[200], served.Load())
	}
	if time.Since(start) < 500*time.Millisecond {
		t.Fatal("RunOpen returned before the schedule's end")
	}
}

func TestClosedModelStages(t *testing.T) {
	var cur, peak atomic.Int64
	srv, served := counting(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		cur.Add(-1)
	})
	o := newOutcomes()
	l, err := New(o.cfg(t, srv.Listener.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	err = l.RunClosed(context.Background(), []ClosedStage{{Duration: 300 * time.Millisecond, Conns: 5}, {Duration: 300 * time.Millisecond, Conns: 2}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if int64(o.n) != served.Load() || o.n < 100 || o.status[200] != o.n {
		t.Fatalf("done %d, server saw %d, statuses %v", o.n, served.Load(), o.status)
	}
	if p := peak.Load(); p > 5 || p < 3 {
		t.Fatalf("peak concurrency %d, want 5 at most (and more than 2)", p)
	}
}

// rawServer answers every request on a connection with the given raw
// response, closing the connection after `perConn` responses (0: never).
func rawServer(t *testing.T, resp string, perConn int, served *atomic.Int64) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for i := 0; perConn == 0 || i < perConn; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					served.Add(1)
					if _, err := io.WriteString(c, resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func TestResponseShapes(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	tests := []struct {
		name    string
		resp    string
		perConn int
		status  int
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0, 200},
		{"chunked", "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 0, 201},
		{"body larger than the read buffer", "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + big, 0, 200},
		{"connection close", "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 1, 503},
		{"server drops idle keep-alive connections", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 1, 200},
		{"close-delimited body", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nhello", 1, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var served atomic.Int64
			addr := rawServer(t, tt.resp, tt.perConn, &served)
			o := newOutcomes()
			l, err := New(o.cfg(t, addr))
			if err != nil {
				t.Fatal(err)
			}
			if err := l.RunClosed(context.Background(), []ClosedStage{{Duration: 200 * time.Millisecond, Conns: 3}}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if o.n == 0 || o.status[tt.status] != o.n {
				t.Fatalf("outcomes: %d done, statuses %v, errors %v; want all %d", o.n, o.status, o.kinds, tt.status)
			}
			if int64(o.n) != served.Load() {
				t.Fatalf("done %d, server answered %d", o.n, served.Load())
			}
		})
	}
}

func TestTimeoutAndRefused(t *testing.T) {
	hang := make(chan struct{})
	srv, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	defer close(hang)
	o := newOutcomes()
	cfg := o.cfg(t, srv.Listener.Addr().String())
	cfg.Timeout = 200 * time.Millisecond
	l, _ := New(cfg)
	start := time.Now()
	if err := l.RunClosed(context.Background(), []ClosedStage{{Duration: 50 * time.Millisecond, Conns: 3}}, start); err != nil {
		t.Fatal(err)
	}
	if o.kinds["timeout"] != 3 || o.n != 3 {
		t.Fatalf("outcomes %v %v, want 3 timeouts", o.status, o.kinds)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("returned after %v, before the timeout", el)
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	o = newOutcomes()
	l, _ = New(o.cfg(t, addr))
	sh, _ := schedule(t, 100, 200*time.Millisecond).Shard(0, 1)
	if err := l.RunOpen(context.Background(), sh, time.Now(), 0, 1); err != nil {
		t.Fatal(err)
	}
	// Every arrival is refused or, when it came while the dial limit or the
	// in-flight cap was reached (a loaded machine), dropped: never lost,
	// never anything else.
	if o.n+o.dropped != 20 || o.kinds["refused"] != o.n || o.n < 10 {
		t.Fatalf("outcomes %d %v, dropped %d: want 20 arrivals, each refused or dropped (most refused)", o.n, o.kinds, o.dropped)
	}
}

func TestCancelStopsAndDrains(t *testing.T) {
	srv, served := counting(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(20 * time.Millisecond) })
	o := newOutcomes()
	l, _ := New(o.cfg(t, srv.Listener.Addr().String()))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	sh, _ := schedule(t, 500, time.Hour).Shard(0, 1)
	start := time.Now()
	if err := l.RunOpen(ctx, sh, start, 0, 1); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("cancel did not stop the loop")
	}
	if int64(o.n) != served.Load() || o.n == 0 {
		t.Fatalf("done %d, server saw %d", o.n, served.Load())
	}
}

func TestCaptureTagAndRequestReachDone(t *testing.T) {
	var served atomic.Int64
	addr := rawServer(t, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n3\r\n!!!\r\n0\r\n\r\n", 0, &served)
	o := newOutcomes()
	o.capture = 100
	l, _ := New(o.cfg(t, addr))
	if err := l.RunClosed(context.Background(), []ClosedStage{{Duration: 100 * time.Millisecond, Conns: 2}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if o.n == 0 || o.bad != 0 {
		t.Fatalf("%d outcomes, %d with a wrong tag or request", o.n, o.bad)
	}
	for _, b := range o.bodies {
		if b != "hi!!!" {
			t.Fatalf("captured body %q, want the de-chunked body", b)
		}
	}
}
