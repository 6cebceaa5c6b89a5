package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	grpcbackoff "google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/allow"
	"github.com/barrage-dev/barrage/internal/engine"
	"github.com/barrage-dev/barrage/internal/version"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Config configures an agent.
type Config struct {
	// Coordinators are gRPC addresses (host:port) tried in turn. Required.
	Coordinators []string
	// Name is shown in listings and reports; default the host name.
	Name string
	// ID identifies this agent process; default a random id.
	ID string
	// AllowTargets lists CIDRs and host names load may go to; empty means
	// loopback only (allow.Default).
	AllowTargets []string
	// DeadMan is how long the agent keeps running shards without any
	// coordinator; 0 means 10s.
	DeadMan time.Duration
	// Backoff is the longest wait between reconnection attempts; 0 means 2s.
	Backoff time.Duration
	// Pod and Node are the Kubernetes pod and node names, when known.
	Pod, Node string
	// HTTP is the address of /metrics and /healthz; empty: none.
	HTTP string
	// OnHTTP, if set, is called with the bound HTTP address once serving.
	OnHTTP func(addr string)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// DialOptions are extra gRPC dial options (transport credentials).
	DialOptions []grpc.DialOption
}

// DefaultConfig returns a Config with defaults filled in (no coordinators).
func DefaultConfig() Config {
	host, _ := os.Hostname()
	return Config{
		Name:    host,
		DeadMan: 10 * time.Second,
		Backoff: 2 * time.Second,
	}
}

// Validate checks a Config.
func (c Config) Validate() error {
	if len(c.Coordinators) == 0 {
		return errors.New("agent: no coordinator address given (--coordinator)")
	}
	if c.DeadMan < 0 || c.Backoff < 0 {
		return errors.New("agent: negative duration")
	}
	if _, err := allow.Parse(c.AllowTargets); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

type shardKey struct {
	run   string
	shard int32
}

type shardRun struct {
	ref      *pb.ShardRef
	cancel   context.CancelCauseFunc
	finished bool // engine returned
	finalAck bool // final window acknowledged
}

type windowKey struct {
	run        string
	shard      int32
	epoch, seq int64
}

func keyOf(w *pb.ResultWindow) windowKey {
	return windowKey{w.GetRunId(), w.GetShard(), w.GetEpoch(), w.GetSeq()}
}

type agent struct {
	cfg   Config
	log   *slog.Logger
	allow *allow.List

	mu        sync.Mutex
	shards    map[shardKey]*shardRun
	outbox    []*pb.ResultWindow
	wake      chan struct{}
	connected bool
	lostAt    time.Time
	offset    time.Duration
	wg        sync.WaitGroup // shard goroutines
	tally     *tally         // window tallies for /metrics; nil without HTTP
}

// Run runs the agent until ctx ends. It returns nil on a clean shutdown.
func Run(ctx context.Context, cfg Config) error {
	d := DefaultConfig()
	if cfg.Name == "" {
		cfg.Name = d.Name
	}
	if cfg.DeadMan == 0 {
		cfg.DeadMan = d.DeadMan
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = d.Backoff
	}
	if cfg.ID == "" {
		cfg.ID = newID()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	al, _ := allow.Parse(cfg.AllowTargets)
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &agent{
		cfg:    cfg,
		log:    log.With("agent", cfg.Name),
		allow:  al,
		shards: map[shardKey]*shardRun{},
		wake:   make(chan struct{}, 1),
		lostAt: time.Now(),
	}
	if cfg.HTTP != "" {
		srv, err := a.startHTTP(ctx, cfg.HTTP)
		if err != nil {
			return err
		}
		defer srv.Stop()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.deadMan(ctx)
	}()
	a.connectLoop(ctx)
	wg.Wait()
	// Stop shards still running (ctx is done) and wait for them.
	a.mu.Lock()
	for _, s := range a.shards {
		s.cancel(errors.New("agent shutting down"))
	}
	a.mu.Unlock()
	a.wg.Wait()
	if n := a.unacked(); n > 0 {
		a.log.Warn("shutting down with unacknowledged result windows", "windows", n)
	}
	return nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *agent) unacked() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.outbox)
}

