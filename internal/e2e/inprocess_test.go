package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// countingServer is an HTTP target that counts the requests it answers.
type countingServer struct {
	*httptest.Server
	n atomic.Int64
}

func newCountingServer(t *testing.T) *countingServer {
	cs := &countingServer{}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/missing" {
			w.WriteHeader(http.StatusNotFound)
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(cs.Close)
	return cs
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// cluster is an in-process cluster: embedded etcd, one coordinator, agents.
type cluster struct {
	addr   string
	web    string // the coordinator's HTTP address
	ctl    pb.ControlServiceClient
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startCluster(t *testing.T, agents int) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{cancel: cancel}
	t.Cleanup(func() {
		c.cancel()
		c.wg.Wait()
		cli.Close()
		etcd.Close()
	})
	log := testLogger(t)
	lead := make(chan string, 1)
	cfg := coordinator.DefaultConfig()
	cfg.Listen, cfg.Etcd, cfg.ID, cfg.Logger = "127.0.0.1:0", cli, "c1", log
	cfg.StartDelay = 500 * time.Millisecond
	cfg.OnLead = func(a string) { lead <- a }
	cfg.HTTP = "127.0.0.1:0"
	cfg.OnHTTP = func(a string) { c.web = a }
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := coordinator.Run(ctx, cfg); err != nil {
			t.Errorf("coordinator: %v", err)
		}
	}()
	select {
	case c.addr = <-lead:
	case <-time.After(20 * time.Second):
		t.Fatal("coordinator did not become leader")
	}
	for i := range agents {
		acfg := agent.DefaultConfig()
		acfg.Coordinators = []string{c.addr}
		acfg.Name = fmt.Sprintf("agent-%d", i)
		acfg.Logger = log
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := agent.Run(ctx, acfg); err != nil {
				t.Errorf("agent: %v", err)
			}
		}()
	}
	conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c.ctl = pb.NewControlServiceClient(conn)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		if err == nil && len(resp.GetAgents()) == agents {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agents did not register: %v %v", resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// runToEnd submits a scenario, waits for the run to end and returns its
// result.
func (c *cluster) runToEnd(t *testing.T, scenario string) *pb.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := c.ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "test.yaml", Scenario: []byte(scenario)})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	stream, err := c.ctl.WatchRun(ctx, &pb.WatchRunRequest{RunId: resp.GetRunId()})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := stream.Recv()
		if err != nil {
			break
		}
		if st.GetState() != pb.RunState_RUN_STATE_RUNNING {
			break
		}
	}
	res, err := c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: resp.GetRunId()})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// histogramCount sums every class histogram of every endpoint.
func histogramCount(t *testing.T, res *pb.RunResult) int64 {
	t.Helper()
	var n int64
	for _, e := range res.GetEndpoints() {
		for _, h := range e.GetHistograms() {
			lh, err := latency.Decode(h.GetLatency())
			if err != nil {
				t.Fatal(err)
			}
			n += lh.Count()
		}
	}
	return n
}

