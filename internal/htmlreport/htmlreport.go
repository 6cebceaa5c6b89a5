package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barrage-dev/barrage/internal/plot"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Options tune a page.
type Options struct {
	// Live marks the page as the coordinator's live view of a run that may
	// still be going: it says the figures are "so far" and carries
	// data-live="true" on its <main>. The coordinator takes the content
	// from WriteBody (no <html>/<head> wrapper) and inlines Style() once.
	Live bool
	// Title is the page's <title> and heading; empty means "Barrage run
	// <id>" (WriteCompare: "Barrage comparison <base id> vs <cand id>").
	Title string
}

//go:embed style.css
var style string

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"count": count,
	"ms":    plot.FormatMillis,
}).Parse(pageTemplate))

// Style returns the CSS the pages use. Every rule is scoped to the
// .barrage class of the pages' <main>.
func Style() string { return style }

// Write writes the complete, self-contained page of one run: inline CSS,
// inline SVG charts, no external resource of any kind.
func Write(w io.Writer, res *pb.RunResult, o Options) error {
	return render(w, "document", res, o)
}

// WriteBody writes only the page's content, the <main> element, for the
// live web view to swap in; the CSS it needs is Style().
func WriteBody(w io.Writer, res *pb.RunResult, o Options) error {
	return render(w, "main", res, o)
}

func render(w io.Writer, name string, res *pb.RunResult, o Options) error {
	p, err := newRunPage(res, o)
	if err != nil {
		return err
	}
	return execute(w, name, p)
}

