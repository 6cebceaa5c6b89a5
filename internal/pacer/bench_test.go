package pacer_test

import (
	"context"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/pacer"
)

// BenchmarkRunPerArrival measures Run's own work per arrival (computing the
// arrival's time, checking the clock, calling due): the schedule holds b.N
// arrivals at 1,000,000/s, all already due, so no time is spent sleeping.
func BenchmarkRunPerArrival(b *testing.B) {
	s := mustSchedule(b, pacer.Stage{Duration: time.Duration(b.N) * time.Microsecond, From: 1e6, To: 1e6})
	sh, err := s.Shard(0, 1)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now().Add(-s.Total())
	var delivered int64
	b.ReportAllocs()
	b.ResetTimer()
	err = pacer.Run(context.Background(), sh, start, func(_, _ int64, _ time.Time) { delivered++ })
	b.StopTimer()
	if err != nil || delivered != int64(b.N) {
		b.Fatalf("delivered %d of %d: %v", delivered, b.N, err)
	}
}

func BenchmarkScheduleAt(b *testing.B) {
	stages := make([]pacer.Stage, 20)
	for i := range stages {
		stages[i] = pacer.Stage{Duration: time.Minute, From: float64(i * 100), To: float64((i + 1) * 100)}
	}
	s := mustSchedule(b, stages...)
	c := s.Count()
	b.ReportAllocs()
	var g int64
	for b.Loop() {
		s.At(g)
		g += 7919
		if g >= c {
			g -= c
		}
	}
}

func BenchmarkArrivals(b *testing.B) {
	s := mustSchedule(b, pacer.Stage{Duration: time.Hour, From: 10, To: 20000})
	b.ReportAllocs()
	var t time.Duration
	for b.Loop() {
		s.Arrivals(t)
		t += 7 * time.Millisecond
		if t >= s.Total() {
			t = 0
		}
	}
}
