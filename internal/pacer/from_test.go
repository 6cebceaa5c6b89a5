package pacer

import (
	"testing"
	"time"
)

// TestFromLeavesOutExactlyTheEarlierArrivals: a shard taken over at t keeps
// exactly the arrivals intended at or after t, with the same global indexes
// and times, for constant and ramped stages and every shard.
func TestFromLeavesOutExactlyTheEarlierArrivals(t *testing.T) {
	s, err := NewSchedule([]Stage{{Duration: 2 * time.Second, From: 100, To: 100}, {Duration: 3 * time.Second, From: 100, To: 400}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 3} {
		for k := range n {
			sh, err := s.Shard(k, n)
			if err != nil {
				t.Fatal(err)
			}
			for _, from := range []time.Duration{0, 1, 10 * time.Millisecond, 1500 * time.Millisecond, 2 * time.Second, 4*time.Second + 7*time.Millisecond, 5 * time.Second, time.Hour} {
				var want [][2]int64
				for i := range sh.Count() {
					g, at, _ := sh.At(i)
					if at >= from {
						want = append(want, [2]int64{g, int64(at)})
					}
				}
				rest := sh.From(from)
				if rest.Count() != int64(len(want)) {
					t.Fatalf("shard %d/%d from %v: %d arrivals, want %d", k, n, from, rest.Count(), len(want))
				}
				for i := range rest.Count() {
					g, at, ok := rest.At(i)
					if !ok || g != want[i][0] || int64(at) != want[i][1] {
						t.Fatalf("shard %d/%d from %v: arrival %d = (%d, %v), want %v", k, n, from, i, g, at, want[i])
					}
				}
				if _, _, ok := rest.At(rest.Count()); ok {
					t.Fatalf("arrival past the end exists")
				}
				if d := rest.Due(5 * time.Second); d != rest.Count() {
					t.Errorf("Due(end) = %d, want %d", d, rest.Count())
				}
			}
		}
	}
}
