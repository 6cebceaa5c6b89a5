package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/apireq"
	"github.com/barrage-dev/barrage/internal/hitter"
	"github.com/barrage-dev/barrage/internal/pacer"
	"github.com/barrage-dev/barrage/internal/recorder"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Config is one shard's work.
type Config struct {
	// Assignment is the shard, as received from the coordinator.
	Assignment *pb.Assignment
	// Start is when load starts, on this machine's clock.
	Start time.Time
	// ClockOffset is the coordinator's clock minus this machine's; window
	// times are reported on the coordinator's clock.
	ClockOffset time.Duration
	// Dial connects to the target (the agent's allowlist dialer); nil means
	// a plain dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolve finds the target host's address for the event loops (the
	// agent's allowlist); nil means the system resolver, unchecked.
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// NoEventLoop forces the goroutine-per-connection path even where the
	// event loop could run (tests compare the two).
	NoEventLoop bool
	// UserAgent is sent when the plan sets none.
	UserAgent string
	// Emit receives each window, in order. It must not block for long.
	Emit func(*pb.ResultWindow)
	// Logger; nil discards.
	Logger *slog.Logger
}

// Run runs the shard and returns after its final window was emitted. A
// cancelled ctx stops the shard early (the cause, from context.Cause, is
// reported as the window's stop reason); Run still emits the final window
// and returns nil. Run returns an error only if the plan cannot be run, after
// emitting a final, empty window that says why.
func Run(ctx context.Context, cfg Config) error {
	a := cfg.Assignment
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("run", a.GetRunId(), "shard", a.GetShard())
	plan := a.GetPlan()
	window := plan.GetWindow().AsDuration()
	if window <= 0 {
		window = time.Second
	}
	e := &eng{cfg: cfg, a: a, log: log, window: window}
	nOps := len(plan.GetOpenapi().GetOperations())
	e.rec = recorder.New(len(plan.GetRequests())+nOps, runtime.GOMAXPROCS(0))

	f, err := hitter.Compile(plan, hitter.Options{Dial: cfg.Dial, UserAgent: cfg.UserAgent})
	if err == nil && len(plan.GetRequests())+nOps == 0 {
		err = errors.New("plan has no requests")
	}
	e.f = f
	if err == nil && nOps > 0 {
		e.api, err = apireq.Compile(ctx, plan, apireq.Options{UserAgent: cfg.UserAgent, Shard: int(a.GetShard()), Shards: int(max(a.GetShardCount(), 1))})
		if err == nil {
			for _, w := range e.api.Warnings {
				log.Warn("API description", "warning", w)
			}
			e.findings = newFindings(e)
			if !e.useLoops() {
				err = errors.New("operations from an API description need a plain http:// HTTP/1.1 target on Linux for now")
			}
		}
	}
	switch {
	case err != nil:
	case a.GetFirstSeq() < 0:
		err = fmt.Errorf("first window %d is negative", a.GetFirstSeq())
	case a.GetFirstSeq() > 0 && plan.GetLoad().GetModel() == pb.LoadModel_LOAD_MODEL_CLOSED:
		err = errors.New("a closed-model shard cannot be taken over part way")
	}
	if err != nil {
		err = fmt.Errorf("compile plan: %w", err)
		e.emitFinal(max(a.GetFirstSeq(), 0), e.windowStart(a.GetFirstSeq()), err.Error())
		return err
	}
	e.f = f
	weights := make([]uint32, 0, len(plan.GetRequests())+nOps)
	for _, r := range plan.GetRequests() {
		weights = append(weights, r.GetWeight())
	}
	for _, o := range plan.GetOpenapi().GetOperations() {
		weights = append(weights, o.GetWeight())
	}
	e.pick = newPicker(weights)
	if e.useLoops() {
		addr, err := e.resolve(ctx)
		if err != nil {
			e.emitFinal(a.GetFirstSeq(), e.windowStart(a.GetFirstSeq()), err.Error())
			return err
		}
		// The loops open their first connections now and wait for the
		// start themselves.
		loadDone := make(chan struct{})
		var loopErr error
		go func() {
			defer close(loadDone)
			loopErr = e.runLoops(ctx, addr)
		}()
		e.windows(ctx, loadDone, func() string {
			if loopErr != nil {
				return "event loop failed: " + loopErr.Error()
			}
			return ""
		})
		return loopErr
	}
	closed := plan.GetLoad().GetModel() == pb.LoadModel_LOAD_MODEL_CLOSED
	var sh *pacer.Shard
	var p *pool
	if !closed {
		// Open the first connections while waiting for the start.
		if sh, p, err = e.prepareOpen(ctx); err != nil {
			e.emitFinal(a.GetFirstSeq(), e.windowStart(a.GetFirstSeq()), err.Error())
			return err
		}
	}

	// Wait for the common start.
	if d := time.Until(cfg.Start); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			if p != nil {
				close(p.slots)
				p.wg.Wait()
			}
			e.deadMan = errors.Is(context.Cause(ctx), ErrDeadMan)
			e.emitFinal(a.GetFirstSeq(), e.windowStart(a.GetFirstSeq()), stopReason(ctx))
			return nil
		}
	}

	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		if closed {
			e.runClosed(ctx)
		} else {
			e.runOpen(ctx, sh, p)
		}
	}()
	e.windows(ctx, loadDone, nil)
	return nil
}

