package report

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/barrage-dev/barrage/internal/finding"
	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/version"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Report is a run's results. Its JSON form is a public interface; fields
// are only ever added.
type Report struct {
	RunID    string `json:"run_id"`
	State    string `json:"state"`
	Message  string `json:"message,omitempty"`
	Scenario string `json:"scenario"`
	File     string `json:"file"`
	// Target is the base URL the run was aimed at.
	Target    string     `json:"target"`
	Model     string     `json:"model"`
	Seed      uint64     `json:"seed"`
	Agents    int        `json:"agents"`
	StartedAt time.Time  `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	// DurationS is the measured load time: from the common start to the
	// end of the last result window.
	DurationS float64 `json:"duration_s"`
	// PlannedS is the sum of the stage durations.
	PlannedS  float64   `json:"planned_s"`
	Precision Precision `json:"precision"`
	Totals    Totals    `json:"totals"`
	// Latency is measured from each request's intended start (corrected for
	// coordinated omission), over all responses (not transport errors).
	Latency Latency `json:"latency_ms"`
	// ServiceTime is measured from the actual send (uncorrected).
	ServiceTime Latency    `json:"service_time_ms"`
	Endpoints   []Endpoint `json:"endpoints"`
	// Histogram is the whole run's latency in log-scale buckets.
	Histogram []Bucket `json:"histogram"`
	Timeline  []Point  `json:"timeline"`
	Shards    []Shard  `json:"shards"`
	Events    []Event  `json:"events"`
	// Findings from malformed-input testing and the oracles, most severe
	// first; empty when none.
	Findings []Finding `json:"findings"`
}

// Finding is one deduplicated finding with its reproducer.
type Finding struct {
	ID          string    `json:"id"`
	Fingerprint string    `json:"fingerprint"`
	Oracle      string    `json:"oracle"`
	Severity    string    `json:"severity"`
	Operation   string    `json:"operation"`
	Method      string    `json:"method"`
	Path        string    `json:"path"`
	Mutation    string    `json:"mutation"`
	Detail      string    `json:"detail,omitempty"`
	Evidence    string    `json:"evidence"`
	CWE         string    `json:"cwe,omitempty"`
	OWASP       string    `json:"owasp,omitempty"`
	Count       int64     `json:"count"`
	FirstSeen   time.Time `json:"first_seen"`
	// LoadRPS is the asked rate of the agent that saw it first, at that time.
	LoadRPS float64 `json:"load_rps,omitempty"`
	Status  int     `json:"status"`
	Curl    string  `json:"curl"`
	Request string  `json:"request,omitempty"`
	// RequestRaw holds the exact request bytes (base64) when they are not
	// valid UTF-8 and Request shows them escaped.
	RequestRaw []byte `json:"request_raw,omitempty"`
	Response   string `json:"response,omitempty"`
	Case       int64  `json:"case"`
}

// Precision states how exact the latency figures are.
type Precision struct {
	Histogram         string  `json:"histogram"`
	SignificantDigits int     `json:"significant_digits"`
	LowestMs          float64 `json:"lowest_ms"`
	HighestMs         float64 `json:"highest_ms"`
}

// Totals are whole-run counters.
type Totals struct {
	// Requests counts every request whose outcome is known: responses plus
	// transport errors. Each request is counted exactly once.
	Requests  int64 `json:"requests"`
	Responses int64 `json:"responses"`
	// Errors counts transport errors plus 5xx responses.
	Errors          int64   `json:"errors"`
	TransportErrors int64   `json:"transport_errors"`
	ErrorRate       float64 `json:"error_rate"`
	// Dropped counts open-model arrivals not started because the in-flight
	// cap was reached (never queued).
	Dropped    int64            `json:"dropped"`
	RateRps    float64          `json:"rate_rps"`
	AskedRps   float64          `json:"asked_rps,omitempty"`
	Status     map[string]int64 `json:"status"`
	ErrorKinds map[string]int64 `json:"error_kinds"`
	BytesIn    int64            `json:"bytes_in"`
	BytesOut   int64            `json:"bytes_out"`
}

// Latency is a set of percentiles in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
}

// Endpoint is one request template's results.
type Endpoint struct {
	Name        string             `json:"name"`
	Method      string             `json:"method"`
	Path        string             `json:"path"`
	Weight      uint32             `json:"weight"`
	Requests    int64              `json:"requests"`
	RateRps     float64            `json:"rate_rps"`
	Errors      map[string]int64   `json:"errors"`
	Status      map[string]int64   `json:"status"`
	Dropped     int64              `json:"dropped"`
	Latency     Latency            `json:"latency_ms"`
	ServiceTime Latency            `json:"service_time_ms"`
	ByClass     map[string]Latency `json:"latency_by_class_ms"`
	BytesIn     int64              `json:"bytes_in"`
	BytesOut    int64              `json:"bytes_out"`
	// API operations only: requests sent valid, valid ones answered 2xx
	// (the operation was reached), and requests that carried a mutation.
	Valid   int64 `json:"valid,omitempty"`
	Reached int64 `json:"reached,omitempty"`
	Mutated int64 `json:"mutated,omitempty"`
}

// Bucket is one bar of a latency histogram.
type Bucket struct {
	FromMs float64 `json:"from_ms"`
	ToMs   float64 `json:"to_ms"`
	Count  int64   `json:"count"`
}

// Point is one result window across all shards.
type Point struct {
	Seq      int64   `json:"seq"`
	OffsetS  float64 `json:"offset_s"`
	LengthS  float64 `json:"length_s"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Dropped  int64   `json:"dropped"`
	RateRps  float64 `json:"rate_rps"`
	AskedRps float64 `json:"asked_rps,omitempty"`
	P50Ms    float64 `json:"p50_ms"`
	P90Ms    float64 `json:"p90_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
}

// Shard is one agent's share.
type Shard struct {
	Shard         int32   `json:"shard"`
	Agent         string  `json:"agent"`
	Requests      int64   `json:"requests"`
	Windows       int64   `json:"windows"`
	Done          bool    `json:"done"`
	ClockOffsetMs float64 `json:"clock_offset_ms"`
	StopReason    string  `json:"stop_reason,omitempty"`
}

// Event is something that happened during the run.
type Event struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// LatencyOf summarises a histogram.
func LatencyOf(h *latency.Histogram) Latency {
	if h == nil || h.Count() == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.Count(),
		Min:   ms(h.Min()),
		P50:   ms(h.Quantile(0.50)),
		P90:   ms(h.Quantile(0.90)),
		P99:   ms(h.Quantile(0.99)),
		P999:  ms(h.Quantile(0.999)),
		Max:   ms(h.Max()),
		Mean:  ms(h.Mean()),
	}
}

// StateName is the lower-case state name used in reports.
func StateName(s pb.RunState) string {
	n := strings.TrimPrefix(s.String(), "RUN_STATE_")
	return strings.ToLower(n)
}

// Merged holds decoded histograms of a result, for renderers that plot.
type Merged struct {
	All, AllService *latency.Histogram
	PerEndpoint     []*latency.Histogram
}

// Build makes the report of a run result.
func Build(res *pb.RunResult) (*Report, error) {
	r, _, err := BuildWithHistograms(res)
	return r, err
}

// BuildWithHistograms is Build that also returns the decoded histograms.
func BuildWithHistograms(res *pb.RunResult) (*Report, *Merged, error) {
	st := res.GetStatus()
	plan := res.GetPlan()
	rep := &Report{
		RunID:    st.GetRunId(),
		State:    StateName(st.GetState()),
		Message:  st.GetMessage(),
		Scenario: plan.GetName(),
		File:     res.GetFileName(),
		Target:   plan.GetTarget().GetBaseUrl(),
		Model:    "open",
		Seed:     plan.GetSeed(),
		Agents:   int(st.GetShards()),
		PlannedS: st.GetPlanned().AsDuration().Seconds(),
		Precision: Precision{
			Histogram:         "HdrHistogram",
			SignificantDigits: latency.Digits,
			LowestMs:          ms(latency.LowestMicros * time.Microsecond),
			HighestMs:         ms(latency.HighestMicros * time.Microsecond),
		},
		Totals: Totals{Status: map[string]int64{}, ErrorKinds: map[string]int64{}},
	}
	if plan.GetLoad().GetModel() == pb.LoadModel_LOAD_MODEL_CLOSED {
		rep.Model = "closed"
	}
	start := st.GetStartAt().AsTime()
	rep.StartedAt = start
	if st.GetEndedAt() != nil {
		e := st.GetEndedAt().AsTime()
		rep.EndedAt = &e
	}
	var last time.Time
	for _, p := range res.GetTimeline() {
		end := p.GetStart().AsTime().Add(p.GetLength().AsDuration())
		if end.After(last) {
			last = end
		}
		pt := Point{
			Seq:      p.GetSeq(),
			OffsetS:  p.GetStart().AsTime().Sub(start).Seconds(),
			LengthS:  p.GetLength().AsDuration().Seconds(),
			Requests: p.GetRequests(),
			Errors:   p.GetErrors(),
			Dropped:  p.GetDropped(),
			AskedRps: p.GetAskedRps(),
			P50Ms:    ms(p.GetP50().AsDuration()),
			P90Ms:    ms(p.GetP90().AsDuration()),
			P99Ms:    ms(p.GetP99().AsDuration()),
			MaxMs:    ms(p.GetMax().AsDuration()),
		}
		if pt.LengthS > 0 {
			pt.RateRps = float64(pt.Requests) / pt.LengthS
		}
		rep.Timeline = append(rep.Timeline, pt)
	}
	if !last.IsZero() && last.After(start) {
		rep.DurationS = last.Sub(start).Seconds()
	}

	m := &Merged{All: latency.NewHistogram(), AllService: latency.NewHistogram()}
	eps := map[int32]*pb.EndpointWindow{}
	for _, e := range res.GetEndpoints() {
		eps[e.GetEndpoint()] = e
	}
	names := endpointNames(res)
	for i, nm := range names {
		e := eps[int32(i)]
		ep := Endpoint{
			Name: nm.name, Method: nm.method, Path: nm.path, Weight: nm.weight,
			Status: map[string]int64{}, Errors: map[string]int64{}, ByClass: map[string]Latency{},
		}
		lat, svc := latency.NewHistogram(), latency.NewHistogram()
		if e != nil {
			ep.Requests, ep.Dropped, ep.BytesIn, ep.BytesOut = e.GetRequests(), e.GetDropped(), e.GetBytesIn(), e.GetBytesOut()
			ep.Valid, ep.Reached, ep.Mutated = e.GetValid(), e.GetValid_2Xx(), e.GetMutated()
			for code, n := range e.GetStatus() {
				c := strconv.Itoa(int(code))
				ep.Status[c] += n
				rep.Totals.Status[c] += n
				rep.Totals.Responses += n
				if code >= 500 {
					rep.Totals.Errors += n
				}
			}
			for kind, n := range e.GetErrors() {
				ep.Errors[kind] += n
				rep.Totals.ErrorKinds[kind] += n
				rep.Totals.TransportErrors += n
				rep.Totals.Errors += n
			}
			for _, h := range e.GetHistograms() {
				lh, err := latency.Decode(h.GetLatency())
				if err != nil {
					return nil, nil, fmt.Errorf("endpoint %s: %w", nm.name, err)
				}
				sh, err := latency.Decode(h.GetServiceTime())
				if err != nil {
					return nil, nil, fmt.Errorf("endpoint %s: %w", nm.name, err)
				}
				ep.ByClass[outcome.ClassName(h.GetClass())] = LatencyOf(lh)
				if h.GetClass() == pb.OutcomeClass_OUTCOME_CLASS_ERROR {
					continue // no response: not part of response latency
				}
				lat.Merge(lh)
				svc.Merge(sh)
			}
		}
		ep.Latency, ep.ServiceTime = LatencyOf(lat), LatencyOf(svc)
		if rep.DurationS > 0 {
			ep.RateRps = float64(ep.Requests) / rep.DurationS
		}
		m.All.Merge(lat)
		m.AllService.Merge(svc)
		m.PerEndpoint = append(m.PerEndpoint, lat)
		rep.Totals.Requests += ep.Requests
		rep.Totals.Dropped += ep.Dropped
		rep.Totals.BytesIn += ep.BytesIn
		rep.Totals.BytesOut += ep.BytesOut
		rep.Endpoints = append(rep.Endpoints, ep)
	}
	rep.Latency, rep.ServiceTime = LatencyOf(m.All), LatencyOf(m.AllService)
	if rep.DurationS > 0 {
		rep.Totals.RateRps = float64(rep.Totals.Requests) / rep.DurationS
	}
	if rep.Totals.Requests > 0 {
		rep.Totals.ErrorRate = float64(rep.Totals.Errors) / float64(rep.Totals.Requests)
	}
	if rep.Model == "open" && rep.PlannedS > 0 {
		var arrivals float64
		for _, s := range plan.GetLoad().GetStages() {
			arrivals += (s.GetFromRate() + s.GetToRate()) / 2 * s.GetDuration().AsDuration().Seconds()
		}
		rep.Totals.AskedRps = arrivals / rep.PlannedS
	}
	for _, b := range m.All.LogBuckets(5) {
		rep.Histogram = append(rep.Histogram, Bucket{FromMs: ms(b.Low), ToMs: ms(b.High), Count: b.Count})
	}
	for _, s := range res.GetShards() {
		rep.Shards = append(rep.Shards, Shard{
			Shard: s.GetShard(), Agent: s.GetAgentName(), Requests: s.GetRequests(), Windows: s.GetWindows(),
			Done: s.GetDone(), ClockOffsetMs: ms(s.GetClockOffset().AsDuration()), StopReason: s.GetStopReason(),
		})
	}
	sort.Slice(rep.Shards, func(i, j int) bool { return rep.Shards[i].Shard < rep.Shards[j].Shard })
	for _, e := range res.GetEvents() {
		rep.Events = append(rep.Events, Event{At: e.GetAt().AsTime(), Kind: e.GetKind(), Message: e.GetMessage()})
	}
	rep.Findings = []Finding{}
	for _, f := range Findings(res) {
		rep.Findings = append(rep.Findings, Finding{
			ID: f.ID, Fingerprint: f.Fingerprint, Oracle: string(f.Oracle), Severity: string(f.Severity),
			Operation: f.Operation, Method: f.Method, Path: f.Path, Mutation: f.Mutation, Detail: f.Detail,
			Evidence: f.Evidence, CWE: f.CWE, OWASP: f.OWASP, Count: f.Count, FirstSeen: f.FirstSeen,
			LoadRPS: f.LoadRPS, Status: f.Status, Curl: f.Reproducer(), Request: printable(f.Request),
			Response: printable(f.ResponseExcerpt), Case: f.Case,
		})
		if !utf8.Valid(f.Request) {
			rep.Findings[len(rep.Findings)-1].RequestRaw = f.Request
		}
	}
	return rep, m, nil
}

type endpointName struct {
	name, method, path string
	weight             uint32
}

// endpointNames lists the plan's endpoints: request templates, then API
// operations (named by operation id, with the description's method and
// path template when the plan carries it).
func endpointNames(res *pb.RunResult) []endpointName {
	plan := res.GetPlan()
	var out []endpointName
	for _, t := range plan.GetRequests() {
		out = append(out, endpointName{t.GetName(), t.GetMethod(), t.GetPath(), t.GetWeight()})
	}
	for _, o := range plan.GetOpenapi().GetOperations() {
		out = append(out, endpointName{o.GetId(), o.GetMethod(), o.GetPath(), o.GetWeight()})
	}
	return out
}

// EndpointNames returns the names of a plan's endpoints in the order result
// windows index them: request templates, then API operations (by
// operation id).
func EndpointNames(plan *pb.Plan) []string {
	eps := endpointNames(&pb.RunResult{Plan: plan})
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.name
	}
	return out
}

// Findings converts a result's finding samples, most severe first.
func Findings(res *pb.RunResult) []finding.Finding {
	names := endpointNames(res)
	base := ""
	if u, err := url.Parse(res.GetPlan().GetTarget().GetBaseUrl()); err == nil {
		base = u.Scheme + "://" + u.Host
	}
	var out []finding.Finding
	for _, s := range res.GetFindings() {
		f := finding.Finding{
			ID: finding.ShortID(s.GetFingerprint()), Fingerprint: s.GetFingerprint(),
			Oracle: finding.Oracle(s.GetOracle()), Severity: finding.Severity(s.GetSeverity()),
			Mutation: s.GetMutation(), Detail: s.GetDetail(), Evidence: s.GetEvidence(),
			CWE: s.GetCwe(), OWASP: s.GetOwasp(), Count: s.GetCount(), FirstSeen: s.GetFirstSeen().AsTime(),
			LoadRPS: s.GetLoadRps(), BaseURL: base, Request: s.GetRequest(), Status: int(s.GetStatus()),
			ResponseExcerpt: clipExcerpt(s.GetResponse()), Seed: res.GetPlan().GetSeed(), Case: s.GetCase(),
		}
		if i := int(s.GetEndpoint()); i >= 0 && i < len(names) {
			f.Operation, f.Method, f.Path = names[i].name, names[i].method, names[i].path
		}
		out = append(out, f)
	}
	return finding.Sorted(out)
}

func clipExcerpt(b []byte) []byte {
	if len(b) > finding.MaxExcerpt {
		return b[:finding.MaxExcerpt]
	}
	return b
}

// printable renders request or response bytes for JSON: valid UTF-8 as is,
// anything else with Go escapes.
func printable(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	q := strconv.Quote(string(b))
	return q[1 : len(q)-1]
}

// WriteJUnit writes the run as JUnit XML: the run's completion (and, once
// they exist, its thresholds) as checks, and one failing test case per
// finding.
func WriteJUnit(w io.Writer, res *pb.RunResult) error {
	st := res.GetStatus()
	checks := []finding.Check{{
		Name:    "run completed",
		Passed:  st.GetState() == pb.RunState_RUN_STATE_COMPLETED,
		Message: StateName(st.GetState()) + " " + st.GetMessage(),
	}}
	name := res.GetPlan().GetName()
	if name == "" {
		name = st.GetRunId()
	}
	return finding.WriteJUnit(w, "barrage "+name, Findings(res), checks)
}

// WriteSARIF writes the run's findings as SARIF 2.1.0.
func WriteSARIF(w io.Writer, res *pb.RunResult) error {
	return finding.WriteSARIF(w, "barrage", version.Version, Findings(res))
}
