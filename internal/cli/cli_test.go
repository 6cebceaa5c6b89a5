package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/barrage-dev/barrage/internal/latency"
)

func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitCodes(t *testing.T) {
	good := write(t, "good.yaml", "name: g\ntarget: {base_url: http://127.0.0.1:9}\nload: {stages: [{duration: 1s, rate: 1}]}\nrequests: [{path: /}]\n")
	report := write(t, "r.json", `{"target": "http://192.0.2.1:80", "findings": [{"id": "ab12", "request": "GET / HTTP/1.1\r\n\r\n"}]}`)
	bad := write(t, "bad.yaml", "name: g\ntarget: {base_url: http://127.0.0.1:9}\nload: {stages: [{duration: 1s, rate: fast}]}\nrequests: [{path: /}]\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"validate good", []string{"validate", good}, ExitOK, ""},
		{"validate bad", []string{"validate", bad}, ExitBadScenario, "bad.yaml:3:38: load.stages[0].rate: expected a number"},
		{"validate missing file", []string{"validate", filepath.Join(t.TempDir(), "nope.yaml")}, ExitBadScenario, "no such file"},
		{"validate no args", []string{"validate"}, ExitUsage, "needs at least one FILE"},
		{"unknown flag", []string{"run", "--nope", good}, ExitUsage, "unknown flag"},
		{"unknown command", []string{"explode"}, ExitUsage, "unknown command"},
		{"run bad scenario", []string{"run", bad}, ExitBadScenario, "expected a number"},
		{"run zero agents", []string{"run", "--agents", "0", good}, ExitUsage, "--agents must be at least 1"},
		{"report bad format", []string{"report", "x", "--format", "xml"}, ExitUsage, "--format must be text, json, junit, sarif, html or hlog"},
		{"report no run id", []string{"report"}, ExitUsage, "needs 1 argument"},
		{"replay no args", []string{"replay"}, ExitUsage, "replay needs FINDING"},
		{"replay report and op", []string{"replay", "x", "--report", good, "--op", "o"}, ExitUsage, "--report or --op, not both"},
		{"replay report not json", []string{"replay", "abc", "--report", good}, ExitError, "good.yaml: not a barrage JSON report"},
		{"replay report empty finding", []string{"replay", "", "--report", report}, ExitUsage, "FINDING must not be empty"},
		{"replay report unknown finding", []string{"replay", "zzz", "--report", report}, ExitError, `no finding "zzz"`},
		{"replay report blocked target", []string{"replay", "ab", "--report", report}, ExitError, "not allowed"},
		{"version", []string{"version"}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := runMain(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.stderr)
			}
		})
	}
}

// TestRunLocalJSON runs the whole local mode (embedded etcd, coordinator,
// two agents over loopback gRPC) through the command line and checks the
// documented JSON fields.
func TestRunLocalJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local cluster")
	}
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if strings.HasPrefix(r.URL.Path, "/x") {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	t.Setenv("BARRAGE_TEST_TOKEN", "s3cret")
	scen := write(t, "local.yaml", fmt.Sprintf(`
name: local-json
target: {base_url: %q, headers: {Authorization: "Bearer ${BARRAGE_TEST_TOKEN}"}}
load: {stages: [{duration: 1s, rate: 200}]}
requests:
  - {name: ok, weight: 3, path: "/ok/{{seq}}"}
  - {name: broken, path: /x}
`, srv.URL))
	dir := t.TempDir()
	jsonOut := filepath.Join(dir, "r.json")
	htmlOut, hlogOut, saved := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.hlog"), filepath.Join(dir, "r.barrage")
	stdout, stderr, code := runMain(t, "run", scen, "--agents", "2", "--seed", "7", "--json", jsonOut, "--log-level", "error",
		"--html", htmlOut, "--hlog", hlogOut, "--save", saved)
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"COMPLETED", "local-json", "ok", "broken", "503:50", "Latency from intended start"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, stdout)
		}
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	totals := raw["totals"].(map[string]any)
	for _, k := range []string{"requests", "errors", "dropped", "rate_rps"} {
		if _, ok := totals[k]; !ok {
			t.Errorf("totals.%s missing", k)
		}
	}
	if raw["run_id"] == "" || raw["state"] != "completed" || raw["scenario"] != "local-json" || raw["seed"].(float64) != 7 {
		t.Errorf("run_id/state/scenario/seed = %v %v %v %v", raw["run_id"], raw["state"], raw["scenario"], raw["seed"])
	}
	if got := int64(totals["requests"].(float64)); got != 200 || got != n.Load() {
		t.Errorf("totals.requests = %d, server saw %d, want 200", got, n.Load())
	}
	if totals["errors"].(float64) != 50 {
		t.Errorf("totals.errors = %v, want the 50 503s", totals["errors"])
	}
	eps := raw["endpoints"].([]any)
	ep := eps[0].(map[string]any)
	for _, k := range []string{"name", "method", "path", "requests", "status", "errors", "latency_ms", "service_time_ms"} {
		if _, ok := ep[k]; !ok {
			t.Errorf("endpoints[0].%s missing", k)
		}
	}
	lat := ep["latency_ms"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "p999", "max", "mean"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("endpoints[0].latency_ms.%s missing", k)
		}
	}
	checkOutputs(t, htmlOut, hlogOut, saved, 200)
}

