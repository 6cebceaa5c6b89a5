package apireq

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/barrage-dev/barrage/internal/finding"
	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/target/shop"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

var shopOps = []string{"listProducts", "getProduct", "createOrder", "listOrders", "getOrder", "deleteOrder"}

func shopPlan(base string, ratio float64) *pb.Plan {
	p := &pb.Plan{Target: &pb.Target{BaseUrl: base}, Seed: 1}
	p.Openapi = &pb.OpenAPI{File: "shop.yaml", Spec: shop.Spec()}
	for _, id := range shopOps {
		p.Openapi.Operations = append(p.Openapi.Operations, &pb.Operation{Id: id, Weight: 1})
	}
	p.Auth = &pb.Auth{Primary: map[string]string{"bearerAuth": "alice-token"}, Secondary: map[string]string{"bearerAuth": "bob-token"}}
	if ratio > 0 {
		p.Faults = &pb.Faults{Ratio: ratio, Families: []string{"types", "boundaries", "strings", "formats", "structure", "encoding", "injection", "body", "methods", "headers", "auth"}, Seed: 3}
	}
	return p
}

// drive sends n requests round-robin over the operations through one
// Sender and returns every oracle hit and per-operation 2xx counts of valid
// requests.
func drive(t *testing.T, srvURL string, plan *pb.Plan, n int) (map[finding.Oracle][]Hit, map[string][2]int) {
	t.Helper()
	c, err := Compile(context.Background(), plan, Options{UserAgent: "barrage-test", Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	s := c.NewSender(7, 0, 1)
	addr := strings.TrimPrefix(srvURL, "http://")
	hits := map[finding.Oracle][]Hit{}
	reached := map[string][2]int{}
	var buf []byte
	var p h1.Parser
	for i := range n {
		opIdx := i % len(c.Ops())
		var info Info
		buf, info = s.Build(buf[:0], opIdx, uint64(i))
		status, kind, head, body := roundTrip(t, addr, buf, info.Head, &p)
		if !info.Capture {
			head, body = nil, nil
		}
		for _, h := range s.Check(info, status, kind, head, body, nil) {
			hits[h.Oracle] = append(hits[h.Oracle], h)
		}
		s.Learn(info, status, buf, head, body)
		if info.Case < 0 {
			id := c.Ops()[opIdx].O.ID
			r := reached[id]
			r[0]++
			if status >= 200 && status < 300 {
				r[1]++
			}
			reached[id] = r
		}
	}
	return hits, reached
}

func TestValidTrafficAgainstCleanShopHasNoFindings(t *testing.T) {
	srv := httptest.NewServer(shop.New(shop.Config{}))
	defer srv.Close()
	hits, reached := drive(t, srv.URL, shopPlan(srv.URL, 0), 600)
	for o, hs := range hits {
		t.Errorf("%s fired %d times on valid traffic, e.g. %+v", o, len(hs), hs[0])
	}
	for _, id := range shopOps {
		r := reached[id]
		if r[0] == 0 || r[1]*2 < r[0] {
			t.Errorf("%s: %d of %d valid requests got 2xx; want most of them to reach the operation", id, r[1], r[0])
		}
	}
}

func TestMutationsAgainstCleanShopHaveNoFindings(t *testing.T) {
	srv := httptest.NewServer(shop.New(shop.Config{}))
	defer srv.Close()
	hits, _ := drive(t, srv.URL, shopPlan(srv.URL, 0.5), 3000)
	for o, hs := range hits {
		t.Errorf("%s fired %d times against the clean shop, e.g. %+v", o, len(hs), hs[0])
	}
}

func TestPlantedDefectsAreFound(t *testing.T) {
	srv := httptest.NewServer(shop.New(shop.Config{Defects: shop.AllDefects}))
	defer srv.Close()
	hits, _ := drive(t, srv.URL, shopPlan(srv.URL, 0.5), 6000)
	for _, o := range []finding.Oracle{finding.ServerError, finding.ConnectionFailure, finding.InvalidAccepted,
		finding.SpecBody, finding.SpecStatus, finding.SpecContentType, finding.InfoLeak, finding.AuthNotEnforced, finding.CrossUser} {
		if len(hits[o]) == 0 {
			t.Errorf("%s: no hit", o)
		}
	}
}

// TestInterleave: cases come breadth first over families, each family's
// own order kept, none lost or repeated.
func TestInterleave(t *testing.T) {
	mk := func(spec ...string) []Case {
		var cs []Case
		for _, s := range spec {
			f, n, _ := strings.Cut(s, "/")
			cs = append(cs, Case{Family: f, Name: n})
		}
		return cs
	}
	names := func(cs []Case) string {
		var s []string
		for _, c := range cs {
			s = append(s, c.Family+"/"+c.Name)
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct{ in, want []string }{
		{nil, nil},
		{[]string{"a/1"}, []string{"a/1"}},
		{[]string{"a/1", "a/2", "a/3", "b/1", "c/1", "c/2"}, []string{"a/1", "b/1", "c/1", "a/2", "c/2", "a/3"}},
		{[]string{"a/1", "b/1", "a/2", "b/2"}, []string{"a/1", "b/1", "a/2", "b/2"}},
	} {
		if got, want := names(interleave(mk(tc.in...))), names(mk(tc.want...)); got != want {
			t.Errorf("interleave(%v) = %s, want %s", tc.in, got, want)
		}
	}
	// On the shop, every family shows up among the first len(families) cases.
	c, err := Compile(context.Background(), shopPlan("http://127.0.0.1:1", 0.4), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range c.Ops() {
		all, head := map[string]bool{}, map[string]bool{}
		for _, cs := range c.Cases(i) {
			all[cs.Family] = true
		}
		for _, cs := range c.Cases(i)[:len(all)] {
			head[cs.Family] = true
		}
		if len(head) != len(all) {
			t.Errorf("%s: first %d cases cover families %v of %v", op.O.ID, len(all), head, all)
		}
	}
}
