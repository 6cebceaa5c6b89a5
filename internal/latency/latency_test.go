package latency_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/latency"
)

// logUniform returns a duration spread evenly over the decades 1 µs .. ~1 h.
func logUniform(rng *rand.Rand) time.Duration {
	us := math.Pow(10, rng.Float64()*9.5)
	return time.Duration(us * float64(time.Microsecond))
}

func histOf(ds ...time.Duration) *latency.Histogram {
	r := latency.NewRecorder()
	for _, d := range ds {
		r.Record(d)
	}
	h := latency.NewHistogram()
	h.MergeRecorder(r)
	return h
}

func TestRecordClamps(t *testing.T) {
	hour := histOf(time.Hour)
	tests := []struct {
		name    string
		d       time.Duration
		wantMin time.Duration
	}{
		{"negative", -time.Second, time.Microsecond},
		{"zero", 0, time.Microsecond},
		{"below 1µs", 999 * time.Nanosecond, time.Microsecond},
		{"fraction truncated", 1999 * time.Nanosecond, time.Microsecond},
		{"exact 1µs", time.Microsecond, time.Microsecond},
		{"unit resolution", 1999 * time.Microsecond, 1999 * time.Microsecond},
		{"1h", time.Hour, hour.Min()},
		{"above 1h", 2 * time.Hour, hour.Min()},
		{"max duration", math.MaxInt64, hour.Min()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(tt.d)
			if h.Count() != 1 {
				t.Fatalf("Count = %d, want 1", h.Count())
			}
			if got := h.Min(); got != tt.wantMin {
				t.Errorf("Min = %v, want %v", got, tt.wantMin)
			}
		})
	}
	// The clamp target itself: 1 h lies in the recorded bucket, which is
	// narrower than 0.1% of it.
	if lo, hi := hour.Min(), hour.Max(); lo > time.Hour || hi < time.Hour || hi-lo > time.Hour/1000 {
		t.Errorf("bucket of 1h = [%v, %v]", lo, hi)
	}
}

func TestRecorderZeroValueAndReset(t *testing.T) {
	var r latency.Recorder
	if r.Count() != 0 {
		t.Fatalf("zero Recorder Count = %d", r.Count())
	}
	r.Reset() // no-op, must not panic
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h, err := latency.Decode(b)
	if err != nil {
		t.Fatalf("decoding an empty recorder: %v", err)
	}
	if h.Count() != 0 {
		t.Fatalf("decoded empty recorder has Count %d", h.Count())
	}
	r.Record(time.Millisecond)
	r.Record(2 * time.Millisecond)
	if r.Count() != 2 {
		t.Fatalf("Count = %d, want 2", r.Count())
	}
	r.Reset()
	if r.Count() != 0 {
		t.Fatalf("Count after Reset = %d", r.Count())
	}
	r.Record(3 * time.Millisecond)
	h = latency.NewHistogram()
	h.MergeRecorder(&r)
	if got := latency.BucketsOf(h); !cmp.Equal(got, [][2]int64{{3000, 1}}) {
		t.Fatalf("after Reset and one Record, buckets = %v", got)
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	many := make([]time.Duration, 5000)
	for i := range many {
		many[i] = logUniform(rng)
	}
	tests := []struct {
		name string
		ds   []time.Duration
	}{
		{"empty", nil},
		{"one", []time.Duration{42 * time.Millisecond}},
		{"extremes", []time.Duration{0, time.Microsecond, time.Hour, 5 * time.Hour}},
		{"log-uniform", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := latency.NewRecorder()
			for _, d := range tt.ds {
				r.Record(d)
			}
			want := latency.NewHistogram()
			want.MergeRecorder(r)

			// Recorder -> Encode -> Decode.
			b, err := r.Encode()
			if err != nil {
				t.Fatal(err)
			}
			got, err := latency.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(latency.BucketsOf(want), latency.BucketsOf(got)); d != "" {
				t.Fatalf("Recorder round trip (-want +got):\n%s", d)
			}
			if got.Count() != int64(len(tt.ds)) {
				t.Fatalf("Count = %d, want %d", got.Count(), len(tt.ds))
			}

			// Histogram -> Encode -> Decode, byte-identical to the recorder's.
			hb, err := want.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if string(hb) != string(b) {
				t.Errorf("Histogram.Encode differs from Recorder.Encode for the same counts")
			}
			got2, err := latency.Decode(hb)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(latency.BucketsOf(want), latency.BucketsOf(got2)); d != "" {
				t.Fatalf("Histogram round trip (-want +got):\n%s", d)
			}
		})
	}
}

