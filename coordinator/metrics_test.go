package coordinator

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/promhdr"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// --- synthetic runs: real results.Run merging hand-made windows ---

var epoch0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// epWin is one endpoint of a hand-made window.
type epWin struct {
	endpoint int32
	status   map[int32][]time.Duration // latencies by status code
	errors   map[string][]time.Duration
	dropped  int64
}

func mkWindow(t *testing.T, runID string, shard int32, seq int64, final bool, eps ...epWin) *pb.ResultWindow {
	t.Helper()
	w := &pb.ResultWindow{
		RunId: runID, Shard: shard, Epoch: 1, Seq: seq, Final: final,
		Start: timestamppb.New(epoch0.Add(time.Duration(seq) * time.Second)),
		End:   timestamppb.New(epoch0.Add(time.Duration(seq+1) * time.Second)),
	}
	for _, e := range eps {
		ew := &pb.EndpointWindow{Endpoint: e.endpoint, Dropped: e.dropped, Status: map[int32]int64{}, Errors: map[string]int64{}}
		recs := map[pb.OutcomeClass]*latency.Recorder{}
		rec := func(c pb.OutcomeClass, ds []time.Duration) {
			if recs[c] == nil {
				recs[c] = latency.NewRecorder()
			}
			for _, d := range ds {
				recs[c].Record(d)
			}
			ew.Requests += int64(len(ds))
		}
		for code, ds := range e.status {
			ew.Status[code] = int64(len(ds))
			rec(outcome.Class(int(code)), ds)
		}
		for kind, ds := range e.errors {
			ew.Errors[kind] = int64(len(ds))
			rec(pb.OutcomeClass_OUTCOME_CLASS_ERROR, ds)
		}
		for c := pb.OutcomeClass_OUTCOME_CLASS_1XX; c <= pb.OutcomeClass_OUTCOME_CLASS_ERROR; c++ {
			if recs[c] == nil {
				continue
			}
			b, err := recs[c].Encode()
			if err != nil {
				t.Fatal(err)
			}
			ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: c, Latency: b, ServiceTime: b})
		}
		w.Endpoints = append(w.Endpoints, ew)
	}
	return w
}

func ms(ns ...float64) []time.Duration {
	out := make([]time.Duration, len(ns))
	for i, n := range ns {
		out[i] = time.Duration(n * float64(time.Millisecond))
	}
	return out
}

// addRun puts a run with the given endpoint names and shard count into s.
func addRun(t *testing.T, s *server, id string, names []string, shards int, st pb.RunState, endedAt time.Time) *run {
	t.Helper()
	plan := &pb.Plan{Name: "synthetic", Window: durationpb.New(time.Second)}
	for _, n := range names {
		plan.Requests = append(plan.Requests, &pb.RequestTemplate{Name: n, Method: "GET", Path: "/" + n, Weight: 1})
	}
	spec := &pb.RunSpec{RunId: id, Plan: plan, ShardCount: int32(shards), StartAt: timestamppb.New(epoch0), CreatedAt: timestamppb.New(epoch0)}
	rec := &pb.RunStateRecord{State: st}
	if !endedAt.IsZero() {
		rec.EndedAt = timestamppb.New(endedAt)
	}
	var recs []*pb.ShardRecord
	for k := range shards {
		recs = append(recs, &pb.ShardRecord{Shard: int32(k), AgentId: fmt.Sprintf("a%d", k), Epoch: 1})
	}
	r := newRun(spec, rec, recs, nil)
	s.runs[id] = r
	return r
}

func ingest(t *testing.T, r *run, ws ...*pb.ResultWindow) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range ws {
		if ok, err := r.agg.Ingest(w); err != nil || !ok {
			t.Fatalf("ingest window %d of shard %d: %v, %v", w.GetSeq(), w.GetShard(), ok, err)
		}
	}
}

func testServer() *server {
	return &server{log: discard(), runs: map[string]*run{}, agents: map[string]*agentConn{}}
}

