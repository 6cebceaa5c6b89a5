package e2e

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/cli"
	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// TestHlogExportMatchesTheResult runs two agents with two request templates,
// exports the run as an HdrHistogram interval log over the real gRPC client
// (the code path of `barrage report --format hlog`), reads the log back and
// checks that every tag's intervals add up exactly to the run result's
// response histograms.
func TestHlogExportMatchesTheResult(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := newCountingServer(t)
	c := startCluster(t, 2)
	// The first template keeps its default name "GET /ok" (a space: not a
	// valid tag as is); the second is named like the merged series.
	res := c.runToEnd(t, fmt.Sprintf(`
name: hlog
target: {base_url: %q}
load:
  model: open
  max_inflight: 4000
  stages: [{duration: 3s, rate: 400}]
requests:
  - {weight: 3, path: /ok}
  - {name: all, weight: 1, path: /missing}
`, srv.URL))
	if got := res.GetStatus().GetState(); got != pb.RunState_RUN_STATE_COMPLETED {
		t.Fatalf("state = %v (%s), want COMPLETED", got, res.GetStatus().GetMessage())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := cli.WriteHlog(ctx, c.ctl, res, &buf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the log:\n%.4000s", buf.String())
		}
	})
	ivs, err := latency.ReadLog(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}

	// What the result says: each endpoint's response histograms (every
	// class but transport errors), and their merge.
	wantTags := []string{"GET_/ok", "all-2"}
	want := map[string]*latency.Histogram{"all": latency.NewHistogram()}
	if n := len(res.GetEndpoints()); n != len(wantTags) {
		t.Fatalf("result has %d endpoints, want %d", n, len(wantTags))
	}
	for i, e := range res.GetEndpoints() {
		h := latency.NewHistogram()
		for _, ch := range e.GetHistograms() {
			if ch.GetClass() == pb.OutcomeClass_OUTCOME_CLASS_ERROR {
				continue
			}
			if err := h.MergeEncoded(ch.GetLatency()); err != nil {
				t.Fatal(err)
			}
		}
		if h.Count() == 0 {
			t.Fatalf("endpoint %d has no responses", i)
		}
		want[wantTags[i]] = h
		want["all"].Merge(h)
	}

	got := map[string]*latency.Histogram{}
	lastStart := map[string]time.Time{}
	runStart := res.GetStatus().GetStartAt().AsTime().Truncate(time.Millisecond)
	for _, iv := range ivs {
		if got[iv.Tag] == nil {
			got[iv.Tag] = latency.NewHistogram()
		}
		got[iv.Tag].Merge(iv.Hist)
		if iv.Start.Before(runStart) || !iv.Start.After(lastStart[iv.Tag]) {
			t.Errorf("tag %s: interval at %v, after one at %v, run start %v", iv.Tag, iv.Start, lastStart[iv.Tag], runStart)
		}
		lastStart[iv.Tag] = iv.Start
		if iv.Length <= 0 || iv.Length > 2*time.Second {
			t.Errorf("tag %s: interval length %v", iv.Tag, iv.Length)
		}
	}
	if len(got) != len(want) {
		t.Errorf("tags %v, want %v", hlogTagNames(got), hlogTagNames(want))
	}
	for tag, w := range want {
		g := got[tag]
		if g == nil {
			t.Errorf("no intervals tagged %s", tag)
			continue
		}
		if g.Count() != w.Count() {
			t.Errorf("tag %s: intervals hold %d responses, the result %d", tag, g.Count(), w.Count())
		}
		if d := cmp.Diff(w.LogBuckets(1000), g.LogBuckets(1000)); d != "" {
			t.Errorf("tag %s: merged intervals differ from the result (-result +log):\n%s", tag, d)
		}
	}
	if served := srv.n.Load(); want["all"].Count() != served {
		t.Errorf("the log counts %d responses, the server answered %d", want["all"].Count(), served)
	}
	// One "all" interval per window of the timeline.
	var windows int
	for _, iv := range ivs {
		if iv.Tag == "all" {
			windows++
		}
	}
	if windows != len(res.GetTimeline()) || windows < 3 {
		t.Errorf("%d intervals tagged all, the timeline has %d windows", windows, len(res.GetTimeline()))
	}
}

func hlogTagNames(m map[string]*latency.Histogram) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
