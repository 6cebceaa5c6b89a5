package plot

import (
	"io"
	"math"
	"strconv"
	"strings"
)

// Bin is one bar of a histogram: Count observations fell in [Lo, Hi).
type Bin struct {
	Lo, Hi, Count float64
}

// BinSeries is one set of bins; several are drawn overlaid, translucent.
type BinSeries struct {
	// Name is shown in the legend (when there are several series) and
	// written as data-series.
	Name string
	Bins []Bin
	// Color is a CSS colour; empty means the i-th default colour.
	Color string
}

// HistogramChart draws bins with explicit edges as vertical bars, e.g.
// log-scale latency buckets on a Log Millis x axis with counts on y. Each
// bar has a tooltip with its range and count; empty bins draw nothing.
type HistogramChart struct {
	// Name is written as data-plot.
	Name string
	// Title is the chart's accessible label (aria-label).
	Title string
	// Attrs are extra attributes of the <svg> element.
	Attrs []Attr
	// Width and Height in px; zero means 720 × 280.
	Width, Height int
	X, Y          Axis
	Series        []BinSeries
}

// Write writes the chart as one <svg> element.
func (c *HistogramChart) Write(out io.Writer) error {
	dx0, dx1 := math.Inf(1), math.Inf(-1)
	dy1 := math.Inf(-1)
	for _, s := range c.Series {
		for _, b := range s.Bins {
			if !finite(b.Lo) || !finite(b.Hi) || !finite(b.Count) || b.Hi <= b.Lo || (c.X.Log && b.Lo <= 0) {
				continue
			}
			dx0, dx1 = min(dx0, b.Lo), max(dx1, b.Hi)
			dy1 = max(dy1, b.Count)
		}
	}
	width := c.Width
	if width <= 0 {
		width = 720
	}
	if dx0 > dx1 || dy1 <= 0 {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	ys, ok := c.Y.resolve(min(0, dy1), dy1, 5)
	if !ok {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	xs, ok := c.X.resolve(dx0, dx1, max(3, width/60))
	if !ok {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	var items []legendItem
	if len(c.Series) > 1 {
		for i, s := range c.Series {
			items = append(items, legendItem{name: s.Name, color: seriesColor(s.Color, i), box: true})
		}
	}
	f := newFrame(width, c.Height, 0, ys.ticks, c.Y.Label != "")
	lx, lrows, nrows := legendRows(items, f.left, f.right-f.left)
	f = newFrame(width, c.Height, nrows, ys.ticks, c.Y.Label != "")
	xs.p0, xs.p1 = f.left, f.right
	ys.p0, ys.p1 = f.bott, f.top

	var w buf
	w.b = make([]byte, 0, 4096)
	w.open(c.Name, c.Title, c.Attrs, f.w, f.h)
	w.frame(f, &xs, &ys, c.X.Label, c.Y.Label)
	opacity := ""
	if len(c.Series) > 1 {
		opacity = ` fill-opacity="0.55"`
	}
	base := ys.clampPos(0)
	if ys.log {
		base = f.bott
	}
	for i, s := range c.Series {
		w.s(`<g class="series"`).attr("data-series", s.Name).attr("fill", seriesColor(s.Color, i)).s(opacity).s(">")
		for _, b := range s.Bins {
			if b.Count <= 0 || !finite(b.Count) || b.Hi <= b.Lo {
				continue
			}
			x0, ok0 := xs.pos(b.Lo)
			x1, ok1 := xs.pos(b.Hi)
			y, oky := ys.pos(b.Count)
			if !ok0 || !ok1 || !oky {
				continue
			}
			if x1-x0 > 3 {
				x1 -= 0.5 // a hairline between neighbours
			}
			h := max(base-y, 1) // a count too small to see still shows
			w.s(`<rect`).fattr("x", x0).fattr("y", base-h).fattr("width", max(x1-x0, 0.5)).fattr("height", h).s("><title>")
			if len(c.Series) > 1 {
				w.esc(s.Name).s(": ")
			}
			w.esc(c.X.Unit.Format(b.Lo)).s("–").esc(c.X.Unit.Format(b.Hi)).s(": ").s(FormatCount(b.Count)).s("</title></rect>")
		}
		w.s("</g>")
	}
	w.legend(items, lx, lrows, f.legendY)
	w.s("</svg>")
	return w.flush(out)
}

// FormatCount formats a count with thousands separators: 1,234,567.
// Fractions are rounded.
func FormatCount(v float64) string {
	if !finite(v) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(math.Abs(v))), 10)
	var b strings.Builder
	if v <= -0.5 {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// BarSeries is one set of bars of a horizontal bar chart.
type BarSeries struct {
	// Name is shown in the legend (when there are several series) and
	// written as data-series.
	Name string
	// Values[i] is the bar of Labels[i]; missing values are zero.
	Values []float64
	// Color is a CSS colour; empty means the i-th default colour.
	Color string
	// Colors, where set, override Color bar by bar.
	Colors []string
}

// HBarChart draws one row per label with a horizontal bar per series (a
// breakdown, a share). Each bar shows its value at its end and a tooltip
// with its share of the series total. The height follows the rows.
type HBarChart struct {
	// Name is written as data-plot.
	Name string
	// Title is the chart's accessible label (aria-label).
	Title string
	// Attrs are extra attributes of the <svg> element.
	Attrs []Attr
	// Width in px; zero means 720.
	Width int
	// Labels, top to bottom.
	Labels []string
	Series []BarSeries
	// Unit formats the values.
	Unit Unit
}

// Write writes the chart as one <svg> element.
func (c *HBarChart) Write(out io.Writer) error {
	width := float64(c.Width)
	if width <= 0 {
		width = 720
	}
	peak := 0.0
	totals := make([]float64, len(c.Series))
	for i, s := range c.Series {
		for k := range c.Labels {
			if k < len(s.Values) && finite(s.Values[k]) && s.Values[k] > 0 {
				peak = max(peak, s.Values[k])
				totals[i] += s.Values[k]
			}
		}
	}
	if len(c.Labels) == 0 || len(c.Series) == 0 || peak <= 0 {
		return noData(out, c.Name, c.Title, c.Attrs, width)
	}
	const maxLabel = 36
	labelW := 0.0
	for _, l := range c.Labels {
		labelW = max(labelW, textWidth(clip(l, maxLabel)))
	}
	left := math.Ceil(min(labelW, 240) + 12)
	valueW := 96.0
	var items []legendItem
	if len(c.Series) > 1 {
		for i, s := range c.Series {
			items = append(items, legendItem{name: s.Name, color: seriesColor(s.Color, i), box: true})
		}
	}
	lx, lrows, nrows := legendRows(items, left, width-left-16)
	top := 6 + 16*float64(nrows)
	barH := 14.0
	rowH := barH*float64(len(c.Series)) + 8
	height := top + rowH*float64(len(c.Labels)) + 4
	span := width - left - valueW
	if span < 40 {
		span = 40
	}

	var w buf
	w.b = make([]byte, 0, 2048)
	w.open(c.Name, c.Title, c.Attrs, width, height)
	w.s(`<g class="labels">`)
	for k, l := range c.Labels {
		y := top + rowH*float64(k) + rowH/2 + 4
		short := clip(l, maxLabel)
		w.s(`<text`).fattr("x", left-8).fattr("y", y).s(` text-anchor="end">`).esc(short)
		if short != l {
			w.s("<title>").esc(l).s("</title>")
		}
		w.s("</text>")
	}
	w.s(`</g><line`).fattr("x1", left).fattr("y1", top).fattr("x2", left).fattr("y2", height-4).s(` stroke="` + axisColor + `"/>`)
	for i, s := range c.Series {
		color := seriesColor(s.Color, i)
		w.s(`<g class="series"`).attr("data-series", s.Name).attr("fill", color).s(">")
		for k, l := range c.Labels {
			v := 0.0
			if k < len(s.Values) && finite(s.Values[k]) {
				v = max(s.Values[k], 0)
			}
			y := top + rowH*float64(k) + 4 + barH*float64(i)
			bw := span * v / peak
			if v > 0 {
				bw = max(bw, 1)
			}
			w.s(`<rect`).fattr("x", left).fattr("y", y).fattr("width", bw).fattr("height", barH-2)
			if k < len(s.Colors) && s.Colors[k] != "" {
				w.attr("fill", s.Colors[k])
			}
			w.s("><title>").esc(l)
			if len(c.Series) > 1 {
				w.s(" · ").esc(s.Name)
			}
			w.s(": ").esc(c.format(v))
			if totals[i] > 0 {
				w.s(" (").s(trim(100*v/totals[i], 1)).s("%)")
			}
			w.s("</title></rect>")
			w.s(`<text`).fattr("x", left+bw+4).fattr("y", y+barH-4).attr("fill", textColor).s(">").esc(c.format(v)).s("</text>")
		}
		w.s("</g>")
	}
	w.legend(items, lx, lrows, 16)
	w.s("</svg>")
	return w.flush(out)
}

// format labels a bar value: counts get separators, other units their
// usual labels.
func (c *HBarChart) format(v float64) string {
	if c.Unit == Number && v == math.Trunc(v) {
		return FormatCount(v)
	}
	return c.Unit.Format(v)
}
