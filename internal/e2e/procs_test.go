package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/report"
)

// bins holds the binaries built once for the process tests.
var bins struct {
	once    sync.Once
	dir     string
	barrage string
	etcd    string
	err     error
}

// buildBinaries builds bin/barrage and the real etcd server (from the Go
// module proxy, the version go.mod pins) into a temporary directory.
func buildBinaries(t *testing.T) (barrage, etcd string) {
	t.Helper()
	bins.once.Do(func() {
		bins.dir, bins.err = os.MkdirTemp("", "barrage-e2e-bin-")
		if bins.err != nil {
			return
		}
		bins.barrage = filepath.Join(bins.dir, "barrage")
		bins.etcd = filepath.Join(bins.dir, "etcd")
		for _, b := range []struct{ out, pkg string }{
			{bins.barrage, "github.com/barrage-dev/barrage/cmd/barrage"},
			{bins.etcd, "go.etcd.io/etcd/server/v3"},
		} {
			cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				bins.err = fmt.Errorf("build %s: %v\n%s", b.pkg, err, out)
				return
			}
		}
	})
	if bins.err != nil {
		t.Fatal(bins.err)
	}
	return bins.barrage, bins.etcd
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bins.dir != "" {
		os.RemoveAll(bins.dir)
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a process the test started; it is killed (by PID) at cleanup.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("---- output of %s ----\n%s", name, p.out.String())
		}
	})
	return p
}

// kill sends SIGKILL to the process (by its PID) and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop sends SIGTERM and waits.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.kill()
	}
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// barrageCmd runs the barrage client and returns stdout, stderr, exit code.
func barrageCmd(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Errorf("run barrage %v: %v", args, err)
		code = -1
	}
	return stdout.String(), stderr.String(), code
}

func targetCount(t *testing.T, addr string) int64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/_stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var s struct{ Requests int64 }
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("/_stats: %v (%s)", err, b)
	}
	return s.Requests
}

type clusterProcs struct {
	barrage, etcdURL, coordAddr, targetAddr string
	coord                                   *proc
	coordArgs                               []string
	agents                                  []*proc
}

