package apireq

import (
	"context"
	"strings"
	"testing"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

const authSpec = `openapi: 3.0.3
info: {title: auth, version: "1"}
components:
  securitySchemes:
    hdr: {type: apiKey, in: header, name: X-API-Key}
    qry: {type: apiKey, in: query, name: api_key}
    ck: {type: apiKey, in: cookie, name: session}
    basic: {type: http, scheme: basic}
    bearer: {type: http, scheme: bearer}
paths:
  /h: {get: {operationId: h, security: [{hdr: []}], responses: {"200": {description: ok}}}}
  /q: {get: {operationId: q, security: [{qry: []}], responses: {"200": {description: ok}}}}
  /c: {get: {operationId: c, security: [{ck: []}], responses: {"200": {description: ok}}}}
  /b: {get: {operationId: b, security: [{basic: []}], responses: {"200": {description: ok}}}}
  /either: {get: {operationId: either, security: [{bearer: []}, {hdr: []}], responses: {"200": {description: ok}}}}
  /both: {get: {operationId: both, security: [{hdr: [], qry: []}], responses: {"200": {description: ok}}}}
  /open: {get: {operationId: open, security: [{}, {bearer: []}], responses: {"200": {description: ok}}}}
`

func TestCredentialsPerScheme(t *testing.T) {
	plan := &pb.Plan{Target: &pb.Target{BaseUrl: "http://127.0.0.1:1"}, Seed: 1,
		Openapi: &pb.OpenAPI{File: "auth.yaml", Spec: []byte(authSpec)},
		Auth:    &pb.Auth{Primary: map[string]string{"hdr": "k1", "qry": "k2", "ck": "k3", "basic": "ann:pw"}},
		Faults:  &pb.Faults{Ratio: 1, Families: []string{"auth"}, Seed: 5}}
	ids := []string{"h", "q", "c", "b", "either", "both", "open"}
	for _, id := range ids {
		plan.Openapi.Operations = append(plan.Openapi.Operations, &pb.Operation{Id: id, Weight: 1})
	}
	c, err := Compile(context.Background(), plan, Options{Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewSender(1, 0, 1)
	want := map[string][]string{
		"h":      {"X-API-Key: k1\r\n"},
		"q":      {"GET /q?api_key=k2 HTTP/1.1"},
		"c":      {"Cookie: session=k3\r\n"},
		"b":      {"Authorization: Basic YW5uOnB3\r\n"},
		"either": {"X-API-Key: k1\r\n"}, // no bearer token given: the alternative it can satisfy
		"both":   {"X-API-Key: k1\r\n", "?api_key=k2 "},
	}
	for i, id := range ids {
		req, _, err := s.BuildCase(nil, i, -1)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range want[id] {
			if !strings.Contains(string(req), w) {
				t.Errorf("%s: request lacks %q:\n%s", id, w, req)
			}
		}
		// The auth family: secured operations get no-credentials and
		// invalid-credentials cases; "open" (anonymous allowed) gets none.
		var names []string
		for ci, cs := range c.Cases(i) {
			names = append(names, cs.Name)
			if cs.Name == "auth/no-credentials" {
				r, _, _ := s.BuildCase(nil, i, ci)
				if strings.Contains(string(r), "k1") || strings.Contains(string(r), "k2") || strings.Contains(string(r), "k3") || strings.Contains(string(r), "Basic") {
					t.Errorf("%s: no-credentials case still carries credentials:\n%s", id, r)
				}
			}
		}
		secured := id != "open"
		if got := strings.Contains(strings.Join(names, " "), "auth/no-credentials"); got != secured {
			t.Errorf("%s: auth cases %v; secured=%v", id, names, secured)
		}
	}
}
