package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/cluster"
	"github.com/barrage-dev/barrage/internal/hitter"
	"github.com/barrage-dev/barrage/internal/results"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// run is a run this coordinator knows about.
type run struct {
	mu       sync.Mutex
	spec     *pb.RunSpec
	state    *pb.RunStateRecord
	shards   []*pb.ShardRecord
	events   []*pb.RunEvent
	agg      *results.Run
	changed  chan struct{} // closed and replaced on every change
	ended    bool
	cancelAt time.Time // zero unless cancelled
	alive    map[int32]bool
	lostAt   map[int32]time.Time     // shards without a connected agent, since when
	lostWait map[int32]time.Duration // how long to wait before a takeover (the agent's dead-man + margin)
	stopped  map[int32]bool          // shards stopped by their agent's dead-man switch, not taken over yet
}

func newRun(spec *pb.RunSpec, st *pb.RunStateRecord, shards []*pb.ShardRecord, events []*pb.RunEvent) *run {
	sort.Slice(shards, func(i, j int) bool { return shards[i].GetShard() < shards[j].GetShard() })
	r := &run{
		spec:     spec,
		state:    st,
		shards:   shards,
		events:   events,
		agg:      results.New(spec.GetPlan(), int(spec.GetShardCount()), spec.GetStartAt().AsTime()),
		changed:  make(chan struct{}),
		ended:    isFinal(st.GetState()),
		alive:    map[int32]bool{},
		lostAt:   map[int32]time.Time{},
		lostWait: map[int32]time.Duration{},
		stopped:  map[int32]bool{},
	}
	for _, sh := range shards {
		if sh.GetEpoch() > 1 {
			// Taken over: complete on this epoch's windows from first_seq.
			r.agg.Reassign(sh.GetShard(), sh.GetEpoch(), sh.GetFirstSeq())
		}
	}
	return r
}

func isFinal(s pb.RunState) bool {
	return s == pb.RunState_RUN_STATE_COMPLETED || s == pb.RunState_RUN_STATE_FAILED || s == pb.RunState_RUN_STATE_CANCELLED
}

// notify wakes watchers. Called with r.mu held.
func (r *run) notify() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// deadline is when a run that has not completed fails. Called with r.mu held.
func (r *run) deadline() time.Time {
	timeout := r.spec.GetPlan().GetTarget().GetTimeout().AsDuration()
	if timeout <= 0 {
		timeout = hitter.DefaultTimeout
	}
	end := r.spec.GetStartAt().AsTime().Add(r.spec.GetPlanned().AsDuration())
	if !r.cancelAt.IsZero() && r.cancelAt.Before(end) {
		end = r.cancelAt
	}
	return end.Add(timeout)
}

// event records an event in memory and etcd. Called with r.mu held.
func (s *server) event(ctx context.Context, r *run, kind, format string, args ...any) {
	ev := &pb.RunEvent{At: timestamppb.Now(), Kind: kind, Message: fmt.Sprintf(format, args...)}
	r.events = append(r.events, ev)
	if l, err := s.currentLeader(); err == nil {
		if err := s.store.AddEvent(ctx, l, r.spec.GetRunId(), ev); err != nil {
			s.log.Warn("store run event", "run", r.spec.GetRunId(), "err", err)
		}
	}
	s.log.Info("run event", "run", r.spec.GetRunId(), "kind", kind, "msg", ev.Message)
	r.notify()
}

