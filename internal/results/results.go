package results

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/finding"
	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/pacer"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

const numClasses = int(pb.OutcomeClass_OUTCOME_CLASS_ERROR) + 1

// ErrBadWindow is wrapped by every rejection of a malformed window.
var ErrBadWindow = errors.New("bad result window")

type endpoint struct {
	requests, dropped, bytesIn, bytesOut int64
	valid, valid2xx, mutated             int64
	status                               map[int32]int64
	errors                               map[string]int64
	lat, svc                             [numClasses]*latency.Histogram
}

type windowID struct{ epoch, seq int64 }

type shard struct {
	seen        map[windowID]bool
	firstSeq    int64 // the current epoch's first window
	finalSeq    int64 // the current epoch's final window; -1 until it is in
	windows     int64
	requests    int64
	epoch       int64
	taken       bool // the shard was taken over (Reassign): epochs are set, not learnt
	clockOffset time.Duration
	stopReason  string
}

type point struct {
	seq                       int64
	start, end                time.Time
	requests, errors, dropped int64
	hist                      *latency.Histogram
	shards                    map[int32]bool
}

// Run is the merged results of one run.
type Run struct {
	plan      *pb.Plan
	shards    []*shard
	endpoints []*endpoint
	start     time.Time
	window    time.Duration
	sched     *pacer.Schedule // open model only

	pending  map[int64]*point
	settled  map[int64]bool // seqs in the timeline
	timeline []*pb.TimelinePoint
	findings map[string]*pb.FindingSample

	requests, errors, dropped int64
}

// New starts merging a run of the given plan split into shardCount shards,
// whose load starts at start (coordinator clock).
func New(plan *pb.Plan, shardCount int, start time.Time) *Run {
	r := &Run{
		plan:     plan,
		start:    start,
		window:   plan.GetWindow().AsDuration(),
		pending:  map[int64]*point{},
		settled:  map[int64]bool{},
		findings: map[string]*pb.FindingSample{},
	}
	if r.window <= 0 {
		r.window = time.Second
	}
	for range shardCount {
		r.shards = append(r.shards, &shard{seen: map[windowID]bool{}, finalSeq: -1})
	}
	for range len(plan.GetRequests()) + len(plan.GetOpenapi().GetOperations()) {
		r.endpoints = append(r.endpoints, &endpoint{status: map[int32]int64{}, errors: map[string]int64{}})
	}
	if plan.GetLoad().GetModel() != pb.LoadModel_LOAD_MODEL_CLOSED {
		var stages []pacer.Stage
		for _, s := range plan.GetLoad().GetStages() {
			stages = append(stages, pacer.Stage{Duration: s.GetDuration().AsDuration(), From: s.GetFromRate(), To: s.GetToRate()})
		}
		if s, err := pacer.NewSchedule(stages); err == nil {
			r.sched = s
		}
	}
	return r
}

// decoded is a checked window, ready to merge.
type decoded struct {
	w    *pb.ResultWindow
	eps  []*pb.EndpointWindow
	lat  []map[pb.OutcomeClass]*latency.Histogram
	svc  []map[pb.OutcomeClass]*latency.Histogram
	reqs int64
	errs int64
	drop int64
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadWindow}, args...)...)
}

