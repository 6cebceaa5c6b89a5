package openapi

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const shop = `
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /products:
    get: {operationId: listProducts, tags: [catalog], responses: {"200": {description: ok}}}
    post: {operationId: createProduct, tags: [catalog, Admin], responses: {"201": {description: ok}}}
  /products/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get: {operationId: getProduct, tags: [catalog], responses: {"200": {description: ok}}}
    delete: {operationId: deleteProduct, tags: [admin], responses: {"204": {description: ok}}}
  /products/{id}/reviews:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get: {responses: {"200": {description: ok}}}
  /orders:
    get: {operationId: listOrders, responses: {"200": {description: ok}}}
    post: {operationId: createOrder, responses: {"201": {description: ok}}}
  /admin/stats:
    get: {operationId: "find stats", responses: {"200": {description: ok}}}
`

func TestSelect(t *testing.T) {
	s := load(t, "shop.yaml", shop, nil)
	// Spec order: by path, then method.
	all := []string{"find stats", "listOrders", "createOrder", "listProducts", "createProduct", "deleteProduct", "getProduct", "GET /products/{id}/reviews"}
	if diff := cmp.Diff(all, ids(s.Operations)); diff != "" {
		t.Fatalf("operations (-want +got):\n%s", diff)
	}
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{name: "all", want: all},
		{name: "operation ID", include: []string{"createOrder", "getProduct"}, want: []string{"createOrder", "getProduct"}},
		{name: "ID with spaces", include: []string{"find stats"}, want: []string{"find stats"}},
		{name: "fallback ID", include: []string{"GET /products/{id}/reviews"}, want: []string{"GET /products/{id}/reviews"}},
		{name: "method and glob", include: []string{"GET /products/*"}, want: []string{"getProduct", "GET /products/{id}/reviews"}},
		{name: "any method", include: []string{"* /orders"}, want: []string{"listOrders", "createOrder"}},
		{name: "method case", include: []string{"post /*"}, want: []string{"createOrder", "createProduct"}},
		{name: "path glob", include: []string{"/admin/*"}, want: []string{"find stats"}},
		{name: "exact path", include: []string{"/products"}, want: []string{"listProducts", "createProduct"}},
		{name: "glob in the middle", include: []string{"/products/*/reviews"}, want: []string{"GET /products/{id}/reviews"}},
		{name: "tag", include: []string{"tag:catalog"}, want: []string{"listProducts", "createProduct", "getProduct"}},
		{name: "tag case", include: []string{"tag:ADMIN"}, want: []string{"createProduct", "deleteProduct"}},
		{name: "exclude wins", include: []string{"tag:catalog"}, exclude: []string{"POST /products"}, want: []string{"listProducts", "getProduct"}},
		{name: "exclude only", exclude: []string{"/products*"}, want: []string{"find stats", "listOrders", "createOrder"}},
		{name: "overlapping includes keep spec order", include: []string{"getProduct", "tag:catalog", "listOrders"}, want: []string{"listOrders", "listProducts", "createProduct", "getProduct"}},
		{name: "everything excluded", exclude: []string{"*"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Select(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("Select(%q, %q) (-want +got):\n%s", tt.include, tt.exclude, diff)
			}
		})
	}
}

func TestSelectErrors(t *testing.T) {
	s := load(t, "shop.yaml", shop, nil)
	tests := []struct {
		name             string
		include, exclude []string
		want             []string
	}{
		{name: "unknown ID", include: []string{"listProducts", "listProduct"}, want: []string{`"listProduct" matches no operation`}},
		{name: "unknown tag", include: []string{"tag:nope"}, want: []string{`"tag:nope" matches no operation`}},
		{name: "method without operations", include: []string{"PATCH /products"}, want: []string{`"PATCH /products" matches no operation`}},
		{name: "path glob", include: []string{"/users/*"}, want: []string{`"/users/*"`}},
		{name: "exclude typo", exclude: []string{"deleteProdcut"}, want: []string{`"deleteProdcut" matches no operation`}},
		{name: "every bad pattern named", include: []string{"a", "b"}, exclude: []string{"c"}, want: []string{`"a"`, `"b"`, `"c"`}},
		{name: "empty", include: []string{" "}, want: []string{"empty operation pattern"}},
		{name: "empty tag", include: []string{"tag:"}, want: []string{"missing tag name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Select(tt.include, tt.exclude)
			if err == nil {
				t.Fatalf("Select(%q, %q) = %q, want an error", tt.include, tt.exclude, ids(got))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "/anything/at/all", true},
		{"/a", "/a", true},
		{"/a", "/ab", false},
		{"/a*", "/ab/c", true},
		{"/a/*", "/a", false},
		{"/a/*/c", "/a/b/c", true},
		{"/a/*/c", "/a/b/d/c", true},
		{"/a/*/c", "/a/b/d", false},
		{"*b*b*b*", "abababab", true},
		{"*b*b*b*", "aaaaaaaaab", false},
		{"**/x", "/y/x", true},
	}
	for _, tt := range tests {
		if got := glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestResourceName(t *testing.T) {
	tests := map[string]string{
		"/orders/{orderId}/items":           "items",
		"/orders/{orderId}":                 "orders",
		"/orders":                           "orders",
		"/orders/":                          "orders",
		"/v1/users/{id}/addresses/{addrId}": "addresses",
		"/files/{name}.json":                "files",
		"/":                                 "",
		"/{id}":                             "",
		"":                                  "",
	}
	for path, want := range tests {
		if got := ResourceName(path); got != want {
			t.Errorf("ResourceName(%q) = %q, want %q", path, got, want)
		}
	}
}
