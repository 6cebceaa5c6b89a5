package latency

import "time"

// Buckets calls fn for each populated bucket of h in ascending order, with
// the lowest and the highest value that share the bucket and the number of
// observations in it, until fn returns false. Values are whole microseconds
// (observations are truncated to the microsecond when recorded), so an
// observation counted in a bucket lay in [lowest, highest+1µs). A bucket is
// 1 µs wide below 2048 µs and narrower than 0.1% of its values above. The
// counts add up to Count(); an empty histogram calls fn never.
func (h *Histogram) Buckets(fn func(lowest, highest time.Duration, count int64) bool) {
	h.forEach(func(v, c int64) bool {
		return fn(micros(v), micros(highestEquivalent(v)), c)
	})
}