// execute renders a template into memory first, so that a failure writes
// nothing, then writes it in one piece.
func execute(w io.Writer, name string, data any) error {
	var b bytes.Buffer
	b.Grow(64 << 10)
	if err := tmpl.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if _, err := w.Write(clean(b.Bytes())); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// clean makes a rendered page valid UTF-8 without control characters
// other than tab and newlines (html/template passes them through from the
// run's strings): each offending byte or sequence becomes U+FFFD.
func clean(b []byte) []byte {
	bad := !utf8.Valid(b)
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			bad = true
			break
		}
	}
	if !bad {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f:
			out = append(out, "\uFFFD"...)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// Limits that keep a page small whatever the run found.
const (
	maxFindings   = 200     // findings shown in full; the rest are counted
	maxCurl       = 8 << 10 // longer reproducers are not shown
	maxExcerpt    = 2 << 10 // bytes of request and response shown per finding
	seriesLimit   = 600     // points per time series
	spectrumTicks = 5       // percentile ticks per halving of the distance to 100%
)

// runPage is what the run template renders.
type runPage struct {
	Title     string
	Live      bool
	Style     template.CSS
	RunID     string
	State     string
	Message   string
	Meta      []kv
	Tiles     []tile
	Endpoints []endpointRow
	All       *endpointRow
	Service   string
	Precision string

	Spectrum, LatencyTime, Throughput, Histogram template.HTML
	EndpointHistograms                           []namedChart
	Status, Agents                               template.HTML

	Shards     []shardRow
	Events     []eventRow
	Operations []opRow
	Findings   []findingView
	MoreFinds  int
	// HasAPI is true when the run exercised API operations (so "no
	// findings" means something).
	HasAPI bool
}

type kv struct{ K, V string }

type tile struct {
	K, V, Note string
	Bad        bool
}

type namedChart struct {
	Name  string
	Note  string
	Chart template.HTML
}

type endpointRow struct {
	Name, Method, Path                 string
	Requests, Rate                     string
	P50, P90, P99, P999, Max           string
	Dropped, Status, Errors, ErrorRate string
}

type shardRow struct {
	Shard                                          int32
	Agent, Requests, Windows, Done, Offset, Reason string
}

type eventRow struct {
	Offset, At, Kind, Message string
}

type opRow struct {
	Name, Valid, Reached, Mutated string
	Never                         bool
}

type findingView struct {
	ID, Fingerprint, Severity, Oracle, Where, Count string
	Mutation, Detail, Evidence, Class, FirstSeen    string
	Status                                          int
	Curl, CurlNote                                  string
	Request, Response                               string
	RequestNote, ResponseNote                       string
}

// newRunPage builds everything the run template shows.
func newRunPage(res *pb.RunResult, o Options) (*runPage, error) {
	rep, m, err := report.BuildWithHistograms(res)
	if err != nil {
		return nil, fmt.Errorf("html report: %w", err)
	}
	p := &runPage{
		Title: o.Title, Live: o.Live, Style: template.CSS(style),
		RunID: rep.RunID, State: rep.State, Message: rep.Message,
	}
	if p.Title == "" {
		p.Title = "Barrage run " + rep.RunID
	}
	p.Meta = runMeta(rep, res)
	p.Precision = precision(rep.Precision)
	p.Tiles = summaryTiles(rep)
	for _, e := range rep.Endpoints {
		p.Endpoints = append(p.Endpoints, endpointRowOf(e))
	}
	if len(rep.Endpoints) > 1 {
		all := report.Endpoint{
			Name: "all", Requests: rep.Totals.Requests, RateRps: rep.Totals.RateRps, Dropped: rep.Totals.Dropped,
			Latency: rep.Latency, Status: rep.Totals.Status, Errors: rep.Totals.ErrorKinds,
		}
		row := endpointRowOf(all)
		row.ErrorRate = percent(rep.Totals.ErrorRate)
		p.All = &row
	}
	s := rep.ServiceTime
	p.Service = fmt.Sprintf("p50 %s · p90 %s · p99 %s · p99.9 %s · max %s",
		latText(s.Count, s.P50), latText(s.Count, s.P90), latText(s.Count, s.P99), latText(s.Count, s.P999), latText(s.Count, s.Max))

	c := charts{rep: rep, m: m, res: res}
	p.Spectrum = c.spectrum()
	p.LatencyTime, p.Throughput = c.timeline()
	p.Histogram = c.histogram()
	p.EndpointHistograms = c.endpointHistograms()
	p.Status = c.status()
	p.Agents = c.agents()

	for _, sh := range rep.Shards {
		row := shardRow{
			Shard: sh.Shard, Agent: sh.Agent, Requests: count(sh.Requests), Windows: count(sh.Windows),
			Done: "yes", Offset: plot.FormatMillis(sh.ClockOffsetMs), Reason: sh.StopReason,
		}
		if !sh.Done {
			row.Done = "no"
		}
		p.Shards = append(p.Shards, row)
	}
	for _, e := range rep.Events {
		p.Events = append(p.Events, eventRow{
			Offset: offsetText(e.At.Sub(rep.StartedAt)), At: clock(e.At), Kind: e.Kind, Message: e.Message,
		})
	}
	for _, e := range rep.Endpoints {
		if e.Valid+e.Mutated == 0 {
			continue
		}
		p.Operations = append(p.Operations, opRow{
			Name: e.Name, Valid: count(e.Valid), Mutated: count(e.Mutated),
			Reached: fmt.Sprintf("%s (%.0f%%)", count(e.Reached), pct(e.Reached, e.Valid)),
			Never:   e.Valid > 0 && e.Reached == 0,
		})
	}
	p.HasAPI = len(res.GetPlan().GetOpenapi().GetOperations()) > 0 || len(p.Operations) > 0
	for i, f := range rep.Findings {
		if i >= maxFindings {
			p.MoreFinds = len(rep.Findings) - maxFindings
			break
		}
		p.Findings = append(p.Findings, findingViewOf(f, rep.StartedAt))
	}
	return p, nil
}

func runMeta(rep *report.Report, res *pb.RunResult) []kv {
	scenario := rep.Scenario
	if rep.File != "" {
		scenario += " (" + rep.File + ")"
	}
	model := rep.Model + " model"
	if st := res.GetPlan().GetLoad().GetStages(); len(st) > 0 {
		model += " · " + stagesText(rep.Model, st)
	}
	out := []kv{
		{"Run", rep.RunID},
		{"Scenario", scenario},
		{"Target", rep.Target},
		{"Load", model},
		{"Agents", strconv.Itoa(rep.Agents)},
		{"Seed", strconv.FormatUint(rep.Seed, 10)},
	}
	if !rep.StartedAt.IsZero() && rep.StartedAt.Unix() > 0 {
		started := rep.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		if rep.EndedAt != nil {
			started += ", ended " + rep.EndedAt.UTC().Format("15:04:05")
		}
		out = append(out, kv{"Started", started})
	}
	out = append(out, kv{"Duration", "planned " + plot.FormatSeconds(rep.PlannedS) + ", measured " + plot.FormatSeconds(round1(rep.DurationS))})
	return out
}

// stagesText summarises the load stages: "100/s for 30s, 100→500/s for
// 1m" or "10 workers for 30s".
func stagesText(model string, stages []*pb.Stage) string {
	var parts []string
	for i, s := range stages {
		if i == 4 && len(stages) > 5 {
			parts = append(parts, fmt.Sprintf("… (%d stages)", len(stages)))
			break
		}
		d := plot.FormatSeconds(s.GetDuration().AsDuration().Seconds())
		switch {
		case model == "closed":
			parts = append(parts, fmt.Sprintf("%d workers for %s", s.GetConcurrency(), d))
		case s.GetFromRate() == s.GetToRate():
			parts = append(parts, fmt.Sprintf("%s/s for %s", plot.FormatNumber(s.GetFromRate()), d))
		default:
			parts = append(parts, fmt.Sprintf("%s→%s/s over %s", plot.FormatNumber(s.GetFromRate()), plot.FormatNumber(s.GetToRate()), d))
		}
	}
	return strings.Join(parts, ", ")
}

// precision states the histogram precision: "HdrHistogram, 3 significant
// digits, 1 µs to 1 h".
func precision(p report.Precision) string {
	return fmt.Sprintf("%s, %d significant digits, %s to %s",
		p.Histogram, p.SignificantDigits, spaced(plot.FormatMillis(p.LowestMs)), spaced(plot.FormatMillis(p.HighestMs)))
}

// spaced puts a space between a number and its unit: "1µs" → "1 µs".
func spaced(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' })
	if i <= 0 {
		return s
	}
	return s[:i] + " " + s[i:]
}

func summaryTiles(rep *report.Report) []tile {
	t := rep.Totals
	rate := tile{K: "rate", V: plot.FormatNumber(round1(t.RateRps)) + "/s"}
	if t.AskedRps > 0 {
		rate.Note = "asked " + plot.FormatNumber(round1(t.AskedRps)) + "/s"
	}
	l := rep.Latency
	return []tile{
		{K: "requests", V: count(t.Requests), Note: count(t.Responses) + " responses"},
		rate,
		{K: "errors", V: count(t.Errors), Note: percent(t.ErrorRate) + ", " + count(t.TransportErrors) + " transport", Bad: t.Errors > 0},
		{K: "dropped", V: count(t.Dropped), Note: "arrivals not sent", Bad: t.Dropped > 0},
		{K: "p50", V: latText(l.Count, l.P50), Note: "from intended start"},
		{K: "p90", V: latText(l.Count, l.P90)},
		{K: "p99", V: latText(l.Count, l.P99)},
		{K: "p99.9", V: latText(l.Count, l.P999)},
		{K: "max", V: latText(l.Count, l.Max)},
		{K: "received", V: bytesText(t.BytesIn), Note: bytesText(t.BytesOut) + " sent"},
	}
}

func endpointRowOf(e report.Endpoint) endpointRow {
	l := e.Latency
	return endpointRow{
		Name: e.Name, Method: e.Method, Path: e.Path,
		Requests: count(e.Requests), Rate: plot.FormatNumber(round1(e.RateRps)),
		P50: latText(l.Count, l.P50), P90: latText(l.Count, l.P90), P99: latText(l.Count, l.P99),
		P999: latText(l.Count, l.P999), Max: latText(l.Count, l.Max),
		Dropped: count(e.Dropped), Status: kvText(e.Status), Errors: kvText(e.Errors),
		ErrorRate: percent(endpointErrorRate(e)),
	}
}

func findingViewOf(f report.Finding, start time.Time) findingView {
	where := f.Operation
	if f.Method != "" {
		where = f.Method + " " + f.Path + " (" + f.Operation + ")"
	}
	class := f.CWE
	if f.OWASP != "" {
		class = strings.TrimPrefix(class+" · "+f.OWASP, " · ")
	}
	first := clock(f.FirstSeen)
	if !start.IsZero() {
		first += " (" + offsetText(f.FirstSeen.Sub(start)) + ")"
	}
	if f.LoadRPS > 0 {
		first += " at " + plot.FormatNumber(round1(f.LoadRPS)) + "/s"
	}
	v := findingView{
		ID: f.ID, Fingerprint: f.Fingerprint, Severity: f.Severity, Oracle: f.Oracle, Where: where,
		Count: count(f.Count), Mutation: f.Mutation, Detail: f.Detail, Evidence: f.Evidence,
		Class: class, FirstSeen: first, Status: f.Status,
	}
	switch {
	case len(f.Curl) > maxCurl:
		v.CurlNote = fmt.Sprintf("The reproducer is a %s-byte command: see \"curl\" in the JSON report (barrage report RUN --format json).", count(int64(len(f.Curl))))
	default:
		v.Curl = f.Curl
	}
	v.Request, v.RequestNote = excerpt(f.Request)
	v.Response, v.ResponseNote = excerpt(f.Response)
	return v
}

// excerpt cuts s to maxExcerpt bytes (on a rune boundary) and says so.
func excerpt(s string) (string, string) {
	if len(s) <= maxExcerpt {
		return s, ""
	}
	cut := maxExcerpt
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], fmt.Sprintf("first %s of %s bytes; the JSON report has all of it", count(int64(cut)), count(int64(len(s))))
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// latText formats a latency in ms, or "–" when nothing was measured.
func latText(n int64, v float64) string {
	if n == 0 {
		return "–"
	}
	return plot.FormatMillis(v)
}

func count(n int64) string { return plot.FormatCount(float64(n)) }

func percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return strconv.FormatFloat(100*f, 'f', 2, 64) + "%"
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func pct(a, b int64) float64 { return 100 * ratio(a, b) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return count(n) + " B"
	}
	f, u := float64(n)/unit, 0
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}
	for f >= unit && u < len(units)-1 {
		f /= unit
		u++
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + " " + units[u]
}

// kvText lists a count map sorted by key: "200:900 503:10", or "–".
func kvText(m map[string]int64) string {
	if len(m) == 0 {
		return "–"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+":"+count(m[k]))
	}
	return strings.Join(parts, " ")
}

// clock formats an instant as UTC time of day with milliseconds.
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }

// offsetText formats a time since the start: "+3.0s", "+1m5s", "-0.2s".
func offsetText(d time.Duration) string {
	s := d.Seconds()
	if math.Abs(s) < 60 {
		return fmt.Sprintf("%+.1fs", s)
	}
	out := plot.FormatSeconds(s)
	if s > 0 {
		return "+" + out
	}
	return out
}
