package htmlreport

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/results"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// rng is splitmix64: a deterministic generator whose output no Go release
// can change, so that golden files stay put.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// logUniform returns a duration log-uniformly distributed in [lo, hi).
func (r *rng) logUniform(lo, hi time.Duration) time.Duration {
	l, h := math.Log(float64(lo)), math.Log(float64(hi))
	return time.Duration(math.Exp(l + r.float()*(h-l)))
}

// req is one simulated request's outcome.
type req struct {
	status   int    // HTTP status; 0 for a transport error
	errKind  string // transport error kind
	lat, svc time.Duration
	mutated  bool
}

// encoder reuses two recorders for all the histograms of a fixture.
type encoder struct{ lat, svc *latency.Recorder }

func newEncoder() *encoder { return &encoder{latency.NewRecorder(), latency.NewRecorder()} }

// endpointWindow builds one endpoint's part of a result window.
func (e *encoder) endpointWindow(tb testing.TB, ep int32, reqs []req, dropped int64) *pb.EndpointWindow {
	tb.Helper()
	ew := &pb.EndpointWindow{Endpoint: ep, Requests: int64(len(reqs)), Dropped: dropped, Status: map[int32]int64{}, Errors: map[string]int64{}}
	var byClass [int(pb.OutcomeClass_OUTCOME_CLASS_ERROR) + 1][]req
	for _, r := range reqs {
		c := pb.OutcomeClass_OUTCOME_CLASS_ERROR
		if r.errKind == "" {
			c = outcome.Class(r.status)
			ew.Status[int32(r.status)]++
			ew.BytesIn += 420
		} else {
			ew.Errors[r.errKind]++
		}
		ew.BytesOut += 180
		byClass[c] = append(byClass[c], r)
	}
	for c, rs := range byClass {
		if len(rs) == 0 {
			continue
		}
		e.lat.Reset()
		e.svc.Reset()
		for _, r := range rs {
			e.lat.Record(r.lat)
			e.svc.Record(r.svc)
		}
		lb, err := e.lat.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		sb, err := e.svc.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: pb.OutcomeClass(c), Latency: lb, ServiceTime: sb})
	}
	return ew
}

// fixtureOptions vary the fixture for comparisons and hostile input.
type fixtureOptions struct {
	runID string
	// slow multiplies the latency of the "order" endpoint.
	slow float64
	// listName renames the "list" endpoint.
	listName string
	// hostile puts markup and control characters in every string the run
	// carries.
	hostile bool
}

