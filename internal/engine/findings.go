package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/apireq"
	"github.com/barrage-dev/barrage/internal/evloop"
	"github.com/barrage-dev/barrage/internal/finding"
	"github.com/barrage-dev/barrage/internal/recorder"
	"github.com/barrage-dev/barrage/internal/results"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Latency outliers: a response whose service time exceeds both
// OutlierFactor × its endpoint's p90 of the previous window and
// OutlierFloor is a finding, reported with the request that caused it.
const (
	OutlierFactor = 10
	OutlierFloor  = 250 * time.Millisecond
	// outlierNoStats is the threshold before an endpoint has a window of
	// statistics.
	outlierNoStats = 2 * time.Second
)

// Degradation: an endpoint whose window p50 stays at DegradeFactor × its
// early baseline (and DegradeMin above it) for DegradeWindows windows in a
// row, while the asked rate is no higher than during the baseline, is a
// finding.
const (
	DegradeFactor  = 4
	DegradeMin     = 20 * time.Millisecond
	DegradeWindows = 3
	baseWindows    = 3 // windows 1..3 (window 0 is warm-up) form the baseline
	minCount       = 5 // responses a window needs to count
)

type degState struct {
	base     time.Duration // baseline p50; 0 until set
	baseRate float64
	seen     int // windows with enough responses
	streak   int
	reported bool
}

// findings collects one shard's oracle hits into deduplicated samples per
// window, and runs the statistical oracles (latency outliers, degradation).
type findings struct {
	e       *eng
	mu      sync.Mutex
	m       map[string]*pb.FindingSample
	outlier []atomic.Int64  // per endpoint, ns
	budget  []time.Duration // per endpoint, 0: none
	deg     []degState
	base    int // endpoint index of the first operation
}

func newFindings(e *eng) *findings {
	n := len(e.a.GetPlan().GetRequests()) + len(e.api.Ops())
	f := &findings{e: e, m: map[string]*pb.FindingSample{}, outlier: make([]atomic.Int64, n), deg: make([]degState, n),
		base: len(e.a.GetPlan().GetRequests())}
	for i := range f.outlier {
		f.outlier[i].Store(int64(outlierNoStats))
	}
	f.budget = make([]time.Duration, n)
	oa := e.a.GetPlan().GetOpenapi()
	byID := map[string]*pb.Operation{}
	for _, o := range oa.GetOperations() {
		byID[o.GetId()] = o
	}
	for i, op := range e.api.Ops() {
		b := oa.GetLatencyBudget()
		if o := byID[op.O.ID]; o.GetLatencyBudget() != nil {
			b = o.GetLatencyBudget()
		}
		f.budget[f.base+i] = b.AsDuration()
	}
	return f
}

// rate is the whole run's asked arrival rate at t (open model), else 0:
// the load level a finding is stamped with.
func (f *findings) rate(t time.Time) float64 {
	if s, err := f.e.schedule(); err == nil && f.e.a.GetPlan().GetLoad().GetModel() != pb.LoadModel_LOAD_MODEL_CLOSED {
		return s.RateAt(t.Sub(f.e.cfg.Start))
	}
	return 0
}

// check runs the oracles on one outcome of an API operation and keeps what
// fires. Called from a loop goroutine.
func (f *findings) check(s *apireq.Sender, o *evloop.Outcome, hits []apireq.Hit) []apireq.Hit {
	info := apireq.InfoOf(o.Tag)
	hits = s.Check(info, o.Status, o.ErrKind, o.Head, o.Body, hits[:0])
	var ev string
	switch {
	case o.ErrKind != "":
	case f.budget[o.Ep] > 0 && o.Service > f.budget[o.Ep]:
		ev = fmt.Sprintf("service time %v, over the latency budget of %v", o.Service.Round(time.Millisecond), f.budget[o.Ep])
	case o.Service > OutlierFloor && int64(o.Service) > f.outlier[o.Ep].Load():
		ev = fmt.Sprintf("service time %v, over %dx the operation's recent p90", o.Service.Round(time.Millisecond), OutlierFactor)
	}
	if ev != "" {
		h := apireq.Hit{Oracle: finding.LatencyOutlier, Evidence: ev}
		if cs := s.Case(info); cs != nil {
			h.Mutation, h.Family, h.Detail = cs.Name, cs.Family, cs.Detail
		}
		hits = append(hits, h)
	}
	for _, h := range hits {
		f.add(o, info, h)
	}
	return hits
}

