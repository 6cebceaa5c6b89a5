// Package cli is the barrage command line: one binary with subcommands for
// the daemons (coordinator, agent), the all-in-one local mode (run), the
// clients (submit, watch, report, cancel, agents, runs), scenario tools
// (validate) and the bundled test target (target).
//
// Exit codes (a public interface, documented in README.md):
//
//	0  the command succeeded; for run, submit --wait and watch: the run completed
//	1  an error: coordinator or etcd unreachable, I/O, internal
//	2  bad command line (unknown flag, wrong arguments)
//	3  bad scenario file (every problem printed as file:line:col: message)
//	4  the run did not complete (failed or cancelled)
//
// Usage:
//
//	os.Exit(cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr))
//
// Concurrency: Main is called once per process.
package cli
