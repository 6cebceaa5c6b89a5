package coordinator_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func etcdServer(t *testing.T) *embedetcd.Server {
	t.Helper()
	srv, err := embedetcd.Start(context.Background(), embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

func etcdClient(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcdServer(t).Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestRunOwnsItsGoroutines starts a coordinator and an agent, lets them
// connect, cancels both, and checks that nothing they started is left.
func TestRunOwnsItsGoroutines(t *testing.T) {
	srv := etcdServer(t)
	// Warm the embedded server up (it starts goroutines of its own on its
	// first client) so that the snapshot below holds them.
	warm, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Put(context.Background(), "warm", "up"); err != nil {
		t.Fatal(err)
	}
	warm.Close()
	// The coordinator dials etcd itself here, so its etcd client (and the
	// server's goroutines for that client's streams) must be gone too.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithCancel(context.Background())
	lead := make(chan string, 1)
	cfg := coordinator.DefaultConfig()
	cfg.Listen, cfg.EtcdEndpoints, cfg.Logger, cfg.ID = "127.0.0.1:0", srv.Endpoints(), quiet(), "leak-test"
	cfg.OnLead = func(a string) { lead <- a }
	coordDone := make(chan error, 1)
	go func() { coordDone <- coordinator.Run(ctx, cfg) }()
	addr := <-lead
	acfg := agent.DefaultConfig()
	acfg.Coordinators, acfg.Logger = []string{addr}, quiet()
	agentDone := make(chan error, 1)
	go func() { agentDone <- agent.Run(ctx, acfg) }()

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	ctl := pb.NewControlServiceClient(conn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		if err == nil && len(resp.GetAgents()) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent did not register: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()
	cancel()
	if err := <-agentDone; err != nil {
		t.Errorf("agent.Run: %v", err)
	}
	if err := <-coordDone; err != nil {
		t.Errorf("coordinator.Run: %v", err)
	}
}

func TestFollowerRefusesAndNamesTheLeader(t *testing.T) {
	cli := etcdClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lead := make(chan string, 1)
	listen := make(chan string, 1)
	for i, id := range []string{"first", "second"} {
		cfg := coordinator.DefaultConfig()
		cfg.Listen, cfg.Etcd, cfg.Logger, cfg.ID = "127.0.0.1:0", cli, quiet(), id
		if i == 0 {
			cfg.OnLead = func(a string) { lead <- a }
		} else {
			cfg.OnListen = func(a string) { listen <- a }
		}
		go func() { _ = coordinator.Run(ctx, cfg) }()
		if i == 0 {
			<-lead
		}
	}
	follower := <-listen
	conn, err := grpc.NewClient(follower, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = pb.NewControlServiceClient(conn).SubmitRun(ctx, &pb.SubmitRunRequest{Scenario: []byte("x")})
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "not the leader") {
		t.Fatalf("follower SubmitRun = %v, want UNAVAILABLE naming the leader", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*coordinator.Config)
	}{
		{"no etcd", func(c *coordinator.Config) { c.EtcdEndpoints = nil }},
		{"short ttl", func(c *coordinator.Config) { c.AgentTTL = time.Second }},
		{"heartbeat >= ttl", func(c *coordinator.Config) { c.Heartbeat = c.AgentTTL }},
		{"bad allowlist", func(c *coordinator.Config) { c.AllowTargets = []string{"10.0.0.0/99"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := coordinator.DefaultConfig()
			c.EtcdEndpoints = []string{"http://127.0.0.1:2379"}
			tt.mod(&c)
			if err := c.Validate(); err == nil {
				t.Fatal("want an error")
			}
		})
	}
	c := coordinator.DefaultConfig()
	if err := c.Validate(); err == nil || !errors.Is(err, err) {
		t.Fatal("default config without etcd must not validate")
	}
}
