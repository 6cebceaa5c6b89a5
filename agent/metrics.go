package agent

import (
	"fmt"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/barrage-dev/barrage/internal/promhdr"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// metricsEndedRuns is how many runs whose shards here have all ended stay
// visible (those updated last); runs with a running shard always are.
const metricsEndedRuns = 5

// metricsHandler serves the agent's Prometheus metrics.
func (a *agent) metricsHandler() http.Handler {
	// Called from Run before any shard starts, so shards see a.tally.
	t := &tally{runs: map[string]*runTally{}}
	a.tally = t

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newAgentCollector(a, t),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, ErrorLog: slogPrinter{a}})
}

// slogPrinter passes promhttp's errors to the agent's logger.
type slogPrinter struct{ a *agent }

func (p slogPrinter) Println(v ...any) { p.a.log.Warn("serve metrics", "err", fmt.Sprint(v...)) }

// metricsTap returns the Emit function of a shard's engine: it tallies each
// window the engine produces (once per window, never per request), then
// passes it to next. Without /metrics it returns next.
func (a *agent) metricsTap(as *pb.Assignment, next func(*pb.ResultWindow)) func(*pb.ResultWindow) {
	t := a.tally
	if t == nil {
		return next
	}
	t.assigned(as)
	return func(w *pb.ResultWindow) {
		t.window(w)
		next(w)
	}
}

// tally accumulates the windows an agent's shards produced, per run and
// endpoint. It is safe for concurrent use.
type tally struct {
	mu    sync.Mutex
	clock uint64 // orders updates, for keeping the latest runs
	runs  map[string]*runTally
}

type runTally struct {
	labels    []string                   // endpoint labels, by plan index
	endpoints map[string]*promhdr.Counts // by label
	shards    map[shardEpoch]*shardTally
	windows   int64
	touched   uint64
}

type shardEpoch struct {
	shard int32
	epoch int64
}

// shardTally tracks which windows of one shard (at one epoch) were counted:
// every seq below next, and those in ahead.
type shardTally struct {
	next     int64
	ahead    map[int64]bool
	final    bool
	last     int64 // highest seq counted, -1 before the first
	inflight int64 // at the end of window last
}

// seen reports whether seq was counted, and marks it counted.
func (s *shardTally) seen(seq int64) bool {
	if seq < s.next || s.ahead[seq] {
		return true
	}
	if seq != s.next {
		if s.ahead == nil {
			s.ahead = map[int64]bool{}
		}
		s.ahead[seq] = true
		return false
	}
	s.next++
	for s.ahead[s.next] {
		delete(s.ahead, s.next)
		s.next++
	}
	return false
}

func (t *tally) run(id string, plan *pb.Plan) *runTally {
	r := t.runs[id]
	if r == nil {
		r = &runTally{labels: promhdr.EndpointLabels(plan), endpoints: map[string]*promhdr.Counts{}, shards: map[shardEpoch]*shardTally{}}
		// Every endpoint shows from the start, at 0.
		for _, l := range r.labels {
			if r.endpoints[l] == nil {
				r.endpoints[l] = &promhdr.Counts{}
			}
		}
		t.runs[id] = r
	}
	t.clock++
	r.touched = t.clock
	return r
}

func (r *runTally) shard(k int32, epoch int64) *shardTally {
	se := shardEpoch{k, epoch}
	s := r.shards[se]
	if s == nil {
		s = &shardTally{last: -1}
		r.shards[se] = s
	}
	return s
}

// assigned registers a shard before its first window.
func (t *tally) assigned(as *pb.Assignment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sh := t.run(as.GetRunId(), as.GetPlan()).shard(as.GetShard(), as.GetEpoch())
	if sh.last < 0 {
		// A taken-over shard's windows start at first_seq.
		sh.next = max(sh.next, as.GetFirstSeq())
	}
	t.evict()
}

// window counts w unless a window with its identity was counted.
func (t *tally) window(w *pb.ResultWindow) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.runs[w.GetRunId()]
	if r == nil { // evicted, or not assigned through metricsTap
		return
	}
	s := r.shard(w.GetShard(), w.GetEpoch())
	if s.seen(w.GetSeq()) {
		return
	}
	t.clock++
	r.touched = t.clock
	r.windows++
	if w.GetSeq() > s.last {
		s.last, s.inflight = w.GetSeq(), w.GetInflight()
	}
	if w.GetFinal() {
		s.final, s.inflight = true, 0
	}
	for _, e := range w.GetEndpoints() {
		l := promhdr.OtherEndpoint // an index outside the plan: a bug, but keep the count
		if i := int(e.GetEndpoint()); i >= 0 && i < len(r.labels) {
			l = r.labels[i]
		}
		c := r.endpoints[l]
		if c == nil {
			c = &promhdr.Counts{}
			r.endpoints[l] = c
		}
		c.Add(e)
	}
	t.evict()
}

