package coordinator

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/allow"
	"github.com/barrage-dev/barrage/internal/cluster"
	"github.com/barrage-dev/barrage/internal/engine"
	"github.com/barrage-dev/barrage/internal/pacer"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
	"github.com/barrage-dev/barrage/scenarios"
)

// MaxScenarioBytes bounds a submitted scenario file.
const MaxScenarioBytes = 1 << 20

func sortAgents(a []*agentConn) {
	sort.Slice(a, func(i, j int) bool {
		ni, nj := a[i].snapshot().GetName(), a[j].snapshot().GetName()
		if ni != nj {
			return ni < nj
		}
		return a[i].id < a[j].id
	})
}

// shardSeed derives a shard's seed from the run seed (splitmix64 of both).
func shardSeed(runSeed uint64, shard int) uint64 {
	z := runSeed ^ (uint64(shard+1) * 0x9E3779B97F4A7C15)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// SubmitRun validates, stores and starts a run.
func (s *server) SubmitRun(ctx context.Context, req *pb.SubmitRunRequest) (*pb.SubmitRunResponse, error) {
	l, err := s.currentLeader()
	if err != nil {
		return nil, err
	}
	if len(req.GetScenario()) > MaxScenarioBytes {
		return nil, status.Errorf(codes.InvalidArgument, "%s: scenario is %d bytes, the limit is %d", req.GetFileName(), len(req.GetScenario()), MaxScenarioBytes)
	}
	name := req.GetFileName()
	if name == "" {
		name = "scenario.yaml"
	}
	sc, err := scenarios.Parse(name, req.GetScenario(), req.GetEnv())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	files := req.GetFiles()
	api, err := sc.LoadAPI(ctx, func(rel string) ([]byte, error) {
		if b, ok := files[rel]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s was not sent with the scenario", rel)
	})
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err := s.checkTarget(ctx, sc.Target.BaseURL); err != nil {
		return nil, err
	}
	seed := rand.Uint64()
	switch {
	case req.GetHasSeed():
		seed = req.GetSeed()
	case sc.Seed != nil:
		seed = *sc.Seed
	}
	live := s.liveAgents()
	want := int(req.GetAgents())
	if want == 0 {
		want = sc.Agents
	}
	if want == 0 {
		want = len(live)
	}
	switch {
	case len(live) == 0:
		return nil, status.Error(codes.FailedPrecondition, "no agents are connected to the coordinator; start some with `barrage agent --coordinator ADDR`")
	case want > len(live):
		return nil, status.Errorf(codes.FailedPrecondition, "the run asks for %d agents but %d are connected", want, len(live))
	}
	agents := live[:want]

	plan := sc.Plan(seed)
	api.AttachAPI(plan)
	now := time.Now()
	id := newRunID(now)
	planned := plannedOf(plan)
	startAt := now.Add(s.cfg.StartDelay)
	total := plan.GetLoad().GetMaxInflight()
	if total <= 0 {
		total = engine.DefaultMaxInflight(plan.GetLoad())
	}
	spec := &pb.RunSpec{
		RunId: id, FileName: name, Scenario: req.GetScenario(), Plan: plan,
		CreatedAt: timestamppb.New(now), StartAt: timestamppb.New(startAt),
		ShardCount: int32(want), Planned: durationpb.New(planned),
	}
	var shards []*pb.ShardRecord
	var warnings []string
	for k, ac := range agents {
		info := ac.snapshot()
		shards = append(shards, &pb.ShardRecord{
			Shard: int32(k), AgentId: ac.id, AgentName: info.GetName(), Epoch: 1,
			Seed: shardSeed(seed, k), MaxInflight: max(1, pacer.Split(total, k, want)),
		})
		if off := info.GetClockOffset().AsDuration(); off > 50*time.Millisecond || off < -50*time.Millisecond {
			warnings = append(warnings, fmt.Sprintf("agent %s's clock is %s off the coordinator's; its windows are aligned by that estimate", info.GetName(), fmtOffset(off)))
		}
	}
	st := &pb.RunStateRecord{State: pb.RunState_RUN_STATE_RUNNING}
	if err := s.store.CreateRun(ctx, l, spec, st, shards); err != nil {
		if errors.Is(err, cluster.ErrNotLeader) {
			return nil, status.Error(codes.Unavailable, err.Error())
		}
		return nil, status.Errorf(codes.Internal, "store run: %v", err)
	}
	r := newRun(spec, st, shards, nil)
	s.mu.Lock()
	s.runs[id] = r
	s.mu.Unlock()
	r.mu.Lock()
	for _, w := range warnings {
		s.event(ctx, r, "clock-offset", "%s", w)
	}
	for k, ac := range agents {
		sh := shards[k]
		ok := ac.send(&pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Assignment{Assignment: &pb.Assignment{
			RunId: id, Shard: sh.GetShard(), ShardCount: int32(want), Epoch: sh.GetEpoch(), Plan: plan,
			StartAt: spec.GetStartAt(), Seed: sh.GetSeed(), MaxInflight: sh.GetMaxInflight(),
		}}})
		r.alive[sh.GetShard()] = ok
		if !ok {
			r.lostAt[sh.GetShard()] = time.Now()
			s.event(ctx, r, "agent-lost", "agent %s disconnected before it got shard %d", sh.GetAgentName(), k)
		}
	}
	r.mu.Unlock()
	s.log.Info("run submitted", "run", id, "scenario", plan.GetName(), "shards", want, "seed", seed, "starts", startAt.Format(time.RFC3339Nano))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.supervise(r)
	}()
	return &pb.SubmitRunResponse{RunId: id, Shards: int32(want), Warnings: warnings}, nil
}

