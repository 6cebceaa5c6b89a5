// Package agent is the Barrage agent daemon: it connects to a coordinator
// over one gRPC stream (AgentLinkService.Connect), registers, receives shard
// assignments, runs them with internal/engine, and streams result windows
// back.
//
// Nothing is lost: every window stays in the agent's outbox until the
// coordinator acknowledges it; after a reconnect all unacknowledged windows
// are sent again, in order (the coordinator ingests each (run, shard, epoch,
// seq) once).
//
// No run-away load: when the agent cannot reach any coordinator for the
// dead-man timeout, it stops every shard (in-flight requests finish, bounded
// by the request timeout); their final windows wait in the outbox.
//
// Usage:
//
//	cfg := agent.DefaultConfig()
//	cfg.Coordinators = []string{"127.0.0.1:7000"}
//	err := agent.Run(ctx, cfg) // returns when ctx ends
//
// Concurrency: Run owns every goroutine it starts and returns only after
// they are gone.
package agent
