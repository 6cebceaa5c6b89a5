// Package cluster keeps Barrage's shared state in etcd: agent membership
// (keys bound to leases), coordinator leadership (an etcd election), and runs
// (spec, state, shard assignments, result windows, events). It is the only
// package that imports etcd's concurrency package.
//
// Keyspace, under a configurable prefix (default "/barrage/"):
//
//	agents/<agent-id>                         AgentInfo, bound to a lease
//	index/<run-id>                            empty; lists runs without reading them
//	election/                                 coordinator leader election
//	runs/<run-id>/plan                        RunSpec (scenario + compiled plan)
//	runs/<run-id>/state                       RunStateRecord
//	runs/<run-id>/shards/<k>                  ShardRecord
//	runs/<run-id>/windows/<k>/<epoch>/<seq>   ResultWindow, written once
//	runs/<run-id>/events/<nanos>              RunEventRecord
//
// Every write that only the leader may make is fenced: the transaction checks
// that the leader's election key still has the revision it had when this
// coordinator won, so a deposed leader's late writes fail with ErrNotLeader.
//
// Usage:
//
//	st := cluster.New(cli, "/barrage/")
//	lead, err := st.Campaign(ctx, "coord-1", "127.0.0.1:7000", 10*time.Second)
//	created, err := st.PutWindow(ctx, lead, w) // false: already stored
//
// Concurrency: a Store is safe for concurrent use.
package cluster
