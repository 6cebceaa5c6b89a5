package coordinator

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/cluster"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// agentConn is one connected agent.
type agentConn struct {
	id       string
	out      chan *pb.CoordinatorMessage
	gone     chan struct{} // closed when the connection is over
	goneOnce sync.Once
	lastSeen atomic.Int64 // unix nanos

	mu   sync.Mutex
	info *pb.AgentInfo
}

func (ac *agentConn) close() { ac.goneOnce.Do(func() { close(ac.gone) }) }

// send queues a message; a connection too slow to drain its queue is closed
// (the agent reconnects and resends what was not acknowledged).
func (ac *agentConn) send(m *pb.CoordinatorMessage) bool {
	select {
	case ac.out <- m:
		return true
	case <-ac.gone:
		return false
	default:
		ac.close()
		return false
	}
}

func (ac *agentConn) snapshot() *pb.AgentInfo {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	return ac.info
}

var agentIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

func (s *server) currentLeader() (*cluster.Leader, error) {
	s.mu.Lock()
	l := s.leader
	s.mu.Unlock()
	if l != nil {
		return l, nil
	}
	lv, _ := s.store.LeaderValue(context.Background())
	if lv == "" {
		lv = "none yet"
	}
	return nil, status.Errorf(codes.Unavailable, "coordinator %s is not the leader (leader: %s)", s.cfg.ID, lv)
}

// Connect serves one agent's stream.
func (s *server) Connect(stream grpc.BidiStreamingServer[pb.AgentMessage, pb.CoordinatorMessage]) error {
	if _, err := s.currentLeader(); err != nil {
		return err
	}
	ctx := stream.Context()
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	recvAt := time.Now()
	hello := first.GetHello()
	if hello == nil {
		return status.Errorf(codes.InvalidArgument, "first message must be hello, got %T", first.GetMsg())
	}
	if !agentIDRe.MatchString(hello.GetAgentId()) {
		return status.Errorf(codes.InvalidArgument, "agent id %q: want 1-128 letters, digits, '.', '_' or '-'", hello.GetAgentId())
	}
	addr := ""
	if p, ok := peer.FromContext(ctx); ok {
		addr = p.Addr.String()
	}
	info := &pb.AgentInfo{
		AgentId: hello.GetAgentId(), Name: hello.GetName(), Hostname: hello.GetHostname(),
		Address: addr, Version: hello.GetVersion(), Cpus: hello.GetCpus(),
		ConnectedAt: timestamppb.New(recvAt), CoordinatorId: s.cfg.ID,
		Pod: hello.GetPod(), Node: hello.GetNode(), Shards: hello.GetActive(), DeadMan: hello.GetDeadMan(),
	}
	if info.Name == "" {
		info.Name = info.AgentId
	}
	ac := &agentConn{id: info.AgentId, out: make(chan *pb.CoordinatorMessage, 4096), gone: make(chan struct{}), info: info}
	ac.lastSeen.Store(recvAt.UnixNano())
	welcome := &pb.Welcome{
		ReceivedAt:        timestamppb.New(recvAt),
		SentAt:            timestamppb.Now(),
		HeartbeatInterval: durationpb.New(s.cfg.Heartbeat),
		CoordinatorId:     s.cfg.ID,
	}
	if err := stream.Send(&pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Welcome{Welcome: welcome}}); err != nil {
		return err
	}

	// The agent is usable (listed in memory) before it is listed in etcd,
	// so whoever sees it in etcd can also assign it work.
	s.mu.Lock()
	if old := s.agents[ac.id]; old != nil {
		old.close()
	}
	s.agents[ac.id] = ac
	s.mu.Unlock()
	member, err := s.store.Register(ctx, info, s.cfg.AgentTTL)
	if err != nil {
		ac.close()
		s.mu.Lock()
		if s.agents[ac.id] == ac {
			delete(s.agents, ac.id)
		}
		s.mu.Unlock()
		return status.Errorf(codes.Unavailable, "register agent: %v", err)
	}
	defer func() {
		if err := member.Close(context.WithoutCancel(ctx)); err != nil {
			s.log.Warn("remove agent membership", "agent", info.Name, "err", err)
		}
	}()
	log := s.log.With("agent", info.Name)
	log.Info("agent connected", "addr", addr, "active_shards", len(hello.GetActive()))
	s.reattach(ac, hello.GetActive())
	defer func() {
		ac.close()
		s.mu.Lock()
		current := s.agents[ac.id] == ac
		if current {
			delete(s.agents, ac.id)
		}
		s.mu.Unlock()
		// A connection the agent has already replaced says nothing about
		// its shards: the new one has them.
		if current {
			s.agentLost(ac)
		}
		log.Info("agent disconnected")
	}()

	// Writer: the only goroutine that sends on the stream from here on.
	writeErr := make(chan error, 1)
	go func() {
		for {
			select {
			case m := <-ac.out:
				if err := stream.Send(m); err != nil {
					writeErr <- err
					ac.close()
					return
				}
			case <-ac.gone:
				writeErr <- nil
				return
			}
		}
	}()
	// Reader.
	readErr := make(chan error, 1)
	go func() {
		for {
			msg, err := stream.Recv()
			if err != nil {
				readErr <- err
				ac.close()
				return
			}
			ac.lastSeen.Store(time.Now().UnixNano())
			if err := s.handleAgentMessage(ctx, ac, member, msg); err != nil {
				readErr <- err
				ac.close()
				return
			}
		}
	}()
	// Watchdog: an agent silent for three heartbeats is gone.
	t := time.NewTicker(s.cfg.Heartbeat)
	defer t.Stop()
	var result error
