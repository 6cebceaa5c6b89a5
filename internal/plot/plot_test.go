package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// chart is what every chart type implements.
type chart interface{ Write(io.Writer) error }

func render(t *testing.T, c chart) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// svgInfo is what a parsed chart holds.
type svgInfo struct {
	root    map[string]string // attributes of the <svg> element
	series  []string          // data-series values, in order
	markers []string          // data-marker values
	titles  []string          // texts of <title> elements
	texts   []string          // texts of <text> elements (without nested titles)
	elems   map[string]int    // element counts by name
}

// parse checks that s is one well-formed XML element and collects what the
// tests look at.
func parse(t *testing.T, s string) svgInfo {
	t.Helper()
	info := svgInfo{root: map[string]string{}, elems: map[string]int{}}
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = true
	depth := 0
	var stack []string
	roots := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tk.Name.Local != "svg" {
					t.Fatalf("root element %q, want svg", tk.Name.Local)
				}
				for _, a := range tk.Attr {
					info.root[a.Name.Local] = a.Value
				}
			}
			info.elems[tk.Name.Local]++
			for _, a := range tk.Attr {
				switch a.Name.Local {
				case "data-series":
					info.series = append(info.series, a.Value)
				case "data-marker":
					info.markers = append(info.markers, a.Value)
				}
			}
			stack = append(stack, tk.Name.Local)
			depth++
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			depth--
		case xml.CharData:
			if len(stack) > 0 {
				switch stack[len(stack)-1] {
				case "title":
					info.titles = append(info.titles, string(tk))
				case "text":
					info.texts = append(info.texts, string(tk))
				}
			}
		}
	}
	if roots != 1 {
		t.Fatalf("%d root elements, want 1", roots)
	}
	if info.root["class"] != "plot" {
		t.Errorf("svg class = %q, want plot", info.root["class"])
	}
	if !strings.HasPrefix(s, `<svg class="plot" data-plot="`) {
		t.Errorf("svg does not start with class and data-plot: %.60s", s)
	}
	return info
}

func TestNice125(t *testing.T) {
	tests := []struct {
		v, ceil, floor float64
	}{
		{1, 1, 1}, {1.1, 2, 1}, {2, 2, 2}, {3, 5, 2}, {7, 10, 5}, {10, 10, 10},
		{0.003, 0.005, 0.002}, {950, 1000, 500}, {0.1, 0.1, 0.1}, {1e-3, 1e-3, 1e-3},
	}
	for _, tt := range tests {
		if got := nice125(tt.v); math.Abs(got-tt.ceil) > 1e-12*tt.ceil {
			t.Errorf("nice125(%v) = %v, want %v", tt.v, got, tt.ceil)
		}
		if got := floor125(tt.v); math.Abs(got-tt.floor) > 1e-12*tt.floor {
			t.Errorf("floor125(%v) = %v, want %v", tt.v, got, tt.floor)
		}
	}
}

func labels(ts []Tick) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Label)
	}
	return out
}

