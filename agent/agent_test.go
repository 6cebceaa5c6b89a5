package agent

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"ok", Config{Coordinators: []string{"127.0.0.1:7000"}}, true},
		{"no coordinator", Config{}, false},
		{"negative dead-man", Config{Coordinators: []string{"x:1"}, DeadMan: -time.Second}, false},
		{"bad allowlist", Config{Coordinators: []string{"x:1"}, AllowTargets: []string{"1.2.3.4/40"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); (err == nil) != tt.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

// TestRunWithoutCoordinatorStopsCleanly: an agent whose coordinator is not
// there keeps retrying, and returns with no goroutine left when cancelled.
func TestRunWithoutCoordinatorStopsCleanly(t *testing.T) {
	defer goleak.VerifyNone(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	cfg := DefaultConfig()
	cfg.Coordinators = []string{addr}
	cfg.Logger = slog.New(slog.DiscardHandler)
	start := time.Now()
	if err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Run took %v to return after cancel", el)
	}
}
