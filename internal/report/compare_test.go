package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestDelta(t *testing.T) {
	tests := []struct {
		name          string
		base, cand    float64
		higherIsWorse bool
		worse         bool
		pct           float64 // NaN: none
	}{
		{"slower", 10, 12, true, true, 20},
		{"faster", 10, 8, true, false, -20},
		{"within HDR precision", 10, 10.005, true, false, 0.05},
		{"less throughput", 100, 90, false, true, -10},
		{"more throughput", 100, 110, false, false, 10},
		{"from zero", 0, 1, true, true, math.NaN()},
		{"equal", 5, 5, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := delta("x", "ms", tt.base, tt.cand, tt.higherIsWorse)
			if d.Worse != tt.worse {
				t.Errorf("worse = %v, want %v", d.Worse, tt.worse)
			}
			if math.IsNaN(tt.pct) != math.IsNaN(d.Percent) || (!math.IsNaN(tt.pct) && math.Abs(d.Percent-tt.pct) > 1e-9) {
				t.Errorf("percent = %v, want %v", d.Percent, tt.pct)
			}
			if d.Change != tt.cand-tt.base {
				t.Errorf("change = %v", d.Change)
			}
		})
	}
}

func TestCompareText(t *testing.T) {
	base := &Report{RunID: "a", Scenario: "s", Totals: Totals{RateRps: 100, ErrorRate: 0.01},
		Latency:   Latency{P50: 1, P90: 2, P99: 10, P999: 20, Max: 30},
		Endpoints: []Endpoint{{Name: "home", Latency: Latency{P50: 1, P99: 10}}, {Name: "gone", Latency: Latency{P50: 1}}}}
	cand := &Report{RunID: "b", Scenario: "s", Totals: Totals{RateRps: 100, ErrorRate: 0.01},
		Latency:   Latency{P50: 1, P90: 2, P99: 15, P999: 20, Max: 30},
		Endpoints: []Endpoint{{Name: "home", Latency: Latency{P50: 1, P99: 15}}, {Name: "new", Latency: Latency{P50: 1}}}}
	c := Compare(base, cand)
	if len(c.Endpoints) != 1 || c.Endpoints[0].Name != "home" {
		t.Fatalf("endpoints compared: %+v, want only home (in both)", c.Endpoints)
	}
	var b bytes.Buffer
	if err := WriteCompareText(&b, c); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"Candidate b (s) against baseline a (s)", "+5.00ms (+50.0%)  worse", "home"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "worse"); n != 2 {
		t.Errorf("%d figures marked worse, want 2 (p99 of the run and of home):\n%s", n, out)
	}
}
