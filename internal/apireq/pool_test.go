package apireq

import "testing"

func TestPool(t *testing.T) {
	p := NewPool()
	if _, ok := p.Get("orders", Primary, 0); ok {
		t.Fatal("empty pool returned an id")
	}
	p.Put("orders", "a1", Primary)
	p.Put("orders", "b1", Secondary)
	for u := range uint64(10) {
		if id, ok := p.Get("orders", Primary, u); !ok || id != "a1" {
			t.Fatalf("Get primary = %q %v", id, ok)
		}
		if id, ok := p.Get("orders", Secondary, u); !ok || id != "b1" {
			t.Fatalf("Get secondary = %q %v", id, ok)
		}
	}
	for i := range 1000 {
		p.Put("orders", "x", Identity(i%2))
	}
	if p.Len("orders") != poolSize {
		t.Fatalf("pool grew to %d", p.Len("orders"))
	}
	if r := p.m["orders"]; r.owned[0]+r.owned[1] != poolSize {
		t.Fatalf("owner counts %v", r.owned)
	}
}

func TestExtract(t *testing.T) {
	head := []byte("HTTP/1.1 201 Created\r\nLocation: /orders/8f3c?x=1\r\nContent-Type: application/json\r\n\r\n")
	body := []byte(`{"id":"8f3c","data":{"n":42,"list":[{"k":"v"}]}}`)
	tests := []struct {
		expr, want string
	}{
		{"$response.header.Location", "8f3c"},
		{"$response.body#/id", "8f3c"},
		{"{$response.body#/data/n}", "42"},
		{"$response.body#/data/list/0/k", "v"},
		{"$response.body#/missing", ""},
		{"$response.body#/data", ""},
	}
	for _, tt := range tests {
		src, ok := parseRuntimeExpr(tt.expr)
		if !ok {
			t.Fatalf("parse %s", tt.expr)
		}
		if got := src.extract(head, body); got != tt.want {
			t.Errorf("%s = %q, want %q", tt.expr, got, tt.want)
		}
	}
	if _, ok := parseRuntimeExpr("$request.path.id"); ok {
		t.Error("request expressions name no response value")
	}
	if got := (idSource{pointer: "/id"}).extract(head, []byte("not json")); got != "" {
		t.Errorf("bad JSON gave %q", got)
	}
}
