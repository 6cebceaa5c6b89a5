package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/barrage-dev/barrage/internal/htmlreport"
	"github.com/barrage-dev/barrage/internal/openapi"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func submitCmd(e *env) *cobra.Command {
	var addr string
	var outs outputs
	var wait bool
	var o submitOpts
	cmd := &cobra.Command{
		Use:   "submit FILE",
		Short: "Submit a scenario to a coordinator; prints the run id",
		Args:  exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.hasSeed = cmd.Flags().Changed("seed")
			ctx := cmd.Context()
			f, err := readScenario(ctx, args[0])
			if err != nil {
				return err
			}
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.submit(ctx, args[0], f, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, resp.GetRunId())
			for _, w := range resp.GetWarnings() {
				fmt.Fprintln(e.stderr, "warning:", w)
			}
			if !wait {
				return nil
			}
			if _, err := c.watch(ctx, resp.GetRunId(), newProgress(e.stderr)); err != nil {
				return err
			}
			res, err := c.result(ctx, resp.GetRunId())
			if err != nil {
				return err
			}
			return e.finish(ctx, c, res, outs)
		},
	}
	addCoordinatorFlag(cmd, &addr)
	outs.flags(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run, then print its report; exit 4 unless it completed")
	cmd.Flags().IntVar(&o.agents, "agents", 0, "number of agents to shard over (default: the scenario's agents, or all live agents)")
	cmd.Flags().Uint64Var(&o.seed, "seed", 0, "run seed (default: the scenario's seed, or random)")
	return cmd
}

func watchCmd(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "watch RUN",
		Short: "Follow a run's progress until it ends; exit 4 unless it completed",
		Args:  exactArgs("RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			p := newProgress(e.stderr)
			p.every = time.Second
			st, err := c.watch(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if st == nil {
				return fmt.Errorf("no status for run %s", args[0])
			}
			fmt.Fprintln(e.stdout, p.line(st))
			return runExit(st)
		},
	}
	addCoordinatorFlag(cmd, &addr)
	return cmd
}

func reportCmd(e *env) *cobra.Command {
	var addr, format, out, compare string
	cmd := &cobra.Command{
		Use:   "report RUN|FILE",
		Short: "Print or write a run's report: text, json, junit, sarif, html or hlog; --compare another run",
		Long: `report prints a run's report, or writes it with -o. RUN is a run id the
coordinator knows, or a file written by run/submit --save.

Formats: text (the terminal report), json (the public JSON report), junit
(checks and findings as test cases), sarif (findings), html (one
self-contained file with plots and findings), hlog (per-endpoint interval
histograms in the HdrHistogram log format; needs the coordinator).

--compare BASE compares the run with a baseline run (a run id or a saved
file): text shows the deltas, html overlays the latency spectra.`,
		Args: exactArgs("RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "text", "json", "junit", "sarif", "html", "hlog":
			default:
				return usageErr("--format must be text, json, junit, sarif, html or hlog, not %q", format)
			}
			if compare != "" && format != "text" && format != "html" {
				return usageErr("--compare writes text or html, not %s", format)
			}
			ctx := cmd.Context()
			src := &resultSource{addr: addr}
			defer src.close()
			res, err := src.load(ctx, args[0])
			if err != nil {
				return err
			}
			var base *pb.RunResult
			if compare != "" {
				if base, err = src.load(ctx, compare); err != nil {
					return err
				}
			}
			if format == "hlog" && src.c == nil {
				return usageErr("--format hlog needs the run on a coordinator (a saved file holds no interval histograms; use run --hlog FILE)")
			}
			write := func(w io.Writer) error {
				switch {
				case base != nil && format == "html":
					return htmlreport.WriteCompare(w, base, res, htmlreport.Options{})
				case base != nil:
					a, err := report.Build(base)
					if err != nil {
						return fmt.Errorf("build report: %w", err)
					}
					b, err := report.Build(res)
					if err != nil {
						return fmt.Errorf("build report: %w", err)
					}
					return report.WriteCompareText(w, report.Compare(a, b))
				}
				switch format {
				case "json":
					rep, err := report.Build(res)
					if err != nil {
						return fmt.Errorf("build report: %w", err)
					}
					enc := json.NewEncoder(w)
					enc.SetIndent("", "  ")
					return enc.Encode(rep)
				case "junit":
					return report.WriteJUnit(w, res)
				case "sarif":
					return report.WriteSARIF(w, res)
				case "html":
					return writeHTML(w, res)
				case "hlog":
					return writeHlog(ctx, src.c, res, w)
				}
				rep, err := report.Build(res)
				if err != nil {
					return fmt.Errorf("build report: %w", err)
				}
				return report.WriteText(w, rep)
			}
			if out != "" && out != "-" {
				if err := writeFile(out, write); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "wrote %s\n", out)
				return nil
			}
			if format == "html" && isTerminal(e.stdout) {
				return usageErr("--format html writes a whole page: give -o FILE")
			}
			return write(e.stdout)
		},
	}
	addCoordinatorFlag(cmd, &addr)
	cmd.Flags().StringVar(&format, "format", "text", "text, json, junit, sarif, html or hlog")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().StringVar(&compare, "compare", "", "baseline run (id or saved file) to compare with")
	return cmd
}

