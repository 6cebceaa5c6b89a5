// Package coordinator is the Barrage coordinator daemon. It serves two gRPC
// services on one port: ControlService for clients (submit, watch, results,
// interval histograms, cancel, list) and AgentLinkService for agents (one
// stream each). With Config.HTTP it also serves, on another port, the
// read-only web view (runs, a live run page over server-sent events, agents)
// and Prometheus /metrics, both derived from the merged result windows.
//
// Leadership and state live in etcd (internal/cluster): the coordinator
// campaigns for leadership at start and serves only as the leader (followers
// answer UNAVAILABLE and name the leader); every write it makes is fenced by
// its election key, so a deposed leader cannot write. A new leader reads the
// runs from etcd and rebuilds their results from the stored windows.
//
// A run: SubmitRun validates and compiles the scenario (every problem as
// file:line:col, nothing stored when bad), picks the live agents, stores
// spec + state + shard assignments in one transaction, and sends each agent
// its Assignment. Windows are stored once each (create-only transaction on
// their identity), merged (internal/results) and acknowledged. The run is
// COMPLETED when every shard's final window and all before it are in; FAILED
// when a shard cannot finish by its deadline; CANCELLED on request.
//
// Usage:
//
//	cfg := coordinator.DefaultConfig()
//	cfg.EtcdEndpoints = []string{"http://127.0.0.1:2379"}
//	err := coordinator.Run(ctx, cfg) // returns when ctx ends
//
// Concurrency: Run owns every goroutine it starts and returns only after
// they are gone. Each run is guarded by its own mutex; the agent and run
// tables by the server's.
package coordinator