// ingest stores and merges one window. It returns whether to acknowledge it
// and an error only when storage failed (the agent must resend).
func (s *server) ingest(ctx context.Context, ac *agentConn, w *pb.ResultWindow) (bool, error) {
	l, err := s.currentLeader()
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	r := s.runs[w.GetRunId()]
	s.mu.Unlock()
	log := s.log.With("run", w.GetRunId(), "shard", w.GetShard(), "seq", w.GetSeq())
	if r == nil {
		// Not a run this leader is running: stored ones that ended are
		// loaded on demand and take no more windows.
		log.Warn("window for a run that is not running; discarding", "agent", ac.snapshot().GetName())
		ac.send(stopMsg(w.GetRunId(), w.GetShard(), "run is not running on this coordinator"))
		return true, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		if !r.agg.Seen(w) {
			s.event(ctx, r, "late-window", "shard %d window %d arrived after the run ended; not counted", w.GetShard(), w.GetSeq())
		}
		return true, nil
	}
	if r.agg.Seen(w) {
		return true, nil
	}
	// Windows of an earlier epoch come from an agent whose shard was taken
	// over: they are requests it really sent, and count (once, by
	// identity). A newer epoch than the shard's is no assignment of ours.
	if k := w.GetShard(); k >= 0 && int(k) < len(r.shards) && w.GetEpoch() > r.shards[k].GetEpoch() {
		s.event(ctx, r, "window-rejected", "shard %d window %d has epoch %d, the shard is at epoch %d", k, w.GetSeq(), w.GetEpoch(), r.shards[k].GetEpoch())
		return true, nil
	}
	if err := r.agg.Check(w); err != nil {
		// A malformed window is a bug in the sender; it is not counted, the
		// run will miss it and say so, and the agent may forget it.
		s.event(ctx, r, "window-rejected", "from agent %s: %v", ac.snapshot().GetName(), err)
		return true, nil
	}
	if _, err := s.store.PutWindow(ctx, l, w); err != nil {
		return false, err
	}
	if _, err := r.agg.Ingest(w); err != nil {
		// Check passed, so this cannot happen; report it loudly.
		s.event(ctx, r, "window-rejected", "after storing: %v", err)
	}
	if k := w.GetShard(); w.GetFinal() && w.GetDeadMan() && w.GetEpoch() == r.shards[k].GetEpoch() && r.cancelAt.IsZero() {
		// Its agent's dead-man switch stopped the shard (the agent has
		// stopped, and is back): the rest of the shard can be given out
		// at once, to that agent too.
		r.alive[k] = false
		r.lostAt[k] = time.Now().Add(-s.cfg.Takeover)
		r.lostWait[k] = 0
		r.stopped[k] = true
	}
	r.notify()
	return true, nil
}

func stopMsg(runID string, shard int32, reason string) *pb.CoordinatorMessage {
	return &pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Stop{Stop: &pb.StopShard{RunId: runID, Shard: shard, Reason: reason}}}
}

// reattach marks the shards a (re)connecting agent still runs as alive.
func (s *server) reattach(ac *agentConn, active []*pb.ShardRef) {
	for _, ref := range active {
		s.mu.Lock()
		r := s.runs[ref.GetRunId()]
		s.mu.Unlock()
		if r == nil {
			ac.send(stopMsg(ref.GetRunId(), ref.GetShard(), "run is not running on this coordinator"))
			continue
		}
		r.mu.Lock()
		k := ref.GetShard()
		switch {
		case r.ended:
			ac.send(stopMsg(ref.GetRunId(), k, "run has ended"))
		case k >= 0 && int(k) < len(r.shards) && r.shards[k].GetAgentId() == ac.id && ref.GetEpoch() < r.shards[k].GetEpoch():
			// The shard was given to this agent under a newer epoch and
			// the assignment was lost with a connection: send it again.
			rec := r.shards[k]
			if ac.send(&pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Assignment{Assignment: &pb.Assignment{
				RunId: r.spec.GetRunId(), Shard: k, ShardCount: r.spec.GetShardCount(), Epoch: rec.GetEpoch(), Plan: r.spec.GetPlan(),
				StartAt: r.spec.GetStartAt(), Seed: rec.GetSeed(), MaxInflight: rec.GetMaxInflight(), FirstSeq: rec.GetFirstSeq(),
			}}}) {
				r.alive[k] = true
				delete(r.lostAt, k)
			}
		case k >= 0 && int(k) < len(r.shards) && r.shards[k].GetAgentId() == ac.id:
			if !r.alive[k] {
				r.alive[k] = true
				delete(r.lostAt, k)
				s.event(s.ctx, r, "agent-reconnected", "agent %s is back with shard %d", ac.snapshot().GetName(), k)
			}
		case k >= 0 && int(k) < len(r.shards):
			// Back too late: another agent has the shard now.
			ac.send(stopMsg(ref.GetRunId(), k, fmt.Sprintf("shard %d was taken over by agent %s", k, r.shards[k].GetAgentName())))
		}
		r.mu.Unlock()
	}
}