func cancelCmd(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "cancel RUN",
		Short: "Cancel a run: agents stop starting requests and report what they did",
		Args:  exactArgs("RUN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.ctl.CancelRun(cmd.Context(), &pb.CancelRunRequest{RunId: args[0]})
			if err != nil {
				return rpcErr(addr, err)
			}
			fmt.Fprintf(e.stdout, "%s %s\n", args[0], report.StateName(resp.GetState()))
			return nil
		},
	}
	addCoordinatorFlag(cmd, &addr)
	return cmd
}

func agentsCmd(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "List live agents",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.ctl.ListAgents(cmd.Context(), &pb.ListAgentsRequest{})
			if err != nil {
				return rpcErr(addr, err)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tID\tADDRESS\tCPUS\tCLOCK OFFSET\tSHARDS\tVERSION\tCONNECTED")
			for _, a := range resp.GetAgents() {
				var shards []string
				for _, s := range a.GetShards() {
					shards = append(shards, fmt.Sprintf("%s/%d", s.GetRunId(), s.GetShard()))
				}
				sort.Strings(shards)
				sh := strings.Join(shards, ",")
				if sh == "" {
					sh = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", a.GetName(), a.GetAgentId(), a.GetAddress(), a.GetCpus(),
					fmtDur(a.GetClockOffset().AsDuration().Abs()), sh, a.GetVersion(), a.GetConnectedAt().AsTime().Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	addCoordinatorFlag(cmd, &addr)
	return cmd
}

func runsCmd(e *env) *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs, newest first",
		Args:  exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			resp, err := c.ctl.ListRuns(cmd.Context(), &pb.ListRunsRequest{})
			if err != nil {
				return rpcErr(addr, err)
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "RUN\tSCENARIO\tSTATE\tSHARDS\tREQUESTS\tCREATED\tMESSAGE")
			for _, r := range resp.GetRuns() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", r.GetRunId(), r.GetName(), report.StateName(r.GetState()),
					r.GetShards(), r.GetRequests(), r.GetCreatedAt().AsTime().Local().Format(time.DateTime), r.GetMessage())
			}
			return tw.Flush()
		},
	}
	addCoordinatorFlag(cmd, &addr)
	return cmd
}

func validateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files; print every problem as file:line:col: message",
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr("validate needs at least one FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var bad []string
			for _, path := range args {
				f, err := readScenario(cmd.Context(), path)
				if err != nil {
					var xe *exitError
					if errors.As(err, &xe) {
						err = xe.err
					}
					bad = append(bad, err.Error())
					continue
				}
				msg := "ok"
				if f.files != nil {
					msg = fmt.Sprintf("ok (%d file(s) of API description)", len(f.files))
				}
				fmt.Fprintf(e.stdout, "%s: %s\n", path, msg)
			}
			if len(bad) > 0 {
				return withCode(ExitBadScenario, fmt.Errorf("%s", strings.Join(bad, "\n")))
			}
			return nil
		},
	}
}

func generateCmd(e *env) *cobra.Command {
	var out, base string
	cmd := &cobra.Command{
		Use:   "generate SPEC",
		Short: "Write an editable scenario for an OpenAPI (or Swagger 2.0) description",
		Args:  exactArgs("SPEC"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return withCode(ExitBadScenario, fmt.Errorf("read description: %w", err))
			}
			dir := filepath.Dir(args[0])
			spec, err := openapi.Load(cmd.Context(), filepath.Base(args[0]), data, func(rel string) ([]byte, error) {
				return os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
			})
			if err != nil {
				return withCode(ExitBadScenario, err)
			}
			for _, w := range spec.Warnings {
				fmt.Fprintln(e.stderr, "warning:", w)
			}
			specPath := args[0]
			if out != "" && out != "-" {
				if rel, err := filepath.Rel(filepath.Dir(out), args[0]); err == nil {
					specPath = rel
				}
			}
			yaml, err := openapi.GenerateScenario(spec, openapi.GenerateOptions{SpecPath: filepath.ToSlash(specPath), BaseURL: base})
			if err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err = e.stdout.Write(yaml)
				return err
			}
			if err := os.WriteFile(out, yaml, 0o644); err != nil {
				return fmt.Errorf("write scenario: %w", err)
			}
			fmt.Fprintf(e.stderr, "wrote %s: %d operation(s) from %s\n", out, len(spec.Operations), args[0])
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the scenario to this file (default: standard output)")
	cmd.Flags().StringVar(&base, "base-url", "", "target base URL (default: the description's first loopback server, else http://127.0.0.1:8080)")
	return cmd
}
