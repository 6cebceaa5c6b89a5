package pacer_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/pacer"
)

func mustSchedule(t testing.TB, stages ...pacer.Stage) *pacer.Schedule {
	t.Helper()
	s, err := pacer.NewSchedule(stages)
	if err != nil {
		t.Fatalf("NewSchedule(%+v): %v", stages, err)
	}
	return s
}

func sec(f float64) time.Duration { return time.Duration(math.Round(f * 1e9)) }

func TestNewScheduleErrors(t *testing.T) {
	ok := pacer.Stage{Duration: time.Second, From: 1, To: 1}
	tests := []struct {
		name   string
		stages []pacer.Stage
		want   string
	}{
		{"no stages", nil, "no stages"},
		{"zero duration", []pacer.Stage{ok, {Duration: 0, From: 1, To: 1}}, "stage 1: duration 0s is not positive"},
		{"negative duration", []pacer.Stage{{Duration: -time.Second, From: 1, To: 1}}, "stage 0: duration -1s"},
		{"negative from", []pacer.Stage{{Duration: time.Second, From: -1, To: 1}}, "stage 0: from rate: -1 is not a rate"},
		{"NaN to", []pacer.Stage{{Duration: time.Second, From: 1, To: math.NaN()}}, "stage 0: to rate: NaN"},
		{"Inf from", []pacer.Stage{{Duration: time.Second, From: math.Inf(1), To: 1}}, "from rate: +Inf"},
		{"above MaxRate", []pacer.Stage{{Duration: time.Second, From: 1, To: 2e9}}, "to rate: 2e+09"},
		{"total overflows", []pacer.Stage{{Duration: math.MaxInt64, From: 0, To: 0}, ok}, "total duration overflows"},
		{"too many arrivals", []pacer.Stage{{Duration: 2000 * time.Second, From: 1e9, To: 1e9}}, "exceeds 1000000000000 arrivals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := pacer.NewSchedule(tt.stages)
			if err == nil {
				t.Fatalf("NewSchedule succeeded (Count %d), want error %q", s.Count(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

type atCase struct {
	g    int64
	want time.Duration
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name   string
		stages []pacer.Stage
		total  time.Duration
		count  int64
		at     []atCase
		// arrivals maps offsets to Arrivals(offset).
		arrivals map[time.Duration]int64
		rates    map[time.Duration]float64
	}{
		{
			name:   "constant 2000/s for 5s",
			stages: []pacer.Stage{{5 * time.Second, 2000, 2000}},
			total:  5 * time.Second, count: 10000,
			at: []atCase{{0, 0}, {1, 500 * time.Microsecond}, {2000, time.Second}, {9999, sec(4.9995)}},
			arrivals: map[time.Duration]int64{
				-1: 0, 0: 1, 499 * time.Microsecond: 1, 500 * time.Microsecond: 2,
				time.Second: 2001, 5 * time.Second: 10000, time.Hour: 10000,
			},
			rates: map[time.Duration]float64{-1: 0, 0: 2000, 4 * time.Second: 2000, 5 * time.Second: 0},
		},
		{
			name:   "ramp 0 to 200/s over 3s",
			stages: []pacer.Stage{{3 * time.Second, 0, 200}},
			total:  3 * time.Second, count: 300,
			// Λ(t) = 100/3·t², so t_g = √(3g/100).
			at: []atCase{{0, 0}, {1, sec(math.Sqrt(0.03))}, {150, sec(math.Sqrt(4.5))}, {299, sec(math.Sqrt(8.97))}},
			arrivals: map[time.Duration]int64{
				0: 1, sec(math.Sqrt(0.03)) - 1: 1, sec(math.Sqrt(0.03)): 2, 3 * time.Second: 300,
			},
			rates: map[time.Duration]float64{0: 0, 1500 * time.Millisecond: 100},
		},
		{
			name:   "ramp 200 to 0/s over 3s",
			stages: []pacer.Stage{{3 * time.Second, 200, 0}},
			total:  3 * time.Second, count: 300,
			// Λ(t) = 200t - 100/3·t²; the last arrival leaves Λ one short of
			// 300, √(3/100) s before the end.
			at:       []atCase{{0, 0}, {1, sec((200 - math.Sqrt(200*200-4*100.0/3)) / (2 * 100.0 / 3))}, {299, sec(3 - math.Sqrt(0.03))}},
			arrivals: map[time.Duration]int64{sec(2.9): 300, 3*time.Second - 1: 300},
			rates:    map[time.Duration]float64{0: 200, 1500 * time.Millisecond: 100},
		},
		{
			name: "pause in the middle",
			stages: []pacer.Stage{
				{time.Second, 100, 100}, {time.Second, 0, 0}, {time.Second, 100, 100},
			},
			total: 3 * time.Second, count: 200,
			// Arrival 100 comes due when the rate resumes, not when the
			// pause starts.
			at: []atCase{{99, 990 * time.Millisecond}, {100, 2 * time.Second}, {101, 2010 * time.Millisecond}, {199, 2990 * time.Millisecond}},
			arrivals: map[time.Duration]int64{
				time.Second: 100, 1500 * time.Millisecond: 100, 2*time.Second - 1: 100, 2 * time.Second: 101,
			},
			rates: map[time.Duration]float64{1500 * time.Millisecond: 0, 2 * time.Second: 100},
		},
		{
			name:   "initial pause",
			stages: []pacer.Stage{{2 * time.Second, 0, 0}, {time.Second, 10, 10}},
			total:  3 * time.Second, count: 10,
			at:       []atCase{{0, 2 * time.Second}, {9, 2900 * time.Millisecond}},
			arrivals: map[time.Duration]int64{0: 0, time.Second: 0, 2 * time.Second: 1},
		},
		{
			name:   "pause at the end",
			stages: []pacer.Stage{{time.Second, 10, 10}, {time.Second, 0, 0}},
			total:  2 * time.Second, count: 10,
			at:       []atCase{{9, 900 * time.Millisecond}},
			arrivals: map[time.Duration]int64{1500 * time.Millisecond: 10},
		},
		{
			name:   "only pauses",
			stages: []pacer.Stage{{time.Second, 0, 0}},
			total:  time.Second, count: 0,
			arrivals: map[time.Duration]int64{0: 0, time.Second: 0},
		},
		{
			name:   "fractional total",
			stages: []pacer.Stage{{time.Second, 1.5, 1.5}},
			total:  time.Second, count: 2,
			at: []atCase{{0, 0}, {1, sec(1 / 1.5)}},
		},
		{
			name:   "stage boundary with a rate change",
			stages: []pacer.Stage{{time.Second, 100, 100}, {time.Second, 300, 300}},
			total:  2 * time.Second, count: 400,
			at: []atCase{{99, 990 * time.Millisecond}, {100, time.Second}, {101, time.Second + sec(1.0/300)}, {399, 2*time.Second - sec(1.0/300)}},
			arrivals: map[time.Duration]int64{
				time.Second - 1: 100, time.Second: 101,
			},
		},
		{
			name:   "ramp continuing a constant stage",
			stages: []pacer.Stage{{time.Second, 100, 100}, {2 * time.Second, 100, 300}},
			total:  3 * time.Second, count: 500,
			// In the ramp Λ = 100 + 100τ + 50τ², so τ = -1 + √(1 + (g-100)/50).
			at: []atCase{{100, time.Second}, {300, time.Second + sec(-1+math.Sqrt(5))}, {499, time.Second + sec(-1+math.Sqrt(1+399.0/50))}},
		},
		{
			name:   "ramp to 0 then ramp from 0",
			stages: []pacer.Stage{{time.Second, 100, 0}, {time.Second, 0, 100}},
			total:  2 * time.Second, count: 100,
			// Λ = 50 after the first stage; arrival 50 is due at its end.
			at: []atCase{{49, sec(1 - math.Sqrt(0.02))}, {50, time.Second}, {51, time.Second + sec(math.Sqrt(0.02))}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchedule(t, tt.stages...)
			if s.Total() != tt.total {
				t.Errorf("Total = %v, want %v", s.Total(), tt.total)
			}
			if s.Count() != tt.count {
				t.Fatalf("Count = %d, want %d", s.Count(), tt.count)
			}
			for _, c := range tt.at {
				got, ok := s.At(c.g)
				if !ok || absDiff(got, c.want) > 1 {
					t.Errorf("At(%d) = %v, %v; want %v", c.g, got, ok, c.want)
				}
			}
			for _, g := range []int64{-1, tt.count, tt.count + 1, math.MaxInt64} {
				if at, ok := s.At(g); ok {
					t.Errorf("At(%d) = %v, true; want false", g, at)
				}
			}
			for off, want := range tt.arrivals {
				if got := s.Arrivals(off); got != want {
					t.Errorf("Arrivals(%v) = %d, want %d", off, got, want)
				}
			}
			for off, want := range tt.rates {
				if got := s.RateAt(off); math.Abs(got-want) > 1e-9 {
					t.Errorf("RateAt(%v) = %v, want %v", off, got, want)
				}
			}
			checkConsistent(t, s)
		})
	}
}

func absDiff(a, b time.Duration) time.Duration {
	if a > b {
		return a - b
	}
	return b - a
}

// checkConsistent checks, for every arrival, monotonicity, t_g < Total and
// that Arrivals counts exactly the arrivals at or before each offset.
func checkConsistent(t *testing.T, s *pacer.Schedule) {
	t.Helper()
	prev := time.Duration(-1)
	for g := range s.Count() {
		at, ok := s.At(g)
		if !ok {
			t.Fatalf("At(%d) not ok with Count %d", g, s.Count())
		}
		if at < prev || at < 0 || at >= s.Total() {
			t.Fatalf("At(%d) = %v after %v, Total %v", g, at, prev, s.Total())
		}
		if at != prev {
			if n := s.Arrivals(at - 1); n != g {
				t.Fatalf("Arrivals(At(%d)-1ns) = %d, want %d", g, n, g)
			}
		}
		if n := s.Arrivals(at); n <= g {
			t.Fatalf("Arrivals(At(%d)) = %d, want > %d", g, n, g)
		}
		prev = at
	}
	if n := s.Arrivals(s.Total()); n != s.Count() {
		t.Fatalf("Arrivals(Total) = %d, want Count %d", n, s.Count())
	}
}

// lambda integrates the rate of stages up to offset t (seconds), directly
// from the stage list: an independent oracle for the schedule.
func lambda(stages []pacer.Stage, t float64) float64 {
	var sum, start float64
	for _, st := range stages {
		d := st.Duration.Seconds()
		tau := min(max(t-start, 0), d)
		sum += st.From*tau + (st.To-st.From)/d*tau*tau/2
		start += d
	}
	return sum
}

// TestAtAgainstBisection compares At with t_g = inf{t : Λ(t) > g} found by
// bisection on the integrated rate, for random multi-stage profiles.
func TestAtAgainstBisection(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 40 {
		stages := randomStages(rng, 5, 300)
		s := mustSchedule(t, stages...)
		total := s.Total().Seconds()
		for g := range s.Count() {
			lo, hi := 0.0, total
			for range 200 {
				m := (lo + hi) / 2
				if lambda(stages, m) > float64(g) {
					hi = m
				} else {
					lo = m
				}
			}
			want := sec(hi)
			got, _ := s.At(g)
			if absDiff(got, want) > 20 {
				t.Fatalf("trial %d %+v: At(%d) = %v, bisection %v", trial, stages, g, got, want)
			}
		}
		if want := int64(math.Ceil(lambda(stages, total) - 1e-9)); absInt(s.Count()-want) > 1 {
			t.Fatalf("trial %d: Count = %d, Λ(Total) = %v", trial, s.Count(), lambda(stages, total))
		}
	}
}

func absInt(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// randomStages returns up to n stages of random durations (up to maxMs
// milliseconds) and rates, including pauses, ramps to and from zero and
// constant stages.
func randomStages(rng *rand.Rand, n, maxMs int) []pacer.Stage {
	rate := func() float64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return float64(rng.IntN(5) * 100)
		default:
			return rng.Float64() * 1000
		}
	}
	var out []pacer.Stage
	for range 1 + rng.IntN(n) {
		st := pacer.Stage{Duration: time.Duration(1+rng.IntN(maxMs)) * time.Millisecond, From: rate()}
		if rng.IntN(3) == 0 {
			st.To = st.From
		} else {
			st.To = rate()
		}
		out = append(out, st)
	}
	return out
}

func TestZeroSchedule(t *testing.T) {
	var s pacer.Schedule
	if s.Count() != 0 || s.Total() != 0 || s.Arrivals(time.Second) != 0 || s.RateAt(0) != 0 {
		t.Fatal("zero Schedule is not empty")
	}
	if _, ok := s.At(0); ok {
		t.Fatal("zero Schedule has arrival 0")
	}
	sh, err := s.Shard(0, 1)
	if err != nil || sh.Count() != 0 {
		t.Fatalf("Shard of zero Schedule: %v, Count %d", err, sh.Count())
	}
}

func FuzzSchedule(f *testing.F) {
	f.Add(int64(time.Second), 100.0, 100.0, int64(time.Second), 0.0, 0.0, int64(time.Second), 0.0, 300.0, uint8(3))
	f.Add(int64(3*time.Second), 0.0, 200.0, int64(1), 1e9, 1e9, int64(7), 5e-324, 1e-300, uint8(3))
	f.Add(int64(time.Hour), 1e3, 1e3+1e-9, int64(time.Millisecond), 1e9, 0.0, int64(time.Minute), 123.456, 0.001, uint8(2))
	f.Fuzz(func(t *testing.T, d1 int64, a1, b1 float64, d2 int64, a2, b2 float64, d3 int64, a3, b3 float64, n uint8) {
		stages := []pacer.Stage{{time.Duration(d1), a1, b1}, {time.Duration(d2), a2, b2}, {time.Duration(d3), a3, b3}}
		stages = stages[:1+int(n)%3]
		s, err := pacer.NewSchedule(stages)
		if err != nil {
			return
		}
		checkSampled(t, s, stages, uint64(d1))
	})
}

// checkSampled checks a bounded sample of a schedule's arrivals (the first
// and last ones, those around every stage boundary and some at random) for
// monotonicity and agreement between At, Arrivals and Count.
func checkSampled(t *testing.T, s *pacer.Schedule, stages []pacer.Stage, seed uint64) {
	t.Helper()
	c := s.Count()
	if c < 0 || c > pacer.MaxArrivals {
		t.Fatalf("Count = %d", c)
	}
	// Probe a bounded set of arrivals: the first and last ones and
	// those around every stage boundary and at random.
	probe := map[int64]bool{}
	add := func(g int64) {
		for d := int64(-3); d <= 3; d++ {
			if x := g + d; x >= 0 && x < c {
				probe[x] = true
			}
		}
	}
	add(0)
	add(c - 1)
	var off time.Duration
	for _, st := range stages {
		off += st.Duration
		add(s.Arrivals(off))
		add(s.Arrivals(off - 1))
	}
	rng := rand.New(rand.NewPCG(seed, uint64(c)))
	for range 20 {
		if c > 0 {
			add(rng.Int64N(c))
		}
	}
	for g := range probe {
		at, ok := s.At(g)
		if !ok || at < 0 || at >= s.Total() {
			t.Fatalf("At(%d) = %v, %v with Count %d, Total %v", g, at, ok, c, s.Total())
		}
		if g > 0 {
			if prev, _ := s.At(g - 1); prev > at {
				t.Fatalf("not monotone: At(%d) = %v > At(%d) = %v", g-1, prev, g, at)
			}
		}
		if n := s.Arrivals(at); n <= g {
			t.Fatalf("Arrivals(At(%d)=%v) = %d", g, at, n)
		}
		if n := s.Arrivals(at - 1); n > g {
			t.Fatalf("Arrivals(At(%d)-1ns) = %d", g, n)
		}
	}
	if _, ok := s.At(c); ok {
		t.Fatalf("At(Count) ok")
	}
	if n := s.Arrivals(s.Total()); n != c {
		t.Fatalf("Arrivals(Total) = %d, Count %d", n, c)
	}
	if c > 0 {
		if last, _ := s.At(c - 1); s.Arrivals(last) != c {
			t.Fatalf("Arrivals(last) = %d, Count %d", s.Arrivals(last), c)
		}
	}
	if r := s.RateAt(s.Total() / 2); math.IsNaN(r) || r < 0 {
		t.Fatalf("RateAt = %v", r)
	}
}

// TestPrecisionExtremes samples schedules at the edges of float64 comfort:
// the largest allowed counts and rates, tiny slopes, tiny stages and rates.
func TestPrecisionExtremes(t *testing.T) {
	tests := []struct {
		name   string
		stages []pacer.Stage
	}{
		{"max arrivals at max rate", []pacer.Stage{{Duration: 999 * time.Second, From: pacer.MaxRate, To: pacer.MaxRate}}},
		{"max arrivals, long ramp", []pacer.Stage{{Duration: 200000 * time.Second, From: 0, To: 1e7}}},
		{"tiny slope", []pacer.Stage{{Duration: time.Hour, From: 1000, To: 1000.000001}}},
		{"tiny negative slope", []pacer.Stage{{Duration: 24 * time.Hour, From: 20000, To: 19999.99999}}},
		{"steep 1ns stages", []pacer.Stage{{Duration: 1, From: 0, To: pacer.MaxRate}, {Duration: 1, From: pacer.MaxRate, To: 0}, {Duration: time.Second, From: 3, To: 3}}},
		{"denormal rates", []pacer.Stage{{Duration: time.Second, From: 0, To: 5e-324}, {Duration: time.Second, From: 1e-300, To: 1e-300}, {Duration: time.Second, From: 10, To: 10}}},
		{"ramp down to 0 at max count", []pacer.Stage{{Duration: 2000 * time.Second, From: pacer.MaxRate, To: 0}}},
		{"many boundaries", func() []pacer.Stage {
			var st []pacer.Stage
			for i := range 1000 {
				st = append(st, pacer.Stage{Duration: time.Duration(1+i%7) * time.Millisecond, From: float64(i % 13 * 1000), To: float64(i % 11 * 1000)})
			}
			return st
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchedule(t, tt.stages...)
			checkSampled(t, s, tt.stages, 1)
		})
	}
}
