package latency

import (
	"math"
	"math/bits"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram is a sparse HDR histogram with the package geometry, for merging,
// storing and querying. Its memory grows with the number of populated buckets
// (at most about 280 KiB when every bucket is populated, usually a few KiB).
//
// The zero value is an empty histogram ready to use. A Histogram is not safe
// for concurrent use and must not be copied by value after first use; use
// Clone.
type Histogram struct {
	p *hdr.PackedHistogram
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{p: newPacked()} }

func (h *Histogram) init() {
	if h.p == nil {
		h.p = newPacked()
	}
}

// Merge adds the counts of o to h. A nil or empty o is a no-op; h.Merge(h)
// doubles every count. Counts that would push the total past math.MaxInt64
// are dropped (over 9e18 observations, unreachable in practice).
func (h *Histogram) Merge(o *Histogram) {
	if o == nil || o.p == nil || o.p.TotalCount() == 0 {
		return
	}
	h.init()
	h.p.Merge(o.p)
}

// MergeRecorder adds the counts of r to h; r is left unchanged. A nil or
// empty r is a no-op.
func (h *Histogram) MergeRecorder(r *Recorder) {
	if r == nil || r.h == nil || r.h.TotalCount() == 0 {
		return
	}
	h.init()
	h.p.MergeFrom(r.h)
}

// MergeEncoded decodes b (see Decode) and adds its counts to h. On error h is
// unchanged.
func (h *Histogram) MergeEncoded(b []byte) error {
	o, err := Decode(b)
	if err != nil {
		return err
	}
	h.Merge(o)
	return nil
}

// Count returns the number of observations in h.
func (h *Histogram) Count() int64 {
	if h.p == nil {
		return 0
	}
	return h.p.TotalCount()
}

// Quantile returns the value below or at which a fraction q of the
// observations fall, as the highest value equivalent to the bucket holding the
// observation of rank round(q·Count) (at least 1); Quantile(0) is the lowest
// value equivalent to the smallest observation. q is clamped to [0, 1]; NaN
// and an empty histogram give 0.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 || math.IsNaN(q) {
		return 0
	}
	q = min(max(q, 0), 1)
	return micros(h.p.ValueAtPercentile(q * 100))
}

// Min returns the lowest value equivalent to the smallest observation, or 0
// when h is empty.
func (h *Histogram) Min() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return micros(h.p.Min())
}

// Max returns the highest value equivalent to the largest observation, or 0
// when h is empty. It may exceed 1 h by the width of the top bucket.
func (h *Histogram) Max() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return micros(h.p.Max())
}

// Mean returns the mean of the observations, each taken at the middle of its
// bucket, rounded to the nanosecond; 0 when h is empty.
func (h *Histogram) Mean() time.Duration {
	if h.Count() == 0 {
		return 0
	}
	return time.Duration(math.Round(h.p.Mean() * float64(time.Microsecond)))
}

// Encode returns h in the HdrHistogram V2 compressed encoding (base64 text).
// An empty histogram encodes to a valid empty histogram.
func (h *Histogram) Encode() ([]byte, error) {
	h.init()
	return h.p.Encode()
}

// Reset empties h, keeping its memory.
func (h *Histogram) Reset() {
	if h.p != nil {
		h.p.Reset()
	}
}

// Clone returns an independent copy of h.
func (h *Histogram) Clone() *Histogram {
	if h.p == nil {
		return NewHistogram()
	}
	return &Histogram{p: h.p.Clone()}
}

// forEach calls fn for each populated bucket in ascending order with the
// bucket's lowest equivalent value (µs) and its count.
func (h *Histogram) forEach(fn func(lowest, count int64) bool) {
	if h.p == nil {
		return
	}
	h.p.ForEachBucket(fn)
}

// micros converts whole microseconds to a Duration.
func micros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// subBucketBits is log2 of the number of sub-buckets of the package geometry:
// 3 significant digits need unit resolution up to 2000, so 2048 = 2^11
// sub-buckets; above that every power-of-two bucket holds 1024 sub-buckets.
const subBucketBits = 11

// bucketWidth returns the number of distinct microsecond values that share
// the bucket of v (µs, v >= 0) in the package geometry.
func bucketWidth(v int64) int64 {
	return int64(1) << bits.Len64(uint64(v)>>subBucketBits)
}

// highestEquivalent returns the largest value (µs) that shares the bucket
// whose lowest value is v.
func highestEquivalent(v int64) int64 { return v + bucketWidth(v) - 1 }