// agentLost notes that an agent's shards have no connection now.
func (s *server) agentLost(ac *agentConn) {
	s.mu.Lock()
	runs := make([]*run, 0, len(s.runs))
	for _, r := range s.runs {
		runs = append(runs, r)
	}
	s.mu.Unlock()
	for _, r := range runs {
		r.mu.Lock()
		for _, sh := range r.shards {
			k := sh.GetShard()
			if sh.GetAgentId() == ac.id && r.alive[k] && !r.ended {
				r.alive[k] = false
				r.lostAt[k] = time.Now()
				// Not before the lost agent's dead-man switch has
				// stopped its load (plus a margin for its last requests).
				r.lostWait[k] = ac.snapshot().GetDeadMan().AsDuration() + takeoverMargin
				s.event(s.ctx, r, "agent-lost", "agent %s (shard %d) disconnected", ac.snapshot().GetName(), k)
			}
		}
		r.mu.Unlock()
	}
}

// supervise ends a run when it completes or misses its deadline.
func (s *server) supervise(r *run) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		r.mu.Lock()
		ch := r.changed
		done := s.check(r)
		r.mu.Unlock()
		if done {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-ch:
		case <-t.C:
		}
	}
}

// check ends the run if it is over. Called with r.mu held; returns whether
// the run has ended.
func (s *server) check(r *run) bool {
	if r.ended {
		return true
	}
	// First: a shard given out again is not finished.
	s.takeOver(r)
	switch {
	case r.agg.Done():
		st := pb.RunState_RUN_STATE_COMPLETED
		msg := ""
		res, _ := r.agg.Result()
		var early []string
		for _, sh := range res.Shards {
			if sh.GetStopReason() != "" {
				early = append(early, fmt.Sprintf("shard %d: %s", sh.GetShard(), sh.GetStopReason()))
			}
		}
		if !r.cancelAt.IsZero() {
			st, msg = pb.RunState_RUN_STATE_CANCELLED, "cancelled by request"
		} else if len(early) > 0 {
			st, msg = pb.RunState_RUN_STATE_FAILED, "stopped early: "+strings.Join(early, "; ")
		}
		s.end(r, st, msg)
	case time.Now().After(r.deadline().Add(s.cfg.Grace)):
		var parts []string
		for _, k := range r.agg.MissingShards() {
			sh := r.shards[k]
			state := "disconnected"
			if r.alive[k] {
				state = "connected"
			}
			parts = append(parts, fmt.Sprintf("shard %d (agent %s, %s)", k, sh.GetAgentName(), state))
			if ac := s.agent(sh.GetAgentId()); ac != nil {
				ac.send(stopMsg(r.spec.GetRunId(), k, "run failed: deadline passed"))
			}
		}
		s.end(r, pb.RunState_RUN_STATE_FAILED, "no final results from "+strings.Join(parts, ", ")+" by the deadline")
	default:
		return false
	}
	return true
}

