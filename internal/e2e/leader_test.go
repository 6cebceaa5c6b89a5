package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// TestAgentPointedAtAFollowerFindsTheLeader: with two coordinators on one
// etcd, an agent given only the follower's address asks it who leads, goes
// there, and runs its shard; the follower names the leader.
func TestAgentPointedAtAFollowerFindsTheLeader(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	done := make(chan struct{})
	var running int
	startCoord := func(id string, lead chan<- string, listen chan<- string) {
		cfg := coordinator.DefaultConfig()
		cfg.Listen, cfg.Etcd, cfg.ID, cfg.Logger = "127.0.0.1:0", cli, id, testLogger(t)
		cfg.StartDelay = 500 * time.Millisecond
		cfg.OnLead = func(a string) { lead <- a }
		cfg.OnListen = func(a string) { listen <- a }
		running++
		go func() {
			defer func() { done <- struct{}{} }()
			if err := coordinator.Run(ctx, cfg); err != nil {
				t.Errorf("coordinator %s: %v", id, err)
			}
		}()
	}
	defer func() {
		cancel()
		for range running {
			<-done
		}
	}()
	lead1, listen1 := make(chan string, 1), make(chan string, 1)
	startCoord("c1", lead1, listen1)
	leader := <-lead1
	lead2, listen2 := make(chan string, 1), make(chan string, 1)
	startCoord("c2", lead2, listen2)
	follower := <-listen2

	conn, err := grpc.NewClient(follower, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := pb.NewControlServiceClient(conn).GetLeader(ctx, &pb.GetLeaderRequest{})
	if err != nil || resp.GetIsLeader() || resp.GetLeader() != leader || resp.GetCoordinatorId() != "c2" {
		t.Fatalf("follower's GetLeader = %v, %v; want leader %s", resp, err, leader)
	}

	acfg := agent.DefaultConfig()
	acfg.Coordinators, acfg.Name, acfg.Logger = []string{follower}, "follower-only", testLogger(t)
	agentDone := make(chan struct{})
	go func() {
		defer close(agentDone)
		if err := agent.Run(ctx, acfg); err != nil {
			t.Errorf("agent: %v", err)
		}
	}()
	defer func() { cancel(); <-agentDone }()

	lconn, err := grpc.NewClient(leader, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer lconn.Close()
	c := &cluster{addr: leader, ctl: pb.NewControlServiceClient(lconn)}
	deadline := time.Now().Add(20 * time.Second)
	for {
		agents, err := c.ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		if err == nil && len(agents.GetAgents()) == 1 && agents.GetAgents()[0].GetCoordinatorId() == "c1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not reach the leader: %v %v", agents, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	target := newCountingServer(t)
	res := c.runToEnd(t, fmt.Sprintf("name: f\ntarget: {base_url: %s}\nload: {stages: [{duration: 1s, rate: 100}]}\nrequests: [{path: /}]\n", target.URL))
	if res.GetStatus().GetState() != pb.RunState_RUN_STATE_COMPLETED || res.GetStatus().GetRequests() != target.n.Load() || target.n.Load() != 100 {
		t.Errorf("run %v: %d requests, the target saw %d, want 100", res.GetStatus().GetState(), res.GetStatus().GetRequests(), target.n.Load())
	}
	// The command line, pointed at the follower, is served by the leader
	// (GetRunResult needs the leader).
	barrage, _ := buildBinaries(t)
	out, stderr, code := barrageCmd(t, barrage, "report", res.GetStatus().GetRunId(), "--coordinator", follower)
	if code != 0 || !strings.Contains(out, "COMPLETED") {
		t.Errorf("report via the follower: exit %d\n%s%s", code, out, stderr)
	}
}
