package apireq

import (
	"context"
	"testing"
)

func benchSender(tb testing.TB, ratio float64) (*Sender, int) {
	c, err := Compile(context.Background(), shopPlan("http://127.0.0.1:1", ratio), Options{Shards: 1})
	if err != nil {
		tb.Fatal(err)
	}
	s := c.NewSender(1, 0, 1)
	// Ids in the pool, as after some creates.
	s.pool.Put("orders", "8f14e45f-ceea-467f-a9d1-c5a1b2e1a8c0", Primary)
	s.pool.Put("orders", "c9f0f895-fb98-4b91-a2e1-1a2b3c4d5e6f", Primary)
	return s, len(c.Ops())
}

// TestBuildDoesNotAllocate: building requests from the schemas allocates
// nothing once the buffers have grown (the body is built in a reused
// buffer), for valid and for mutated requests alike.
func TestBuildDoesNotAllocate(t *testing.T) {
	for _, ratio := range []float64{0, 1} {
		s, n := benchSender(t, ratio)
		dst := make([]byte, 0, 1<<20)
		g := uint64(0)
		build := func() {
			g++
			dst, _ = s.Build(dst[:0], int(g)%n, g)
		}
		for range 5000 { // grow every buffer, visit every case
			build()
		}
		if a := testing.AllocsPerRun(2000, build); a != 0 {
			t.Errorf("ratio %v: Build allocates %.2f times per request", ratio, a)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	for _, tc := range []struct {
		name  string
		ratio float64
	}{{"valid", 0}, {"5%-mutated", 0.05}} {
		b.Run(tc.name, func(b *testing.B) {
			s, n := benchSender(b, tc.ratio)
			dst := make([]byte, 0, 1<<20)
			b.ReportAllocs()
			g := uint64(0)
			for b.Loop() {
				g++
				dst, _ = s.Build(dst[:0], int(g)%n, g)
			}
		})
	}
}