func startEtcd(t *testing.T, etcdBin string) string {
	client, peer := freeAddr(t), freeAddr(t)
	start(t, "etcd", etcdBin,
		"--name", "e2e", "--data-dir", t.TempDir(),
		"--listen-client-urls", "http://"+client, "--advertise-client-urls", "http://"+client,
		"--listen-peer-urls", "http://"+peer, "--initial-advertise-peer-urls", "http://"+peer,
		"--initial-cluster", "e2e=http://"+peer, "--log-level", "warn")
	waitFor(t, "etcd", 30*time.Second, func() bool {
		resp, err := http.Get("http://" + client + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return "http://" + client
}

func startClusterProcs(t *testing.T, agents int, deadMan string) *clusterProcs {
	barrage, etcdBin := buildBinaries(t)
	c := &clusterProcs{barrage: barrage, etcdURL: startEtcd(t, etcdBin), coordAddr: freeAddr(t), targetAddr: freeAddr(t)}
	start(t, "target", barrage, "target", "--listen", c.targetAddr)
	c.coordArgs = []string{"coordinator", "--http", "127.0.0.1:0", "--etcd-endpoints", c.etcdURL, "--listen", c.coordAddr,
		"--start-delay", "1s", "--leader-ttl", "2s", "--grace", "20s"}
	c.coord = start(t, "coordinator", barrage, c.coordArgs...)
	for i := range agents {
		c.agents = append(c.agents, start(t, fmt.Sprintf("agent-%d", i), barrage,
			"agent", "--coordinator", c.coordAddr, "--name", fmt.Sprintf("agent-%d", i), "--dead-man", deadMan))
	}
	waitFor(t, "agents to register", 30*time.Second, func() bool {
		out, _, code := barrageCmd(t, barrage, "agents", "--coordinator", c.coordAddr)
		return code == 0 && strings.Count(out, "agent-") == agents
	})
	return c
}

func writeScenario(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestClusterModeExactTotalsAcrossCoordinatorRestart runs the cluster as
// separate processes (etcd binary, coordinator, three agents, target),
// kills the coordinator with SIGKILL in the middle of the run and starts it
// again: agents reconnect, resend what was not acknowledged, the new
// coordinator rebuilds the run from etcd, and the report still counts every
// request the target served exactly once.
func TestClusterModeExactTotalsAcrossCoordinatorRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startClusterProcs(t, 3, "20s")
	scen := writeScenario(t, fmt.Sprintf(`
name: cluster-exact
target: {base_url: "http://%s"}
load:
  stages: [{duration: 5s, rate: 2000}]
requests:
  - {name: list, weight: 3, path: "/products?limit={{int 1 20}}"}
  - {name: get, weight: 1, path: "/products/{{int 1 2000}}"}
`, c.targetAddr))
	jsonOut := filepath.Join(t.TempDir(), "report.json")

	type result struct {
		stdout, stderr string
		code           int
	}
	done := make(chan result, 1)
	go func() {
		o, e, code := barrageCmd(t, c.barrage, "submit", scen, "--coordinator", c.coordAddr, "--wait", "--json", jsonOut)
		done <- result{o, e, code}
	}()
	// Kill the coordinator in the middle of the load, then bring it back.
	time.Sleep(3500 * time.Millisecond)
	c.coord.kill()
	c.coord = start(t, "coordinator-2", c.barrage, c.coordArgs...)

	var r result
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("submit --wait did not return")
	}
	if r.code != 0 {
		t.Fatalf("submit --wait exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	rep := readReport(t, jsonOut)
	served := targetCount(t, c.targetAddr)
	if rep.Totals.Requests != served {
		t.Errorf("report counts %d requests, the target served %d", rep.Totals.Requests, served)
	}
	if d := rep.Totals.Requests - 10000; d > 100 || d < -100 {
		t.Errorf("requests = %d, want 10,000 ± 1%%", rep.Totals.Requests)
	}
	if rep.State != "completed" || len(rep.Shards) != 3 {
		t.Errorf("state %q, shards %d", rep.State, len(rep.Shards))
	}
	var shardSum int64
	for _, s := range rep.Shards {
		shardSum += s.Requests
	}
	if shardSum != rep.Totals.Requests {
		t.Errorf("shards sum to %d, totals %d", shardSum, rep.Totals.Requests)
	}

	// The report is in etcd: a new client gets it, and again after another
	// coordinator restart (this time a clean stop).
	c.coord.stop()
	c.coord = start(t, "coordinator-3", c.barrage, c.coordArgs...)
	var out string
	waitFor(t, "report after restart", 30*time.Second, func() bool {
		var code int
		out, _, code = barrageCmd(t, c.barrage, "report", rep.RunID, "--coordinator", c.coordAddr, "--format", "json")
		return code == 0
	})
	var again report.Report
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatalf("report --format json: %v\n%s", err, out)
	}
	if again.Totals.Requests != rep.Totals.Requests || again.Latency.P99 != rep.Latency.P99 {
		t.Errorf("report after restart: %d requests p99 %v, before: %d p99 %v",
			again.Totals.Requests, again.Latency.P99, rep.Totals.Requests, rep.Latency.P99)
	}
	text, _, code := barrageCmd(t, c.barrage, "report", rep.RunID, "--coordinator", c.coordAddr)
	if code != 0 || !strings.Contains(text, "COMPLETED") || !strings.Contains(text, "list") {
		t.Errorf("text report (exit %d):\n%s", code, text)
	}
}

// TestClusterModeBadScenarioIsNotSubmitted checks the exit codes and that a
// bad file leaves nothing behind.
func TestClusterModeBadScenarioIsNotSubmitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startClusterProcs(t, 1, "20s")
	bad := writeScenario(t, "name: bad\ntarget: {base_url: ftp://x}\nload: {stages: [{duration: 5, rate: -1}]}\nrequests: []\nbogus: 1\n")
	_, stderr, code := barrageCmd(t, c.barrage, "submit", bad, "--coordinator", c.coordAddr)
	if code != 3 {
		t.Fatalf("submit of a bad file: exit %d, want 3\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "scenario.yaml:"); n < 3 {
		t.Errorf("want every problem as file:line:col, got %d lines:\n%s", n, stderr)
	}
	_, _, code = barrageCmd(t, c.barrage, "validate", bad)
	if code != 3 {
		t.Errorf("validate: exit %d, want 3", code)
	}
	out, _, _ := barrageCmd(t, c.barrage, "runs", "--coordinator", c.coordAddr)
	if strings.Count(out, "\n") != 1 {
		t.Errorf("runs after a rejected submit:\n%s\nwant only the header", out)
	}
	_, stderr, code = barrageCmd(t, c.barrage, "report", "no-such-run", "--coordinator", c.coordAddr)
	if code == 0 || !strings.Contains(stderr, "no-such-run") {
		t.Errorf("report of an unknown run: exit %d, %s", code, stderr)
	}
	_, stderr, code = barrageCmd(t, c.barrage, "agents", "--coordinator", freeAddr(t))
	if code != 1 || !strings.Contains(stderr, "unavailable") {
		t.Errorf("agents against nothing: exit %d, %s", code, stderr)
	}
	_, _, code = barrageCmd(t, c.barrage, "submit", "--bogus-flag")
	if code != 2 {
		t.Errorf("bad flag: exit %d, want 2", code)
	}
}

// TestDeadManSwitchStopsLoad kills the coordinator for good in the middle
// of a long run: the agents must stop sending load within their dead-man
// timeout (plus the request timeout). When a coordinator comes back the
// agents deliver their final windows, the rest of both stopped shards is
// given out again and the load resumes; cancelled, the report still counts
// exactly what the target served.
func TestDeadManSwitchStopsLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	c := startClusterProcs(t, 2, "2s")
	scen := writeScenario(t, fmt.Sprintf(`
name: dead-man
target: {base_url: "http://%s", timeout: 2s}
load: {stages: [{duration: 2m, rate: 200}]}
requests: [{path: /health}]
`, c.targetAddr))
	out, stderr, code := barrageCmd(t, c.barrage, "submit", scen, "--coordinator", c.coordAddr)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr)
	}
	runID := strings.TrimSpace(out)
	waitFor(t, "load to start", 20*time.Second, func() bool { return targetCount(t, c.targetAddr) > 200 })
	c.coord.kill()
	killed := time.Now()
	// Dead-man 2s + request timeout 2s + slack.
	time.Sleep(6 * time.Second)
	settled := targetCount(t, c.targetAddr)
	time.Sleep(3 * time.Second)
	if later := targetCount(t, c.targetAddr); later != settled {
		t.Fatalf("load went on %v after the coordinator died: %d then %d requests", time.Since(killed), settled, later)
	}
	// A new coordinator: the agents come back with the shards their
	// switches stopped, and the rest of each shard is given out again, so
	// the load resumes (at the next window boundary after the start delay).
	c.coord = start(t, "coordinator-2", c.barrage, c.coordArgs...)
	waitFor(t, "load to resume", 30*time.Second, func() bool { return targetCount(t, c.targetAddr) > settled+200 })
	if _, stderr, code := barrageCmd(t, c.barrage, "cancel", runID, "--coordinator", c.coordAddr); code != 0 {
		t.Fatalf("cancel: exit %d\n%s", code, stderr)
	}
	_, stderr, code = barrageCmd(t, c.barrage, "watch", runID, "--coordinator", c.coordAddr)
	if code != 4 {
		t.Fatalf("watch: exit %d, want 4 (cancelled)\n%s", code, stderr)
	}
	js, _, code := barrageCmd(t, c.barrage, "report", runID, "--coordinator", c.coordAddr, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, e := range rep.Events {
		if e.Kind == "shard-taken-over" {
			moved++
		}
	}
	if rep.State != "cancelled" || moved != 2 {
		t.Errorf("state %q with %d takeovers, want cancelled after both stopped shards were given out again; events %+v", rep.State, moved, rep.Events)
	}
	if served := targetCount(t, c.targetAddr); rep.Totals.Requests != served {
		t.Errorf("report counts %d requests, the target served %d", rep.Totals.Requests, served)
	}
}

// TestCoordinatorWithoutEtcdFailsClearly: a coordinator pointed at an etcd
// that is not there exits with a message that says so.
func TestCoordinatorWithoutEtcdFailsClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	barrage, _ := buildBinaries(t)
	_, stderr, code := barrageCmd(t, barrage, "coordinator", "--etcd-endpoints", "http://"+freeAddr(t), "--listen", freeAddr(t))
	if code != 1 || !strings.Contains(stderr, "not reachable") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 1 naming the unreachable etcd", code, stderr)
	}
}