type eng struct {
	deadMan  bool // the shard was stopped by its agent's dead-man switch
	cfg      Config
	a        *pb.Assignment
	log      *slog.Logger
	window   time.Duration
	rec      *recorder.Set
	f        *hitter.Factory
	pick     *picker
	api      *apireq.Compiled // nil without an API description
	findings *findings        // nil without an API description
}

// ErrDeadMan is the cause an agent cancels a shard's context with when its
// dead-man switch stops the shard; the final window then says so
// (ResultWindow.dead_man).
var ErrDeadMan = errors.New("dead-man switch")

func stopReason(ctx context.Context) string {
	if ctx.Err() == nil {
		return ""
	}
	if c := context.Cause(ctx); c != nil && !errors.Is(c, context.Canceled) {
		return c.Error()
	}
	return "stopped"
}

// windows emits a window at every boundary until the load is done, then the
// final one (with failed's reason, if it gives one, or the stop reason).
func (e *eng) windows(ctx context.Context, loadDone <-chan struct{}, failed func() string) {
	seq := e.a.GetFirstSeq()
	start := e.windowStart(seq)
	t := time.NewTimer(time.Until(start.Add(e.window)))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			end := start.Add(e.window)
			e.emit(seq, start, end, false, "")
			seq++
			start = end
			t.Reset(time.Until(start.Add(e.window)))
		case <-loadDone:
			reason := stopReason(ctx)
			if failed != nil {
				if r := failed(); r != "" {
					reason = r
				}
			}
			e.deadMan = errors.Is(context.Cause(ctx), ErrDeadMan)
			e.emit(seq, start, time.Now(), true, reason)
			return
		}
	}
}

// resumeAt is the offset from the run's start from which this assignment
// runs the shard: 0, or the start of its first window when it took over a
// lost agent's shard.
func (e *eng) resumeAt() time.Duration {
	return time.Duration(e.a.GetFirstSeq()) * e.window
}

// windowStart is when window seq starts.
func (e *eng) windowStart(seq int64) time.Time {
	return e.cfg.Start.Add(time.Duration(seq) * e.window)
}

func (e *eng) emit(seq int64, start, end time.Time, final bool, reason string) {
	eps, stats, err := e.rec.FlushStats()
	var found []*pb.FindingSample
	if e.findings != nil {
		e.findings.window(stats, start, end)
		found = e.findings.flush()
	}
	if err != nil {
		// Encoding a histogram we built cannot fail short of a bug; keep
		// the counters' identity by failing loudly in the stop reason.
		e.log.Error("flush window", "err", err)
		reason = "internal error: " + err.Error()
		final = true
	}
	w := &pb.ResultWindow{
		RunId:       e.a.GetRunId(),
		Shard:       e.a.GetShard(),
		Epoch:       e.a.GetEpoch(),
		Seq:         seq,
		Start:       timestamppb.New(start.Add(e.cfg.ClockOffset)),
		End:         timestamppb.New(end.Add(e.cfg.ClockOffset)),
		Final:       final,
		Endpoints:   eps,
		ClockOffset: durationpb.New(e.cfg.ClockOffset),
		StopReason:  reason,
		Findings:    found,
		DeadMan:     final && e.deadMan,
	}
	e.cfg.Emit(w)
}

func (e *eng) emitFinal(seq int64, at time.Time, reason string) {
	if e.rec == nil {
		e.rec = recorder.New(0, 1)
	}
	e.emit(seq, at, at, true, reason)
}