func (r *runTally) running() bool {
	for _, s := range r.shards {
		if !s.final {
			return true
		}
	}
	return false
}

// evict forgets the runs beyond the metricsEndedRuns latest whose shards
// have all sent their final window. Called with t.mu held.
func (t *tally) evict() {
	var ended []string
	for id, r := range t.runs {
		if !r.running() {
			ended = append(ended, id)
		}
	}
	if len(ended) <= metricsEndedRuns {
		return
	}
	slices.SortFunc(ended, func(x, y string) int {
		a, b := t.runs[x].touched, t.runs[y].touched
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	for _, id := range ended[metricsEndedRuns:] {
		delete(t.runs, id)
	}
}

// agentCollector reads the agent's state and its tally on every scrape.
// The counters are named barrage_agent_* so that summing the coordinator's
// barrage_requests_total and the agents' never counts a request twice.
type agentCollector struct {
	a *agent
	t *tally

	connected, shardsRunning, outbox, inflight *prometheus.Desc
	requests, responses, errors, dropped       *prometheus.Desc
	windows                                    *prometheus.Desc
}

func newAgentCollector(a *agent, t *tally) *agentCollector {
	ep := []string{"run", "endpoint"}
	return &agentCollector{
		a: a, t: t,
		connected: prometheus.NewDesc("barrage_agent_connected",
			"1 while the agent is connected to a coordinator.", nil, nil),
		shardsRunning: prometheus.NewDesc("barrage_agent_shards_running",
			"Shards whose load is running (or waiting for its start) on this agent.", nil, nil),
		outbox: prometheus.NewDesc("barrage_agent_outbox_windows",
			"Result windows not yet acknowledged by a coordinator.", nil, nil),
		inflight: prometheus.NewDesc("barrage_agent_inflight",
			"Requests in flight at the end of each running shard's latest window, summed.", nil, nil),
		requests: prometheus.NewDesc("barrage_agent_requests_total",
			"Requests whose outcome is known (responses plus transport errors), from this agent's result windows.", ep, nil),
		responses: prometheus.NewDesc("barrage_agent_responses_total",
			"Responses by HTTP status class, from this agent's result windows.", []string{"run", "endpoint", "code_class"}, nil),
		errors: prometheus.NewDesc("barrage_agent_errors_total",
			"Failed requests: transport errors by kind and 5xx responses (kind 5xx), from this agent's result windows.",
			[]string{"run", "endpoint", "kind"}, nil),
		dropped: prometheus.NewDesc("barrage_agent_dropped_total",
			"Open model: arrivals not started because the in-flight cap was reached.", ep, nil),
		windows: prometheus.NewDesc("barrage_agent_windows_total",
			"Result windows produced.", []string{"run"}, nil),
	}
}

func (c *agentCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.shardsRunning, c.outbox, c.inflight,
		c.requests, c.responses, c.errors, c.dropped, c.windows} {
		ch <- d
	}
}

func (c *agentCollector) Collect(ch chan<- prometheus.Metric) {
	a := c.a
	a.mu.Lock()
	connected := a.connected
	running := 0
	for _, s := range a.shards {
		if !s.finished {
			running++
		}
	}
	outbox := len(a.outbox)
	a.mu.Unlock()
	// No labels on these: they cannot fail.
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, boolValue(connected))
	ch <- prometheus.MustNewConstMetric(c.shardsRunning, prometheus.GaugeValue, float64(running))
	ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(outbox))

	var out []prometheus.Metric
	add := func(m prometheus.Metric, err error) {
		if err != nil { // label values are sanitized: not expected
			a.log.Warn("metrics: build metric", "err", err)
			return
		}
		out = append(out, m)
	}
	counter := func(desc *prometheus.Desc, n int64, labels ...string) {
		add(prometheus.NewConstMetric(desc, prometheus.CounterValue, float64(n), labels...))
	}
	var inflight int64
	// Build the metrics under the tally's lock, send them after it: a slow
	// scrape must not hold up a shard handing over its window.
	t := c.t
	t.mu.Lock()
	for id, r := range t.runs {
		for _, s := range r.shards {
			if !s.final {
				inflight += s.inflight
			}
		}
		counter(c.windows, r.windows, id)
		for l, e := range r.endpoints {
			counter(c.requests, e.Requests, id, l)
			counter(c.dropped, e.Dropped, id, l)
			for cl, n := range e.Responses {
				counter(c.responses, n, id, l, cl)
			}
			for kind, n := range e.Errors {
				counter(c.errors, n, id, l, kind)
			}
		}
	}
	t.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.inflight, prometheus.GaugeValue, float64(inflight))
	for _, m := range out {
		ch <- m
	}
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