// gather collects c and returns its text exposition.
func gather(t *testing.T, c prometheus.Collector) []byte {
	t.Helper()
	b, err := exposition(c)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// exposition collects c through a pedantic registry (which checks every
// metric's consistency) and encodes it in the text format.
func exposition(c prometheus.Collector) ([]byte, error) {
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		return nil, err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func parseText(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, b)
	}
	return mfs
}

// value sums the samples of family name whose labels include want (a
// counter's or gauge's value, a histogram's count).
func value(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	for _, m := range mfs[name].GetMetric() {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Histogram != nil:
			sum += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, l := range m.GetLabel() {
		have[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// labelValues lists the values of label across family name's samples.
func labelValues(mfs map[string]*dto.MetricFamily, name, label string) []string {
	var out []string
	for _, m := range mfs[name].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == label && !slices.Contains(out, l.GetValue()) {
				out = append(out, l.GetValue())
			}
		}
	}
	slices.Sort(out)
	return out
}

// syntheticServer has one completed run with findings and errors of every
// sort, and one running run with a finished shard and a disconnected one.
func syntheticServer(t *testing.T) (*server, *run, *run) {
	t.Helper()
	s := testServer()
	done := addRun(t, s, "20250301-120000-aaaaaa", []string{"get", "post", "get"}, 1, pb.RunState_RUN_STATE_COMPLETED, epoch0.Add(time.Minute))
	ingest(t, done,
		mkWindow(t, done.spec.GetRunId(), 0, 0, false,
			epWin{endpoint: 0, status: map[int32][]time.Duration{200: ms(0.3, 0.9, 1.5, 4, 4.2), 404: ms(2)}},
			epWin{endpoint: 1, status: map[int32][]time.Duration{503: ms(30, 80)}, errors: map[string][]time.Duration{"timeout": ms(2000), "made-up": ms(1)}, dropped: 3}),
		mkWindow(t, done.spec.GetRunId(), 0, 1, true,
			epWin{endpoint: 0, status: map[int32][]time.Duration{200: ms(0.2, 70)}},
			epWin{endpoint: 2, status: map[int32][]time.Duration{302: ms(0.05)}}),
	)
	done.mu.Lock()
	done.agg.AddFinding(&pb.FindingSample{Fingerprint: "f1", Severity: "high", Count: 2, FirstSeen: timestamppb.New(epoch0)})
	done.agg.AddFinding(&pb.FindingSample{Fingerprint: "f2", Severity: "made-up", Count: 1, FirstSeen: timestamppb.New(epoch0)})
	done.agg.Finish()
	done.mu.Unlock()

	live := addRun(t, s, "20250301-130000-bbbbbb", []string{"only"}, 2, pb.RunState_RUN_STATE_RUNNING, time.Time{})
	live.alive[1] = false
	ingest(t, live,
		mkWindow(t, live.spec.GetRunId(), 0, 0, true, epWin{endpoint: 0, status: map[int32][]time.Duration{200: ms(1, 2, 3)}}),
		mkWindow(t, live.spec.GetRunId(), 1, 0, false, epWin{endpoint: 0, status: map[int32][]time.Duration{200: ms(10)}}),
	)
	return s, done, live
}

// TestMetricsGolden pins the whole exposition of two synthetic runs.
func TestMetricsGolden(t *testing.T) {
	s, _, _ := syntheticServer(t)
	got := gather(t, newRunCollector(s))
	golden := filepath.Join("testdata", "metrics.txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (check, then rerun with -update):\n%s", golden, cmp.Diff(string(want), string(got)))
	}
}

func TestMetricsOfSyntheticRuns(t *testing.T) {
	s, done, live := syntheticServer(t)
	mfs := parseText(t, gather(t, newRunCollector(s)))
	id := done.spec.GetRunId()
	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"requests of a run", "barrage_requests_total", map[string]string{"run": id}, 13},
		{"requests of an endpoint", "barrage_requests_total", map[string]string{"run": id, "endpoint": "get"}, 8},
		{"repeated name gets its index", "barrage_requests_total", map[string]string{"run": id, "endpoint": "get#2"}, 1},
		{"2xx", "barrage_responses_total", map[string]string{"run": id, "code_class": "2xx"}, 7},
		{"3xx", "barrage_responses_total", map[string]string{"run": id, "code_class": "3xx"}, 1},
		{"errors are 5xx plus transport", "barrage_errors_total", map[string]string{"run": id}, 4},
		{"5xx", "barrage_errors_total", map[string]string{"run": id, "kind": "5xx"}, 2},
		{"unknown kind is other", "barrage_errors_total", map[string]string{"run": id, "kind": "other"}, 1},
		{"dropped", "barrage_dropped_total", map[string]string{"run": id, "endpoint": "post"}, 3},
		{"histogram count", "barrage_request_duration_seconds", map[string]string{"run": id}, 13},
		{"findings", "barrage_findings", map[string]string{"run": id, "severity": "high"}, 1},
		{"unknown severity", "barrage_findings", map[string]string{"run": id, "severity": "unknown"}, 1},
		{"state completed", "barrage_run_state", map[string]string{"run": id, "state": "completed"}, 1},
		{"one state set", "barrage_run_state", map[string]string{"run": id}, 1},
		{"shards done", "barrage_shards", map[string]string{"run": live.spec.GetRunId(), "status": "done"}, 1},
		{"shards disconnected", "barrage_shards", map[string]string{"run": live.spec.GetRunId(), "status": "disconnected"}, 1},
		{"runs running", "barrage_runs", map[string]string{"state": "running"}, 1},
		{"runs completed", "barrage_runs", map[string]string{"state": "completed"}, 1},
		{"not leading", "barrage_coordinator_leader", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := value(mfs, tt.metric, tt.labels); got != tt.want {
				t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
			}
		})
	}
	if got, want := labelValues(mfs, "barrage_requests_total", "endpoint"), []string{"get", "get#2", "only", "post"}; !slices.Equal(got, want) {
		t.Errorf("endpoint labels = %v, want %v", got, want)
	}
}

