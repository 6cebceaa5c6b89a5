package latency

import (
	"math"
	"time"
)

// Bucket is one bar of a histogram plot: Count observations fell in
// [Low, High).
type Bucket struct {
	Low, High time.Duration
	Count     int64
}

// maxPerDecade bounds LogBuckets' resolution.
const maxPerDecade = 1000

// LogBuckets groups the observations into log-scale buckets with perDecade
// buckets per factor of ten (perDecade is clamped to [1, 1000]): bucket edges
// are 10^(i/perDecade) µs. The buckets run, without gaps, from the one holding
// the smallest observation to the one holding the largest, and may have a zero
// Count in between. Each HDR bucket is counted in the log bucket holding its
// lowest value (exact below 2048 µs, within 0.1% above); observations of 0 µs,
// which only a foreign encoder can produce, count as 1 µs. The counts sum to
// Count(). An empty histogram has no buckets.
func (h *Histogram) LogBuckets(perDecade int) []Bucket {
	if h.Count() == 0 {
		return nil
	}
	perDecade = min(max(perDecade, 1), maxPerDecade)
	edge := func(i int) float64 { return math.Pow(10, float64(i)/float64(perDecade)) }
	// index returns the i with edge(i) <= v < edge(i+1), using edge itself so
	// that values on an edge land consistently whatever log10's rounding.
	index := func(v int64) int {
		x := float64(max(v, 1)) // a decoded histogram may hold 0 µs; count it in the first bucket
		i := int(math.Floor(math.Log10(x) * float64(perDecade)))
		for i > 0 && edge(i) > x {
			i--
		}
		for edge(i+1) <= x {
			i++
		}
		return i
	}
	first, last := index(h.p.Min()), -1
	h.forEach(func(v, _ int64) bool { last = index(v); return true })
	out := make([]Bucket, last-first+1)
	for k := range out {
		out[k] = Bucket{Low: edgeDuration(edge(first + k)), High: edgeDuration(edge(first + k + 1))}
	}
	h.forEach(func(v, c int64) bool {
		out[index(v)-first].Count += c
		return true
	})
	return out
}

// edgeDuration converts an edge in microseconds to a Duration, rounded to
// the nanosecond.
func edgeDuration(us float64) time.Duration {
	return time.Duration(math.Round(us * float64(time.Microsecond)))
}

// Point is one line of a percentile distribution: a fraction Percentile of
// the observations (in [0, 1]) are at or below Value, and Count observations
// are at or below Value.
type Point struct {
	Percentile float64
	Value      time.Duration
	Count      int64
}

// Spectrum returns the classic HdrHistogram percentile distribution, the
// table of a .hgrm file: percentiles are reported at ticksPerHalfDistance
// steps per halving of the distance to 100% (5 in the usual output; values
// below 1 are taken as 1), each with the highest value equivalent to the
// bucket where the cumulative count reaches it, and a final point at
// percentile 1 with Max(). An empty histogram has no points.
func (h *Histogram) Spectrum(ticksPerHalfDistance int) []Point {
	total := h.Count()
	if total == 0 {
		return nil
	}
	ticks := float64(max(ticksPerHalfDistance, 1))
	var (
		out  []Point
		cum  int64
		next float64 // next percentile to report, in percent
		last int64   // highest equivalent value of the last populated bucket
	)
	h.forEach(func(v, c int64) bool {
		cum += c
		last = highestEquivalent(v)
		reached := 100 * float64(cum) / float64(total)
		for next <= reached {
			out = append(out, Point{Percentile: next / 100, Value: micros(last), Count: cum})
			if cum >= total {
				return false // the final bucket gets one tick, then the closing point
			}
			// Halve the step each time the remaining distance to 100% halves.
			halfDistance := math.Trunc(math.Pow(2, math.Trunc(math.Log2(100/(100-next)))+1))
			step := 100 / (ticks * halfDistance)
			if next+step == next { // float64 ran out of room below 100%
				next = math.Inf(1)
			}
			next += step
		}
		return true
	})
	return append(out, Point{Percentile: 1, Value: micros(last), Count: total})
}
