package latency

import (
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// The fixed geometry of every histogram of this package. Values are recorded
// in microseconds.
const (
	// LowestMicros is the lowest discernible value, in microseconds.
	LowestMicros = 1
	// HighestMicros is the highest trackable value, in microseconds (1 h).
	HighestMicros = 3_600_000_000
	// Digits is the number of significant decimal digits kept for every
	// value: two values that differ by less than one part in 1000 may share a
	// bucket.
	Digits = 3
)

// Recorder is a dense HDR histogram for the hot path. Record is O(1) and never
// allocates; the counts take about 184 KiB, allocated by NewRecorder or by the
// first Record on a zero Recorder.
//
// The zero value is an empty recorder ready to use. A Recorder is not safe for
// concurrent use and must not be copied after first use.
type Recorder struct {
	h       *hdr.Histogram
	scratch *hdr.PackedHistogram // reused by Encode
}

// NewRecorder returns an empty recorder with its counts allocated.
func NewRecorder() *Recorder {
	return &Recorder{h: newDense()}
}

func newDense() *hdr.Histogram { return hdr.New(LowestMicros, HighestMicros, Digits) }

func newPacked() *hdr.PackedHistogram { return hdr.NewPacked(LowestMicros, HighestMicros, Digits) }

// Record adds one observation of d. Durations below 1 µs (including zero and
// negative ones) are recorded as 1 µs and durations above 1 h as 1 h; d is
// truncated to whole microseconds.
func (r *Recorder) Record(d time.Duration) {
	if r.h == nil {
		r.h = newDense()
	}
	// The clamped value is always inside the geometry, so RecordValue cannot
	// fail (and does not allocate on success).
	_ = r.h.RecordValue(clampMicros(d))
}

// clampMicros converts d to whole microseconds within [LowestMicros, HighestMicros].
func clampMicros(d time.Duration) int64 {
	v := int64(d / time.Microsecond)
	switch {
	case v < LowestMicros:
		return LowestMicros
	case v > HighestMicros:
		return HighestMicros
	}
	return v
}

// Count returns the number of observations recorded since the last Reset.
func (r *Recorder) Count() int64 {
	if r.h == nil {
		return 0
	}
	return r.h.TotalCount()
}

// Reset empties the recorder, keeping its memory.
func (r *Recorder) Reset() {
	if r.h != nil {
		r.h.Reset()
	}
}

// Encode returns the recorder's counts in the HdrHistogram V2 compressed
// encoding (base64 text, as other HdrHistogram tools read it). It does not
// reset the recorder. An empty recorder encodes to a valid empty histogram.
func (r *Recorder) Encode() ([]byte, error) {
	if r.scratch == nil {
		r.scratch = newPacked()
	}
	r.scratch.Reset()
	if r.h != nil {
		r.scratch.MergeFrom(r.h)
	}
	return r.scratch.Encode()
}