// TestMetricsShowActiveAndLatestEndedRuns: of 8 ended runs only the 5 that
// ended last are shown; running runs always are; barrage_runs counts all.
func TestMetricsShowActiveAndLatestEndedRuns(t *testing.T) {
	s := testServer()
	var want []string
	for i := range 8 {
		id := fmt.Sprintf("ended-%d", i)
		// Ids sort in another order than end times: the end time decides.
		addRun(t, s, id, []string{"x"}, 1, pb.RunState_RUN_STATE_COMPLETED, epoch0.Add(time.Duration(7-i)*time.Minute))
		if i < metricsEndedRuns {
			want = append(want, id)
		}
	}
	for i := range 2 {
		id := fmt.Sprintf("live-%d", i)
		addRun(t, s, id, []string{"x"}, 1, pb.RunState_RUN_STATE_RUNNING, time.Time{})
		want = append(want, id)
	}
	slices.Sort(want)
	mfs := parseText(t, gather(t, newRunCollector(s)))
	for _, name := range []string{"barrage_run_state", "barrage_requests_total", "barrage_request_duration_seconds", "barrage_shards"} {
		if got := labelValues(mfs, name, "run"); !slices.Equal(got, want) {
			t.Errorf("%s shows runs %v, want %v", name, got, want)
		}
	}
	if got := value(mfs, "barrage_runs", map[string]string{"state": "completed"}); got != 8 {
		t.Errorf("barrage_runs{state=completed} = %v, want 8", got)
	}
}

