package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the terminal report.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	p := ew.printf
	p("Run %s · %s · %s\n", r.RunID, r.Scenario, strings.ToUpper(r.State))
	if r.Message != "" {
		p("  %s\n", r.Message)
	}
	p("  %s model · %d agent(s) · seed %d · %s · planned %s, measured %s\n",
		r.Model, r.Agents, r.Seed, r.File, secs(r.PlannedS), secs(r.DurationS))
	t := r.Totals
	asked := ""
	if t.AskedRps > 0 {
		asked = fmt.Sprintf(" (asked %s/s)", num(t.AskedRps))
	}
	p("  requests %s · rate %s/s%s · errors %s (%.2f%%) · dropped %s\n\n",
		count(t.Requests), num(t.RateRps), asked, count(t.Errors), 100*t.ErrorRate, count(t.Dropped))

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "endpoint\tmethod\trequests\trate/s\tp50\tp90\tp99\tp99.9\tmax\tdropped\tstatus\terrors\t")
	for _, e := range r.Endpoints {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			e.Name, e.Method, count(e.Requests), num(e.RateRps),
			dur(e.Latency.P50), dur(e.Latency.P90), dur(e.Latency.P99), dur(e.Latency.P999), dur(e.Latency.Max),
			count(e.Dropped), kv(e.Status), kv(e.Errors))
	}
	if len(r.Endpoints) > 1 {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			"all", "", count(t.Requests), num(t.RateRps),
			dur(r.Latency.P50), dur(r.Latency.P90), dur(r.Latency.P99), dur(r.Latency.P999), dur(r.Latency.Max),
			count(t.Dropped), kv(t.Status), kv(t.ErrorKinds))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	p("\nLatency from intended start (corrected for coordinated omission), all responses:\n")
	writeHistogram(ew, r.Histogram)
	s := r.ServiceTime
	p("Service time from actual send (uncorrected): p50 %s · p90 %s · p99 %s · p99.9 %s · max %s\n",
		dur(s.P50), dur(s.P90), dur(s.P99), dur(s.P999), dur(s.Max))
	p("Precision: %s, %d significant digits, %s to %s.\n",
		r.Precision.Histogram, r.Precision.SignificantDigits, dur(r.Precision.LowestMs), dur(r.Precision.HighestMs))
	if len(r.Shards) > 0 {
		var parts []string
		for _, sh := range r.Shards {
			part := fmt.Sprintf("%d:%s %s", sh.Shard, sh.Agent, count(sh.Requests))
			if !sh.Done {
				part += " (incomplete)"
			}
			if sh.StopReason != "" {
				part += " (stopped: " + sh.StopReason + ")"
			}
			parts = append(parts, part)
		}
		p("Shards: %s\n", strings.Join(parts, " · "))
	}
	for _, e := range r.Events {
		p("Event %s %s: %s\n", e.At.Format("15:04:05.000"), e.Kind, e.Message)
	}
	writeAPI(ew, r)
	return ew.err
}

// writeAPI prints, for runs with API operations, how well each operation
// was reached and the findings.
func writeAPI(w *errWriter, r *Report) {
	var ops []Endpoint
	for _, e := range r.Endpoints {
		if e.Valid+e.Mutated > 0 {
			ops = append(ops, e)
		}
	}
	if len(ops) > 0 {
		w.printf("\nOperations (valid requests answered 2xx = reached):\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  operation\tvalid\treached\tmutated\t")
		for _, e := range ops {
			mark := ""
			if e.Valid > 0 && e.Reached == 0 {
				mark = "  never reached: nothing behind it was tested"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s (%.0f%%)\t%s\t%s\n", e.Name, count(e.Valid), count(e.Reached), pct(e.Reached, e.Valid), count(e.Mutated), mark)
		}
		_ = tw.Flush()
	}
	if len(ops) == 0 && len(r.Findings) == 0 {
		return
	}
	if len(r.Findings) == 0 {
		w.printf("\nFindings: none.\n")
		return
	}
	w.printf("\nFindings (%d):\n", len(r.Findings))
	for i, f := range r.Findings {
		where := f.Operation
		if f.Method != "" {
			where = f.Method + " " + f.Path + " (" + f.Operation + ")"
		}
		w.printf("\n%d. [%s] %s · %s · %s×\n", i+1, strings.ToUpper(f.Severity), f.Oracle, where, count(f.Count))
		if f.Mutation != "" {
			w.printf("   sent:     %s — %s\n", f.Mutation, f.Detail)
		}
		w.printf("   seen:     %s\n", f.Evidence)
		cls := f.CWE
		if f.OWASP != "" {
			cls = strings.TrimPrefix(cls+" · "+f.OWASP, " · ")
		}
		if cls != "" {
			w.printf("   class:    %s\n", cls)
		}
		w.printf("   first:    %s", f.FirstSeen.Format("15:04:05.000"))
		if f.LoadRPS > 0 {
			w.printf(" at %s/s", num(f.LoadRPS))
		}
		w.printf(" · id %s\n", f.ID)
		switch {
		case len(f.Curl) > 600:
			w.printf("   repro:    a %s-byte command; see \"curl\" in the JSON report (barrage report RUN --format json)\n", count(int64(len(f.Curl))))
		case f.Curl != "":
			w.printf("   repro:    %s\n", f.Curl)
		}
	}
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}

// writeHistogram draws log-scale buckets as horizontal bars.
func writeHistogram(w io.Writer, bs []Bucket) {
	if len(bs) == 0 {
		fmt.Fprintln(w, "  (no responses)")
		return
	}
	var peak int64
	for _, b := range bs {
		peak = max(peak, b.Count)
	}
	const width = 40
	for _, b := range bs {
		n := 0
		if peak > 0 {
			n = int((b.Count*width + peak - 1) / peak)
		}
		fmt.Fprintf(w, "  %9s – %-9s │%-*s %s\n", dur(b.FromMs), dur(b.ToMs), width, strings.Repeat("█", n), count(b.Count))
	}
}

// dur formats milliseconds compactly with the unit.
func dur(msv float64) string {
	switch {
	case msv == 0:
		return "0"
	case msv < 1:
		return strconv.FormatFloat(msv*1000, 'f', 0, 64) + "µs"
	case msv < 10:
		return strconv.FormatFloat(msv, 'f', 2, 64) + "ms"
	case msv < 1000:
		return strconv.FormatFloat(msv, 'f', 1, 64) + "ms"
	case msv < 60_000:
		return strconv.FormatFloat(msv/1000, 'f', 2, 64) + "s"
	case msv < 3_600_000:
		return strconv.FormatFloat(msv/60_000, 'f', 1, 64) + "m"
	default:
		return strconv.FormatFloat(msv/3_600_000, 'f', 1, 64) + "h"
	}
}

func secs(s float64) string { return strconv.FormatFloat(s, 'f', 1, 64) + "s" }

func num(f float64) string {
	if f >= 100 {
		return count(int64(f + 0.5))
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// count formats an integer with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func kv(m map[string]int64) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+":"+count(m[k]))
	}
	return strings.Join(parts, " ")
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}
