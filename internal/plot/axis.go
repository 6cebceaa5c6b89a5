package plot

import (
	"math"
	"strconv"
	"strings"
)

// Unit says what an axis' values are; it chooses the ticks and their labels.
type Unit int

// The units.
const (
	// Number: plain numbers; ticks at 1, 2, 5 × 10^k; labels like 250,
	// 1.5k, 2M.
	Number Unit = iota
	// Millis: durations in milliseconds; ticks at 1, 2, 5 × 10^k ms (and
	// whole seconds and minutes above a second); labels like 250µs, 12ms,
	// 1.5s.
	Millis
	// Seconds: time offsets in seconds; ticks at 1, 2, 5, 10, 15, 30 s, 1,
	// 2, 5, 10, 15, 30 min, 1, 2, 3, 6, 12 h...; labels like 45s, 1m30s, 1h.
	Seconds
)

// Format labels a value of this unit.
func (u Unit) Format(v float64) string {
	switch u {
	case Millis:
		return FormatMillis(v)
	case Seconds:
		return FormatSeconds(v)
	}
	return FormatNumber(v)
}

// Tick is one labelled position on an axis.
type Tick struct {
	Value float64
	Label string
}

// Axis describes one axis of a chart. The zero value is a linear Number
// axis whose range comes from the data.
type Axis struct {
	// Label is the axis title ("latency", "time").
	Label string
	// Unit chooses tick positions and labels.
	Unit Unit
	// Log makes the axis logarithmic (base 10); values <= 0 are not drawn.
	Log bool
	// Min and Max fix the range when Max > Min (and, for a log axis, Min >
	// 0). Otherwise the range covers the data, widened to round values; a
	// linear range always includes 0.
	Min, Max float64
	// Ticks, when not nil, replace the automatic ticks; those outside the
	// range are dropped.
	Ticks []Tick
}

// scale maps axis values to pixels.
type scale struct {
	log        bool
	lo, hi     float64 // axis range (log10 of it for a log axis)
	p0, p1     float64 // pixels of lo and hi
	ticks      []Tick
	unit       Unit
	rangeFixed bool
}

// pos maps v to a pixel, clamped to the axis; ok is false when v cannot
// be drawn (NaN, or not positive on a log axis).
func (s *scale) pos(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	if s.log {
		if v <= 0 {
			return 0, false
		}
		v = math.Log10(v)
	}
	t := (v - s.lo) / (s.hi - s.lo)
	t = min(max(t, 0), 1)
	return s.p0 + t*(s.p1-s.p0), true
}

// contains reports whether v lies within the axis range.
func (s *scale) contains(v float64) bool {
	if math.IsNaN(v) || (s.log && v <= 0) {
		return false
	}
	if s.log {
		v = math.Log10(v)
	}
	eps := 1e-9 * (s.hi - s.lo)
	return v >= s.lo-eps && v <= s.hi+eps
}

// clampPos is pos for values that must land somewhere (bar bases).
func (s *scale) clampPos(v float64) float64 {
	if p, ok := s.pos(v); ok {
		return p
	}
	return s.p0
}

// resolve computes the axis range and ticks from the data extent
// [dlo, dhi] (dlo > dhi when there are no data). maxTicks bounds the
// number of automatic ticks. ok is false when nothing can be drawn.
func (a Axis) resolve(dlo, dhi float64, maxTicks int) (scale, bool) {
	s := scale{log: a.Log, unit: a.Unit}
	var lo, hi float64
	switch {
	case a.Max > a.Min && (!a.Log || a.Min > 0):
		lo, hi = a.Min, a.Max
		s.rangeFixed = true
	case dlo > dhi || math.IsNaN(dlo) || math.IsNaN(dhi):
		return s, false
	case a.Log:
		if dhi <= 0 {
			return s, false
		}
		lo, hi = floor125(dlo), ceil125(dhi)
		if hi <= lo {
			hi = ceil125(math.Nextafter(hi, math.Inf(1)))
		}
	default:
		lo, hi = min(dlo, 0), max(dhi, 0)
		if hi == lo {
			hi = lo + 1
		}
		step := linearStep(a.Unit, (hi-lo)/float64(max(maxTicks-1, 1)))
		lo = math.Floor(lo/step+1e-9) * step
		hi = math.Ceil(hi/step-1e-9) * step
	}
	if a.Ticks != nil {
		for _, t := range a.Ticks {
			if t.Value >= lo*(1-1e-9)-1e-12 && t.Value <= hi*(1+1e-9)+1e-12 {
				s.ticks = append(s.ticks, t)
			}
		}
	} else if a.Log {
		s.ticks = logTicks(a.Unit, lo, hi, maxTicks)
	} else {
		s.ticks = linearTicks(a.Unit, lo, hi, maxTicks)
	}
	if a.Log {
		lo, hi = math.Log10(lo), math.Log10(hi)
	}
	s.lo, s.hi = lo, hi
	return s, true
}

