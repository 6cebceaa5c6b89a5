package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
	"google.golang.org/protobuf/proto"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// DefaultPrefix is the default etcd key prefix.
const DefaultPrefix = "/barrage/"

// ErrNotLeader means a fenced write failed: this coordinator is no longer the
// leader.
var ErrNotLeader = errors.New("not the leader any more")

// ErrNotFound means a run does not exist.
var ErrNotFound = errors.New("not found")

// Store reads and writes Barrage's keyspace.
type Store struct {
	cli    *clientv3.Client
	prefix string
}

// New returns a Store using keys under prefix ("" means DefaultPrefix).
func New(cli *clientv3.Client, prefix string) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &Store{cli: cli, prefix: prefix}
}

// Client returns the etcd client.
func (s *Store) Client() *clientv3.Client { return s.cli }

func (s *Store) agentKey(id string) string { return s.prefix + "agents/" + id }
func (s *Store) runKey(id, part string) string {
	return s.prefix + "runs/" + id + "/" + part
}
func (s *Store) shardKey(run string, k int32) string {
	return s.runKey(run, fmt.Sprintf("shards/%04d", k))
}

// WindowKey is where a window is stored.
func (s *Store) WindowKey(w *pb.ResultWindow) string {
	return s.runKey(w.GetRunId(), fmt.Sprintf("windows/%04d/%06d/%010d", w.GetShard(), w.GetEpoch(), w.GetSeq()))
}

// ---- membership ----

// Member is an agent's membership: a key bound to a lease that is kept alive
// until Close or until the context given to Register ends.
type Member struct {
	store  *Store
	key    string
	lease  clientv3.LeaseID
	cancel context.CancelFunc
	lost   chan struct{}
}

// Register stores info under agents/<id>, bound to a new lease of the given
// TTL, and keeps the lease alive in the background.
func (s *Store) Register(ctx context.Context, info *pb.AgentInfo, ttl time.Duration) (*Member, error) {
	secs := int64(ttl / time.Second)
	if secs < 2 {
		secs = 2
	}
	g, err := s.cli.Grant(ctx, secs)
	if err != nil {
		return nil, fmt.Errorf("grant agent lease: %w", err)
	}
	b, err := proto.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode agent info: %w", err)
	}
	key := s.agentKey(info.GetAgentId())
	if _, err := s.cli.Put(ctx, key, string(b), clientv3.WithLease(g.ID)); err != nil {
		return nil, fmt.Errorf("store agent %s: %w", info.GetAgentId(), err)
	}
	kctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ch, err := s.cli.KeepAlive(kctx, g.ID)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("keep agent lease alive: %w", err)
	}
	m := &Member{store: s, key: key, lease: g.ID, cancel: cancel, lost: make(chan struct{})}
	go func() {
		for range ch { //nolint:revive // drain keepalive responses
		}
		close(m.lost)
	}()
	return m, nil
}

// Update rewrites the member's info under the same lease.
func (m *Member) Update(ctx context.Context, info *pb.AgentInfo) error {
	b, err := proto.Marshal(info)
	if err != nil {
		return fmt.Errorf("encode agent info: %w", err)
	}
	if _, err := m.store.cli.Put(ctx, m.key, string(b), clientv3.WithLease(m.lease)); err != nil {
		return fmt.Errorf("update agent info: %w", err)
	}
	return nil
}

// Lost is closed when the lease can no longer be kept alive.
func (m *Member) Lost() <-chan struct{} { return m.lost }

// Close stops the keep-alive and revokes the lease, removing the key.
func (m *Member) Close(ctx context.Context) error {
	m.cancel()
	<-m.lost
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := m.store.cli.Revoke(ctx, m.lease); err != nil {
		return fmt.Errorf("revoke agent lease: %w", err)
	}
	return nil
}

// Agents lists the registered (live) agents.
func (s *Store) Agents(ctx context.Context) ([]*pb.AgentInfo, error) {
	resp, err := s.cli.Get(ctx, s.prefix+"agents/", clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	out := make([]*pb.AgentInfo, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var a pb.AgentInfo
		if err := proto.Unmarshal(kv.Value, &a); err != nil {
			return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
		}
		out = append(out, &a)
	}
	return out, nil
}

// ---- leadership ----

// Leader is won leadership. Writes fenced with it fail once it is lost.
type Leader struct {
	session  *concurrency.Session
	election *concurrency.Election
	key      string
	rev      int64
}

// Campaign blocks until this coordinator is the leader (or ctx ends). value
// is published as the leader's identity (its address).
func (s *Store) Campaign(ctx context.Context, value string, ttl time.Duration) (*Leader, error) {
	secs := int(ttl / time.Second)
	if secs < 2 {
		secs = 2
	}
	sess, err := concurrency.NewSession(s.cli, concurrency.WithTTL(secs), concurrency.WithContext(context.WithoutCancel(ctx)))
	if err != nil {
		return nil, fmt.Errorf("open etcd session: %w", err)
	}
	e := concurrency.NewElection(sess, s.prefix+"election")
	if err := e.Campaign(ctx, value); err != nil {
		sess.Close()
		return nil, fmt.Errorf("campaign for leadership: %w", err)
	}
	return &Leader{session: sess, election: e, key: e.Key(), rev: e.Rev()}, nil
}

// Lost is closed when the leader's session ends (lease expired or revoked).
func (l *Leader) Lost() <-chan struct{} { return l.session.Done() }

// Resign gives up leadership and closes the session.
func (l *Leader) Resign(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := l.election.Resign(ctx)
	if cerr := l.session.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("resign leadership: %w", err)
	}
	return nil
}