func TestZeroHistogram(t *testing.T) {
	var h latency.Histogram
	if h.Count() != 0 || h.Quantile(0.5) != 0 || h.Min() != 0 || h.Max() != 0 || h.Mean() != 0 {
		t.Fatalf("zero Histogram is not empty")
	}
	if h.LogBuckets(10) != nil || h.Spectrum(5) != nil {
		t.Fatalf("zero Histogram has buckets or points")
	}
	b, err := h.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := latency.Decode(b); err != nil || d.Count() != 0 {
		t.Fatalf("Decode(empty) = %v, %v", d, err)
	}
	h.Merge(histOf(time.Millisecond))
	if h.Count() != 1 {
		t.Fatalf("zero Histogram after Merge: Count = %d", h.Count())
	}
	var z latency.Histogram
	if err := z.MergeEncoded(b); err != nil || z.Count() != 0 {
		t.Fatalf("MergeEncoded(empty) = %v, Count %d", err, z.Count())
	}
}

func TestQuantileKnownData(t *testing.T) {
	ds := make([]time.Duration, 1000)
	for i := range ds {
		ds[i] = time.Duration(i+1) * time.Microsecond
	}
	rng := rand.New(rand.NewPCG(1, 1))
	rng.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	h := histOf(ds...) // 1..1000 µs, each once: every value has its own bucket
	tests := []struct {
		q    float64
		want time.Duration
	}{
		{-1, 1 * time.Microsecond},
		{0, 1 * time.Microsecond},
		{0.0001, 1 * time.Microsecond},
		{0.25, 250 * time.Microsecond},
		{0.5, 500 * time.Microsecond},
		{0.9, 900 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{0.999, 999 * time.Microsecond},
		{1, 1000 * time.Microsecond},
		{2, 1000 * time.Microsecond},
		{math.NaN(), 0},
	}
	for _, tt := range tests {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if h.Min() != time.Microsecond || h.Max() != time.Millisecond {
		t.Errorf("Min, Max = %v, %v; want 1µs, 1ms", h.Min(), h.Max())
	}
	if got, want := h.Mean(), 500500*time.Nanosecond; got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

// TestQuantileAccuracy compares quantiles with the exact order statistics of
// random data: the histogram reports the top of the observation's bucket,
// which is at most 1/1024 above it.
func TestQuantileAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ds := make([]time.Duration, 20000)
	for i := range ds {
		ds[i] = logUniform(rng).Truncate(time.Microsecond)
	}
	h := histOf(ds...)
	slices.Sort(ds)
	for _, q := range []float64{0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999, 1} {
		rank := max(int(q*float64(len(ds))+0.5), 1)
		exact := max(ds[rank-1], time.Microsecond)
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/1024 {
			t.Errorf("Quantile(%v) = %v, exact %v", q, got, exact)
		}
	}
}

func TestMinMaxMeanAcrossBuckets(t *testing.T) {
	// 3000 µs lies in a bucket of width 2 ([3000, 3001]); 1000 and 2000 have
	// unit buckets.
	h := histOf(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
	if got, want := h.Min(), time.Millisecond; got != want {
		t.Errorf("Min = %v, want %v", got, want)
	}
	if got, want := h.Max(), 3001*time.Microsecond; got != want {
		t.Errorf("Max = %v, want %v", got, want)
	}
	// Mean of the bucket midpoints 1000, 2000 and 3001 µs.
	if got, want := h.Mean(), time.Duration(math.Round(6001.0/3*1000)); got != want {
		t.Errorf("Mean = %v, want %v", got, want)
	}
}

func TestResetAndClone(t *testing.T) {
	h := histOf(time.Millisecond, time.Second)
	c := h.Clone()
	h.Reset()
	if h.Count() != 0 {
		t.Fatalf("Count after Reset = %d", h.Count())
	}
	if c.Count() != 2 || c.Max() < time.Second {
		t.Fatalf("Clone changed by Reset of the original: Count %d Max %v", c.Count(), c.Max())
	}
	c.Merge(histOf(time.Minute))
	if h.Count() != 0 {
		t.Fatalf("original changed by Merge into the clone")
	}
	var z latency.Histogram
	if zc := z.Clone(); zc.Count() != 0 {
		t.Fatalf("Clone of zero Histogram not empty")
	}
	c.Merge(c)
	if c.Count() != 6 {
		t.Fatalf("self-merge Count = %d, want 6", c.Count())
	}
}

// TestMergeExactness records N random values into K recorders, ships each
// through Encode/Decode and merges them: the result must equal one recorder
// that saw every value, bucket for bucket.
func TestMergeExactness(t *testing.T) {
	for _, tc := range []struct{ n, k int }{{1, 1}, {100, 7}, {20000, 16}, {5000, 1}} {
		rng := rand.New(rand.NewPCG(uint64(tc.n), uint64(tc.k)))
		all := latency.NewRecorder()
		parts := make([]*latency.Recorder, tc.k)
		for i := range parts {
			parts[i] = latency.NewRecorder()
		}
		for range tc.n {
			d := logUniform(rng)
			all.Record(d)
			parts[rng.IntN(tc.k)].Record(d)
		}
		merged := latency.NewHistogram()
		for _, p := range parts {
			b, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			if err := merged.MergeEncoded(b); err != nil {
				t.Fatal(err)
			}
		}
		want := latency.NewHistogram()
		want.MergeRecorder(all)
		if merged.Count() != int64(tc.n) {
			t.Fatalf("n=%d k=%d: merged Count = %d", tc.n, tc.k, merged.Count())
		}
		for q := 0.0; q <= 1; q += 0.001 {
			if a, b := merged.Quantile(q), want.Quantile(q); a != b {
				t.Fatalf("n=%d k=%d: Quantile(%v) merged %v, single %v", tc.n, tc.k, q, a, b)
			}
		}
		if d := cmp.Diff(latency.BucketsOf(want), latency.BucketsOf(merged)); d != "" {
			t.Fatalf("n=%d k=%d: buckets differ (-single +merged):\n%s", tc.n, tc.k, d)
		}
	}
}

func TestLogBuckets(t *testing.T) {
	us := time.Microsecond
	h := histOf(1*us, 5*us, 10*us, 99*us, 100*us, 1000*us)
	got := h.LogBuckets(1)
	want := []latency.Bucket{
		{Low: 1 * us, High: 10 * us, Count: 2},
		{Low: 10 * us, High: 100 * us, Count: 2},
		{Low: 100 * us, High: 1000 * us, Count: 1},
		{Low: 1000 * us, High: 10000 * us, Count: 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("LogBuckets(1) (-want +got):\n%s", d)
	}
	// Empty buckets in between are kept so a plot has no gaps.
	got = histOf(2*us, 2*time.Millisecond).LogBuckets(1)
	if len(got) != 4 || got[1].Count != 0 || got[2].Count != 0 {
		t.Errorf("LogBuckets with a gap = %+v", got)
	}

	rng := rand.New(rand.NewPCG(5, 6))
	var ds []time.Duration
	for range 10000 {
		ds = append(ds, logUniform(rng))
	}
	h = histOf(ds...)
	for _, per := range []int{-3, 0, 1, 3, 10, 20, 100, 5000} {
		bs := h.LogBuckets(per)
		var sum int64
		for i, b := range bs {
			sum += b.Count
			if b.Low >= b.High {
				t.Fatalf("perDecade %d: bucket %d is empty or reversed: %+v", per, i, b)
			}
			if i > 0 && bs[i-1].High != b.Low {
				t.Fatalf("perDecade %d: gap between buckets %d and %d", per, i-1, i)
			}
		}
		if sum != h.Count() {
			t.Errorf("perDecade %d: counts sum to %d, want %d", per, sum, h.Count())
		}
		if first, last := bs[0], bs[len(bs)-1]; first.Count == 0 || last.Count == 0 ||
			h.Min() < first.Low || h.Min() >= first.High || h.Max() < last.Low {
			t.Errorf("perDecade %d: range [%v, %v) does not start at Min %v or end at Max %v",
				per, first.Low, last.High, h.Min(), h.Max())
		}
	}
}
