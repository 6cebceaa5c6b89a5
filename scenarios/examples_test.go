package scenarios

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/template"
)

// TestExamples parses every file in examples/ with an empty environment
// and renders every template of its plan.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("found %d examples, want at least demo, closed and reference", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(file, src, nil)
			if err != nil {
				t.Fatalf("Parse:\n%v", err)
			}
			checkPlanTemplates(t, s)
		})
	}
}

// TestDemo pins what `make demo` relies on.
func TestDemo(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("examples", "demo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse("demo.yaml", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.BaseURL != "http://127.0.0.1:18080" {
		t.Errorf("base_url = %q, want the bundled test target", s.Target.BaseURL)
	}
	if s.Load.Model != "open" || s.Agents != 2 {
		t.Errorf("model %q, agents %d; want open, 2", s.Load.Model, s.Agents)
	}
	var total time.Duration
	for _, st := range s.Load.Stages {
		total += st.Duration
	}
	if total < 8*time.Second || total > 12*time.Second {
		t.Errorf("total load %v, want about 10s", total)
	}
	type req struct {
		method, path string
		weight       int
		json         bool
	}
	want := []req{
		{"GET", "/products?limit={{int 1 50}}", 5, false},
		{"GET", "/products/{{int 1 1000}}", 3, false},
		{"POST", "/orders", 1, true},
	}
	if len(s.Requests) != len(want) {
		t.Fatalf("%d requests, want %d", len(s.Requests), len(want))
	}
	for i, w := range want {
		r := s.Requests[i]
		if got := (req{r.Method, r.Path, r.Weight, r.JSON}); got != w {
			t.Errorf("request %d = %+v, want %+v", i, got, w)
		}
	}
	if got, want := s.Requests[2].Body, `{"product_id":{{int 1 1000}},"quantity":{{int 1 5}}}`; got != want {
		t.Errorf("order body = %s, want %s", got, want)
	}
}

// checkPlanTemplates compiles s and checks that every template of the plan
// parses and renders (JSON bodies as valid JSON).
func checkPlanTemplates(t testing.TB, s *Scenario) {
	t.Helper()
	p := s.Plan(1)
	r := template.NewRand(1)
	render := func(what, src string) []byte {
		tp, err := template.Parse(src)
		if err != nil {
			t.Fatalf("%s template %q: %v", what, src, err)
		}
		return tp.Append(nil, r, 1)
	}
	for _, h := range p.GetTarget().GetHeaders() {
		render("target header "+h.GetName(), h.GetValue())
	}
	for i, rq := range p.GetRequests() {
		render("path", rq.GetPath())
		for _, h := range rq.GetHeaders() {
			render("header "+h.GetName(), h.GetValue())
		}
		body := render("body", rq.GetBody())
		if s.Requests[i].JSON && !json.Valid(body) {
			t.Fatalf("request %d: json body %q rendered invalid JSON %q", i, rq.GetBody(), body)
		}
	}
}
