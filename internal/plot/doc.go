// Package plot draws charts as inline SVG, in pure Go: a line chart (linear
// or log axes, several series with a legend, vertical markers), a histogram
// of bins with explicit edges (log-scale latency buckets) and a horizontal
// bar chart (breakdowns, shares).
//
// Every chart is written as one <svg> element:
//
//	<svg class="plot" data-plot="NAME" ...>
//
// and each of its series as one element carrying class="series" and
// data-series="SERIES", so tests and scripts can find charts and count their
// series. Legends, grids and markers never carry class="series". A chart
// without data is a small <svg> that says "no data" (with the same class and
// data-plot, and no series).
//
// Output is deterministic: the same chart value gives the same bytes.
// Coordinates are written with one decimal, all text is XML-escaped (and
// characters XML cannot hold are replaced by U+FFFD), so every chart parses
// as XML on its own and can be embedded in HTML as is. Nothing refers to an
// external resource.
//
// Axis values carry a Unit that chooses both the ticks and their labels:
// Number (1-2-5 steps, 1.5k), Millis (durations in milliseconds: 250µs, 12ms,
// 1.5s) or Seconds (time offsets: steps of 15 s, 5 min, 1 h; 1m30s).
//
// Usage:
//
//	c := plot.LineChart{Name: "latency", Title: "Latency over time",
//		X: plot.Axis{Label: "time", Unit: plot.Seconds},
//		Y: plot.Axis{Label: "latency", Unit: plot.Millis, Log: true},
//		Series: []plot.Series{{Name: "p99", Points: pts}}}
//	err := c.Write(w)
//
// Concurrency: charts are plain values; Write only reads its receiver, so
// distinct charts (or the same chart) may be written concurrently.
package plot
