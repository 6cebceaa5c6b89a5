package promhdr_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/promhdr"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func plan(templates []string, ops ...string) *pb.Plan {
	p := &pb.Plan{Openapi: &pb.OpenAPI{}}
	for _, n := range templates {
		p.Requests = append(p.Requests, &pb.RequestTemplate{Name: n})
	}
	for _, id := range ops {
		p.Openapi.Operations = append(p.Openapi.Operations, &pb.Operation{Id: id})
	}
	return p
}

func TestEndpointLabels(t *testing.T) {
	var many []string // more endpoints than the cap
	for i := range promhdr.MaxEndpoints + 20 {
		many = append(many, fmt.Sprintf("e%d", i))
	}
	// merged: names kept below the cap, the rest under OtherEndpoint.
	merged := func(names []string) []string {
		out := append([]string(nil), names[:promhdr.MaxEndpoints-1]...)
		for len(out) < len(names) {
			out = append(out, promhdr.OtherEndpoint)
		}
		return out
	}
	otherFirst := append([]string{"other"}, many...)
	otherFirstWant := merged(otherFirst)
	otherFirstWant[0] = "other#0" // "other" is taken by the merged rest
	tests := []struct {
		name string
		plan *pb.Plan
		want []string
	}{
		{"nil plan", nil, []string{}},
		{"templates then operations", plan([]string{"home", "search"}, "getPet", "addPet"), []string{"home", "search", "getPet", "addPet"}},
		{"empty and repeated names", plan([]string{"", "a", "a", "endpoint-0"}), []string{"endpoint-0", "a", "a#2", "endpoint-0#3"}},
		{"repeat of a numbered name", plan([]string{"a", "a#1", "a"}), []string{"a", "a#1", "a#2"}},
		{"invalid UTF-8", plan([]string{"caf\xe9"}), []string{"caf\uFFFD"}},
		{"other is a name below the cap", plan([]string{"other"}), []string{"other"}},
		{"beyond the cap", plan(many), merged(many)},
		{"other renamed beyond the cap", plan(otherFirst), otherFirstWant},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, promhdr.EndpointLabels(tt.plan)); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCountsAdd(t *testing.T) {
	var c promhdr.Counts
	c.Add(&pb.EndpointWindow{Requests: 9, Dropped: 2,
		Status: map[int32]int64{200: 3, 204: 1, 404: 1, 503: 2},
		Errors: map[string]int64{"timeout": 1, "who-knows": 1}})
	c.Add(&pb.EndpointWindow{Requests: 2, Status: map[int32]int64{500: 1, 101: 1}})
	want := promhdr.Counts{
		Requests: 11, Dropped: 2,
		Responses: map[string]int64{"1xx": 1, "2xx": 4, "4xx": 1, "5xx": 3},
		Errors:    map[string]int64{"5xx": 3, "timeout": 1, "other": 1},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}
