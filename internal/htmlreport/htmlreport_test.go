package htmlreport

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	stdhtml "html"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/htmlreport -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept and review the diff)", name)
	}
}

func page(t *testing.T, res *pb.RunResult, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, res, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func renderCompare(t *testing.T, base, cand *pb.RunResult) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCompare(&b, base, cand, Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestGoldenRun(t *testing.T) {
	res := fixture(t, fixtureOptions{})
	got := page(t, res, Options{})
	golden(t, "run.html", []byte(got))
	if again := page(t, res, Options{}); again != got {
		t.Error("two renderings of the same run differ")
	}
}

func TestGoldenCompare(t *testing.T) {
	base := fixture(t, fixtureOptions{})
	cand := fixture(t, fixtureOptions{runID: "20261128-100000-beef00", slow: 1.6, listName: "search"})
	golden(t, "compare.html", []byte(renderCompare(t, base, cand)))
}

// plotInfo is what one parsed <svg> holds.
type plotInfo struct {
	name     string
	attrs    map[string]string
	series   []string
	markers  []string
	noData   bool
	elements int
}

var svgRE = regexp.MustCompile(`(?s)<svg\b.*?</svg>`)

// plots parses every chart of a page as XML on its own.
func plots(t *testing.T, html string) []plotInfo {
	t.Helper()
	var out []plotInfo
	for _, s := range svgRE.FindAllString(html, -1) {
		p := plotInfo{attrs: map[string]string{}}
		d := xml.NewDecoder(strings.NewReader(s))
		d.Strict = true
		depth := 0
		for {
			tok, err := d.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("chart is not well-formed XML: %v\n%.300s", err, s)
			}
			switch tk := tok.(type) {
			case xml.StartElement:
				p.elements++
				for _, a := range tk.Attr {
					if depth == 0 {
						p.attrs[a.Name.Local] = a.Value
					}
					switch {
					case a.Name.Local == "data-series":
						p.series = append(p.series, a.Value)
					case a.Name.Local == "data-marker":
						p.markers = append(p.markers, a.Value)
					case a.Name.Local == "class" && a.Value == "no-data":
						p.noData = true
					}
				}
				depth++
			case xml.EndElement:
				depth--
			}
		}
		p.name = p.attrs["data-plot"]
		if p.attrs["class"] != "plot" || p.name == "" {
			t.Errorf("svg without class=plot and data-plot: %.120s", s)
		}
		out = append(out, p)
	}
	return out
}

func TestChartsAndSeries(t *testing.T) {
	html := page(t, fixture(t, fixtureOptions{}), Options{})
	got := map[string][][]string{}
	markers := map[string][]string{}
	for _, p := range plots(t, html) {
		got[p.name] = append(got[p.name], p.series)
		markers[p.name] = append(markers[p.name], p.markers...)
		if p.noData {
			t.Errorf("chart %s says no data", p.name)
		}
	}
	one := []string{"responses"}
	want := map[string][][]string{
		"spectrum":           {{"corrected", "uncorrected"}},
		"latency-over-time":  {{"p50", "p99", "max"}},
		"throughput":         {{"requests/s", "asked/s", "errors/s", "dropped/s"}},
		"histogram":          {one},
		"endpoint-histogram": {one, one, one},
		"status":             {{"requests"}},
		"agents":             {{"requests"}},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("charts and their series (-want +got):\n%s", d)
	}
	// One stage boundary (at 10 s) and the lost agent; the clock-offset
	// event is listed, not marked.
	if d := cmp.Diff([]string{"stage", "agent-lost"}, markers["throughput"]); d != "" {
		t.Errorf("throughput markers (-want +got):\n%s", d)
	}
	for _, want := range []string{`data-endpoint="list"`, `data-endpoint="order"`, `data-endpoint="createOrder"`} {
		if !strings.Contains(html, want) {
			t.Errorf("no endpoint histogram with %s", want)
		}
	}
}

func TestPageContent(t *testing.T) {
	res := fixture(t, fixtureOptions{})
	html := stdhtml.UnescapeString(page(t, res, Options{}))
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<title>Barrage run 20261127-100000-c0ffee</title>",
		"HdrHistogram, 3 significant digits, 1 µs to 1 h",
		"checkout (checkout.yaml)",
		"http://127.0.0.1:18080",
		"open model · 100/s for 10s, 100→200/s over 10s",
		"planned 20s, measured 20s",
		"2026-11-27 10:00:00 UTC",
		`<span class="state state-completed">completed</span>`,
		// Summary numbers agree with the report.
		`<div class="v">` + count(rep.Totals.Requests) + `</div>`,
		`<div class="v">` + count(rep.Totals.Dropped) + `</div>`,
		// The lost agent and the clock offset are listed.
		"agent agent-b (shard 1) disconnected", "+13.5s", "clock-offset",
		// Thresholds: a clear place, none defined.
		`<section id="thresholds" data-thresholds="0">`, "No thresholds are defined",
		// Findings: both, most severe first, with reproducers and a copy button.
		`<section id="findings" data-findings="2">`,
		`<span class="sev sev-high">high</span> information-leak`,
		`<span class="sev sev-medium">medium</span> server-error · POST /orders (createOrder) · 3×`,
		`<pre class="curl">curl -i http://127.0.0.1:18080/orders`,
		`<button type="button" class="copy"`,
		"CWE-209 · A05:2021",
		// The operations table.
		"<td>createOrder</td>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if i, j := strings.Index(html, "information-leak"), strings.Index(html, "server-error ·"); i > j {
		t.Error("findings are not most severe first")
	}
	// Every endpoint has a row.
	for _, e := range rep.Endpoints {
		if !strings.Contains(html, "<tr><td>"+e.Name+"</td>") {
			t.Errorf("no table row for endpoint %s", e.Name)
		}
	}
}

