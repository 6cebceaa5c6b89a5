package latency_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/barrage-dev/barrage/internal/latency"
)

// TestSpectrumMatchesLibrary compares Spectrum, computed over the sparse
// buckets, with hdrhistogram-go's dense percentile iterator (the one behind
// its .hgrm output) on the same data.
func TestSpectrumMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	cases := map[string][]time.Duration{
		"one value":   {5 * time.Millisecond},
		"two buckets": {time.Millisecond, time.Millisecond, time.Millisecond, time.Second},
	}
	var many, skewed []time.Duration
	for range 30000 {
		many = append(many, logUniform(rng))
		skewed = append(skewed, time.Duration(rng.ExpFloat64()*float64(20*time.Millisecond)))
	}
	cases["log-uniform"] = many
	cases["exponential"] = skewed
	for name, ds := range cases {
		for _, ticks := range []int{1, 5, 10} {
			dense := hdr.New(latency.LowestMicros, latency.HighestMicros, latency.Digits)
			rec := latency.NewRecorder()
			for _, d := range ds {
				rec.Record(d)
				if err := dense.RecordValue(max(int64(d/time.Microsecond), 1)); err != nil {
					t.Fatal(err)
				}
			}
			h := latency.NewHistogram()
			h.MergeRecorder(rec)
			got := h.Spectrum(ticks)
			want := dense.CumulativeDistributionWithTicks(int32(ticks))
			if len(got) != len(want) {
				t.Fatalf("%s ticks=%d: %d points, library has %d", name, ticks, len(got), len(want))
			}
			for i := range got {
				g, w := got[i], want[i]
				if math.Abs(g.Percentile*100-w.Quantile) > 1e-9 || g.Count != w.Count || g.Value != time.Duration(w.ValueAt)*time.Microsecond {
					t.Fatalf("%s ticks=%d point %d: got %+v, library %+v", name, ticks, i, g, w)
				}
			}
			last := got[len(got)-1]
			if last.Percentile != 1 || last.Count != h.Count() || last.Value != h.Max() {
				t.Fatalf("%s: last point %+v, want percentile 1, Count %d, Max %v", name, last, h.Count(), h.Max())
			}
			for i := 1; i < len(got); i++ {
				if got[i].Percentile < got[i-1].Percentile || got[i].Value < got[i-1].Value || got[i].Count < got[i-1].Count {
					t.Fatalf("%s: points %d and %d not monotone: %+v %+v", name, i-1, i, got[i-1], got[i])
				}
			}
		}
	}
}