func TestMetricsMergeEndpointsBeyondTheCap(t *testing.T) {
	s := testServer()
	var names []string
	for i := range 150 {
		names = append(names, fmt.Sprintf("op%03d", i))
	}
	r := addRun(t, s, "many", names, 1, pb.RunState_RUN_STATE_RUNNING, time.Time{})
	one := map[int32][]time.Duration{200: ms(1)}
	ingest(t, r, mkWindow(t, "many", 0, 0, false,
		epWin{endpoint: 0, status: one}, epWin{endpoint: 98, status: one},
		epWin{endpoint: 99, status: one}, epWin{endpoint: 149, status: map[int32][]time.Duration{200: ms(1, 2)}}))
	mfs := parseText(t, gather(t, newRunCollector(s)))
	labels := labelValues(mfs, "barrage_requests_total", "endpoint")
	if len(labels) != promhdr.MaxEndpoints || !slices.Contains(labels, promhdr.OtherEndpoint) || slices.Contains(labels, "op099") {
		t.Errorf("%d endpoint labels (other present: %v, op099 present: %v), want %d with op099.. merged into other",
			len(labels), slices.Contains(labels, "other"), slices.Contains(labels, "op099"), promhdr.MaxEndpoints)
	}
	for ep, want := range map[string]float64{"op000": 1, "op098": 1, "other": 3} {
		if got := value(mfs, "barrage_requests_total", map[string]string{"endpoint": ep}); got != want {
			t.Errorf("requests of %s = %v, want %v", ep, got, want)
		}
		if got := value(mfs, "barrage_request_duration_seconds", map[string]string{"endpoint": ep}); got != want {
			t.Errorf("histogram count of %s = %v, want %v", ep, got, want)
		}
	}
}

// TestMetricsReuseUnchangedResults: a scrape re-reads a run's results only
// when windows arrived since the last one.
func TestMetricsReuseUnchangedResults(t *testing.T) {
	s, done, live := syntheticServer(t)
	c := newRunCollector(s)
	gather(t, c)
	first := map[*run]*runData{done: c.cache[done], live: c.cache[live]}
	ingest(t, live, mkWindow(t, live.spec.GetRunId(), 1, 1, false, epWin{endpoint: 0, status: map[int32][]time.Duration{500: ms(5)}}))
	mfs := parseText(t, gather(t, c))
	if c.cache[done] != first[done] {
		t.Error("the ended run's results were read again")
	}
	if c.cache[live] == first[live] {
		t.Error("the running run's new window is not shown")
	}
	if got := value(mfs, "barrage_requests_total", map[string]string{"run": live.spec.GetRunId()}); got != 5 {
		t.Errorf("requests of the running run = %v, want 5", got)
	}
}

// TestMetricsConcurrentScrapes scrapes while windows arrive (run with -race).
func TestMetricsConcurrentScrapes(t *testing.T) {
	s, _, live := syntheticServer(t)
	c := newRunCollector(s)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for range 10 {
				if _, err := exposition(c); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for seq := int64(1); seq <= 10; seq++ {
		w := mkWindow(t, live.spec.GetRunId(), 1, seq, false, epWin{endpoint: 0, status: map[int32][]time.Duration{200: ms(1)}})
		live.mu.Lock()
		_, err := live.agg.Ingest(w)
		live.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	mfs := parseText(t, gather(t, c))
	if got := value(mfs, "barrage_requests_total", map[string]string{"run": live.spec.GetRunId()}); got != 14 {
		t.Errorf("requests of the running run = %v, want 14", got)
	}
}

// --- a real run: coordinator, agent, target, scraped over HTTP ---

// scrape GETs url with the given Accept header (none: text) and decodes
// the metric families.
func scrape(t *testing.T, url, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, b)
	}
	if accept == "" {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return parseText(t, b)
	}
	dec := expfmt.NewDecoder(resp.Body, expfmt.ResponseFormat(resp.Header))
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decode %s: %v", resp.Header.Get("Content-Type"), err)
		}
		out[mf.GetName()] = mf
	}
}