func TestAutomaticTicks(t *testing.T) {
	tests := []struct {
		name     string
		axis     Axis
		lo, hi   float64
		maxTicks int
		want     []string
	}{
		{"numbers from zero", Axis{}, 3, 97, 6, []string{"0", "20", "40", "60", "80", "100"}},
		{"thousands", Axis{}, 0, 2400, 6, []string{"0", "500", "1k", "1.5k", "2k", "2.5k"}},
		{"small numbers", Axis{}, 0, 0.7, 5, []string{"0", "0.2", "0.4", "0.6", "0.8"}},
		{"milliseconds below one", Axis{Unit: Millis}, 0, 0.9, 6, []string{"0", "200µs", "400µs", "600µs", "800µs", "1ms"}},
		{"milliseconds", Axis{Unit: Millis}, 0, 23, 6, []string{"0", "5ms", "10ms", "15ms", "20ms", "25ms"}},
		{"seconds of latency", Axis{Unit: Millis}, 0, 4200, 6, []string{"0", "1s", "2s", "3s", "4s", "5s"}},
		{"an hour of time", Axis{Unit: Seconds, Min: 0, Max: 3600}, 0, 3600, 8, []string{"0s", "10m", "20m", "30m", "40m", "50m", "1h"}},
		{"a minute of time", Axis{Unit: Seconds, Min: 0, Max: 90}, 0, 90, 8, []string{"0s", "15s", "30s", "45s", "1m", "1m15s", "1m30s"}},
		{"log latency, three decades", Axis{Unit: Millis, Log: true}, 0.8, 450, 6, []string{"1ms", "10ms", "100ms"}},
		{"log latency, one decade", Axis{Unit: Millis, Log: true}, 1.2, 8, 6, []string{"1ms", "2ms", "5ms", "10ms"}},
		{"explicit ticks are filtered", Axis{Min: 1, Max: 100, Log: true, Ticks: PercentileTicks(1e6)}, 0, 0, 6, []string{"0%", "90%", "99%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := tt.axis.resolve(tt.lo, tt.hi, tt.maxTicks)
			if !ok {
				t.Fatal("resolve failed")
			}
			if d := cmp.Diff(tt.want, labels(s.ticks)); d != "" {
				t.Errorf("ticks (-want +got):\n%s", d)
			}
			// Every tick lies inside the range.
			for _, tk := range s.ticks {
				v := tk.Value
				if s.log {
					v = math.Log10(v)
				}
				if v < s.lo-1e-9 || v > s.hi+1e-9 {
					t.Errorf("tick %v outside [%v, %v]", tk, s.lo, s.hi)
				}
			}
		})
	}
}

func TestAxisWithoutData(t *testing.T) {
	if _, ok := (Axis{}).resolve(math.Inf(1), math.Inf(-1), 5); ok {
		t.Error("an axis without data and range resolved")
	}
	if _, ok := (Axis{Log: true}).resolve(-5, 0, 5); ok {
		t.Error("a log axis with no positive data resolved")
	}
	// A fixed range needs no data; a log range must be positive.
	if _, ok := (Axis{Min: 0, Max: 10}).resolve(math.Inf(1), math.Inf(-1), 5); !ok {
		t.Error("a fixed range did not resolve")
	}
	s, ok := (Axis{}).resolve(0, 0, 5)
	if !ok || s.hi <= s.lo {
		t.Errorf("all-zero data: range [%v, %v] ok=%v", s.lo, s.hi, ok)
	}
}

