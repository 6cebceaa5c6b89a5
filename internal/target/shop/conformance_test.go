package shop

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// call is one raw request to the shop.
type call struct {
	method, path string
	// user is "alice" or "bob" for that user's token; "" sends none.
	user   string
	header map[string][]string // extra or overriding headers
	body   string
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends c to base (a server URL) with the default tokens.
func do(t *testing.T, base string, c call) reply {
	t.Helper()
	req := newRequest(t, base, c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", c.method, c.path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

func newRequest(t testing.TB, base string, c call) *http.Request {
	t.Helper()
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, base+c.path, body)
	if err != nil {
		t.Fatalf("request %s %s: %v", c.method, c.path, err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.user != "" {
		req.Header.Set("Authorization", "Bearer "+DefaultTokens()[c.user])
	}
	for k, v := range c.header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	return req
}

// placeOrder places an order for user and returns its id.
func placeOrder(t *testing.T, base, user string) string {
	t.Helper()
	r := do(t, base, call{method: "POST", path: "/orders", user: user, body: `{"product_id": 7, "quantity": 2}`})
	if r.status != http.StatusCreated {
		t.Fatalf("place order: %d %s", r.status, r.body)
	}
	id, _ := jsonField(t, r.body, "id").(string)
	if r.header.Get("Location") != "/orders/"+id {
		t.Fatalf("Location = %q for order %q", r.header.Get("Location"), id)
	}
	return id
}

// conformanceCase is a request and the status the clean shop must answer.
// A request is valid by the document exactly when the status is 2xx or 404
// (a well-formed request for a missing resource); kin-openapi must agree,
// except for cases marked strict: kin-openapi accepts them, the shop rejects
// them for the reason given.
type conformanceCase struct {
	name   string
	c      call
	want   int
	strict string
}

func h(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// conformanceCases builds the table. {A} is alice's order, {B} bob's, {D}
// an order of alice's that the table deletes.
func conformanceCases() []conformanceCase {
	get := func(path, user string) call { return call{method: "GET", path: path, user: user} }
	post := func(body string, hdr ...string) call {
		return call{method: "POST", path: "/orders", user: "alice", body: body, header: h(hdr...)}
	}
	long := func(n int, s string) string { return strings.Repeat(s, n) }
	return []conformanceCase{
		// GET /products
		{name: "products/default", c: get("/products", ""), want: 200},
		{name: "products/limit 1", c: get("/products?limit=1", ""), want: 200},
		{name: "products/limit 100", c: get("/products?limit=100", ""), want: 200},
		{name: "products/limit leading zeros", c: get("/products?limit=007", ""), want: 200},
		{name: "products/q", c: get("/products?q=teapot&limit=5", ""), want: 200},
		{name: "products/q empty", c: get("/products?q=", ""), want: 200},
		{name: "products/q no match", c: get("/products?q=zzz", ""), want: 200},
		{name: "products/q 50 chars", c: get("/products?q="+long(50, "a"), ""), want: 200},
		{name: "products/q 50 runes, 100 bytes", c: get("/products?q="+long(50, "%C3%A9"), ""), want: 200},
		{name: "products/q NUL", c: get("/products?q=a%00b", ""), want: 200},
		{name: "products/q markup, JSON asked", c: call{method: "GET", path: "/products?q=%3Cscript%3E", header: h("Accept", "application/json")}, want: 200},
		{name: "products/q markup, HTML asked", c: call{method: "GET", path: "/products?q=%3Cscript%3E", header: h("Accept", "text/html")}, want: 200},
		{name: "products/token ignored", c: call{method: "GET", path: "/products", header: h("Authorization", "Bearer nonsense")}, want: 200},
		{name: "products/limit 0", c: get("/products?limit=0", ""), want: 400},
		{name: "products/limit -1", c: get("/products?limit=-1", ""), want: 400},
		{name: "products/limit 101", c: get("/products?limit=101", ""), want: 400},
		{name: "products/limit huge", c: get("/products?limit=99999999999999999999", ""), want: 400},
		{name: "products/limit word", c: get("/products?limit=abc", ""), want: 400},
		{name: "products/limit fraction", c: get("/products?limit=1.5", ""), want: 400},
		{name: "products/limit exponent", c: get("/products?limit=1e1", ""), want: 400},
		{name: "products/q 51 chars", c: get("/products?q="+long(51, "a"), ""), want: 400},
		{name: "products/limit plus", c: get("/products?limit=%2B5", ""), want: 400, strict: "+5 is not how an integer is written"},
		{name: "products/limit empty", c: get("/products?limit=", ""), want: 400},
		{name: "products/limit twice", c: get("/products?limit=5&limit=6", ""), want: 400, strict: "a parameter given twice is ambiguous"},
		{name: "products/unknown parameter", c: get("/products?debug=1", ""), want: 400, strict: "undeclared parameters are rejected"},
		{name: "products/bad escape", c: get("/products?q=%ZZ", ""), want: 400, strict: "a malformed query is rejected, not dropped"},
		{name: "products/semicolon", c: get("/products?limit=5;q=a", ""), want: 400, strict: "a malformed query is rejected, not dropped"},
		{name: "products/q invalid UTF-8", c: get("/products?q=%FF", ""), want: 400, strict: "a string must be valid UTF-8"},
		{name: "products/body", c: call{method: "GET", path: "/products", body: `{}`}, want: 400, strict: "the operation takes no body"},

		// GET /products/{productId}
		{name: "product/1", c: get("/products/1", ""), want: 200},
		{name: "product/1000", c: get("/products/1000", ""), want: 200},
		{name: "product/escaped", c: get("/products/%34%32", ""), want: 200},
		{name: "product/leading zeros", c: get("/products/0042", ""), want: 200},
		{name: "product/0", c: get("/products/0", ""), want: 400},
		{name: "product/1001", c: get("/products/1001", ""), want: 400},
		{name: "product/-1", c: get("/products/-1", ""), want: 400},
		{name: "product/word", c: get("/products/abc", ""), want: 400},
		{name: "product/fraction", c: get("/products/1.0", ""), want: 400},
		{name: "product/huge", c: get("/products/99999999999999999999", ""), want: 400},
		{name: "product/plus", c: get("/products/+7", ""), want: 400, strict: "+7 is not how an integer is written"},
		{name: "product/query", c: get("/products/1?x=1", ""), want: 400, strict: "undeclared parameters are rejected"},

		// POST /orders
		{name: "create/minimal", c: post(`{"product_id": 1, "quantity": 1}`), want: 201},
		{name: "create/full", c: post(`{"product_id": 1000, "quantity": 100, "note": "gift wrap", "coupon": "SAVE-2024"}`), want: 201},
		{name: "create/note 100 chars", c: post(`{"product_id": 5, "quantity": 1, "note": "` + long(100, "n") + `"}`), want: 201},
		{name: "create/note 100 runes", c: post(`{"product_id": 5, "quantity": 1, "note": "` + long(100, "é") + `"}`), want: 201},
		{name: "create/note escapes", c: post(`{"product_id": 5, "quantity": 1, "note": "\u00e9\ud83d\ude00\n\"\\\/"}`), want: 201},
		{name: "create/note empty", c: post(`{"product_id": 5, "quantity": 1, "note": ""}`), want: 201},
		{name: "create/white space", c: post(" \r\n\t{ \"quantity\" : 3 , \"product_id\" : 9 } \n"), want: 201},
		{name: "create/charset", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", "application/json; charset=UTF-8"), want: 201},
		{name: "create/media type case", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", "Application/JSON"), want: 201},
		{name: "create/lower-case scheme", c: post(`{"product_id": 1, "quantity": 1}`, "Authorization", "bearer alice-token"), want: 201},
		{name: "create/no token", c: call{method: "POST", path: "/orders", body: `{"product_id": 1, "quantity": 1}`}, want: 401},
		{name: "create/unknown token", c: post(`{"product_id": 1, "quantity": 1}`, "Authorization", "Bearer mallory-token"), want: 401},
		{name: "create/basic auth", c: post(`{"product_id": 1, "quantity": 1}`, "Authorization", "Basic YWxpY2U6YWxpY2U="), want: 401},
		{name: "create/bare token", c: post(`{"product_id": 1, "quantity": 1}`, "Authorization", "alice-token"), want: 401},
		{name: "create/no token, bad body", c: call{method: "POST", path: "/orders", body: `{`}, want: 401},
		{name: "create/missing quantity", c: post(`{"product_id": 1}`), want: 400},
		{name: "create/missing product", c: post(`{"quantity": 1}`), want: 400},
		{name: "create/quantity 0", c: post(`{"product_id": 1, "quantity": 0}`), want: 400},
		{name: "create/quantity 101", c: post(`{"product_id": 1, "quantity": 101}`), want: 400},
		{name: "create/quantity -1", c: post(`{"product_id": 1, "quantity": -1}`), want: 400},
		{name: "create/quantity huge", c: post(`{"product_id": 1, "quantity": 100000000000000000000000}`), want: 400},
		{name: "create/product 0", c: post(`{"product_id": 0, "quantity": 1}`), want: 400},
		{name: "create/product 1001", c: post(`{"product_id": 1001, "quantity": 1}`), want: 400},
		{name: "create/quantity string", c: post(`{"product_id": 1, "quantity": "2"}`), want: 400},
		{name: "create/quantity fraction", c: post(`{"product_id": 1, "quantity": 2.5}`), want: 400},
		{name: "create/quantity null", c: post(`{"product_id": 1, "quantity": null}`), want: 400},
		{name: "create/quantity bool", c: post(`{"product_id": 1, "quantity": true}`), want: 400},
		{name: "create/quantity object", c: post(`{"product_id": 1, "quantity": {}}`), want: 400},
		{name: "create/note 101 chars", c: post(`{"product_id": 1, "quantity": 1, "note": "` + long(101, "n") + `"}`), want: 400},
		{name: "create/note number", c: post(`{"product_id": 1, "quantity": 1, "note": 5}`), want: 400},
		{name: "create/note null", c: post(`{"product_id": 1, "quantity": 1, "note": null}`), want: 400},
		{name: "create/coupon lower case", c: post(`{"product_id": 1, "quantity": 1, "coupon": "save-2024"}`), want: 400},
		{name: "create/coupon newline", c: post(`{"product_id": 1, "quantity": 1, "coupon": "SAVE-2024\n"}`), want: 400},
		{name: "create/unknown field", c: post(`{"product_id": 1, "quantity": 1, "admin": true}`), want: 400},
		{name: "create/key case", c: post(`{"Product_ID": 1, "quantity": 1}`), want: 400},
		{name: "create/array", c: post(`[{"product_id": 1, "quantity": 1}]`), want: 400},
		{name: "create/null", c: post(`null`), want: 400},
		{name: "create/malformed", c: post(`{"product_id": 1, "quantity": 1`), want: 400},
		{name: "create/single quotes", c: post(`{'product_id': 1, 'quantity': 1}`), want: 400},
		{name: "create/empty body", c: call{method: "POST", path: "/orders", user: "alice", header: h("Content-Type", "application/json")}, want: 400},
		{name: "create/quantity 2.0", c: post(`{"product_id": 1, "quantity": 2.0}`), want: 400, strict: "2.0 is not how an integer is written"},
		{name: "create/quantity 2e0", c: post(`{"product_id": 1, "quantity": 2e0}`), want: 400, strict: "2e0 is not how an integer is written"},
		{name: "create/duplicate key", c: post(`{"product_id": 1, "quantity": 1, "quantity": 2}`), want: 400, strict: "a repeated key is ambiguous"},
		{name: "create/lone surrogate", c: post(`{"product_id": 1, "quantity": 1, "note": "\ud800"}`), want: 400, strict: "a lone surrogate is not Unicode"},
		{name: "create/invalid UTF-8", c: post("{\"product_id\": 1, \"quantity\": 1, \"note\": \"\xff\"}"), want: 400, strict: "the body must be UTF-8"},
		{name: "create/trailing data", c: post(`{"product_id": 1, "quantity": 1} {}`), want: 400, strict: "one JSON value per body"},
		{name: "create/byte order mark", c: post("\xef\xbb\xbf{\"product_id\": 1, \"quantity\": 1}"), want: 400},
		{name: "create/deep nesting", c: post(`{"product_id": 1, "quantity": 1, "x": ` + long(40, "[") + long(40, "]") + `}`), want: 400},
		{name: "create/query", c: call{method: "POST", path: "/orders?x=1", user: "alice", body: `{"product_id": 1, "quantity": 1}`}, want: 400, strict: "undeclared parameters are rejected"},
		{name: "create/text plain", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", "text/plain"), want: 415},
		{name: "create/no content type", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", ""), want: 415},
		{name: "create/json patch", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", "application/json-patch+json"), want: 415},
		{name: "create/latin1", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Type", "application/json; charset=iso-8859-1"), want: 415, strict: "the body must be UTF-8"},
		{name: "create/gzip", c: post(`{"product_id": 1, "quantity": 1}`, "Content-Encoding", "gzip"), want: 415, strict: "no content coding is supported"},
		{name: "create/too large", c: post(`{"product_id": 1, "quantity": 1}` + long(maxBody, " ")), want: 413, strict: "bodies are capped at 16 KiB"},
		{name: "create/two tokens", c: post(`{"product_id": 1, "quantity": 1}`, "Authorization", "Bearer alice-token", "Authorization", "Bearer bob-token"), want: 401, strict: "two Authorization headers are ambiguous"},

		// GET /orders
		{name: "list/alice", c: get("/orders", "alice"), want: 200},
		{name: "list/bob", c: get("/orders?limit=1", "bob"), want: 200},
		{name: "list/limit 100", c: get("/orders?limit=100", "alice"), want: 200},
		{name: "list/no token", c: get("/orders", ""), want: 401},
		{name: "list/limit 0", c: get("/orders?limit=0", "alice"), want: 400},
		{name: "list/limit 101", c: get("/orders?limit=101", "alice"), want: 400},
		{name: "list/limit word", c: get("/orders?limit=x", "alice"), want: 400},
		{name: "list/unknown parameter", c: get("/orders?owner=bob", "alice"), want: 400, strict: "undeclared parameters are rejected"},

		// GET /orders/{orderId}
		{name: "get/own", c: get("/orders/{A}", "alice"), want: 200},
		{name: "get/own, bob", c: get("/orders/{B}", "bob"), want: 200},
		{name: "get/upper case id", c: get("/orders/{A-upper}", "alice"), want: 200},
		{name: "get/other user's", c: get("/orders/{A}", "bob"), want: 404},
		{name: "get/missing", c: get("/orders/6f1c1a9e-3d7b-4c55-9a4e-0a4b2f6c1d00", "alice"), want: 404},
		{name: "get/no token", c: get("/orders/{A}", ""), want: 401},
		{name: "get/unknown token", c: call{method: "GET", path: "/orders/{A}", header: h("Authorization", "Bearer x")}, want: 401},
		{name: "get/not a uuid", c: get("/orders/not-a-uuid", "alice"), want: 400},
		{name: "get/uuid too long", c: get("/orders/{A}0", "alice"), want: 400},
		{name: "get/query", c: get("/orders/{A}?x=1", "alice"), want: 400, strict: "undeclared parameters are rejected"},

		// DELETE /orders/{orderId}
		{name: "delete/other user's", c: call{method: "DELETE", path: "/orders/{A}", user: "bob"}, want: 404},
		{name: "delete/no token", c: call{method: "DELETE", path: "/orders/{A}"}, want: 401},
		{name: "delete/unknown token", c: call{method: "DELETE", path: "/orders/{A}", header: h("Authorization", "Bearer x")}, want: 401},
		{name: "delete/not a uuid", c: call{method: "DELETE", path: "/orders/1", user: "alice"}, want: 400},
		{name: "delete/body", c: call{method: "DELETE", path: "/orders/{D}", user: "alice", body: `{}`}, want: 400, strict: "the operation takes no body"},
		{name: "delete/own", c: call{method: "DELETE", path: "/orders/{D}", user: "alice"}, want: 204},
		{name: "delete/again", c: call{method: "DELETE", path: "/orders/{D}", user: "alice"}, want: 404},
		{name: "delete/then get", c: get("/orders/{D}", "alice"), want: 404},
		{name: "get/other user's after delete attempts", c: get("/orders/{A}", "alice"), want: 200},

		// Outside the document: 404 and 405, JSON Error bodies.
		{name: "outside/unknown path", c: get("/nope", ""), want: 404},
		{name: "outside/trailing slash", c: get("/products/", ""), want: 400, strict: "kin-openapi reads /products/ as /products; the shop as getProduct with an empty id"},
		{name: "outside/orders trailing slash", c: get("/orders/", "alice"), want: 400, strict: "kin-openapi reads /orders/ as /orders; the shop as getOrder with an empty id"},
		{name: "outside/extra segment", c: get("/products/1/x", ""), want: 404},
		{name: "outside/double slash", c: get("//products", ""), want: 404},
		{name: "outside/escaped slash", c: get("/products/1%2F2", ""), want: 400},
		{name: "outside/method", c: call{method: "PUT", path: "/orders", user: "alice"}, want: 405},
		{name: "outside/head", c: call{method: "HEAD", path: "/products"}, want: 405},
		{name: "outside/delete product", c: call{method: "DELETE", path: "/products/1"}, want: 405},
		{name: "outside/patch order", c: call{method: "PATCH", path: "/orders/{A}", user: "alice", body: `{}`}, want: 405},
	}
}

// expand replaces {A}, {B}, {D} and {A-upper} in path.
func expand(path string, ids map[string]string) string {
	return strings.NewReplacer("{A-upper}", strings.ToUpper(ids["A"]), "{A}", ids["A"], "{B}", ids["B"], "{D}", ids["D"]).Replace(path)
}

func TestCleanShopConformsToItsSpec(t *testing.T) {
	sc := newSpecChecker(t)
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	ids := map[string]string{"A": placeOrder(t, srv.URL, "alice"), "B": placeOrder(t, srv.URL, "bob"), "D": placeOrder(t, srv.URL, "alice")}
	for _, tc := range conformanceCases() {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.path = expand(c.path, ids)
			got := do(t, srv.URL, c)
			if got.status != tc.want {
				t.Fatalf("status = %d, want %d; body %s", got.status, tc.want, got.body)
			}
			checkReply(t, sc, srv.URL, c, got)
			if got.status == 405 {
				// The answer is documented for every operation of the path.
				for _, m := range strings.Split(got.header.Get("Allow"), ", ") {
					in, ok := sc.route(newRequest(t, srv.URL, call{method: m, path: c.path}))
					if !ok {
						t.Fatalf("Allow lists %s, which %s does not have", m, c.path)
					}
					if c.method != "HEAD" {
						if err := sc.validateResponse(in, got.status, got.header, got.body); err != nil {
							t.Errorf("405 as an answer to %s: %v", in.Route.Operation.OperationID, err)
						}
					}
				}
			}
			req := newRequest(t, srv.URL, c)
			in, routed := sc.route(req)
			if !routed {
				if tc.want != 404 && tc.want != 405 && !strings.Contains(c.path, "%2F") {
					t.Fatalf("no operation in the document for %s %s", c.method, c.path)
				}
				return
			}
			err := sc.validateRequest(in, []byte(c.body))
			specValid := err == nil
			wantValid := tc.want < 400 || tc.want == 404
			switch {
			case tc.strict != "" && (!specValid || wantValid):
				t.Errorf("marked strict (%s), but kin-openapi says valid=%v (%v) and the shop answers %d", tc.strict, specValid, err, tc.want)
			case tc.strict == "" && specValid != wantValid:
				t.Errorf("kin-openapi says valid=%v (%v), the shop answers %d", specValid, err, tc.want)
			}
			in, _ = sc.route(newRequest(t, srv.URL, c))
			if err := sc.validateResponse(in, got.status, got.header, got.body); err != nil {
				t.Errorf("response does not conform: %v\nbody: %s", err, got.body)
			}
		})
	}
}

// checkReply holds for every answer of the clean shop: JSON Error bodies
// outside the document, no echo of the request, no internals, and orders
// belong to the caller.
func checkReply(t *testing.T, sc *specChecker, base string, c call, got reply) {
	t.Helper()
	if got.status >= 500 {
		t.Errorf("status %d", got.status)
	}
	for _, leak := range []string{"goroutine", ".go:", "panic", "runtime.", "<script>", "admin", "Product_ID", "debug"} {
		if bytes.Contains(got.body, []byte(leak)) {
			t.Errorf("body holds %q: %s", leak, got.body)
		}
	}
	if got.status >= 400 && c.method != "HEAD" {
		if ct := got.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("error content type %q", ct)
		} else if _, ok := jsonField(t, got.body, "error").(string); !ok {
			t.Errorf("error body %s has no error string", got.body)
		}
	}
	if got.status == 405 && got.header.Get("Allow") == "" {
		t.Errorf("405 without Allow")
	}
	if got.status == 200 && strings.HasPrefix(c.path, "/orders/") {
		if owner := jsonField(t, got.body, "owner"); owner != c.user {
			t.Errorf("owner = %v, caller %q", owner, c.user)
		}
	}
	if got.status == 200 && strings.HasPrefix(c.path, "/orders") && !strings.HasPrefix(c.path, "/orders/") {
		var list []orderJSON
		if err := json.Unmarshal(got.body, &list); err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, o := range list {
			if o.Owner != c.user {
				t.Errorf("listed %s's order to %q", o.Owner, c.user)
			}
		}
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	got := do(t, srv.URL, call{method: "GET", path: "/openapi.yaml"})
	if got.status != 200 || got.header.Get("Content-Type") != "application/yaml" || !bytes.Equal(got.body, Spec()) {
		t.Errorf("GET /openapi.yaml = %d %q, %d bytes; want 200 application/yaml, the embedded %d bytes",
			got.status, got.header.Get("Content-Type"), len(got.body), len(Spec()))
	}
}
