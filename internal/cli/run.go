package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/embedetcd"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func runCmd(e *env) *cobra.Command {
	var allowList, httpAddr string
	var outs outputs
	var agents int
	var o submitOpts
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a scenario locally: embedded etcd, a coordinator and N agents over loopback gRPC",
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.hasSeed = cmd.Flags().Changed("seed")
			if cmd.Flags().Changed("agents") && agents < 1 {
				return usageErr("--agents must be at least 1")
			}
			f, err := readScenario(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("agents") {
				agents = 2
				if f.sc.Agents > 0 {
					agents = f.sc.Agents
				}
			}
			o.agents = agents
			return e.local(cmd.Context(), args[0], f, o, splitList(allowList), httpAddr, outs)
		},
	}
	f := cmd.Flags()
	f.IntVar(&agents, "agents", 2, "number of local agents (default: the scenario's agents, or 2)")
	outs.flags(cmd)
	f.Uint64Var(&o.seed, "seed", 0, "run seed (default: the scenario's seed, or random)")
	f.StringVar(&allowList, "allow-targets", "", "CIDRs and host names load may go to (default: loopback only)")
	f.StringVar(&httpAddr, "http", "127.0.0.1:0", "address of the live web view and /metrics while the run goes (empty: none)")
	return cmd
}

// local runs the whole cluster in this process: the same code paths as
// cluster mode, talking over real gRPC on loopback.
func (e *env) local(ctx context.Context, path string, f *scenarioFile, o submitOpts, allowList []string, httpAddr string, outs outputs) error {
	// Components log warnings only, unless asked for more.
	log := e.logger()
	if e.logLevel == "info" {
		log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dir, err := os.MkdirTemp("", "barrage-etcd-")
	if err != nil {
		return fmt.Errorf("make etcd data directory: %w", err)
	}
	defer os.RemoveAll(dir)
	// etcd's own start-up warnings (single port, simple token) are about
	// production set-ups, not this throwaway one: show its errors only.
	etcdLog := log
	if e.logLevel != "debug" {
		etcdLog = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	etcd, err := embedetcd.Start(ctx, embedetcd.Config{Dir: dir, Logger: etcdLog})
	if err != nil {
		return err
	}
	defer etcd.Close()
	cli, err := clientv3.New(clientv3.Config{Endpoints: etcd.Endpoints(), DialTimeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("connect to embedded etcd: %w", err)
	}
	defer cli.Close()

	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	addrCh := make(chan string, 1)
	coordErr := make(chan error, 1)
	cfg := coordinator.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.Etcd = cli
	cfg.ID = "local"
	cfg.AllowTargets = allowList
	cfg.StartDelay = time.Second
	cfg.Grace = 10 * time.Second
	cfg.Logger = log
	cfg.OnLead = func(a string) { addrCh <- a }
	cfg.HTTP = httpAddr
	var webAddr string
	cfg.OnHTTP = func(a string) { webAddr = a }
	wg.Add(1)
	go func() {
		defer wg.Done()
		coordErr <- coordinator.Run(cctx, cfg)
	}()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-coordErr:
		return fmt.Errorf("start coordinator: %w", err)
	}
	for i := range o.agents {
		acfg := agent.DefaultConfig()
		acfg.Coordinators = []string{addr}
		acfg.Name = fmt.Sprintf("local-%d", i+1)
		acfg.AllowTargets = allowList
		acfg.Logger = log
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := agent.Run(cctx, acfg); err != nil {
				log.Error("agent stopped", "err", err)
			}
		}()
	}
	c, err := dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := waitAgents(ctx, c, o.agents); err != nil {
		return err
	}
	resp, err := c.submit(ctx, path, f, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "run %s: %d agent(s)\n", resp.GetRunId(), resp.GetShards())
	if webAddr != "" {
		fmt.Fprintf(e.stderr, "live view: http://%s/runs/%s\n", webAddr, resp.GetRunId())
	}
	for _, w := range resp.GetWarnings() {
		fmt.Fprintln(e.stderr, "warning:", w)
	}
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	go func() {
		// On interrupt, cancel the run so agents stop and report.
		<-ctx.Done()
		cctx2, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		_, _ = c.ctl.CancelRun(cctx2, &pb.CancelRunRequest{RunId: resp.GetRunId()})
	}()
	if _, err := c.watch(wctx, resp.GetRunId(), newProgress(e.stderr)); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer rcancel()
	res, err := c.result(rctx, resp.GetRunId())
	if err != nil {
		return err
	}
	return e.finish(rctx, c, res, outs)
}

// waitAgents waits until n agents are registered.
func waitAgents(ctx context.Context, c *client, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := c.ctl.ListAgents(ctx, &pb.ListAgentsRequest{})
		if err == nil && len(resp.GetAgents()) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			got := 0
			if resp != nil {
				got = len(resp.GetAgents())
			}
			return fmt.Errorf("only %d of %d local agents registered after 30s (last error: %v)", got, n, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
