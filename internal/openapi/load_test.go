package openapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
)

const swagger2 = `
swagger: "2.0"
info: {title: Shop, version: "2.1"}
host: 127.0.0.1:9000
basePath: /api
schemes: [http]
consumes: [application/json]
securityDefinitions:
  basicAuth: {type: basic}
  apiKeyAuth: {type: apiKey, in: header, name: X-API-Key}
  oauth: {type: oauth2, flow: implicit, authorizationUrl: "https://auth.example/authorize", scopes: {read: read things}}
security:
  - apiKeyAuth: []
paths:
  /orders:
    post:
      operationId: createOrder
      summary: Create an order
      tags: [orders]
      parameters:
        - name: order
          in: body
          required: true
          schema: {$ref: '#/definitions/Order'}
      responses:
        "201": {description: created, schema: {$ref: '#/definitions/Order'}}
    get:
      operationId: listOrders
      security: [{oauth: [read]}, {basicAuth: []}]
      parameters:
        - {name: ids, in: query, type: array, items: {type: integer}, collectionFormat: csv}
        - {name: X-Trace, in: header, type: string}
      responses:
        "200": {description: ok, schema: {type: array, items: {$ref: '#/definitions/Order'}}}
  /orders/{id}/photo:
    post:
      operationId: uploadPhoto
      consumes: [multipart/form-data]
      security: []
      parameters:
        - {name: id, in: path, required: true, type: integer, format: int64}
        - {name: caption, in: formData, type: string}
        - {name: file, in: formData, type: file, required: true}
      responses:
        "204": {description: stored}
  /orders/{id}:
    put:
      operationId: renameOrder
      consumes: [application/x-www-form-urlencoded]
      parameters:
        - {name: id, in: path, required: true, type: integer}
        - {name: name, in: formData, type: string, required: true}
      responses:
        default: {description: whatever}
definitions:
  Order:
    type: object
    required: [sku]
    properties:
      sku: {type: string}
      quantity: {type: integer, minimum: 1}
`