// TestSelfContained checks that nothing on the page refers outside it: the
// only URLs are the SVG namespace and the run's own target.
func TestSelfContained(t *testing.T) {
	res := fixture(t, fixtureOptions{})
	for name, html := range map[string]string{
		"run":     page(t, res, Options{}),
		"compare": renderCompare(t, res, res),
	} {
		rest := strings.ReplaceAll(html, `xmlns="http://www.w3.org/2000/svg"`, "")
		rest = strings.ReplaceAll(rest, res.GetPlan().GetTarget().GetBaseUrl(), "")
		for _, bad := range []string{"http://", "https://", "//cdn", " src=", " href=", "<link", "@import", "url(", "<iframe", "<object", "<embed"} {
			if strings.Contains(rest, bad) {
				t.Errorf("%s page contains %q", name, bad)
			}
		}
		if !strings.Contains(html, `Content-Security-Policy" content="default-src 'none'`) {
			t.Errorf("%s page lacks its content security policy", name)
		}
		if n := strings.Count(html, "<script"); n != 0 {
			t.Errorf("%s page has %d <script> elements; the copy buttons need none", name, n)
		}
	}
}

func TestHostileStringsAreEscaped(t *testing.T) {
	res := fixture(t, fixtureOptions{hostile: true})
	res.Status.Message = "stopped: " + hostile
	res.Events = append(res.Events, &pb.RunEvent{At: res.GetStatus().GetStartAt(), Kind: "window-rejected" + hostile, Message: hostile})
	res.Findings[0].Evidence = hostile
	for name, html := range map[string]string{
		"run":     page(t, res, Options{Title: hostile}),
		"compare": renderCompare(t, res, res),
	} {
		for _, bad := range []string{"<script", "<img", "\x00", "\x1b"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s page contains %q", name, bad)
			}
		}
		if !strings.Contains(html, "&lt;script&gt;") {
			t.Errorf("%s page does not show the hostile text escaped", name)
		}
		plots(t, html) // every chart still parses
	}
}