// deadMan stops every shard when no coordinator was reachable for DeadMan.
func (a *agent) deadMan(ctx context.Context) {
	t := time.NewTicker(a.cfg.DeadMan / 20)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		if !a.connected && time.Since(a.lostAt) > a.cfg.DeadMan {
			for k, s := range a.shards {
				if !s.finished {
					a.log.Warn("no coordinator reachable: stopping shard (dead-man switch)", "run", k.run, "shard", k.shard, "after", a.cfg.DeadMan)
					s.cancel(fmt.Errorf("no coordinator reachable for %v: %w", a.cfg.DeadMan, engine.ErrDeadMan))
				}
			}
		}
		a.mu.Unlock()
	}
}

func (a *agent) connectLoop(ctx context.Context) {
	conns := map[string]*grpc.ClientConn{}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	backoff := 100 * time.Millisecond
	hint := "" // the leader a follower named, tried next
	for i := 0; ctx.Err() == nil; i++ {
		addr := a.cfg.Coordinators[i%len(a.cfg.Coordinators)]
		followed := hint != ""
		if followed {
			addr, hint = hint, ""
			i--
		}
		cc := conns[addr]
		if cc == nil {
			opts := append([]grpc.DialOption{
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 5 * time.Second, Timeout: 3 * time.Second, PermitWithoutStream: true}),
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64 << 20)),
				// A coordinator that vanished (its address no longer
				// answers at all) must not hold the agent for gRPC's
				// default 20 s connect timeout: the dead-man switch
				// stops the load after 10 s without a coordinator.
				grpc.WithConnectParams(grpc.ConnectParams{
					Backoff:           grpcbackoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
					MinConnectTimeout: 3 * time.Second,
				}),
			}, a.cfg.DialOptions...)
			c, err := grpc.NewClient(addr, opts...)
			if err != nil {
				a.log.Error("bad coordinator address", "addr", addr, "err", err)
				return
			}
			conns[addr], cc = c, c
		}
		start := time.Now()
		err := a.session(ctx, cc, addr)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 5*time.Second {
			backoff = 100 * time.Millisecond
		}
		if followed && !slices.Contains(a.cfg.Coordinators, addr) {
			// A leader found by asking: keep no connection to it once
			// its session is over (leaders come and go, with new
			// addresses on Kubernetes).
			cc.Close()
			delete(conns, addr)
		}
		if status.Code(err) == codes.Unavailable && !followed {
			if l := leaderOf(ctx, cc); l != "" && l != addr {
				a.log.Info("coordinator is not the leader; going to the leader", "addr", addr, "leader", l)
				hint = l
				continue
			}
		}
		a.log.Warn("coordinator connection ended; reconnecting", "addr", addr, "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, a.cfg.Backoff)
	}
}

// leaderOf asks the coordinator behind cc which coordinator leads; "" when
// it cannot tell.
func leaderOf(ctx context.Context, cc *grpc.ClientConn) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	resp, err := pb.NewControlServiceClient(cc).GetLeader(ctx, &pb.GetLeaderRequest{})
	if err != nil || resp.GetIsLeader() {
		return ""
	}
	// A leader listening on all interfaces without --advertise names
	// 0.0.0.0 or [::]: not an address to go to from here.
	host, _, err := net.SplitHostPort(resp.GetLeader())
	if ip := net.ParseIP(host); err != nil || host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return resp.GetLeader()
}

func (a *agent) active() []*pb.ShardRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*pb.ShardRef
	for _, s := range a.shards {
		out = append(out, s.ref)
	}
	return out
}