func (l *Leader) fence() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(l.key), "=", l.rev)
}

// LeaderValue returns the current leader's published value, or "" if none.
func (s *Store) LeaderValue(ctx context.Context) (string, error) {
	resp, err := s.cli.Get(ctx, s.prefix+"election/", clientv3.WithFirstCreate()...)
	if err != nil {
		return "", fmt.Errorf("read leader: %w", err)
	}
	if len(resp.Kvs) == 0 {
		return "", nil
	}
	return string(resp.Kvs[0].Value), nil
}

func (s *Store) fencedTxn(ctx context.Context, l *Leader, extra []clientv3.Cmp, ops ...clientv3.Op) (bool, error) {
	cmps := append([]clientv3.Cmp{l.fence()}, extra...)
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// ---- runs ----

// RunRecord is everything stored about a run except its windows.
type RunRecord struct {
	Spec   *pb.RunSpec
	State  *pb.RunStateRecord
	Shards []*pb.ShardRecord
	Events []*pb.RunEvent
}

func marshal(m proto.Message) (string, error) {
	b, err := proto.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", m, err)
	}
	return string(b), nil
}

// CreateRun stores a new run's spec, state and shards in one fenced
// transaction; it fails if the run id exists.
func (s *Store) CreateRun(ctx context.Context, l *Leader, spec *pb.RunSpec, st *pb.RunStateRecord, shards []*pb.ShardRecord) error {
	planKey := s.runKey(spec.GetRunId(), "plan")
	var ops []clientv3.Op
	v, err := marshal(spec)
	if err != nil {
		return err
	}
	ops = append(ops, clientv3.OpPut(planKey, v), clientv3.OpPut(s.prefix+"index/"+spec.GetRunId(), ""))
	if v, err = marshal(st); err != nil {
		return err
	}
	ops = append(ops, clientv3.OpPut(s.runKey(spec.GetRunId(), "state"), v))
	for _, sh := range shards {
		if v, err = marshal(sh); err != nil {
			return err
		}
		ops = append(ops, clientv3.OpPut(s.shardKey(spec.GetRunId(), sh.GetShard()), v))
	}
	resp, err := s.cli.Txn(ctx).If(l.fence(), clientv3.Compare(clientv3.CreateRevision(planKey), "=", 0)).Then(ops...).Commit()
	if err != nil {
		return fmt.Errorf("store run %s: %w", spec.GetRunId(), err)
	}
	if !resp.Succeeded {
		if ok, _ := s.isLeader(ctx, l); !ok {
			return ErrNotLeader
		}
		return fmt.Errorf("store run %s: a run with this id exists", spec.GetRunId())
	}
	return nil
}

func (s *Store) isLeader(ctx context.Context, l *Leader) (bool, error) {
	resp, err := s.cli.Get(ctx, l.key)
	if err != nil {
		return false, err
	}
	return len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision == l.rev, nil
}

// SetState replaces a run's state record (fenced).
func (s *Store) SetState(ctx context.Context, l *Leader, runID string, st *pb.RunStateRecord) error {
	v, err := marshal(st)
	if err != nil {
		return err
	}
	ok, err := s.fencedTxn(ctx, l, nil, clientv3.OpPut(s.runKey(runID, "state"), v))
	if err != nil {
		return fmt.Errorf("store state of run %s: %w", runID, err)
	}
	if !ok {
		return ErrNotLeader
	}
	return nil
}

// PutShard replaces a shard record (fenced).
func (s *Store) PutShard(ctx context.Context, l *Leader, runID string, sh *pb.ShardRecord) error {
	v, err := marshal(sh)
	if err != nil {
		return err
	}
	ok, err := s.fencedTxn(ctx, l, nil, clientv3.OpPut(s.shardKey(runID, sh.GetShard()), v))
	if err != nil {
		return fmt.Errorf("store shard %d of run %s: %w", sh.GetShard(), runID, err)
	}
	if !ok {
		return ErrNotLeader
	}
	return nil
}

