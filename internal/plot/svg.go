package plot

import (
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Attr is an extra attribute of a chart's <svg> element, e.g.
// {"data-endpoint", "list"}. Only data-* and aria-* names of lower-case
// letters, digits and '-' are written (never event handlers); values are
// escaped.
type Attr struct {
	Name, Value string
}

// palette is the default series colours (Okabe–Ito, readable for the
// colour-blind), used in order.
var palette = []string{"#0072b2", "#d55e00", "#009e73", "#e69f00", "#cc79a7", "#56b4e9", "#7f7f7f", "#000000"}

// Color returns the i-th default series colour.
func Color(i int) string { return palette[((i%len(palette))+len(palette))%len(palette)] }

// Colours of the frame.
const (
	gridColor   = "#e3e3e3"
	axisColor   = "#8a8a8a"
	textColor   = "#333333"
	markerColor = "#9a9a9a"
	eventColor  = "#c0392b"
	fontSize    = 11
	charWidth   = 6.3 // average advance of the sans-serif font at fontSize, in px
)

// buf accumulates an SVG document.
type buf struct{ b []byte }

func (w *buf) s(s string) *buf { w.b = append(w.b, s...); return w }

// f writes a coordinate with one decimal ("12.5", "3", "-0.5").
func (w *buf) f(v float64) *buf { w.b = appendCoord(w.b, v); return w }

// i writes an integer.
func (w *buf) i(v int) *buf { w.b = strconv.AppendInt(w.b, int64(v), 10); return w }

// esc writes s escaped for XML text and attribute values.
func (w *buf) esc(s string) *buf { w.b = appendEscaped(w.b, s); return w }

// attr writes ` name="value"` with the value escaped.
func (w *buf) attr(name, value string) *buf {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.b = appendEscaped(w.b, value)
	w.b = append(w.b, '"')
	return w
}

// fattr writes ` name="coordinate"`.
func (w *buf) fattr(name string, v float64) *buf {
	w.b = append(w.b, ' ')
	w.b = append(w.b, name...)
	w.b = append(w.b, '=', '"')
	w.b = appendCoord(w.b, v)
	w.b = append(w.b, '"')
	return w
}

func (w *buf) flush(out io.Writer) error {
	_, err := out.Write(w.b)
	return err
}

// appendCoord appends v rounded to one decimal, without a trailing ".0" and
// never as "-0". Non-finite values are written as 0 (callers clamp first).
func appendCoord(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, '0')
	}
	r := math.Round(v * 10)
	if r == 0 {
		return append(b, '0')
	}
	n := int64(r)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	b = strconv.AppendInt(b, n/10, 10)
	if d := n % 10; d != 0 {
		b = append(b, '.', byte('0'+d))
	}
	return b
}

// Escape returns s escaped for XML (and HTML) text and attribute values:
// & < > " ' become entities, and invalid UTF-8 and characters XML 1.0
// cannot hold (most control characters) become U+FFFD.
func Escape(s string) string { return string(appendEscaped(nil, s)) }

func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				b = append(b, "&amp;"...)
			case c == '<':
				b = append(b, "&lt;"...)
			case c == '>':
				b = append(b, "&gt;"...)
			case c == '"':
				b = append(b, "&#34;"...)
			case c == '\'':
				b = append(b, "&#39;"...)
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
				b = append(b, "\uFFFD"...)
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r == 0xFFFE, r == 0xFFFF, r >= 0x80 && r <= 0x9f:
			b = append(b, "\uFFFD"...)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// validAttrName reports whether an extra attribute name is safe to write:
// data-* and aria-* names of lower-case letters, digits and '-'.
func validAttrName(n string) bool {
	if !strings.HasPrefix(n, "data-") && !strings.HasPrefix(n, "aria-") {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// open writes the <svg> start tag.
func (w *buf) open(name, label string, attrs []Attr, width, height float64) {
	w.s(`<svg class="plot"`).attr("data-plot", name)
	for _, a := range attrs {
		if validAttrName(a.Name) && a.Name != "class" && a.Name != "data-plot" {
			w.attr(a.Name, a.Value)
		}
	}
	w.s(` xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `).f(width).s(" ").f(height).s(`"`)
	w.fattr("width", width).fattr("height", height)
	w.s(` role="img"`)
	if label != "" {
		w.attr("aria-label", label)
	}
	w.s(` font-family="sans-serif" font-size="`).i(fontSize).s(`" fill="` + textColor + `">`)
}

// noData writes the placeholder chart for empty input.
func noData(out io.Writer, name, label string, attrs []Attr, width float64) error {
	var w buf
	const h = 48
	w.open(name, label, attrs, width, h)
	w.s(`<text class="no-data"`).fattr("x", width/2).fattr("y", h/2+4).s(` text-anchor="middle" fill="#888">no data</text></svg>`)
	return w.flush(out)
}

// text writes a <text> element.
func (w *buf) text(x, y float64, anchor, class, s string) {
	w.s("<text")
	if class != "" {
		w.attr("class", class)
	}
	w.fattr("x", x).fattr("y", y)
	if anchor != "" && anchor != "start" {
		w.s(` text-anchor="`).s(anchor).s(`"`)
	}
	w.s(">").esc(s).s("</text>")
}

// textWidth estimates the rendered width of s in px.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// clip shortens s to at most n runes, ending it with "…" when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// legendItem is one entry of a legend.
type legendItem struct {
	name, color string
	dashed, box bool
}

// legendRows lays legend items out in rows within width, starting at x0,
// and returns each item's position and the number of rows.
func legendRows(items []legendItem, x0, width float64) (xs []float64, rows []int, n int) {
	x, row := x0, 0
	for _, it := range items {
		w := 22 + textWidth(clip(it.name, 40)) + 14
		if x > x0 && x+w > x0+width {
			x, row = x0, row+1
		}
		xs = append(xs, x)
		rows = append(rows, row)
		x += w
	}
	if len(items) > 0 {
		n = row + 1
	}
	return xs, rows, n
}

// legend writes legend items laid out by legendRows; rows are 16 px apart
// from y0 (the first row's text baseline).
func (w *buf) legend(items []legendItem, xs []float64, rows []int, y0 float64) {
	if len(items) == 0 {
		return
	}
	w.s(`<g class="legend">`)
	for k, it := range items {
		x, y := xs[k], y0+16*float64(rows[k])
		w.s(`<g class="legend-item">`)
		if it.box {
			w.s(`<rect`).fattr("x", x).fattr("y", y-8).s(` width="16" height="9"`).attr("fill", it.color).s("/>")
		} else {
			w.s(`<line`).fattr("x1", x).fattr("y1", y-4).fattr("x2", x+16).fattr("y2", y-4).attr("stroke", it.color).s(` stroke-width="2"`)
			if it.dashed {
				w.s(` stroke-dasharray="4 3"`)
			}
			w.s("/>")
		}
		w.text(x+22, y, "", "", clip(it.name, 40))
		w.s("</g>")
	}
	w.s("</g>")
}
