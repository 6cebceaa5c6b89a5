package shop

import (
	"net/http/httptest"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr bool
	}{
		{"zero", Config{}, false},
		{"all defects", Config{Defects: AllDefects}, false},
		{"custom tokens", Config{Tokens: map[string]string{"carol": "c-1", "dave": "d-1"}}, false},
		{"unknown defect bit", Config{Defects: AllDefects + 1}, true},
		{"shared token", Config{Tokens: map[string]string{"carol": "x", "dave": "x"}}, true},
		{"empty token", Config{Tokens: map[string]string{"carol": ""}}, true},
		{"token with a space", Config{Tokens: map[string]string{"carol": "a b"}}, true},
		{"empty user", Config{Tokens: map[string]string{"": "x"}}, true},
		{"negative cap", Config{MaxOrders: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err != nil) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestCustomTokensAndCap(t *testing.T) {
	s := New(Config{Tokens: map[string]string{"carol": "c-1", "dave": "c-1", "erin": ""}, MaxOrders: 2})
	srv := httptest.NewServer(s)
	defer srv.Close()
	body := `{"product_id": 1, "quantity": 1}`
	auth := func(v string) map[string][]string { return h("Authorization", v) }
	// A shared token belongs to the first user by name; an empty one never works.
	got := do(t, srv.URL, call{method: "POST", path: "/orders", body: body, header: auth("Bearer c-1")})
	if got.status != 201 || jsonField(t, got.body, "owner") != "carol" {
		t.Errorf("c-1: %d %s; want carol's order", got.status, got.body)
	}
	if got := do(t, srv.URL, call{method: "POST", path: "/orders", body: body, header: auth("Bearer ")}); got.status != 401 {
		t.Errorf("empty token: %d", got.status)
	}
	if got := do(t, srv.URL, call{method: "POST", path: "/orders", body: body, header: auth("Bearer alice-token")}); got.status != 401 {
		t.Errorf("a default token still works: %d", got.status)
	}
	for range 3 {
		do(t, srv.URL, call{method: "POST", path: "/orders", body: body, header: auth("Bearer c-1")})
	}
	if s.Orders() != 2 {
		t.Errorf("%d orders stored, cap 2", s.Orders())
	}
}
