package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/barrage-dev/barrage/internal/allow"
	"github.com/barrage-dev/barrage/internal/apireq"
	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/report"
	"github.com/barrage-dev/barrage/internal/version"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func replayCmd(e *env) *cobra.Command {
	var addr, allowList, op, reportFile string
	var cs int
	var insecure bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "replay [RUN] FINDING | RUN --op OP --case N | FINDING --report FILE",
		Short: "Send a finding's request again (or a mutation case with --op/--case) and show the response",
		Long: `replay re-sends the exact request that showed a finding (FINDING is its id, or a
prefix of it, from the report) to the run's target and prints the response.
Without RUN it looks for the finding in the coordinator's runs, newest
first; with --report it takes the finding from a JSON report written by
run --json (local mode keeps no coordinator to ask).
With --op and --case instead, it builds that mutation case of that operation
from the run's plan (fresh valid values around it). The target must be on
the allowed list (loopback unless --allow-targets says otherwise).`,
		Args: func(c *cobra.Command, args []string) error {
			switch {
			case reportFile != "" && op != "":
				return usageErr("replay takes --report or --op, not both")
			case reportFile != "" && len(args) == 1:
			case reportFile != "":
				return usageErr("replay --report FILE needs one FINDING")
			case len(args) == 2 && op == "":
			case len(args) == 1:
			default:
				return usageErr("replay needs FINDING, RUN and FINDING, or RUN with --op and --case")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			al, err := allow.Parse(splitList(allowList))
			if err != nil {
				return usageErr("--allow-targets: %v", err)
			}
			if reportFile != "" {
				f, base, err := findInReport(reportFile, args[0])
				if err != nil {
					return err
				}
				req := []byte(f.Request)
				if len(f.RequestRaw) > 0 {
					req = f.RequestRaw
				}
				if len(req) == 0 {
					return errNoRequest
				}
				e.describe(f)
				return e.send(ctx, &pb.Target{BaseUrl: base, InsecureSkipVerify: insecure}, req, al, timeout)
			}
			c, err := dial(addr)
			if err != nil {
				return err
			}
			defer c.Close()
			var res *pb.RunResult
			var req []byte
			switch {
			case op != "":
				if res, err = c.result(ctx, args[0]); err != nil {
					return err
				}
				if req, err = buildCase(ctx, res.GetPlan(), op, cs); err != nil {
					return err
				}
			default:
				var f report.Finding
				if len(args) == 2 {
					if res, err = c.result(ctx, args[0]); err != nil {
						return err
					}
					f, err = findFinding(res, args[1])
				} else {
					res, f, err = c.searchFinding(ctx, args[0])
				}
				if err != nil {
					return err
				}
				e.describe(f)
				req = []byte(f.Request)
			}
			if len(req) == 0 {
				return errNoRequest
			}
			if insecure {
				res.GetPlan().GetTarget().InsecureSkipVerify = true
			}
			return e.send(ctx, res.GetPlan().GetTarget(), req, al, timeout)
		},
	}
	addCoordinatorFlag(cmd, &addr)
	cmd.Flags().StringVar(&allowList, "allow-targets", "", "CIDRs and host names the replay may go to (default: loopback only)")
	cmd.Flags().StringVar(&op, "op", "", "operation id to build a mutation case of (with --case)")
	cmd.Flags().IntVar(&cs, "case", -1, "mutation case index (-1: a valid request)")
	cmd.Flags().StringVar(&reportFile, "report", "", "take the finding from this JSON report (run --json) instead of the coordinator")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "do not verify the target's TLS certificate")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the response")
	return cmd
}

var errNoRequest = errors.New("the finding has no request to replay (it is about a trend, not one request)")

// describe says which finding is being replayed.
func (e *env) describe(f report.Finding) {
	fmt.Fprintf(e.stderr, "finding %s: [%s] %s on %s — %s\n", f.ID, f.Severity, f.Oracle, f.Operation, f.Evidence)
	if f.Status > 0 {
		fmt.Fprintf(e.stderr, "it saw HTTP %d; replaying\n", f.Status)
	}
}

// searchRuns is how many of the newest runs replay FINDING looks through.
const searchRuns = 50

// searchFinding finds a finding by id prefix among the coordinator's
// newest runs.
func (c *client) searchFinding(ctx context.Context, id string) (*pb.RunResult, report.Finding, error) {
	runs, err := c.ctl.ListRuns(ctx, &pb.ListRunsRequest{})
	if err != nil {
		return nil, report.Finding{}, fmt.Errorf("list runs: %w", err)
	}
	var lastErr error
	for i, r := range runs.GetRuns() {
		if i == searchRuns {
			break
		}
		res, err := c.result(ctx, r.GetRunId())
		if err != nil {
			lastErr = err
			continue
		}
		f, err := findFinding(res, id)
		if err == nil {
			return res, f, nil
		}
		if !errors.Is(err, errNoFinding) {
			return nil, report.Finding{}, err
		}
	}
	if lastErr != nil {
		return nil, report.Finding{}, fmt.Errorf("no finding %q in the newest %d runs (some could not be read: %w)", id, min(len(runs.GetRuns()), searchRuns), lastErr)
	}
	return nil, report.Finding{}, fmt.Errorf("no finding %q in the newest %d runs; name the run: barrage replay RUN FINDING", id, min(len(runs.GetRuns()), searchRuns))
}

