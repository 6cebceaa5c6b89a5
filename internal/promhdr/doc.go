// Package promhdr holds what the coordinator's and the agents' /metrics
// share: the conversion of the project's HDR latency histograms into
// Prometheus histograms, endpoint label values ([EndpointLabels], at most
// [MaxEndpoints] per run) and per-endpoint counters summed from result
// windows ([Counts]).
//
// The conversion is exact: every count comes from the HDR buckets, nothing
// is resampled or interpolated.
//
// [Convert] builds both representations Prometheus knows:
//
//   - classic buckets at fixed upper bounds (seconds, [DefaultBounds]), as
//     cumulative counts: an HDR bucket goes to the first bound at or above
//     its highest equivalent value;
//   - native (sparse, exponential) buckets at the finest schema (at most 8,
//     buckets 2^(2^-schema) wide) that keeps the populated buckets within a
//     limit, each HDR bucket again placed by its highest equivalent value.
//
// [Histogram.Metric] carries both in one constant metric, as client_golang's
// own histograms do when given classic buckets and a native bucket factor:
// the text format shows the classic buckets, the protobuf format (what a
// Prometheus server with native histograms enabled asks for) has both.
//
// Resolution: HDR buckets are 1 µs wide below 2048 µs and narrower than 0.1%
// of their values above, and observations are truncated to the microsecond
// when recorded. So an observation counted at or below a bound b may exceed b
// by less than 1 µs below 2048 µs, or by less than 0.1% of b above; and an
// observation counted above b may lie at most 0.1% below it (its HDR bucket
// straddles b). The same holds for native bucket edges. The sum is estimated
// from bucket midpoints (HDR histograms keep no exact sum), within the same
// 0.1%.
//
// Usage:
//
//	desc := prometheus.NewDesc("barrage_request_duration_seconds", "…", []string{"run"}, nil)
//	ph := promhdr.Convert(hist, promhdr.DefaultBounds, promhdr.DefaultMaxNativeBuckets)
//	m, err := ph.Metric(desc, createdAt, runID)
//	if err == nil {
//		ch <- m // in a prometheus.Collector's Collect
//	}
//
// Concurrency: Convert only reads its histogram (which must not change
// meanwhile, see internal/latency); a Histogram and the Metric built from it
// are immutable and safe for concurrent use. EndpointLabels is a pure
// function; a Counts is a plain value, to be guarded by its owner.
package promhdr
