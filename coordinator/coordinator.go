package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"

	"github.com/barrage-dev/barrage/internal/allow"
	"github.com/barrage-dev/barrage/internal/cluster"
	"github.com/barrage-dev/barrage/internal/httpserve"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Config configures a coordinator.
type Config struct {
	// ID names this coordinator in logs and elections; default host-pid.
	ID string
	// Listen is the gRPC address; default 127.0.0.1:7000.
	Listen string
	// HTTP is the address of the web view and /metrics; empty: none.
	HTTP string
	// Advertise is the address other parties should use to reach this
	// coordinator (published when it leads); default the bound address.
	Advertise string
	// EtcdEndpoints are etcd client URLs; required unless Etcd is set.
	EtcdEndpoints []string
	// Etcd is an existing client to use instead of dialling EtcdEndpoints.
	Etcd *clientv3.Client
	// Prefix is the etcd key prefix; default cluster.DefaultPrefix.
	Prefix string
	// AllowTargets lists CIDRs and host names runs may target; empty means
	// loopback only.
	AllowTargets []string
	// AgentTTL is the lease TTL of agent membership; default 10s.
	AgentTTL time.Duration
	// LeaderTTL is the lease TTL of the leadership session: how long a
	// crashed leader blocks a successor; default 5s (minimum 2s).
	LeaderTTL time.Duration
	// Heartbeat is the agents' heartbeat interval; default 2s.
	Heartbeat time.Duration
	// StartDelay is the time between submit and the common start of a
	// run's load, for assignments to reach agents; default 2s.
	StartDelay time.Duration
	// Grace is how long after a run's planned end (plus the request
	// timeout) the coordinator waits for missing final windows before the
	// run fails; default 30s.
	Grace time.Duration
	// Takeover is how long a shard's agent may be gone before another
	// connected agent takes the rest of the shard over (open model), so
	// that the run's rate holds. The wait is never shorter than the lost
	// agent's dead-man timeout (from its Hello) plus 2s, so that it has
	// stopped its load; default 15s; negative: never.
	Takeover time.Duration
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// OnListen, if set, is called with the bound gRPC address once serving.
	OnListen func(addr string)
	// OnHTTP, if set, is called with the bound HTTP address once serving.
	OnHTTP func(addr string)
	// OnLead, if set, is called once this coordinator leads and has loaded
	// the stored runs (it then accepts agents and submissions).
	OnLead func(addr string)
}

