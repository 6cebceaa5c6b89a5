package shop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The document lists text/html (InjectionEcho's pages): read it as text.
func init() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) }

// specChecker judges requests and responses by the shop's own OpenAPI
// document, with kin-openapi: an independent reading of the spec.
type specChecker struct {
	doc    *openapi3.T
	router routers.Router
	tokens map[string]bool
	opts   *openapi3filter.Options
}

// uuidSyntax is JSON Schema's "uuid" format: RFC 4122's 8-4-4-4-12 hex,
// any version.
const uuidSyntax = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`

func newSpecChecker(t testing.TB) *specChecker {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(Spec())
	if err != nil {
		t.Fatalf("load spec: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("spec is not a valid OpenAPI document: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	c := &specChecker{doc: doc, router: router, tokens: map[string]bool{}}
	for _, tok := range DefaultTokens() {
		c.tokens[tok] = true
	}
	c.opts = &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            false,
		AuthenticationFunc:    c.authenticate,
		SchemaValidationOptions: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(uuidSyntax)),
		},
	}
	return c
}

// authenticate is the bearer scheme, read independently of the shop: the
// scheme name in any case, white space, a known token.
func (c *specChecker) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	f := strings.Fields(in.RequestValidationInput.Request.Header.Get("Authorization"))
	if len(f) == 2 && strings.EqualFold(f[0], "bearer") && c.tokens[f[1]] {
		return nil
	}
	return errors.New("no valid bearer token")
}

// route finds r's operation; ok is false for a path or method the document
// does not have.
func (c *specChecker) route(r *http.Request) (*openapi3filter.RequestValidationInput, bool) {
	route, params, err := c.router.FindRoute(r)
	if err != nil {
		return nil, false
	}
	return &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: c.opts}, true
}

// validateRequest is kin-openapi's verdict on a request with body.
func (c *specChecker) validateRequest(in *openapi3filter.RequestValidationInput, body []byte) error {
	in.Request.Body = io.NopCloser(bytes.NewReader(body))
	return openapi3filter.ValidateRequest(context.Background(), in)
}

// validateResponse checks a response against the operation: documented
// status, schema-valid body, documented headers, and — stricter than
// kin-openapi — a Content-Type that is exactly one of the documented media
// types (none for a response without content).
func (c *specChecker) validateResponse(in *openapi3filter.RequestValidationInput, status int, h http.Header, body []byte) error {
	resp := in.Route.Operation.Responses.Status(status)
	if resp == nil || resp.Value == nil {
		return fmt.Errorf("status %d is not documented for %s %s", status, in.Route.Method, in.Route.Path)
	}
	ct := h.Get("Content-Type")
	if len(resp.Value.Content) == 0 {
		if ct != "" || len(body) != 0 {
			return fmt.Errorf("status %d has no documented content, got %q with %d bytes", status, ct, len(body))
		}
	} else if resp.Value.Content[ct] == nil {
		return fmt.Errorf("content type %q is not documented for status %d", ct, status)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: status, Header: h, Options: c.opts}
	out.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), out)
}

func TestSpecIsAValidDocument(t *testing.T) {
	c := newSpecChecker(t)
	ops := map[string]bool{}
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			ops[op.OperationID] = true
			for code, r := range op.Responses.Map() {
				if code != "204" && len(r.Value.Content) == 0 {
					t.Errorf("%s %s: response %s has no content", method, path, code)
				}
				for mt := range r.Value.Content {
					if _, _, err := mime.ParseMediaType(mt); err != nil {
						t.Errorf("%s %s: response %s: media type %q: %v", method, path, code, mt, err)
					}
				}
			}
			if r := op.Responses.Status(405); r == nil || r.Value.Headers["Allow"] == nil {
				t.Errorf("%s %s: no 405 with Allow", method, path)
			}
			secured := op.Security != nil && len(*op.Security) > 0
			if want := strings.HasPrefix(path, "/orders"); secured != want {
				t.Errorf("%s %s: secured = %v, want %v", method, path, secured, want)
			}
		}
	}
	for _, id := range []string{"listProducts", "getProduct", "createOrder", "listOrders", "getOrder", "deleteOrder"} {
		if !ops[id] {
			t.Errorf("operation %s missing", id)
		}
	}
	links := c.doc.Paths.Value("/orders").Post.Responses.Status(201).Value.Links
	if l := links["getOrder"]; l == nil || l.Value.OperationID != "getOrder" || l.Value.Parameters["orderId"] != "$response.body#/id" {
		t.Errorf("createOrder 201 has no getOrder link on $response.body#/id: %+v", links)
	}
}

// jsonField returns a top-level field of a JSON object body.
func jsonField(t *testing.T, body []byte, key string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m[key]
}