// session runs one connection to a coordinator until it fails or ctx ends.
func (a *agent) session(ctx context.Context, cc *grpc.ClientConn, addr string) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := pb.NewAgentLinkServiceClient(cc).Connect(sctx)
	if err != nil {
		return fmt.Errorf("open stream to %s: %w", addr, err)
	}
	host, _ := os.Hostname()
	t0 := time.Now()
	hello := &pb.Hello{
		AgentId: a.cfg.ID, Name: a.cfg.Name, Version: version.Version, Hostname: host,
		Cpus: int32(runtime.GOMAXPROCS(0)), SentAt: timestamppb.New(t0), Active: a.active(),
		Pod: a.cfg.Pod, Node: a.cfg.Node, DeadMan: durationpb.New(a.cfg.DeadMan),
	}
	if err := stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Hello{Hello: hello}}); err != nil {
		return fmt.Errorf("send hello: %w", recvErr(stream, err))
	}
	first, err := stream.Recv()
	if err != nil {
		return fmt.Errorf("wait for welcome: %w", err)
	}
	t3 := time.Now()
	welcome := first.GetWelcome()
	if welcome == nil {
		return fmt.Errorf("coordinator %s answered hello with %T, want welcome", addr, first.GetMsg())
	}
	// NTP-style offset: ((T1 - t0) + (T2 - t3)) / 2.
	offset := (welcome.GetReceivedAt().AsTime().Sub(t0) + welcome.GetSentAt().AsTime().Sub(t3)) / 2
	hb := welcome.GetHeartbeatInterval().AsDuration()
	if hb <= 0 {
		hb = 2 * time.Second
	}
	a.mu.Lock()
	a.connected = true
	a.offset = offset
	a.mu.Unlock()
	a.log.Info("connected to coordinator", "addr", addr, "coordinator", welcome.GetCoordinatorId(), "clock_offset", offset, "rtt", t3.Sub(t0))
	defer func() {
		a.mu.Lock()
		a.connected = false
		a.lostAt = time.Now()
		a.mu.Unlock()
	}()

	sendErr := make(chan error, 1)
	go func() { sendErr <- a.sender(sctx, stream, hb) }()
	for {
		msg, err := stream.Recv()
		if err != nil {
			cancel()
			<-sendErr
			return err
		}
		switch m := msg.GetMsg().(type) {
		case *pb.CoordinatorMessage_Assignment:
			a.assign(ctx, m.Assignment)
		case *pb.CoordinatorMessage_Ack:
			a.ack(m.Ack)
		case *pb.CoordinatorMessage_Stop:
			a.stop(m.Stop)
		default:
			a.log.Warn("unexpected message from coordinator", "type", fmt.Sprintf("%T", m))
		}
	}
}

// recvErr returns the stream's real error when Send failed with io.EOF.
func recvErr(stream grpc.BidiStreamingClient[pb.AgentMessage, pb.CoordinatorMessage], err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.Recv(); rerr != nil {
			return rerr
		}
	}
	return err
}

// sender sends heartbeats and every unacknowledged window (all of them
// first, on a new stream; then each new one) until ctx ends.
func (a *agent) sender(ctx context.Context, stream grpc.BidiStreamingClient[pb.AgentMessage, pb.CoordinatorMessage], hb time.Duration) error {
	sent := map[windowKey]bool{}
	t := time.NewTicker(hb)
	defer t.Stop()
	lastCPU, cpuOK := processCPU()
	lastAt := time.Now()
	beat := func() error {
		a.mu.Lock()
		off := a.offset
		a.mu.Unlock()
		pct := -1.0
		if cpu, ok := processCPU(); ok && cpuOK {
			now := time.Now()
			if wall := now.Sub(lastAt); wall > 0 {
				pct = 100 * float64(cpu-lastCPU) / float64(wall)
			}
			lastCPU, lastAt = cpu, now
		}
		return stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Heartbeat{Heartbeat: &pb.Heartbeat{
			SentAt: timestamppb.Now(), ClockOffset: durationpb.New(off), Active: a.active(), CpuPercent: pct,
		}}})
	}
	if err := beat(); err != nil {
		return err
	}
	for {
		a.mu.Lock()
		var todo []*pb.ResultWindow
		for _, w := range a.outbox {
			if !sent[keyOf(w)] {
				todo = append(todo, w)
			}
		}
		a.mu.Unlock()
		for _, w := range todo {
			if err := stream.Send(&pb.AgentMessage{Msg: &pb.AgentMessage_Window{Window: w}}); err != nil {
				return err
			}
			sent[keyOf(w)] = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-a.wake:
		case <-t.C:
			if err := beat(); err != nil {
				return err
			}
		}
	}
}

