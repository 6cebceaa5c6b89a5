package engine

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

type collector struct {
	mu sync.Mutex
	ws []*pb.ResultWindow
}

func (c *collector) emit(w *pb.ResultWindow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ws = append(c.ws, w)
}

// totals checks the window sequence and sums it.
func (c *collector) totals(t *testing.T) (requests, dropped int64, final *pb.ResultWindow) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.ws {
		if w.GetSeq() != int64(i) {
			t.Fatalf("window %d has seq %d", i, w.GetSeq())
		}
		if w.GetFinal() != (i == len(c.ws)-1) {
			t.Fatalf("window %d final=%v of %d", i, w.GetFinal(), len(c.ws))
		}
		for _, e := range w.GetEndpoints() {
			requests += e.GetRequests()
			dropped += e.GetDropped()
		}
	}
	if len(c.ws) == 0 {
		t.Fatal("no windows")
	}
	return requests, dropped, c.ws[len(c.ws)-1]
}

func openPlan(url string, rate float64, d time.Duration) *pb.Plan {
	return &pb.Plan{
		Target:   &pb.Target{BaseUrl: url, Timeout: durationpb.New(5 * time.Second)},
		Requests: []*pb.RequestTemplate{{Name: "a", Method: "GET", Path: "/a?n={{int 1 9}}", Weight: 2}, {Name: "b", Method: "POST", Path: "/b", Body: `{"id":"{{uuid}}"}`, Weight: 1}},
		Load:     &pb.Load{Stages: []*pb.Stage{{Duration: durationpb.New(d), FromRate: rate, ToRate: rate}}},
		Window:   durationpb.New(250 * time.Millisecond),
	}
}

func counting(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// paths runs a test on the event loop and on the goroutine path.
func paths(t *testing.T, f func(t *testing.T, noLoop bool)) {
	for _, noLoop := range []bool{false, true} {
		name := "event-loop"
		if noLoop {
			name = "goroutines"
		}
		t.Run(name, func(t *testing.T) { f(t, noLoop) })
	}
}

func TestOpenModelCountsEveryRequestOnce(t *testing.T) { paths(t, testOpenModelCountsEveryRequestOnce) }

func testOpenModelCountsEveryRequestOnce(t *testing.T, noLoop bool) {
	srv, served := counting(t, nil)
	var c collector
	a := &pb.Assignment{RunId: "r", Shard: 1, ShardCount: 2, Epoch: 1, Plan: openPlan(srv.URL, 400, time.Second), MaxInflight: 100, Seed: 7}
	if err := Run(context.Background(), Config{Assignment: a, Start: time.Now().Add(50 * time.Millisecond), Emit: c.emit, NoEventLoop: noLoop}); err != nil {
		t.Fatal(err)
	}
	requests, dropped, final := c.totals(t)
	// Shard 1 of 2 at 400/s for 1s takes arrivals 1, 3, …, 399: exactly 200.
	if requests+dropped != 200 {
		t.Errorf("requests %d + dropped %d = %d, want exactly 200 arrivals", requests, dropped, requests+dropped)
	}
	if requests != served.Load() {
		t.Errorf("windows count %d requests, the server saw %d", requests, served.Load())
	}
	if final.GetStopReason() != "" {
		t.Errorf("stop reason %q on a run that ended normally", final.GetStopReason())
	}
}

// TestOpenModelDropsInsteadOfQueueing: a target that holds every request
// fills the in-flight cap; later arrivals are dropped, none queued, and
// requests + dropped is exactly the schedule.
func TestOpenModelDropsInsteadOfQueueing(t *testing.T) { paths(t, testOpenModelDropsInsteadOfQueueing) }

func testOpenModelDropsInsteadOfQueueing(t *testing.T, noLoop bool) {
	release := make(chan struct{})
	srv, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	var c collector
	a := &pb.Assignment{RunId: "r", Shard: 0, ShardCount: 1, Epoch: 1, Plan: openPlan(srv.URL, 200, 500*time.Millisecond), MaxInflight: 5}
	done := make(chan error)
	go func() {
		done <- Run(context.Background(), Config{Assignment: a, Start: time.Now(), Emit: c.emit, NoEventLoop: noLoop})
	}()
	time.Sleep(700 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	requests, dropped, _ := c.totals(t)
	if requests != 5 || dropped != 95 {
		t.Errorf("requests %d, dropped %d; want 5 and 95 (cap 5, 100 arrivals)", requests, dropped)
	}
}

func TestStopFinishesInFlightAndSaysWhy(t *testing.T) { paths(t, testStopFinishesInFlightAndSaysWhy) }

func testStopFinishesInFlightAndSaysWhy(t *testing.T, noLoop bool) {
	srv, served := counting(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(20 * time.Millisecond) })
	var c collector
	ctx, cancel := context.WithCancelCause(context.Background())
	a := &pb.Assignment{RunId: "r", Shard: 0, ShardCount: 1, Epoch: 1, Plan: openPlan(srv.URL, 200, time.Hour), MaxInflight: 50}
	go func() {
		time.Sleep(400 * time.Millisecond)
		cancel(errors.New("run cancelled"))
	}()
	start := time.Now()
	if err := Run(ctx, Config{Assignment: a, Start: start, Emit: c.emit, NoEventLoop: noLoop}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("stop did not stop the shard")
	}
	requests, _, final := c.totals(t)
	if requests != served.Load() || requests == 0 {
		t.Errorf("windows count %d, server saw %d", requests, served.Load())
	}
	if final.GetStopReason() != "run cancelled" {
		t.Errorf("stop reason = %q, want %q", final.GetStopReason(), "run cancelled")
	}
}

func TestClosedModelHoldsConcurrency(t *testing.T) { paths(t, testClosedModelHoldsConcurrency) }

func testClosedModelHoldsConcurrency(t *testing.T, noLoop bool) {
	var cur, peak atomic.Int64
	srv, served := counting(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
	})
	plan := openPlan(srv.URL, 0, 0)
	plan.Load = &pb.Load{Model: pb.LoadModel_LOAD_MODEL_CLOSED, Stages: []*pb.Stage{
		{Duration: durationpb.New(300 * time.Millisecond), Concurrency: 7},
		{Duration: durationpb.New(300 * time.Millisecond), Concurrency: 3},
	}}
	var c collector
	// Shard 0 of 2 gets 4 of 7 workers, then 2 of 3.
	a := &pb.Assignment{RunId: "r", Shard: 0, ShardCount: 2, Epoch: 1, Plan: plan}
	if err := Run(context.Background(), Config{Assignment: a, Start: time.Now(), Emit: c.emit, NoEventLoop: noLoop}); err != nil {
		t.Fatal(err)
	}
	requests, _, _ := c.totals(t)
	if requests != served.Load() || requests < 50 {
		t.Errorf("windows count %d, server saw %d", requests, served.Load())
	}
	if p := peak.Load(); p > 4 || p < 2 {
		t.Errorf("peak concurrency %d, want at most 4 (and more than 1)", p)
	}
}

