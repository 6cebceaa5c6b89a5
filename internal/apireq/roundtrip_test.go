package apireq

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/barrage-dev/barrage/internal/mutate"
	"github.com/barrage-dev/barrage/internal/target/shop"
)

// violates parses raw request bytes and validates them against the shop's
// description with kin-openapi; it returns nil when the request conforms.
func violates(t *testing.T, raw []byte) error {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(shop.Spec())
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: "http://127.0.0.1:1"}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		return err // not even HTTP: certainly not the spec's
	}
	req.URL.Scheme, req.URL.Host = "http", "127.0.0.1:1"
	route, params, err := router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			if in.RequestValidationInput.Request.Header.Get("Authorization") != "Bearer alice-token" {
				return errors.New("no valid bearer token")
			}
			return nil
		}},
	})
}

// TestWireCasesViolateTheSpec: every wire-level case this package owns that
// claims a correct server must reject it really breaks the description on
// the wire, and the unmutated requests conform.
func TestWireCasesViolateTheSpec(t *testing.T) {
	c, err := Compile(context.Background(), shopPlan("http://127.0.0.1:1", 0.5), Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewSender(3, 0, 1)
	seen := map[string]bool{}
	for i, op := range c.Ops() {
		for seed := range 5 {
			s.r.Seed(uint64(seed))
			raw, _, _ := s.BuildCase(nil, i, -1)
			// Valid requests use pooled ids when there are some; an empty
			// pool gives generated ones, which conform too.
			if err := violates(t, raw); err != nil {
				t.Errorf("%s: the valid request does not conform: %v\n%s", op.O.ID, err, raw)
			}
		}
		for ci, cs := range c.Cases(i) {
			if cs.m != nil || cs.Expect != mutate.Reject4xx || cs.w == wireCrossUser {
				continue // value cases: internal/mutate's round trip; cross-user is about data, not the spec
			}
			raw, _, err := s.BuildCase(nil, i, ci)
			if err != nil {
				t.Fatal(err)
			}
			seen[cs.Name] = true
			if violates(t, raw) == nil {
				t.Errorf("%s %s: claims Reject4xx but conforms to the description:\n%s", op.O.ID, cs.Name, raw)
			}
		}
	}
	for _, name := range []string{"body/malformed-json", "body/truncated-json", "body/wrong-content-type", "body/empty", "body/null",
		"methods/undocumented-put", "headers/bad-content-length", "auth/no-credentials", "auth/invalid-credentials"} {
		if !seen[name] {
			t.Errorf("case %s never built", name)
		}
	}
}
