// Package htmlreport renders a run's results (barragev1.RunResult) as one
// self-contained HTML page: inline CSS, inline SVG charts drawn by
// internal/plot, no CDN and no external fetch of any kind (the page carries
// a Content-Security-Policy that forbids them), so it works offline and can
// be mailed or archived as a single file. The only script is the inline
// onclick of the "Copy" buttons next to reproducers.
//
// The run page mirrors the text report (internal/report) and adds charts.
// Sections (by id) and charts (by data-plot; series by data-series):
//
//	header              run, scenario, state, target, load, agents, seed, duration, precision
//	summary             requests, rate, errors, dropped, percentiles, bytes
//	endpoints           per-endpoint table with an "all" row
//	latency             spectrum: corrected, uncorrected (x = 1/(1-p), log)
//	latency-over-time   latency-over-time: p50, p99, max (log y)
//	throughput          throughput: requests/s, asked/s (open model, when known),
//	                    errors/s, dropped/s (when any); markers: stage, agent-lost, cancelled
//	histograms          histogram: responses; one endpoint-histogram per endpoint
//	                    (data-endpoint = name): responses
//	status              status: requests (status codes, then "error: KIND")
//	agents              agents: requests (one bar per shard); shard and event tables
//	thresholds          none are defined yet (the place where they will be listed)
//	findings            operations table; one article per finding with its reproducer
//
// The comparison page has compare-spectrum and compare-histogram (series
// baseline, candidate), a deltas table (rows with data-metric and class
// worse/better) and per-endpoint deltas.
//
// Time series are downsampled to at most about 600 points per line: p99,
// max, errors/s and dropped/s keep the highest window of each point, so no
// spike is lost. Raw requests are never rendered; findings show at most 200
// entries, reproducers up to 8 KiB and 2 KiB of request and response each.
//
// Usage:
//
//	err := htmlreport.Write(f, res, htmlreport.Options{})        // a whole page
//	err = htmlreport.WriteBody(w, res, htmlreport.Options{Live: true}) // <main> only
//	css := htmlreport.Style()                                     // for the live view's <head>
//	err = htmlreport.WriteCompare(f, base, cand, htmlreport.Options{})
//
// Output is deterministic: the same RunResult gives the same bytes.
//
// Concurrency: every function is safe for concurrent use; they only read
// their arguments.
package htmlreport