func TestOpenModelExactTotalsThreeAgents(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := newCountingServer(t)
	c := startCluster(t, 3)
	res := c.runToEnd(t, fmt.Sprintf(`
name: exact
target: {base_url: %q}
load:
  model: open
  # Generous: under -race on a loaded 2-core machine latency can reach
  # seconds; every arrival must still be sent, so none may be dropped.
  max_inflight: 12000
  stages: [{duration: 5s, rate: 2000}]
requests:
  - {name: ok, weight: 9, path: /ok}
  - {name: missing, weight: 1, path: /missing}
`, srv.URL))
	if got := res.GetStatus().GetState(); got != pb.RunState_RUN_STATE_COMPLETED {
		t.Fatalf("state = %v (%s), want COMPLETED", got, res.GetStatus().GetMessage())
	}
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	served := srv.n.Load()
	if rep.Totals.Requests != served {
		t.Errorf("report counts %d requests, the server answered %d: must be equal", rep.Totals.Requests, served)
	}
	if d := float64(rep.Totals.Requests) - 10000; d > 100 || d < -100 {
		t.Errorf("requests = %d, want 10,000 ± 1%%", rep.Totals.Requests)
	}
	var shardSum int64
	for _, sh := range res.GetShards() {
		shardSum += sh.GetRequests()
		if !sh.GetDone() {
			t.Errorf("shard %d not done", sh.GetShard())
		}
	}
	if len(res.GetShards()) != 3 {
		t.Errorf("shards = %d, want 3", len(res.GetShards()))
	}
	if shardSum != rep.Totals.Requests {
		t.Errorf("shards' requests sum to %d, totals say %d", shardSum, rep.Totals.Requests)
	}
	if hc := histogramCount(t, res); hc != rep.Totals.Requests {
		t.Errorf("merged histograms hold %d values, totals say %d", hc, rep.Totals.Requests)
	}
	if rep.Totals.Status["404"] != rep.Endpoints[1].Requests || rep.Endpoints[1].Requests == 0 {
		t.Errorf("404s = %d, missing endpoint requests = %d", rep.Totals.Status["404"], rep.Endpoints[1].Requests)
	}
	// Weights 9:1 hold exactly over every 10 arrivals.
	if r := float64(rep.Endpoints[0].Requests) / float64(rep.Totals.Requests); r < 0.89 || r > 0.91 {
		t.Errorf("share of the weight-9 endpoint = %.3f, want 0.9", r)
	}
	if rep.Totals.Dropped != 0 || rep.Totals.TransportErrors != 0 {
		t.Errorf("dropped %d, transport errors %d; want none against a fast local server", rep.Totals.Dropped, rep.Totals.TransportErrors)
	}
}

// TestRefusedTargetIsCountedNotLost: every arrival against a port nobody
// listens on is a request with the "refused" error kind; the run completes.
func TestRefusedTargetIsCountedNotLost(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	c := startCluster(t, 2)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	res := c.runToEnd(t, fmt.Sprintf(`
name: refused
target: {base_url: "http://%s"}
load: {stages: [{duration: 1s, rate: 100}]}
requests: [{path: /}]
`, addr))
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	if rep.State != "completed" || rep.Totals.Requests != 100 || rep.Totals.ErrorKinds["refused"] != 100 || rep.Totals.Errors != 100 {
		t.Fatalf("state %s, requests %d, error kinds %v, errors %d; want 100 refused", rep.State, rep.Totals.Requests, rep.Totals.ErrorKinds, rep.Totals.Errors)
	}
}

// TestCancelStopsTheRunAndKeepsItsCounts cancels a long run: it ends
// CANCELLED soon after, and what the target served is exactly what the
// report counts.
func TestCancelStopsTheRunAndKeepsItsCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := newCountingServer(t)
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := c.ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "long.yaml", Scenario: []byte(fmt.Sprintf(`
name: long
target: {base_url: %q}
load: {stages: [{duration: 10m, rate: 300}]}
requests: [{path: /}]
`, srv.URL))})
	if err != nil {
		t.Fatal(err)
	}
	for srv.n.Load() < 300 {
		time.Sleep(20 * time.Millisecond)
	}
	cr, err := c.ctl.CancelRun(ctx, &pb.CancelRunRequest{RunId: resp.GetRunId()})
	if err != nil || cr.GetState() != pb.RunState_RUN_STATE_CANCELLED {
		t.Fatalf("CancelRun = %v, %v", cr, err)
	}
	var res *pb.RunResult
	for {
		res, err = c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: resp.GetRunId()})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetStatus().GetState() != pb.RunState_RUN_STATE_RUNNING {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.GetStatus().GetState() != pb.RunState_RUN_STATE_CANCELLED {
		t.Fatalf("state %v (%s), want CANCELLED", res.GetStatus().GetState(), res.GetStatus().GetMessage())
	}
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	if served := srv.n.Load(); rep.Totals.Requests != served {
		t.Errorf("report counts %d requests, the server answered %d", rep.Totals.Requests, served)
	}
	for _, s := range rep.Shards {
		if s.StopReason != "run cancelled" {
			t.Errorf("shard %d stop reason %q", s.Shard, s.StopReason)
		}
	}
	// A cancelled run can be cancelled again harmlessly.
	if cr, err := c.ctl.CancelRun(ctx, &pb.CancelRunRequest{RunId: resp.GetRunId()}); err != nil || cr.GetState() != pb.RunState_RUN_STATE_CANCELLED {
		t.Errorf("second CancelRun = %v, %v", cr, err)
	}
}