wait:
	for {
		select {
		case <-ac.gone:
			break wait
		case <-s.ctx.Done():
			result = status.Error(codes.Unavailable, "coordinator shutting down")
			break wait
		case <-t.C:
			if time.Since(time.Unix(0, ac.lastSeen.Load())) > 3*s.cfg.Heartbeat+time.Second {
				result = status.Error(codes.DeadlineExceeded, "no heartbeat from agent")
				break wait
			}
		}
	}
	ac.close()
	<-writeErr
	select {
	case err := <-readErr:
		// A storage failure ends the stream with UNAVAILABLE so the agent
		// reconnects and resends; a client going away is not an error.
		if result == nil && status.Code(err) == codes.Unavailable {
			result = err
		}
	default:
		// The reader ends when the handler returns and the stream's
		// context is cancelled.
	}
	return result
}

func (s *server) handleAgentMessage(ctx context.Context, ac *agentConn, member *cluster.Member, msg *pb.AgentMessage) error {
	switch m := msg.GetMsg().(type) {
	case *pb.AgentMessage_Heartbeat:
		ac.mu.Lock()
		prev := ac.info
		info := &pb.AgentInfo{}
		*info = pb.AgentInfo{
			AgentId: prev.AgentId, Name: prev.Name, Hostname: prev.Hostname, Address: prev.Address,
			Version: prev.Version, Cpus: prev.Cpus, ConnectedAt: prev.ConnectedAt,
			ClockOffset: m.Heartbeat.GetClockOffset(), Shards: m.Heartbeat.GetActive(),
			CoordinatorId: prev.CoordinatorId, Pod: prev.Pod, Node: prev.Node,
			CpuPercent: m.Heartbeat.GetCpuPercent(), DeadMan: prev.DeadMan,
		}
		changed := prev.GetClockOffset().AsDuration() != info.GetClockOffset().AsDuration() || len(prev.GetShards()) != len(info.GetShards())
		ac.info = info
		ac.mu.Unlock()
		if changed {
			if err := member.Update(ctx, info); err != nil {
				s.log.Warn("update agent info", "agent", info.Name, "err", err)
			}
		}
		return nil
	case *pb.AgentMessage_Window:
		ack, err := s.ingest(ctx, ac, m.Window)
		if err != nil {
			return status.Errorf(codes.Unavailable, "store window: %v", err)
		}
		if ack {
			w := m.Window
			ac.send(&pb.CoordinatorMessage{Msg: &pb.CoordinatorMessage_Ack{Ack: &pb.WindowAck{
				RunId: w.GetRunId(), Shard: w.GetShard(), Epoch: w.GetEpoch(), Seq: w.GetSeq(),
			}}})
		}
		return nil
	case *pb.AgentMessage_Hello:
		return status.Error(codes.InvalidArgument, "hello sent twice")
	default:
		return status.Errorf(codes.InvalidArgument, "unknown agent message %T", m)
	}
}

// liveAgents returns the connected agents, sorted by name then id.
func (s *server) liveAgents() []*agentConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*agentConn, 0, len(s.agents))
	for _, ac := range s.agents {
		select {
		case <-ac.gone:
			continue
		default:
		}
		out = append(out, ac)
	}
	sortAgents(out)
	return out
}

func (s *server) agent(id string) *agentConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agents[id]
}

func fmtOffset(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}
