package plot

import (
	"cmp"
	"io"
	"math"
)

// Point is one point of a line series. A NaN Y (or, on a log axis, a Y <=
// 0) breaks the line. A non-empty Title draws a small dot with that
// tooltip.
type Point struct {
	X, Y  float64
	Title string
}

// Series is one line of a LineChart.
type Series struct {
	// Name is shown in the legend and written as data-series.
	Name string
	// Points in drawing order (usually by X).
	Points []Point
	// Color is a CSS colour; empty means the i-th default colour.
	Color string
	// Dashed draws the line dashed.
	Dashed bool
}

// Marker is a vertical line at X across the plot area (a stage boundary,
// an event). It is drawn as class="marker" with data-marker=Kind and its
// Label as text (when there is room) and tooltip. Markers outside the x
// range are not drawn.
type Marker struct {
	X     float64
	Label string
	// Title is the tooltip; empty means Label.
	Title string
	// Kind is a short class ("stage", "agent-lost"), written as
	// data-marker.
	Kind string
	// Event draws the marker as an event (red) rather than a boundary.
	Event bool
}

// LineChart is a chart of line series over a shared x axis.
type LineChart struct {
	// Name is written as data-plot.
	Name string
	// Title is the chart's accessible label (aria-label).
	Title string
	// Attrs are extra attributes of the <svg> element.
	Attrs []Attr
	// Width and Height in px; zero means 720 × 280.
	Width, Height int
	X, Y          Axis
	Series        []Series
	Markers       []Marker
}

// frame is the pixel layout shared by the x-y charts.
type frame struct {
	w, h                   float64
	left, right, top, bott float64 // plot area edges in px
	legendY                float64
}

func newFrame(width, height int, legendRowsN int, yLabels []Tick, yTitle bool) frame {
	f := frame{w: float64(width), h: float64(height)}
	if f.w <= 0 {
		f.w = 720
	}
	if f.h <= 0 {
		f.h = 280
	}
	widest := 0.0
	for _, t := range yLabels {
		widest = max(widest, textWidth(t.Label))
	}
	f.left = math.Ceil(widest + 12)
	if yTitle {
		f.left += 16
	}
	f.right = f.w - 16
	f.top = 10 + 16*float64(legendRowsN)
	f.legendY = 16
	f.bott = f.h - 36
	return f
}

