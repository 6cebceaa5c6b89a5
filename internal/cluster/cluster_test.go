package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/embedetcd"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := embedetcd.Start(ctx, embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: srv.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return New(cli, "/test/")
}

func TestMembership(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	m, err := st.Register(ctx, &pb.AgentInfo{AgentId: "a1", Name: "one"}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	agents, err := st.Agents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(agents) != 1 || agents[0].GetName() != "one" {
		t.Fatalf("agents = %v, want [one]", agents)
	}
	if err := m.Update(ctx, &pb.AgentInfo{AgentId: "a1", Name: "uno"}); err != nil {
		t.Fatal(err)
	}
	agents, _ = st.Agents(ctx)
	if len(agents) != 1 || agents[0].GetName() != "uno" {
		t.Fatalf("after update agents = %v, want [uno]", agents)
	}
	if err := m.Close(ctx); err != nil {
		t.Fatal(err)
	}
	agents, _ = st.Agents(ctx)
	if len(agents) != 0 {
		t.Fatalf("after close agents = %v, want none", agents)
	}
}

func TestElectionAndFencing(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	l1, err := st.Campaign(ctx, "c1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := st.LeaderValue(ctx); v != "c1" {
		t.Fatalf("leader = %q, want c1", v)
	}
	won := make(chan *Leader, 1)
	go func() {
		l2, err := st.Campaign(ctx, "c2", 5*time.Second)
		if err != nil {
			t.Error(err)
			close(won)
			return
		}
		won <- l2
	}()
	select {
	case <-won:
		t.Fatal("second coordinator won while the first leads")
	case <-time.After(300 * time.Millisecond):
	}
	spec := &pb.RunSpec{RunId: "r1", CreatedAt: timestamppb.Now()}
	if err := st.CreateRun(ctx, l1, spec, &pb.RunStateRecord{State: pb.RunState_RUN_STATE_RUNNING}, []*pb.ShardRecord{{Shard: 0, AgentId: "a"}}); err != nil {
		t.Fatal(err)
	}
	if err := l1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	l2 := <-won
	if l2 == nil {
		t.FailNow()
	}
	defer l2.Resign(ctx)
	// The deposed leader's writes must fail.
	if err := st.SetState(ctx, l1, "r1", &pb.RunStateRecord{State: pb.RunState_RUN_STATE_FAILED}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed leader SetState = %v, want ErrNotLeader", err)
	}
	if _, err := st.PutWindow(ctx, l1, &pb.ResultWindow{RunId: "r1"}); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("deposed leader PutWindow = %v, want ErrNotLeader", err)
	}
	if err := st.SetState(ctx, l2, "r1", &pb.RunStateRecord{State: pb.RunState_RUN_STATE_COMPLETED}); err != nil {
		t.Fatalf("new leader SetState: %v", err)
	}
	rec, err := st.Run(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State.GetState() != pb.RunState_RUN_STATE_COMPLETED || len(rec.Shards) != 1 {
		t.Fatalf("run record = %v", rec)
	}
}

func TestPutWindowIdempotent(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	l, err := st.Campaign(ctx, "c1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Resign(ctx)
	if err := st.CreateRun(ctx, l, &pb.RunSpec{RunId: "r1"}, &pb.RunStateRecord{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateRun(ctx, l, &pb.RunSpec{RunId: "r1"}, &pb.RunStateRecord{}, nil); err == nil || errors.Is(err, ErrNotLeader) {
		t.Fatalf("second CreateRun of the same id = %v, want a duplicate error", err)
	}
	tests := []struct {
		name string
		w    *pb.ResultWindow
		want bool
	}{
		{"first", &pb.ResultWindow{RunId: "r1", Shard: 0, Epoch: 1, Seq: 0}, true},
		{"same again", &pb.ResultWindow{RunId: "r1", Shard: 0, Epoch: 1, Seq: 0, Final: true}, false},
		{"next seq", &pb.ResultWindow{RunId: "r1", Shard: 0, Epoch: 1, Seq: 1}, true},
		{"other shard", &pb.ResultWindow{RunId: "r1", Shard: 1, Epoch: 1, Seq: 0}, true},
		{"other epoch", &pb.ResultWindow{RunId: "r1", Shard: 0, Epoch: 2, Seq: 0}, true},
	}
	for _, tt := range tests {
		got, err := st.PutWindow(ctx, l, tt.w)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: created = %v, want %v", tt.name, got, tt.want)
		}
	}
	var n int
	var finals int
	if err := st.Windows(ctx, "r1", func(w *pb.ResultWindow) error {
		n++
		if w.GetFinal() {
			finals++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 4 || finals != 0 {
		t.Fatalf("stored windows = %d (finals %d), want 4 (0): the duplicate must not overwrite", n, finals)
	}
	ids, err := st.RunIDs(ctx)
	if err != nil || len(ids) != 1 || ids[0] != "r1" {
		t.Fatalf("RunIDs = %v, %v", ids, err)
	}
	if _, err := st.Run(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Run(nope) = %v, want ErrNotFound", err)
	}
}