// TestFuzzingFromTheCommandLine drives API fuzzing as a user would, with
// real processes: barrage generate from the shop's served description,
// submit --wait with JUnit and SARIF output, report --format, and replay
// of a finding and of a mutation case.
func TestFuzzingFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Setenv("BEARER_AUTH", "alice-token") // the generated scenario's ${BEARER_AUTH}
	barrage, etcdBin := buildBinaries(t)
	etcdURL := startEtcd(t, etcdBin)
	coord, tgt := freeAddr(t), freeAddr(t)
	start(t, "shop", barrage, "target", "--api", "shop", "--defects", "server-error,info-leak", "--listen", tgt)
	start(t, "coordinator", barrage, "coordinator", "--http", "127.0.0.1:0", "--etcd-endpoints", etcdURL, "--listen", coord, "--start-delay", "1s")
	start(t, "agent", barrage, "agent", "--coordinator", coord, "--name", "a1")
	waitFor(t, "agent", 30*time.Second, func() bool {
		out, _, code := barrageCmd(t, barrage, "agents", "--coordinator", coord)
		return code == 0 && strings.Contains(out, "a1")
	})
	dir := t.TempDir()
	var spec []byte
	waitFor(t, "shop", 10*time.Second, func() bool {
		resp, err := http.Get("http://" + tgt + "/openapi.yaml")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		spec, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == 200
	})
	if err := os.WriteFile(filepath.Join(dir, "shop.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	scen := filepath.Join(dir, "scenario.yaml")
	if _, stderr, code := barrageCmd(t, barrage, "generate", filepath.Join(dir, "shop.yaml"), "-o", scen, "--base-url", "http://"+tgt); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, stderr)
	}
	b, _ := os.ReadFile(scen)
	tuned := strings.NewReplacer("{duration: 30s, rate: 20}", "{duration: 8s, rate: 400}", "ratio: 0.05", "ratio: 0.5").Replace(string(b))
	os.WriteFile(scen, []byte(tuned), 0o644)
	if out, stderr, code := barrageCmd(t, barrage, "validate", scen); code != 0 || !strings.Contains(out, "API description") {
		t.Fatalf("validate: exit %d\n%s%s", code, out, stderr)
	}
	junit, sarif, js := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.sarif"), filepath.Join(dir, "r.json")
	out, err := exec.Command(barrage, "submit", scen, "--coordinator", coord, "--wait", "--json", js, "--junit", junit, "--sarif", sarif).CombinedOutput()
	if err != nil {
		t.Fatalf("submit --wait: %v\n%s", err, out)
	}
	rep := readReport(t, js)
	var fid string
	for _, f := range rep.Findings {
		if f.Oracle == "server-error" && f.Operation == "createOrder" {
			fid = f.ID
		}
	}
	if fid == "" {
		t.Fatalf("no server-error finding on createOrder:\n%s", out)
	}
	x, _ := os.ReadFile(junit)
	if !strings.Contains(string(x), "<testsuite") || !strings.Contains(string(x), "<failure") {
		t.Errorf("JUnit file:\n%.500s", x)
	}
	var sf struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []json.RawMessage `json:"results"`
		} `json:"runs"`
	}
	s, _ := os.ReadFile(sarif)
	if err := json.Unmarshal(s, &sf); err != nil || sf.Version != "2.1.0" || len(sf.Runs) != 1 || len(sf.Runs[0].Results) != len(rep.Findings) {
		t.Errorf("SARIF file (%v): %.300s", err, s)
	}
	for _, f := range []string{"junit", "sarif"} {
		if o, _, code := barrageCmd(t, barrage, "report", rep.RunID, "--coordinator", coord, "--format", f); code != 0 || len(o) == 0 {
			t.Errorf("report --format %s: exit %d", f, code)
		}
	}
	rout, rerr, code := barrageCmd(t, barrage, "replay", rep.RunID, fid[:6], "--coordinator", coord)
	if code != 0 || !strings.Contains(rerr, "HTTP 500") || !strings.Contains(rout, "500") {
		t.Errorf("replay of %s: exit %d\nstdout:\n%s\nstderr:\n%s", fid, code, rout, rerr)
	}
	// Without the run: the coordinator's runs are searched; and from the
	// JSON report alone, as after a local-mode run.
	for _, args := range [][]string{{"replay", fid, "--coordinator", coord}, {"replay", fid[:8], "--report", js}} {
		if rout, rerr, code := barrageCmd(t, barrage, args...); code != 0 || !strings.Contains(rerr, "HTTP 500") || !strings.Contains(rout, "500") {
			t.Errorf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, rout, rerr)
		}
	}
	_, rerr, code = barrageCmd(t, barrage, "replay", rep.RunID, "--coordinator", coord, "--op", "createOrder", "--case", "0")
	if code != 0 || !strings.Contains(rerr, "case 0 of createOrder") || !strings.Contains(rerr, "HTTP ") {
		t.Errorf("replay --op --case: exit %d\n%s", code, rerr)
	}
	if _, rerr, code := barrageCmd(t, barrage, "replay", rep.RunID, "zzzz", "--coordinator", coord); code == 0 || !strings.Contains(rerr, "no finding") {
		t.Errorf("replay of an unknown finding: exit %d, %s", code, rerr)
	}
}

