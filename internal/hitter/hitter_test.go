package hitter

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func plan(base string, proto pb.Protocol, reqs ...*pb.RequestTemplate) *pb.Plan {
	return &pb.Plan{
		Target: &pb.Target{BaseUrl: base, Protocol: proto, InsecureSkipVerify: true, Timeout: durationpb.New(5e9),
			Headers: []*pb.Header{{Name: "X-Team", Value: "load"}, {Name: "X-Over", Value: "target"}}},
		Requests: reqs,
	}
}

// rawServer records the raw bytes of the first request it gets.
func rawServer(t *testing.T) (addr string, got chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		body, _ := io.ReadAll(req.Body)
		var b strings.Builder
		b.WriteString(req.Method + " " + req.RequestURI + " " + req.Proto + "\n")
		b.WriteString("Host: " + req.Host + "\n")
		for _, k := range []string{"X-Team", "X-Over", "User-Agent", "Content-Length", "Content-Type"} {
			b.WriteString(k + ": " + req.Header.Get(k) + "\n")
		}
		b.WriteString("body: " + string(body))
		got <- b.String()
		io.WriteString(c, "HTTP/1.1 204 No Content\r\n\r\n")
	}()
	return ln.Addr().String(), got
}

func TestH1RequestOnTheWire(t *testing.T) {
	tests := []struct {
		name string
		req  *pb.RequestTemplate
		want string
	}{
		{"static get with base path", &pb.RequestTemplate{Method: "GET", Path: "/items?x=1"},
			"GET /api/items?x=1 HTTP/1.1\nHost: ADDR\nX-Team: load\nX-Over: target\nUser-Agent: barrage-test\nContent-Length: \nContent-Type: \nbody: "},
		{"post with body and overridden header", &pb.RequestTemplate{Method: "POST", Path: "/o/{{seq}}", Body: `{"n":{{seq}}}`,
			Headers: []*pb.Header{{Name: "x-over", Value: "request"}, {Name: "Content-Type", Value: "application/json"}}},
			"POST /api/o/42 HTTP/1.1\nHost: ADDR\nX-Team: load\nX-Over: request\nUser-Agent: barrage-test\nContent-Length: 8\nContent-Type: application/json\nbody: {\"n\":42}"},
		{"empty post still says length 0", &pb.RequestTemplate{Method: "POST", Path: "/e", Headers: []*pb.Header{{Name: "User-Agent", Value: "mine"}}},
			"POST /api/e HTTP/1.1\nHost: ADDR\nX-Team: load\nX-Over: target\nUser-Agent: mine\nContent-Length: 0\nContent-Type: \nbody: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, got := rawServer(t)
			f, err := Compile(plan("http://"+addr+"/api/", pb.Protocol_PROTOCOL_HTTP1, tt.req), Options{UserAgent: "barrage-test"})
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(1)
			defer h.Close()
			res := h.Hit(0, 42)
			if res.Err != nil || res.Status != 204 {
				t.Fatalf("Hit = %+v", res)
			}
			if want := strings.ReplaceAll(tt.want, "ADDR", addr); <-got != want {
				t.Errorf("server saw a different request; want\n%s", want)
			}
		})
	}
}

func TestCompileRejects(t *testing.T) {
	tests := []struct {
		name string
		p    *pb.Plan
	}{
		{"ftp", plan("ftp://x", 0, &pb.RequestTemplate{Path: "/"})},
		{"http2 over cleartext", plan("http://127.0.0.1:1", pb.Protocol_PROTOCOL_HTTP2, &pb.RequestTemplate{Path: "/"})},
		{"h2c over tls", plan("https://127.0.0.1:1", pb.Protocol_PROTOCOL_H2C, &pb.RequestTemplate{Path: "/"})},
		{"bad template", plan("http://127.0.0.1:1", 0, &pb.RequestTemplate{Path: "/{{nope}}"})},
		{"reserved header", plan("http://127.0.0.1:1", 0, &pb.RequestTemplate{Path: "/", Headers: []*pb.Header{{Name: "Content-Length", Value: "3"}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile(tt.p, Options{}); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func echoProto(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Proto", r.Proto)
	w.WriteHeader(201)
	io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+string(body))
}

func TestHTTP2AndH2C(t *testing.T) {
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(echoProto))
	tlsSrv.EnableHTTP2 = true
	tlsSrv.StartTLS()
	defer tlsSrv.Close()

	h2c := httptest.NewUnstartedServer(http.HandlerFunc(echoProto))
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	h2c.Config.Protocols = &p
	h2c.Start()
	defer h2c.Close()

	tests := []struct {
		name  string
		base  string
		proto pb.Protocol
	}{
		{"http2 over tls", tlsSrv.URL, pb.Protocol_PROTOCOL_HTTP2},
		{"h2c", h2c.URL, pb.Protocol_PROTOCOL_H2C},
		{"http1 over tls", tlsSrv.URL, pb.Protocol_PROTOCOL_HTTP1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Compile(plan(tt.base, tt.proto, &pb.RequestTemplate{Method: "PUT", Path: "/p/{{seq}}?q=a%20b", Body: "x{{seq}}"}), Options{})
			if err != nil {
				t.Fatal(err)
			}
			h := f.New(1)
			defer h.Close()
			for i := range 3 {
				res := h.Hit(0, uint64(i))
				if res.Err != nil || res.Status != 201 {
					t.Fatalf("Hit %d = %+v", i, res)
				}
				if res.BytesIn == 0 || res.BytesOut == 0 {
					t.Errorf("bytes in %d out %d", res.BytesIn, res.BytesOut)
				}
			}
		})
	}
}

func TestRefusedIsAnOutcome(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	f, err := Compile(plan("http://"+addr, 0, &pb.RequestTemplate{Path: "/"}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := f.New(1)
	defer h.Close()
	if res := h.Hit(0, 0); res.ErrKind != "refused" || res.Status != 0 {
		t.Fatalf("Hit = %+v, want a refused error", res)
	}
}

func TestBuildDoesNotAllocate(t *testing.T) {
	f, err := Compile(plan("http://127.0.0.1:1", 0,
		&pb.RequestTemplate{Method: "POST", Path: "/o/{{seq}}?n={{int 1 9}}", Body: `{"id":"{{uuid}}","n":{{int 1 100}}}`},
		&pb.RequestTemplate{Method: "GET", Path: "/static"}), Options{UserAgent: "t"})
	if err != nil {
		t.Fatal(err)
	}
	b := f.NewBuilder(1)
	buf := make([]byte, 0, 4096)
	var seq uint64
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		buf, _ = b.Build(buf[:0], int(seq%2), seq)
	})
	if allocs != 0 {
		t.Fatalf("Build allocates %.1f times per request, want 0", allocs)
	}
	out, head := b.Build(nil, 1, 0)
	if head || !strings.HasPrefix(string(out), "GET /static HTTP/1.1\r\nHost: 127.0.0.1:1\r\n") {
		t.Fatalf("static request = %q", out)
	}
}
