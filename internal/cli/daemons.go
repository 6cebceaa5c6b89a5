package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/barrage-dev/barrage/agent"
	"github.com/barrage-dev/barrage/coordinator"
	"github.com/barrage-dev/barrage/internal/target"
	"github.com/barrage-dev/barrage/internal/target/shop"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func coordinatorCmd(e *env) *cobra.Command {
	cfg := coordinator.DefaultConfig()
	var endpoints, allowList string
	cmd := &cobra.Command{
		Use:   "coordinator",
		Short: "Run a coordinator (etcd-backed; campaigns for leadership)",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.EtcdEndpoints = splitList(endpoints)
			cfg.AllowTargets = splitList(allowList)
			cfg.Logger = e.logger()
			if err := cfg.Validate(); err != nil {
				return withCode(ExitUsage, err)
			}
			return coordinator.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&endpoints, "etcd-endpoints", "", "etcd client URLs, comma-separated (required)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "gRPC listen address")
	f.StringVar(&cfg.HTTP, "http", "127.0.0.1:7080", "address of the web view and /metrics (empty: none)")
	f.StringVar(&cfg.Advertise, "advertise", "", "address clients and agents use to reach this coordinator (default: the listen address)")
	f.StringVar(&cfg.ID, "id", "", "coordinator id (default: host-pid)")
	f.StringVar(&cfg.Prefix, "etcd-prefix", cfg.Prefix, "etcd key prefix")
	f.StringVar(&allowList, "allow-targets", "", "CIDRs and host names runs may target, comma-separated (default: loopback only)")
	f.DurationVar(&cfg.AgentTTL, "agent-ttl", cfg.AgentTTL, "agent membership lease TTL")
	f.DurationVar(&cfg.LeaderTTL, "leader-ttl", cfg.LeaderTTL, "leadership lease TTL (how long a crashed leader blocks its successor)")
	f.DurationVar(&cfg.StartDelay, "start-delay", cfg.StartDelay, "time from submit to the common start of a run's load")
	f.DurationVar(&cfg.Grace, "grace", cfg.Grace, "how long past a run's planned end to wait for missing results before it fails")
	f.DurationVar(&cfg.Takeover, "takeover", cfg.Takeover, "how long a shard's agent may be gone before another agent runs the rest of the shard (open model; never less than that agent's --dead-man + 2s; negative: never)")
	return cmd
}

func agentCmd(e *env) *cobra.Command {
	cfg := agent.DefaultConfig()
	var coords, allowList string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run an agent: connect to a coordinator and run the shards it assigns",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Coordinators = splitList(coords)
			cfg.AllowTargets = splitList(allowList)
			cfg.Logger = e.logger()
			if cfg.Pod == "" {
				cfg.Pod = os.Getenv("POD_NAME")
			}
			if cfg.Node == "" {
				cfg.Node = os.Getenv("NODE_NAME")
			}
			if err := cfg.Validate(); err != nil {
				return withCode(ExitUsage, err)
			}
			return agent.Run(cmd.Context(), cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&coords, "coordinator", defaultCoordinator(), "coordinator gRPC address(es), comma-separated")
	f.StringVar(&cfg.Name, "name", cfg.Name, "agent name")
	f.StringVar(&cfg.HTTP, "http", "", "address of /metrics and /healthz, e.g. :9090 (default: none)")
	f.StringVar(&allowList, "allow-targets", "", "CIDRs and host names load may go to, comma-separated (default: loopback only)")
	f.DurationVar(&cfg.DeadMan, "dead-man", cfg.DeadMan, "stop all load when no coordinator was reachable for this long")
	return cmd
}

func targetCmd(e *env) *cobra.Command {
	var cfg target.Config
	var listen, api, defects string
	var degradeEvery int
	var anyAddr bool
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Serve the bundled test target (for demos, tests and benchmarks; loopback only)",
		Long: `Serve the bundled test target on loopback.

--api catalogue (the default) serves the small product catalogue the demo and
the benchmarks use. --api shop serves the described shop API instead (its
OpenAPI document is at /openapi.yaml; bearer tokens alice-token and bob-token),
with the planted defects --defects names: all, none, or a comma-separated
list of ` + strings.Join(shop.DefectNames(), ", ") + `.
/health and /_stats answer in both.`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			host, _, err := net.SplitHostPort(listen)
			if err != nil {
				return usageErr("--listen %q: %v", listen, err)
			}
			if ip := net.ParseIP(host); !anyAddr && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageErr("--listen %q: the test target listens on loopback only (--in-container allows other addresses, for the project's own containers)", listen)
			}
			var d shop.Defects
			switch api {
			case "catalogue":
				if cmd.Flags().Changed("defects") {
					return usageErr("--defects needs --api shop")
				}
			case "shop":
				if d, err = shop.ParseDefects(defects); err != nil {
					return usageErr("--defects: %v", err)
				}
				cfg.Handler = shop.New(shop.Config{Defects: d, DegradeEvery: degradeEvery})
			default:
				return usageErr("--api %q: want catalogue or shop", api)
			}
			lis, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen: %w", err)
			}
			t := target.New(cfg)
			srv := &http.Server{Handler: t, ReadHeaderTimeout: 10 * time.Second}
			log := e.logger()
			log.Info("test target listening", "addr", lis.Addr().String(), "api", api, "defects", d.String())
			go func() {
				<-cmd.Context().Done()
				_ = srv.Close()
			}()
			if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			log.Info("test target stopped", "requests", t.Requests())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:18080", "listen address (loopback)")
	f.BoolVar(&anyAddr, "in-container", false, "allow a non-loopback --listen address: the target runs in the project's own container, on its own network")
	f.StringVar(&api, "api", "catalogue", "API to serve: catalogue or shop")
	f.StringVar(&defects, "defects", "none", "shop defects to plant: all, none, or names, comma-separated (with --api shop)")
	f.IntVar(&degradeEvery, "degrade-every", 0, "shop degradation defect: GET /orders slows 1 ms per this many stored orders (default 50)")
	f.DurationVar(&cfg.Delay, "delay", 0, "delay added to every request")
	f.DurationVar(&cfg.Stall, "stall", 0, "hold requests arriving in the first STALL of every --stall-every period")
	f.DurationVar(&cfg.StallEvery, "stall-every", 0, "stall period")
	return cmd
}