func (f *findings) add(o *evloop.Outcome, info apireq.Info, h apireq.Hit) {
	op := f.e.api.Ops()[info.Op].O
	body := o.Body
	if h.Oracle == finding.LatencyOutlier {
		body = nil // same slow input, same finding, whatever it answered
	}
	fp := finding.Fingerprint(op.ID, string(h.Oracle), fingerprintMutation(h), o.Status, body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if have := f.m[fp]; have != nil {
		have.Count++
		return
	}
	sev, cwe, owasp := finding.Classify(h.Oracle, h.Mutation)
	fs := &pb.FindingSample{
		Fingerprint: fp, Oracle: string(h.Oracle), Severity: string(sev), Endpoint: int32(o.Ep),
		Mutation: clipText(h.Mutation, results.MaxFindingMutation), Detail: clipText(h.Detail, results.MaxFindingText),
		Evidence: clipText(h.Evidence, results.MaxFindingText), Count: 1,
		FirstSeen: timestamppb.New(o.Sent.Add(f.e.cfg.ClockOffset)),
		Request:   clip(o.Req, results.MaxFindingRequest), Status: int32(o.Status),
		Case: int64(info.Case), Cwe: cwe, Owasp: owasp, LoadRps: f.rate(o.Sent),
	}
	resp := make([]byte, 0, min(len(o.Head)+len(o.Body), results.MaxFindingResponse))
	resp = append(resp, clip(o.Head, results.MaxFindingResponse)...)
	resp = append(resp, clip(o.Body, results.MaxFindingResponse-len(resp))...)
	fs.Response = resp
	f.m[fp] = fs
}

// fingerprintMutation is the part of the mutation that tells findings
// apart. Where the mutation is the defect — an input accepted that should
// not be, a probe that was interpreted, a request that broke the
// connection, credentials not checked — each mutation is its own finding.
// Where the answer is the defect — a 5xx, an undocumented status, a body or
// content type off the spec, a leak, a slow answer — the same answer to
// many different inputs is one finding (the first input is its example),
// told apart by the normalised response.
func fingerprintMutation(h apireq.Hit) string {
	switch h.Oracle {
	case finding.InvalidAccepted, finding.InjectionEvidence, finding.ConnectionFailure, finding.AuthNotEnforced, finding.CrossUser:
		return h.Mutation
	}
	return ""
}

// clipText cuts s to at most n bytes, on a UTF-8 boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clip(b []byte, n int) []byte {
	if n < 0 {
		n = 0
	}
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}

// window updates the statistical oracles with one window's statistics.
// Called from the windows goroutine before flush.
func (f *findings) window(stats []recorder.Stats, start, end time.Time) {
	mid := start.Add(end.Sub(start) / 2)
	rate := f.rate(mid)
	for ep := f.base; ep < len(stats); ep++ {
		st := stats[ep]
		if st.Count < minCount {
			continue
		}
		f.outlier[ep].Store(int64(max(OutlierFactor*st.P90, OutlierFloor)))
		d := &f.deg[ep]
		d.seen++
		switch {
		case d.seen == 1:
			// warm-up window: connections, caches
		case d.seen <= 1+baseWindows:
			if d.base == 0 || st.P50 < d.base {
				d.base = st.P50
			}
			d.baseRate = max(d.baseRate, rate)
		case !d.reported && d.base > 0:
			worse := st.P50 >= DegradeFactor*d.base && st.P50-d.base >= DegradeMin
			steady := d.baseRate == 0 || rate <= d.baseRate*1.2
			if worse && steady {
				d.streak++
			} else {
				d.streak = 0
			}
			if d.streak >= DegradeWindows {
				d.reported = true
				f.degraded(ep, d.base, st.P50, rate, end)
			}
		}
	}
}

func (f *findings) degraded(ep int, from, to time.Duration, rate float64, at time.Time) {
	op := f.e.api.Ops()[ep-f.base].O
	fp := finding.Fingerprint(op.ID, string(finding.Degradation), "", 0, nil)
	sev, cwe, owasp := finding.Classify(finding.Degradation, "")
	ev := fmt.Sprintf("p50 service time rose from %v to %v", from.Round(100*time.Microsecond), to.Round(100*time.Microsecond))
	if rate > 0 {
		ev += fmt.Sprintf(" while the asked rate stayed at %.0f/s", rate)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[fp] = &pb.FindingSample{Fingerprint: fp, Oracle: string(finding.Degradation), Severity: string(sev),
		Endpoint: int32(ep), Evidence: ev, Count: 1, FirstSeen: timestamppb.New(at.Add(f.e.cfg.ClockOffset)),
		Case: -1, Cwe: cwe, Owasp: owasp, LoadRps: rate}
}

// flush takes the window's findings.
func (f *findings) flush() []*pb.FindingSample {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) == 0 {
		return nil
	}
	out := make([]*pb.FindingSample, 0, len(f.m))
	for _, fs := range f.m {
		out = append(out, fs)
	}
	clear(f.m)
	return out
}
