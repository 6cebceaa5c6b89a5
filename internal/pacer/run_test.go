package pacer_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/barrage-dev/barrage/internal/pacer"
)

type delivery struct {
	i, g     int64
	intended time.Time
	at       time.Time
}

func collect(ds *[]delivery) func(i, g int64, intended time.Time) {
	return func(i, g int64, intended time.Time) {
		*ds = append(*ds, delivery{i, g, intended, time.Now()})
	}
}

// checkDeliveries checks that ds is exactly shard sh's arrivals in order, each
// delivered at or after its intended time start+offset and at most MinSleep
// after it.
func checkDeliveries(t *testing.T, sh pacer.Shard, start time.Time, ds []delivery) {
	t.Helper()
	if int64(len(ds)) != sh.Count() {
		t.Fatalf("%d deliveries, want %d", len(ds), sh.Count())
	}
	for n, d := range ds {
		g, at, _ := sh.At(int64(n))
		if d.i != int64(n) || d.g != g {
			t.Fatalf("delivery %d has i=%d g=%d, want i=%d g=%d", n, d.i, d.g, n, g)
		}
		if want := start.Add(at); !d.intended.Equal(want) {
			t.Fatalf("delivery %d intended %v, want %v", n, d.intended, want)
		}
		if late := d.at.Sub(d.intended); late < 0 || late > pacer.MinSleep {
			t.Fatalf("delivery %d at %v, %v after its intended time", n, d.at, late)
		}
	}
}

func TestRunDeliversOnTime(t *testing.T) {
	tests := []struct {
		name   string
		stages []pacer.Stage
		k, n   int
	}{
		{"constant 100/s", []pacer.Stage{{Duration: 2 * time.Second, From: 100, To: 100}}, 0, 1},
		{"ramp, shard 2 of 3", []pacer.Stage{{Duration: 3 * time.Second, From: 0, To: 300}}, 2, 3},
		{"with a pause", []pacer.Stage{{Duration: time.Second, From: 50, To: 50}, {Duration: time.Second}, {Duration: time.Second, From: 50, To: 0}}, 1, 2},
		{"20k/s, one shard", []pacer.Stage{{Duration: 500 * time.Millisecond, From: 20000, To: 20000}}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sh, err := mustSchedule(t, tt.stages...).Shard(tt.k, tt.n)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				var ds []delivery
				if err := pacer.Run(t.Context(), sh, start, collect(&ds)); err != nil {
					t.Fatal(err)
				}
				checkDeliveries(t, sh, start, ds)
				// Run returns as soon as the last arrival is delivered.
				if _, last, _ := sh.At(sh.Count() - 1); time.Since(start) > last+pacer.MinSleep {
					t.Errorf("Run returned %v after start, last arrival at %v", time.Since(start), last)
				}
			})
		})
	}
}

// TestRunBatchesHighRates checks the minimum sleep: at 20,000/s (one arrival
// every 50 µs) Run wakes at most once per MinSleep, delivering the arrivals
// in between as one batch.
func TestRunBatchesHighRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 20000, To: 20000})
		sh, _ := s.Shard(0, 1)
		start := time.Now()
		wakeups := map[time.Time]int{}
		err := pacer.Run(t.Context(), sh, start, func(_, _ int64, _ time.Time) { wakeups[time.Now()]++ })
		if err != nil {
			t.Fatal(err)
		}
		if maxWakeups := int(s.Total()/pacer.MinSleep) + 1; len(wakeups) > maxWakeups {
			t.Errorf("%d distinct delivery times for 20000 arrivals, want at most %d", len(wakeups), maxWakeups)
		}
	})
}

func TestRunFutureStartWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sh, _ := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 10, To: 10}).Shard(0, 1)
		start := time.Now().Add(10 * time.Second)
		var ds []delivery
		if err := pacer.Run(t.Context(), sh, start, collect(&ds)); err != nil {
			t.Fatal(err)
		}
		checkDeliveries(t, sh, start, ds)
		if !ds[0].at.Equal(start) {
			t.Errorf("first delivery at %v, want the start %v", ds[0].at, start)
		}
	})
}