// TestLostAgentsShardIsTakenOver: one of three agent processes is killed
// in the middle of a run; after --takeover another agent runs the rest of
// its shard (a new epoch), so the run completes at its full rate instead of
// failing, and no request is counted twice: the report never counts more
// than the target served, and misses only what the killed agent sent and
// could not report.
func TestLostAgentsShardIsTakenOver(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	barrage, etcdBin := buildBinaries(t)
	etcdURL := startEtcd(t, etcdBin)
	coord, tgt := freeAddr(t), freeAddr(t)
	start(t, "target", barrage, "target", "--listen", tgt)
	start(t, "coordinator", barrage, "coordinator", "--http", "127.0.0.1:0", "--etcd-endpoints", etcdURL, "--listen", coord,
		"--start-delay", "1s", "--takeover", "4s")
	var agents []*proc
	for i := range 3 {
		agents = append(agents, start(t, fmt.Sprintf("agent-%d", i), barrage,
			"agent", "--coordinator", coord, "--name", fmt.Sprintf("agent-%d", i), "--dead-man", "2s"))
	}
	waitFor(t, "agents to register", 30*time.Second, func() bool {
		out, _, code := barrageCmd(t, barrage, "agents", "--coordinator", coord)
		return code == 0 && strings.Count(out, "agent-") == 3
	})
	scen := writeScenario(t, fmt.Sprintf(`
name: takeover
target: {base_url: "http://%s", timeout: 2s}
load: {stages: [{duration: 20s, rate: 300}]}
agents: 3
requests: [{path: /health}]
`, tgt))
	out, stderr, code := barrageCmd(t, barrage, "submit", scen, "--coordinator", coord)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, stderr)
	}
	runID := strings.TrimSpace(out)
	waitFor(t, "load to start", 20*time.Second, func() bool { return targetCount(t, tgt) > 600 })
	agents[2].kill()
	_, stderr, code = barrageCmd(t, barrage, "watch", runID, "--coordinator", coord)
	if code != 0 {
		t.Fatalf("watch: exit %d, want 0 (the run completes)\n%s", code, stderr)
	}
	js, _, code := barrageCmd(t, barrage, "report", runID, "--coordinator", coord, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d", code)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	served := targetCount(t, tgt)
	var moved string
	for _, e := range rep.Events {
		if e.Kind == "shard-taken-over" {
			moved = e.Message
		}
	}
	if rep.State != "completed" || moved == "" {
		t.Fatalf("state %q, takeover event %q; events: %+v", rep.State, moved, rep.Events)
	}
	t.Logf("%s; counted %d, the target served %d", moved, rep.Totals.Requests, served)
	if rep.Totals.Requests > served {
		t.Errorf("the report counts %d requests, more than the %d the target served", rep.Totals.Requests, served)
	}
	// 6000 arrivals; the lost shard's arrivals from the kill to the
	// takeover (about 2000/20 s × 6 s) are not sent, and what the killed
	// agent sent since its last reported window is not counted.
	if rep.Totals.Requests < 4800 || served > 6000 {
		t.Errorf("counted %d, served %d: want most of the 6000 arrivals, never more", rep.Totals.Requests, served)
	}
	if rep.Shards[2].Agent == "agent-2" || !rep.Shards[2].Done {
		t.Errorf("shard 2 is %+v: want it done by another agent", rep.Shards[2])
	}
}