// workerSeed derives a worker's random seed from the shard seed.
func workerSeed(shardSeed uint64, worker int) uint64 {
	z := shardSeed + uint64(worker+1)*0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// ---- open model ----

type slot struct {
	g        int64
	ep       int
	intended time.Time
}

func (e *eng) schedule() (*pacer.Schedule, error) {
	var stages []pacer.Stage
	for _, s := range e.a.GetPlan().GetLoad().GetStages() {
		stages = append(stages, pacer.Stage{Duration: s.GetDuration().AsDuration(), From: s.GetFromRate(), To: s.GetToRate()})
	}
	return pacer.NewSchedule(stages)
}

// MaxDialing bounds how many new connections a shard opens at once. An
// arrival that finds every connection busy starts a new one (under the
// in-flight cap); when MaxDialing dials are already under way it is dropped
// instead, so a burst cannot snowball into thousands of connections while
// the agent's own CPU is the bottleneck.
const MaxDialing = 64

// initialPool is how many connections a shard opens before its start: the
// peak arrival rate times 5 ms (enough for targets answering within a few
// milliseconds without growing), at least 4.
func initialPool(peakShardRate float64, limit int64) int64 {
	return min(limit, max(4, int64(math.Ceil(peakShardRate*0.005))))
}

// pool is the open model's set of workers, one connection each.
type pool struct {
	e       *eng
	ctx     context.Context
	slots   chan slot
	wg      sync.WaitGroup
	workers int64 // only the pacer goroutine (and prewarm, before it) touch it
	limit   int64
	dialing atomic.Int64
}

func (p *pool) spawn(first *slot) {
	w := int(p.workers)
	p.workers++
	p.dialing.Add(1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		h := p.e.f.New(workerSeed(p.e.a.GetSeed(), w))
		defer h.Close()
		wctx, cancel := context.WithTimeout(p.ctx, p.e.timeout())
		h.Warm(wctx)
		cancel()
		p.dialing.Add(-1)
		g := w % p.e.rec.Groups()
		if first != nil {
			p.e.hit(h, g, *first)
		}
		for s := range p.slots {
			p.e.hit(h, g, s)
		}
	}()
}

func (e *eng) timeout() time.Duration {
	if t := e.a.GetPlan().GetTarget().GetTimeout().AsDuration(); t > 0 {
		return t
	}
	return hitter.DefaultTimeout
}

// prepareOpen builds the open model's schedule and pool and opens the first
// connections; it runs before the common start.
func (e *eng) prepareOpen(ctx context.Context) (*pacer.Shard, *pool, error) {
	sched, err := e.schedule()
	if err != nil {
		return nil, nil, fmt.Errorf("bad load schedule: %w", err)
	}
	n := int(max(e.a.GetShardCount(), 1))
	sh, err := sched.Shard(int(e.a.GetShard()), n)
	if err != nil {
		return nil, nil, fmt.Errorf("bad shard: %w", err)
	}
	sh = sh.From(e.resumeAt())
	limit := max(e.a.GetMaxInflight(), 1)
	if fds := fdLimit(); fds > 0 && limit > fds {
		e.log.Warn("in-flight cap lowered to fit the open-file limit", "asked", limit, "cap", fds)
		limit = fds
	}
	peak := 0.0
	for _, st := range e.a.GetPlan().GetLoad().GetStages() {
		peak = math.Max(peak, math.Max(st.GetFromRate(), st.GetToRate()))
	}
	p := &pool{e: e, ctx: ctx, slots: make(chan slot), limit: limit}
	for range initialPool(peak/float64(n), limit) {
		p.spawn(nil)
	}
	return &sh, p, nil
}

func (e *eng) runOpen(ctx context.Context, sh *pacer.Shard, p *pool) {
	groups := e.rec.Groups()
	err := pacer.Run(ctx, *sh, e.cfg.Start, func(_, g int64, intended time.Time) {
		s := slot{g: g, ep: e.pick.at(g / int64(max(e.a.GetShardCount(), 1))), intended: intended}
		select {
		case p.slots <- s:
			return
		default:
		}
		if p.workers >= p.limit || p.dialing.Load() >= MaxDialing {
			e.rec.Dropped(int(g)%groups, s.ep, 1)
			return
		}
		p.spawn(&s)
	})
	if err != nil && ctx.Err() == nil {
		e.log.Error("pacer stopped", "err", err)
	}
	// The last arrival is due before the schedule's end; the shard's load
	// period is the whole schedule, so its windows cover it.
	if end := e.cfg.Start.Add(sh.Total()); ctx.Err() == nil && time.Until(end) > 0 {
		t := time.NewTimer(time.Until(end))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	close(p.slots)
	p.wg.Wait()
}

func (e *eng) hit(h hitter.Hitter, g int, s slot) {
	t0 := time.Now()
	res := h.Hit(s.ep, uint64(s.g))
	t1 := time.Now()
	lat := t1.Sub(s.intended)
	if lat < 0 {
		lat = 0
	}
	e.rec.Record(g, s.ep, res.Status, res.ErrKind, lat, t1.Sub(t0), res.BytesIn, res.BytesOut)
}

// ---- closed model ----

type closedStage struct {
	target  int // workers that should run; -1 once the load is over
	changed chan struct{}
}

func (e *eng) runClosed(ctx context.Context) {
	k, n := int(e.a.GetShard()), int(max(e.a.GetShardCount(), 1))
	var cur atomic.Pointer[closedStage]
	var counter atomic.Int64
	var wg sync.WaitGroup
	spawned := 0
	set := func(target int) {
		st := &closedStage{target: target, changed: make(chan struct{})}
		if old := cur.Swap(st); old != nil {
			close(old.changed)
		}
		for ; spawned < target; spawned++ {
			w := spawned
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.closedWorker(w, &cur, &counter, k, n)
			}()
		}
	}
	at := e.cfg.Start
	t := time.NewTimer(0)
	<-t.C
	for _, s := range e.a.GetPlan().GetLoad().GetStages() {
		set(int(pacer.Split(s.GetConcurrency(), k, n)))
		at = at.Add(s.GetDuration().AsDuration())
		t.Reset(time.Until(at))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		if ctx.Err() != nil {
			break
		}
	}
	set(-1)
	wg.Wait()
}

func (e *eng) closedWorker(w int, cur *atomic.Pointer[closedStage], counter *atomic.Int64, k, n int) {
	h := e.f.New(workerSeed(e.a.GetSeed(), w))
	defer h.Close()
	g := w % e.rec.Groups()
	for {
		st := cur.Load()
		if st.target < 0 {
			return
		}
		if w >= st.target {
			<-st.changed
			continue
		}
		i := counter.Add(1) - 1
		gl := i*int64(n) + int64(k)
		now := time.Now()
		e.hit(h, g, slot{g: gl, ep: e.pick.at(i), intended: now})
	}
}

// ---- endpoint choice ----

// picker maps an arrival number to a request template so that the weights
// hold exactly over every cycle of sum(weights) arrivals, spread evenly
// (smooth weighted round robin); for very large weight sums it falls back
// to a hashed choice that holds them on average. It is given the arrival's
// number local to its shard (and loop), not the global one: with N shards,
// global numbers g ≡ k (mod N) would show shard k only some templates
// whenever N and the weight sum share a factor — a shard that never
// creates resources could then never reach the operations that use them.
type picker struct {
	table []int   // one cycle, when small enough
	cum   []int64 // cumulative weights, otherwise
	sum   int64
}

const maxTable = 1 << 16

func newPicker(weights []uint32) *picker {
	p := &picker{}
	for _, w := range weights {
		p.sum += int64(max(w, 1))
		p.cum = append(p.cum, p.sum)
	}
	if p.sum <= maxTable {
		cur := make([]int64, len(weights))
		for range p.sum {
			best := 0
			for i, w := range weights {
				cur[i] += int64(max(w, 1))
				if cur[i] > cur[best] {
					best = i
				}
			}
			cur[best] -= p.sum
			p.table = append(p.table, best)
		}
	}
	return p
}

func (p *picker) at(g int64) int {
	if p.table != nil {
		return p.table[g%int64(len(p.table))]
	}
	x := uint64(g) * 0x9E3779B97F4A7C15
	x ^= x >> 29
	v := int64(x % uint64(p.sum))
	lo, hi := 0, len(p.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if p.cum[m] > v {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// fdLimit is how many connections this process may open for load: the
// open-file limit less a reserve for everything else; 0 when unknown.
func fdLimit() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 || rl.Cur > 1<<40 {
		return 0
	}
	return max(16, int64(rl.Cur)-512)
}

// DefaultMaxInflight is the whole run's in-flight cap when the scenario sets
// none: the peak arrival rate times one second, between 64 and 20,000.
func DefaultMaxInflight(load *pb.Load) int64 {
	peak := 0.0
	for _, s := range load.GetStages() {
		peak = math.Max(peak, math.Max(s.GetFromRate(), s.GetToRate()))
	}
	return int64(math.Min(20000, math.Max(64, math.Ceil(peak))))
}