// findInReport finds a finding by id prefix in a JSON report file and
// returns it with the run's target.
func findInReport(path, id string) (report.Finding, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return report.Finding{}, "", err
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		return report.Finding{}, "", fmt.Errorf("%s: not a barrage JSON report: %w", path, err)
	}
	if rep.Target == "" {
		return report.Finding{}, "", fmt.Errorf("%s: the report names no target (written by an older barrage?)", path)
	}
	hits, err := pick(rep.Findings, id)
	if err != nil {
		return report.Finding{}, "", fmt.Errorf("%s: %w", path, err)
	}
	return hits, rep.Target, nil
}

// pick is the one finding whose id or fingerprint starts with id.
func pick(fs []report.Finding, id string) (report.Finding, error) {
	if id == "" {
		return report.Finding{}, usageErr("FINDING must not be empty")
	}
	var hits []report.Finding
	for _, f := range fs {
		if strings.HasPrefix(f.ID, id) || strings.HasPrefix(f.Fingerprint, id) {
			hits = append(hits, f)
		}
	}
	switch len(hits) {
	case 0:
		return report.Finding{}, fmt.Errorf("%w %q", errNoFinding, id)
	case 1:
		return hits[0], nil
	}
	return report.Finding{}, fmt.Errorf("finding id %q is ambiguous (%d findings start with it)", id, len(hits))
}

var errNoFinding = errors.New("no finding")

func findFinding(res *pb.RunResult, id string) (report.Finding, error) {
	rep, err := report.Build(res)
	if err != nil {
		return report.Finding{}, err
	}
	f, err := pick(rep.Findings, id)
	if err != nil {
		return report.Finding{}, fmt.Errorf("run %s: %w", res.GetStatus().GetRunId(), err)
	}
	// The report's Request is for reading; take the exact bytes.
	for _, s := range res.GetFindings() {
		if s.GetFingerprint() == f.Fingerprint {
			f.Request = string(s.GetRequest())
		}
	}
	return f, nil
}

// buildCase builds mutation case c of operation op from the run's plan.
func buildCase(ctx context.Context, plan *pb.Plan, op string, c int) ([]byte, error) {
	comp, err := apireq.Compile(ctx, plan, apireq.Options{UserAgent: "barrage/" + version.Version, Shards: 1})
	if err != nil {
		return nil, err
	}
	for i, o := range comp.Ops() {
		if o.O.ID != op {
			continue
		}
		s := comp.NewSender(plan.GetSeed(), 0, 1)
		req, _, err := s.BuildCase(nil, i, c)
		if err == nil && c >= 0 {
			cs := comp.Cases(i)[c]
			fmt.Fprintf(os.Stderr, "case %d of %s: %s — %s (a correct server answers %s)\n", c, op, cs.Name, cs.Detail, cs.Expect)
		}
		return req, err
	}
	return nil, fmt.Errorf("the run has no operation %q", op)
}

// send writes req to the target and prints what comes back.
func (e *env) send(ctx context.Context, t *pb.Target, req []byte, al *allow.List, timeout time.Duration) error {
	u, err := url.Parse(t.GetBaseUrl())
	if err != nil {
		return fmt.Errorf("target base_url: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := al.Dialer(&net.Dialer{})(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return fmt.Errorf("connect to the target: %w", err)
	}
	defer conn.Close()
	if u.Scheme == "https" {
		tc := tls.Client(conn, &tls.Config{ServerName: u.Hostname(), InsecureSkipVerify: t.GetInsecureSkipVerify(), NextProtos: []string{"http/1.1"}}) //nolint:gosec // the scenario's choice
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	start := time.Now()
	if _, err := conn.Write(req); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	var p h1.Parser
	p.Reset(strings.HasPrefix(string(req), "HEAD "))
	p.Capture(1 << 20)
	buf := make([]byte, 32<<10)
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			_, done, perr := p.Feed(buf[:n])
			if perr != nil {
				return fmt.Errorf("the response is malformed: %w", perr)
			}
			if done {
				break
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				if done, perr := p.EOF(); done {
					break
				} else if p.BytesIn() == 0 {
					return fmt.Errorf("the target closed the connection without a response (after %v)", time.Since(start).Round(time.Millisecond))
				} else {
					return fmt.Errorf("the response was cut short: %w", perr)
				}
			}
			return fmt.Errorf("no response after %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
	}
	head, body, truncated := p.Captured()
	fmt.Fprintf(e.stderr, "HTTP %d in %v\n", p.Status(), time.Since(start).Round(100*time.Microsecond))
	e.stdout.Write(head)
	e.stdout.Write(body)
	if truncated {
		fmt.Fprintln(e.stdout, "\n… (body truncated at 1 MiB)")
	} else if len(body) > 0 && body[len(body)-1] != '\n' {
		fmt.Fprintln(e.stdout)
	}
	return nil
}
