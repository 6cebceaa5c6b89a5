package latency_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
)

func TestRecordDoesNotAllocate(t *testing.T) {
	r := latency.NewRecorder()
	d := 3 * time.Millisecond
	if n := testing.AllocsPerRun(1000, func() { r.Record(d); d += 7 * time.Microsecond }); n != 0 {
		t.Fatalf("Record allocates %v times per call", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	r := latency.NewRecorder()
	rng := rand.New(rand.NewPCG(1, 1))
	ds := make([]time.Duration, 4096)
	for i := range ds {
		ds[i] = logUniform(rng)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r.Record(ds[i&4095])
		i++
	}
}

// typical returns a recorder holding one window's worth of realistic
// latencies (about a thousand populated buckets).
func typical() *latency.Recorder {
	r := latency.NewRecorder()
	rng := rand.New(rand.NewPCG(2, 2))
	for range 50000 {
		r.Record(time.Duration(rng.ExpFloat64()*float64(30*time.Millisecond)) + time.Millisecond)
	}
	return r
}

func BenchmarkRecorderEncode(b *testing.B) {
	r := typical()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	enc, err := typical().Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := latency.Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMergeEncoded(b *testing.B) {
	enc, err := typical().Encode()
	if err != nil {
		b.Fatal(err)
	}
	h := latency.NewHistogram()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.MergeEncoded(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMerge(b *testing.B) {
	src := latency.NewHistogram()
	src.MergeRecorder(typical())
	dst := latency.NewHistogram()
	dst.Merge(src)
	b.ReportAllocs()
	for b.Loop() {
		dst.Merge(src)
	}
}

func BenchmarkMergeRecorder(b *testing.B) {
	r := typical()
	dst := latency.NewHistogram()
	b.ReportAllocs()
	for b.Loop() {
		dst.MergeRecorder(r)
	}
}