func TestMetricsOverHTTPMatchTheRunResult(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/boom":
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer target.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	lead, httpAddr := make(chan string, 1), make(chan string, 1)
	cfg := DefaultConfig()
	cfg.Listen, cfg.HTTP, cfg.Etcd, cfg.Logger, cfg.ID = "127.0.0.1:0", "127.0.0.1:0", cli, discard(), "metrics-test"
	cfg.StartDelay = 300 * time.Millisecond
	cfg.OnLead = func(a string) { lead <- a }
	cfg.OnHTTP = func(a string) { httpAddr <- a }
	done := make(chan error, 2)
	go func() { done <- Run(ctx, cfg) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	addr := <-lead
	metricsURL := "http://" + <-httpAddr + "/metrics"
	acfg := agent.DefaultConfig()
	acfg.Coordinators, acfg.Logger, acfg.Name = []string{addr}, discard(), "agent-0"
	go func() { done <- agent.Run(ctx, acfg) }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctl := pb.NewControlServiceClient(conn)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := ctl.ListAgents(ctx, &pb.ListAgentsRequest{}); err == nil && len(resp.GetAgents()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("agent did not register")
		}
	}
	if got := value(scrape(t, metricsURL, ""), "barrage_agents_connected", nil); got != 1 {
		t.Errorf("barrage_agents_connected = %v, want 1", got)
	}
	res := runToEnd(t, ctl, fmt.Sprintf(`
name: metrics
target: {base_url: %q}
window: 500ms
load:
  model: open
  max_inflight: 2000
  stages: [{duration: 2s, rate: 200}]
requests:
  - {name: ok, weight: 6, path: /ok}
  - {name: missing, weight: 2, path: /missing}
  - {name: boom, weight: 2, path: /boom}
`, target.URL))
	if st := res.GetStatus().GetState(); st != pb.RunState_RUN_STATE_COMPLETED {
		t.Fatalf("run state %v (%s), want COMPLETED", st, res.GetStatus().GetMessage())
	}
	id := res.GetStatus().GetRunId()
	run := map[string]string{"run": id}
	mfs := scrape(t, metricsURL, "")

	total := res.GetStatus().GetRequests()
	if total < 300 {
		t.Fatalf("the run made %d requests; want about 400", total)
	}
	if got := value(mfs, "barrage_requests_total", run); got != float64(total) {
		t.Errorf("barrage_requests_total summed over endpoints = %v, the run result says %d", got, total)
	}
	if got := value(mfs, "barrage_errors_total", run); got != float64(res.GetStatus().GetErrors()) {
		t.Errorf("barrage_errors_total = %v, the run result says %d", got, res.GetStatus().GetErrors())
	}
	if got := value(mfs, "barrage_dropped_total", run); got != float64(res.GetStatus().GetDropped()) {
		t.Errorf("barrage_dropped_total = %v, the run result says %d", got, res.GetStatus().GetDropped())
	}
	if got, want := labelValues(mfs, "barrage_requests_total", "endpoint"), []string{"boom", "missing", "ok"}; !slices.Equal(got, want) {
		t.Errorf("endpoint labels %v, want %v", got, want)
	}
	for _, chk := range []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"barrage_run_state", map[string]string{"run": id, "state": "completed"}, 1},
		{"barrage_shards", map[string]string{"run": id, "status": "done"}, 1},
		{"barrage_runs", map[string]string{"state": "completed"}, 1},
		{"barrage_coordinator_leader", nil, 1},
	} {
		if got := value(mfs, chk.metric, chk.labels); got != chk.want {
			t.Errorf("%s%v = %v, want %v", chk.metric, chk.labels, got, chk.want)
		}
	}

	names := []string{"ok", "missing", "boom"}
	for _, ew := range res.GetEndpoints() {
		name := names[ew.GetEndpoint()]
		labels := map[string]string{"run": id, "endpoint": name}
		hist := latency.NewHistogram()
		for _, ch := range ew.GetHistograms() {
			if err := hist.MergeEncoded(ch.GetLatency()); err != nil {
				t.Fatal(err)
			}
		}
		if got := value(mfs, "barrage_requests_total", labels); got != float64(ew.GetRequests()) {
			t.Errorf("%s: requests %v, result %d", name, got, ew.GetRequests())
		}
		perClass := map[string]int64{}
		for code, n := range ew.GetStatus() {
			perClass[outcome.ClassName(outcome.Class(int(code)))] += n
		}
		for cl, n := range perClass {
			if got := value(mfs, "barrage_responses_total", map[string]string{"run": id, "endpoint": name, "code_class": cl}); got != float64(n) {
				t.Errorf("%s: %s responses %v, result %d", name, cl, got, n)
			}
		}
		h := findMetric(t, mfs, "barrage_request_duration_seconds", labels).GetHistogram()
		if h.GetSampleCount() != uint64(hist.Count()) || hist.Count() != ew.GetRequests() {
			t.Errorf("%s: histogram count %d, merged latency histogram %d, requests %d", name, h.GetSampleCount(), hist.Count(), ew.GetRequests())
		}
		// Every classic bucket: the HDR buckets whose highest value is at
		// or below its bound, counted straight from the run's histograms.
		for _, b := range h.GetBucket() {
			var want uint64
			hist.Buckets(func(_, hi time.Duration, n int64) bool {
				if hi.Seconds() <= b.GetUpperBound() {
					want += uint64(n)
				}
				return true
			})
			if b.GetCumulativeCount() != want {
				t.Errorf("%s: bucket le=%g holds %d, the HDR histogram %d", name, b.GetUpperBound(), b.GetCumulativeCount(), want)
			}
		}
		if len(h.GetBucket()) != len(promhdr.DefaultBounds)+1 { // the text format lists +Inf
			t.Errorf("%s: %d classic buckets, want %d and +Inf", name, len(h.GetBucket()), len(promhdr.DefaultBounds))
		}
	}

	// The protobuf exposition (what Prometheus asks for to get native
	// histograms) has the native buckets beside the classic ones.
	pmfs := scrape(t, metricsURL, string(expfmt.NewFormat(expfmt.TypeProtoDelim)))
	h := findMetric(t, pmfs, "barrage_request_duration_seconds", map[string]string{"run": id, "endpoint": "ok"}).GetHistogram()
	if h.Schema == nil || len(h.GetBucket()) != len(promhdr.DefaultBounds) {
		t.Fatalf("protobuf histogram: schema %v, %d classic buckets; want both kinds", h.Schema, len(h.GetBucket()))
	}
	var native, cur int64
	for _, d := range h.GetPositiveDelta() {
		cur += d
		native += cur
	}
	if uint64(native)+h.GetZeroCount() != h.GetSampleCount() {
		t.Errorf("native buckets hold %d (+%d zero), count %d", native, h.GetZeroCount(), h.GetSampleCount())
	}
	if got := h.GetCreatedTimestamp().AsTime(); !got.Equal(res.GetStatus().GetCreatedAt().AsTime()) {
		t.Errorf("created timestamp %v, run created %v", got, res.GetStatus().GetCreatedAt().AsTime())
	}
}

func findMetric(t *testing.T, mfs map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	for _, m := range mfs[name].GetMetric() {
		if hasLabels(m, labels) {
			return m
		}
	}
	t.Fatalf("no %s%v", name, labels)
	return nil
}

func runToEnd(t *testing.T, ctl pb.ControlServiceClient, scenario string) *pb.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "metrics.yaml", Scenario: []byte(scenario)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	stream, err := ctl.WatchRun(ctx, &pb.WatchRunRequest{RunId: resp.GetRunId()})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := stream.Recv()
		if err != nil || st.GetState() != pb.RunState_RUN_STATE_RUNNING {
			break
		}
	}
	res, err := ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: resp.GetRunId()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}