func TestBodyIsThePagesMain(t *testing.T) {
	res := fixture(t, fixtureOptions{})
	var body bytes.Buffer
	if err := WriteBody(&body, res, Options{Live: true}); err != nil {
		t.Fatal(err)
	}
	b := body.String()
	if !strings.HasPrefix(b, `<main class="barrage barrage-run"`) || !strings.HasSuffix(b, "</main>\n") {
		t.Errorf("body is not one <main> element: %.80s … %s", b, b[max(0, len(b)-20):])
	}
	for _, bad := range []string{"<html", "<head>", "<style", "<body", "<!DOCTYPE"} {
		if strings.Contains(b, bad) {
			t.Errorf("body contains %q", bad)
		}
	}
	if !strings.Contains(b, `data-live="true"`) || !strings.Contains(b, "Live view") {
		t.Error("a live body does not say it is live")
	}
	// The page is the same main, wrapped, with the style inlined.
	var full bytes.Buffer
	if err := WriteBody(&full, res, Options{}); err != nil {
		t.Fatal(err)
	}
	html := page(t, res, Options{})
	if !strings.Contains(html, full.String()) {
		t.Error("the page does not contain the body verbatim")
	}
	if !strings.Contains(html, Style()) {
		t.Error("the page does not inline Style()")
	}
	if !strings.HasPrefix(Style(), ".barrage{") {
		t.Errorf("style rules are not scoped to .barrage: %.40s", Style())
	}
}

func TestEmptyResults(t *testing.T) {
	for name, res := range map[string]*pb.RunResult{
		"nil":   nil,
		"empty": {},
		"no windows yet": {
			Status: &pb.RunStatus{RunId: "r1", State: pb.RunState_RUN_STATE_RUNNING},
			Plan:   &pb.Plan{Name: "x", Requests: []*pb.RequestTemplate{{Name: "a", Method: "GET", Path: "/"}}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			html := page(t, res, Options{Live: true})
			ps := plots(t, html)
			if len(ps) == 0 {
				t.Fatal("no charts at all")
			}
			for _, p := range ps {
				if !p.noData || len(p.series) != 0 {
					t.Errorf("chart %s: noData=%v series=%v; want a no-data chart", p.name, p.noData, p.series)
				}
			}
			var b bytes.Buffer
			if err := WriteCompare(&b, res, res, Options{}); err != nil {
				t.Fatal(err)
			}
			plots(t, b.String())
		})
	}
}

func TestCorruptHistogramWritesNothing(t *testing.T) {
	res := fixture(t, fixtureOptions{})
	res.Endpoints[0].Histograms[0].Latency = []byte("not a histogram")
	var b bytes.Buffer
	if err := Write(&b, res, Options{}); err == nil {
		t.Error("Write accepted a corrupt histogram")
	}
	if err := WriteCompare(&b, fixture(t, fixtureOptions{}), res, Options{}); err == nil {
		t.Error("WriteCompare accepted a corrupt histogram")
	}
	if b.Len() != 0 {
		t.Errorf("%d bytes written despite the error", b.Len())
	}
}

