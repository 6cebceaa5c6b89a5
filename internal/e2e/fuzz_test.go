package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/openapi"
	"github.com/barrage-dev/barrage/internal/report"
	"github.com/barrage-dev/barrage/internal/target/shop"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// shopScenario generates a scenario from the shop's description with
// barrage's own generator, then tunes it for a short, bounded run.
func shopScenario(t *testing.T, base string) []byte {
	t.Helper()
	spec, err := openapi.Load(context.Background(), "shop.yaml", shop.Spec(), nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := openapi.GenerateScenario(spec, openapi.GenerateOptions{SpecPath: "shop.yaml", BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	s := string(y)
	for _, r := range []struct{ old, new string }{
		{"{duration: 30s, rate: 20}", "{duration: 25s, rate: 160}"},
		{"ratio: 0.05", "ratio: 0.3"},
		{`"${BEARER_AUTH}"`, "alice-token"},
		{`# secondary: {bearerAuth: "${BEARER_AUTH_B}"}`, `secondary: {bearerAuth: bob-token}`},
		// More orders placed than cancelled, so the store grows.
		{"createOrder: {weight: 1}", "createOrder: {weight: 4}"},
	} {
		if !strings.Contains(s, r.old) {
			t.Fatalf("generated scenario lacks %q:\n%s", r.old, s)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	return []byte(s)
}

func (c *cluster) fuzzRun(t *testing.T, scenario []byte) *pb.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	resp, err := c.ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "shop-scenario.yaml", Scenario: scenario,
		Files: map[string][]byte{"shop.yaml": shop.Spec()}, Seed: 11, HasSeed: true})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	for {
		res, err := c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: resp.GetRunId()})
		if err != nil {
			t.Fatal(err)
		}
		if res.GetStatus().GetState() != pb.RunState_RUN_STATE_RUNNING {
			if res.GetStatus().GetState() != pb.RunState_RUN_STATE_COMPLETED {
				t.Fatalf("run ended %v: %s", res.GetStatus().GetState(), res.GetStatus().GetMessage())
			}
			return res
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// TestPlantedDefectsAreFoundWithWorkingReproducers runs a generated
// scenario against the shop with every planted defect (one per oracle) and
// checks that each is reported, and that each finding's reproducer, run
// with real curl (or nc), gets the same answer again.
func TestPlantedDefectsAreFoundWithWorkingReproducers(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := httptest.NewServer(shop.New(shop.Config{Defects: shop.AllDefects, DegradeEvery: 2}))
	defer srv.Close()
	c := startCluster(t, 2)
	res := c.fuzzRun(t, shopScenario(t, srv.URL))
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]report.Finding{}
	for _, f := range rep.Findings {
		got[f.Oracle+" "+f.Operation] = f
	}
	want := []struct{ defect, oracle, op string }{
		{"server-error", "server-error", "createOrder"},
		{"connection-reset", "connection-failure", "listProducts"},
		{"invalid-accepted", "invalid-input-accepted", "createOrder"},
		{"spec-violation", "response-schema-violation", "getProduct"},
		{"undocumented-status", "undocumented-status", "listProducts"},
		{"wrong-content-type", "unexpected-content-type", "getOrder"},
		{"info-leak", "information-leak", "createOrder"},
		{"auth-not-enforced", "auth-not-enforced", "deleteOrder"},
		{"cross-user", "cross-user-access", "getOrder"},
		{"latency-outlier", "latency-outlier", "listProducts"},
		{"degradation", "degradation", "listOrders"},
		{"injection-echo", "injection-evidence", "listProducts"},
	}
	for _, w := range want {
		if _, ok := got[w.oracle+" "+w.op]; !ok {
			t.Errorf("planted defect %s: no %s finding on %s", w.defect, w.oracle, w.op)
		}
	}
	if t.Failed() {
		var b bytes.Buffer
		report.WriteText(&b, rep)
		t.Logf("report:\n%s", b.String())
	}
	for _, op := range rep.Endpoints {
		if op.Valid > 0 && op.Reached == 0 {
			t.Errorf("operation %s was never reached (%d valid requests)", op.Name, op.Valid)
		}
	}
	for _, f := range rep.Findings {
		checkReproducer(t, f)
	}
}

var statusLine = regexp.MustCompile(`(?m)^HTTP/1\.[01] (\d{3})`)

// checkReproducer runs a finding's reproducer and compares the answer.
func checkReproducer(t *testing.T, f report.Finding) {
	t.Helper()
	if f.Curl == "" {
		if f.Oracle != "degradation" {
			t.Errorf("%s %s: no reproducer", f.Oracle, f.Operation)
		}
		return
	}
	tool := "curl"
	if !strings.HasPrefix(f.Curl, "curl ") {
		tool = "nc"
	}
	if _, err := exec.LookPath(tool); err != nil {
		t.Logf("%s not installed: reproducer of %s %s not run", tool, f.Oracle, f.Operation)
		return
	}
	switch f.Oracle {
	case "cross-user-access", "auth-not-enforced", "degradation":
		// Stateful: the resource may be gone (deleted by the very request
		// that found it); the command was checked to be well-formed below.
		if !strings.Contains(f.Curl, f.Path[:strings.IndexByte(f.Path[1:], '/')+1]) {
			t.Errorf("%s %s: reproducer %q does not name the operation's path", f.Oracle, f.Operation, f.Curl)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", f.Curl+" --max-time 10 2>&1")
	if tool == "nc" {
		cmd = exec.CommandContext(ctx, "bash", "-c", f.Curl+" -q 2 -w 10 2>&1")
	}
	out, _ := cmd.CombinedOutput()
	m := statusLine.FindSubmatch(out)
	switch {
	case f.Status == 0 && m != nil:
		t.Errorf("%s %s: the finding had no response, the reproducer got HTTP %s", f.Oracle, f.Operation, m[1])
	case f.Status != 0 && (m == nil || string(m[1]) != strconv.Itoa(f.Status)):
		t.Errorf("%s %s: the finding saw HTTP %d, the reproducer got:\n%.400s", f.Oracle, f.Operation, f.Status, out)
	}
}

// TestCleanTargetHasNoFindings: the same scenario against the defect-free
// shop gives zero findings — false positives cost more than misses.
func TestCleanTargetHasNoFindings(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := httptest.NewServer(shop.New(shop.Config{}))
	defer srv.Close()
	c := startCluster(t, 2)
	res := c.fuzzRun(t, shopScenario(t, srv.URL))
	rep, err := report.Build(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		t.Errorf("finding against the clean shop: %s on %s: %s — %s (%s)", f.Oracle, f.Operation, f.Mutation, f.Evidence, f.Detail)
	}
	var mutated int64
	for _, op := range rep.Endpoints {
		mutated += op.Mutated
		if op.Valid > 0 && op.Reached*2 < op.Valid {
			t.Errorf("operation %s: only %d of %d valid requests reached it", op.Name, op.Reached, op.Valid)
		}
	}
	if mutated < 500 {
		t.Errorf("only %d mutated requests: the check proves little", mutated)
	}
	_ = fmt.Sprint
}

// TestLatencyBudget: with openapi.latency_budget set below any real
// response time, valid responses of every operation are latency-outlier
// findings naming the budget; an operation's own generous budget silences
// it. Against the clean shop, nothing else is found.
func TestLatencyBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	srv := httptest.NewServer(shop.New(shop.Config{}))
	defer srv.Close()
	c := startCluster(t, 1)
	s := string(shopScenario(t, srv.URL))
	for _, r := range []struct{ old, new string }{
		{"{duration: 25s, rate: 160}", "{duration: 3s, rate: 60}"},
		{"ratio: 0.3", "ratio: 0"},
		{"  # latency_budget: 1s", "  latency_budget: 1us"},
		{"getProduct: {weight: 1}", "getProduct: {weight: 1, latency_budget: 10m}"},
	} {
		if !strings.Contains(s, r.old) {
			t.Fatalf("scenario lacks %q:\n%s", r.old, s)
		}
		s = strings.Replace(s, r.old, r.new, 1)
	}
	rep, err := report.Build(c.fuzzRun(t, []byte(s)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Oracle != "latency-outlier" || !strings.Contains(f.Evidence, "over the latency budget of 1µs") {
			t.Errorf("unexpected finding: %s on %s: %s", f.Oracle, f.Operation, f.Evidence)
			continue
		}
		got[f.Operation] = true
	}
	for _, op := range []string{"listProducts", "createOrder", "listOrders"} {
		if !got[op] {
			t.Errorf("no latency-budget finding on %s; findings on %v", op, got)
		}
	}
	if got["getProduct"] {
		t.Errorf("getProduct has its own 10m budget but was reported")
	}
}
