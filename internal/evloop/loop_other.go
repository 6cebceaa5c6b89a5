//go:build !linux

package evloop

import (
	"context"
	"errors"
	"time"

	"github.com/barrage-dev/barrage/internal/pacer"
)

// Supported reports whether this system has the event loop.
const Supported = false

// Loop is unavailable on this system.
type Loop struct{}

// New fails on this system.
func New(Config) (*Loop, error) { return nil, errors.ErrUnsupported }

// RunOpen is unavailable on this system.
func (*Loop) RunOpen(context.Context, pacer.Shard, time.Time, int, int) error {
	return errors.ErrUnsupported
}

// RunClosed is unavailable on this system.
func (*Loop) RunClosed(context.Context, []ClosedStage, time.Time) error {
	return errors.ErrUnsupported
}
