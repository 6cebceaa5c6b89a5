package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"

	"github.com/barrage-dev/barrage/internal/plot"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// tolerance is the relative change below which a delta is neither worse
// nor better (noise).
const tolerance = 0.01

// comparePage is what the compare template renders.
type comparePage struct {
	Title      string
	Live       bool
	Style      template.CSS
	Base, Cand runSide
	Spectrum   template.HTML
	Histogram  template.HTML
	Deltas     []deltaRow
	Endpoints  []endpointDelta
	OnlyBase   []string
	OnlyCand   []string
}

type runSide struct {
	RunID, Scenario, State, Target, Started, Duration, Requests string
}

type deltaRow struct {
	Metric, Base, Cand, Abs, Rel, Class string
}

type endpointDelta struct {
	Name  string
	Cells []deltaCell
}

type deltaCell struct {
	Text, Rel, Class string
}

// WriteCompare writes a page comparing a baseline run with a candidate
// run: overlaid percentile spectra and histograms of corrected latency, a
// table of deltas (p50, p90, p99, p99.9, max, rate, error rate; absolute
// and relative, worse in red, better in green, changes under 1% neither)
// and per-endpoint deltas for the endpoints both runs have (matched by
// name).
func WriteCompare(w io.Writer, base, cand *pb.RunResult, o Options) error {
	br, bm, err := report.BuildWithHistograms(base)
	if err != nil {
		return fmt.Errorf("html report: baseline: %w", err)
	}
	cr, cm, err := report.BuildWithHistograms(cand)
	if err != nil {
		return fmt.Errorf("html report: candidate: %w", err)
	}
	p := &comparePage{Title: o.Title, Live: o.Live, Style: template.CSS(style), Base: sideOf(br), Cand: sideOf(cr)}
	if p.Title == "" {
		p.Title = "Barrage comparison " + br.RunID + " vs " + cr.RunID
	}
	bs, x1 := spectrumSeries("baseline", colUncorrected, bm.All, true)
	cs, x2 := spectrumSeries("candidate", colCorrected, cm.All, false)
	p.Spectrum = spectrumChart("compare-spectrum", "Latency by percentile, baseline and candidate", []plot.Series{bs, cs}, max(x1, x2))
	p.Histogram = render1(&plot.HistogramChart{
		Name: "compare-histogram", Title: "Latency histograms, baseline and candidate", Width: chartWidth, Height: 260,
		X: plot.Axis{Label: "latency (from intended start)", Unit: plot.Millis, Log: true},
		Y: plot.Axis{Label: "responses"},
		Series: []plot.BinSeries{
			{Name: "baseline", Bins: bins(bm.All.LogBuckets(10)), Color: colUncorrected},
			{Name: "candidate", Bins: bins(cm.All.LogBuckets(10)), Color: colCorrected},
		},
	})

	bl, cl := br.Latency, cr.Latency
	p.Deltas = []deltaRow{
		latencyDelta("p50", bl.P50, cl.P50, bl.Count, cl.Count),
		latencyDelta("p90", bl.P90, cl.P90, bl.Count, cl.Count),
		latencyDelta("p99", bl.P99, cl.P99, bl.Count, cl.Count),
		latencyDelta("p99.9", bl.P999, cl.P999, bl.Count, cl.Count),
		latencyDelta("max", bl.Max, cl.Max, bl.Count, cl.Count),
		rateDelta("rate", br.Totals.RateRps, cr.Totals.RateRps),
		errorRateDelta("error rate", br.Totals.ErrorRate, cr.Totals.ErrorRate),
	}

	candByName := map[string]report.Endpoint{}
	for _, e := range cr.Endpoints {
		candByName[e.Name] = e
	}
	inBase := map[string]bool{}
	for _, be := range br.Endpoints {
		inBase[be.Name] = true
		ce, ok := candByName[be.Name]
		if !ok {
			p.OnlyBase = append(p.OnlyBase, be.Name)
			continue
		}
		b, c := be.Latency, ce.Latency
		rows := []deltaRow{
			latencyDelta("p50", b.P50, c.P50, b.Count, c.Count),
			latencyDelta("p99", b.P99, c.P99, b.Count, c.Count),
			latencyDelta("max", b.Max, c.Max, b.Count, c.Count),
			rateDelta("rate", be.RateRps, ce.RateRps),
			errorRateDelta("error rate", endpointErrorRate(be), endpointErrorRate(ce)),
		}
		ed := endpointDelta{Name: be.Name}
		for _, r := range rows {
			ed.Cells = append(ed.Cells, deltaCell{Text: r.Base + " → " + r.Cand, Rel: r.Rel, Class: r.Class})
		}
		p.Endpoints = append(p.Endpoints, ed)
	}
	for _, ce := range cr.Endpoints {
		if !inBase[ce.Name] {
			p.OnlyCand = append(p.OnlyCand, ce.Name)
		}
	}
	return execute(w, "compare-document", p)
}