// checkOutputs checks the files run --html/--hlog/--save wrote, and that
// report reads the saved results as it would a run id.
func checkOutputs(t *testing.T, htmlOut, hlogOut, saved string, requests int64) {
	t.Helper()
	h, err := os.ReadFile(htmlOut)
	if err != nil || !strings.Contains(string(h), `data-plot="spectrum"`) || !strings.Contains(string(h), "local-json") {
		t.Errorf("HTML report (%v): %.300s", err, h)
	}
	f, err := os.Open(hlogOut)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ivs, err := latency.ReadLog(f)
	if err != nil {
		t.Fatalf("hlog: %v", err)
	}
	var all int64
	for _, iv := range ivs {
		if iv.Tag == "all" {
			all += iv.Hist.Count()
		}
	}
	if all != requests {
		t.Errorf("hlog 'all' intervals hold %d responses, want %d", all, requests)
	}
	stdout, stderr, code := runMain(t, "report", saved)
	if code != ExitOK || !strings.Contains(stdout, "local-json") || !strings.Contains(stdout, "COMPLETED") {
		t.Errorf("report of the saved file: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runMain(t, "report", saved, "--compare", saved)
	if code != ExitOK || !strings.Contains(stdout, "against baseline") || strings.Contains(stdout, "worse") {
		t.Errorf("a run compared with itself: exit %d\n%s%s", code, stdout, stderr)
	}
	cmp := filepath.Join(filepath.Dir(saved), "cmp.html")
	if _, stderr, code := runMain(t, "report", saved, "--compare", saved, "--format", "html", "-o", cmp); code != ExitOK {
		t.Errorf("html comparison: exit %d %s", code, stderr)
	} else if b, _ := os.ReadFile(cmp); !strings.Contains(string(b), `data-plot="compare-spectrum"`) {
		t.Errorf("comparison page lacks the overlaid spectra: %.300s", b)
	}
	if _, stderr, code := runMain(t, "report", saved, "--format", "hlog"); code != ExitUsage || !strings.Contains(stderr, "needs the run on a coordinator") {
		t.Errorf("hlog from a saved file: exit %d %s", code, stderr)
	}
	if _, stderr, code := runMain(t, "report", htmlOut); code != ExitError || !strings.Contains(stderr, "not a file written by --save") {
		t.Errorf("report of a non-saved file: exit %d %s", code, stderr)
	}
}

// TestWriteFileIsAllOrNothing: a writer that fails leaves neither an empty
// file nor a temporary one, and an earlier file stays as it was.
func TestWriteFileIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := writeFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "old"); return err }); err != nil {
		t.Fatal(err)
	}
	err := writeFile(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return errors.New("render failed")
	})
	if err == nil || !strings.Contains(err.Error(), "render failed") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file now %q, want the earlier %q", b, "old")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
}