var fixtureStart = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>&amp;` + "\x00\x1b"

var (
	fixturesMu sync.Mutex
	fixtures   = map[fixtureOptions]*pb.RunResult{}
)

// fixture is a deterministic two-shard, 20-window run of three endpoints
// (two templates and one API operation) with a latency spike, errors, drops,
// an agent lost and two findings, merged by internal/results as the
// coordinator does. Each variant is built once; callers get a copy they
// may change.
func fixture(tb testing.TB, o fixtureOptions) *pb.RunResult {
	tb.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	res := fixtures[o]
	if res == nil {
		res = buildFixture(tb, o)
		fixtures[o] = res
	}
	return proto.Clone(res).(*pb.RunResult)
}

func buildFixture(tb testing.TB, o fixtureOptions) *pb.RunResult {
	tb.Helper()
	if o.runID == "" {
		o.runID = "20261127-100000-c0ffee"
	}
	if o.slow == 0 {
		o.slow = 1
	}
	if o.listName == "" {
		o.listName = "list"
	}
	name, agentB, detail := "checkout", "agent-b", "body /quantity: 101 (maximum 100)"
	if o.hostile {
		name, agentB, detail, o.listName = "checkout "+hostile, "agent-b"+hostile, detail+hostile, o.listName+hostile
	}
	plan := &pb.Plan{
		Name: name, Seed: 7, Window: durationpb.New(time.Second),
		Target: &pb.Target{BaseUrl: "http://127.0.0.1:18080", Timeout: durationpb.New(time.Second)},
		Load: &pb.Load{Model: pb.LoadModel_LOAD_MODEL_OPEN, Stages: []*pb.Stage{
			{Duration: durationpb.New(10 * time.Second), FromRate: 100, ToRate: 100},
			{Duration: durationpb.New(10 * time.Second), FromRate: 100, ToRate: 200},
		}},
		Requests: []*pb.RequestTemplate{
			{Name: o.listName, Method: "GET", Path: "/products?limit={{int 1 50}}", Weight: 6},
			{Name: "order", Method: "POST", Path: "/orders", Weight: 3},
		},
		Openapi: &pb.OpenAPI{File: "shop.yaml", Operations: []*pb.Operation{
			{Id: "createOrder", Weight: 1, Method: "POST", Path: "/orders"},
		}},
	}
	const shards, windows = 2, 20
	run := results.New(plan, shards, fixtureStart)
	enc := newEncoder()
	for seq := range int64(windows) {
		for shard := range int32(shards) {
			r := rng(uint64(seq)*1000 + uint64(shard) + 1)
			rate := 100.0
			if seq >= 10 {
				rate = 100 + 10*float64(seq-10) + 5
			}
			perShard := rate / shards
			var list, order, create []req
			for range int(perShard * 0.6) {
				l := r.logUniform(time.Millisecond, 4*time.Millisecond)
				q := req{status: 200, lat: l, svc: l * 9 / 10}
				if seq == 12 && shard == 0 {
					// The target stalled: arrivals waited (corrected latency)
					// while each request, once sent, was fast.
					q.lat += time.Duration(len(list)) * 12 * time.Millisecond
				}
				list = append(list, q)
			}
			for i := range int(perShard * 0.3) {
				l := time.Duration(float64(r.logUniform(5*time.Millisecond, 30*time.Millisecond)) * o.slow)
				q := req{status: 201, lat: l, svc: l * 9 / 10}
				switch {
				case (seq == 15 || seq == 16) && i < 2:
					q = req{errKind: "timeout", lat: time.Second, svc: time.Second}
				case (seq == 15 || seq == 16) && i%5 == 0:
					q.status = 503
				}
				order = append(order, q)
			}
			for i := range int(perShard * 0.1) {
				l := r.logUniform(2*time.Millisecond, 8*time.Millisecond)
				q := req{status: 201, lat: l, svc: l * 9 / 10}
				if i%3 == 0 {
					q.mutated, q.status = true, 400
				}
				if (seq == 5 || seq == 14) && i == 0 {
					q.status = 500
				}
				create = append(create, q)
			}
			var dropped int64
			if seq == 12 && shard == 0 {
				dropped = 7
			}
			cw := enc.endpointWindow(tb, 2, create, 0)
			for _, q := range create {
				if q.mutated {
					cw.Mutated++
					continue
				}
				cw.Valid++
				if q.status/100 == 2 {
					cw.Valid_2Xx++
				}
			}
			w := &pb.ResultWindow{
				RunId: o.runID, Shard: shard, Seq: seq,
				Start: timestamppb.New(fixtureStart.Add(time.Duration(seq) * time.Second)),
				End:   timestamppb.New(fixtureStart.Add(time.Duration(seq+1) * time.Second)),
				Final: seq == windows-1,
				Endpoints: []*pb.EndpointWindow{
					enc.endpointWindow(tb, 0, list, dropped),
					enc.endpointWindow(tb, 1, order, 0),
					cw,
				},
			}
			if shard == 0 {
				w.ClockOffset = durationpb.New(62 * time.Millisecond)
			}
			w.Findings = fixtureFindings(seq, shard, detail)
			if _, err := run.Ingest(w); err != nil {
				tb.Fatalf("window %d/%d: %v", shard, seq, err)
			}
		}
	}
	run.Finish()
	got, err := run.Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range got.Shards {
		s.AgentId = fmt.Sprintf("id-%d", s.GetShard())
		s.AgentName = "agent-a"
		if s.GetShard() == 1 {
			s.AgentName = agentB
		}
	}
	lost := "agent " + agentB + " (shard 1) disconnected"
	return &pb.RunResult{
		Status: &pb.RunStatus{
			RunId: o.runID, Name: name, State: pb.RunState_RUN_STATE_COMPLETED,
			CreatedAt: timestamppb.New(fixtureStart.Add(-2 * time.Second)),
			StartAt:   timestamppb.New(fixtureStart), EndedAt: timestamppb.New(fixtureStart.Add(21 * time.Second)),
			Planned: durationpb.New(20 * time.Second), Shards: shards, ShardsDone: shards,
			Requests: run.Totals().Requests, Errors: run.Totals().Errors, Dropped: run.Totals().Dropped,
		},
		Plan: plan, FileName: "checkout.yaml",
		Endpoints: got.Endpoints, Timeline: got.Timeline, Shards: got.Shards, Findings: got.Findings,
		Events: []*pb.RunEvent{
			{At: timestamppb.New(fixtureStart.Add(200 * time.Millisecond)), Kind: "clock-offset", Message: "agent agent-a clock offset 62ms"},
			{At: timestamppb.New(fixtureStart.Add(13500 * time.Millisecond)), Kind: "agent-lost", Message: lost},
		},
	}
}

// fixtureFindings are the findings a shard saw in a window.
func fixtureFindings(seq int64, shard int32, detail string) []*pb.FindingSample {
	var out []*pb.FindingSample
	at := fixtureStart.Add(time.Duration(seq)*time.Second + 300*time.Millisecond)
	if (seq == 5 && shard == 0) || (seq == 14 && shard == 1) {
		out = append(out, &pb.FindingSample{
			Fingerprint: "0123456789abcdef0123456789abcdef", Oracle: "server-error", Severity: "medium",
			Endpoint: 2, Mutation: "boundaries/max+1", Detail: detail, Evidence: "HTTP 500",
			Count: 1 + int64(shard), FirstSeen: timestamppb.New(at), LoadRps: 100, Status: 500, Case: 17, Cwe: "CWE-755",
			Request:  []byte("POST /orders HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{\"product_id\":1,\"quantity\":101}"),
			Response: []byte("HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n\r\n{\"error\":\"internal server error\"}"),
		})
	}
	if seq == 16 && shard == 0 {
		out = append(out, &pb.FindingSample{
			Fingerprint: "fedcba9876543210fedcba9876543210", Oracle: "information-leak", Severity: "high",
			Endpoint: 1, Evidence: `stack trace: Traceback (most recent call last): File "/srv/app.py", line 12, in <module>`,
			Count: 4, FirstSeen: timestamppb.New(at), LoadRps: 165, Status: 503, Cwe: "CWE-209", Owasp: "A05:2021",
			Request:  []byte("POST /orders HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nContent-Length: 2\r\n\r\n{}"),
			Response: []byte("HTTP/1.1 503 Service Unavailable\r\n\r\n<pre>Traceback (most recent call last):\n  File \"/srv/app.py\", line 12</pre>"),
		})
	}
	return out
}

// oneHour builds a run of the given number of one-second windows and
// endpoints without going through internal/results (which would take
// seconds): a timeline, per-endpoint histograms of a few thousand values,
// four shards, events and findings.
func oneHour(tb testing.TB, windows, endpoints int) *pb.RunResult {
	tb.Helper()
	start := fixtureStart
	plan := &pb.Plan{
		Name: "soak", Seed: 99, Window: durationpb.New(time.Second),
		Target: &pb.Target{BaseUrl: "http://127.0.0.1:18080"},
		Load: &pb.Load{Stages: []*pb.Stage{
			{Duration: durationpb.New(time.Duration(windows/6) * time.Second), FromRate: 0, ToRate: 2000},
			{Duration: durationpb.New(time.Duration(windows-windows/6) * time.Second), FromRate: 2000, ToRate: 2000},
		}},
	}
	r := rng(42)
	enc := newEncoder()
	res := &pb.RunResult{Plan: plan, FileName: "soak.yaml"}
	var total int64
	for i := range endpoints {
		plan.Requests = append(plan.Requests, &pb.RequestTemplate{
			Name: fmt.Sprintf("endpoint-%02d", i), Method: "GET", Path: fmt.Sprintf("/api/v1/resource-%02d/{{int 1 1000}}", i), Weight: 1,
		})
		reqs := make([]req, 0, 2000)
		for k := range 2000 {
			l := r.logUniform(300*time.Microsecond, time.Duration(5+i)*time.Millisecond)
			q := req{status: 200, lat: l, svc: l * 9 / 10}
			switch {
			case k%97 == 0:
				q.status = 503
			case k%331 == 0:
				q = req{errKind: "timeout", lat: 10 * time.Second, svc: 10 * time.Second}
			case k%500 == 0:
				q.lat = r.logUniform(100*time.Millisecond, 2*time.Second)
			}
			reqs = append(reqs, q)
		}
		ew := enc.endpointWindow(tb, int32(i), reqs, int64(i%3))
		// Scale the counters up to an hour's worth; the histograms keep
		// their shape (the report only reads their distribution).
		ew.Requests *= 3600
		for k := range ew.Status {
			ew.Status[k] *= 3600
		}
		for k := range ew.Errors {
			ew.Errors[k] *= 3600
		}
		total += ew.Requests
		res.Endpoints = append(res.Endpoints, ew)
	}
	for seq := range windows {
		p50 := time.Duration(2000+r.next()%500) * time.Microsecond
		p99 := p50 * 8
		mx := p99 * 3
		if seq%600 == 321 {
			mx = 3 * time.Second
		}
		errs := int64(r.next() % 20)
		if seq == 2345 {
			errs = 5000
		}
		res.Timeline = append(res.Timeline, &pb.TimelinePoint{
			Seq: int64(seq), Start: timestamppb.New(start.Add(time.Duration(seq) * time.Second)), Length: durationpb.New(time.Second),
			Requests: 2000 - int64(r.next()%50), Errors: errs, P50: durationpb.New(p50), P90: durationpb.New(p50 * 3),
			P99: durationpb.New(p99), Max: durationpb.New(mx), AskedRps: 2000, Shards: 4,
		})
	}
	for k := range 4 {
		res.Shards = append(res.Shards, &pb.ShardSummary{
			Shard: int32(k), AgentId: fmt.Sprintf("id-%d", k), AgentName: fmt.Sprintf("agent-%d", k),
			Windows: int64(windows), Requests: total / 4, Done: true,
		})
	}
	for k := range 20 {
		res.Events = append(res.Events, &pb.RunEvent{
			At: timestamppb.New(start.Add(time.Duration(k*170) * time.Second)), Kind: "late-window", Message: fmt.Sprintf("shard %d window %d arrived late", k%4, k*170),
		})
		res.Findings = append(res.Findings, &pb.FindingSample{
			Fingerprint: fmt.Sprintf("%032x", k+1), Oracle: "server-error", Severity: "medium", Endpoint: int32(k % endpoints),
			Evidence: "HTTP 503", Count: int64(100 + k), FirstSeen: timestamppb.New(start.Add(time.Duration(k) * time.Minute)), Status: 503,
			Request: []byte(fmt.Sprintf("GET /api/v1/resource-%02d/%d HTTP/1.1\r\nHost: 127.0.0.1:18080\r\n\r\n", k%endpoints, k)),
		})
	}
	res.Status = &pb.RunStatus{
		RunId: "20261127-100000-50a4", Name: "soak", State: pb.RunState_RUN_STATE_COMPLETED,
		StartAt: timestamppb.New(start), EndedAt: timestamppb.New(start.Add(time.Duration(windows+1) * time.Second)),
		Planned: durationpb.New(time.Duration(windows) * time.Second), Shards: 4, Requests: total,
	}
	return res
}
