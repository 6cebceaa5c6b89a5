package agent

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	"github.com/barrage-dev/barrage/internal/outcome"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func parseMetrics(t *testing.T, b []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("parse exposition: %v\n%s", err, b)
	}
	return mfs
}

// sample sums the values of family name's samples whose labels include want.
func sample(mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	var sum float64
	for _, m := range mfs[name].GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && have[k] == v
		}
		if match {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

func gatherText(t *testing.T, c prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(c); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return parseMetrics(t, buf.Bytes())
}

func testPlan(names ...string) *pb.Plan {
	p := &pb.Plan{}
	for _, n := range names {
		p.Requests = append(p.Requests, &pb.RequestTemplate{Name: n, Path: "/" + n})
	}
	return p
}

func win(run string, shard int32, epoch, seq int64, final bool, inflight int64, eps ...*pb.EndpointWindow) *pb.ResultWindow {
	return &pb.ResultWindow{RunId: run, Shard: shard, Epoch: epoch, Seq: seq, Final: final, Inflight: inflight, Endpoints: eps}
}

func ep(i int32, status map[int32]int64, errs map[string]int64, dropped int64) *pb.EndpointWindow {
	e := &pb.EndpointWindow{Endpoint: i, Status: status, Errors: errs, Dropped: dropped}
	for _, n := range status {
		e.Requests += n
	}
	for _, n := range errs {
		e.Requests += n
	}
	return e
}

func TestTallyCountsEachWindowOnce(t *testing.T) {
	tl := &tally{runs: map[string]*runTally{}}
	tl.assigned(&pb.Assignment{RunId: "r", Shard: 0, Epoch: 1, Plan: testPlan("a", "b")})
	tl.assigned(&pb.Assignment{RunId: "r", Shard: 1, Epoch: 1, Plan: testPlan("a", "b")})
	w0 := win("r", 0, 1, 0, false, 7, ep(0, map[int32]int64{200: 5, 503: 1}, map[string]int64{"timeout": 2, "bogus": 1}, 4))
	w1 := win("r", 0, 1, 1, false, 3, ep(1, map[int32]int64{404: 2}, nil, 0))
	w2 := win("r", 0, 1, 2, false, 2, ep(0, map[int32]int64{200: 1}, nil, 0))
	steps := []struct {
		name string
		w    *pb.ResultWindow
	}{
		{"first", w0},
		{"resent", w0},
		{"out of order", w2},
		{"gap filled", w1},
		{"resent after the gap", w2},
		{"same seq, other shard", win("r", 1, 1, 0, false, 5, ep(1, map[int32]int64{200: 10}, nil, 0))},
		{"same seq, new epoch", win("r", 0, 2, 0, false, 1, ep(1, map[int32]int64{200: 100}, nil, 0))},
		{"endpoint outside the plan", win("r", 0, 1, 3, false, 1, ep(9, map[int32]int64{200: 1000}, nil, 0))},
	}
	for _, st := range steps {
		tl.window(st.w)
	}
	c := newAgentCollector(&agent{shards: map[shardKey]*shardRun{}}, tl)
	mfs := gatherText(t, c)
	tests := []struct {
		metric string
		labels map[string]string
		want   float64
	}{
		{"barrage_agent_requests_total", map[string]string{"endpoint": "a"}, 10},
		{"barrage_agent_requests_total", map[string]string{"endpoint": "b"}, 112},
		{"barrage_agent_requests_total", map[string]string{"endpoint": "other"}, 1000},
		{"barrage_agent_responses_total", map[string]string{"endpoint": "a", "code_class": "2xx"}, 6},
		{"barrage_agent_responses_total", map[string]string{"endpoint": "b", "code_class": "4xx"}, 2},
		{"barrage_agent_errors_total", map[string]string{"kind": "5xx"}, 1},
		{"barrage_agent_errors_total", map[string]string{"kind": "timeout"}, 2},
		{"barrage_agent_errors_total", map[string]string{"kind": "other"}, 1},
		{"barrage_agent_dropped_total", map[string]string{"endpoint": "a"}, 4},
		{"barrage_agent_windows_total", map[string]string{"run": "r"}, 6},
		// Latest windows: shard 0 epoch 1 seq 3 (1), shard 1 (5), shard 0 epoch 2 (1).
		{"barrage_agent_inflight", nil, 7},
	}
	for _, tt := range tests {
		if got := sample(mfs, tt.metric, tt.labels); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
		}
	}
}

func TestTallyKeepsRunningAndLatestEndedRuns(t *testing.T) {
	tl := &tally{runs: map[string]*runTally{}}
	tl.assigned(&pb.Assignment{RunId: "running", Plan: testPlan("a")})
	var want []string
	for i := range metricsEndedRuns + 3 {
		id := fmt.Sprintf("ended-%d", i)
		tl.assigned(&pb.Assignment{RunId: id, Plan: testPlan("a")})
		tl.window(win(id, 0, 0, 0, true, 0, ep(0, map[int32]int64{200: 1}, nil, 0)))
		if i >= 3 {
			want = append(want, id)
		}
	}
	tl.window(win("running", 0, 0, 0, false, 4, ep(0, map[int32]int64{200: 1}, nil, 0)))
	want = append(want, "running")
	var got []string
	for id := range tl.runs {
		got = append(got, id)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("runs kept %v, want %v", got, want)
	}
}

