package coordinator

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/cluster"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// intervalStream collects what GetIntervals sends.
type intervalStream struct {
	grpc.ServerStream
	ctx context.Context
	got []*pb.Intervals
}

func (st *intervalStream) Context() context.Context { return st.ctx }
func (st *intervalStream) Send(m *pb.Intervals) error {
	st.got = append(st.got, m)
	return nil
}

// ivLeader starts an embedded etcd and returns a store and its leadership.
func ivLeader(t *testing.T) (*cluster.Store, *cluster.Leader) {
	t.Helper()
	srv, err := embedetcd.Start(context.Background(), embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	store := cluster.New(cli, "/intervals-test/")
	l, err := store.Campaign(context.Background(), "test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Resign(context.Background()) })
	return store, l
}

func ivServer(store *cluster.Store, l *cluster.Leader) *server {
	return &server{
		cfg: Config{ID: "test"}, log: slog.New(slog.DiscardHandler), store: store, leader: l,
		agents: map[string]*agentConn{}, runs: map[string]*run{}, ctx: context.Background(),
	}
}

var ivT0 = time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

// ivTraffic is one endpoint's responses in one window: 2xx, 404 and
// transport errors, by latency (service time is half of it).
type ivTraffic struct{ ok, missing, failed []time.Duration }

func ivEncode(t *testing.T, ds []time.Duration, scale time.Duration) []byte {
	t.Helper()
	r := latency.NewRecorder()
	for _, d := range ds {
		r.Record(d / scale)
	}
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// window builds a well-formed result window; skew moves its start and end.
func ivWindow(t *testing.T, runID string, shard int32, epoch, seq int64, final bool, skew time.Duration, eps map[int32]ivTraffic) *pb.ResultWindow {
	t.Helper()
	start := ivT0.Add(time.Duration(seq)*time.Second + skew)
	w := &pb.ResultWindow{
		RunId: runID, Shard: shard, Epoch: epoch, Seq: seq, Final: final,
		Start: timestamppb.New(start), End: timestamppb.New(start.Add(time.Second)),
	}
	keys := make([]int32, 0, len(eps))
	for i := range eps {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	for _, i := range keys {
		tr := eps[i]
		ew := &pb.EndpointWindow{Endpoint: i, Status: map[int32]int64{}, Errors: map[string]int64{}}
		add := func(class pb.OutcomeClass, code int32, ds []time.Duration) {
			if len(ds) == 0 {
				return
			}
			if code > 0 {
				ew.Status[code] = int64(len(ds))
			} else {
				ew.Errors["refused"] = int64(len(ds))
			}
			ew.Requests += int64(len(ds))
			ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{
				Class: class, Latency: ivEncode(t, ds, 1), ServiceTime: ivEncode(t, ds, 2),
			})
		}
		add(pb.OutcomeClass_OUTCOME_CLASS_2XX, 200, tr.ok)
		add(pb.OutcomeClass_OUTCOME_CLASS_4XX, 404, tr.missing)
		add(pb.OutcomeClass_OUTCOME_CLASS_ERROR, 0, tr.failed)
		w.Endpoints = append(w.Endpoints, ew)
	}
	return w
}

// ivStoreRun stores a finished two-shard, two-endpoint run and a history of
// windows: shard 1 was reassigned (epoch 2) and re-sent windows 1 and 2
// under the new epoch; a window after shard 0's final one and a malformed
// window were stored too (as by a buggy or older coordinator).
func ivStoreRun(t *testing.T, store *cluster.Store, l *cluster.Leader, runID string) {
	t.Helper()
	ctx := context.Background()
	plan := &pb.Plan{
		Name:     "intervals",
		Window:   durationpb.New(time.Second),
		Requests: []*pb.RequestTemplate{{Name: "a", Weight: 1, Method: "GET", Path: "/a"}, {Name: "b", Weight: 1, Method: "GET", Path: "/b"}},
		Load:     &pb.Load{Stages: []*pb.Stage{{Duration: durationpb.New(3 * time.Second), FromRate: 10, ToRate: 10}}},
	}
	spec := &pb.RunSpec{RunId: runID, Plan: plan, StartAt: timestamppb.New(ivT0), ShardCount: 2, Planned: durationpb.New(3 * time.Second)}
	st := &pb.RunStateRecord{State: pb.RunState_RUN_STATE_COMPLETED, EndedAt: timestamppb.New(ivT0.Add(5 * time.Second))}
	shards := []*pb.ShardRecord{{Shard: 0, Epoch: 1, AgentName: "x"}, {Shard: 1, Epoch: 2, AgentName: "y"}}
	if err := store.CreateRun(ctx, l, spec, st, shards); err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	malformed := ivWindow(t, runID, 1, 3, 0, false, 0, map[int32]ivTraffic{0: {ok: []time.Duration{70 * ms}}})
	malformed.Endpoints[0].Status[200] = 2 // counters say 2, the histogram holds 1
	for _, w := range []*pb.ResultWindow{
		ivWindow(t, runID, 0, 1, 0, false, 0, map[int32]ivTraffic{0: {ok: []time.Duration{1 * ms, 2 * ms}, missing: []time.Duration{5 * ms}}, 1: {ok: []time.Duration{3 * ms}}}),
		ivWindow(t, runID, 0, 1, 1, false, 0, map[int32]ivTraffic{0: {ok: []time.Duration{10 * ms}, failed: []time.Duration{30 * ms}}}),
		ivWindow(t, runID, 0, 1, 2, true, 0, map[int32]ivTraffic{1: {ok: []time.Duration{7 * ms, 8 * ms}}}),
		ivWindow(t, runID, 0, 1, 3, false, 0, map[int32]ivTraffic{0: {ok: []time.Duration{60 * ms}}}), // after the final window
		ivWindow(t, runID, 1, 1, 0, false, -3*ms, map[int32]ivTraffic{0: {ok: []time.Duration{4 * ms}}, 1: {failed: []time.Duration{50 * ms}}}),
		ivWindow(t, runID, 1, 1, 1, false, -3*ms, map[int32]ivTraffic{1: {missing: []time.Duration{9 * ms}}}),
		ivWindow(t, runID, 1, 2, 1, false, 2*ms, map[int32]ivTraffic{0: {ok: []time.Duration{11 * ms}}}),
		ivWindow(t, runID, 1, 2, 2, false, 2*ms, map[int32]ivTraffic{0: {ok: []time.Duration{12 * ms}}, 1: {ok: []time.Duration{13 * ms}}}),
		ivWindow(t, runID, 1, 2, 3, true, 2*ms, map[int32]ivTraffic{1: {failed: []time.Duration{40 * ms}}}),
		malformed,
	} {
		if created, err := store.PutWindow(ctx, l, w); err != nil || !created {
			t.Fatalf("store window %d/%d/%d: %v %v", w.GetShard(), w.GetEpoch(), w.GetSeq(), created, err)
		}
	}
}

func ivGet(t *testing.T, s *server, runID string) []*pb.Intervals {
	t.Helper()
	st := &intervalStream{ctx: context.Background()}
	if err := s.GetIntervals(&pb.GetIntervalsRequest{RunId: runID}, st); err != nil {
		t.Fatal(err)
	}
	return st.got
}

func ivDecode(t *testing.T, b []byte) *latency.Histogram {
	t.Helper()
	h, err := latency.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// ivSummary is a histogram as comparable values: count and fine log buckets.
type ivSummary struct {
	Count   int64
	Buckets []latency.Bucket
}

func ivSummarize(h *latency.Histogram) ivSummary {
	return ivSummary{h.Count(), h.LogBuckets(1000)}
}

func ivSummaryOf(ds ...time.Duration) ivSummary {
	r := latency.NewRecorder()
	for _, d := range ds {
		r.Record(d)
	}
	h := latency.NewHistogram()
	h.MergeRecorder(r)
	return ivSummarize(h)
}

func TestGetIntervalsMergesShardsAndCountsWhatTheResultCounts(t *testing.T) {
	store, l := ivLeader(t)
	ivStoreRun(t, store, l, "run-1")
	s := ivServer(store, l)
	got := ivGet(t, s, "run-1")

	ms := time.Millisecond
	type epWant struct {
		Endpoint int32
		Latency  ivSummary
		Service  ivSummary
	}
	type want struct {
		Seq       int64
		Start     time.Time
		Length    time.Duration
		Shards    int32
		Endpoints []epWant
	}
	half := func(ds ...time.Duration) ivSummary {
		for i := range ds {
			ds[i] /= 2
		}
		return ivSummaryOf(ds...)
	}
	wants := []want{
		{Seq: 0, Start: ivT0.Add(-3 * ms), Length: time.Second + 3*ms, Shards: 2, Endpoints: []epWant{
			{0, ivSummaryOf(1*ms, 2*ms, 5*ms, 4*ms), half(1*ms, 2*ms, 5*ms, 4*ms)},
			{1, ivSummaryOf(3 * ms), half(3 * ms)}, // shard 1's transport error is not a response
		}},
		{Seq: 1, Start: ivT0.Add(time.Second - 3*ms), Length: time.Second + 5*ms, Shards: 2, Endpoints: []epWant{
			{0, ivSummaryOf(10*ms, 11*ms), half(10*ms, 11*ms)}, // epoch 1 and epoch 2 of shard 1 both count
			{1, ivSummaryOf(9 * ms), half(9 * ms)},
		}},
		{Seq: 2, Start: ivT0.Add(2 * time.Second), Length: time.Second + 2*ms, Shards: 2, Endpoints: []epWant{
			{0, ivSummaryOf(12 * ms), half(12 * ms)},
			{1, ivSummaryOf(7*ms, 8*ms, 13*ms), half(7*ms, 8*ms, 13*ms)},
		}},
		// Only shard 1's final window: shard 0's window 3 came after its
		// final one and is not counted. The endpoint had no response.
		{Seq: 3, Start: ivT0.Add(3*time.Second + 2*ms), Length: time.Second, Shards: 1, Endpoints: []epWant{
			{1, ivSummaryOf(), ivSummaryOf()},
		}},
	}
	var gotW []want
	for _, m := range got {
		w := want{Seq: m.GetSeq(), Start: m.GetStart().AsTime(), Length: m.GetLength().AsDuration(), Shards: m.GetShards()}
		for _, e := range m.GetEndpoints() {
			w.Endpoints = append(w.Endpoints, epWant{e.GetEndpoint(), ivSummarize(ivDecode(t, e.GetLatency())), ivSummarize(ivDecode(t, e.GetServiceTime()))})
		}
		gotW = append(gotW, w)
	}
	if d := cmp.Diff(wants, gotW); d != "" {
		t.Fatalf("intervals (-want +got):\n%s", d)
	}

	// The invariant GetIntervals promises: per endpoint, the intervals add
	// up to the run result's response histograms.
	res, err := s.GetRunResult(context.Background(), &pb.GetRunResultRequest{RunId: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.GetEndpoints() {
		wantLat, wantSvc := latency.NewHistogram(), latency.NewHistogram()
		for _, h := range e.GetHistograms() {
			if h.GetClass() != pb.OutcomeClass_OUTCOME_CLASS_ERROR {
				wantLat.Merge(ivDecode(t, h.GetLatency()))
				wantSvc.Merge(ivDecode(t, h.GetServiceTime()))
			}
		}
		gotLat, gotSvc := latency.NewHistogram(), latency.NewHistogram()
		for _, m := range got {
			for _, ie := range m.GetEndpoints() {
				if ie.GetEndpoint() == e.GetEndpoint() {
					gotLat.Merge(ivDecode(t, ie.GetLatency()))
					gotSvc.Merge(ivDecode(t, ie.GetServiceTime()))
				}
			}
		}
		if d := cmp.Diff(ivSummarize(wantLat), ivSummarize(gotLat)); d != "" || wantLat.Count() == 0 {
			t.Errorf("endpoint %d latency: intervals differ from the result (-result +intervals):\n%s", e.GetEndpoint(), d)
		}
		if d := cmp.Diff(ivSummarize(wantSvc), ivSummarize(gotSvc)); d != "" {
			t.Errorf("endpoint %d service time: intervals differ from the result (-result +intervals):\n%s", e.GetEndpoint(), d)
		}
	}
}

// TestIntervalsInSeveralPasses: a budget too small for more than one
// window number at a time gives the same stream.
func TestIntervalsInSeveralPasses(t *testing.T) {
	store, l := ivLeader(t)
	ivStoreRun(t, store, l, "run-2")
	s := ivServer(store, l)
	whole := ivGet(t, s, "run-2")
	r, err := s.getRun(context.Background(), "run-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, budget := range []int{0, 1, 3000} {
		var got []*pb.Intervals
		err := s.intervals(context.Background(), r, budget, func(m *pb.Intervals) error {
			got = append(got, m)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(whole, got, protocmp.Transform()); d != "" {
			t.Errorf("budget %d: stream differs (-one pass +several):\n%s", budget, d)
		}
	}
}

func TestGetIntervalsErrors(t *testing.T) {
	store, l := ivLeader(t)
	s := ivServer(store, l)
	st := &intervalStream{ctx: context.Background()}
	if err := s.GetIntervals(&pb.GetIntervalsRequest{RunId: "nope"}, st); status.Code(err) != codes.NotFound {
		t.Errorf("unknown run: %v, want NOT_FOUND", err)
	}
	follower := ivServer(store, nil)
	if err := follower.GetIntervals(&pb.GetIntervalsRequest{RunId: "nope"}, st); status.Code(err) != codes.Unavailable {
		t.Errorf("not the leader: %v, want UNAVAILABLE", err)
	}
	ivStoreRun(t, store, l, "run-3")
	if _, err := s.getRun(context.Background(), "run-3"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	st = &intervalStream{ctx: ctx}
	if err := s.GetIntervals(&pb.GetIntervalsRequest{RunId: "run-3"}, st); status.Code(err) != codes.Canceled {
		t.Errorf("cancelled call: %v, want CANCELED", err)
	}
}
