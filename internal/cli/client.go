package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
	"github.com/barrage-dev/barrage/scenarios"
)

type client struct {
	addr  string // the coordinator talked to
	given string // the address the user gave (asked again after a failover)
	conn  *grpc.ClientConn
	ctl   pb.ControlServiceClient
}

// dial connects to the coordinator at addr; when that one is a follower
// that knows the leader, to the leader instead.
func dial(addr string) (*client, error) {
	c, err := dialOne(addr)
	if err != nil {
		return nil, err
	}
	c.given = addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := c.ctl.GetLeader(ctx, &pb.GetLeaderRequest{})
	l := resp.GetLeader()
	if err != nil || resp.GetIsLeader() || l == addr || !usableAddr(l) {
		// Unreachable or unknown: the first real call says so.
		return c, nil
	}
	lc, err := dialOne(l)
	if err != nil {
		return c, nil
	}
	c.Close()
	lc.given = addr
	return lc, nil
}

// usableAddr reports whether a leader's advertised address can be dialled
// from elsewhere: a coordinator listening on all interfaces without
// --advertise advertises 0.0.0.0 or [::], which would mean this machine.
func usableAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}

// redial connects again through the address the user gave: after a
// failover it leads, or names the coordinator that does.
func (c *client) redial() {
	if c.given == "" {
		return
	}
	nc, err := dial(c.given)
	if err != nil {
		return
	}
	c.conn.Close()
	c.addr, c.conn, c.ctl = nc.addr, nc.conn, nc.ctl
}

func dialOne(addr string) (*client, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return nil, fmt.Errorf("coordinator address %q: %w", addr, err)
	}
	return &client{addr: addr, conn: conn, ctl: pb.NewControlServiceClient(conn)}, nil
}

func (c *client) Close() { c.conn.Close() }

func addCoordinatorFlag(cmd *cobra.Command, addr *string) {
	cmd.Flags().StringVar(addr, "coordinator", defaultCoordinator(), "coordinator gRPC address (env BARRAGE_COORDINATOR)")
}

// scenarioFile is a scenario read and checked on the client.
type scenarioFile struct {
	src   []byte
	env   map[string]string
	files map[string][]byte // files it refers to, relative to it
	sc    *scenarios.Scenario
}

// readScenario reads and validates a scenario file locally (its API
// description too), and collects the environment variables and files it
// refers to.
func readScenario(ctx context.Context, path string) (*scenarioFile, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, withCode(ExitBadScenario, fmt.Errorf("read scenario: %w", err))
	}
	env := map[string]string{}
	for _, name := range scenarios.EnvRefs(src) {
		if v, ok := os.LookupEnv(name); ok {
			env[name] = v
		}
	}
	sc, err := scenarios.Parse(path, src, env)
	if err != nil {
		return nil, withCode(ExitBadScenario, err)
	}
	f := &scenarioFile{src: src, env: env, sc: sc}
	dir := filepath.Dir(path)
	api, err := sc.LoadAPI(ctx, func(rel string) ([]byte, error) {
		return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	})
	if err != nil {
		return nil, withCode(ExitBadScenario, err)
	}
	if api != nil {
		f.files = api.Files
	}
	return f, nil
}

type submitOpts struct {
	agents  int
	seed    uint64
	hasSeed bool
}

func (c *client) submit(ctx context.Context, path string, f *scenarioFile, o submitOpts) (*pb.SubmitRunResponse, error) {
	resp, err := c.ctl.SubmitRun(ctx, &pb.SubmitRunRequest{
		FileName: filepath.Base(path), Scenario: f.src, Env: f.env, Files: f.files,
		Seed: o.seed, HasSeed: o.hasSeed, Agents: int32(o.agents),
	})
	if err != nil {
		return nil, rpcErr(c.addr, err)
	}
	return resp, nil
}