// takeOver gives the rest of each shard whose agent has been gone for
// Config.Takeover to another connected agent, under a new epoch, from the
// next window boundary after the start delay: the arrivals intended from
// then on. (Those intended between the loss and then are not sent; what the
// lost agent sent and could not report is not counted unless it comes back
// with it.) Open model only; only while load is left. Called with r.mu held.
func (s *server) takeOver(r *run) {
	if s.cfg.Takeover < 0 || r.ended || !r.cancelAt.IsZero() || len(r.lostAt) == 0 {
		return
	}
	plan := r.spec.GetPlan()
	if plan.GetLoad().GetModel() == pb.LoadModel_LOAD_MODEL_CLOSED {
		return
	}
	window := plan.GetWindow().AsDuration()
	if window <= 0 {
		window = time.Second
	}
	for k, since := range r.lostAt {
		now := time.Now()
		if now.Sub(since) < max(s.cfg.Takeover, r.lostWait[k]) || r.alive[k] || (r.agg.ShardDone(k) && !r.stopped[k]) {
			continue
		}
		old := r.shards[k]
		if ac := s.agent(old.GetAgentId()); ac != nil && !r.stopped[k] && runsShard(ac.snapshot(), r.spec.GetRunId(), k, old.GetEpoch()) {
			// Connected and running it after all (a reconnect raced the
			// loss): not lost.
			r.alive[k] = true
			delete(r.lostAt, k)
			continue
		}
		from := now.Add(s.cfg.StartDelay).Sub(r.spec.GetStartAt().AsTime())
		first := int64((from + window - 1) / window)
		if time.Duration(first)*window >= r.spec.GetPlanned().AsDuration() {
			continue // no load left to give; the deadline decides
		}
		not := old.GetAgentId()
		if r.stopped[k] {
			not = "" // it stopped itself and is back: it may run the rest
		}
		ac := s.pickAgent(not)
		if ac == nil {
			continue // nobody to give it to yet
		}
		l, err := s.currentLeader()
		if err != nil {
			return
		}
		rec := proto.Clone(old).(*pb.ShardRecord)
		rec.AgentId, rec.AgentName, rec.Epoch, rec.FirstSeq = ac.id, ac.snapshot().GetName(), old.GetEpoch()+1, first
		if err := s.store.PutShard(s.ctx, l, r.spec.GetRunId(), rec); err != nil {
			s.log.Warn("store shard takeover", "run", r.spec.GetRunId(), "shard", k, "err", err)
			return
		}
		r.shards[k] = rec
		r.agg.Reassign(k, rec.GetEpoch(), first)
		s.event(s.ctx, r, "shard-taken-over", "agent %s (shard %d) gone for %v: agent %s runs the rest of the shard from %v (epoch %d); its arrivals due from %v to %v are not sent",
			old.GetAgentName(), k, now.Sub(since).Round(time.Second), rec.GetAgentName(), time.Duration(first)*window, rec.GetEpoch(),
			max(0, since.Sub(r.spec.GetStartAt().AsTime())).Round(time.Second), time.Duration(first)*window)
		ok := ac.send(&pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Assignment{Assignment: &pb.Assignment{
			RunId: r.spec.GetRunId(), Shard: k, ShardCount: r.spec.GetShardCount(), Epoch: rec.GetEpoch(), Plan: plan,
			StartAt: r.spec.GetStartAt(), Seed: rec.GetSeed(), MaxInflight: rec.GetMaxInflight(), FirstSeq: first,
		}}})
		r.alive[k] = ok
		delete(r.stopped, k)
		if ok {
			delete(r.lostAt, k)
		} else {
			r.lostAt[k] = now
		}
		if prev := s.agent(old.GetAgentId()); prev != nil && prev != ac {
			prev.send(stopMsg(r.spec.GetRunId(), k, fmt.Sprintf("shard %d was taken over by agent %s", k, rec.GetAgentName())))
		}
	}
}

// runsShard reports whether an agent's last heartbeat lists shard k of run
// at epoch.
func runsShard(info *pb.AgentInfo, run string, k int32, epoch int64) bool {
	for _, ref := range info.GetShards() {
		if ref.GetRunId() == run && ref.GetShard() == k && ref.GetEpoch() == epoch {
			return true
		}
	}
	return false
}

// takeoverMargin is added to a lost agent's dead-man timeout before its
// shard is taken over: its requests in flight when the switch fired end
// within the request timeout, usually much sooner.
const takeoverMargin = 2 * time.Second

// pickAgent chooses a connected agent for a taken-over shard: not the one
// that lost it, the one running fewest shards (then by name).
func (s *server) pickAgent(not string) *agentConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *agentConn
	var bestN int
	var bestName string
	for id, ac := range s.agents {
		if id == not {
			continue
		}
		select {
		case <-ac.gone:
			continue // closing
		default:
		}
		info := ac.snapshot()
		n := len(info.GetShards())
		if best == nil || n < bestN || (n == bestN && info.GetName() < bestName) {
			best, bestN, bestName = ac, n, info.GetName()
		}
	}
	return best
}

// end moves a run to a final state. Called with r.mu held.
func (s *server) end(r *run, st pb.RunState, msg string) {
	r.agg.Finish()
	r.state = &pb.RunStateRecord{State: st, EndedAt: timestamppb.Now(), Message: msg}
	r.ended = true
	if l, err := s.currentLeader(); err == nil {
		if err := s.store.SetState(s.ctx, l, r.spec.GetRunId(), r.state); err != nil {
			s.log.Error("store final run state", "run", r.spec.GetRunId(), "err", err)
		}
	}
	t := r.agg.Totals()
	s.log.Info("run ended", "run", r.spec.GetRunId(), "state", st.String(), "requests", t.Requests, "errors", t.Errors, "dropped", t.Dropped, "msg", msg)
	r.notify()
}

// loadRuns reads unfinished runs from etcd after winning the election and
// resumes supervising them (their windows are replayed into fresh results).
func (s *server) loadRuns(ctx context.Context) error {
	ids, err := s.store.RunIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		rec, err := s.store.Run(ctx, id)
		if err != nil {
			return err
		}
		if isFinal(rec.State.GetState()) {
			continue
		}
		r, err := s.rebuild(ctx, rec)
		if err != nil {
			return err
		}
		// Every shard waits for its agent to reconnect; one that does not
		// within Config.Takeover is given to another.
		for _, sh := range r.shards {
			r.lostAt[sh.GetShard()] = time.Now()
		}
		s.mu.Lock()
		s.runs[id] = r
		s.mu.Unlock()
		s.log.Info("resumed run", "run", id, "windows", r.agg.Totals().Requests)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.supervise(r)
		}()
	}
	return nil
}

