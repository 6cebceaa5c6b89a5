package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

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

func spread(n int, from, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = from + time.Duration(i)*step
	}
	return out
}

// fixture is a deterministic two-endpoint, two-shard result.
func fixture(t *testing.T) *pb.RunResult {
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	ok := spread(900, time.Millisecond, 10*time.Microsecond)
	slow := spread(90, 20*time.Millisecond, time.Millisecond)
	errs := spread(10, 5*time.Second, 0)
	return &pb.RunResult{
		Status: &pb.RunStatus{
			RunId: "20261127-100000-abcdef", Name: "golden", State: pb.RunState_RUN_STATE_COMPLETED,
			StartAt: timestamppb.New(start), EndedAt: timestamppb.New(start.Add(11 * time.Second)),
			Planned: durationpb.New(10 * time.Second), Shards: 2,
		},
		FileName: "golden.yaml",
		Plan: &pb.Plan{
			Name: "golden", Seed: 42,
			Load: &pb.Load{Stages: []*pb.Stage{{Duration: durationpb.New(10 * time.Second), FromRate: 100, ToRate: 100}}},
			Requests: []*pb.RequestTemplate{
				{Name: "list", Method: "GET", Path: "/products?limit={{int 1 50}}", Weight: 9},
				{Name: "order", Method: "POST", Path: "/orders", Weight: 1},
			},
			Target: &pb.Target{BaseUrl: "http://127.0.0.1:18080"},
			Openapi: &pb.OpenAPI{File: "shop.yaml", Operations: []*pb.Operation{
				{Id: "createOrder", Weight: 1, Method: "POST", Path: "/orders"},
				{Id: "getOrder", Weight: 1, Method: "GET", Path: "/orders/{orderId}"},
			}},
		},
		Endpoints: []*pb.EndpointWindow{
			{Endpoint: 2, Requests: 10, Status: map[int32]int64{201: 5, 400: 2, 500: 3}, Valid: 6, Valid_2Xx: 5, Mutated: 4,
				Histograms: []*pb.ClassHistogram{
					{Class: pb.OutcomeClass_OUTCOME_CLASS_2XX, Latency: enc(t, ok[:5]...), ServiceTime: enc(t, ok[:5]...)},
					{Class: pb.OutcomeClass_OUTCOME_CLASS_4XX, Latency: enc(t, ok[:2]...), ServiceTime: enc(t, ok[:2]...)},
					{Class: pb.OutcomeClass_OUTCOME_CLASS_5XX, Latency: enc(t, ok[:3]...), ServiceTime: enc(t, ok[:3]...)},
				}},
			{Endpoint: 0, Requests: 900, Status: map[int32]int64{200: 900}, BytesIn: 90000, BytesOut: 9000,
				Histograms: []*pb.ClassHistogram{{Class: pb.OutcomeClass_OUTCOME_CLASS_2XX, Latency: enc(t, ok...), ServiceTime: enc(t, ok...)}}},
			{Endpoint: 1, Requests: 100, Dropped: 3, Status: map[int32]int64{201: 80, 503: 10}, Errors: map[string]int64{"timeout": 10},
				Histograms: []*pb.ClassHistogram{
					{Class: pb.OutcomeClass_OUTCOME_CLASS_2XX, Latency: enc(t, slow[:80]...), ServiceTime: enc(t, slow[:80]...)},
					{Class: pb.OutcomeClass_OUTCOME_CLASS_5XX, Latency: enc(t, slow[80:]...), ServiceTime: enc(t, slow[80:]...)},
					{Class: pb.OutcomeClass_OUTCOME_CLASS_ERROR, Latency: enc(t, errs...), ServiceTime: enc(t, errs...)},
				}},
		},
		Findings: []*pb.FindingSample{{
			Fingerprint: "0123456789abcdef0123456789abcdef", Oracle: "server-error", Severity: "medium",
			Endpoint: 2, Mutation: "boundaries/max+1", Detail: "body /quantity: 101 (maximum 100)",
			Evidence: "HTTP 500", Count: 3, FirstSeen: timestamppb.New(start.Add(2 * time.Second)),
			Request: []byte("POST /orders HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nContent-Type: application/json\r\nContent-Length: 31\r\n\r\n{\"product_id\":1,\"quantity\":101}"),
			Status:  500, Response: []byte("HTTP/1.1 500 Internal Server Error\r\n\r\n{\"error\":\"internal server error\"}"),
			Case: 17, Cwe: "CWE-755", LoadRps: 100,
		}},
		Timeline: []*pb.TimelinePoint{
			{Seq: 0, Start: timestamppb.New(start), Length: durationpb.New(5 * time.Second), Requests: 500, AskedRps: 100,
				P50: durationpb.New(time.Millisecond), P99: durationpb.New(20 * time.Millisecond), Max: durationpb.New(30 * time.Millisecond)},
			{Seq: 1, Start: timestamppb.New(start.Add(5 * time.Second)), Length: durationpb.New(5 * time.Second), Requests: 500, Errors: 20, Dropped: 3},
		},
		Shards: []*pb.ShardSummary{
			{Shard: 1, AgentName: "b", Requests: 500, Windows: 10, Done: true},
			{Shard: 0, AgentName: "a", Requests: 500, Windows: 10, Done: true, ClockOffset: durationpb.New(2 * time.Millisecond)},
		},
		Events: []*pb.RunEvent{{At: timestamppb.New(start.Add(3 * time.Second)), Kind: "agent-lost", Message: "agent b (shard 1) disconnected"}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n--- got ---\n%s", name, got)
	}
}

func TestGoldenText(t *testing.T) {
	rep, err := Build(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", b.Bytes())
}

func TestGoldenJSON(t *testing.T) {
	rep, err := Build(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", append(b, '\n'))
}

func TestTotalsAndRules(t *testing.T) {
	rep, err := Build(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	tt := rep.Totals
	if tt.Requests != 1010 || tt.Responses != 1000 || tt.TransportErrors != 10 || tt.Errors != 23 || tt.Dropped != 3 {
		t.Errorf("totals = %+v", tt)
	}
	if rep.DurationS != 10 || tt.RateRps != 101 || tt.AskedRps != 100 {
		t.Errorf("duration %v rate %v asked %v", rep.DurationS, tt.RateRps, tt.AskedRps)
	}
	// Response latency excludes transport errors (5 s each here).
	if rep.Latency.Count != 1000 || rep.Latency.Max > 1000 {
		t.Errorf("latency = %+v; want 990 responses, none of the 5s timeouts", rep.Latency)
	}
	if rep.Endpoints[1].ByClass["error"].Count != 10 {
		t.Errorf("error class = %+v", rep.Endpoints[1].ByClass["error"])
	}
	var sum int64
	for _, b := range rep.Histogram {
		sum += b.Count
	}
	if sum != rep.Latency.Count {
		t.Errorf("histogram buckets sum to %d, want %d", sum, rep.Latency.Count)
	}
	if rep.Shards[0].Shard != 0 {
		t.Errorf("shards not sorted: %+v", rep.Shards)
	}
	op := rep.Endpoints[2]
	if op.Name != "createOrder" || op.Method != "POST" || op.Valid != 6 || op.Reached != 5 || op.Mutated != 4 {
		t.Errorf("operation endpoint = %+v", op)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("findings = %+v", rep.Findings)
	}
	f := rep.Findings[0]
	if f.ID != "0123456789" || f.Operation != "createOrder" || f.Path != "/orders" || !strings.HasPrefix(f.Curl, "curl ") ||
		!strings.Contains(f.Curl, "http://127.0.0.1:18080/orders") {
		t.Errorf("finding = %+v", f)
	}
}

func TestBadHistogramIsAnError(t *testing.T) {
	res := fixture(t)
	res.Endpoints[0].Histograms[0].Latency = []byte{1, 2, 3}
	if _, err := Build(res); err == nil {
		t.Fatal("want an error for a corrupt histogram")
	}
}