func TestLoadSwagger2(t *testing.T) {
	s := load(t, "shop.yaml", swagger2, nil)
	if s.OpenAPIVersion != "2.0" || s.Title != "Shop" || s.Version != "2.1" {
		t.Errorf("version, title, version = %q, %q, %q", s.OpenAPIVersion, s.Title, s.Version)
	}
	if diff := gocmp.Diff([]string{"http://127.0.0.1:9000/api"}, s.Servers); diff != "" {
		t.Errorf("servers (-want +got):\n%s", diff)
	}
	var got []opView
	for _, o := range s.Operations {
		got = append(got, view(o))
	}
	want := []opView{
		{
			ID: "listOrders", Method: "GET", Path: "/orders",
			Params: []paramView{
				{Name: "ids", In: "query", Type: "array", Style: "form", Explode: false},
				{Name: "X-Trace", In: "header", Type: "string", Style: "simple"},
			},
			Responses: []string{"200"},
			Security:  []string{"oauth:bearer[read]", "basicAuth:basic"},
		},
		{
			ID: "createOrder", Method: "POST", Path: "/orders", Summary: "Create an order", Tags: []string{"orders"},
			Body:      &bodyView{Required: true, MediaType: "application/json", Type: "object", Props: []string{"quantity", "sku"}, MediaTypes: []string{"application/json"}},
			Responses: []string{"201"},
			Security:  []string{"apiKeyAuth:apikey:header:X-API-Key"},
		},
		{
			ID: "renameOrder", Method: "PUT", Path: "/orders/{id}",
			Params:    []paramView{{Name: "id", In: "path", Required: true, Type: "integer", Style: "simple"}},
			Body:      &bodyView{Required: true, MediaType: "application/x-www-form-urlencoded", Type: "object", Props: []string{"name"}, MediaTypes: []string{"application/x-www-form-urlencoded"}},
			Responses: []string{"default"},
			Security:  []string{"apiKeyAuth:apikey:header:X-API-Key"},
		},
		{
			ID: "uploadPhoto", Method: "POST", Path: "/orders/{id}/photo",
			Params:    []paramView{{Name: "id", In: "path", Required: true, Type: "integer", Style: "simple"}},
			Body:      &bodyView{Required: true, MediaType: "multipart/form-data", Type: "object", Props: []string{"caption", "file"}, MediaTypes: []string{"multipart/form-data"}},
			Responses: []string{"204"},
		},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	// The file part of a multipart body is binary.
	if f := s.Operation("uploadPhoto").Body.Schema.Properties["file"]; f == nil || f.Value.Format != "binary" {
		t.Errorf("multipart file property = %+v, want format binary", f)
	}
	var schemes []string
	for _, sc := range s.Schemes {
		schemes = append(schemes, sc.Name+":"+sc.Kind+":"+sc.Type)
	}
	if diff := gocmp.Diff([]string{"apiKeyAuth:apikey:apiKey", "basicAuth:basic:http", "oauth:bearer:oauth2"}, schemes); diff != "" {
		t.Errorf("schemes (-want +got):\n%s", diff)
	}
	if !hasWarning(s, "shop.yaml:", "/securityDefinitions/oauth", "oauth2", "bearer") {
		t.Errorf("no warning that oauth2 is sent as a bearer token, pointing at the 2.0 definition: %q", s.Warnings)
	}
}

const openapi30 = `
openapi: 3.0.3
info: {title: Params, version: "1"}
paths:
  /items/{itemId}:
    parameters:
      - {name: itemId, in: path, required: true, schema: {type: string}}
      - {name: verbose, in: query, schema: {type: boolean}}
      - {name: X-Request-Id, in: header, schema: {type: string}}
    get:
      parameters:
        - {name: itemId, in: path, required: true, schema: {type: integer}, example: 7}
        - {name: x-request-id, in: header, required: true, schema: {type: string, format: uuid}}
        - {name: filter, in: query, content: {application/json: {schema: {type: object}}}}
        - {name: sort, in: query, style: pipeDelimited, schema: {type: array, items: {type: string}}}
        - {name: session, in: cookie, schema: {type: string}, examples: {b: {value: bee}, a: {value: ay}}}
        - {name: Accept, in: header, schema: {type: string}}
      responses:
        "404": {description: missing}
        "200": {description: ok}
        "4XX": {description: client error}
        default: {description: other}
    delete:
      operationId: dup
      description: |
        Deletes the item.
        For good.
      responses: {"204": {description: gone}}
  /items:
    post:
      operationId: dup
      responses: {"201": {description: created}}
    put:
      operationId: "GET /items/{itemId}"
      responses: {"200": {description: ok}}
  /a/{x}/{y}:
    get:
      parameters:
        - {name: x, in: path, required: true, schema: {type: integer}}
        - {name: z, in: path, required: true, schema: {type: integer}}
      responses: {"200": {description: ok}}
`

func TestLoad30(t *testing.T) {
	s := load(t, "params.yaml", openapi30, nil)
	var got []opView
	for _, o := range s.Operations {
		got = append(got, view(o))
	}
	want := []opView{
		{
			ID: "GET /a/{x}/{y}", Method: "GET", Path: "/a/{x}/{y}",
			Params: []paramView{
				{Name: "x", In: "path", Required: true, Type: "integer", Style: "simple"},
				{Name: "y", In: "path", Required: true, Type: "string", Style: "simple"},
			},
			Responses: []string{"200"},
		},
		{
			ID: "dup", Method: "POST", Path: "/items",
			Responses: []string{"201"},
		},
		{
			ID: "GET /items/{itemId}", Method: "PUT", Path: "/items",
			Responses: []string{"200"},
		},
		{
			ID: "dup_2", Method: "DELETE", Path: "/items/{itemId}", Summary: "Deletes the item.",
			Params: []paramView{
				{Name: "itemId", In: "path", Required: true, Type: "string", Style: "simple"},
				{Name: "verbose", In: "query", Type: "boolean", Style: "form", Explode: true},
				{Name: "X-Request-Id", In: "header", Type: "string", Style: "simple"},
			},
			Responses: []string{"204"},
		},
		{
			ID: "GET /items/{itemId}_2", Method: "GET", Path: "/items/{itemId}",
			Params: []paramView{
				{Name: "itemId", In: "path", Required: true, Type: "integer", Style: "simple", Example: 7.0},
				{Name: "verbose", In: "query", Type: "boolean", Style: "form", Explode: true},
				{Name: "x-request-id", In: "header", Required: true, Type: "string", Style: "simple"},
				{Name: "filter", In: "query", Type: "object", MediaType: "application/json", Style: "form", Explode: true},
				{Name: "sort", In: "query", Type: "array", Style: "pipeDelimited"},
				{Name: "session", In: "cookie", Type: "string", Style: "form", Explode: true, Example: "ay"},
			},
			Responses: []string{"404", "200", "4XX", "default"},
		},
	}
	if diff := gocmp.Diff(want, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
	for _, w := range [][]string{
		{"params.yaml:", "/paths/~1items~1{itemId}/delete", `"dup"`, `"dup_2"`},
		{"/paths/~1items~1{itemId}/get", `"GET /items/{itemId}"`, `"GET /items/{itemId}_2"`},
		{"/paths/~1items~1{itemId}/get/parameters/5", `"Accept" is ignored`},
		{"/paths/~1a~1{x}~1{y}/get", `path parameter "y" is not declared`},
		{"/paths/~1a~1{x}~1{y}/get", `path parameter "z" is not in the path template`},
	} {
		if !hasWarning(s, w...) {
			t.Errorf("no warning with %q in %q", w, s.Warnings)
		}
	}
}

func TestLoad31(t *testing.T) {
	s := load(t, "v31.json", `{
  "openapi": "3.1.0",
  "info": {"title": "Three One", "version": "1"},
  "paths": {
    "/things": {
      "post": {
        "operationId": "createThing",
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
        "responses": {"201": {"description": "created"}}
      },
      "get": {"operationId": "listThings"}
    }
  },
  "webhooks": {"thingCreated": {"post": {"responses": {"200": {"description": "ok"}}}}},
  "components": {"schemas": {"Thing": {
    "type": "object",
    "properties": {
      "name": {"type": ["string", "null"], "examples": ["a", "b"]},
      "kind": {"const": "thing"},
      "size": {"type": "integer", "exclusiveMinimum": 0}
    }
  }}}
}`, nil)
	if s.OpenAPIVersion != "3.1.0" {
		t.Errorf("OpenAPIVersion = %q", s.OpenAPIVersion)
	}
	if got := ids(s.Operations); !slices.Equal(got, []string{"listThings", "createThing"}) {
		t.Errorf("operations = %q", got)
	}
	if r := s.Operation("listThings").Responses; len(r) != 0 {
		t.Errorf("listThings has no responses in the document, got %d", len(r))
	}
	props := s.Operation("createThing").Body.Schema.Properties
	if got := typeOf(props["name"].Value); got != "string|null" {
		t.Errorf("name type = %q, want string|null", got)
	}
	if got := props["name"].Value.Examples; !slices.Equal(got, []any{"a", "b"}) {
		t.Errorf("name examples = %v", got)
	}
	if got := props["kind"].Value.Const; got != "thing" {
		t.Errorf("kind const = %v", got)
	}
	if v := props["size"].Value.ExclusiveMin.Value; v == nil || *v != 0 {
		t.Errorf("size exclusiveMinimum = %v, want 0", v)
	}
	if !hasWarning(s, "v31.json:", "/webhooks/thingCreated", "not exercised") {
		t.Errorf("no webhook warning in %q", s.Warnings)
	}
}

func TestSecurity(t *testing.T) {
	const head = `
openapi: 3.1.0
info: {title: t, version: "1"}
components:
  securitySchemes:
    bearer: {type: http, scheme: Bearer}
    basic: {type: http, scheme: basic}
    key: {type: apiKey, in: query, name: api_key}
    cookie: {type: apiKey, in: cookie, name: sid}
    digest: {type: http, scheme: digest}
    oidc: {type: openIdConnect, openIdConnectUrl: "https://id.example/.well-known/openid-configuration"}
    tls: {type: mutualTLS}
`
	tests := []struct {
		name     string
		global   string
		op       string
		want     []string
		warnings [][]string
	}{
		{name: "none", want: nil},
		{name: "global", global: "security: [{bearer: []}]", want: []string{"bearer:bearer"}},
		{name: "operation overrides global", global: "security: [{bearer: []}]", op: "security: [{basic: []}]", want: []string{"basic:basic"}},
		{name: "operation opts out", global: "security: [{bearer: []}]", op: "security: []", want: nil},
		{name: "anonymous allowed", op: "security: [{bearer: []}, {}]", want: []string{"bearer:bearer", "{}"}},
		{name: "and", op: "security: [{key: [], cookie: []}]", want: []string{"cookie:apikey:cookie:sid+key:apikey:query:api_key"}},
		{name: "scopes", op: "security: [{oidc: [openid, email]}]", want: []string{"oidc:bearer[openid,email]"},
			warnings: [][]string{{"/components/securitySchemes/oidc", "openIdConnect", "bearer"}}},
		{name: "unsupported alternative dropped", op: "security: [{digest: []}, {basic: []}]", want: []string{"basic:basic"},
			warnings: [][]string{{"/components/securitySchemes/digest", `"digest" is not supported`}, {"/components/securitySchemes/tls", `"mutualTLS" is not supported`}}},
		{name: "nothing usable", op: "security: [{digest: []}]", want: nil,
			warnings: [][]string{{"/paths/~1x/get", "no security requirement of this operation can be met"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + tt.global + "\npaths:\n  /x:\n    get:\n      " + tt.op + "\n      responses: {\"200\": {description: ok}}\n"
			s := load(t, "sec.yaml", src, nil)
			if diff := gocmp.Diff(tt.want, securityView(s.Operations[0].Security)); diff != "" {
				t.Errorf("security (-want +got):\n%s", diff)
			}
			for _, w := range tt.warnings {
				if !hasWarning(s, w...) {
					t.Errorf("no warning with %q in %q", w, s.Warnings)
				}
			}
			var names []string
			for _, sc := range s.Schemes {
				names = append(names, sc.Name)
			}
			if want := []string{"basic", "bearer", "cookie", "key", "oidc"}; !slices.Equal(names, want) {
				t.Errorf("Schemes = %q, want %q", names, want)
			}
		})
	}
}

func TestBodyMediaType(t *testing.T) {
	tests := []struct {
		types []string
		want  string
		warn  bool
	}{
		{types: []string{"application/xml", "application/json"}, want: "application/json"},
		{types: []string{"application/json; charset=utf-8", "text/plain"}, want: "application/json; charset=utf-8"},
		{types: []string{"application/xml", "application/merge-patch+json", "application/json"}, want: "application/json"},
		{types: []string{"application/xml", "application/merge-patch+json"}, want: "application/merge-patch+json"},
		{types: []string{"*/*", "text/plain"}, want: "application/json"},
		{types: []string{"multipart/form-data", "application/x-www-form-urlencoded"}, want: "application/x-www-form-urlencoded"},
		{types: []string{"multipart/form-data", "text/plain"}, want: "multipart/form-data"},
		{types: []string{"text/csv", "text/plain"}, want: "text/plain"},
		{types: []string{"text/csv", "application/xml"}, want: "text/csv"},
		{types: []string{"application/xml", "application/octet-stream"}, want: "application/octet-stream", warn: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.types, ","), func(t *testing.T) {
			var content strings.Builder
			for _, mt := range tt.types {
				fmt.Fprintf(&content, "          %q: {schema: {type: object}}\n", mt)
			}
			s := load(t, "body.yaml", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x:
    post:
      requestBody:
        content:
`+content.String()+`
      responses: {"200": {description: ok}}
`, nil)
			b := s.Operations[0].Body
			if b == nil {
				t.Fatal("no body")
			}
			if b.MediaType != tt.want {
				t.Errorf("MediaType = %q, want %q", b.MediaType, tt.want)
			}
			if want := slices.Sorted(slices.Values(tt.types)); !slices.Equal(b.MediaTypes, want) {
				t.Errorf("MediaTypes = %q, want %q", b.MediaTypes, want)
			}
			if b.Required {
				t.Error("Required = true for a body that is not")
			}
			if got := hasWarning(s, "/paths/~1x/post/requestBody", "no JSON, form or text"); got != tt.warn {
				t.Errorf("warning = %v, want %v: %q", got, tt.warn, s.Warnings)
			}
		})
	}
}

func TestLinks(t *testing.T) {
	s := load(t, "links.yaml", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /users:
    post:
      operationId: createUser
      responses:
        "201":
          description: created
          headers: {Location: {schema: {type: string}}, X-Rate: {schema: {type: integer}}}
          content: {application/json: {schema: {type: object}}, text/plain: {}}
          links:
            get: {operationId: getUser, parameters: {userId: $response.body#/id}}
            byRef: {operationRef: "#/paths/~1users~1{userId}/get", parameters: {userId: $response.header.Location, limit: 10}}
            encodedRef: {operationRef: "#/paths/~1users~1%7BuserId%7D/delete"}
            remote: {operationRef: "https://other.example/openapi.yaml#/paths/~1x/get"}
            nowhere: {operationId: noSuchOp}
  /users/{userId}:
    get:
      operationId: getUser
      parameters: [{name: userId, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
    delete:
      parameters: [{name: userId, in: path, required: true, schema: {type: string}}]
      responses: {"204": {description: gone}}
`, nil)
	r := s.Operation("createUser").Responses[0]
	want := []Link{
		{Name: "byRef", OperationID: "getUser", Parameters: map[string]string{"userId": "$response.header.Location", "limit": "10"}},
		{Name: "encodedRef", OperationID: "DELETE /users/{userId}", Parameters: map[string]string{}},
		{Name: "get", OperationID: "getUser", Parameters: map[string]string{"userId": "$response.body#/id"}},
	}
	if diff := gocmp.Diff(want, r.Links); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([]string{"Location", "X-Rate"}, r.Headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	if len(r.MediaTypes) != 2 || r.MediaTypes["application/json"] == nil || r.MediaTypes["text/plain"] != nil {
		t.Errorf("media types = %v, want a schema for JSON and none for text", r.MediaTypes)
	}
	for _, w := range [][]string{
		{"/paths/~1users/post/responses/201/links/remote", "operationRef"},
		{"/paths/~1users/post/responses/201/links/nowhere", `unknown operation "noSuchOp"`},
	} {
		if !hasWarning(s, w...) {
			t.Errorf("no warning with %q in %q", w, s.Warnings)
		}
	}
}

func TestWarnings(t *testing.T) {
	s := load(t, "warn.yaml", `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /subscribe:
    post:
      summry: a typo
      responses: {"201": {description: ok}}
      callbacks:
        event:
          "{$request.body#/url}":
            post:
              responses: {"200": {description: ok}}
  /empty:
    post:
      requestBody: {content: {}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Nullable: {type: [string, "null"], exclusiveMinimum: 3}
`, nil)
	if got := typeOf(s.Doc.Components.Schemas["Nullable"].Value); got != "string|null" {
		t.Errorf("3.1 type array in a 3.0 document = %q, want it used as written", got)
	}
	for _, w := range [][]string{
		{"/components/schemas/Nullable", "OpenAPI >=3.1", "this is an OpenAPI 3.0.3 document"},
		{"warn.yaml:9:7: /paths/~1subscribe/post/callbacks: callbacks are not exercised"},
		{"/paths/~1subscribe/post", "unknown fields ignored: summry"},
		{"/paths/~1empty/post/requestBody", "no media types"},
	} {
		if !hasWarning(s, w...) {
			t.Errorf("no warning with %q in %q", w, s.Warnings)
		}
	}
	if b := s.Operation("POST /empty").Body; b != nil {
		t.Errorf("body without media types = %+v, want none", b)
	}
	// Warnings come in position order.
	last := 0
	for _, w := range s.Warnings {
		var line int
		if _, err := fmt.Sscanf(w, "warn.yaml:%d:", &line); err != nil {
			t.Fatalf("warning %q has no line: %v", w, err)
		}
		if line < last {
			t.Errorf("warnings not in position order: %q", s.Warnings)
		}
		last = line
	}
}

func TestMultiFile(t *testing.T) {
	files := map[string]string{
		"paths/orders.yaml": `
get:
  operationId: listOrders
  responses:
    "200":
      description: ok
      content:
        application/json:
          schema: {type: array, items: {$ref: '../schemas/order.yaml'}}
`,
		"schemas/order.yaml": `
type: object
properties:
  id: {type: integer}
  customer: {$ref: 'customer.yaml#/Customer'}
  children: {type: array, items: {$ref: 'order.yaml'}}
`,
		"schemas/customer.yaml": `
Customer:
  type: object
  properties:
    name: {type: string}
    referrer: {$ref: '#/Customer'}
`,
	}
	r := &mapReader{files: files}
	s, err := Load(context.Background(), "api/root.yaml", []byte(`
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /orders: {$ref: 'paths/orders.yaml'}
`), r.read)
	if err != nil {
		t.Fatal(err)
	}
	checkConsistent(t, s)
	items := s.Operation("listOrders").Responses[0].MediaTypes["application/json"].Items.Value
	cust := items.Properties["customer"].Value
	if typeOf(cust.Properties["name"].Value) != "string" {
		t.Errorf("customer.name not resolved: %+v", cust.Properties["name"])
	}
	// Recursive schemas resolve, as deep as one looks.
	ref := cust.Properties["referrer"]
	for range 5 {
		if ref == nil || ref.Value == nil || ref.Value.Properties["referrer"] == nil {
			t.Fatalf("customer.referrer does not resolve: %+v", ref)
		}
		ref = ref.Value.Properties["referrer"]
	}
	if c := items.Properties["children"].Value.Items; c == nil || c.Value == nil || c.Value.Properties["customer"] == nil {
		t.Errorf("order.children does not resolve to Order: %+v", c)
	}
	for _, rel := range r.reads {
		if strings.HasPrefix(rel, "/") || strings.HasPrefix(rel, "..") || strings.Contains(rel, "/../") || strings.Contains(rel, "./") {
			t.Errorf("read(%q): want a clean relative path", rel)
		}
	}
	if want := []string{"paths/orders.yaml", "schemas/order.yaml", "schemas/customer.yaml"}; !slices.Equal(slices.Sorted(slices.Values(r.reads)), slices.Sorted(slices.Values(want))) {
		t.Errorf("reads = %q, want each of %q once", r.reads, want)
	}
}

func TestLoadLimits(t *testing.T) {
	const head = "openapi: 3.0.3\ninfo: {title: t, version: \"1\"}\n"
	tests := []struct {
		name  string
		src   string
		files map[string]string
		nilRd bool
		limit int    // bytes; 0 means MaxBytes
		want  string // "" means no error
	}{
		{
			name: "too big",
			src:  head + "paths: {}\n" + "x-pad: \"" + strings.Repeat("a", MaxBytes) + "\"\n",
			want: "the limit is",
		},
		{
			name: "files too big together",
			src:  head + "paths: {/a: {$ref: 'a.yaml'}, /b: {$ref: 'b.yaml'}}\n",
			files: map[string]string{
				"a.yaml": "get: {responses: {'200': {description: ok}}}\nx-pad: \"" + strings.Repeat("a", 600) + "\"\n",
				"b.yaml": "get: {responses: {'200': {description: ok}}}\nx-pad: \"" + strings.Repeat("a", 600) + "\"\n",
			},
			limit: 1300,
			want:  "exceed 1300 bytes together",
		},
		{
			name:  "too many files",
			src:   head + "paths: {/a: {get: {responses: {'200': {description: ok, content: {application/json: {schema: {$ref: 's0.yaml'}}}}}}}}\n",
			files: chain(MaxFiles + 1),
			want:  fmt.Sprintf("more than %d files", MaxFiles),
		},
		{
			name:  "many files are fine",
			src:   head + "paths: {/a: {get: {responses: {'200': {description: ok, content: {application/json: {schema: {$ref: 's0.yaml'}}}}}}}}\n",
			files: chain(MaxFiles - 2),
		},
		{
			name:  "no reader",
			src:   head + "paths: {/a: {$ref: 'a.yaml'}}\n",
			nilRd: true,
			want:  "not available here",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := (&mapReader{files: tt.files}).read
			if tt.nilRd {
				read = nil
			}
			l := &loader{ctx: context.Background(), file: "big.yaml", read: read, maxBytes: cmp.Or(tt.limit, MaxBytes), maxFiles: MaxFiles}
			s := l.load([]byte(tt.src))
			if tt.want == "" {
				if len(l.errs) > 0 || s == nil {
					t.Fatalf("errors: %v", ErrorList(l.errs))
				}
				return
			}
			err := ErrorList(l.errs).Error()
			if len(l.errs) == 0 || !strings.Contains(err, tt.want) {
				t.Errorf("errors = %q, want one containing %q", err, tt.want)
			}
		})
	}
}

// chain returns n schema files, each referring to the next.
func chain(n int) map[string]string {
	files := map[string]string{}
	for i := range n - 1 {
		files[fmt.Sprintf("s%d.yaml", i)] = fmt.Sprintf("type: object\nproperties: {next: {$ref: 's%d.yaml'}}\n", i+1)
	}
	files[fmt.Sprintf("s%d.yaml", n-1)] = "type: string\n"
	return files
}

func TestLoadContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Load(ctx, "x.yaml", []byte(swagger2), nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}

	// A context that ends while files are read stops the load.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	read := func(rel string) ([]byte, error) {
		cancel()
		return []byte("type: string\n"), nil
	}
	_, err = Load(ctx, "x.yaml", []byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses: {'200': {description: ok, content: {text/plain: {schema: {$ref: 'a.yaml'}}}}}}}}\n"), read)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version string
		ok      bool
		warn    bool
	}{
		{"3.0.0", true, false},
		{"3.0.4", true, false},
		{"3.1.1", true, false},
		{"3.2.0", true, true},
		{"3.3.0", false, false},
		{"2.0", false, false},
		{"3", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			src := "openapi: " + tt.version + "\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses: {'200': {description: ok}}}}}\n"
			s, err := Load(context.Background(), "v.yaml", []byte(src), nil)
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok = %v", err, tt.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "v.yaml:1:1: /openapi: unsupported OpenAPI version") {
					t.Errorf("error = %v, want it located at /openapi", err)
				}
				return
			}
			if got := hasWarning(s, "partly supported"); got != tt.warn {
				t.Errorf("warning = %v, want %v", got, tt.warn)
			}
		})
	}
}