func (s *server) checkTarget(ctx context.Context, base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "target base_url: %v", err)
	}
	if err := s.allow.CheckHost(ctx, u.Hostname()); err != nil {
		if errors.Is(err, allow.ErrNotAllowed) {
			return status.Error(codes.PermissionDenied, err.Error())
		}
		return status.Errorf(codes.InvalidArgument, "target: %v", err)
	}
	return nil
}

func notFound(id string, err error) error {
	if errors.Is(err, cluster.ErrNotFound) {
		return status.Errorf(codes.NotFound, "no run %q", id)
	}
	return status.Errorf(codes.Unavailable, "read run %s: %v", id, err)
}

// WatchRun streams a run's status until it ends.
func (s *server) WatchRun(req *pb.WatchRunRequest, stream grpc.ServerStreamingServer[pb.RunStatus]) error {
	if _, err := s.currentLeader(); err != nil {
		return err
	}
	ctx := stream.Context()
	r, err := s.getRun(ctx, req.GetRunId())
	if err != nil {
		return notFound(req.GetRunId(), err)
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		r.mu.Lock()
		st := s.status(r)
		ch := r.changed
		ended := r.ended
		r.mu.Unlock()
		if err := stream.Send(st); err != nil {
			return err
		}
		if ended {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return status.Error(codes.Unavailable, "coordinator shutting down")
		case <-ch:
			// Coalesce bursts of windows into at most four updates a second.
			select {
			case <-time.After(250 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		case <-t.C:
		}
	}
}

// GetRunResult returns a run's merged results.
func (s *server) GetRunResult(ctx context.Context, req *pb.GetRunResultRequest) (*pb.RunResult, error) {
	if _, err := s.currentLeader(); err != nil {
		return nil, err
	}
	r, err := s.getRun(ctx, req.GetRunId())
	if err != nil {
		return nil, notFound(req.GetRunId(), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := r.agg.Result()
	if err != nil {
		return nil, status.Errorf(codes.Internal, "build results: %v", err)
	}
	for _, sh := range res.Shards {
		if k := sh.GetShard(); int(k) < len(r.shards) {
			sh.AgentId = r.shards[k].GetAgentId()
			sh.AgentName = r.shards[k].GetAgentName()
		}
	}
	return &pb.RunResult{
		Status:    s.status(r),
		Plan:      r.spec.GetPlan(),
		Scenario:  r.spec.GetScenario(),
		FileName:  r.spec.GetFileName(),
		Endpoints: res.Endpoints,
		Timeline:  res.Timeline,
		Shards:    res.Shards,
		Events:    r.events,
		Findings:  res.Findings,
	}, nil
}

// CancelRun stops a run.
func (s *server) CancelRun(ctx context.Context, req *pb.CancelRunRequest) (*pb.CancelRunResponse, error) {
	if _, err := s.currentLeader(); err != nil {
		return nil, err
	}
	r, err := s.getRun(ctx, req.GetRunId())
	if err != nil {
		return nil, notFound(req.GetRunId(), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return &pb.CancelRunResponse{State: r.state.GetState()}, nil
	}
	if r.cancelAt.IsZero() {
		r.cancelAt = time.Now()
		s.event(ctx, r, "cancelled", "cancel requested")
		for _, sh := range r.shards {
			if ac := s.agent(sh.GetAgentId()); ac != nil {
				ac.send(stopMsg(r.spec.GetRunId(), sh.GetShard(), "run cancelled"))
			}
		}
	}
	return &pb.CancelRunResponse{State: pb.RunState_RUN_STATE_CANCELLED}, nil
}

// ListAgents lists the live agents (from etcd: all coordinators' agents).
func (s *server) ListAgents(ctx context.Context, _ *pb.ListAgentsRequest) (*pb.ListAgentsResponse, error) {
	agents, err := s.store.Agents(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	}
	// What changes every heartbeat is not stored: take it from the agents
	// connected here.
	for i, a := range agents {
		ac := s.agent(a.GetAgentId())
		if ac == nil {
			continue
		}
		ac.mu.Lock()
		cpu := ac.info.GetCpuPercent()
		ac.mu.Unlock()
		a = proto.Clone(a).(*pb.AgentInfo)
		a.CpuPercent = cpu
		a.LastSeen = timestamppb.New(time.Unix(0, ac.lastSeen.Load()))
		agents[i] = a
	}
	sort.Slice(agents, func(i, j int) bool {
		if agents[i].GetName() != agents[j].GetName() {
			return agents[i].GetName() < agents[j].GetName()
		}
		return agents[i].GetAgentId() < agents[j].GetAgentId()
	})
	return &pb.ListAgentsResponse{Agents: agents}, nil
}

// ListRuns lists runs, newest first.
func (s *server) ListRuns(ctx context.Context, _ *pb.ListRunsRequest) (*pb.ListRunsResponse, error) {
	ids, err := s.store.RunIDs(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "%v", err)
	}
	out := &pb.ListRunsResponse{}
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		s.mu.Lock()
		r := s.runs[id]
		s.mu.Unlock()
		if r != nil {
			r.mu.Lock()
			out.Runs = append(out.Runs, s.status(r))
			r.mu.Unlock()
			continue
		}
		rec, err := s.store.Run(ctx, id)
		if err != nil {
			continue
		}
		out.Runs = append(out.Runs, &pb.RunStatus{
			RunId: id, Name: rec.Spec.GetPlan().GetName(), State: rec.State.GetState(),
			CreatedAt: rec.Spec.GetCreatedAt(), StartAt: rec.Spec.GetStartAt(), EndedAt: rec.State.GetEndedAt(),
			Planned: rec.Spec.GetPlanned(), Shards: rec.Spec.GetShardCount(), Message: rec.State.GetMessage(),
		})
	}
	return out, nil
}

// GetLeader names the leading coordinator.
func (s *server) GetLeader(ctx context.Context, _ *pb.GetLeaderRequest) (*pb.GetLeaderResponse, error) {
	resp := &pb.GetLeaderResponse{CoordinatorId: s.cfg.ID}
	if _, err := s.currentLeader(); err == nil {
		resp.IsLeader, resp.Leader = true, s.cfg.Advertise
		return resp, nil
	}
	lv, err := s.store.LeaderValue(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "read the leader from etcd: %v", err)
	}
	resp.Leader = lv
	return resp, nil
}