// Write writes the chart as one <svg> element.
func (c *LineChart) Write(out io.Writer) error {
	dx0, dx1 := math.Inf(1), math.Inf(-1)
	dy0, dy1 := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if !finite(p.X) || !finite(p.Y) || (c.X.Log && p.X <= 0) || (c.Y.Log && p.Y <= 0) {
				continue
			}
			dx0, dx1 = min(dx0, p.X), max(dx1, p.X)
			dy0, dy1 = min(dy0, p.Y), max(dy1, p.Y)
		}
	}
	width := c.Width
	if width <= 0 {
		width = 720
	}
	if dx0 > dx1 {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	ys, ok := c.Y.resolve(dy0, dy1, 6)
	if !ok {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	xs, ok := c.X.resolve(dx0, dx1, max(3, width/90))
	if !ok {
		return noData(out, c.Name, c.Title, c.Attrs, float64(width))
	}
	items := make([]legendItem, len(c.Series))
	for i, s := range c.Series {
		items[i] = legendItem{name: s.Name, color: seriesColor(s.Color, i), dashed: s.Dashed}
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
	w.markers(f, &xs, c.Markers)
	for i, s := range c.Series {
		w.line(&xs, &ys, s, seriesColor(s.Color, i))
	}
	w.legend(items, lx, lrows, f.legendY)
	w.s("</svg>")
	return w.flush(out)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func seriesColor(c string, i int) string {
	if c != "" {
		return c
	}
	return Color(i)
}

// frame writes the grid, the axes, the tick labels and the axis titles.
func (w *buf) frame(f frame, xs, ys *scale, xTitle, yTitle string) {
	w.s(`<g class="grid" stroke="` + gridColor + `" stroke-width="1">`)
	for _, t := range ys.ticks {
		y, _ := ys.pos(t.Value)
		w.s(`<line`).fattr("x1", f.left).fattr("y1", y).fattr("x2", f.right).fattr("y2", y).s("/>")
	}
	for _, t := range xs.ticks {
		x, _ := xs.pos(t.Value)
		w.s(`<line`).fattr("x1", x).fattr("y1", f.top).fattr("x2", x).fattr("y2", f.bott).s("/>")
	}
	w.s(`</g><g class="axis" stroke="` + axisColor + `" stroke-width="1">`)
	w.s(`<line`).fattr("x1", f.left).fattr("y1", f.bott).fattr("x2", f.right).fattr("y2", f.bott).s("/>")
	w.s(`<line`).fattr("x1", f.left).fattr("y1", f.top).fattr("x2", f.left).fattr("y2", f.bott).s("/>")
	w.s(`</g><g class="ticks">`)
	for _, t := range ys.ticks {
		y, _ := ys.pos(t.Value)
		w.text(f.left-6, y+4, "end", "", t.Label)
	}
	// Skip x labels that would overlap the previous one.
	lastEnd := math.Inf(-1)
	for k, t := range xs.ticks {
		x, _ := xs.pos(t.Value)
		half := textWidth(t.Label) / 2
		anchor := "middle"
		if k == len(xs.ticks)-1 && x+half > f.w {
			anchor, half = "end", 0
		}
		if x-half < lastEnd+6 {
			continue
		}
		w.text(x, f.bott+15, anchor, "", t.Label)
		lastEnd = x + half
	}
	w.s(`</g>`)
	if xTitle != "" {
		w.text((f.left+f.right)/2, f.h-5, "middle", "axis-title", xTitle)
	}
	if yTitle != "" {
		cy := (f.top + f.bott) / 2
		w.s(`<text class="axis-title" x="12"`).fattr("y", cy).s(` text-anchor="middle" transform="rotate(-90 12 `).f(cy).s(`)">`).esc(yTitle).s(`</text>`)
	}
}

// markers writes vertical marker lines with labels where there is room.
func (w *buf) markers(f frame, xs *scale, ms []Marker) {
	if len(ms) == 0 {
		return
	}
	w.s(`<g class="markers">`)
	lastEnd := math.Inf(-1)
	for _, m := range ms {
		x, ok := xs.pos(m.X)
		if !ok || !xs.contains(m.X) {
			continue
		}
		color := markerColor
		if m.Event {
			color = eventColor
		}
		w.s(`<g class="marker"`).attr("data-marker", m.Kind).s(`><line`).fattr("x1", x).fattr("y1", f.top).fattr("x2", x).fattr("y2", f.bott).
			attr("stroke", color).s(` stroke-width="1" stroke-dasharray="3 3">`)
		if title := cmp.Or(m.Title, m.Label); title != "" {
			w.s(`<title>`).esc(title).s(`</title>`)
		}
		w.s(`</line>`)
		label := clip(m.Label, 24)
		if label != "" && x-2 > lastEnd && x+3+textWidth(label) < f.w {
			w.s(`<text`).fattr("x", x+3).fattr("y", f.top+10).s(` font-size="10"`).attr("fill", color).s(">").esc(label).s("</text>")
			lastEnd = x + 3 + textWidth(label)*10/fontSize
		}
		w.s(`</g>`)
	}
	w.s(`</g>`)
}

// line writes one series as a <g class="series"> holding its path and the
// dots of titled points.
func (w *buf) line(xs, ys *scale, s Series, color string) {
	w.s(`<g class="series"`).attr("data-series", s.Name).s(`><path fill="none"`).attr("stroke", color).s(` stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"`)
	if s.Dashed {
		w.s(` stroke-dasharray="5 3"`)
	}
	w.s(` d="`)
	seg := 0 // points in the current subpath; a lone point is drawn as a dot (round cap)
	for _, p := range s.Points {
		x, okx := xs.pos(p.X)
		y, oky := ys.pos(p.Y)
		if !okx || !oky {
			if seg == 1 {
				w.s("h0")
			}
			seg = 0
			continue
		}
		if seg > 0 {
			w.s("L")
		} else {
			w.s("M")
		}
		w.f(x).s(" ").f(y)
		seg++
	}
	if seg == 1 {
		w.s("h0")
	}
	w.s(`"><title>`).esc(s.Name).s(`</title></path>`)
	for _, p := range s.Points {
		if p.Title == "" {
			continue
		}
		x, okx := xs.pos(p.X)
		y, oky := ys.pos(p.Y)
		if !okx || !oky {
			continue
		}
		w.s(`<circle`).fattr("cx", x).fattr("cy", y).s(` r="2"`).attr("fill", color).s(`><title>`).esc(p.Title).s(`</title></circle>`)
	}
	w.s(`</g>`)
}