// TestHostile loads inputs built to make a loader work without bound. They
// must come back (with errors or not); the test's own timeout catches a
// loop.
func TestHostile(t *testing.T) {
	const head = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
	laughs := head + "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	prev := "a"
	for i := range 9 {
		n := fmt.Sprintf("b%d", i)
		laughs += fmt.Sprintf("x-%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	var fan strings.Builder
	fan.WriteString(head + "components:\n  schemas:\n")
	for i := range 64 {
		fmt.Fprintf(&fan, "    S%d: {type: object, properties: {a: {$ref: '#/components/schemas/S%d'}, b: {$ref: '#/components/schemas/S%d'}}}\n", i, i+1, i+1)
	}
	fan.WriteString("    S64: {type: object, properties: {loop: {$ref: '#/components/schemas/S0'}}}\n")
	tests := map[string]struct {
		src   string
		files map[string]string
		ok    bool
	}{
		"billion laughs":     {src: laughs},
		"alias cycle":        {src: head + "x-a: &a [*a]\n"},
		"deep nesting":       {src: head + "x-deep: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n"},
		"deep schemas":       {src: head + "components: {schemas: {A: " + strings.Repeat("{properties: {a: ", 3000) + "{}" + strings.Repeat("}}", 3000) + "}}\n", ok: true},
		"ref fan-out":        {src: fan.String(), ok: true},
		"ref cycle":          {src: head + "components: {schemas: {A: {$ref: '#/components/schemas/B'}, B: {$ref: '#/components/schemas/A'}}}\n"},
		"self ref":           {src: head + "components: {schemas: {A: {$ref: '#/components/schemas/A'}}}\n"},
		"path item ref loop": {src: "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {$ref: 'a.yaml'}}\n", files: map[string]string{"a.yaml": "$ref: 'b.yaml'\n", "b.yaml": "$ref: 'a.yaml'\n"}, ok: true},
		"file ref loop":      {src: "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses: {'200': {description: ok, content: {a/b: {schema: {$ref: 'a.yaml'}}}}}}}}\n", files: map[string]string{"a.yaml": "$ref: 'b.yaml'\n", "b.yaml": "$ref: 'a.yaml'\n"}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			r := &mapReader{files: tt.files}
			s, err := Load(context.Background(), "hostile.yaml", []byte(tt.src), r.read)
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok = %v", err, tt.ok)
			}
			if err != nil {
				var list ErrorList
				if !errors.As(err, &list) || strings.Contains(err.Error(), "internal error") {
					t.Fatalf("error = %v, want located errors", err)
				}
				return
			}
			checkConsistent(t, s)
		})
	}
}

func TestJSONWithDuplicateKeys(t *testing.T) {
	// YAML rejects repeated keys; JSON keeps the last, and so does Load.
	s := load(t, "dup.json", `{"openapi": "3.0.3", "info": {"title": "first", "title": "second", "version": "1"},
"paths": {"/a": {"get": {"operationId": "a", "responses": {"204": {"description": "x"}, "200": {"description": "ok"}}}}}}`, nil)
	if s.Title != "second" {
		t.Errorf("title = %q, want the last one", s.Title)
	}
	if got := view(s.Operation("a")).Responses; !slices.Equal(got, []string{"204", "200"}) {
		t.Errorf("responses = %q, want document order", got)
	}
}