func TestCompare(t *testing.T) {
	base := fixture(t, fixtureOptions{})
	cand := fixture(t, fixtureOptions{runID: "20261128-100000-beef00", slow: 1.6, listName: "search"})
	html := renderCompare(t, base, cand)
	got := map[string][]string{}
	for _, p := range plots(t, html) {
		got[p.name] = p.series
	}
	want := map[string][]string{
		"compare-spectrum":  {"baseline", "candidate"},
		"compare-histogram": {"baseline", "candidate"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("charts (-want +got):\n%s", d)
	}
	// The candidate's orders are 1.6 times slower: worse in red, in the
	// whole-run p90 and in the order row; p50 (the list endpoint's) holds.
	if !strings.Contains(html, `<tr class="delta worse" data-metric="p90">`) {
		t.Error("the p90 delta is not marked worse")
	}
	if !strings.Contains(html, `<tr class="delta" data-metric="p50">`) {
		t.Error("the unchanged p50 is marked")
	}
	row := regexp.MustCompile(`(?s)<tr><td>order</td>(.*?)</tr>`).FindStringSubmatch(html)
	if row == nil {
		t.Fatal("no delta row for the common endpoint order")
	}
	if !strings.Contains(row[1], `<td class="n worse">`) {
		t.Errorf("order's latency deltas are not worse: %s", row[1])
	}
	if strings.Contains(html, "<tr><td>list</td>") || strings.Contains(html, "<tr><td>search</td>") {
		t.Error("an endpoint present in only one run has a delta row")
	}
	for _, want := range []string{"Only in the baseline: list.", "Only in the candidate: search.", "20261128-100000-beef00"} {
		if !strings.Contains(html, want) {
			t.Errorf("compare page lacks %q", want)
		}
	}
	// A run compared with itself has no worse and no better cell.
	self := renderCompare(t, base, base)
	if strings.Contains(self, "worse") && strings.Contains(self, `class="n worse"`) || strings.Contains(self, "delta better") || strings.Contains(self, "delta worse") {
		t.Error("a run compared with itself shows changes")
	}
}

func TestJudge(t *testing.T) {
	tests := []struct {
		name          string
		b, c          float64
		lowerIsBetter bool
		want          string
	}{
		{"slower", 10, 12, true, "worse"},
		{"faster", 10, 8, true, "better"},
		{"noise", 10, 10.05, true, ""},
		{"same", 0, 0, true, ""},
		{"errors appear", 0, 0.01, true, "worse"},
		{"rate drops", 100, 80, false, "worse"},
		{"rate rises", 100, 120, false, "better"},
		{"NaN", math.NaN(), 1, true, ""},
	}
	for _, tt := range tests {
		if got := judge(tt.b, tt.c, tt.lowerIsBetter); got != tt.want {
			t.Errorf("%s: judge(%v, %v) = %q, want %q", tt.name, tt.b, tt.c, got, tt.want)
		}
	}
	if got := relText(0, 5); got != "new" {
		t.Errorf("relText(0, 5) = %q", got)
	}
	if got := relText(10, 12.5); got != "+25.0%" {
		t.Errorf("relText(10, 12.5) = %q", got)
	}
}

func points(n int, f func(i int) report.Point) []report.Point {
	out := make([]report.Point, n)
	for i := range out {
		out[i] = f(i)
		out[i].Seq, out[i].OffsetS, out[i].LengthS = int64(i), float64(i), 1
	}
	return out
}

func TestTimeSeriesDownsampling(t *testing.T) {
	pts := points(3600, func(i int) report.Point {
		p := report.Point{Requests: 100, P50Ms: 1, P99Ms: 5, MaxMs: 10, AskedRps: 100}
		if i == 1234 {
			p.Errors, p.MaxMs, p.P99Ms = 77, 2500, 900
		}
		return p
	})
	ts := timeSeries(pts, 600)
	if len(ts) != 600 {
		t.Fatalf("%d points, want 600", len(ts))
	}
	var maxErr, maxMax, maxP99 float64
	for _, p := range ts {
		maxErr, maxMax, maxP99 = max(maxErr, p.errs), max(maxMax, p.max), max(maxP99, p.p99)
		if p.rate != 100 || p.p50 != 1 || p.asked != 100 {
			t.Fatalf("point %+v: rate, p50 and asked should stay the windows' means", p)
		}
	}
	if maxErr != 77 || maxMax != 2500 || maxP99 != 900 {
		t.Errorf("spike lost: errors/s %v, max %v, p99 %v", maxErr, maxMax, maxP99)
	}
	// A missing stretch of windows breaks the lines; a short run is kept
	// window by window.
	gappy := append(points(5, func(i int) report.Point { return report.Point{Requests: int64(min(i, 1)) * 10, P50Ms: 1} }),
		report.Point{Seq: 9, OffsetS: 9, LengthS: 1, Requests: 10})
	ts = timeSeries(gappy, 600)
	if len(ts) != 6 || !ts[5].gap || ts[4].gap {
		t.Errorf("gap not marked: %+v", ts)
	}
	if !math.IsNaN(ts[0].p50) {
		t.Errorf("p50 of a window without requests = %v, want NaN (not drawn)", ts[0].p50)
	}
}

// TestOneHourBudget checks the size budget of a one-hour, 50-endpoint run
// and that its time series stay downsampled.
func TestOneHourBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a one-hour run")
	}
	res := oneHour(t, 3600, 50)
	began := time.Now()
	html := page(t, res, Options{})
	took := time.Since(began)
	if len(html) > 5<<20 {
		t.Errorf("page is %d bytes, budget 5 MiB", len(html))
	}
	for _, p := range plots(t, html) {
		switch p.name {
		case "latency-over-time", "throughput":
			if p.noData {
				t.Errorf("%s has no data", p.name)
			}
		}
	}
	for _, m := range regexp.MustCompile(`data-series="[^"]*"><path[^>]* d="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if n := strings.Count(m[1], "L") + strings.Count(m[1], "M"); n > 650 {
			t.Errorf("a line has %d points, want at most about 600", n)
		}
	}
	// The budget is 2 s; the race detector slows rendering several times,
	// so only plain builds are held to it.
	if !raceEnabled && took > 2*time.Second {
		t.Errorf("rendering took %v, budget 2s", took)
	}
	t.Logf("one hour, 50 endpoints: %d bytes in %v", len(html), took)
}

func BenchmarkWriteOneHour50Endpoints(b *testing.B) {
	res := oneHour(b, 3600, 50)
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, res, Options{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// TestThroughputLeavesOutTheTail: the final window after the planned end
// holds only late answers; the throughput chart must not draw it as a
// collapse of the load, while the latency chart keeps its latencies.
func TestThroughputLeavesOutTheTail(t *testing.T) {
	rep := &report.Report{Model: "open", PlannedS: 3, DurationS: 3.05, Timeline: []report.Point{
		{Seq: 0, OffsetS: 0, LengthS: 1, Requests: 80, RateRps: 80, P50Ms: 1, P99Ms: 2, MaxMs: 3},
		{Seq: 1, OffsetS: 1, LengthS: 1, Requests: 80, RateRps: 80, P50Ms: 1, P99Ms: 2, MaxMs: 3},
		{Seq: 2, OffsetS: 2, LengthS: 1, Requests: 80, RateRps: 80, P50Ms: 1, P99Ms: 2, MaxMs: 3},
		{Seq: 3, OffsetS: 3, LengthS: 0.05, Requests: 1, RateRps: 20, P50Ms: 9, P99Ms: 9, MaxMs: 9},
	}}
	c := &charts{rep: rep, res: &pb.RunResult{}}
	lat, thr := c.timeline()
	// pts counts the vertices of a series' path.
	pts := func(svg, series string) int {
		i := strings.Index(svg, `data-series="`+series+`"`)
		if i < 0 {
			t.Fatalf("no series %s", series)
		}
		rest := svg[i:]
		j := strings.Index(rest, ` d="`)
		if j < 0 {
			t.Fatalf("series %s has no path", series)
		}
		d := rest[j+4:]
		d = d[:strings.Index(d, `"`)]
		return strings.Count(d, "M") + strings.Count(d, "L")
	}
	if got := pts(string(thr), "requests/s"); got != 3 {
		t.Errorf("throughput draws %d points, want 3 (the tail left out)", got)
	}
	if got := pts(string(lat), "max"); got != 4 {
		t.Errorf("latency draws %d points, want 4 (the tail kept)", got)
	}
}
