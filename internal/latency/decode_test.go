package latency_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/latency"
)

// wire describes a V2 compressed payload to build by hand.
type wire struct {
	digits          int32
	lowest, highest int64
	ratio           float64
	payloadLen      int32 // -1: use len(payload)
	payload         []byte
}

func ourWire(payload []byte) wire {
	return wire{digits: latency.Digits, lowest: latency.LowestMicros, highest: latency.HighestMicros,
		ratio: 1, payloadLen: -1, payload: payload}
}

func (w wire) encode(t testing.TB) []byte {
	t.Helper()
	inner := make([]byte, 40, 40+len(w.payload))
	pl := w.payloadLen
	if pl == -1 {
		pl = int32(len(w.payload))
	}
	binary.BigEndian.PutUint32(inner[0:], 0x1c849313)
	binary.BigEndian.PutUint32(inner[4:], uint32(pl))
	binary.BigEndian.PutUint32(inner[12:], uint32(w.digits))
	binary.BigEndian.PutUint64(inner[16:], uint64(w.lowest))
	binary.BigEndian.PutUint64(inner[24:], uint64(w.highest))
	binary.BigEndian.PutUint64(inner[32:], math.Float64bits(w.ratio))
	inner = append(inner, w.payload...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	if _, err := zw.Write(inner); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	outer := binary.BigEndian.AppendUint32(nil, 0x1c849314)
	outer = binary.BigEndian.AppendUint32(outer, uint32(z.Len()))
	outer = append(outer, z.Bytes()...)
	return []byte(base64.StdEncoding.EncodeToString(outer))
}

// zigzag appends v in the V2 ZigZag LEB128 (at most 9 bytes) encoding.
func zigzag(buf []byte, v int64) []byte {
	u := uint64((v << 1) ^ (v >> 63))
	for i := 0; i < 8; i++ {
		if u>>7 == 0 {
			return append(buf, byte(u))
		}
		buf = append(buf, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(buf, byte(u))
}

func TestHandMadeWireDecodes(t *testing.T) {
	// Sanity check of the test encoder: 3 observations of 5 µs, 2 of 7 µs.
	p := zigzag(nil, -5)
	p = zigzag(p, 3)
	p = zigzag(p, -1)
	p = zigzag(p, 2)
	h, err := latency.Decode(ourWire(p).encode(t))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([][2]int64{{5, 3}, {7, 2}}, latency.BucketsOf(h)); d != "" {
		t.Fatalf("buckets (-want +got):\n%s", d)
	}
}

func TestDecodedZeroValue(t *testing.T) {
	// Other HdrHistogram writers may record 0 (counter index 0); it must
	// decode and be usable by every query.
	h, err := latency.Decode(ourWire(zigzag(zigzag(nil, 4), 1)).encode(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.Count() != 5 || h.Min() != 0 || h.Quantile(0.5) != 0 || h.Max() != time.Microsecond {
		t.Fatalf("Count %d Min %v p50 %v Max %v", h.Count(), h.Min(), h.Quantile(0.5), h.Max())
	}
	bs := h.LogBuckets(10)
	if len(bs) != 1 || bs[0].Count != 5 || bs[0].Low != time.Microsecond {
		t.Fatalf("LogBuckets = %+v, want one bucket from 1µs holding all 5", bs)
	}
	if sp := h.Spectrum(5); sp[len(sp)-1].Count != 5 {
		t.Fatalf("Spectrum = %+v", sp)
	}
}

func foreign(t *testing.T, low, high int64, digits int) []byte {
	t.Helper()
	p := hdr.NewPacked(low, high, digits)
	if err := p.RecordValue(1000); err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejects(t *testing.T) {
	good, err := histOf(time.Millisecond, time.Second).Encode()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(good))
	if err != nil {
		t.Fatal(err)
	}
	reencode := func(b []byte) []byte { return []byte(base64.StdEncoding.EncodeToString(b)) }
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-3] ^= 0xff // inside the zlib checksum or data
	maxCount := zigzag(zigzag(nil, math.MaxInt64), math.MaxInt64)

	tests := []struct {
		name    string
		in      []byte
		errText string // a fragment the error must contain
	}{
		{"empty", nil, "empty"},
		{"too large", bytes.Repeat([]byte("A"), latency.MaxEncodedSize+4), "exceeds the limit"},
		{"not base64", []byte("!!!!"), "base64"},
		{"too short", reencode(raw[:5]), "truncated"},
		{"wrong outer cookie", reencode(append([]byte{1, 2, 3, 4}, raw[4:]...)), "cookie"},
		{"truncated stream", reencode(raw[:len(raw)-4]), "compressed length"},
		{"trailing bytes", reencode(append(bytes.Clone(raw), 0)), "compressed length"},
		{"corrupt zlib", reencode(flipped), "corrupt histogram"},
		{"digits", foreign(t, 1, latency.HighestMicros, 2), "significant digits 2, want 3"},
		{"lowest", foreign(t, 10, latency.HighestMicros, 3), "lowest discernible value 10, want 1"},
		{"highest", foreign(t, 1, 60_000_000, 3), "highest trackable value 60000000, want 3600000000"},
		{"ratio", func() []byte { w := ourWire(zigzag(nil, 1)); w.ratio = 1e-6; return w.encode(t) }(), "conversion ratio 1e-06"},
		{"negative payload length", func() []byte { w := ourWire(nil); w.payloadLen = -1 << 20; return w.encode(t) }(), "payload length"},
		{"payload length above bound", func() []byte { w := ourWire(nil); w.payloadLen = latency.MaxPayloadLen + 1; return w.encode(t) }(), "payload length"},
		{"payload shorter than declared", func() []byte { w := ourWire(zigzag(nil, 1)); w.payloadLen = 10; return w.encode(t) }(), "corrupt histogram"},
		{"payload longer than declared", func() []byte { w := ourWire(zigzag(zigzag(nil, 1), 1)); w.payloadLen = 1; return w.encode(t) }(), "corrupt histogram"},
		{"zero run past the end", ourWire(zigzag(nil, -latency.CountsLen-1)).encode(t), "corrupt histogram"},
		{"count past the end", ourWire(zigzag(zigzag(nil, -latency.CountsLen), 1)).encode(t), "corrupt histogram"},
		{"truncated varint", ourWire([]byte{0x80}).encode(t), "corrupt histogram"},
		{"counts overflow int64", ourWire(maxCount).encode(t), "int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := latency.Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode succeeded (Count %d), want an error", h.Count())
			}
			if !errors.Is(err, latency.ErrCorrupt) {
				t.Errorf("error %q does not wrap ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("error %q does not mention %q", err, tt.errText)
			}
			var into latency.Histogram
			into.Merge(histOf(time.Millisecond))
			if err := into.MergeEncoded(tt.in); err == nil || into.Count() != 1 {
				t.Errorf("MergeEncoded: err %v, Count %d; want an error and no change", err, into.Count())
			}
		})
	}
}

// TestDecodeBombIsBounded feeds payloads that inflate far beyond what they
// declare and checks that Decode's allocations stay bounded.
func TestDecodeBombIsBounded(t *testing.T) {
	const inflated = 16 << 20 // twice the allocation budget below
	zeros := make([]byte, inflated)
	tests := []struct {
		name string
		w    wire
	}{
		// A valid geometry that declares a small payload but inflates to 16 MiB.
		{"declared small", func() wire { w := ourWire(zeros); w.payloadLen = 16; return w }()},
		// The largest payload length a foreign header could claim.
		{"declared huge", func() wire { w := ourWire(zeros); w.payloadLen = math.MaxInt32; return w }()},
		// A foreign geometry with 2^63 range at 5 digits, declaring 16 MiB:
		// hdrhistogram-go alone sizes its payload limit (9 bytes per counter,
		// about 53 MiB here) from the header and would inflate all of it.
		{"wide geometry", wire{digits: 5, lowest: 1, highest: math.MaxInt64, ratio: 1, payloadLen: inflated, payload: zeros}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.w.encode(t)
			if len(b) > latency.MaxEncodedSize {
				t.Fatalf("test payload of %d bytes is over the size limit; it would not reach the decoder", len(b))
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := latency.Decode(b)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("Decode allocated %d bytes for a %d-byte payload", alloc, len(b))
			}
		})
	}
}

// TestLargestValidEncoding fills every bucket with counts that need wide
// varints: the encoding must stay under MaxEncodedSize and decode intact.
func TestLargestValidEncoding(t *testing.T) {
	var payload []byte
	per := int64(math.MaxInt64 / latency.CountsLen)
	x := uint64(0x9e3779b97f4a7c15)
	var total int64
	for range latency.CountsLen {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		c := per/2 + int64(x%uint64(per/2)) // incompressible, 7-byte varints
		payload = zigzag(payload, c)
		total += c
	}
	b := ourWire(payload).encode(t)
	if len(b) > latency.MaxEncodedSize {
		t.Fatalf("largest valid encoding is %d bytes, above MaxEncodedSize %d", len(b), latency.MaxEncodedSize)
	}
	h, err := latency.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if h.Count() != total || len(latency.BucketsOf(h)) != latency.CountsLen {
		t.Fatalf("Count %d (want %d), %d buckets", h.Count(), total, len(latency.BucketsOf(h)))
	}
	// Re-encoding with our own encoder stays in bounds too.
	if b2, err := h.Encode(); err != nil || len(b2) > latency.MaxEncodedSize {
		t.Fatalf("re-encoded: %d bytes, %v", len(b2), err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, h := range []*latency.Histogram{
		latency.NewHistogram(),
		histOf(time.Millisecond),
		histOf(0, time.Microsecond, 3*time.Millisecond, time.Second, time.Hour),
	} {
		b, err := h.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(ourWire(zigzag(zigzag(nil, -5), 3)).encode(f))
	f.Add(ourWire(zigzag(zigzag(nil, 4), 1)).encode(f))
	f.Add([]byte("HISTFAAAACh4nJNpmSzMwMDAxQABzFCaEUzOmNZg/wEi0NzIyNTcwtLKzMzM0sTQwNDU1NwMAGcLBqQ="))
	f.Add([]byte("not a histogram"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := latency.Decode(b)
		if err != nil {
			if h != nil {
				t.Fatal("Decode returned a histogram with an error")
			}
			return
		}
		var sum int64
		for _, bc := range latency.BucketsOf(h) {
			if bc[1] <= 0 {
				t.Fatalf("non-positive bucket count %v", bc)
			}
			sum += bc[1]
		}
		if sum != h.Count() {
			t.Fatalf("bucket counts sum to %d, Count is %d", sum, h.Count())
		}
		re, err := h.Encode()
		if err != nil {
			t.Fatalf("re-encoding a decoded histogram: %v", err)
		}
		h2, err := latency.Decode(re)
		if err != nil {
			t.Fatalf("decoding a re-encoded histogram: %v", err)
		}
		if d := cmp.Diff(latency.BucketsOf(h), latency.BucketsOf(h2)); d != "" {
			t.Fatalf("round trip changed the buckets (-first +second):\n%s", d)
		}
		// Queries on anything that decodes must not panic.
		_ = h.Quantile(0.99)
		_ = h.Mean()
		_ = h.LogBuckets(10)
		_ = h.Spectrum(5)
	})
}

// FuzzPayload wraps fuzzed bytes in a valid frame (our geometry, zlib,
// base64), so that the fuzzer explores the varint payload behind the
// compression, which FuzzDecode rarely gets through.
func FuzzPayload(f *testing.F) {
	f.Add(zigzag(zigzag(nil, -5), 3), int32(-1))
	f.Add(zigzag(zigzag(nil, 4), 1), int32(-1))
	f.Add(zigzag(zigzag(nil, -latency.CountsLen+1), 7), int32(-1))
	f.Add(zigzag(zigzag(nil, math.MaxInt64), 1), int32(3))
	f.Fuzz(func(t *testing.T, payload []byte, payloadLen int32) {
		if len(payload) > latency.MaxPayloadLen {
			return
		}
		w := ourWire(payload)
		if payloadLen < -1 || payloadLen > 2*int32(len(payload)) {
			payloadLen = -1
		}
		w.payloadLen = payloadLen
		h, err := latency.Decode(w.encode(t))
		if err != nil {
			return
		}
		var sum int64
		for _, bc := range latency.BucketsOf(h) {
			sum += bc[1]
		}
		if sum != h.Count() {
			t.Fatalf("bucket counts sum to %d, Count is %d", sum, h.Count())
		}
		re, err := h.Encode()
		if err != nil {
			t.Fatal(err)
		}
		h2, err := latency.Decode(re)
		if err != nil {
			t.Fatalf("decoding a re-encoded histogram: %v", err)
		}
		if d := cmp.Diff(latency.BucketsOf(h), latency.BucketsOf(h2)); d != "" {
			t.Fatalf("round trip changed the buckets (-first +second):\n%s", d)
		}
		var lbSum int64
		for _, b := range h.LogBuckets(7) {
			lbSum += b.Count
		}
		if lbSum != h.Count() {
			t.Fatalf("LogBuckets sum to %d, Count is %d", lbSum, h.Count())
		}
		_ = h.Spectrum(5)
		_ = h.Quantile(0.5)
		_ = h.Mean()
	})
}
