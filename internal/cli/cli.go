package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/barrage-dev/barrage/internal/version"
)

// Exit codes.
const (
	ExitOK          = 0
	ExitError       = 1
	ExitUsage       = 2
	ExitBadScenario = 3
	ExitIncomplete  = 4
)

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErr(format string, args ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, args...))
}

type env struct {
	stdout, stderr io.Writer
	logLevel       string
}

func (e *env) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "barrage",
		Short:         "Distributed load and fault testing",
		Long:          "Barrage sends load to HTTP targets from many agents, merges their HDR histograms exactly, and reports latency and errors.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Version,
	}
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(ExitUsage, fmt.Errorf("%w\nRun '%s --help' for usage.", err, c.CommandPath()))
	})
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetArgs(args)
	root.AddCommand(
		runCmd(e), coordinatorCmd(e), agentCmd(e), submitCmd(e), watchCmd(e), reportCmd(e),
		cancelCmd(e), agentsCmd(e), runsCmd(e), validateCmd(e), generateCmd(e), replayCmd(e), targetCmd(e), versionCmd(e),
	)
	if path := os.Getenv("BARRAGE_CPUPROFILE"); path != "" {
		// For profiling the agent's hot path: a CPU profile of the whole
		// command, written on exit.
		if f, err := os.Create(path); err == nil {
			if err := pprof.StartCPUProfile(f); err == nil {
				defer func() {
					pprof.StopCPUProfile()
					f.Close()
				}()
			}
		}
	}
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := ExitError
	var xe *exitError
	if errors.As(err, &xe) {
		code = xe.code
	} else if isCobraUsage(err) {
		code = ExitUsage
	}
	msg := err.Error()
	if code != ExitBadScenario {
		msg = "barrage: " + msg
	}
	fmt.Fprintln(stderr, msg)
	return code
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.Contains(m, "arg(s)") || strings.HasPrefix(m, "required flag")
}

// exactArgs is cobra.ExactArgs with a usage exit code and names.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErr("%s needs %d argument(s): %s (got %d)\nRun '%s --help' for usage.",
				c.CommandPath(), len(names), strings.Join(names, " "), len(args), c.CommandPath())
		}
		return nil
	}
}

// rpcErr turns a gRPC error into a message a person can act on.
func rpcErr(addr string, err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Errorf("coordinator at %s is unavailable: %s", addr, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Errorf("coordinator at %s did not answer in time: %s", addr, st.Message())
	case codes.InvalidArgument:
		return withCode(ExitBadScenario, errors.New(st.Message()))
	case codes.NotFound, codes.FailedPrecondition, codes.PermissionDenied:
		return errors.New(st.Message())
	default:
		return fmt.Errorf("coordinator at %s: %s: %s", addr, st.Code(), st.Message())
	}
}

func defaultCoordinator() string {
	if v := os.Getenv("BARRAGE_COORDINATOR"); v != "" {
		return v
	}
	return "127.0.0.1:7000"
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(e.stdout, "barrage", version.Version)
			return nil
		},
	}
}