// PutWindow stores a result window once. It returns created=false, with no
// error, when a window with the same identity is already stored: ingestion
// is idempotent across reconnects and coordinator restarts.
func (s *Store) PutWindow(ctx context.Context, l *Leader, w *pb.ResultWindow) (created bool, err error) {
	key := s.WindowKey(w)
	v, err := marshal(w)
	if err != nil {
		return false, err
	}
	resp, err := s.cli.Txn(ctx).
		If(l.fence(), clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, v)).
		Else(clientv3.OpTxn([]clientv3.Cmp{l.fence()}, nil, nil)).
		Commit()
	if err != nil {
		return false, fmt.Errorf("store window %s: %w", key, err)
	}
	if resp.Succeeded {
		return true, nil
	}
	// Either the key exists (a duplicate) or we lost leadership. The nested
	// transaction in Else tells which.
	if len(resp.Responses) == 1 {
		if tr := resp.Responses[0].GetResponseTxn(); tr != nil && tr.Succeeded {
			return false, nil
		}
	}
	return false, ErrNotLeader
}

// AddEvent appends an event to a run (fenced).
func (s *Store) AddEvent(ctx context.Context, l *Leader, runID string, ev *pb.RunEvent) error {
	v, err := marshal(&pb.RunEventRecord{Event: ev})
	if err != nil {
		return err
	}
	key := s.runKey(runID, "events/"+fmt.Sprintf("%020d", ev.GetAt().AsTime().UnixNano()))
	ok, err := s.fencedTxn(ctx, l, nil, clientv3.OpPut(key, v))
	if err != nil {
		return fmt.Errorf("store event of run %s: %w", runID, err)
	}
	if !ok {
		return ErrNotLeader
	}
	return nil
}

// Run reads one run (without its windows).
func (s *Store) Run(ctx context.Context, runID string) (*RunRecord, error) {
	if strings.ContainsAny(runID, "/\x00") || runID == "" {
		return nil, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	prefix := s.runKey(runID, "")
	rec := &RunRecord{}
	err := s.scan(ctx, prefix, s.runKey(runID, "windows/"), func(key string, val []byte) error {
		return rec.add(strings.TrimPrefix(key, prefix), val)
	})
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", runID, err)
	}
	if rec.Spec == nil {
		return nil, fmt.Errorf("run %q: %w", runID, ErrNotFound)
	}
	return rec, nil
}

func (r *RunRecord) add(part string, val []byte) error {
	switch {
	case part == "plan":
		r.Spec = &pb.RunSpec{}
		return proto.Unmarshal(val, r.Spec)
	case part == "state":
		r.State = &pb.RunStateRecord{}
		return proto.Unmarshal(val, r.State)
	case strings.HasPrefix(part, "shards/"):
		var sh pb.ShardRecord
		if err := proto.Unmarshal(val, &sh); err != nil {
			return err
		}
		r.Shards = append(r.Shards, &sh)
	case strings.HasPrefix(part, "events/"):
		var ev pb.RunEventRecord
		if err := proto.Unmarshal(val, &ev); err != nil {
			return err
		}
		r.Events = append(r.Events, ev.GetEvent())
	}
	return nil
}

// RunIDs lists the ids of all stored runs, in key order (ids sort by time).
func (s *Store) RunIDs(ctx context.Context) ([]string, error) {
	var ids []string
	prefix := s.prefix + "index/"
	err := s.scanKeys(ctx, prefix, func(key string) {
		ids = append(ids, strings.TrimPrefix(key, prefix))
	})
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return ids, nil
}

// Windows calls fn for every stored window of a run, in key order (by
// shard, epoch, seq).
func (s *Store) Windows(ctx context.Context, runID string, fn func(*pb.ResultWindow) error) error {
	prefix := s.runKey(runID, "windows/")
	return s.scan(ctx, prefix, "", func(key string, val []byte) error {
		var w pb.ResultWindow
		if err := proto.Unmarshal(val, &w); err != nil {
			return fmt.Errorf("decode %s: %w", key, err)
		}
		return fn(&w)
	})
}

const page = 256

// scan reads every key under prefix in pages, skipping keys under skip.
func (s *Store) scan(ctx context.Context, prefix, skip string, fn func(key string, val []byte) error) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	for {
		resp, err := s.cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(page))
		if err != nil {
			return err
		}
		skipped := false
		for _, kv := range resp.Kvs {
			k := string(kv.Key)
			if skip != "" && strings.HasPrefix(k, skip) {
				// Jump over the whole skipped range instead of reading
				// it (a run's windows are most of its keys).
				from, skipped = clientv3.GetPrefixRangeEnd(skip), true
				break
			}
			if err := fn(k, kv.Value); err != nil {
				return err
			}
		}
		switch {
		case skipped && from < end:
			continue
		case skipped, !resp.More || len(resp.Kvs) == 0:
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

func (s *Store) scanKeys(ctx context.Context, prefix string, fn func(key string)) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	from := prefix
	for {
		resp, err := s.cli.Get(ctx, from, clientv3.WithRange(end), clientv3.WithLimit(4*page), clientv3.WithKeysOnly())
		if err != nil {
			return err
		}
		for _, kv := range resp.Kvs {
			fn(string(kv.Key))
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return nil
		}
		from = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
