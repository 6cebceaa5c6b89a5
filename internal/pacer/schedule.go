package pacer

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Limits on a schedule. They keep every intermediate value far inside
// float64's exact range, which is what makes At monotone.
const (
	// MaxRate is the highest arrival rate a stage may name, in requests per
	// second.
	MaxRate = 1e9
	// MaxArrivals is the most arrivals a schedule may hold.
	MaxArrivals = 1_000_000_000_000
)

// Stage is one segment of a load profile: for Duration the arrival rate
// changes linearly from From to To requests per second. From == To is a
// constant rate; From == To == 0 is a pause.
type Stage struct {
	Duration time.Duration
	From, To float64
}

// Schedule is the arrival schedule of a load profile: the intended offset,
// from the start of the run, of every arrival. It is immutable and safe for
// concurrent use. The zero value is an empty schedule (no stages, no
// arrivals).
type Schedule struct {
	stages []stage
	total  time.Duration
	count  int64
}

// stage is a Stage with its precomputed position in the schedule.
type stage struct {
	start, dur time.Duration // offset of the stage and its length
	from       float64       // rate at the start, per second
	slope      float64       // rate change per second
	before     float64       // Λ at the start of the stage
	after      float64       // Λ at the end of the stage
}

// NewSchedule validates the stages and builds their schedule. Every stage
// needs a positive duration and rates that are finite, non-negative and at
// most MaxRate; the total duration must fit a time.Duration and the schedule
// may hold at most MaxArrivals arrivals.
func NewSchedule(stages []Stage) (*Schedule, error) {
	if len(stages) == 0 {
		return nil, errors.New("schedule has no stages")
	}
	s := &Schedule{stages: make([]stage, len(stages))}
	var cum float64
	for i, in := range stages {
		if in.Duration <= 0 {
			return nil, fmt.Errorf("stage %d: duration %v is not positive", i, in.Duration)
		}
		if err := checkRate(in.From); err != nil {
			return nil, fmt.Errorf("stage %d: from rate: %w", i, err)
		}
		if err := checkRate(in.To); err != nil {
			return nil, fmt.Errorf("stage %d: to rate: %w", i, err)
		}
		if s.total > math.MaxInt64-in.Duration {
			return nil, fmt.Errorf("stage %d: total duration overflows %v", i, time.Duration(math.MaxInt64))
		}
		sec := in.Duration.Seconds()
		st := stage{
			start:  s.total,
			dur:    in.Duration,
			from:   in.From,
			slope:  (in.To - in.From) / sec,
			before: cum,
		}
		cum += (in.From + in.To) / 2 * sec
		if cum > MaxArrivals {
			return nil, fmt.Errorf("stage %d: schedule exceeds %d arrivals", i, int64(MaxArrivals))
		}
		st.after = cum
		s.stages[i] = st
		s.total += in.Duration
	}
	// Count is the number of g with t_g < Total. Λ(Total) estimates it to
	// within float64 rounding; settle it with at itself so that Count, At and
	// Arrivals always agree.
	n := int64(math.Ceil(cum))
	for n > 0 && s.at(n-1) >= s.total {
		n--
	}
	for s.at(n) < s.total {
		n++
	}
	s.count = n
	return s, nil
}

func checkRate(r float64) error {
	if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 || r > MaxRate {
		return fmt.Errorf("%v is not a rate in [0, %g] per second", r, float64(MaxRate))
	}
	return nil
}

// Total returns the duration of the whole schedule.
func (s *Schedule) Total() time.Duration { return s.total }

// Count returns the number of arrivals in the schedule: those intended
// strictly before Total. For example 2000/s for 5 s gives 10,000 and a ramp
// from 0 to 200/s over 3 s gives 300.
func (s *Schedule) Count() int64 { return s.count }

// At returns the intended offset of arrival g from the start of the run, and
// false when g is outside [0, Count()). Offsets never decrease as g grows.
func (s *Schedule) At(g int64) (time.Duration, bool) {
	if g < 0 || g >= s.count {
		return 0, false
	}
	return s.at(g), true
}

// at returns t_g for any g >= 0, or Total when Λ never exceeds g.
func (s *Schedule) at(g int64) time.Duration {
	x := float64(g) // exact: g <= MaxArrivals < 2^53
	// The first stage whose end exceeds x; stages without arrivals (pauses)
	// are skipped because their after equals their before.
	lo, hi := 0, len(s.stages)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.stages[m].after > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == len(s.stages) {
		return s.total
	}
	st := &s.stages[lo]
	// Seconds into the stage; y >= 0 since st.before <= x.
	ns := st.solve(x-st.before) * 1e9
	if !(ns < float64(st.dur)) { // also catches +Inf from underflowing tiny rates
		return st.start + st.dur
	}
	return st.start + time.Duration(math.Round(ns))
}

// solve returns the τ >= 0 (in seconds) with from·τ + slope·τ²/2 = y, for
// 0 <= y <= the stage's arrivals. The quadratic is solved in the form
// 2y / (from + √(from² + 2·slope·y)), which does not cancel when the slope is
// small or negative, and reduces to y/from for a constant rate.
func (st *stage) solve(y float64) float64 {
	if y <= 0 {
		return 0
	}
	if st.slope == 0 {
		return y / st.from
	}
	disc := max(st.from*st.from+2*st.slope*y, 0) // rounding may dip below 0 at the end of a ramp to 0
	tau := 2 * y / (st.from + math.Sqrt(disc))
	if !(tau >= 0) {
		return 0
	}
	return tau
}

// stageAt returns the index of the stage holding offset t, for 0 <= t < Total.
func (s *Schedule) stageAt(t time.Duration) int {
	lo, hi := 0, len(s.stages)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if st := &s.stages[m]; st.start+st.dur > t {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Arrivals returns the number of arrivals intended at or before offset t:
// 0 before the first one, Count() from the last one on.
func (s *Schedule) Arrivals(t time.Duration) int64 {
	if t < 0 || s.count == 0 {
		return 0
	}
	if t >= s.total {
		return s.count
	}
	st := &s.stages[s.stageAt(t)]
	tau := (t - st.start).Seconds()
	lambda := st.before + st.from*tau + st.slope*tau*tau/2
	// Λ(t) is within float64 rounding of the answer; settle it with at so
	// that Arrivals(t) counts exactly the g with At(g) <= t.
	n := min(max(int64(math.Ceil(lambda)), 0), s.count)
	for n > 0 && s.at(n-1) > t {
		n--
	}
	for n < s.count && s.at(n) <= t {
		n++
	}
	return n
}

// RateAt returns the intended arrival rate at offset t, in requests per
// second; 0 outside [0, Total()).
func (s *Schedule) RateAt(t time.Duration) float64 {
	if t < 0 || t >= s.total {
		return 0
	}
	st := &s.stages[s.stageAt(t)]
	return max(st.from+st.slope*(t-st.start).Seconds(), 0)
}