func (a *agent) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

func (a *agent) assign(ctx context.Context, as *pb.Assignment) {
	k := shardKey{as.GetRunId(), as.GetShard()}
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.shards[k]; ok {
		if old.ref.GetEpoch() >= as.GetEpoch() {
			return // already running (a re-sent assignment after reconnect)
		}
		// The shard came back to this agent under a newer epoch (it was
		// taken over while this agent was away, then given back): the old
		// run of it stops; its windows still go out.
		old.cancel(errors.New("shard reassigned under a newer epoch"))
	}
	sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	s := &shardRun{ref: &pb.ShardRef{RunId: as.GetRunId(), Shard: as.GetShard(), Epoch: as.GetEpoch()}, cancel: cancel}
	a.shards[k] = s
	offset := a.offset
	// The coordinator's start time on this machine's clock, with a
	// monotonic reading: now + (startAt - coordinatorNow).
	now := time.Now()
	localStart := now.Add(as.GetStartAt().AsTime().Sub(now.Add(offset)))
	a.log.Info("shard assigned", "run", as.GetRunId(), "shard", as.GetShard(), "of", as.GetShardCount(), "starts_in", time.Until(localStart).Round(time.Millisecond))
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := engine.Run(sctx, engine.Config{
			Assignment:  as,
			Start:       localStart,
			ClockOffset: offset,
			Dial:        a.allow.Dialer(nil),
			Resolve:     a.allow.Resolve,
			UserAgent:   "barrage/" + version.Version,
			Emit:        a.metricsTap(as, a.enqueue),
			Logger:      a.log,
		})
		if err != nil {
			a.log.Error("shard failed", "run", as.GetRunId(), "shard", as.GetShard(), "err", err)
		}
		cancel(nil)
		a.mu.Lock()
		s.finished = true
		a.forget(k, s)
		a.mu.Unlock()
	}()
}

func (a *agent) enqueue(w *pb.ResultWindow) {
	a.mu.Lock()
	a.outbox = append(a.outbox, w)
	a.mu.Unlock()
	a.poke()
}

func (a *agent) ack(ack *pb.WindowAck) {
	k := windowKey{ack.GetRunId(), ack.GetShard(), ack.GetEpoch(), ack.GetSeq()}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, w := range a.outbox {
		if keyOf(w) == k {
			a.outbox = append(a.outbox[:i], a.outbox[i+1:]...)
			if w.GetFinal() {
				sk := shardKey{k.run, k.shard}
				if s := a.shards[sk]; s != nil && s.ref.GetEpoch() == k.epoch {
					s.finalAck = true
					a.forget(sk, s)
				}
			}
			return
		}
	}
}

// forget drops a shard once it has finished and its final window is
// acknowledged. Called with a.mu held.
func (a *agent) forget(k shardKey, s *shardRun) {
	if s.finished && s.finalAck && a.shards[k] == s {
		delete(a.shards, k)
		a.log.Info("shard done", "run", k.run, "shard", k.shard)
	}
}

func (a *agent) stop(st *pb.StopShard) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s := a.shards[shardKey{st.GetRunId(), st.GetShard()}]; s != nil && !s.finished {
		a.log.Info("stopping shard", "run", st.GetRunId(), "shard", st.GetShard(), "reason", st.GetReason())
		s.cancel(errors.New(st.GetReason()))
	}
}
