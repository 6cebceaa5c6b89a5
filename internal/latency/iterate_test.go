package latency_test

import (
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
)

func TestBucketsCoverEveryObservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var ds []time.Duration
	for range 20000 {
		ds = append(ds, logUniform(rng))
	}
	tests := []struct {
		name string
		ds   []time.Duration
	}{
		{"empty", nil},
		{"one", []time.Duration{1500 * time.Microsecond}},
		{"unit resolution edge", []time.Duration{2047 * time.Microsecond, 2048 * time.Microsecond, 2049 * time.Microsecond}},
		{"log-uniform 1µs..1h", ds},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := histOf(tt.ds...)
			type bucket struct {
				lo, hi time.Duration
				n      int64
			}
			var got []bucket
			h.Buckets(func(lo, hi time.Duration, n int64) bool {
				got = append(got, bucket{lo, hi, n})
				return true
			})
			var total int64
			for i, b := range got {
				total += b.n
				if b.n <= 0 || b.hi < b.lo || b.lo%time.Microsecond != 0 || b.hi%time.Microsecond != 0 {
					t.Fatalf("bucket %d = %+v: want a positive count and whole-µs bounds lo <= hi", i, b)
				}
				if i > 0 && b.lo <= got[i-1].hi {
					t.Fatalf("buckets %d and %d overlap or are out of order: %+v %+v", i-1, i, got[i-1], b)
				}
				// The width never exceeds 1 µs below 2048 µs, nor 0.1% of the value above.
				if w := b.hi - b.lo + time.Microsecond; w > time.Microsecond && float64(w) > float64(b.lo)/1000 {
					t.Errorf("bucket %+v is %v wide: more than 0.1%% of its values", b, w)
				}
			}
			if total != h.Count() || total != int64(len(tt.ds)) {
				t.Fatalf("bucket counts add up to %d, Count() = %d, recorded %d", total, h.Count(), len(tt.ds))
			}
			// Every observation lies in exactly one bucket: count them back.
			for _, d := range tt.ds {
				us := min(max(d.Truncate(time.Microsecond), time.Microsecond), time.Hour)
				i := sort.Search(len(got), func(i int) bool { return got[i].hi >= us })
				if i == len(got) || us < got[i].lo {
					t.Fatalf("observation %v (%v) lies in no bucket", d, us)
				}
			}
			if len(got) > 0 {
				if got[0].lo != h.Min() || got[len(got)-1].hi != h.Max() {
					t.Errorf("buckets span [%v, %v], Min/Max say [%v, %v]", got[0].lo, got[len(got)-1].hi, h.Min(), h.Max())
				}
			}
		})
	}
}

func TestBucketsStopsWhenAsked(t *testing.T) {
	h := histOf(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
	calls := 0
	h.Buckets(func(_, _ time.Duration, _ int64) bool {
		calls++
		return calls < 2
	})
	if calls != 2 {
		t.Fatalf("fn called %d times after returning false at the second call, want 2", calls)
	}
	var zero latency.Histogram
	zero.Buckets(func(_, _ time.Duration, _ int64) bool {
		t.Fatal("fn called for an empty zero-value histogram")
		return false
	})
}