func (s *server) rebuild(ctx context.Context, rec *cluster.RunRecord) (*run, error) {
	r := newRun(rec.Spec, rec.State, rec.Shards, rec.Events)
	err := s.store.Windows(ctx, rec.Spec.GetRunId(), func(w *pb.ResultWindow) error {
		if _, err := r.agg.Ingest(w); err != nil {
			s.log.Warn("stored window rejected on replay", "run", rec.Spec.GetRunId(), "err", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("replay windows of run %s: %w", rec.Spec.GetRunId(), err)
	}
	if r.ended {
		r.agg.Finish()
	}
	return r, nil
}

// getRun returns a run from memory, or loads an ended one from etcd.
func (s *server) getRun(ctx context.Context, id string) (*run, error) {
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r != nil {
		return r, nil
	}
	rec, err := s.store.Run(ctx, id)
	if err != nil {
		return nil, err
	}
	r, err = s.rebuild(ctx, rec)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if existing := s.runs[id]; existing != nil {
		r = existing
	} else {
		s.runs[id] = r
	}
	s.mu.Unlock()
	return r, nil
}

// status builds a run's RunStatus. Called with r.mu held.
func (s *server) status(r *run) *pb.RunStatus {
	t := r.agg.Totals()
	st := &pb.RunStatus{
		RunId:      r.spec.GetRunId(),
		Name:       r.spec.GetPlan().GetName(),
		State:      r.state.GetState(),
		CreatedAt:  r.spec.GetCreatedAt(),
		StartAt:    r.spec.GetStartAt(),
		EndedAt:    r.state.GetEndedAt(),
		Planned:    r.spec.GetPlanned(),
		Requests:   t.Requests,
		Errors:     t.Errors,
		Dropped:    t.Dropped,
		Shards:     r.spec.GetShardCount(),
		ShardsDone: int32(r.agg.ShardsDone()),
		Message:    r.state.GetMessage(),
		Findings:   int64(r.agg.Findings()),
	}
	if !r.cancelAt.IsZero() && !r.ended {
		st.Message = "cancelling"
	}
	for k := range r.shards {
		if r.alive[int32(k)] {
			st.ShardsAlive++
		}
	}
	if p := r.agg.Latest(); p != nil {
		if l := p.GetLength().AsDuration(); l > 0 {
			st.RateRps = float64(p.GetRequests()) / l.Seconds()
		}
		st.AskedRps = p.GetAskedRps()
		st.P50, st.P99 = p.GetP50(), p.GetP99()
	}
	return st
}

func plannedOf(plan *pb.Plan) time.Duration {
	var d time.Duration
	for _, s := range plan.GetLoad().GetStages() {
		d += s.GetDuration().AsDuration()
	}
	return d
}

// keptEndedRuns is how many ended runs stay in memory (the newest by end
// time); older ones are read again from etcd when asked for.
const keptEndedRuns = 32

// evictLoop keeps the in-memory run table bounded until ctx ends.
func (s *server) evictLoop(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.evictEnded(keptEndedRuns)
		}
	}
}

// evictEnded forgets all but the keep most recently ended runs. Runs still
// going are never forgotten. No run's lock is held with the server's.
func (s *server) evictEnded(keep int) {
	s.mu.Lock()
	runs := make(map[string]*run, len(s.runs))
	maps.Copy(runs, s.runs)
	s.mu.Unlock()
	type ended struct {
		id string
		at time.Time
	}
	var done []ended
	for id, r := range runs {
		r.mu.Lock()
		if r.ended {
			done = append(done, ended{id, r.state.GetEndedAt().AsTime()})
		}
		r.mu.Unlock()
	}
	if len(done) <= keep {
		return
	}
	sort.Slice(done, func(i, j int) bool { return done[i].at.After(done[j].at) })
	s.mu.Lock()
	for _, e := range done[keep:] {
		if s.runs[e.id] == runs[e.id] {
			delete(s.runs, e.id)
		}
	}
	s.mu.Unlock()
}
