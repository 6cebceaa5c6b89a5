package latency

// Test hooks into unexported details.

// BucketsOf lists the populated buckets of h as (lowest value in µs, count).
func BucketsOf(h *Histogram) [][2]int64 {
	var out [][2]int64
	h.forEach(func(v, c int64) bool {
		out = append(out, [2]int64{v, c})
		return true
	})
	return out
}

var HighestEquivalent = highestEquivalent

const (
	CountsLen     = countsLen
	MaxPayloadLen = maxPayloadLen
)
