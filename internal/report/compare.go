package report

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Delta compares one figure of two runs.
type Delta struct {
	Name      string  `json:"name"`
	Base      float64 `json:"base"`
	Candidate float64 `json:"candidate"`
	// Change is Candidate − Base.
	Change float64 `json:"change"`
	// Percent is Change relative to Base; NaN when Base is 0.
	Percent float64 `json:"percent"`
	// Worse says the candidate is worse on this figure (slower, more
	// errors, less throughput) by more than the HDR precision.
	Worse bool `json:"worse"`
	// Unit is "ms", "/s" or "%".
	Unit string `json:"unit"`
}

// Comparison is a baseline run against a candidate run.
type Comparison struct {
	Base, Candidate *Report
	Totals          []Delta
	// Endpoints holds, per endpoint present in both runs (by name), its
	// latency deltas.
	Endpoints []EndpointDelta
}

// EndpointDelta is one endpoint's latency change.
type EndpointDelta struct {
	Name   string  `json:"name"`
	Deltas []Delta `json:"deltas"`
}

// precision is the relative error of an HDR value at 3 significant
// digits: differences below it are not changes.
const precision = 0.001

func delta(name, unit string, base, cand float64, higherIsWorse bool) Delta {
	d := Delta{Name: name, Base: base, Candidate: cand, Change: cand - base, Percent: math.NaN(), Unit: unit}
	if base != 0 {
		d.Percent = 100 * d.Change / base
	}
	tol := precision * math.Max(math.Abs(base), math.Abs(cand))
	if higherIsWorse {
		d.Worse = d.Change > tol
	} else {
		d.Worse = -d.Change > tol
	}
	return d
}

func latencyDeltas(b, c Latency) []Delta {
	return []Delta{
		delta("p50", "ms", b.P50, c.P50, true),
		delta("p90", "ms", b.P90, c.P90, true),
		delta("p99", "ms", b.P99, c.P99, true),
		delta("p99.9", "ms", b.P999, c.P999, true),
		delta("max", "ms", b.Max, c.Max, true),
	}
}

// Compare compares a candidate run with a baseline.
func Compare(base, cand *Report) *Comparison {
	c := &Comparison{Base: base, Candidate: cand}
	c.Totals = append(c.Totals,
		delta("rate", "/s", base.Totals.RateRps, cand.Totals.RateRps, false),
		delta("error rate", "%", 100*base.Totals.ErrorRate, 100*cand.Totals.ErrorRate, true),
	)
	c.Totals = append(c.Totals, latencyDeltas(base.Latency, cand.Latency)...)
	byName := map[string]Endpoint{}
	for _, e := range base.Endpoints {
		byName[e.Name] = e
	}
	for _, e := range cand.Endpoints {
		if b, ok := byName[e.Name]; ok {
			c.Endpoints = append(c.Endpoints, EndpointDelta{Name: e.Name, Deltas: latencyDeltas(b.Latency, e.Latency)})
		}
	}
	return c
}

func fmtDelta(d Delta) (base, cand, change string) {
	f := func(v float64) string {
		if d.Unit == "ms" {
			return dur(v)
		}
		if d.Unit == "%" {
			return fmt.Sprintf("%.2f%%", v)
		}
		return num(v) + "/s"
	}
	base, cand = f(d.Base), f(d.Candidate)
	sign := "+"
	if d.Change < 0 {
		sign = "−"
	}
	mag := math.Abs(d.Change)
	switch d.Unit {
	case "ms":
		change = sign + dur(mag)
	case "%":
		change = fmt.Sprintf("%s%.2f pts", sign, mag)
	default:
		change = sign + num(mag) + "/s"
	}
	if !math.IsNaN(d.Percent) {
		change += fmt.Sprintf(" (%+.1f%%)", d.Percent)
	}
	if d.Worse {
		change += "  worse"
	}
	return base, cand, change
}

// WriteCompareText writes a comparison for the terminal.
func WriteCompareText(w io.Writer, c *Comparison) error {
	ew := &errWriter{w: w}
	ew.printf("Candidate %s (%s) against baseline %s (%s)\n\n", c.Candidate.RunID, c.Candidate.Scenario, c.Base.RunID, c.Base.Scenario)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tbaseline\tcandidate\tchange\t")
	for _, d := range c.Totals {
		b, cd, ch := fmtDelta(d)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", d.Name, b, cd, ch)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(c.Endpoints) > 0 {
		ew.printf("\nPer endpoint (latency from intended start):\n")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "endpoint\tfigure\tbaseline\tcandidate\tchange\t")
		for _, e := range c.Endpoints {
			for _, d := range e.Deltas {
				if d.Name != "p50" && d.Name != "p99" {
					continue
				}
				b, cd, ch := fmtDelta(d)
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", e.Name, d.Name, b, cd, ch)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return ew.err
}