func TestBadPlanEmitsFinalWindow(t *testing.T) {
	var c collector
	a := &pb.Assignment{RunId: "r", Plan: &pb.Plan{Target: &pb.Target{BaseUrl: "ftp://x"}, Requests: []*pb.RequestTemplate{{Path: "/"}}}}
	err := Run(context.Background(), Config{Assignment: a, Start: time.Now(), Emit: c.emit})
	if err == nil {
		t.Fatal("want an error for an ftp target")
	}
	_, _, final := c.totals(t)
	if final.GetStopReason() == "" {
		t.Error("final window must say why the shard did nothing")
	}
}

func TestPickerWeightsAreExactPerCycle(t *testing.T) {
	p := newPicker([]uint32{5, 3, 1})
	counts := make([]int, 3)
	for g := int64(0); g < 9*100; g++ {
		counts[p.at(g)]++
	}
	if counts[0] != 500 || counts[1] != 300 || counts[2] != 100 {
		t.Errorf("counts = %v, want [500 300 100]", counts)
	}
	// Spread, not bunched: the weight-5 template never runs 4 times in a row.
	run := 0
	for g := int64(0); g < 90; g++ {
		if p.at(g) == 0 {
			run++
			if run > 3 {
				t.Fatalf("weight-5 template %d times in a row at %d", run, g)
			}
		} else {
			run = 0
		}
	}
	big := newPicker([]uint32{1_000_000, 1_000_000})
	n := 0
	for g := int64(0); g < 10000; g++ {
		n += big.at(g)
	}
	if n < 4500 || n > 5500 {
		t.Errorf("large weights: %d of 10000 to the second template, want about half", n)
	}
}

// TestTakenOverShardRunsTheRest: an assignment that takes a shard over from
// window 2 (of 250 ms) sends exactly the shard's arrivals intended from
// 500 ms on, and numbers its windows from 2.
func TestTakenOverShardRunsTheRest(t *testing.T) { paths(t, testTakenOverShardRunsTheRest) }

func testTakenOverShardRunsTheRest(t *testing.T, noLoop bool) {
	srv, served := counting(t, nil)
	var c collector
	a := &pb.Assignment{RunId: "r", Shard: 1, ShardCount: 2, Epoch: 2, FirstSeq: 2, Plan: openPlan(srv.URL, 400, time.Second), MaxInflight: 100, Seed: 7}
	// The run started 400 ms ago: the takeover point (500 ms) is ahead.
	start := time.Now().Add(-400 * time.Millisecond)
	if err := Run(context.Background(), Config{Assignment: a, Start: start, Emit: c.emit, NoEventLoop: noLoop}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	first := c.ws[0]
	for i, w := range c.ws {
		if w.GetSeq() != int64(i)+2 || w.GetEpoch() != 2 {
			t.Fatalf("window %d: seq %d epoch %d, want seq %d epoch 2", i, w.GetSeq(), w.GetEpoch(), i+2)
		}
		c.ws[i] = proto.Clone(w).(*pb.ResultWindow)
		c.ws[i].Seq = int64(i) // for totals' numbering check
	}
	c.mu.Unlock()
	requests, dropped, _ := c.totals(t)
	// Shard 1 of 2 at 400/s: arrivals 201, 203, …, 399 are due at or after
	// 500 ms: exactly 100.
	if requests+dropped != 100 || requests != served.Load() {
		t.Errorf("requests %d + dropped %d (served %d), want exactly the 100 arrivals from 500 ms", requests, dropped, served.Load())
	}
	if got, want := first.GetStart().AsTime(), start.Add(500*time.Millisecond); !got.Equal(want) {
		t.Errorf("first window starts at %v, want the run start + 500 ms (%v)", got, want)
	}
}
