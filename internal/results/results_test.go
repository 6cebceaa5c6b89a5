package results

import (
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testPlan() *pb.Plan {
	return &pb.Plan{
		Requests: []*pb.RequestTemplate{{Name: "a"}, {Name: "b"}},
		Load:     &pb.Load{Stages: []*pb.Stage{{Duration: durationpb.New(3 * time.Second), FromRate: 100, ToRate: 100}}},
	}
}

func enc(t *testing.T, ds ...time.Duration) []byte {
	t.Helper()
	r := latency.NewRecorder()
	for _, d := range ds {
		r.Record(d)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// window builds a consistent window: n 200s and e timeouts for endpoint ep.
func window(t *testing.T, shard int32, seq int64, final bool, ep int32, n, e int) *pb.ResultWindow {
	t.Helper()
	ew := &pb.EndpointWindow{Endpoint: ep, Requests: int64(n + e), Status: map[int32]int64{}, Errors: map[string]int64{}}
	if n > 0 {
		ew.Status[200] = int64(n)
		ds := make([]time.Duration, n)
		for i := range ds {
			ds[i] = time.Duration(i+1) * time.Millisecond
		}
		ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: pb.OutcomeClass_OUTCOME_CLASS_2XX, Latency: enc(t, ds...), ServiceTime: enc(t, ds...)})
	}
	if e > 0 {
		ew.Errors["timeout"] = int64(e)
		ds := make([]time.Duration, e)
		for i := range ds {
			ds[i] = time.Second
		}
		ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: pb.OutcomeClass_OUTCOME_CLASS_ERROR, Latency: enc(t, ds...), ServiceTime: enc(t, ds...)})
	}
	start := t0.Add(time.Duration(seq) * time.Second)
	return &pb.ResultWindow{RunId: "r", Shard: shard, Epoch: 1, Seq: seq, Final: final,
		Start: timestamppb.New(start), End: timestamppb.New(start.Add(time.Second)),
		Endpoints: []*pb.EndpointWindow{ew}}
}

