package coordinator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/promhdr"
	"github.com/barrage-dev/barrage/internal/results"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// metricsEndedRuns is how many ended runs (those ended last) /metrics
// shows beside the active ones; with at most promhdr.MaxEndpoints endpoints
// per run, it bounds a scrape's size and cost.
const metricsEndedRuns = 5

// Label values of the state sets.
var (
	runStates = []pb.RunState{
		pb.RunState_RUN_STATE_PENDING, pb.RunState_RUN_STATE_RUNNING, pb.RunState_RUN_STATE_COMPLETED,
		pb.RunState_RUN_STATE_FAILED, pb.RunState_RUN_STATE_CANCELLED,
	}
	severities = []string{"critical", "high", "medium", "low", "info"}
)

// shardStatuses are the values of barrage_shards' status label, indexed by
// the shard* constants.
var shardStatuses = [...]string{shardDone: "done", shardRunning: "running", shardDisconnected: "disconnected", shardMissing: "missing"}

const (
	shardDone         = iota // all its windows are in
	shardRunning             // not done, its agent is connected
	shardDisconnected        // not done, its agent is not connected
	shardMissing             // not done, and the run has ended
)

// unknownSeverity labels findings whose severity is none of severities.
const unknownSeverity = "unknown"

func stateLabel(s pb.RunState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "RUN_STATE_"))
}

// metricsHandler serves the coordinator's Prometheus metrics.
func (s *server) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newRunCollector(s),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorLog: slogPrinter{s}})
}

// slogPrinter passes promhttp's errors to the coordinator's logger.
type slogPrinter struct{ s *server }

func (p slogPrinter) Println(v ...any) { p.s.log.Warn("serve metrics", "err", fmt.Sprint(v...)) }

// runCollector turns the coordinator's runs into metrics on every scrape.
// Everything comes from the merged result windows (internal/results), never
// from individual requests: a scrape reads each shown run under its lock,
// and re-encodes a run's histograms only when windows arrived since the
// previous scrape.
type runCollector struct {
	s *server

	requests, responses, errors, dropped *prometheus.Desc
	duration                             *prometheus.Desc
	findings, runState, shards           *prometheus.Desc
	runs, agents, leader                 *prometheus.Desc

	mu    sync.Mutex
	cache map[*run]*runData // runs shown at the last scrape
}

func newRunCollector(s *server) *runCollector {
	ep := []string{"run", "endpoint"}
	return &runCollector{
		s: s,
		requests: prometheus.NewDesc("barrage_requests_total",
			"Requests whose outcome is known (responses plus transport errors), from the merged result windows.", ep, nil),
		responses: prometheus.NewDesc("barrage_responses_total",
			"Responses by HTTP status class.", []string{"run", "endpoint", "code_class"}, nil),
		errors: prometheus.NewDesc("barrage_errors_total",
			"Failed requests: transport errors by kind (timeout, refused, reset, tls, dns, closed, protocol, canceled, other) and 5xx responses (kind 5xx).",
			[]string{"run", "endpoint", "kind"}, nil),
		dropped: prometheus.NewDesc("barrage_dropped_total",
			"Open model: arrivals not started because the in-flight cap was reached.", ep, nil),
		duration: prometheus.NewDesc("barrage_request_duration_seconds",
			"Request latency from the intended send time, every outcome, built from the merged HDR histograms (bucket counts exact to the HDR resolution of 0.1%).", ep, nil),
		findings: prometheus.NewDesc("barrage_findings",
			"Distinct findings (deduplicated by fingerprint) by severity.", []string{"run", "severity"}, nil),
		runState: prometheus.NewDesc("barrage_run_state",
			"1 for the run's current state, 0 for the others.", []string{"run", "state"}, nil),
		shards: prometheus.NewDesc("barrage_shards",
			"Shards by status: done (all results in), running (agent connected), disconnected, missing (run ended without them).", []string{"run", "status"}, nil),
		runs: prometheus.NewDesc("barrage_runs",
			"Runs this coordinator knows, by state (those it started or resumed, and ended ones it loaded).", []string{"state"}, nil),
		agents: prometheus.NewDesc("barrage_agents_connected",
			"Agents connected to this coordinator.", nil, nil),
		leader: prometheus.NewDesc("barrage_coordinator_leader",
			"1 while this coordinator is the leader.", nil, nil),
		cache: map[*run]*runData{},
	}
}

