// Package latency records request latencies into HDR histograms and moves them
// between machines in the standard HdrHistogram V2 compressed encoding.
//
// It is the only package of the project that imports hdrhistogram-go; the rest
// of the code goes through the small API here. Every histogram has the same
// fixed geometry: values in microseconds from [LowestMicros] (1 µs) to
// [HighestMicros] (1 h) with [Digits] (3) significant decimal digits, so any two
// histograms can be merged exactly.
//
// There are two types:
//
//   - [Recorder] is a dense histogram (about 184 KiB) for the hot path: Record
//     is a few array operations and never allocates. Keep one per worker group
//     or per P, never one per connection.
//   - [Histogram] is a sparse histogram whose size grows with the number of
//     populated buckets (usually a few KiB). It merges recorders and decoded
//     payloads, answers quantile queries and encodes itself for storage.
//
// Usage:
//
//	rec := latency.NewRecorder()
//	rec.Record(time.Since(intended))          // hot path, no allocation
//	b, _ := rec.Encode()                        // once per window, then rec.Reset()
//	total := latency.NewHistogram()
//	_ = total.MergeEncoded(b)                   // on the coordinator
//	p99 := total.Quantile(0.99)
//
// Interval logs: [WriteLog] and [LogWriter] write tagged interval histograms
// in HdrHistogram's log format (.hlog, version 1.3), which HistogramLogProcessor
// and HdrHistogramVisualizer read (values are microseconds: give those tools
// an output value unit ratio of 1000 to see milliseconds); [ReadLog] and
// [LogReader] read such logs back, as hardened as Decode.
//
//	lw, _ := latency.NewLogWriter(w, runStart, "barrage run 42")
//	_ = lw.Write(latency.Interval{Tag: "login", Start: ws, Length: time.Second, Hist: h})
//	ivs, _ := latency.ReadLog(r)                // or NewLogReader(r).Next() in a loop
//
// [Decode] treats its input as hostile: it rejects payloads larger than
// [MaxEncodedSize], a geometry other than ours, trailing or truncated data and
// bucket counts whose sum overflows int64, and it never allocates more than a
// few MiB, whatever the payload claims.
//
// Concurrency: no type here is safe for concurrent use. Give each goroutine
// its own Recorder (or guard it with a mutex) and synchronize access to a
// Histogram. Distinct values may be used concurrently.
package latency