// TestAgentMetricsMatchItsShard runs a real run through a coordinator and
// checks the agent's counters against the coordinator's result for the
// agent's shard.
func TestAgentMetricsMatchItsShard(t *testing.T) {
	if testing.Short() {
		t.Skip("runs load")
	}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
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
	quiet := quietLogger()
	lead := make(chan string, 1)
	ccfg := coordinator.DefaultConfig()
	ccfg.Listen, ccfg.Etcd, ccfg.Logger, ccfg.ID = "127.0.0.1:0", cli, quiet, "agent-metrics-test"
	ccfg.StartDelay = 300 * time.Millisecond
	ccfg.OnLead = func(a string) { lead <- a }
	done := make(chan error, 2)
	go func() { done <- coordinator.Run(ctx, ccfg) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
	}()
	addr := <-lead
	httpAddr := make(chan string, 1)
	acfg := DefaultConfig()
	acfg.Coordinators, acfg.Logger, acfg.Name = []string{addr}, quiet, "metrics-agent"
	acfg.HTTP, acfg.OnHTTP = "127.0.0.1:0", func(a string) { httpAddr <- a }
	go func() { done <- Run(ctx, acfg) }()
	metricsURL := "http://" + <-httpAddr + "/metrics"

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctl := pb.NewControlServiceClient(conn)
	waitFor(t, "agent registered", func() bool {
		resp, err := ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		return err == nil && len(resp.GetAgents()) == 1
	})
	if got := sample(scrapeText(t, metricsURL), "barrage_agent_connected", nil); got != 1 {
		t.Errorf("barrage_agent_connected = %v, want 1", got)
	}

	rctx, rcancel := context.WithTimeout(ctx, time.Minute)
	defer rcancel()
	sub, err := ctl.SubmitRun(rctx, &pb.SubmitRunRequest{FileName: "m.yaml", Scenario: []byte(fmt.Sprintf(`
name: agent-metrics
target: {base_url: %q}
window: 500ms
load:
  model: open
  max_inflight: 2000
  stages: [{duration: 2s, rate: 200}]
requests:
  - {name: ok, weight: 3, path: /ok}
  - {name: missing, weight: 1, path: /missing}
`, target.URL))})
	if err != nil {
		t.Fatal(err)
	}
	id := sub.GetRunId()
	// While the load runs, the agent shows its shard.
	waitFor(t, "shard running", func() bool {
		return sample(scrapeText(t, metricsURL), "barrage_agent_shards_running", nil) == 1
	})
	stream, err := ctl.WatchRun(rctx, &pb.WatchRunRequest{RunId: id})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := stream.Recv()
		if err != nil || st.GetState() != pb.RunState_RUN_STATE_RUNNING {
			break
		}
	}
	res, err := ctl.GetRunResult(rctx, &pb.GetRunResultRequest{RunId: id})
	if err != nil {
		t.Fatal(err)
	}
	if st := res.GetStatus().GetState(); st != pb.RunState_RUN_STATE_COMPLETED || len(res.GetShards()) != 1 {
		t.Fatalf("run %v with %d shards (%s), want COMPLETED with 1", st, len(res.GetShards()), res.GetStatus().GetMessage())
	}
	shard := res.GetShards()[0]
	// The final acknowledgement may still be on its way.
	var mfs map[string]*dto.MetricFamily
	waitFor(t, "outbox empty and shard forgotten", func() bool {
		mfs = scrapeText(t, metricsURL)
		return sample(mfs, "barrage_agent_outbox_windows", nil) == 0 && sample(mfs, "barrage_agent_shards_running", nil) == 0
	})
	run := map[string]string{"run": id}
	if shard.GetRequests() < 300 {
		t.Fatalf("shard made %d requests; want about 400", shard.GetRequests())
	}
	if got := sample(mfs, "barrage_agent_requests_total", run); got != float64(shard.GetRequests()) {
		t.Errorf("barrage_agent_requests_total = %v, the shard's total is %d", got, shard.GetRequests())
	}
	if got := sample(mfs, "barrage_agent_windows_total", run); got != float64(shard.GetWindows()) {
		t.Errorf("barrage_agent_windows_total = %v, the coordinator merged %d", got, shard.GetWindows())
	}
	if got := sample(mfs, "barrage_agent_inflight", nil); got != 0 {
		t.Errorf("barrage_agent_inflight = %v after the run, want 0", got)
	}
	names := []string{"ok", "missing"}
	for _, ew := range res.GetEndpoints() {
		labels := map[string]string{"run": id, "endpoint": names[ew.GetEndpoint()]}
		if got := sample(mfs, "barrage_agent_requests_total", labels); got != float64(ew.GetRequests()) {
			t.Errorf("%v: requests %v, result %d", labels, got, ew.GetRequests())
		}
		if got := sample(mfs, "barrage_agent_dropped_total", labels); got != float64(ew.GetDropped()) {
			t.Errorf("%v: dropped %v, result %d", labels, got, ew.GetDropped())
		}
		for code, n := range ew.GetStatus() {
			cl := outcome.ClassName(outcome.Class(int(code)))
			if got := sample(mfs, "barrage_agent_responses_total", map[string]string{"run": id, "endpoint": labels["endpoint"], "code_class": cl}); got != float64(n) {
				t.Errorf("%v: %s responses %v, result %d", labels, cl, got, n)
			}
		}
	}
}

func scrapeText(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return parseMetrics(t, b)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
	}
}