func (c *runCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.responses, c.errors, c.dropped, c.duration,
		c.findings, c.runState, c.shards, c.runs, c.agents, c.leader} {
		ch <- d
	}
}

// runView is what a scrape reads of a run under its lock.
type runView struct {
	r       *run
	id      string
	state   pb.RunState
	ended   bool
	endedAt time.Time
	created time.Time
	shards  [len(shardStatuses)]int // counts by status, in shardStatuses' order
}

// runKey identifies the state of a run's merged results: the endpoint
// counters and histograms change only with requests and drops (every
// request is in a status or error counter and in a histogram), and the
// finding set only with the number of distinct findings.
type runKey struct {
	totals   results.Totals
	findings int
}

// runData is a run's per-endpoint metrics, computed from its merged results.
type runData struct {
	key       runKey
	endpoints []endpointData
	findings  map[string]int // severity -> distinct findings
}

type endpointData struct {
	name string
	promhdr.Counts
	hist promhdr.Histogram
}

func (c *runCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.mu.Lock()
	all := make([]*run, 0, len(s.runs))
	for _, r := range s.runs {
		all = append(all, r)
	}
	agents := len(s.agents)
	leader := s.leader != nil
	s.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.agents, prometheus.GaugeValue, float64(agents)) // no labels: cannot fail
	ch <- prometheus.MustNewConstMetric(c.leader, prometheus.GaugeValue, boolValue(leader))

	// First pass: light reads, to count states and choose the runs shown.
	views := make([]runView, 0, len(all))
	perState := map[pb.RunState]int{}
	for _, r := range all {
		r.mu.Lock()
		v := runView{
			r: r, id: r.spec.GetRunId(), state: r.state.GetState(), ended: r.ended,
			endedAt: r.state.GetEndedAt().AsTime(), created: r.spec.GetCreatedAt().AsTime(),
		}
		r.mu.Unlock()
		perState[v.state]++
		views = append(views, v)
	}
	for _, st := range runStates {
		ch <- prometheus.MustNewConstMetric(c.runs, prometheus.GaugeValue, float64(perState[st]), stateLabel(st)) // fixed label values
	}
	views = shownRuns(views, metricsEndedRuns)

	// Second pass: the shown runs' results, recomputed only if changed.
	c.mu.Lock()
	prev := c.cache
	c.mu.Unlock()
	next := make(map[*run]*runData, len(views))
	for i := range views {
		v := &views[i]
		d, err := c.read(v, prev[v.r])
		if err != nil {
			s.log.Warn("metrics: read run results", "run", v.id, "err", err)
			continue
		}
		next[v.r] = d
		c.emit(ch, v, d)
	}
	c.mu.Lock()
	c.cache = next
	c.mu.Unlock()
}

