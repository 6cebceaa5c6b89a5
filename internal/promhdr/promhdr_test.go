package promhdr_test

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/promhdr"
)

var update = flag.Bool("update", false, "rewrite golden files")

func histOf(ds ...time.Duration) *latency.Histogram {
	r := latency.NewRecorder()
	for _, d := range ds {
		r.Record(d)
	}
	h := latency.NewHistogram()
	h.MergeRecorder(r)
	return h
}

// wholeMicros returns n durations of whole microseconds in [1 µs, maxUS].
func wholeMicros(seed uint64, n int, maxUS int64) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(1+rng.Int64N(maxUS)) * time.Microsecond
	}
	return out
}

// logSpread returns n durations spread log-uniformly over 10 µs .. 100 s.
func logSpread(seed uint64, n int) []time.Duration {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(math.Pow(10, 1+rng.Float64()*7) * float64(time.Microsecond))
	}
	return out
}

// countIf counts the durations for which keep holds.
func countIf(ds []time.Duration, keep func(s float64) bool) uint64 {
	var n uint64
	for _, d := range ds {
		if keep(d.Seconds()) {
			n++
		}
	}
	return n
}

// directIndex is the native bucket of v at schema s, computed from the
// definition with logarithms (independent of the code under test).
func directIndex(v float64, s int32) int {
	return int(math.Ceil(math.Log2(v) * math.Exp2(float64(s))))
}

func TestClassicBucketsExactBelow2048Micros(t *testing.T) {
	// HDR buckets are 1 µs wide here: the counts must be exact.
	ds := wholeMicros(1, 50000, 2047)
	bounds := []float64{0.000001, 0.00001, 0.0001, 0.00025, 0.0005, 0.001, 0.0015, 0.002047}
	ph := promhdr.Convert(histOf(ds...), bounds, 0)
	if ph.Count != uint64(len(ds)) {
		t.Fatalf("Count = %d, want %d", ph.Count, len(ds))
	}
	for i, b := range ph.Bounds {
		want := countIf(ds, func(s float64) bool { return s <= b })
		if ph.Cumulative[i] != want {
			t.Errorf("le=%g: %d, want exactly %d", b, ph.Cumulative[i], want)
		}
	}
	if ph.Native != nil {
		t.Errorf("native buckets present with maxNative 0: %v", ph.Native)
	}
}

func TestClassicBucketsWithinResolution(t *testing.T) {
	ds := logSpread(2, 100000)
	ph := promhdr.Convert(histOf(ds...), promhdr.DefaultBounds, promhdr.DefaultMaxNativeBuckets)
	if ph.Count != uint64(len(ds)) {
		t.Fatalf("Count = %d, want %d", ph.Count, len(ds))
	}
	for i, b := range ph.Bounds {
		// Counted at or below b: the observation's HDR bucket ends at or
		// below b, so it was below b+1µs; everything below b·(1-1/1024)
		// has a bucket ending at or below b.
		lo := countIf(ds, func(s float64) bool { return s < b*(1-1.0/1024) })
		hi := countIf(ds, func(s float64) bool { return s < b+1e-6 })
		if got := ph.Cumulative[i]; got < lo || got > hi {
			t.Errorf("le=%g: %d, want within [%d, %d]", b, got, lo, hi)
		}
		if i > 0 && ph.Cumulative[i] < ph.Cumulative[i-1] {
			t.Errorf("cumulative counts decrease at le=%g", b)
		}
	}
	var exact float64
	for _, d := range ds {
		exact += d.Seconds()
	}
	if rel := math.Abs(ph.Sum-exact) / exact; rel > 0.001 {
		t.Errorf("Sum = %g, exact %g: off by %.4f%%, want within 0.1%%", ph.Sum, exact, 100*rel)
	}
}

func TestNativeBuckets(t *testing.T) {
	tests := []struct {
		name       string
		ds         []time.Duration
		maxNative  int
		wantSchema int32
		exact      bool // every HDR bucket is 1 µs wide: counts match the definition exactly
	}{
		{"few values keep schema 8", wholeMicros(3, 1000, 40), 160, 8, true},
		{"unit-resolution values", wholeMicros(4, 20000, 2047), 10000, 8, true},
		{"wide spread is coarsened", logSpread(5, 50000), 160, 2, false}, // 23 octaves: 186 buckets at schema 3
		{"tiny limit reaches schema -4", logSpread(6, 1000), 1, -4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := promhdr.Convert(histOf(tt.ds...), nil, tt.maxNative)
			if ph.Schema != tt.wantSchema {
				t.Errorf("Schema = %d, want %d", ph.Schema, tt.wantSchema)
			}
			if len(ph.Native) > tt.maxNative && ph.Schema > promhdr.MinSchema {
				t.Errorf("%d native buckets at schema %d, limit %d", len(ph.Native), ph.Schema, tt.maxNative)
			}
			var sum int64
			for _, n := range ph.Native {
				sum += n
			}
			if uint64(sum)+ph.Zero != ph.Count || ph.Count != uint64(len(tt.ds)) {
				t.Fatalf("native buckets hold %d (+%d zero), Count %d, recorded %d", sum, ph.Zero, ph.Count, len(tt.ds))
			}
			want := map[int]int64{}
			for _, d := range tt.ds {
				want[directIndex(d.Truncate(time.Microsecond).Seconds(), ph.Schema)]++
			}
			if tt.exact {
				if diff := cmp.Diff(want, ph.Native); diff != "" {
					t.Errorf("native buckets differ from the definition (-want +got):\n%s", diff)
				}
				return
			}
			// HDR buckets straddling a native edge move a few values to
			// the next bucket; nothing else differs.
			var moved int64
			for i, n := range want {
				moved += max(n-ph.Native[i], 0)
			}
			if float64(moved) > 0.01*float64(len(tt.ds)) {
				t.Errorf("%d of %d observations in another native bucket than the definition's; want < 1%%", moved, len(tt.ds))
			}
		})
	}
}