// check validates a window against the plan and itself and decodes its
// histograms. It changes nothing.
func (r *Run) check(w *pb.ResultWindow) (*decoded, error) {
	k := w.GetShard()
	if k < 0 || int(k) >= len(r.shards) {
		return nil, badf("shard %d out of range (run has %d)", k, len(r.shards))
	}
	if w.GetSeq() < 0 || w.GetEpoch() < 0 {
		return nil, badf("negative seq %d or epoch %d", w.GetSeq(), w.GetEpoch())
	}
	sh := r.shards[k]
	if w.GetEpoch() == sh.epoch && sh.finalSeq >= 0 && w.GetSeq() > sh.finalSeq {
		return nil, badf("shard %d window %d comes after its final window %d", k, w.GetSeq(), sh.finalSeq)
	}
	if w.GetEpoch() > sh.epoch && sh.taken {
		return nil, badf("shard %d window %d has epoch %d, newer than the shard's %d", k, w.GetSeq(), w.GetEpoch(), sh.epoch)
	}
	d := &decoded{w: w}
	seenFp := map[string]bool{}
	for _, f := range w.GetFindings() {
		switch {
		case f.GetFingerprint() == "" || len(f.GetFingerprint()) > 128:
			return nil, badf("finding with a missing or oversized fingerprint")
		case seenFp[f.GetFingerprint()]:
			return nil, badf("finding %s listed twice", f.GetFingerprint())
		case f.GetCount() < 1:
			return nil, badf("finding %s: count %d", f.GetFingerprint(), f.GetCount())
		case f.GetEndpoint() < 0 || int(f.GetEndpoint()) >= len(r.endpoints):
			return nil, badf("finding %s: endpoint %d out of range", f.GetFingerprint(), f.GetEndpoint())
		case len(f.GetRequest()) > MaxFindingRequest || len(f.GetResponse()) > MaxFindingResponse:
			return nil, badf("finding %s: request or response sample too large", f.GetFingerprint())
		case finding.Severity(f.GetSeverity()).Rank() == 0:
			return nil, badf("finding %s: unknown severity %q", f.GetFingerprint(), f.GetSeverity())
		case !slices.Contains(finding.Oracles, finding.Oracle(f.GetOracle())):
			return nil, badf("finding %s: unknown oracle %q", f.GetFingerprint(), f.GetOracle())
		case len(f.GetMutation()) > MaxFindingMutation || len(f.GetDetail()) > MaxFindingText || len(f.GetEvidence()) > MaxFindingText || len(f.GetCwe()) > 64 || len(f.GetOwasp()) > 128:
			return nil, badf("finding %s: oversized text field", f.GetFingerprint())
		}
		seenFp[f.GetFingerprint()] = true
	}
	seenEp := map[int32]bool{}
	for _, e := range w.GetEndpoints() {
		i := e.GetEndpoint()
		if i < 0 || int(i) >= len(r.endpoints) {
			return nil, badf("endpoint %d out of range (plan has %d)", i, len(r.endpoints))
		}
		if seenEp[i] {
			return nil, badf("endpoint %d listed twice", i)
		}
		seenEp[i] = true
		if e.GetRequests() < 0 || e.GetDropped() < 0 || e.GetBytesIn() < 0 || e.GetBytesOut() < 0 ||
			e.GetValid() < 0 || e.GetValid_2Xx() < 0 || e.GetMutated() < 0 {
			return nil, badf("endpoint %d: negative counter", i)
		}
		if e.GetValid()+e.GetMutated() > e.GetRequests() || e.GetValid_2Xx() > e.GetValid() {
			return nil, badf("endpoint %d: valid %d + mutated %d exceed %d requests (or 2xx %d > valid)", i, e.GetValid(), e.GetMutated(), e.GetRequests(), e.GetValid_2Xx())
		}
		var perClass [numClasses]int64
		var sum int64
		for code, n := range e.GetStatus() {
			if n < 0 {
				return nil, badf("endpoint %d: negative count for status %d", i, code)
			}
			c := outcome.Class(int(code))
			if c == pb.OutcomeClass_OUTCOME_CLASS_UNSPECIFIED || c == pb.OutcomeClass_OUTCOME_CLASS_ERROR {
				return nil, badf("endpoint %d: invalid status code %d", i, code)
			}
			perClass[c] += n
			sum += n
			if c == pb.OutcomeClass_OUTCOME_CLASS_5XX {
				d.errs += n
			}
		}
		for kind, n := range e.GetErrors() {
			if n < 0 {
				return nil, badf("endpoint %d: negative count for error %q", i, kind)
			}
			perClass[pb.OutcomeClass_OUTCOME_CLASS_ERROR] += n
			sum += n
			d.errs += n
		}
		if sum != e.GetRequests() {
			return nil, badf("endpoint %d: %d requests but statuses and errors add up to %d", i, e.GetRequests(), sum)
		}
		lat := map[pb.OutcomeClass]*latency.Histogram{}
		svc := map[pb.OutcomeClass]*latency.Histogram{}
		for _, h := range e.GetHistograms() {
			c := h.GetClass()
			if c <= pb.OutcomeClass_OUTCOME_CLASS_UNSPECIFIED || int(c) >= numClasses {
				return nil, badf("endpoint %d: unknown outcome class %d", i, c)
			}
			if lat[c] != nil {
				return nil, badf("endpoint %d: class %s listed twice", i, outcome.ClassName(c))
			}
			lh, err := latency.Decode(h.GetLatency())
			if err != nil {
				return nil, badf("endpoint %d class %s latency: %v", i, outcome.ClassName(c), err)
			}
			sh, err := latency.Decode(h.GetServiceTime())
			if err != nil {
				return nil, badf("endpoint %d class %s service time: %v", i, outcome.ClassName(c), err)
			}
			if lh.Count() != perClass[c] || sh.Count() != perClass[c] {
				return nil, badf("endpoint %d class %s: histograms hold %d and %d values, counters say %d",
					i, outcome.ClassName(c), lh.Count(), sh.Count(), perClass[c])
			}
			lat[c], svc[c] = lh, sh
		}
		for c := 1; c < numClasses; c++ {
			if perClass[c] > 0 && lat[pb.OutcomeClass(c)] == nil {
				return nil, badf("endpoint %d class %s: %d requests but no histogram", i, outcome.ClassName(pb.OutcomeClass(c)), perClass[c])
			}
		}
		d.eps = append(d.eps, e)
		d.lat = append(d.lat, lat)
		d.svc = append(d.svc, svc)
		d.reqs += e.GetRequests()
		d.drop += e.GetDropped()
	}
	return d, nil
}

