package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// hlogAllTag names the series that merges every endpoint.
const hlogAllTag = "all"

// writeHlog writes the run of res as an HdrHistogram interval log to w (see
// WriteHlog).
func writeHlog(ctx context.Context, c *client, res *pb.RunResult, w io.Writer) error {
	return WriteHlog(ctx, c.ctl, res, w)
}

// WriteHlog writes a run's latency, window by window, as an HdrHistogram
// interval log (.hlog, latency.WriteLog's format) to w: for every window from
// GetIntervals, one line per endpoint that reported in it, tagged with the
// endpoint's name (request templates' names, then operation ids, made valid
// tags by latency.SanitizeTag and unique with a -2, -3... suffix; a name that
// sanitizes to nothing becomes endpoint-N), then one line tagged "all" that
// merges them. The histograms are the latency from the intended start of
// every response (transport errors excluded), the population of the report's
// latency_ms, in microseconds: HdrHistogram tools need an output value unit
// ratio of 1000 (HistogramLogProcessor -outputValueUnitRatio 1000) to show
// milliseconds, and -tag NAME to pick a series. The log's start time is the
// run's start (or the first window's, if earlier). res needs the status
// (run id, start) and the plan (endpoint names).
func WriteHlog(ctx context.Context, ctl pb.ControlServiceClient, res *pb.RunResult, w io.Writer) error {
	runID := res.GetStatus().GetRunId()
	stream, err := ctl.GetIntervals(ctx, &pb.GetIntervalsRequest{RunId: runID})
	if err != nil {
		return fmt.Errorf("intervals of run %s: %w", runID, err)
	}
	tags := hlogTags(res.GetPlan())
	comment := fmt.Sprintf("barrage run %s (%s): latency from the intended start of every response, in microseconds\n"+
		"tags: one per endpoint and %q; read with -outputValueUnitRatio 1000 for milliseconds", runID, res.GetPlan().GetName(), hlogAllTag)
	start := res.GetStatus().GetStartAt().AsTime()
	if res.GetStatus().GetStartAt() == nil {
		start = res.GetStatus().GetCreatedAt().AsTime()
	}
	bw := bufio.NewWriter(w)
	var lw *latency.LogWriter
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("intervals of run %s: %w", runID, err)
		}
		ivStart, length := m.GetStart().AsTime(), m.GetLength().AsDuration()
		if lw == nil {
			if ivStart.Before(start) {
				start = ivStart
			}
			if lw, err = latency.NewLogWriter(bw, start, comment); err != nil {
				return err
			}
		}
		if ivStart.Before(start) {
			// Only a window that starts before the first one (a clock step
			// on the coordinator) can get here; the format cannot place it.
			ivStart = start
		}
		all := latency.NewHistogram()
		for _, e := range m.GetEndpoints() {
			h, err := latency.Decode(e.GetLatency())
			if err != nil {
				return fmt.Errorf("run %s window %d endpoint %d: %w", runID, m.GetSeq(), e.GetEndpoint(), err)
			}
			tag := "endpoint-" + strconv.Itoa(int(e.GetEndpoint()))
			if i := int(e.GetEndpoint()); i >= 0 && i < len(tags) {
				tag = tags[i]
			}
			if err := lw.Write(latency.Interval{Tag: tag, Start: ivStart, Length: length, Hist: h}); err != nil {
				return err
			}
			all.Merge(h)
		}
		if err := lw.Write(latency.Interval{Tag: hlogAllTag, Start: ivStart, Length: length, Hist: all}); err != nil {
			return err
		}
	}
	if lw == nil { // no windows: a log with its header only
		if start.Before(time.Unix(0, 0)) {
			start = time.Unix(0, 0)
		}
		if _, err := latency.NewLogWriter(bw, start, comment); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write interval log: %w", err)
	}
	return nil
}

// hlogTags returns the log tag of each of the plan's endpoints (request
// templates, then operations): the name made a valid tag, unique, never
// hlogAllTag.
func hlogTags(plan *pb.Plan) []string {
	names := report.EndpointNames(plan)
	used := map[string]bool{hlogAllTag: true}
	tags := make([]string, len(names))
	for i, name := range names {
		tag := latency.SanitizeTag(name)
		if tag == "" {
			tag = "endpoint-" + strconv.Itoa(i)
		}
		if used[tag] {
			// Leave room for the suffix, so that SanitizeTag's length cut
			// cannot take it off again.
			base := tag[:min(len(tag), latency.MaxTagLen-24)]
			for n := 2; used[tag]; n++ {
				tag = latency.SanitizeTag(base + "-" + strconv.Itoa(n))
			}
		}
		used[tag] = true
		tags[i] = tag
	}
	return tags
}