func TestIngestIsIdempotentAndExact(t *testing.T) {
	r := New(testPlan(), 2, t0)
	ws := []*pb.ResultWindow{
		window(t, 0, 0, false, 0, 10, 1),
		window(t, 1, 0, false, 1, 5, 0),
		window(t, 0, 1, true, 0, 7, 0),
	}
	for _, w := range ws {
		if added, err := r.Ingest(w); err != nil || !added {
			t.Fatalf("Ingest = %v, %v", added, err)
		}
	}
	// Resends change nothing.
	for _, w := range ws {
		if added, err := r.Ingest(w); err != nil || added {
			t.Fatalf("second Ingest = %v, %v; want false, nil", added, err)
		}
	}
	if got := r.Totals(); got != (Totals{Requests: 23, Errors: 1, Dropped: 0}) {
		t.Fatalf("totals = %+v", got)
	}
	if r.Done() {
		t.Fatal("done before shard 1's final window")
	}
	if _, err := r.Ingest(window(t, 1, 2, true, 1, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if r.Done() {
		t.Fatal("done with shard 1's window 1 missing")
	}
	if got := r.MissingShards(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("missing = %v, want [1]", got)
	}
	if _, err := r.Ingest(window(t, 1, 1, false, 0, 2, 0)); err != nil {
		t.Fatal(err)
	}
	if !r.Done() {
		t.Fatal("not done with every window in")
	}
	res, err := r.Result()
	if err != nil {
		t.Fatal(err)
	}
	var hist int64
	for _, e := range res.Endpoints {
		for _, h := range e.Histograms {
			lh, err := latency.Decode(h.Latency)
			if err != nil {
				t.Fatal(err)
			}
			hist += lh.Count()
		}
	}
	if hist != 26 || r.Totals().Requests != 26 {
		t.Fatalf("histograms hold %d, totals %d; want 26", hist, r.Totals().Requests)
	}
	// Every window settled into the timeline once both shards reported.
	if len(res.Timeline) != 3 {
		t.Fatalf("timeline has %d points, want 3", len(res.Timeline))
	}
	if res.Timeline[0].Requests != 16 || res.Timeline[0].Shards != 2 {
		t.Errorf("timeline[0] = %v", res.Timeline[0])
	}
	if res.Timeline[0].AskedRps != 100 {
		t.Errorf("asked rate = %v, want 100", res.Timeline[0].AskedRps)
	}
}

func TestCheckRejects(t *testing.T) {
	good := func() *pb.ResultWindow { return window(t, 0, 0, false, 0, 3, 1) }
	tests := []struct {
		name   string
		mutate func(w *pb.ResultWindow)
	}{
		{"shard out of range", func(w *pb.ResultWindow) { w.Shard = 5 }},
		{"negative seq", func(w *pb.ResultWindow) { w.Seq = -1 }},
		{"endpoint out of range", func(w *pb.ResultWindow) { w.Endpoints[0].Endpoint = 9 }},
		{"endpoint twice", func(w *pb.ResultWindow) { w.Endpoints = append(w.Endpoints, w.Endpoints[0]) }},
		{"requests disagree with statuses", func(w *pb.ResultWindow) { w.Endpoints[0].Requests = 99 }},
		{"negative status count", func(w *pb.ResultWindow) { w.Endpoints[0].Status[200] = -3; w.Endpoints[0].Requests = -2 }},
		{"invalid status code", func(w *pb.ResultWindow) { w.Endpoints[0].Status[999] = 3; delete(w.Endpoints[0].Status, 200) }},
		{"histogram count disagrees", func(w *pb.ResultWindow) { w.Endpoints[0].Histograms[0].Latency = enc(t, time.Millisecond) }},
		{"missing histogram", func(w *pb.ResultWindow) { w.Endpoints[0].Histograms = w.Endpoints[0].Histograms[1:] }},
		{"class twice", func(w *pb.ResultWindow) {
			w.Endpoints[0].Histograms = append(w.Endpoints[0].Histograms, w.Endpoints[0].Histograms[0])
		}},
		{"unknown class", func(w *pb.ResultWindow) { w.Endpoints[0].Histograms[0].Class = 42 }},
		{"corrupt histogram", func(w *pb.ResultWindow) { w.Endpoints[0].Histograms[0].Latency = []byte("nope") }},
		{"negative counter", func(w *pb.ResultWindow) { w.Endpoints[0].Dropped = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(testPlan(), 1, t0)
			w := good()
			tt.mutate(w)
			added, err := r.Ingest(w)
			if !errors.Is(err, ErrBadWindow) || added {
				t.Fatalf("Ingest = %v, %v; want ErrBadWindow", added, err)
			}
			if r.Totals() != (Totals{}) || r.Seen(w) {
				t.Fatalf("a rejected window changed the run: %+v", r.Totals())
			}
			// The good window is still accepted afterwards.
			if _, err := r.Ingest(good()); err != nil {
				t.Fatalf("good window after a bad one: %v", err)
			}
		})
	}
}

func TestWindowAfterFinalIsRejected(t *testing.T) {
	r := New(testPlan(), 1, t0)
	if _, err := r.Ingest(window(t, 0, 0, true, 0, 1, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Ingest(window(t, 0, 1, false, 0, 1, 0)); !errors.Is(err, ErrBadWindow) {
		t.Fatalf("window after final: %v, want ErrBadWindow", err)
	}
}

func TestTimelineWaitsForEveryShard(t *testing.T) {
	r := New(testPlan(), 2, t0)
	if _, err := r.Ingest(window(t, 0, 0, false, 0, 4, 0)); err != nil {
		t.Fatal(err)
	}
	if r.Latest() != nil {
		t.Fatal("window settled before shard 1 reported it")
	}
	if _, err := r.Ingest(window(t, 1, 0, true, 0, 6, 0)); err != nil {
		t.Fatal(err)
	}
	p := r.Latest()
	if p == nil || p.Requests != 10 || p.Shards != 2 {
		t.Fatalf("latest = %v, want 10 requests from 2 shards", p)
	}
	// Shard 1 is final at seq 0, so shard 0's seq 1 settles alone.
	if _, err := r.Ingest(window(t, 0, 1, false, 0, 3, 0)); err != nil {
		t.Fatal(err)
	}
	if p := r.Latest(); p.Seq != 1 || p.Requests != 3 {
		t.Fatalf("latest = %v, want seq 1 with 3 requests", p)
	}
}

func TestFindingsMergeAcrossWindowsAndShards(t *testing.T) {
	r := New(testPlan(), 2, t0)
	f := func(fp string, count int64, at time.Duration, req string) *pb.FindingSample {
		return &pb.FindingSample{Fingerprint: fp, Oracle: "server-error", Severity: "medium", Endpoint: 0, Count: count,
			FirstSeen: timestamppb.New(t0.Add(at)), Request: []byte(req)}
	}
	w0 := window(t, 0, 0, false, 0, 1, 0)
	w0.Findings = []*pb.FindingSample{f("a", 3, 500*time.Millisecond, "later"), f("b", 1, 0, "b")}
	w1 := window(t, 1, 0, false, 0, 1, 0)
	w1.Findings = []*pb.FindingSample{f("a", 2, 100*time.Millisecond, "earlier")}
	for _, w := range []*pb.ResultWindow{w0, w1, w0} { // w0 twice: a resend counts once
		if _, err := r.Ingest(w); err != nil {
			t.Fatal(err)
		}
	}
	res, err := r.Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 2 || r.Findings() != 2 {
		t.Fatalf("findings = %v", res.Findings)
	}
	a := res.Findings[0]
	if a.GetFingerprint() != "a" || a.GetCount() != 5 || string(a.GetRequest()) != "earlier" {
		t.Fatalf("merged finding a = %v; want count 5 and the earliest sample", a)
	}
}

func TestBadFindingsAreRejected(t *testing.T) {
	// ok is a valid sample; each case breaks one thing of it.
	ok := func(edit func(f *pb.FindingSample)) *pb.FindingSample {
		f := &pb.FindingSample{Fingerprint: "x", Oracle: "server-error", Severity: "medium", Count: 1}
		edit(f)
		return f
	}
	tests := []struct {
		name string
		f    *pb.FindingSample
	}{
		{"no fingerprint", ok(func(f *pb.FindingSample) { f.Fingerprint = "" })},
		{"zero count", ok(func(f *pb.FindingSample) { f.Count = 0 })},
		{"endpoint out of range", ok(func(f *pb.FindingSample) { f.Endpoint = 7 })},
		{"huge request", ok(func(f *pb.FindingSample) { f.Request = make([]byte, MaxFindingRequest+1) })},
		// Severity and oracle end up in HTML class names and reports.
		{"unknown severity", ok(func(f *pb.FindingSample) { f.Severity = "x onmouseover=alert(1)\rz" })},
		{"unknown oracle", ok(func(f *pb.FindingSample) { f.Oracle = "<script>" })},
		{"huge evidence", ok(func(f *pb.FindingSample) { f.Evidence = strings.Repeat("e", MaxFindingText+1) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(testPlan(), 1, t0)
			w := window(t, 0, 0, false, 0, 1, 0)
			w.Findings = []*pb.FindingSample{tt.f}
			if _, err := r.Ingest(w); !errors.Is(err, ErrBadWindow) {
				t.Fatalf("Ingest = %v, want ErrBadWindow", err)
			}
		})
	}
	r := New(testPlan(), 1, t0)
	w := window(t, 0, 0, false, 0, 1, 0)
	w.Findings = []*pb.FindingSample{ok(func(*pb.FindingSample) {})}
	if _, err := r.Ingest(w); err != nil {
		t.Fatalf("a valid finding: %v", err)
	}
}

// TestTakenOverShard: shard 1's agent is lost after window 1 and another
// takes the shard over from window 3 (epoch 2). The run completes on the
// new epoch's windows 3..final; the replaced agent's windows count when they
// come, once, and its final window does not end the shard; a window of an
// epoch newer than the shard's is refused.
func TestTakenOverShard(t *testing.T) {
	r := New(testPlan(), 2, t0)
	ingest := func(w *pb.ResultWindow) {
		t.Helper()
		if _, err := r.Ingest(w); err != nil {
			t.Fatal(err)
		}
	}
	// Shard 0 runs windows 0..4 normally.
	for seq := range int64(5) {
		ingest(window(t, 0, seq, seq == 4, 0, 10, 0))
	}
	// Shard 1, epoch 1: windows 0 and 1 arrive, then the agent is lost.
	w := window(t, 1, 0, false, 0, 10, 0)
	ingest(w)
	w = window(t, 1, 1, false, 0, 10, 0)
	ingest(w)
	r.Reassign(1, 2, 3)
	if r.Done() {
		t.Fatal("done before the new epoch's windows")
	}
	// The timeline no longer waits for shard 1's windows 2 (lost with the
	// agent): window 2 is settled with shard 0's part.
	if res, _ := r.Result(); len(res.Timeline) < 3 {
		got := len(res.Timeline)
		t.Errorf("timeline has %d points, want windows 0..2 settled", got)
	}
	for seq := int64(3); seq <= 4; seq++ {
		nw := window(t, 1, seq, seq == 4, 0, 10, 0)
		nw.Epoch = 2
		ingest(nw)
	}
	if !r.Done() {
		t.Fatal("not done with epoch 2's windows 3..4 in")
	}
	// The replaced agent comes back with window 2 and its final window 3.
	late := window(t, 1, 2, false, 0, 7, 0)
	ingest(late)
	fin := window(t, 1, 3, true, 0, 5, 0)
	fin.StopReason = "no coordinator reachable (dead-man switch)"
	ingest(fin)
	if !r.Done() || r.Totals().Requests != 5*10+2*10+2*10+7+5 {
		t.Errorf("done %v, %d requests; want done with every window counted once", r.Done(), r.Totals().Requests)
	}
	if ok, _ := r.Ingest(late); ok {
		t.Error("a resent window was counted twice")
	}
	r.Finish()
	res, err := r.Result()
	if err != nil {
		t.Fatal(err)
	}
	// One timeline point per window, holding every counted request.
	seqs, sum := map[int64]bool{}, int64(0)
	for _, p := range res.Timeline {
		if seqs[p.GetSeq()] {
			t.Errorf("timeline has window %d twice", p.GetSeq())
		}
		seqs[p.GetSeq()] = true
		sum += p.GetRequests()
	}
	if len(seqs) != 5 || sum != r.Totals().Requests {
		t.Errorf("timeline: %d points holding %d requests, want 5 holding %d", len(seqs), sum, r.Totals().Requests)
	}
	if reason := res.Shards[1].GetStopReason(); reason != "" {
		t.Errorf("the replaced agent's stop reason %q ended the shard", reason)
	}
	future := window(t, 1, 4, false, 0, 1, 0)
	future.Epoch = 3
	if _, err := r.Ingest(future); !errors.Is(err, ErrBadWindow) {
		t.Errorf("a window of a newer epoch: %v, want ErrBadWindow", err)
	}
}
