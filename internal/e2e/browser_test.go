package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/barrage-dev/barrage/internal/browser"
	"github.com/barrage-dev/barrage/internal/htmlreport"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// artifact is where a test saves a screenshot: $BARRAGE_ARTIFACTS (make
// test sets bin/artifacts) or the test's temporary directory.
func artifact(t *testing.T, name string) string {
	dir := os.Getenv("BARRAGE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

func startBrowser(t *testing.T) *browser.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	s, err := browser.Start(ctx, browser.Options{UserDataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// seriesPerPlot returns, per data-plot name, how many series it draws.
func seriesPerPlot(t *testing.T, s *browser.Session) map[string]int {
	t.Helper()
	m, err := browser.Eval[map[string]int](s, `(() => {
		const m = {};
		for (const svg of document.querySelectorAll("svg.plot")) {
			const name = svg.dataset.plot;
			const n = new Set([...svg.querySelectorAll(".series")].map(e => e.dataset.series)).size;
			m[name] = Math.max(m[name] || 0, n);
		}
		return m;
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// renderedSize checks that every plot has a real on-screen size (the SVG
// parsed and laid out).
func checkRendered(t *testing.T, s *browser.Session) {
	t.Helper()
	bad, err := browser.Eval[[]string](s, `[...document.querySelectorAll("svg.plot")].filter(e => {
		const r = e.getBoundingClientRect(); return !(r.width > 50 && r.height > 30);
	}).map(e => e.dataset.plot)`)
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("plots without a rendered size: %v", bad)
	}
}

const twoEndpoints = `name: browser
target: {base_url: %s}
load: {stages: [{duration: %s, rate: 80}]}
requests:
  - {name: home, path: /}
  - {name: item, path: "/item/{{int 1 100}}"}
`

// TestHTMLReportInBrowser opens the HTML report file of a real run in
// headless Chromium: the plots render with the right number of series and
// the page logs no errors.
func TestHTMLReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser")
	}
	target := newCountingServer(t)
	c := startCluster(t, 2)
	res := c.runToEnd(t, fmt.Sprintf(twoEndpoints, target.URL, "3s"))
	if res.GetStatus().GetState() != pb.RunState_RUN_STATE_COMPLETED {
		t.Fatalf("run %v", res.GetStatus())
	}
	file := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := htmlreport.Write(f, res, htmlreport.Options{}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	s := startBrowser(t)
	if err := s.Do(chromedp.Navigate("file://" + file)); err != nil {
		t.Fatal(err)
	}
	got := seriesPerPlot(t, s)
	want := map[string]int{"spectrum": 2, "latency-over-time": 3}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("plot %s: %d series, want %d (all plots: %v)", name, got[name], n, got)
		}
	}
	if len(got) < 5 {
		t.Errorf("only %d plots: %v", len(got), got)
	}
	checkRendered(t, s)
	if err := s.Screenshot(artifact(t, "html-report.png")); err != nil {
		t.Error(err)
	}
	if e := s.Errors(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}

// TestLiveViewInBrowser opens the coordinator's live page of a running run:
// its counters move while the run goes, its plots render, it settles on the
// completed state, and the runs list and agents page show the run and the
// agents.
func TestLiveViewInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser")
	}
	target := newCountingServer(t)
	c := startCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := c.ctl.SubmitRun(ctx, &pb.SubmitRunRequest{FileName: "live.yaml", Scenario: []byte(fmt.Sprintf(twoEndpoints, target.URL, "8s"))})
	if err != nil {
		t.Fatal(err)
	}
	id := resp.GetRunId()
	s := startBrowser(t)
	if err := s.Do(chromedp.Navigate("http://" + c.web + "/runs/" + id)); err != nil {
		t.Fatal(err)
	}
	requests := func() int {
		n, err := browser.Eval[int](s, `Number(document.querySelector("#live-status").dataset.requests)`)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Wait for the load to start, then watch the counter move.
	deadline := time.Now().Add(20 * time.Second)
	for requests() == 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	first := requests()
	time.Sleep(2500 * time.Millisecond)
	second := requests()
	if !(second > first && first > 0) {
		t.Errorf("live counter did not move: %d then %d", first, second)
	}
	if err := s.Screenshot(artifact(t, "live-running.png")); err != nil {
		t.Error(err)
	}
	// While it runs, the agents page says what each runs and its share.
	var page string
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var code int
		if code, page = httpGet("http://" + c.web + "/agents?fragment=1"); code == 200 && strings.Count(page, id+"/") == 2 && strings.Contains(page, "(1 of 2 shards)") {
			page = ""
			break
		}
	}
	if page != "" {
		t.Errorf("agents page while running:\n%s", page)
	}
	deadline = time.Now().Add(60 * time.Second)
	state := ""
	for time.Now().Before(deadline) {
		state, _ = browser.Eval[string](s, `document.querySelector("#live-status").dataset.state`)
		if state == "completed" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if state != "completed" {
		t.Fatalf("live page state %q, want completed", state)
	}
	res, err := c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: id})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := requests(), int(res.GetStatus().GetRequests()); got != want {
		t.Errorf("live page settled on %d requests, the run has %d", got, want)
	}
	if got := seriesPerPlot(t, s); got["spectrum"] != 2 || got["latency-over-time"] != 3 {
		t.Errorf("live page plots: %v", got)
	}
	checkRendered(t, s)
	if err := s.Screenshot(artifact(t, "live-completed.png")); err != nil {
		t.Error(err)
	}
	for _, p := range []struct{ path, want string }{{"/", id}, {"/agents", "agent-1"}} {
		if err := s.Do(chromedp.Navigate("http://" + c.web + p.path)); err != nil {
			t.Fatal(err)
		}
		text, err := browser.Eval[string](s, `document.body.innerText`)
		if err != nil || !strings.Contains(text, p.want) {
			t.Errorf("%s: page lacks %q (%v):\n%s", p.path, p.want, err, text)
		}
	}
	if err := s.Screenshot(artifact(t, "live-agents.png")); err != nil {
		t.Error(err)
	}
	if e := s.Errors(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
	// The HTML report and JSON are served too.
	for _, p := range []string{"/runs/" + id + "/report.html", "/runs/" + id + "/report.json"} {
		r, err := http.Get("http://" + c.web + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != 200 || !strings.Contains(string(b), id) {
			t.Errorf("%s: %d\n%.300s", p, r.StatusCode, b)
		}
	}
}
