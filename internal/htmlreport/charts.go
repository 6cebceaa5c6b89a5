package htmlreport

import (
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/plot"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Chart widths in px (charts scale down with the page).
const (
	chartWidth = 1100
	barWidth   = 900
)

// Series colours, fixed so that a page reads the same way everywhere.
const (
	colCorrected   = "#d55e00"
	colUncorrected = "#0072b2"
	colP50         = "#0072b2"
	colP99         = "#009e73"
	colMax         = "#d55e00"
	colRate        = "#0072b2"
	colAsked       = "#7f7f7f"
	colErrors      = "#c0392b"
	colDropped     = "#e69f00"
	col2xx         = "#009e73"
	col3xx         = "#56b4e9"
	col4xx         = "#e69f00"
	col5xx         = "#d55e00"
	colTransport   = "#8e1b10"
)

// chart is any chart of package plot.
type chart interface{ Write(io.Writer) error }

// render1 renders a chart for the template. Writing to a strings.Builder
// cannot fail.
func render1(c chart) template.HTML {
	var b strings.Builder
	_ = c.Write(&b)
	return template.HTML(b.String()) // package plot escapes every text it writes
}

func durMs(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// charts builds a run page's charts.
type charts struct {
	rep *report.Report
	m   *report.Merged
	res *pb.RunResult
}

// spectrumSeries turns a histogram into a percentile spectrum series: x =
// 1/(1-p) on a log axis; the closing point (p = 1, the maximum) is drawn
// at x = max(last x, count), the resolution the data can claim.
func spectrumSeries(name, color string, h *latency.Histogram, dashed bool) (plot.Series, float64) {
	s := plot.Series{Name: name, Color: color, Dashed: dashed}
	maxX := 1.0
	pts := h.Spectrum(spectrumTicks)
	for i, p := range pts {
		ms := durMs(p.Value)
		x := plot.PercentileX(p.Percentile)
		if math.IsInf(x, 1) {
			x = maxX
			if i == len(pts)-1 {
				x = max(maxX, float64(h.Count()))
			}
		}
		maxX = max(maxX, x)
		s.Points = append(s.Points, plot.Point{
			X: x, Y: ms,
			Title: name + " " + plot.PercentLabel(p.Percentile) + ": " + plot.FormatMillis(ms) + " (" + count(p.Count) + " at or below)",
		})
	}
	return s, maxX
}

// spectrumChart is the classic HdrHistogram plot of one or more series.
func spectrumChart(name, title string, series []plot.Series, maxX float64) template.HTML {
	top := math.Pow(10, math.Ceil(math.Log10(max(maxX, 10))-1e-9))
	c := &plot.LineChart{
		Name: name, Title: title, Width: chartWidth, Height: 320,
		X:      plot.Axis{Label: "percentile", Log: true, Min: 1, Max: top, Ticks: plot.PercentileTicks(top)},
		Y:      plot.Axis{Label: "latency", Unit: plot.Millis},
		Series: series,
	}
	return render1(c)
}

func (c *charts) spectrum() template.HTML {
	corr, x1 := spectrumSeries("corrected", colCorrected, c.m.All, false)
	unc, x2 := spectrumSeries("uncorrected", colUncorrected, c.m.AllService, true)
	return spectrumChart("spectrum", "Latency by percentile", []plot.Series{corr, unc}, max(x1, x2))
}

// tsPoint is one point of the downsampled timeline.
type tsPoint struct {
	x                          float64 // seconds from the start to the middle of the point
	rate, asked, errs, dropped float64 // per second
	p50, p99, max              float64 // ms; NaN without responses
	gap                        bool    // windows are missing before it
}

// timeSeries downsamples the timeline to about limit points: consecutive
// windows are grouped k at a time. The rate is the group's mean (requests
// over time); errors/s, dropped/s, p99 and max keep the group's largest
// window value, so that no spike disappears; p50 is the request-weighted
// mean. A missing stretch of windows breaks the lines.
func timeSeries(pts []report.Point, limit int) []tsPoint {
	if len(pts) == 0 {
		return nil
	}
	k := max(1, (len(pts)+limit-1)/limit)
	var out []tsPoint
	var runs [][]report.Point
	startRun := 0
	for i := 1; i <= len(pts); i++ {
		if i == len(pts) || gapBetween(pts[i-1], pts[i]) {
			runs = append(runs, pts[startRun:i])
			startRun = i
		}
	}
	for r, run := range runs {
		for i := 0; i < len(run); i += k {
			g := run[i:min(i+k, len(run))]
			var reqs, length, asked, p50w float64
			tp := tsPoint{gap: r > 0 && i == 0, p50: math.NaN(), p99: math.NaN(), max: math.NaN()}
			for _, w := range g {
				reqs += float64(w.Requests)
				length += w.LengthS
				asked += w.AskedRps
				if w.LengthS > 0 {
					tp.errs = max(tp.errs, float64(w.Errors)/w.LengthS)
					tp.dropped = max(tp.dropped, float64(w.Dropped)/w.LengthS)
				}
				if w.Requests > 0 {
					p50w += w.P50Ms * float64(w.Requests)
					tp.p99 = nanMax(tp.p99, w.P99Ms)
					tp.max = nanMax(tp.max, w.MaxMs)
				}
			}
			last := g[len(g)-1]
			tp.x = (g[0].OffsetS + last.OffsetS + last.LengthS) / 2
			if length > 0 {
				tp.rate = reqs / length
			}
			tp.asked = asked / float64(len(g))
			if reqs > 0 {
				tp.p50 = p50w / reqs
			}
			out = append(out, tp)
		}
	}
	return out
}

// gapBetween reports whether windows are missing between a and b.
func gapBetween(a, b report.Point) bool {
	return b.OffsetS > a.OffsetS+a.LengthS+max(a.LengthS, b.LengthS, 0.001)/2
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	return max(a, b)
}

// timeline builds the latency-over-time and throughput charts.
func (c *charts) timeline() (latencyChart, throughput template.HTML) {
	ts := timeSeries(c.rep.Timeline, seriesLimit)
	end := c.rep.DurationS
	if n := len(c.rep.Timeline); n > 0 {
		last := c.rep.Timeline[n-1]
		end = max(end, last.OffsetS+last.LengthS)
	}
	start := 0.0
	if len(c.rep.Timeline) > 0 {
		start = min(0, c.rep.Timeline[0].OffsetS)
	}
	xAxis := plot.Axis{Label: "time since start", Unit: plot.Seconds, Min: start, Max: end}
	// The throughput chart leaves out the tail after the planned end: the
	// final window only collects the answers still in flight, and its
	// near-zero rate would read as a collapse of the load.
	load := ts
	if planned := c.rep.PlannedS; planned > 0 {
		load = nil
		for _, p := range ts {
			if p.x <= planned {
				load = append(load, p)
			}
		}
	}
	mkFrom := func(pts []tsPoint, name string, color string, dashed bool, v func(tsPoint) float64) plot.Series {
		s := plot.Series{Name: name, Color: color, Dashed: dashed, Points: make([]plot.Point, 0, len(pts)+4)}
		for _, p := range pts {
			if p.gap {
				s.Points = append(s.Points, plot.Point{X: p.x, Y: math.NaN()})
			}
			s.Points = append(s.Points, plot.Point{X: p.x, Y: v(p)})
		}
		return s
	}
	mk := func(name string, color string, dashed bool, v func(tsPoint) float64) plot.Series {
		return mkFrom(ts, name, color, dashed, v)
	}
	mkLoad := func(name string, color string, dashed bool, v func(tsPoint) float64) plot.Series {
		return mkFrom(load, name, color, dashed, v)
	}
	lat := &plot.LineChart{
		Name: "latency-over-time", Title: "Latency over time", X: xAxis, Width: chartWidth,
		Y: plot.Axis{Label: "latency", Unit: plot.Millis, Log: true},
		Series: []plot.Series{
			mk("p50", colP50, false, func(p tsPoint) float64 { return p.p50 }),
			mk("p99", colP99, false, func(p tsPoint) float64 { return p.p99 }),
			mk("max", colMax, false, func(p tsPoint) float64 { return p.max }),
		},
	}
	thr := &plot.LineChart{
		Name: "throughput", Title: "Throughput and errors over time", X: xAxis, Width: chartWidth,
		Y:       plot.Axis{Label: "per second"},
		Series:  []plot.Series{mkLoad("requests/s", colRate, false, func(p tsPoint) float64 { return p.rate })},
		Markers: c.markers(),
	}
	if c.rep.Model == "open" && hasAsked(c.rep.Timeline) {
		thr.Series = append(thr.Series, mkLoad("asked/s", colAsked, true, func(p tsPoint) float64 { return p.asked }))
	}
	thr.Series = append(thr.Series, mkLoad("errors/s", colErrors, false, func(p tsPoint) float64 { return p.errs }))
	if c.rep.Totals.Dropped > 0 {
		thr.Series = append(thr.Series, mkLoad("dropped/s", colDropped, false, func(p tsPoint) float64 { return p.dropped }))
	}
	if len(ts) == 0 {
		lat.Series, thr.Series = nil, nil
	}
	return render1(lat), render1(thr)
}

func hasAsked(pts []report.Point) bool {
	for _, p := range pts {
		if p.AskedRps > 0 {
			return true
		}
	}
	return false
}

// markers are the stage boundaries and the events worth seeing on the
// time axis.
func (c *charts) markers() []plot.Marker {
	var out []plot.Marker
	stages := c.res.GetPlan().GetLoad().GetStages()
	at := 0.0
	for i, s := range stages {
		at += s.GetDuration().AsDuration().Seconds()
		if i == len(stages)-1 {
			break
		}
		next := stages[i+1]
		label := "stage " + strconv.Itoa(i+2)
		if c.rep.Model == "closed" {
			label += ": " + strconv.FormatInt(next.GetConcurrency(), 10) + " workers"
		} else if next.GetFromRate() == next.GetToRate() {
			label += ": " + plot.FormatNumber(next.GetFromRate()) + "/s"
		} else {
			label += ": " + plot.FormatNumber(next.GetFromRate()) + "→" + plot.FormatNumber(next.GetToRate()) + "/s"
		}
		out = append(out, plot.Marker{X: at, Label: label, Kind: "stage"})
	}
	for _, e := range c.rep.Events {
		switch e.Kind {
		case "agent-lost", "cancelled":
			out = append(out, plot.Marker{
				X: e.At.Sub(c.rep.StartedAt).Seconds(), Label: strings.ReplaceAll(e.Kind, "-", " "),
				Title: e.Kind + ": " + e.Message, Kind: e.Kind, Event: true,
			})
		}
	}
	return out
}

// bins converts log buckets to plot bins in milliseconds.
func bins(bs []latency.Bucket) []plot.Bin {
	out := make([]plot.Bin, len(bs))
	for i, b := range bs {
		out[i] = plot.Bin{Lo: durMs(b.Low), Hi: durMs(b.High), Count: float64(b.Count)}
	}
	return out
}

func (c *charts) histogram() template.HTML {
	return render1(&plot.HistogramChart{
		Name: "histogram", Title: "Latency histogram, all responses", Width: chartWidth, Height: 260,
		X:      plot.Axis{Label: "latency (from intended start)", Unit: plot.Millis, Log: true},
		Y:      plot.Axis{Label: "responses"},
		Series: []plot.BinSeries{{Name: "responses", Bins: bins(c.m.All.LogBuckets(10)), Color: colCorrected}},
	})
}

// endpointHistograms draws one small histogram per endpoint, all on the
// same latency axis so that they compare at a glance.
func (c *charts) endpointHistograms() []namedChart {
	per := make([][]plot.Bin, len(c.m.PerEndpoint))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, h := range c.m.PerEndpoint {
		per[i] = bins(h.LogBuckets(5))
		for _, b := range per[i] {
			lo, hi = min(lo, b.Lo), max(hi, b.Hi)
		}
	}
	x := plot.Axis{Label: "latency", Unit: plot.Millis, Log: true}
	if lo < hi {
		x.Min, x.Max = lo, hi
	}
	var out []namedChart
	for i, e := range c.rep.Endpoints {
		if i >= len(per) {
			break
		}
		note := count(e.Latency.Count) + " responses"
		if e.Latency.Count > 0 {
			note += " · p99 " + plot.FormatMillis(e.Latency.P99)
		}
		out = append(out, namedChart{
			Name: e.Name, Note: note,
			Chart: render1(&plot.HistogramChart{
				Name: "endpoint-histogram", Title: "Latency histogram of " + e.Name, Width: 360, Height: 170,
				Attrs:  []plot.Attr{{Name: "data-endpoint", Value: e.Name}},
				X:      x,
				Y:      plot.Axis{},
				Series: []plot.BinSeries{{Name: "responses", Bins: per[i], Color: colUncorrected}},
			}),
		})
	}
	return out
}

// status draws the status code and transport error breakdown.
func (c *charts) status() template.HTML {
	t := c.rep.Totals
	type bar struct {
		label string
		n     int64
		color string
	}
	var bars []bar
	codes := make([]string, 0, len(t.Status))
	for k := range t.Status {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	for _, k := range codes {
		col := col2xx
		switch {
		case strings.HasPrefix(k, "1"), strings.HasPrefix(k, "3"):
			col = col3xx
		case strings.HasPrefix(k, "4"):
			col = col4xx
		case strings.HasPrefix(k, "5"):
			col = col5xx
		}
		bars = append(bars, bar{k, t.Status[k], col})
	}
	kinds := make([]string, 0, len(t.ErrorKinds))
	for k := range t.ErrorKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		bars = append(bars, bar{"error: " + k, t.ErrorKinds[k], colTransport})
	}
	hc := &plot.HBarChart{Name: "status", Title: "Responses by status and transport errors by kind", Width: barWidth}
	s := plot.BarSeries{Name: "requests", Color: col2xx}
	for _, b := range bars {
		hc.Labels = append(hc.Labels, b.label)
		s.Values = append(s.Values, float64(b.n))
		s.Colors = append(s.Colors, b.color)
	}
	hc.Series = []plot.BarSeries{s}
	return render1(hc)
}

// agents draws each shard's share of the requests.
func (c *charts) agents() template.HTML {
	hc := &plot.HBarChart{Name: "agents", Title: "Requests per agent", Width: barWidth}
	s := plot.BarSeries{Name: "requests", Color: colRate}
	for _, sh := range c.rep.Shards {
		name := sh.Agent
		if name == "" {
			name = "?"
		}
		hc.Labels = append(hc.Labels, "shard "+strconv.Itoa(int(sh.Shard))+" · "+name)
		s.Values = append(s.Values, float64(sh.Requests))
	}
	hc.Series = []plot.BarSeries{s}
	return render1(hc)
}
