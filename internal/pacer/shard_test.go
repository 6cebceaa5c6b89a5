package pacer_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/pacer"
)

func TestShardErrors(t *testing.T) {
	s := mustSchedule(t, pacer.Stage{Duration: time.Second, From: 10, To: 10})
	tests := []struct {
		name string
		k, n int
		want string
	}{
		{"zero shards", 0, 0, "shard count 0"},
		{"negative shards", 0, -2, "shard count -2"},
		{"negative index", -1, 3, "shard index -1 outside [0, 3)"},
		{"index too large", 3, 3, "shard index 3 outside [0, 3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Shard(tt.k, tt.n)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Shard(%d, %d) error = %v, want %q", tt.k, tt.n, err, tt.want)
			}
		})
	}
	var zero pacer.Shard
	if zero.Count() != 0 || zero.Due(time.Hour) != 0 {
		t.Fatal("zero Shard has arrivals")
	}
	if _, _, ok := zero.At(0); ok {
		t.Fatal("zero Shard has arrival 0")
	}
}

type arrival struct {
	G  int64
	At time.Duration
}

// TestShardsPartitionSchedule checks that the shards of random schedules
// together hold exactly the schedule's arrivals, each shard in
// non-decreasing order, and that Due agrees with At.
func TestShardsPartitionSchedule(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range 60 {
		s := mustSchedule(t, randomStages(rng, 4, 400)...)
		var want []arrival
		for g := range s.Count() {
			at, _ := s.At(g)
			want = append(want, arrival{g, at})
		}
		n := 1 + rng.IntN(9)
		var got []arrival
		var sum int64
		for k := range n {
			sh, err := s.Shard(k, n)
			if err != nil {
				t.Fatal(err)
			}
			sum += sh.Count()
			prev := time.Duration(-1)
			for i := range sh.Count() {
				g, at, ok := sh.At(i)
				if !ok || g != i*int64(n)+int64(k) {
					t.Fatalf("shard %d/%d: At(%d) = g %d, ok %v", k, n, i, g, ok)
				}
				if at < prev {
					t.Fatalf("shard %d/%d: arrival %d at %v before %v", k, n, i, at, prev)
				}
				if d := sh.Due(at); d <= i {
					t.Fatalf("shard %d/%d: Due(At(%d)) = %d", k, n, i, d)
				}
				if d := sh.Due(at - 1); at != prev && d != i {
					t.Fatalf("shard %d/%d: Due(At(%d)-1ns) = %d, want %d", k, n, i, d, i)
				}
				prev = at
				got = append(got, arrival{g, at})
			}
			if _, _, ok := sh.At(sh.Count()); ok {
				t.Fatalf("shard %d/%d: At(Count) ok", k, n)
			}
			if sh.Due(s.Total()) != sh.Count() {
				t.Fatalf("shard %d/%d: Due(Total) = %d, Count %d", k, n, sh.Due(s.Total()), sh.Count())
			}
		}
		if sum != s.Count() {
			t.Fatalf("trial %d: shard counts sum to %d, schedule has %d", trial, sum, s.Count())
		}
		slices.SortFunc(got, func(a, b arrival) int { return int(a.G - b.G) })
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("trial %d, %d shards: union differs from the schedule (-want +got):\n%s", trial, n, d)
		}
	}
}

// TestMergedGapsAtConstantRate checks that N shards at a constant rate
// interleave into one evenly spaced stream: every gap is 1/rate.
func TestMergedGapsAtConstantRate(t *testing.T) {
	const rate = 1000.0
	s := mustSchedule(t, pacer.Stage{Duration: 2 * time.Second, From: rate, To: rate})
	for _, n := range []int{1, 2, 3, 7, 16} {
		var times []time.Duration
		for k := range n {
			sh, err := s.Shard(k, n)
			if err != nil {
				t.Fatal(err)
			}
			for i := range sh.Count() {
				_, at, _ := sh.At(i)
				times = append(times, at)
			}
			// Each shard alone is evenly spaced at n/rate, phase-shifted by k/rate.
			if _, first, _ := sh.At(0); first != time.Duration(k)*time.Millisecond {
				t.Errorf("shard %d/%d starts at %v", k, n, first)
			}
		}
		slices.Sort(times)
		if len(times) != 2000 {
			t.Fatalf("%d shards: %d arrivals, want 2000", n, len(times))
		}
		for i := 1; i < len(times); i++ {
			if gap := times[i] - times[i-1]; absDiff(gap, time.Millisecond) > 1 {
				t.Fatalf("%d shards: gap %d = %v, want 1ms", n, i, gap)
			}
		}
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		total int64
		n     int
		want  []int64
	}{
		{10, 3, []int64{4, 3, 3}},
		{2, 4, []int64{1, 1, 0, 0}},
		{0, 2, []int64{0, 0}},
		{9, 1, []int64{9}},
		{12, 4, []int64{3, 3, 3, 3}},
		{-5, 2, []int64{0, 0}},
	}
	for _, tt := range tests {
		var got []int64
		for k := range tt.n {
			got = append(got, pacer.Split(tt.total, k, tt.n))
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Split(%d, k, %d) (-want +got):\n%s", tt.total, tt.n, d)
		}
	}
	for _, bad := range [][2]int{{-1, 3}, {3, 3}, {0, 0}, {0, -1}} {
		if got := pacer.Split(10, bad[0], bad[1]); got != 0 {
			t.Errorf("Split(10, %d, %d) = %d, want 0", bad[0], bad[1], got)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		total, n := rng.Int64N(1_000_000), 1+rng.IntN(100)
		var sum int64
		for k := range n {
			sum += pacer.Split(total, k, n)
		}
		if sum != total {
			t.Fatalf("Split(%d, k, %d) sums to %d", total, n, sum)
		}
	}
}