// nice125 returns the smallest value of 1, 2, 5 × 10^k at least v (v > 0).
func nice125(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	e := math.Floor(math.Log10(v))
	p := math.Pow(10, e)
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// floor125 returns the largest value of 1, 2, 5 × 10^k at most v (v > 0).
func floor125(v float64) float64 {
	if v <= 0 {
		return 1
	}
	e := math.Floor(math.Log10(v))
	p := math.Pow(10, e)
	if p > v*(1+1e-9) { // log10 rounding
		p /= 10
	}
	for _, m := range []float64{5, 2, 1} {
		if m*p <= v*(1+1e-9) {
			return m * p
		}
	}
	return p
}

// ceil125 returns the smallest value of 1, 2, 5 × 10^k at least v (v > 0).
func ceil125(v float64) float64 { return nice125(v) }

// timeSteps are the steps of a Seconds axis from one second up.
var timeSteps = []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

// linearStep returns the tick step for a raw step of the unit.
func linearStep(u Unit, raw float64) float64 {
	switch {
	case u == Seconds && raw > 0.5:
		for _, s := range timeSteps {
			if s >= raw*(1-1e-9) {
				return s
			}
		}
		return nice125(raw/86400) * 86400
	case u == Millis && raw > 500:
		return 1000 * linearStep(Seconds, raw/1000)
	}
	return nice125(raw)
}

// linearTicks returns ticks every step within [lo, hi], at most about
// maxTicks of them.
func linearTicks(u Unit, lo, hi float64, maxTicks int) []Tick {
	step := linearStep(u, (hi-lo)/float64(max(maxTicks-1, 1)))
	first := math.Ceil(lo/step - 1e-9)
	last := math.Floor(hi/step + 1e-9)
	var out []Tick
	for k := first; k <= last && len(out) < 1000; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, Tick{Value: v, Label: u.Format(v)})
	}
	return out
}

// logTicks returns ticks at powers of ten within [lo, hi] (and at 2 and 5
// times them when the range is short), at most about maxTicks of them.
func logTicks(u Unit, lo, hi float64, maxTicks int) []Tick {
	d0 := int(math.Floor(math.Log10(lo) + 1e-9))
	d1 := int(math.Ceil(math.Log10(hi) - 1e-9))
	decades := d1 - d0
	mults := []float64{1}
	switch {
	case decades <= maxTicks/3:
		mults = []float64{1, 2, 5}
	case decades <= maxTicks/2:
		mults = []float64{1, 3}
	}
	every := max(1, (decades+maxTicks-1)/max(maxTicks, 1))
	var out []Tick
	for d := d0; d <= d1; d++ {
		if (d-d0)%every != 0 {
			continue
		}
		for _, m := range mults {
			v := m * math.Pow10(d)
			if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
				out = append(out, Tick{Value: v, Label: u.Format(v)})
			}
		}
	}
	return out
}

// trim formats v with at most decimals decimals and no trailing zeros.
func trim(v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// sig formats v with about 4 significant digits, never in exponent form.
func sig(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return trim(v, 0)
	case a >= 100:
		return trim(v, 1)
	case a >= 10:
		return trim(v, 2)
	case a >= 1:
		return trim(v, 3)
	}
	d := int(math.Ceil(-math.Log10(a))) + 3
	return trim(v, min(d, 12))
}

// FormatNumber labels a plain number with about 4 significant digits and
// a k, M or G suffix: 250, 1.5k, 12.25M.
func FormatNumber(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case a >= 1e9:
		return sig(v/1e9) + "G"
	case a >= 1e6:
		return sig(v/1e6) + "M"
	case a >= 1e4:
		return sig(v/1e3) + "k"
	case a >= 1e3 && math.Round(v) == v && math.Mod(v, 100) == 0:
		return sig(v/1e3) + "k"
	}
	return sig(v)
}

// FormatMillis labels a duration given in milliseconds: 0, 250µs, 1.5ms,
// 12ms, 1.5s, 2.5m, 1.2h.
func FormatMillis(ms float64) string {
	a := math.Abs(ms)
	switch {
	case math.IsNaN(ms) || math.IsInf(ms, 0):
		return "–"
	case a == 0:
		return "0"
	case a < 1:
		return sig(ms*1000) + "µs"
	case a < 1000:
		return sig(ms) + "ms"
	case a < 60_000:
		return sig(ms/1000) + "s"
	case a < 3_600_000:
		return sig(ms/60_000) + "m"
	}
	return sig(ms/3_600_000) + "h"
}

// FormatSeconds labels a time offset in seconds: 0s, 0.5s, 45s, 1m30s, 1h,
// 1h5m.
func FormatSeconds(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return "–"
	}
	neg := s < 0
	a := math.Abs(s)
	var out string
	if a < 60 {
		out = sig(a) + "s"
	} else {
		t := int64(math.Round(a))
		h, m, sec := t/3600, t/60%60, t%60
		if h > 0 {
			out = strconv.FormatInt(h, 10) + "h"
		}
		if m > 0 {
			out += strconv.FormatInt(m, 10) + "m"
		}
		if sec > 0 && h == 0 {
			out += strconv.FormatInt(sec, 10) + "s"
		}
		if out == "" {
			out = "0s"
		}
	}
	if neg && out != "0s" {
		return "-" + out
	}
	return out
}

// PercentileTicks returns the ticks of a percentile spectrum's x axis, where
// x = 1/(1-p): 0% at 1, 90% at 10, 99% at 100, 99.9% at 1000 ... up to and
// including the first power of ten at least maxX.
func PercentileTicks(maxX float64) []Tick {
	out := []Tick{{Value: 1, Label: "0%"}}
	for d := 1; d <= 15; d++ {
		v := math.Pow10(d)
		out = append(out, Tick{Value: v, Label: PercentLabel(1 - 1/v)})
		if v >= maxX {
			break
		}
	}
	return out
}

// PercentileX maps a percentile p in [0, 1) to the spectrum's x = 1/(1-p).
func PercentileX(p float64) float64 {
	if p >= 1 {
		return math.Inf(1)
	}
	return 1 / (1 - max(p, 0))
}

// PercentLabel formats a fraction p in [0, 1] as a percentage with as many
// decimals as its distance to 100% needs: 50%, 87.5%, 99.9%, 99.999%.
func PercentLabel(p float64) string {
	if p >= 1 {
		return "100%"
	}
	if p <= 0 {
		return "0%"
	}
	d := int(math.Ceil(-math.Log10(1-p) - 1e-9))
	return trim(100*p, min(max(d, 0), 12)) + "%"
}
