// Package report turns a run's merged results (barragev1.RunResult) into
// the report users read: a Report value with a documented JSON form
// (docs/results.md), and a terminal rendering with a per-endpoint table and
// an ASCII latency histogram. Reports are pure functions of the RunResult,
// so any client can build them from the coordinator's stored results, after
// the run, and after a coordinator restart.
//
// Usage:
//
//	rep, err := report.Build(res)
//	report.WriteText(os.Stdout, rep)
//	json.NewEncoder(f).Encode(rep)
//
// Concurrency: Build and the writers are safe for concurrent use on
// distinct values.
package report