// Ingest merges one window. It returns false (and no error) when the window
// was already merged, and an error wrapping ErrBadWindow, merging nothing,
// when the window is malformed.
func (r *Run) Ingest(w *pb.ResultWindow) (bool, error) {
	if w.GetShard() >= 0 && int(w.GetShard()) < len(r.shards) {
		if r.shards[w.GetShard()].seen[windowID{w.GetEpoch(), w.GetSeq()}] {
			return false, nil
		}
	}
	d, err := r.check(w)
	if err != nil {
		return false, err
	}
	sh := r.shards[w.GetShard()]
	sh.seen[windowID{w.GetEpoch(), w.GetSeq()}] = true
	sh.windows++
	sh.requests += d.reqs
	if !sh.taken {
		sh.epoch = max(sh.epoch, w.GetEpoch())
	}
	sh.clockOffset = w.GetClockOffset().AsDuration()
	// Only the current epoch's final window ends the shard: a replaced
	// agent's windows still count (they are real requests) but its end
	// does not.
	if w.GetFinal() && w.GetEpoch() == sh.epoch {
		sh.finalSeq = w.GetSeq()
		sh.stopReason = w.GetStopReason()
	}
	p := r.pending[w.GetSeq()]
	if p == nil && r.settled[w.GetSeq()] {
		// A late window (a replaced agent's, back with its outbox) for
		// a point already in the timeline: its counts join that point
		// (a new copy: earlier results may be being encoded); its
		// latencies are in the endpoints' histograms, not in the
		// point's percentiles.
		p = &point{seq: w.GetSeq(), hist: latency.NewHistogram(), shards: map[int32]bool{}}
		defer r.foldLate(p)
	}
	if p == nil {
		p = &point{seq: w.GetSeq(), hist: latency.NewHistogram(), shards: map[int32]bool{},
			start: w.GetStart().AsTime(), end: w.GetEnd().AsTime()}
		r.pending[w.GetSeq()] = p
	}
	// A taken-over shard's point waits for the current epoch's window;
	// an older epoch's adds its counts without standing in for it.
	if !sh.taken || w.GetEpoch() == sh.epoch {
		p.shards[w.GetShard()] = true
	}
	if ws := w.GetStart().AsTime(); ws.Before(p.start) {
		p.start = ws
	}
	if we := w.GetEnd().AsTime(); we.After(p.end) {
		p.end = we
	}
	p.requests += d.reqs
	p.errors += d.errs
	p.dropped += d.drop
	for j, e := range d.eps {
		ep := r.endpoints[e.GetEndpoint()]
		ep.requests += e.GetRequests()
		ep.dropped += e.GetDropped()
		ep.bytesIn += e.GetBytesIn()
		ep.bytesOut += e.GetBytesOut()
		ep.valid += e.GetValid()
		ep.valid2xx += e.GetValid_2Xx()
		ep.mutated += e.GetMutated()
		for code, n := range e.GetStatus() {
			ep.status[code] += n
		}
		for kind, n := range e.GetErrors() {
			ep.errors[kind] += n
		}
		for c, h := range d.lat[j] {
			if ep.lat[c] == nil {
				ep.lat[c], ep.svc[c] = latency.NewHistogram(), latency.NewHistogram()
			}
			ep.lat[c].Merge(h)
			ep.svc[c].Merge(d.svc[j][c])
			p.hist.Merge(h)
		}
	}
	for _, f := range w.GetFindings() {
		r.mergeFinding(f)
	}
	r.requests += d.reqs
	r.errors += d.errs
	r.dropped += d.drop
	r.settle(false)
	return true, nil
}

// Limits on a finding's samples and texts.
const (
	MaxFindingRequest  = 64 << 10
	MaxFindingResponse = 16 << 10
	MaxFindingMutation = 256
	MaxFindingText     = 4096 // detail and evidence
)

