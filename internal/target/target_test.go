package target

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/target/shop"
)

func TestEndpoints(t *testing.T) {
	tg := New(Config{})
	srv := httptest.NewServer(tg)
	defer srv.Close()
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"health", "GET", "/health", "", "", 200},
		{"list", "GET", "/products?limit=5", "", "", 200},
		{"list bad limit", "GET", "/products?limit=0", "", "", 400},
		{"get", "GET", "/products/7", "", "", 200},
		{"get missing", "GET", "/products/1001", "", "", 404},
		{"get not a number", "GET", "/products/x", "", "", 400},
		{"order", "POST", "/orders", "application/json", `{"product_id": 3, "quantity": 2}`, 201},
		{"order bad", "POST", "/orders", "application/json", `{"product_id": 3}`, 400},
		{"order unknown field", "POST", "/orders", "application/json", `{"product_id": 3, "quantity": 1, "x": 1}`, 400},
		{"order wrong type", "POST", "/orders", "text/plain", `{}`, 415},
		{"unknown", "GET", "/nope", "", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if got := tg.Requests(); got != int64(len(tests)) {
		t.Errorf("Requests() = %d, want %d", got, len(tests))
	}
	resp, err := http.Get(srv.URL + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"requests": 11`) || tg.Requests() != int64(len(tests)) {
		t.Errorf("/_stats = %s (and must not count itself)", b)
	}
}

func TestStallHoldsUntilTheStallEnds(t *testing.T) {
	tg := New(Config{Stall: 300 * time.Millisecond, StallEvery: time.Hour})
	srv := httptest.NewServer(tg)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	// The target started less than 300ms ago, so the request is inside the
	// stall and must be held until it ends.
	if el := time.Since(tg.start); el < 300*time.Millisecond {
		t.Fatalf("answered %v after the target started, inside the stall", el)
	}
}

func TestHandlerReplacesTheCatalogue(t *testing.T) {
	tg := New(Config{Handler: shop.New(shop.Config{Defects: shop.ConnectionReset})})
	srv := httptest.NewServer(tg)
	defer srv.Close()
	tests := []struct {
		name, path, want string
		status           int
	}{
		{"health", "/health", "ok", 200},
		{"shop products", "/products?limit=1", `"tags":`, 200},
		{"shop document", "/openapi.yaml", "openapi: 3.0.3", 200},
		{"shop orders need a token", "/orders", `"error"`, 401},
		{"no catalogue", "/small", `"error"`, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("GET %s = %d %s; want %d with %q", tt.path, resp.StatusCode, b, tt.status, tt.want)
			}
		})
	}
	// The handler can still take the connection over (ConnectionReset). A
	// fresh connection, so the client does not retry the GET on another.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if _, err := fresh.Get(srv.URL + "/products?limit=0"); err == nil {
		t.Error("limit=0 with ConnectionReset got a response")
	}
	if got, want := tg.Requests(), int64(len(tests)+1); got != want {
		t.Errorf("Requests() = %d, want %d", got, want)
	}
	resp, err := http.Get(srv.URL + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), fmt.Sprintf(`"requests": %d`, len(tests)+1)) {
		t.Errorf("/_stats = %s", b)
	}
}