// TestRunPastStartCatchesUp checks that arrivals whose time has passed when
// Run starts are all delivered at once, with their original intended times.
func TestRunPastStartCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sh, _ := mustSchedule(t, pacer.Stage{Duration: 2 * time.Second, From: 1000, To: 1000}).Shard(0, 1)
		now := time.Now()
		start := now.Add(-time.Second)
		var ds []delivery
		if err := pacer.Run(t.Context(), sh, start, collect(&ds)); err != nil {
			t.Fatal(err)
		}
		if len(ds) != 2000 {
			t.Fatalf("%d deliveries, want 2000", len(ds))
		}
		backlog := sh.Due(time.Second)
		for n, d := range ds[:backlog] {
			if !d.at.Equal(now) {
				t.Fatalf("backlog delivery %d at %v, want all at %v", n, d.at, now)
			}
		}
		for n, d := range ds {
			g, at, _ := sh.At(int64(n))
			if d.g != g || !d.intended.Equal(start.Add(at)) {
				t.Fatalf("delivery %d: g %d intended %v, want g %d intended %v", n, d.g, d.intended, g, start.Add(at))
			}
			if late := d.at.Sub(d.intended); n >= int(backlog) && (late < 0 || late > pacer.MinSleep) {
				t.Fatalf("delivery %d is %v late", n, late)
			}
		}
	})
}

func TestRunCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sh, _ := mustSchedule(t, pacer.Stage{Duration: 100 * time.Second, From: 10, To: 10}).Shard(0, 1)
		start := time.Now()
		// The deadline falls between two arrivals (every 100 ms).
		ctx, cancel := context.WithTimeout(t.Context(), 1550*time.Millisecond)
		defer cancel()
		var ds []delivery
		err := pacer.Run(ctx, sh, start, collect(&ds))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Run = %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took != 1550*time.Millisecond {
			t.Errorf("Run returned %v after start, want exactly at the deadline 1.55s", took)
		}
		if want := sh.Due(1550 * time.Millisecond); int64(len(ds)) != want || want != 16 {
			t.Errorf("%d deliveries before the cancel, want %d", len(ds), want)
		}
	})
}

func TestRunCancelDuringBacklog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A start an hour in the past makes a backlog of a million arrivals;
		// cancelling from the callback must stop the batch early.
		sh, _ := mustSchedule(t, pacer.Stage{Duration: 2 * time.Hour, From: 300, To: 300}).Shard(0, 1)
		ctx, cancel := context.WithCancel(t.Context())
		var n int64
		err := pacer.Run(ctx, sh, time.Now().Add(-time.Hour), func(i, _ int64, _ time.Time) {
			n++
			if i == 10 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if n > 10+1024 {
			t.Errorf("%d deliveries after cancel, want it noticed within one check interval", n-11)
		}
	})
}

func TestRunEdgeCases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		called := false
		f := func(int64, int64, time.Time) { called = true }
		if err := pacer.Run(t.Context(), pacer.Shard{}, time.Now(), f); err != nil || called {
			t.Fatalf("empty shard: err %v, called %v", err, called)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		sh, _ := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 10, To: 10}).Shard(0, 1)
		if err := pacer.Run(ctx, sh, time.Now(), f); !errors.Is(err, context.Canceled) || called {
			t.Fatalf("cancelled context: err %v, called %v", err, called)
		}
	})
}

func TestRunDoesNotAllocatePerArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		few, _ := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 10, To: 10}).Shard(0, 1)
		many, _ := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 10000, To: 10000}).Shard(0, 1)
		f := func(int64, int64, time.Time) {}
		run := func(sh pacer.Shard) float64 {
			return testing.AllocsPerRun(3, func() {
				if err := pacer.Run(context.Background(), sh, time.Now(), f); err != nil {
					t.Fatal(err)
				}
			})
		}
		if a, b := run(few), run(many); b > a {
			t.Errorf("Run allocates %v times for 10 arrivals and %v for 10000", a, b)
		}
	})
}