// mergeFinding adds a window's finding: counts add up, and the sample of
// the earliest sighting is kept.
func (r *Run) mergeFinding(f *pb.FindingSample) {
	have := r.findings[f.GetFingerprint()]
	if have == nil {
		r.findings[f.GetFingerprint()] = proto.Clone(f).(*pb.FindingSample)
		return
	}
	count := have.GetCount() + f.GetCount()
	if f.GetFirstSeen().AsTime().Before(have.GetFirstSeen().AsTime()) {
		have = proto.Clone(f).(*pb.FindingSample)
		r.findings[f.GetFingerprint()] = have
	}
	have.Count = count
}

// Findings is the number of distinct findings so far.
func (r *Run) Findings() int { return len(r.findings) }

// AddFinding adds a finding made by the coordinator itself (e.g. from the
// timeline), merged like an agent's.
func (r *Run) AddFinding(f *pb.FindingSample) { r.mergeFinding(f) }

// complete reports whether shard k has every window up to its final one.
func (sh *shard) complete() bool {
	if sh.finalSeq < 0 {
		return false
	}
	var n int64
	for id := range sh.seen {
		if id.epoch == sh.epoch && id.seq >= sh.firstSeq && id.seq <= sh.finalSeq {
			n++
		}
	}
	return n == sh.finalSeq-sh.firstSeq+1
}

// Reassign records that shard k was taken over: from now on it is complete
// when epoch's windows firstSeq up to epoch's final one are in. Windows of
// earlier epochs that arrive still count, once each; their final window no
// longer ends the shard. The timeline stops waiting for shard k's windows
// before firstSeq (the replaced agent may never send them).
func (r *Run) Reassign(k int32, epoch, firstSeq int64) {
	if k < 0 || int(k) >= len(r.shards) {
		return
	}
	sh := r.shards[k]
	sh.epoch, sh.firstSeq, sh.taken = epoch, firstSeq, true
	sh.finalSeq, sh.stopReason = -1, ""
	r.settle(false)
}

// Done reports whether every shard's results are complete.
func (r *Run) Done() bool {
	for _, sh := range r.shards {
		if !sh.complete() {
			return false
		}
	}
	return true
}

// ShardsDone counts shards whose results are complete.
func (r *Run) ShardsDone() int {
	n := 0
	for _, sh := range r.shards {
		if sh.complete() {
			n++
		}
	}
	return n
}

// MissingShards lists shards whose results are not complete.
func (r *Run) MissingShards() []int32 {
	var out []int32
	for k, sh := range r.shards {
		if !sh.complete() {
			out = append(out, int32(k))
		}
	}
	return out
}

// settle moves pending windows that every shard has reported (or that no
// shard can report any more) to the timeline. With force, all of them.
func (r *Run) settle(force bool) {
	var ready []int64
	for seq, p := range r.pending {
		if force || r.allReported(seq, p) {
			ready = append(ready, seq)
		}
	}
	if len(ready) == 0 {
		return
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i] < ready[j] })
	for _, seq := range ready {
		r.timeline = append(r.timeline, r.toPoint(r.pending[seq]))
		r.settled[seq] = true
		delete(r.pending, seq)
	}
	sort.Slice(r.timeline, func(i, j int) bool { return r.timeline[i].GetSeq() < r.timeline[j].GetSeq() })
}

func (r *Run) allReported(seq int64, p *point) bool {
	for k, sh := range r.shards {
		if p.shards[int32(k)] {
			continue
		}
		if sh.finalSeq >= 0 && sh.finalSeq < seq {
			continue
		}
		if sh.taken && seq < sh.firstSeq {
			continue // the replaced agent's: it may never come
		}
		return false
	}
	return true
}

// foldLate adds a late window's counts to the settled point of its seq.
func (r *Run) foldLate(p *point) {
	for i, tp := range r.timeline {
		if tp.GetSeq() != p.seq {
			continue
		}
		c := proto.Clone(tp).(*pb.TimelinePoint)
		c.Requests += p.requests
		c.Errors += p.errors
		c.Dropped += p.dropped
		r.timeline[i] = c
		return
	}
}

func (r *Run) toPoint(p *point) *pb.TimelinePoint {
	tp := &pb.TimelinePoint{
		Seq:      p.seq,
		Start:    timestamppb.New(p.start),
		Length:   durationpb.New(p.end.Sub(p.start)),
		Requests: p.requests,
		Errors:   p.errors,
		Dropped:  p.dropped,
		P50:      durationpb.New(p.hist.Quantile(0.50)),
		P90:      durationpb.New(p.hist.Quantile(0.90)),
		P99:      durationpb.New(p.hist.Quantile(0.99)),
		Max:      durationpb.New(p.hist.Max()),
		Shards:   int32(len(p.shards)),
	}
	if r.sched != nil {
		mid := time.Duration(p.seq)*r.window + r.window/2
		tp.AskedRps = r.sched.RateAt(mid)
	}
	return tp
}