func TestScaleMapping(t *testing.T) {
	lg, _ := (Axis{Log: true, Min: 1, Max: 1000}).resolve(0, 0, 5)
	lg.p0, lg.p1 = 100, 400
	lin, _ := (Axis{Min: 0, Max: 1000}).resolve(0, 0, 5)
	lin.p0, lin.p1 = 100, 400
	tests := []struct {
		name string
		s    *scale
		v    float64
		want float64
		ok   bool
	}{
		{"log bottom", &lg, 1, 100, true},
		{"log decade", &lg, 10, 200, true},
		{"log two decades", &lg, 100, 300, true},
		{"log top", &lg, 1000, 400, true},
		{"log above clamps", &lg, 1e6, 400, true},
		{"log zero is not drawn", &lg, 0, 0, false},
		{"log negative is not drawn", &lg, -1, 0, false},
		{"linear middle", &lin, 500, 250, true},
		{"linear below clamps", &lin, -10, 100, true},
		{"NaN is not drawn", &lin, math.NaN(), 0, false},
		{"Inf is not drawn", &lin, math.Inf(1), 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.s.pos(tt.v)
		if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-9) {
			t.Errorf("%s: pos(%v) = %v, %v; want %v, %v", tt.name, tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{FormatMillis(0), "0"},
		{FormatMillis(0.001), "1µs"},
		{FormatMillis(0.25), "250µs"},
		{FormatMillis(1.5), "1.5ms"},
		{FormatMillis(12.345), "12.35ms"},
		{FormatMillis(250), "250ms"},
		{FormatMillis(1500), "1.5s"},
		{FormatMillis(90_000), "1.5m"},
		{FormatMillis(3_600_000), "1h"},
		{FormatSeconds(0), "0s"},
		{FormatSeconds(0.5), "0.5s"},
		{FormatSeconds(45), "45s"},
		{FormatSeconds(90), "1m30s"},
		{FormatSeconds(3600), "1h"},
		{FormatSeconds(3900), "1h5m"},
		{FormatSeconds(-30), "-30s"},
		{FormatNumber(0), "0"},
		{FormatNumber(12.5), "12.5"},
		{FormatNumber(1234), "1234"},
		{FormatNumber(1500), "1.5k"},
		{FormatNumber(25_000), "25k"},
		{FormatNumber(2_500_000), "2.5M"},
		{FormatNumber(0.30000000000000004), "0.3"},
		{FormatNumber(math.NaN()), "–"},
		{FormatCount(1234567), "1,234,567"},
		{FormatCount(-1000), "-1,000"},
		{FormatCount(999), "999"},
		{PercentLabel(0), "0%"},
		{PercentLabel(0.5), "50%"},
		{PercentLabel(0.875), "87.5%"},
		{PercentLabel(0.9), "90%"},
		{PercentLabel(0.999), "99.9%"},
		{PercentLabel(0.99999), "99.999%"},
		{PercentLabel(1), "100%"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestPercentileTicks(t *testing.T) {
	got := labels(PercentileTicks(2500))
	want := []string{"0%", "90%", "99%", "99.9%", "99.99%"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if x := PercentileX(0.99); math.Abs(x-100) > 1e-9 {
		t.Errorf("PercentileX(0.99) = %v", x)
	}
	if !math.IsInf(PercentileX(1), 1) {
		t.Error("PercentileX(1) is not +Inf")
	}
}

func TestCoordinates(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {12.34, "12.3"}, {12.35, "12.4"}, {3, "3"}, {-0.04, "0"}, {-2.5, "-2.5"}, {math.NaN(), "0"},
	}
	for _, tt := range tests {
		if got := string(appendCoord(nil, tt.v)); got != tt.want {
			t.Errorf("appendCoord(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	got := Escape("<script>alert('x')</script> & \"q\" \x00\x1b\xff ok\tµ")
	want := "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;q&#34; \uFFFD\uFFFD\uFFFD ok\tµ"
	if got != want {
		t.Errorf("Escape = %q, want %q", got, want)
	}
}

// emptyCharts are charts without anything to draw.
func emptyCharts() map[string]chart {
	return map[string]chart{
		"line-nil":        &LineChart{Name: "a"},
		"line-empty":      &LineChart{Name: "a", Series: []Series{{Name: "s"}}},
		"line-nan":        &LineChart{Name: "a", Series: []Series{{Name: "s", Points: []Point{{X: math.NaN(), Y: 1}, {X: 1, Y: math.Inf(1)}}}}},
		"line-log-zero":   &LineChart{Name: "a", Y: Axis{Log: true}, Series: []Series{{Name: "s", Points: []Point{{X: 1, Y: 0}, {X: 2, Y: -1}}}}},
		"histogram-nil":   &HistogramChart{Name: "a"},
		"histogram-zero":  &HistogramChart{Name: "a", Series: []BinSeries{{Name: "s", Bins: []Bin{{Lo: 1, Hi: 2}}}}},
		"histogram-bad":   &HistogramChart{Name: "a", Series: []BinSeries{{Name: "s", Bins: []Bin{{Lo: 2, Hi: 1, Count: 4}}}}},
		"hbar-nil":        &HBarChart{Name: "a"},
		"hbar-no-values":  &HBarChart{Name: "a", Labels: []string{"x"}, Series: []BarSeries{{Name: "s"}}},
		"hbar-negative":   &HBarChart{Name: "a", Labels: []string{"x"}, Series: []BarSeries{{Name: "s", Values: []float64{-3}}}},
		"hbar-no-series":  &HBarChart{Name: "a", Labels: []string{"x"}},
		"hbar-nan-values": &HBarChart{Name: "a", Labels: []string{"x"}, Series: []BarSeries{{Name: "s", Values: []float64{math.NaN()}}}},
	}
}

func TestEmptyInputSaysNoData(t *testing.T) {
	for name, c := range emptyCharts() {
		t.Run(name, func(t *testing.T) {
			s := render(t, c)
			info := parse(t, s)
			if info.root["data-plot"] != "a" {
				t.Errorf("data-plot = %q", info.root["data-plot"])
			}
			if len(info.series) != 0 {
				t.Errorf("series %v in an empty chart", info.series)
			}
			if !slicesContain(info.texts, "no data") {
				t.Errorf("no \"no data\" text: %s", s)
			}
		})
	}
}

func slicesContain(ss []string, want string) bool {
	for _, s := range ss {
		if s == want {
			return true
		}
	}
	return false
}

// lineFixture is a small chart with hostile names, gaps and markers.
func lineFixture() *LineChart {
	return &LineChart{
		Name: "latency", Title: "Latency <over> time", Attrs: []Attr{{"data-endpoint", `"><script>`}, {"onload", "x"}, {"Bad Name", "y"}},
		X: Axis{Label: "time", Unit: Seconds, Min: 0, Max: 60},
		Y: Axis{Label: "latency", Unit: Millis, Log: true},
		Series: []Series{
			{Name: "p50", Points: []Point{{X: 0, Y: 1}, {X: 10, Y: 1.2}, {X: 20, Y: math.NaN()}, {X: 30, Y: 0.9}, {X: 40, Y: 1.1}}},
			{Name: "p99 <b>", Points: []Point{{X: 0, Y: 10}, {X: 10, Y: 30}, {X: 30, Y: 12}, {X: 40, Y: 0}, {X: 50, Y: 11}}},
			{Name: "max", Dashed: true, Points: []Point{{X: 0, Y: 50, Title: "0s: 50ms"}, {X: 10, Y: 900, Title: "10s: 900ms"}}},
		},
		Markers: []Marker{{X: 20, Label: "stage 2", Kind: "stage"}, {X: 35, Label: "agent lost", Title: "agent b lost", Kind: "agent-lost", Event: true}, {X: 999, Label: "beyond"}},
	}
}

func TestLineChart(t *testing.T) {
	c := lineFixture()
	s := render(t, c)
	info := parse(t, s)
	if d := cmp.Diff([]string{"p50", "p99 <b>", "max"}, info.series); d != "" {
		t.Errorf("series (-want +got):\n%s", d)
	}
	if info.root["data-endpoint"] != `"><script>` || info.root["onload"] != "" || info.root["aria-label"] != "Latency <over> time" {
		t.Errorf("root attributes = %v", info.root)
	}
	// A marker beyond the x range is not drawn.
	if d := cmp.Diff([]string{"stage", "agent-lost"}, info.markers); d != "" {
		t.Errorf("markers (-want +got):\n%s", d)
	}
	if info.elems["circle"] != 2 {
		t.Errorf("%d dots, want 2 (one per titled point)", info.elems["circle"])
	}
	for _, want := range []string{"10s: 900ms", "agent b lost", "p99 <b>"} {
		if !slicesContain(info.titles, want) {
			t.Errorf("no title %q in %v", want, info.titles)
		}
	}
	if !slicesContain(info.texts, "agent lost") || slicesContain(info.titles, "agent lost") {
		t.Errorf("a marker's label is not its text or its title is not its tooltip: texts %v", info.texts)
	}
	if slicesContain(info.titles, "beyond") {
		t.Error("a marker outside the x range was drawn")
	}
	// The p50 line breaks at the NaN, the p99 line at the zero (log axis).
	if n := strings.Count(pathOf(t, s, "p50"), "M"); n != 2 {
		t.Errorf("p50 path has %d subpaths, want 2", n)
	}
	if p := pathOf(t, s, "p99 &lt;b&gt;"); strings.Count(p, "M") != 2 || !strings.HasSuffix(p, "h0") {
		t.Errorf("p99 path %q: want 2 subpaths, the last a lone point drawn as a dot", p)
	}
	if strings.Contains(s, "<script>") || strings.Contains(s, "<b>") {
		t.Error("unescaped markup in the chart")
	}
	if again := render(t, c); again != s {
		t.Error("two renderings of the same chart differ")
	}
	golden(t, "line.svg", s)
}

// pathOf returns the d attribute of the named series' path.
func pathOf(t *testing.T, s, series string) string {
	t.Helper()
	i := strings.Index(s, `data-series="`+series+`"`)
	if i < 0 {
		t.Fatalf("no series %q", series)
	}
	j := strings.Index(s[i:], ` d="`)
	k := strings.Index(s[i+j+4:], `"`)
	return s[i+j+4 : i+j+4+k]
}

func TestHistogramChart(t *testing.T) {
	c := &HistogramChart{
		Name: "histogram", X: Axis{Label: "latency", Unit: Millis, Log: true}, Y: Axis{Label: "requests"},
		Series: []BinSeries{{Name: "requests", Bins: []Bin{
			{Lo: 1, Hi: 1.58, Count: 10}, {Lo: 1.58, Hi: 2.51, Count: 0}, {Lo: 2.51, Hi: 3.98, Count: 1234}, {Lo: 3.98, Hi: 6.31, Count: 1},
		}}},
	}
	s := render(t, c)
	info := parse(t, s)
	if d := cmp.Diff([]string{"requests"}, info.series); d != "" {
		t.Errorf("series (-want +got):\n%s", d)
	}
	if info.elems["rect"] != 3 {
		t.Errorf("%d bars, want 3 (empty bins draw nothing)", info.elems["rect"])
	}
	if !slicesContain(info.titles, "2.51ms–3.98ms: 1,234") {
		t.Errorf("bar titles = %v", info.titles)
	}
	// A bin of 1 next to one of 1234 is still visible.
	if strings.Contains(s, `height="0"`) {
		t.Error("a non-empty bar has zero height")
	}
	two := *c
	two.Series = append(two.Series, BinSeries{Name: "candidate", Bins: []Bin{{Lo: 1, Hi: 1.58, Count: 3}}})
	info = parse(t, render(t, &two))
	if len(info.series) != 2 || !slicesContain(info.texts, "candidate") {
		t.Errorf("overlay: series %v, texts %v; want two series and a legend", info.series, info.texts)
	}
}

func TestHBarChart(t *testing.T) {
	long := strings.Repeat("very-long-agent-name-", 4)
	c := &HBarChart{
		Name: "agents", Labels: []string{"a", long, "<c>"},
		Series: []BarSeries{{Name: "requests", Values: []float64{300, 100}, Colors: []string{"", "#ff0000"}}},
	}
	s := render(t, c)
	info := parse(t, s)
	if d := cmp.Diff([]string{"requests"}, info.series); d != "" {
		t.Errorf("series (-want +got):\n%s", d)
	}
	if info.elems["rect"] != 3 {
		t.Errorf("%d bars, want 3", info.elems["rect"])
	}
	for _, want := range []string{"a: 300 (75%)", long + ": 100 (25%)", "<c>: 0 (0%)", long} {
		if !slicesContain(info.titles, want) {
			t.Errorf("no title %q in %v", want, info.titles)
		}
	}
	if !strings.Contains(s, `fill="#ff0000"`) {
		t.Error("per-bar colour not applied")
	}
	grouped := *c
	grouped.Series = append(grouped.Series, BarSeries{Name: "errors", Values: []float64{1, 2, 3}})
	info = parse(t, render(t, &grouped))
	if len(info.series) != 2 || info.elems["rect"] != 6+2 { // 6 bars and 2 legend boxes
		t.Errorf("grouped: series %v, %d rects", info.series, info.elems["rect"])
	}
}

// TestOddInputNeverPanics feeds charts values at the edges of float64.
func TestOddInputNeverPanics(t *testing.T) {
	odd := []float64{0, -1, 1e-300, 1e300, math.MaxFloat64, -math.MaxFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 5e-324}
	for i, a := range odd {
		for j, b := range odd {
			pts := []Point{{X: a, Y: b}, {X: b, Y: a}, {X: 1, Y: 1}}
			for _, log := range []bool{false, true} {
				lc := &LineChart{Name: "odd", X: Axis{Log: log}, Y: Axis{Log: log, Unit: Millis}, Series: []Series{{Name: "s", Points: pts}},
					Markers: []Marker{{X: a, Label: "m"}}}
				parse(t, render(t, lc))
				hc := &HistogramChart{Name: "odd", X: Axis{Log: log}, Series: []BinSeries{{Name: "s", Bins: []Bin{{Lo: a, Hi: b, Count: 1}, {Lo: 1, Hi: 2, Count: a}}}}}
				parse(t, render(t, hc))
			}
			bc := &HBarChart{Name: "odd", Labels: []string{"x", "y"}, Series: []BarSeries{{Name: "s", Values: []float64{a, b}}}}
			parse(t, render(t, bc))
			_ = i + j
		}
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plot -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}
