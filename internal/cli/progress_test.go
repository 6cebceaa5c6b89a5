package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func TestProgressLine(t *testing.T) {
	now := time.Now()
	base := func(start time.Time, state pb.RunState, findings int64) *pb.RunStatus {
		return &pb.RunStatus{State: state, StartAt: timestamppb.New(start), Planned: durationpb.New(10 * time.Second),
			Requests: 1234, RateRps: 99.6, AskedRps: 100, P50: durationpb.New(1500 * time.Microsecond),
			P99: durationpb.New(20 * time.Millisecond), Errors: 3, Dropped: 1, Findings: findings, Shards: 2, ShardsAlive: 2}
	}
	tests := []struct {
		name       string
		st         *pb.RunStatus
		want, not_ []string
	}{
		{"starting", base(now.Add(3*time.Second), pb.RunState_RUN_STATE_RUNNING, 0),
			[]string{"[....................] starting in 3.0s", "0.0s/10s"}, []string{"left", "findings"}},
		{"running", base(now.Add(-2*time.Second), pb.RunState_RUN_STATE_RUNNING, 4),
			[]string{"[####................] running", "2.0s/10s · 8s left", "1234 req · 100/s (asked 100/s)", "p50 1.5ms p99 20.0ms",
				"errors 3 · dropped 1 · findings 4 · agents 2/2"}, nil},
		{"completed", base(now.Add(-12*time.Second), pb.RunState_RUN_STATE_COMPLETED, 0),
			[]string{"[####################] completed", "10.0s/10s · 1234 req"}, []string{"left", "findings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := (&progress{}).line(tt.st)
			for _, w := range tt.want {
				if !strings.Contains(l, w) {
					t.Errorf("line %q lacks %q", l, w)
				}
			}
			for _, w := range tt.not_ {
				if strings.Contains(l, w) {
					t.Errorf("line %q has %q", l, w)
				}
			}
		})
	}
}

// TestProgressNotATerminal: without a terminal, lines are periodic and
// plain (no carriage returns or escapes), and the final state is always
// printed.
func TestProgressNotATerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b)
	running := &pb.RunStatus{State: pb.RunState_RUN_STATE_RUNNING, StartAt: timestamppb.Now(), Planned: durationpb.New(time.Second)}
	for range 5 {
		p.update(running)
	}
	p.update(&pb.RunStatus{State: pb.RunState_RUN_STATE_COMPLETED, StartAt: timestamppb.Now(), Planned: durationpb.New(time.Second)})
	out := b.String()
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d lines, want 2 (one periodic, one final):\n%s", n, out)
	}
	if strings.ContainsAny(out, "\r\033") {
		t.Errorf("terminal control characters in plain output: %q", out)
	}
	if !strings.Contains(out, "completed") {
		t.Errorf("no final line: %q", out)
	}
}
