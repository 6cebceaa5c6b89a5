package promhdr

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/barrage-dev/barrage/internal/latency"
)

// DefaultBounds are classic bucket upper bounds in seconds for request
// latencies, from 100 µs to 60 s. Those up to 2 ms are exact HDR bucket
// edges (1 µs wide there).
var DefaultBounds = []float64{
	0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30, 60,
}

// DefaultMaxNativeBuckets bounds the populated native buckets of one
// histogram (Prometheus' usual native_histogram_bucket_limit is 160).
const DefaultMaxNativeBuckets = 160

// Native histogram schemas Prometheus accepts.
const (
	MaxSchema = 8
	MinSchema = -4
)

// Histogram is one latency histogram in Prometheus' model. Values are in
// seconds.
type Histogram struct {
	// Count is the number of observations.
	Count uint64
	// Sum is the sum of the observations, estimated from the midpoints of
	// their HDR buckets.
	Sum float64
	// Bounds are the classic upper bounds, ascending, without +Inf.
	Bounds []float64
	// Cumulative[i] counts the observations at or below Bounds[i].
	Cumulative []uint64
	// Schema is the native schema: bucket i holds values in
	// (2^((i-1)·2^-Schema), 2^(i·2^-Schema)]. Unused without Native.
	Schema int32
	// Zero counts observations of 0 (only a foreign encoder produces them;
	// the zero threshold is 0).
	Zero uint64
	// Native maps native bucket indexes to counts; nil when native buckets
	// were not asked for.
	Native map[int]int64
}

// Convert converts h. bounds are classic upper bounds in seconds (sorted and
// deduplicated here; NaN, infinite and non-positive bounds are ignored, +Inf
// is implicit). maxNative bounds the native buckets: the schema is the finest
// (at most [MaxSchema]) whose populated buckets number at most maxNative, or
// [MinSchema]; maxNative <= 0 leaves native buckets out. A nil or empty h
// gives an empty histogram.
func Convert(h *latency.Histogram, bounds []float64, maxNative int) Histogram {
	out := Histogram{Bounds: cleanBounds(bounds)}
	out.Cumulative = make([]uint64, len(out.Bounds))
	if maxNative > 0 {
		out.Schema = MaxSchema
		out.Native = map[int]int64{}
	}
	if h == nil {
		return out
	}
	perBound := make([]uint64, len(out.Bounds)+1) // last: above every bound
	j := 0
	h.Buckets(func(lo, hi time.Duration, n int64) bool {
		c := uint64(n)
		out.Count += c
		out.Sum += float64(n) * (lo + hi + time.Microsecond).Seconds() / 2
		v := hi.Seconds()
		for j < len(out.Bounds) && v > out.Bounds[j] {
			j++
		}
		perBound[j] += c
		if out.Native != nil {
			if hi <= 0 {
				out.Zero += c
			} else {
				out.Native[nativeIndex(v)] += n
			}
		}
		return true
	})
	var cum uint64
	for i := range out.Bounds {
		cum += perBound[i]
		out.Cumulative[i] = cum
	}
	if out.Native != nil {
		for len(out.Native) > maxNative && out.Schema > MinSchema {
			out.Native = halve(out.Native)
			out.Schema--
		}
	}
	return out
}

func cleanBounds(bounds []float64) []float64 {
	out := make([]float64, 0, len(bounds))
	for _, b := range bounds {
		if b > 0 && !math.IsInf(b, 0) { // false for NaN too
			out = append(out, b)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// schema8Edges[j] = 2^(j/256) / 2: the upper edges of the schema-8 buckets
// between 0.5 and 1, for math.Frexp's fraction.
var schema8Edges = func() []float64 {
	e := make([]float64, 1<<MaxSchema)
	for j := range e {
		e[j] = math.Exp2(float64(j)/float64(len(e))) / 2
	}
	return e
}()

// nativeIndex returns the schema-8 bucket of v > 0: the i with
// 2^((i-1)/256) < v <= 2^(i/256).
func nativeIndex(v float64) int {
	frac, exp := math.Frexp(v) // v = frac·2^exp, frac in [0.5, 1)
	return sort.SearchFloat64s(schema8Edges, frac) + (exp-1)*len(schema8Edges)
}

// halve merges pairs of buckets: bucket j of schema s-1 is buckets 2j-1 and
// 2j of schema s.
func halve(b map[int]int64) map[int]int64 {
	out := make(map[int]int64, len(b)/2+1)
	for i, n := range b {
		out[(i+1)>>1] += n
	}
	return out
}

// Metric returns h as a constant histogram metric of desc with the given
// label values: classic buckets, and native buckets when h has them.
// created, unless zero, is the created timestamp (when counting began).
func (h Histogram) Metric(desc *prometheus.Desc, created time.Time, labelValues ...string) (prometheus.Metric, error) {
	if h.Native == nil {
		classic := make(map[float64]uint64, len(h.Bounds))
		for i, b := range h.Bounds {
			classic[b] = h.Cumulative[i]
		}
		if created.IsZero() {
			return prometheus.NewConstHistogram(desc, h.Count, h.Sum, classic, labelValues...)
		}
		return prometheus.NewConstHistogramWithCreatedTimestamp(desc, h.Count, h.Sum, classic, created, labelValues...)
	}
	native, err := prometheus.NewConstNativeHistogram(desc, h.Count, h.Sum, h.Native, nil, h.Zero, h.Schema, 0, created, labelValues...)
	if err != nil {
		return nil, err
	}
	// Take the native metric's message once and add the classic buckets;
	// the result is never changed again, so Write may hand it out.
	var m dto.Metric
	if err := native.Write(&m); err != nil {
		return nil, err
	}
	for i, b := range h.Bounds {
		m.Histogram.Bucket = append(m.Histogram.Bucket, &dto.Bucket{UpperBound: proto.Float64(b), CumulativeCount: proto.Uint64(h.Cumulative[i])})
	}
	if created.IsZero() {
		m.Histogram.CreatedTimestamp = nil
	}
	return &dual{desc: desc, hist: m.Histogram, labels: m.Label}, nil
}

// dual is a constant native histogram that also carries classic buckets.
type dual struct {
	desc   *prometheus.Desc
	hist   *dto.Histogram
	labels []*dto.LabelPair
}

func (d *dual) Desc() *prometheus.Desc { return d.desc }

func (d *dual) Write(out *dto.Metric) error {
	out.Histogram = d.hist
	out.Label = d.labels
	return nil
}