func sideOf(r *report.Report) runSide {
	s := runSide{
		RunID: r.RunID, Scenario: r.Scenario, State: r.State, Target: r.Target,
		Duration: plot.FormatSeconds(round1(r.DurationS)),
		Requests: count(r.Totals.Requests),
	}
	if !r.StartedAt.IsZero() && r.StartedAt.Unix() > 0 {
		s.Started = r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	return s
}

func endpointErrorRate(e report.Endpoint) float64 {
	var errs int64
	for code, n := range e.Status {
		if c, err := strconv.Atoi(code); err == nil && c >= 500 {
			errs += n
		}
	}
	for _, n := range e.Errors {
		errs += n
	}
	return ratio(errs, e.Requests)
}

// judge classes a change from b to c: "worse", "better" or "" (within
// tolerance, or not comparable).
func judge(b, c float64, lowerIsBetter bool) string {
	if math.IsNaN(b) || math.IsNaN(c) {
		return ""
	}
	var rel float64
	switch {
	case b == c:
		return ""
	case b == 0:
		rel = math.Copysign(math.Inf(1), c)
	default:
		rel = (c - b) / math.Abs(b)
	}
	if math.Abs(rel) < tolerance {
		return ""
	}
	if (rel > 0) == lowerIsBetter {
		return "worse"
	}
	return "better"
}

// relText is the relative change: "+12.5%", "-3.0%", "0%", or "new" when
// the baseline is zero.
func relText(b, c float64) string {
	switch {
	case b == c:
		return "0%"
	case b == 0:
		return "new"
	}
	return fmt.Sprintf("%+.1f%%", 100*(c-b)/math.Abs(b))
}

func signed(d float64, abs string) string {
	switch {
	case d > 0:
		return "+" + abs
	case d < 0:
		return "−" + abs
	}
	return abs
}

func latencyDelta(name string, b, c float64, bn, cn int64) deltaRow {
	r := deltaRow{Metric: name, Base: latText(bn, b), Cand: latText(cn, c), Abs: "–", Rel: "–"}
	if bn == 0 || cn == 0 {
		return r
	}
	r.Abs = signed(c-b, plot.FormatMillis(math.Abs(c-b)))
	r.Rel = relText(b, c)
	r.Class = judge(b, c, true)
	return r
}

func rateDelta(name string, b, c float64) deltaRow {
	b, c = round1(b), round1(c)
	return deltaRow{
		Metric: name, Base: plot.FormatNumber(b) + "/s", Cand: plot.FormatNumber(c) + "/s",
		Abs: signed(c-b, plot.FormatNumber(round1(math.Abs(c-b)))+"/s"), Rel: relText(b, c),
		Class: judge(b, c, false),
	}
}

func errorRateDelta(name string, b, c float64) deltaRow {
	return deltaRow{
		Metric: name, Base: percent(b), Cand: percent(c),
		Abs: signed(c-b, strconv.FormatFloat(100*math.Abs(c-b), 'f', 2, 64)+" pp"), Rel: relText(b, c),
		Class: judge(b, c, true),
	}
}
