package shop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDefects(t *testing.T) {
	tests := []struct {
		in      string
		want    Defects
		wantErr bool
	}{
		{in: "", want: NoDefects},
		{in: "none", want: NoDefects},
		{in: "all", want: AllDefects},
		{in: "server-error", want: ServerError},
		{in: "ServerError, cross_user", want: ServerError | CrossUser},
		{in: "info-leak,info-leak", want: InfoLeak},
		{in: "all,none", want: AllDefects},
		{in: "teapot", wantErr: true},
		{in: "server-error,", want: ServerError},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDefects(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseDefects(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
	// Every single defect prints as its name and reads back.
	for i, name := range DefectNames() {
		d := Defects(1) << i
		if d.String() != name {
			t.Errorf("defect %d prints %q, want %q", i, d.String(), name)
		}
		if back, err := ParseDefects(d.String()); err != nil || back != d {
			t.Errorf("ParseDefects(%q) = %v, %v", d.String(), back, err)
		}
	}
	for _, d := range []Defects{NoDefects, AllDefects, ServerError | Degradation, AllDefects &^ InfoLeak} {
		if back, err := ParseDefects(d.String()); err != nil || back != d {
			t.Errorf("ParseDefects(%q) = %v, %v; want %v", d.String(), back, err, d)
		}
	}
	if len(DefectNames()) != numDefects || bitsSet(AllDefects) != numDefects {
		t.Errorf("%d names for %d defects", len(DefectNames()), bitsSet(AllDefects))
	}
}

func bitsSet(d Defects) int {
	n := 0
	for ; d != 0; d &= d - 1 {
		n++
	}
	return n
}

// rawGet sends a GET over a fresh TCP connection and returns what comes
// back: the status line, or the read error.
func rawGet(t *testing.T, addr, target string) (string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A safety net so a broken server cannot hang the test, not a timing assertion.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "GET "+target+" HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), err
}

// conforms asserts that got, the answer to c, matches the document: the
// defects other than SpecViolation, UndocumentedStatus and ServerError show
// only to their own oracle.
func conforms(t *testing.T, sc *specChecker, base string, c call, got reply) {
	t.Helper()
	in, ok := sc.route(newRequest(t, base, c))
	if !ok {
		t.Fatalf("%s %s is no operation", c.method, c.path)
	}
	if err := sc.validateResponse(in, got.status, got.header, got.body); err != nil {
		t.Errorf("%s %s: the answer does not conform: %v", c.method, c.path, err)
	}
}

// TestDefects triggers each defect with the shop that has only it and with
// the shop that has every other one: the trigger shows the defect in the
// first and the clean behaviour in the second, so each is independent.
func TestDefects(t *testing.T) {
	sc := newSpecChecker(t)
	tests := []struct {
		defect Defects
		// check sends the trigger and asserts the defect shows (on) or not.
		check func(t *testing.T, srv *httptest.Server, on bool)
	}{
		{ServerError, func(t *testing.T, srv *httptest.Server, on bool) {
			got := do(t, srv.URL, call{method: "POST", path: "/orders", user: "alice", body: `{"product_id": 1, "quantity": 101}`})
			want := map[bool]int{true: 500, false: 400}[on]
			if got.status != want || bytes.Contains(got.body, []byte("goroutine")) {
				t.Errorf("quantity 101: %d %s; want %d without a stack", got.status, got.body, want)
			}
			if got := do(t, srv.URL, call{method: "POST", path: "/orders", user: "alice", body: `{"product_id": 1, "quantity": 100}`}); got.status != 201 {
				t.Errorf("quantity 100: %d %s", got.status, got.body)
			}
		}},
		{ConnectionReset, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, limit := range []string{"0", "-3"} {
				line, err := rawGet(t, srv.Listener.Addr().String(), "/products?limit="+limit)
				if on && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("limit=%s: got %q, %v; want a connection reset", limit, line, err)
				}
				if !on && (err != nil || line != "HTTP/1.1 400 Bad Request") {
					t.Errorf("limit=%s: got %q, %v; want a 400", limit, line, err)
				}
			}
			if line, err := rawGet(t, srv.Listener.Addr().String(), "/products?limit=1"); err != nil || line != "HTTP/1.1 200 OK" {
				t.Errorf("limit=1: %q, %v", line, err)
			}
		}},
		{InvalidAccepted, func(t *testing.T, srv *httptest.Server, on bool) {
			note := strings.Repeat("é", 150)
			c := call{method: "POST", path: "/orders", user: "alice", body: `{"product_id": 1, "quantity": 1, "note": "` + note + `"}`}
			got := do(t, srv.URL, c)
			conforms(t, sc, srv.URL, c, got)
			if !on {
				if got.status != 400 {
					t.Errorf("150-char note: %d %s; want 400", got.status, got.body)
				}
				return
			}
			if got.status != 201 {
				t.Fatalf("150-char note: %d %s; want 201", got.status, got.body)
			}
			if n, _ := jsonField(t, got.body, "note").(string); n != strings.Repeat("é", 100) {
				t.Errorf("stored note %q, want the first 100 characters", n)
			}
		}},
		{SpecViolation, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, id := range []string{"1001", "0", "-5", "99999999999999999999"} {
				c := call{method: "GET", path: "/products/" + id}
				got := do(t, srv.URL, c)
				in, _ := sc.route(newRequest(t, srv.URL, c))
				err := sc.validateResponse(in, got.status, got.header, got.body)
				if on && (got.status != 404 || err == nil) {
					t.Errorf("/products/%s: %d %s conforms (%v); want a 404 that breaks the Error schema", id, got.status, got.body, err)
				}
				if !on && (got.status != 400 || err != nil) {
					t.Errorf("/products/%s: %d %s (%v); want a conforming 400", id, got.status, got.body, err)
				}
			}
		}},
		{UndocumentedStatus, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, limit := range []string{"abc", "1.5", ""} {
				got := do(t, srv.URL, call{method: "GET", path: "/products?limit=" + limit})
				if want := map[bool]int{true: 422, false: 400}[on]; got.status != want {
					t.Errorf("limit=%q: %d; want %d", limit, got.status, want)
				}
			}
		}},
		{WrongContentType, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, id := range []string{"not-a-uuid", "1", "6f1c1a9e-3d7b-4c55-9a4e-0a4b2f6c1d0"} {
				c := call{method: "GET", path: "/orders/" + id, user: "alice"}
				got := do(t, srv.URL, c)
				in, _ := sc.route(newRequest(t, srv.URL, c))
				err := sc.validateResponse(in, got.status, got.header, got.body)
				ct := got.header.Get("Content-Type")
				if on && (got.status != 400 || !strings.HasPrefix(ct, "text/plain") || err == nil) {
					t.Errorf("orderId %s: %d %q conforms (%v); want a text/plain 400", id, got.status, ct, err)
				}
				if !on && (got.status != 400 || err != nil) {
					t.Errorf("orderId %s: %d %q (%v); want a conforming 400", id, got.status, ct, err)
				}
			}
		}},
		{InfoLeak, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, body := range []string{`{"product_id": 1,`, `{product_id: 1}`, `nul`} {
				c := call{method: "POST", path: "/orders", user: "alice", body: body}
				got := do(t, srv.URL, c)
				conforms(t, sc, srv.URL, c, got)
				msg, _ := jsonField(t, got.body, "error").(string)
				leaked := strings.Contains(msg, "goroutine ") && strings.Contains(msg, "shop/orders.go:")
				if got.status != 400 || leaked != on {
					t.Errorf("%s: %d, leaked = %v, want 400, %v: %q", body, got.status, leaked, on, msg)
				}
			}
			// Well-formed but invalid JSON does not leak.
			got := do(t, srv.URL, call{method: "POST", path: "/orders", user: "alice", body: `{"product_id": "x"}`})
			if bytes.Contains(got.body, []byte("goroutine")) {
				t.Errorf("a type error leaked: %s", got.body)
			}
		}},
		{AuthNotEnforced, func(t *testing.T, srv *httptest.Server, on bool) {
			for _, hdr := range []map[string][]string{nil, h("Authorization", "Bearer mallory"), h("Authorization", "")} {
				id := placeOrder(t, srv.URL, "alice")
				c := call{method: "DELETE", path: "/orders/" + id, header: hdr}
				got := do(t, srv.URL, c)
				conforms(t, sc, srv.URL, c, got)
				after := do(t, srv.URL, call{method: "GET", path: "/orders/" + id, user: "alice"}).status
				if on && (got.status != 204 || after != 404) {
					t.Errorf("DELETE with %v: %d, then GET %d; want 204, 404", hdr, got.status, after)
				}
				if !on && (got.status != 401 || after != 200) {
					t.Errorf("DELETE with %v: %d, then GET %d; want 401, 200", hdr, got.status, after)
				}
			}
			// A valid token still only deletes its own orders.
			id := placeOrder(t, srv.URL, "alice")
			if got := do(t, srv.URL, call{method: "DELETE", path: "/orders/" + id, user: "bob"}); got.status != 404 {
				t.Errorf("bob deletes alice's order: %d", got.status)
			}
			if got := do(t, srv.URL, call{method: "DELETE", path: "/orders/6f1c1a9e-3d7b-4c55-9a4e-0a4b2f6c1d00"}); got.status != map[bool]int{true: 404, false: 401}[on] {
				t.Errorf("DELETE of a missing order without a token: %d", got.status)
			}
		}},
		{CrossUser, func(t *testing.T, srv *httptest.Server, on bool) {
			id := placeOrder(t, srv.URL, "alice")
			c := call{method: "GET", path: "/orders/" + id, user: "bob"}
			got := do(t, srv.URL, c)
			conforms(t, sc, srv.URL, c, got)
			if on && (got.status != 200 || jsonField(t, got.body, "owner") != "alice") {
				t.Errorf("bob reads alice's order: %d %s; want 200 and alice's order", got.status, got.body)
			}
			if !on && got.status != 404 {
				t.Errorf("bob reads alice's order: %d; want 404", got.status)
			}
			var list []orderJSON
			_ = json.Unmarshal(do(t, srv.URL, call{method: "GET", path: "/orders", user: "bob"}).body, &list)
			for _, o := range list {
				if o.Owner != "bob" {
					t.Errorf("bob's list holds %s's order", o.Owner)
				}
			}
		}},
		{InjectionEcho, func(t *testing.T, srv *httptest.Server, on bool) {
			payload := `<script>alert("barrage")</script>`
			for _, accept := range [][]string{nil, {"text/html"}, {"text/html,application/xhtml+xml;q=0.9"}, {"*/*"}} {
				got := do(t, srv.URL, call{method: "GET", path: "/products?q=" + strings.NewReplacer("<", "%3C", ">", "%3E", `"`, "%22", "/", "%2F", "(", "%28", ")", "%29").Replace(payload), header: map[string][]string{"Accept": accept}})
				echoed := got.header.Get("Content-Type") == "text/html" && bytes.Contains(got.body, []byte(payload))
				if got.status != 200 || echoed != on {
					t.Errorf("Accept %q: %d %q echoed=%v, want 200 echoed=%v", accept, got.status, got.header.Get("Content-Type"), echoed, on)
				}
				// Only the reflection is wrong: the page is a documented answer.
				conforms(t, sc, srv.URL, call{method: "GET", path: "/products?q=x"}, got)
			}
			long := "%3Cscript%3E" + strings.Repeat("x", 60)
			got := do(t, srv.URL, call{method: "GET", path: "/products?q=" + long, header: h("Accept", "text/html")})
			echoed := got.header.Get("Content-Type") == "text/html" && bytes.Contains(got.body, []byte("<script>"+strings.Repeat("x", 60)))
			if got.status != 400 || echoed != on {
				t.Errorf("q too long: %d %q echoed=%v, want 400 echoed=%v", got.status, got.header.Get("Content-Type"), echoed, on)
			}
			conforms(t, sc, srv.URL, call{method: "GET", path: "/products?q=x"}, got)
			got = do(t, srv.URL, call{method: "GET", path: "/products?q=%3Cb%3E", header: h("Accept", "application/json")})
			if got.header.Get("Content-Type") != "application/json" || bytes.Contains(got.body, []byte("<b>")) {
				t.Errorf("a JSON client got %q %s", got.header.Get("Content-Type"), got.body)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.defect.String(), func(t *testing.T) {
			for _, on := range []bool{true, false} {
				d := tt.defect
				if !on {
					d = AllDefects &^ tt.defect
				}
				srv := httptest.NewServer(New(Config{Defects: d}))
				tt.check(t, srv, on)
				srv.Close()
			}
		})
	}
}