// Totals are the run's counters so far.
type Totals struct {
	Requests, Errors, Dropped int64
}

// Totals returns the run's counters so far.
func (r *Run) Totals() Totals {
	return Totals{Requests: r.requests, Errors: r.errors, Dropped: r.dropped}
}

// Latest returns the newest settled timeline point at least half a window
// long (a shard's short final window says little about the current rate),
// or nil.
func (r *Run) Latest() *pb.TimelinePoint {
	for i := len(r.timeline) - 1; i >= 0; i-- {
		if p := r.timeline[i]; p.GetLength().AsDuration() >= r.window/2 {
			return p
		}
	}
	return nil
}

// Result is the merged results so far.
type Result struct {
	Endpoints []*pb.EndpointWindow
	Timeline  []*pb.TimelinePoint
	Shards    []*pb.ShardSummary
	// Findings, most severe first, then most frequent.
	Findings []*pb.FindingSample
}

// Finish settles every pending window; call it when the run has ended.
func (r *Run) Finish() { r.settle(true) }

// Result encodes the merged results. Pending (unsettled) windows are
// included in the endpoints and totals but not yet in the timeline.
func (r *Run) Result() (*Result, error) {
	res := &Result{Timeline: append([]*pb.TimelinePoint(nil), r.timeline...)}
	for i, ep := range r.endpoints {
		ew := &pb.EndpointWindow{
			Endpoint:  int32(i),
			Requests:  ep.requests,
			Dropped:   ep.dropped,
			BytesIn:   ep.bytesIn,
			BytesOut:  ep.bytesOut,
			Valid:     ep.valid,
			Valid_2Xx: ep.valid2xx,
			Mutated:   ep.mutated,
			Status:    map[int32]int64{},
			Errors:    map[string]int64{},
		}
		for k, v := range ep.status {
			ew.Status[k] = v
		}
		for k, v := range ep.errors {
			ew.Errors[k] = v
		}
		for c := 1; c < numClasses; c++ {
			if ep.lat[c] == nil {
				continue
			}
			lb, err := ep.lat[c].Encode()
			if err != nil {
				return nil, fmt.Errorf("encode endpoint %d latency: %w", i, err)
			}
			sb, err := ep.svc[c].Encode()
			if err != nil {
				return nil, fmt.Errorf("encode endpoint %d service time: %w", i, err)
			}
			ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: pb.OutcomeClass(c), Latency: lb, ServiceTime: sb})
		}
		res.Endpoints = append(res.Endpoints, ew)
	}
	for _, f := range r.findings {
		// A copy: later windows update the merged sample's count while
		// the caller encodes this one.
		res.Findings = append(res.Findings, proto.Clone(f).(*pb.FindingSample))
	}
	sort.Slice(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if sa, sb := severityRank(a.GetSeverity()), severityRank(b.GetSeverity()); sa != sb {
			return sa < sb
		}
		if a.GetCount() != b.GetCount() {
			return a.GetCount() > b.GetCount()
		}
		return a.GetFingerprint() < b.GetFingerprint()
	})
	for k, sh := range r.shards {
		res.Shards = append(res.Shards, &pb.ShardSummary{
			Shard:       int32(k),
			Epoch:       sh.epoch,
			Windows:     sh.windows,
			Requests:    sh.requests,
			Done:        sh.complete(),
			ClockOffset: durationpb.New(sh.clockOffset),
			StopReason:  sh.stopReason,
		})
	}
	return res, nil
}

// Seen reports whether a window with w's identity was merged.
func (r *Run) Seen(w *pb.ResultWindow) bool {
	k := w.GetShard()
	if k < 0 || int(k) >= len(r.shards) {
		return false
	}
	return r.shards[k].seen[windowID{w.GetEpoch(), w.GetSeq()}]
}

// Check reports what Ingest would reject w for, without merging it.
func (r *Run) Check(w *pb.ResultWindow) error {
	_, err := r.check(w)
	return err
}

func severityRank(s string) int {
	switch s {
	case "critical":
		return 0
	case "high":
		return 1
	case "medium":
		return 2
	case "low":
		return 3
	}
	return 4
}

// ShardDone reports whether shard k's results are complete.
func (r *Run) ShardDone(k int32) bool {
	return k >= 0 && int(k) < len(r.shards) && r.shards[k].complete()
}
