package shop

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// fuzzShop checks one in-process request to the clean shop: no 5xx, no
// stack, a response that conforms to the document wherever the request
// names an operation, and a 2xx only for a request the document calls valid.
func fuzzShop(t *testing.T, sc *specChecker, s *Shop, req *http.Request, body []byte) {
	t.Helper()
	rec := httptest.NewRecorder()
	req.Body = http.NoBody
	if len(body) > 0 {
		req.Body = ioNop(body)
		req.ContentLength = int64(len(body))
	}
	s.ServeHTTP(rec, req)
	got := rec.Body.Bytes()
	if rec.Code >= 500 || bytes.Contains(got, []byte("goroutine")) {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, rec.Code, got)
	}
	in, routed := sc.route(req)
	if routed && strings.Count(req.URL.Path, "/") != strings.Count(in.Route.Path, "/") {
		// kin-openapi's legacy router matches DELETE /orders to
		// DELETE /orders/{orderId}, an empty parameter without its slash
		// (the shop answers 405, as for any method a path does not have),
		// and GET /products/ to GET /products (the shop reads getProduct
		// with an empty id, a 400).
		routed = false
	}
	if !routed {
		// kin-openapi routes on the decoded path, so /products/1%2F2 is no
		// operation to it; the shop reads it as getProduct("1/2"), a 400.
		// A trailing slash is an empty parameter to the shop, a 400 too
		// (or a 401 first on /orders/).
		paramLike := strings.Contains(strings.ToUpper(req.URL.EscapedPath()), "%2F") || strings.HasSuffix(req.URL.Path, "/")
		if rec.Code != 404 && rec.Code != 405 && (rec.Code != 400 && rec.Code != 401 || !paramLike) {
			t.Fatalf("%s %q: %d outside the document", req.Method, req.URL, rec.Code)
		}
		return
	}
	if err := sc.validateResponse(in, rec.Code, rec.Header(), got); err != nil {
		t.Fatalf("%s %q: response does not conform: %v\n%s", req.Method, req.URL, err, got)
	}
	if rec.Code < 300 {
		in, _ := sc.route(req)
		if err := sc.validateRequest(in, body); err != nil {
			t.Fatalf("%s %q %q: answered %d to an invalid request: %v", req.Method, req.URL, body, rec.Code, err)
		}
	}
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func ioNop(b []byte) nopCloser { return nopCloser{bytes.NewReader(b)} }

func FuzzCleanCreateOrder(f *testing.F) {
	for _, tc := range conformanceCases() {
		if tc.c.method == "POST" {
			ct := "application/json"
			if v, ok := tc.c.header["Content-Type"]; ok && len(v) > 0 {
				ct = v[0]
			}
			f.Add([]byte(tc.c.body), ct, "Bearer alice-token")
		}
	}
	f.Add([]byte(`{"product_id": 3, "quantity": 4, "note": "n", "coupon": "ABCD-1234"}`), "application/json", "Bearer bob-token")
	sc := newSpecChecker(f)
	s := New(Config{})
	f.Fuzz(func(t *testing.T, body []byte, ctype, auth string) {
		req := httptest.NewRequest("POST", "/orders", nil)
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", auth)
		fuzzShop(t, sc, s, req, body)
	})
}

func FuzzCleanQuery(f *testing.F) {
	for _, tc := range conformanceCases() {
		if p, q, ok := strings.Cut(tc.c.path, "?"); ok && tc.c.method == "GET" && (p == "/products" || p == "/orders") {
			f.Add(p == "/orders", q)
		}
	}
	sc := newSpecChecker(f)
	s := New(Config{})
	f.Fuzz(func(t *testing.T, orders bool, rawQuery string) {
		req := httptest.NewRequest("GET", "/products", nil)
		if orders {
			req = httptest.NewRequest("GET", "/orders", nil)
			req.Header.Set("Authorization", "Bearer alice-token")
		}
		req.URL.RawQuery = rawQuery
		fuzzShop(t, sc, s, req, nil)
	})
}

func FuzzCleanPath(f *testing.F) {
	for _, tc := range conformanceCases() {
		p, _, _ := strings.Cut(tc.c.path, "?")
		f.Add(tc.c.method, p, tc.c.user != "")
	}
	f.Add("GET", "/orders/6f1c1a9e-3d7b-4c55-9a4e-0a4b2f6c1d00", true)
	f.Add("DELETE", "/orders", false) // kin-openapi routes it to deleteOrder
	f.Add("DELETE", "/orders/", true)
	f.Add("GET", "/orders/", false)
	sc := newSpecChecker(f)
	s := New(Config{})
	f.Fuzz(func(t *testing.T, method, path string, authed bool) {
		switch method {
		case "GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS":
		default:
			return
		}
		u, err := url.Parse(path)
		if err != nil || u.Host != "" || u.Scheme != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
			return
		}
		req := httptest.NewRequest(method, "/", nil)
		req.URL = u
		if authed {
			req.Header.Set("Authorization", "Bearer alice-token")
		}
		if method == "POST" {
			req.Header.Set("Content-Type", "application/json")
		}
		fuzzShop(t, sc, s, req, nil)
	})
}