// serve runs one request through s in process.
func serve(s *Shop, c call) reply {
	var body io.Reader = http.NoBody
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.path, body)
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.Header.Set("Authorization", "Bearer "+DefaultTokens()[c.user])
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return reply{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// elapsed is how long (in the bubble's fake time) c takes.
func elapsed(t *testing.T, s *Shop, c call) time.Duration {
	t.Helper()
	start := time.Now()
	if r := serve(s, c); r.status != 200 {
		t.Fatalf("%s %s: %d %s", c.method, c.path, r.status, r.body)
	}
	return time.Since(start)
}

func TestLatencyOutlier(t *testing.T) {
	tests := []struct {
		name    string
		defects Defects
		q       string
		want    time.Duration
	}{
		{"on, 41 chars", LatencyOutlier, strings.Repeat("x", 41), DefaultOutlierDelay},
		{"on, 50 runes", LatencyOutlier, strings.Repeat("%C3%A9", 50), DefaultOutlierDelay},
		{"on, 40 chars", LatencyOutlier, strings.Repeat("x", 40), 0},
		{"off, 41 chars", AllDefects &^ LatencyOutlier, strings.Repeat("x", 41), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := New(Config{Defects: tt.defects})
				if got := elapsed(t, s, call{method: "GET", path: "/products?q=" + tt.q}); got != tt.want {
					t.Errorf("took %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestDegradation(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		orders  int
		wantPer []time.Duration // after each batch of orders
	}{
		{"on", Config{Defects: Degradation}, 250, []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 15 * time.Millisecond}},
		{"on, step and cap", Config{Defects: Degradation, DegradeEvery: 10, DegradeMax: 40 * time.Millisecond}, 250, []time.Duration{0, 25 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}},
		{"off", Config{Defects: AllDefects &^ Degradation}, 250, []time.Duration{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := New(tt.cfg)
				var got []time.Duration
				for i := range tt.wantPer {
					if i > 0 {
						for range tt.orders {
							s.orders.add(orderJSON{ID: newUUID(), ProductID: 1, Quantity: 1, Owner: "bob", Status: "pending"})
						}
					}
					got = append(got, elapsed(t, s, call{method: "GET", path: "/orders", user: "alice"}))
				}
				if diff := cmp.Diff(tt.wantPer, got); diff != "" {
					t.Errorf("GET /orders latency as the store grows (-want +got):\n%s", diff)
				}
			})
		})
	}
}

// TestValidTrafficWithEveryDefect: valid requests (those the clean shop
// answers 2xx, minus the defects' own valid-input triggers) meet no defect.
func TestValidTrafficWithEveryDefect(t *testing.T) {
	sc := newSpecChecker(t)
	srv := httptest.NewServer(New(Config{Defects: AllDefects}))
	defer srv.Close()
	ids := map[string]string{"A": placeOrder(t, srv.URL, "alice"), "B": placeOrder(t, srv.URL, "bob"), "D": placeOrder(t, srv.URL, "alice")}
	n := 0
	for _, tc := range conformanceCases() {
		if tc.want >= 300 || strings.Contains(tc.c.path, "q=%3C") {
			continue
		}
		n++
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.path = expand(c.path, ids)
			got := do(t, srv.URL, c)
			if got.status != tc.want {
				t.Fatalf("status = %d, want %d; body %s", got.status, tc.want, got.body)
			}
			checkReply(t, sc, srv.URL, c, got)
			in, _ := sc.route(newRequest(t, srv.URL, c))
			if err := sc.validateResponse(in, got.status, got.header, got.body); err != nil {
				t.Errorf("response does not conform: %v", err)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d valid cases", n)
	}
}