// shownRuns keeps the active runs and the ended most recently, sorted by
// run id (ids start with the creation time).
func shownRuns(views []runView, ended int) []runView {
	slices.SortFunc(views, func(a, b runView) int {
		if a.ended != b.ended { // active first
			if a.ended {
				return 1
			}
			return -1
		}
		if c := b.endedAt.Compare(a.endedAt); c != 0 { // latest end first
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	n := 0
	for n < len(views) && !views[n].ended {
		n++
	}
	views = views[:min(len(views), n+ended)]
	slices.SortFunc(views, func(a, b runView) int { return strings.Compare(a.id, b.id) })
	return views
}

// read fills v's shard counts and returns the run's metrics data: prev when
// the results did not change since, or new data. The run's lock is held
// while its results are encoded, not while they are decoded and converted.
func (c *runCollector) read(v *runView, prev *runData) (*runData, error) {
	r := v.r
	r.mu.Lock()
	missing := map[int32]bool{}
	for _, k := range r.agg.MissingShards() {
		missing[k] = true
	}
	for _, sh := range r.shards {
		k := sh.GetShard()
		switch {
		case !missing[k]:
			v.shards[shardDone]++
		case r.ended:
			v.shards[shardMissing]++
		case r.alive[k]:
			v.shards[shardRunning]++
		default:
			v.shards[shardDisconnected]++
		}
	}
	key := runKey{totals: r.agg.Totals(), findings: r.agg.Findings()}
	if prev != nil && prev.key == key {
		r.mu.Unlock()
		return prev, nil
	}
	res, err := r.agg.Result()
	plan := r.spec.GetPlan()
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return buildRunData(key, plan, res)
}

// buildRunData decodes a run's merged results into per-endpoint metrics.
func buildRunData(key runKey, plan *pb.Plan, res *results.Result) (*runData, error) {
	labels := promhdr.EndpointLabels(plan)
	d := &runData{key: key, findings: map[string]int{}}
	for _, f := range res.Findings {
		sev := f.GetSeverity()
		if !slices.Contains(severities, sev) {
			sev = unknownSeverity
		}
		d.findings[sev]++
	}
	slot := map[string]int{}
	var hists []*latency.Histogram
	for _, ew := range res.Endpoints {
		i := int(ew.GetEndpoint())
		if i < 0 || i >= len(labels) {
			return nil, fmt.Errorf("endpoint %d of a plan with %d", i, len(labels))
		}
		j, ok := slot[labels[i]]
		if !ok {
			j = len(d.endpoints)
			slot[labels[i]] = j
			d.endpoints = append(d.endpoints, endpointData{name: labels[i]})
			hists = append(hists, latency.NewHistogram())
		}
		d.endpoints[j].Add(ew)
		for _, ch := range ew.GetHistograms() {
			h, err := latency.Decode(ch.GetLatency())
			if err != nil {
				return nil, fmt.Errorf("endpoint %d: %w", i, err)
			}
			hists[j].Merge(h)
		}
	}
	for j := range d.endpoints {
		d.endpoints[j].hist = promhdr.Convert(hists[j], promhdr.DefaultBounds, promhdr.DefaultMaxNativeBuckets)
	}
	return d, nil
}

func (c *runCollector) emit(ch chan<- prometheus.Metric, v *runView, d *runData) {
	send := func(m prometheus.Metric, err error) {
		if err != nil { // label values are sanitized: not expected
			c.s.log.Warn("metrics: build metric", "run", v.id, "err", err)
			return
		}
		ch <- m
	}
	gauge := func(desc *prometheus.Desc, x float64, labels ...string) {
		send(prometheus.NewConstMetric(desc, prometheus.GaugeValue, x, labels...))
	}
	counter := func(desc *prometheus.Desc, n int64, labels ...string) {
		send(prometheus.NewConstMetricWithCreatedTimestamp(desc, prometheus.CounterValue, float64(n), v.created, labels...))
	}
	for _, st := range runStates {
		gauge(c.runState, boolValue(st == v.state), v.id, stateLabel(st))
	}
	for i, status := range shardStatuses {
		gauge(c.shards, float64(v.shards[i]), v.id, status)
	}
	for _, sev := range severities {
		gauge(c.findings, float64(d.findings[sev]), v.id, sev)
	}
	if n := d.findings[unknownSeverity]; n > 0 {
		gauge(c.findings, float64(n), v.id, unknownSeverity)
	}
	for _, e := range d.endpoints {
		counter(c.requests, e.Requests, v.id, e.name)
		counter(c.dropped, e.Dropped, v.id, e.name)
		for _, cl := range sortedKeys(e.Responses) {
			counter(c.responses, e.Responses[cl], v.id, e.name, cl)
		}
		for _, kind := range sortedKeys(e.Errors) {
			counter(c.errors, e.Errors[kind], v.id, e.name, kind)
		}
		send(e.hist.Metric(c.duration, v.created, v.id, e.name))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