// DefaultConfig returns a Config with defaults (no etcd endpoints).
func DefaultConfig() Config {
	return Config{
		Listen:     "127.0.0.1:7000",
		Prefix:     cluster.DefaultPrefix,
		AgentTTL:   10 * time.Second,
		LeaderTTL:  5 * time.Second,
		Heartbeat:  2 * time.Second,
		StartDelay: 2 * time.Second,
		Grace:      30 * time.Second,
		Takeover:   15 * time.Second,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	if c.Listen == "" {
		c.Listen = d.Listen
	}
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.AgentTTL == 0 {
		c.AgentTTL = d.AgentTTL
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = d.Heartbeat
	}
	if c.LeaderTTL == 0 {
		c.LeaderTTL = d.LeaderTTL
	}
	if c.StartDelay == 0 {
		c.StartDelay = d.StartDelay
	}
	if c.Grace == 0 {
		c.Grace = d.Grace
	}
	if c.Takeover == 0 {
		c.Takeover = d.Takeover
	}
	if c.ID == "" {
		h, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
}

// Validate checks a Config.
func (c Config) Validate() error {
	if c.Etcd == nil && len(c.EtcdEndpoints) == 0 {
		return errors.New("coordinator: no etcd endpoints given (--etcd-endpoints)")
	}
	if c.AgentTTL < 2*time.Second || (c.LeaderTTL != 0 && c.LeaderTTL < 2*time.Second) {
		return errors.New("coordinator: agent and leader TTLs must be at least 2s")
	}
	if c.Heartbeat <= 0 || c.Heartbeat >= c.AgentTTL {
		return errors.New("coordinator: heartbeat must be positive and shorter than the agent TTL")
	}
	if c.StartDelay < 0 || c.Grace < 0 {
		return errors.New("coordinator: negative duration")
	}
	if _, err := allow.Parse(c.AllowTargets); err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	return nil
}

type server struct {
	pb.UnimplementedControlServiceServer
	pb.UnimplementedAgentLinkServiceServer

	cfg   Config
	log   *slog.Logger
	store *cluster.Store
	allow *allow.List
	addr  string
	// httpAddr is the bound HTTP address, "" without HTTP.
	httpAddr string

	mu     sync.Mutex
	leader *cluster.Leader // nil until elected
	agents map[string]*agentConn
	runs   map[string]*run
	wg     sync.WaitGroup // run supervisors
	ctx    context.Context
}

// Run serves until ctx ends (nil) or leadership is lost or serving fails
// (an error).
func Run(ctx context.Context, cfg Config) error {
	cfg.fill()
	if err := cfg.Validate(); err != nil {
		return err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("coordinator", cfg.ID)
	cli := cfg.Etcd
	if cli == nil {
		c, err := clientv3.New(clientv3.Config{Endpoints: cfg.EtcdEndpoints, DialTimeout: 5 * time.Second, Logger: nil})
		if err != nil {
			return fmt.Errorf("connect to etcd %v: %w", cfg.EtcdEndpoints, err)
		}
		defer c.Close()
		cli = c
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err = cli.Status(sctx, cfg.EtcdEndpoints[0])
		cancel()
		if err != nil {
			return fmt.Errorf("etcd at %v is not reachable: %w", cfg.EtcdEndpoints, err)
		}
	}
	al, _ := allow.Parse(cfg.AllowTargets)
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	s := &server{
		cfg:    cfg,
		log:    log,
		store:  cluster.New(cli, cfg.Prefix),
		allow:  al,
		addr:   lis.Addr().String(),
		agents: map[string]*agentConn{},
		runs:   map[string]*run{},
	}
	if cfg.Advertise == "" {
		cfg.Advertise = s.addr
		s.cfg.Advertise = s.addr
	}
	if host, _, err := net.SplitHostPort(s.cfg.Advertise); err == nil {
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			log.Warn("advertising an address on all interfaces: standbys cannot send clients and agents here; set --advertise", "advertise", s.cfg.Advertise)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.ctx = ctx

	gs := grpc.NewServer(
		grpc.MaxRecvMsgSize(64<<20),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 2 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: 10 * time.Second, Timeout: 5 * time.Second}),
		grpc.ChainUnaryInterceptor(s.unaryLog),
	)
	pb.RegisterControlServiceServer(gs, s)
	pb.RegisterAgentLinkServiceServer(gs, s)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	healthpb.RegisterHealthServer(gs, hs)

	var hsrv *httpserve.Server
	if cfg.HTTP != "" {
		if hsrv, err = s.startHTTP(cfg.HTTP); err != nil {
			lis.Close()
			return err
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- gs.Serve(lis) }()
	log.Info("coordinator listening", "addr", s.addr)
	if cfg.OnListen != nil {
		cfg.OnListen(s.addr)
	}

	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.evictLoop(ctx)
	}()
	runErr := s.lead(ctx, hs)
	cancel()
	if hsrv != nil {
		hsrv.Stop()
	}
	hs.Shutdown()
	stopped := make(chan struct{})
	go func() {
		gs.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		gs.Stop()
		<-stopped
	}
	s.wg.Wait()
	s.mu.Lock()
	l := s.leader
	s.mu.Unlock()
	if l != nil {
		if err := l.Resign(context.Background()); err != nil {
			log.Warn("resign", "err", err)
		}
	}
	if err := <-serveErr; err != nil && !errors.Is(err, grpc.ErrServerStopped) && runErr == nil {
		runErr = fmt.Errorf("serve gRPC: %w", err)
	}
	return runErr
}

// lead campaigns, then loads the stored runs and serves until ctx ends or
// leadership is lost.
func (s *server) lead(ctx context.Context, hs *health.Server) error {
	s.log.Info("campaigning for leadership")
	l, err := s.store.Campaign(ctx, s.cfg.Advertise, s.cfg.LeaderTTL)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.log.Info("elected leader")
	if err := s.loadRuns(ctx); err != nil {
		_ = l.Resign(ctx)
		return fmt.Errorf("load runs: %w", err)
	}
	s.mu.Lock()
	s.leader = l
	s.mu.Unlock()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	if s.cfg.OnLead != nil {
		s.cfg.OnLead(s.addr)
	}
	select {
	case <-ctx.Done():
		return nil
	case <-l.Lost():
		return errors.New("lost leadership (etcd session ended)")
	}
}

func (s *server) unaryLog(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if err != nil {
		s.log.Debug("rpc failed", "method", info.FullMethod, "err", err)
	}
	return resp, err
}