func TestConvertEdgeCases(t *testing.T) {
	tests := []struct {
		name       string
		h          *latency.Histogram
		bounds     []float64
		wantBounds []float64
		wantCum    []uint64
	}{
		{"nil histogram", nil, []float64{0.1}, []float64{0.1}, []uint64{0}},
		{"empty histogram", latency.NewHistogram(), []float64{0.1}, []float64{0.1}, []uint64{0}},
		{"bounds cleaned", histOf(time.Millisecond, 3*time.Second),
			[]float64{1, math.NaN(), 0.001, math.Inf(1), -1, 0, 1, 0.5},
			[]float64{0.001, 0.5, 1}, []uint64{1, 1, 1}},
		{"above every bound", histOf(time.Minute), []float64{1}, []float64{1}, []uint64{0}},
		{"no bounds", histOf(time.Second), nil, []float64{}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ph := promhdr.Convert(tt.h, tt.bounds, promhdr.DefaultMaxNativeBuckets)
			if diff := cmp.Diff(tt.wantBounds, ph.Bounds); diff != "" {
				t.Errorf("bounds (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCum, ph.Cumulative); diff != "" {
				t.Errorf("cumulative (-want +got):\n%s", diff)
			}
			desc := prometheus.NewDesc("h_seconds", "h", nil, nil)
			if _, err := ph.Metric(desc, time.Time{}); err != nil {
				t.Errorf("Metric: %v", err)
			}
		})
	}
}

// collector emits fixed metrics.
type collector []prometheus.Metric

func (c collector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }
func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

func goldenMetrics(t *testing.T) collector {
	t.Helper()
	desc := prometheus.NewDesc("test_request_duration_seconds", "Request latency.", []string{"endpoint"}, nil)
	h := histOf(150*time.Microsecond, 150*time.Microsecond, 900*time.Microsecond, 1200*time.Microsecond,
		3*time.Millisecond, 40*time.Millisecond, 2*time.Second, 90*time.Second)
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	dual, err := promhdr.Convert(h, promhdr.DefaultBounds, promhdr.DefaultMaxNativeBuckets).Metric(desc, created, "dual")
	if err != nil {
		t.Fatal(err)
	}
	classic, err := promhdr.Convert(h, []float64{0.001, 1}, 0).Metric(desc, time.Time{}, "classic")
	if err != nil {
		t.Fatal(err)
	}
	return collector{dual, classic}
}

func TestMetricTextGolden(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(goldenMetrics(t))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("pedantic registry rejects the metrics: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	got := buf.Bytes()
	golden := filepath.Join("testdata", "histogram.txt")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("text exposition differs from %s (run with -update after checking):\n%s", golden, cmp.Diff(string(want), string(got)))
	}
}

func TestMetricCarriesClassicAndNative(t *testing.T) {
	ms := goldenMetrics(t)
	var m dto.Metric
	if err := ms[0].Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != 8 || len(h.GetBucket()) != len(promhdr.DefaultBounds) {
		t.Fatalf("count %d, %d classic buckets; want 8 and %d", h.GetSampleCount(), len(h.GetBucket()), len(promhdr.DefaultBounds))
	}
	if h.GetSchema() != promhdr.MaxSchema || len(h.GetPositiveSpan()) == 0 {
		t.Fatalf("schema %d, spans %v: want native buckets at schema 8", h.GetSchema(), h.GetPositiveSpan())
	}
	// Decode spans and deltas back to absolute counts.
	var total int64
	idx, count := int32(0), int64(0)
	di := 0
	for _, sp := range h.GetPositiveSpan() {
		idx += sp.GetOffset()
		for range sp.GetLength() {
			count += h.GetPositiveDelta()[di]
			di++
			total += count
			idx++
		}
	}
	if total != 8 {
		t.Errorf("native buckets decode to %d observations, want 8", total)
	}
	if got := h.GetCreatedTimestamp().AsTime(); !got.Equal(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)) {
		t.Errorf("created = %v", got)
	}
	var m2 dto.Metric
	if err := ms[1].Write(&m2); err != nil {
		t.Fatal(err)
	}
	if m2.GetHistogram().Schema != nil || m2.GetHistogram().CreatedTimestamp != nil {
		t.Errorf("classic-only histogram has native fields or a created timestamp: %v", m2.GetHistogram())
	}
}
