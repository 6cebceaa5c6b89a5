package latency

import (
	"math/rand/v2"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// TestGeometryMatchesLibrary checks the geometry facts hard-coded in this
// package against hdrhistogram-go itself.
func TestGeometryMatchesLibrary(t *testing.T) {
	// countsLen: the top of the allocated range is 2^32-1 µs.
	p := newPacked()
	if err := p.RecordValue(1<<32 - 1); err != nil {
		t.Fatalf("RecordValue(2^32-1) = %v, want it inside the last bucket", err)
	}
	if err := p.RecordValue(1 << 32); err == nil {
		t.Fatalf("RecordValue(2^32) succeeded, want it beyond the counts array")
	}
	// countsLen: the dense counts array (whose size ByteSize reports after a
	// fixed overhead) has exactly countsLen counters.
	dense := newDense()
	if got, want := dense.ByteSize()-(6*8+5*4), countsLen*8; got != want {
		t.Fatalf("dense counts use %d bytes, want countsLen*8 = %d", got, want)
	}

	// bucket widths: Min is the lowest and Max the highest equivalent value.
	rng := rand.New(rand.NewPCG(1, 2))
	values := []int64{1, 2, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1_000_000, HighestMicros, 1<<32 - 1}
	for range 2000 {
		values = append(values, 1+rng.Int64N(1<<rng.IntN(33)))
	}
	for _, v := range values {
		p := hdr.NewPacked(LowestMicros, HighestMicros, Digits)
		if err := p.RecordValue(v); err != nil {
			t.Fatal(err)
		}
		lo, hi := p.Min(), p.Max()
		if got := highestEquivalent(lo); got != hi {
			t.Fatalf("value %d: highestEquivalent(%d) = %d, library says %d", v, lo, got, hi)
		}
		if lo > v || v > hi {
			t.Fatalf("value %d outside its bucket [%d, %d]", v, lo, hi)
		}
	}
}