// watch follows a run, drawing progress, until it ends; it returns the last
// status.
func (c *client) watch(ctx context.Context, runID string, p *progress) (*pb.RunStatus, error) {
	var last *pb.RunStatus
outer:
	for attempt := 0; ; attempt++ {
		stream, err := c.ctl.WatchRun(ctx, &pb.WatchRunRequest{RunId: runID})
		if err != nil {
			if status.Code(err) == codes.Unavailable && attempt < 30 {
				p.note(fmt.Sprintf("coordinator unavailable (%v); retrying", status.Convert(err).Message()))
				select {
				case <-time.After(time.Second):
					c.redial()
					continue outer
				case <-ctx.Done():
					return last, ctx.Err()
				}
			}
			return nil, rpcErr(c.addr, err)
		}
		for {
			st, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				p.done()
				return last, nil
			}
			if err != nil {
				if ctx.Err() != nil {
					p.done()
					return last, ctx.Err()
				}
				// A coordinator restart or leader change: try again for a
				// while before giving up.
				if status.Code(err) == codes.Unavailable && attempt < 30 {
					p.note(fmt.Sprintf("lost the coordinator (%v); retrying", err))
					select {
					case <-time.After(time.Second):
					case <-ctx.Done():
						return last, ctx.Err()
					}
					c.redial()
					continue outer
				}
				p.done()
				return last, rpcErr(c.addr, err)
			}
			last = st
			p.update(st)
		}
	}
}

func (c *client) result(ctx context.Context, runID string) (*pb.RunResult, error) {
	res, err := c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: runID})
	if status.Code(err) == codes.Unavailable {
		// The leader may have changed since this client connected.
		c.redial()
		res, err = c.ctl.GetRunResult(ctx, &pb.GetRunResultRequest{RunId: runID})
	}
	if err != nil {
		return nil, rpcErr(c.addr, err)
	}
	return res, nil
}

// outputs are the report files a run may write besides the terminal text.
type outputs struct {
	json, junit, sarif, html, hlog, save string
}

func (o *outputs) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.json, "json", "", "also write the JSON report to this file")
	cmd.Flags().StringVar(&o.junit, "junit", "", "also write JUnit XML (the run's checks and findings as test cases) to this file")
	cmd.Flags().StringVar(&o.sarif, "sarif", "", "also write the findings as SARIF 2.1.0 to this file")
	cmd.Flags().StringVar(&o.html, "html", "", "also write the self-contained HTML report (plots, findings) to this file")
	cmd.Flags().StringVar(&o.hlog, "hlog", "", "also write per-endpoint interval histograms in the HdrHistogram log format to this file")
	cmd.Flags().StringVar(&o.save, "save", "", "also save the complete results to this file (for barrage report FILE and --compare)")
}

// finish prints the report (text to stdout, files as asked) and turns the
// run's state into the exit code.
func (e *env) finish(ctx context.Context, c *client, res *pb.RunResult, out outputs) error {
	rep, err := report.Build(res)
	if err != nil {
		return fmt.Errorf("build report: %w", err)
	}
	if err := report.WriteText(e.stdout, rep); err != nil {
		return err
	}
	if out.json != "" {
		if err := writeJSONFile(out.json, rep); err != nil {
			return err
		}
	}
	for _, f := range []struct {
		path  string
		write func(io.Writer, *pb.RunResult) error
	}{{out.junit, report.WriteJUnit}, {out.sarif, report.WriteSARIF}, {out.html, writeHTML}, {out.save, saveResult},
		{out.hlog, func(w io.Writer, res *pb.RunResult) error { return writeHlog(ctx, c, res, w) }}} {
		if f.path == "" {
			continue
		}
		if err := writeFile(f.path, func(w io.Writer) error { return f.write(w, res) }); err != nil {
			return err
		}
	}
	return runExit(res.GetStatus())
}

// writeFile writes a file whole or not at all: into a temporary file next
// to it, renamed into place once complete, so a failure leaves no empty or
// half-written report behind (and an older one intact).
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func runExit(st *pb.RunStatus) error {
	if st.GetState() != pb.RunState_RUN_STATE_COMPLETED {
		msg := st.GetMessage()
		if msg == "" {
			msg = "run did not complete"
		}
		return withCode(ExitIncomplete, fmt.Errorf("run %s %s: %s", st.GetRunId(), report.StateName(st.GetState()), msg))
	}
	return nil
}

func writeJSONFile(path string, v any) error {
	return writeFile(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
