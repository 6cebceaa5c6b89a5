package latency

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// hlogHist returns a histogram of ds.
func hlogHist(ds ...time.Duration) *Histogram {
	r := NewRecorder()
	for _, d := range ds {
		r.Record(d)
	}
	h := NewHistogram()
	h.MergeRecorder(r)
	return h
}

// hlogLogUniform returns a duration spread evenly over the decades 1 µs .. ~1 h.
func hlogLogUniform(rng *rand.Rand) time.Duration {
	return time.Duration(math.Pow(10, rng.Float64()*9.5) * float64(time.Microsecond))
}

// hlogBuckets lists h's populated buckets as (lowest value in µs, count).
func hlogBuckets(h *Histogram) [][2]int64 {
	var out [][2]int64
	h.forEach(func(v, c int64) bool {
		out = append(out, [2]int64{v, c})
		return true
	})
	return out
}

// hlogStart has a sub-millisecond part, which the log drops.
var hlogStart = time.Date(2024, 3, 1, 12, 0, 5, 250_600_000, time.UTC)

// hlogGolden are deterministic intervals covering what a line can hold:
// a tag to sanitize, an untagged line, an empty histogram, a fractional
// start and length.
func hlogGolden() []Interval {
	ms := time.Millisecond
	return []Interval{
		{Tag: "GET /users, v2", Start: hlogStart, Length: time.Second,
			Hist: hlogHist(800*time.Microsecond, 1200*time.Microsecond, 3*ms, 3*ms, 45*ms)},
		{Tag: "all", Start: hlogStart, Length: time.Second,
			Hist: hlogHist(800*time.Microsecond, 1200*time.Microsecond, 3*ms, 3*ms, 45*ms, 2*time.Second)},
		{Tag: "GET /users, v2", Start: hlogStart.Add(time.Second), Length: 999_600 * time.Microsecond,
			Hist: hlogHist(17*ms, 2500*time.Microsecond)},
		{Tag: "idle", Start: hlogStart.Add(time.Second), Length: time.Second, Hist: nil},
		{Tag: "", Start: hlogStart.Add(2*time.Second + 333_333*time.Microsecond), Length: 1500 * ms,
			Hist: hlogHist(time.Microsecond, time.Hour)},
	}
}

func TestWriteLogGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLog(&buf, hlogStart, "barrage test log\nsecond line #[StartTime: 1", hlogGolden()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "intervals.hlog")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), buf.String()); d != "" {
		t.Errorf("log differs from %s (-want +got):\n%s", path, d)
	}
}

// TestWriteLogHeaderAndLines checks the parts of the format that do not
// depend on the compressor, independently of the golden file.
func TestWriteLogHeaderAndLines(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteLog(&buf, hlogStart, "made by a test\r\nline #[BaseTime: 9", hlogGolden()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	wantHead := []string{
		"# made by a test",
		"# line # [BaseTime: 9",
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1709294405.250 (seconds since epoch), 2024-03-01T12:00:05.250Z]",
		"#[BaseTime: 1709294405.250 (seconds since epoch)]",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
	}
	if d := cmp.Diff(wantHead, lines[:len(wantHead)]); d != "" {
		t.Fatalf("header (-want +got):\n%s", d)
	}
	// Tag, start (rounded to the ms from the 250 ms base), length, max in ms.
	wantPrefixes := []string{
		"Tag=GET_/users__v2,0.001,1.000,45.023,HISTF",
		"Tag=all,0.001,1.000,2000.895,HISTF",
		"Tag=GET_/users__v2,1.001,1.000,17.007,HISTF",
		"Tag=idle,1.001,1.000,0.000,HISTF",
		"2.334,1.500,3600809.983,HISTF",
	}
	body := lines[len(wantHead):]
	if len(body) != len(wantPrefixes) {
		t.Fatalf("%d interval lines, want %d:\n%s", len(body), len(wantPrefixes), buf.String())
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(body[i], p) {
			t.Errorf("line %d = %.60s..., want prefix %s", i, body[i], p)
		}
	}
}

// hlogRandom returns tags × windows intervals of log-uniform values.
func hlogRandom(seed uint64, tags []string, windows int) []Interval {
	rng := rand.New(rand.NewPCG(seed, seed))
	var out []Interval
	for w := range windows {
		for _, tag := range tags {
			ds := make([]time.Duration, rng.IntN(400))
			for i := range ds {
				ds[i] = hlogLogUniform(rng)
			}
			out = append(out, Interval{
				Tag: tag, Start: hlogStart.Add(time.Duration(w) * time.Second), Length: time.Second, Hist: hlogHist(ds...),
			})
		}
	}
	return out
}

var hlogQuantiles = []float64{0, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1}

// TestLogReadByHdrHistogram writes a log and reads it with hdrhistogram-go's
// own HistogramLogReader: every interval comes back with its tag, times, count
// and percentiles.
func TestLogReadByHdrHistogram(t *testing.T) {
	in := hlogRandom(11, []string{"login", "search items", "all"}, 5)
	var buf bytes.Buffer
	if err := WriteLog(&buf, hlogStart, "round trip", in); err != nil {
		t.Fatal(err)
	}
	r := hdr.NewHistogramLogReader(bytes.NewReader(buf.Bytes()))
	for i, want := range in {
		got, err := r.NextIntervalHistogram()
		if err != nil || got == nil {
			t.Fatalf("interval %d: %v, %v", i, got, err)
		}
		if tag := SanitizeTag(want.Tag); got.Tag() != tag {
			t.Errorf("interval %d: tag %q, want %q", i, got.Tag(), tag)
		}
		// The library computes times in float64 seconds and truncates to
		// the millisecond: allow one millisecond.
		wantStart := want.Start.Truncate(time.Millisecond).UnixMilli()
		if d := got.StartTimeMs() - wantStart; d < -1 || d > 1 {
			t.Errorf("interval %d: start %d ms, want %d", i, got.StartTimeMs(), wantStart)
		}
		if d := got.EndTimeMs() - got.StartTimeMs(); d < 999 || d > 1001 {
			t.Errorf("interval %d: length %d ms, want 1000", i, d)
		}
		if got.TotalCount() != want.Hist.Count() {
			t.Fatalf("interval %d (%s): count %d, want %d", i, want.Tag, got.TotalCount(), want.Hist.Count())
		}
		if want.Hist.Count() == 0 {
			continue
		}
		for _, q := range hlogQuantiles {
			w := want.Hist.Quantile(q) / time.Microsecond
			if g := got.ValueAtQuantile(q * 100); g != int64(w) {
				t.Errorf("interval %d (%s): p%g = %d µs, want %d", i, want.Tag, q*100, g, w)
			}
		}
		if g, w := got.Max(), int64(want.Hist.Max()/time.Microsecond); g != w {
			t.Errorf("interval %d: max %d µs, want %d", i, g, w)
		}
	}
	if h, err := r.NextIntervalHistogram(); h != nil || err != nil {
		t.Errorf("after the last interval: %v, %v", h, err)
	}
}

// TestLogRoundTrip writes a log and reads it back with ReadLog.
func TestLogRoundTrip(t *testing.T) {
	in := hlogRandom(12, []string{"a", "b,c"}, 4)
	in = append(in, hlogGolden()...)
	var buf bytes.Buffer
	if err := WriteLog(&buf, hlogStart, "", in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadLog(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d intervals, wrote %d", len(out), len(in))
	}
	base := hlogStart.Truncate(time.Millisecond)
	for i := range in {
		w, g := in[i], out[i]
		wantStart := base.Add(w.Start.Sub(base).Round(time.Millisecond))
		if g.Tag != SanitizeTag(w.Tag) || !g.Start.Equal(wantStart) || g.Length != w.Length.Round(time.Millisecond) {
			t.Errorf("interval %d: got %q %v %v, want %q %v %v", i, g.Tag, g.Start, g.Length,
				SanitizeTag(w.Tag), wantStart, w.Length.Round(time.Millisecond))
		}
		wh := w.Hist
		if wh == nil {
			wh = NewHistogram()
		}
		if d := cmp.Diff(hlogBuckets(wh), hlogBuckets(g.Hist)); d != "" {
			t.Errorf("interval %d buckets (-want +got):\n%s", i, d)
		}
	}
}

// TestReadLogOfHdrHistogramWriter reads a log written by hdrhistogram-go's
// HistogramLogWriter (whole-second header times, six decimals).
func TestReadLogOfHdrHistogramWriter(t *testing.T) {
	var buf bytes.Buffer
	lw := hdr.NewHistogramLogWriter(&buf)
	baseMs := int64(1_709_294_405_000)
	for _, err := range []error{
		lw.OutputComment("[Logged with a test]"), lw.OutputLogFormatVersion(),
		lw.OutputStartTime(baseMs), lw.OutputBaseTime(baseMs), lw.OutputLegend(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	lw.SetBaseTime(baseMs)
	type rec struct {
		tag    string
		offMs  int64
		values []int64
	}
	recs := []rec{{"x", 0, []int64{5, 50, 500_000}}, {"y", 0, []int64{7}}, {"", 1500, []int64{1, 2, 3, 4}}}
	for _, r := range recs {
		p := hdr.NewPacked(LowestMicros, HighestMicros, Digits)
		for _, v := range r.values {
			if err := p.RecordValue(v); err != nil {
				t.Fatal(err)
			}
		}
		p.SetTag(r.tag)
		p.SetStartTimeMs(baseMs + r.offMs)
		p.SetEndTimeMs(baseMs + r.offMs + 1000)
		if err := lw.OutputIntervalPackedHistogram(p); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ReadLog(&buf)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(out) != len(recs) {
		t.Fatalf("read %d intervals, want %d", len(out), len(recs))
	}
	for i, r := range recs {
		g := out[i]
		if g.Tag != r.tag || g.Start.UnixMilli() != baseMs+r.offMs || g.Length != time.Second || g.Hist.Count() != int64(len(r.values)) {
			t.Errorf("interval %d = %q %v %v count %d, want %q %v 1s count %d", i, g.Tag, g.Start.UnixMilli(), g.Length,
				g.Hist.Count(), r.tag, baseMs+r.offMs, len(r.values))
		}
	}
}

// hlogPayload is a valid histogram holding 3 ms once.
func hlogPayload(t *testing.T) string {
	b, err := hlogHist(3 * time.Millisecond).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReadLogTimes(t *testing.T) {
	p := hlogPayload(t)
	tests := []struct {
		name string
		log  string
		want []time.Time
	}{
		{"base time", "#[StartTime: 1000.5 (x)]\n#[BaseTime: 2000.25 (x)]\n1.5,1,1," + p + "\n",
			[]time.Time{time.Unix(2001, 750_000_000)}},
		{"no base, relative to start", "#[StartTime: 1700000000.000 (x)]\n0.001,1,1," + p + "\n",
			[]time.Time{time.Unix(1_700_000_000, 1_000_000)}},
		{"no base, absolute", "#[StartTime: 1700000000.000 (x)]\n1690000000.000,1,1," + p + "\n",
			[]time.Time{time.Unix(1_690_000_000, 0)}},
		{"no header: absolute", "12.000000001,1,1," + p + "\n13,1,1," + p,
			[]time.Time{time.Unix(12, 1), time.Unix(13, 0)}},
		{"crlf, comments, blank lines, legend", "# hi\r\n\r\n\"StartTimestamp\",\"x\"\r\n#[BaseTime: 10]\r\nTag=a,1,1,1," + p + "\r\n",
			[]time.Time{time.Unix(11, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ReadLog(strings.NewReader(tt.log))
			if err != nil {
				t.Fatal(err)
			}
			var got []time.Time
			for _, iv := range out {
				got = append(got, iv.Start)
				if iv.Hist.Count() != 1 {
					t.Errorf("count %d, want 1", iv.Hist.Count())
				}
			}
			if d := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); d != "" {
				t.Errorf("starts (-want +got):\n%s", d)
			}
		})
	}
}

func TestReadLogRejects(t *testing.T) {
	p := hlogPayload(t)
	foreign, err := hdr.NewPacked(1, 1000, 2).Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, log, want string
		corrupt         bool
	}{
		{"tag without fields", "Tag=abc\n", "line 1: a tag without an interval", false},
		{"too few fields", "# c\n1.0,2.0,HISTF\n", "line 2: an interval needs", false},
		{"empty payload", "1.0,2.0,3.0,\n", "line 1: interval histogram", true},
		{"not base64", "1.0,2.0,3.0,!!!\n", "line 1: interval histogram", true},
		{"foreign geometry", "1,1,1," + string(foreign) + "\n", "geometry mismatch", true},
		{"negative start", "-1.0,1,1," + p + "\n", "interval start", false},
		{"exponent", "1e3,1,1," + p + "\n", "interval start", false},
		{"empty length", "1,,1," + p + "\n", "interval length", false},
		{"bad max", "1,1,NaN," + p + "\n", "interval max", false},
		{"start out of range", "4294967296,1,1," + p + "\n", "out of range", false},
		{"bad start time", "#[StartTime: x]\n", "line 1: start time", false},
		{"bad base time", "\n#[BaseTime: .]\n", "line 2: base time", false},
		{"stray text", "hello\n", "line 1:", false},
		{"trailing space", "1,1,1," + p + " \n", "interval histogram", true},
		{"line too long", "# ok\n" + strings.Repeat("1", MaxLogLine+1) + "\n", "line 2 is longer than", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLog(strings.NewReader(tt.log))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadLog) || errors.Is(err, ErrCorrupt) != tt.corrupt {
				t.Errorf("error %v: ErrBadLog %v, ErrCorrupt %v (want %v)", err, errors.Is(err, ErrBadLog), errors.Is(err, ErrCorrupt), tt.corrupt)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLogReaderStopsAtFirstError(t *testing.T) {
	p := hlogPayload(t)
	lr := NewLogReader(strings.NewReader("1,1,1," + p + "\nbad\n2,1,1," + p + "\n"))
	if _, err := lr.Next(); err != nil {
		t.Fatal(err)
	}
	_, err1 := lr.Next()
	_, err2 := lr.Next()
	if err1 == nil || err1 != err2 {
		t.Fatalf("errors %v then %v, want the same error twice", err1, err2)
	}
	lr = NewLogReader(strings.NewReader(""))
	if _, err := lr.Next(); err != io.EOF {
		t.Fatalf("empty log: %v, want io.EOF", err)
	}
}

// TestReadLogMemoryBound: a line of a few hundred bytes can describe a
// histogram of every bucket; ReadLog stops at its memory limit.
func TestReadLogMemoryBound(t *testing.T) {
	rec := NewRecorder()
	for v := int64(1); v < HighestMicros; v += max(1, v/1000) {
		rec.Record(time.Duration(v) * time.Microsecond)
	}
	full := NewHistogram()
	full.MergeRecorder(rec)
	b, err := full.Encode()
	if err != nil {
		t.Fatal(err)
	}
	line := "0,1,1," + string(b) + "\n"
	log := strings.Repeat(line, 40)
	limit := 1 << 20
	_, err = readLog(strings.NewReader(log), limit)
	if !errors.Is(err, ErrLogTooLarge) {
		t.Fatalf("reading %d full histograms (%d bytes of log) with a %d-byte limit: %v, want ErrLogTooLarge", 40, len(log), limit, err)
	}
	if out, err := readLog(strings.NewReader(line), limit); err != nil || len(out) != 1 {
		t.Fatalf("one full histogram: %d intervals, %v", len(out), err)
	}
}

func TestLogWriterRejects(t *testing.T) {
	if _, err := NewLogWriter(io.Discard, time.Unix(-1, 0), ""); err == nil {
		t.Error("start before the epoch accepted")
	}
	if _, err := NewLogWriter(io.Discard, time.Unix(math.MaxUint32+1, 0), ""); err == nil {
		t.Error("start after 2^32 s accepted")
	}
	var buf bytes.Buffer
	lw, err := NewLogWriter(&buf, hlogStart, "")
	if err != nil {
		t.Fatal(err)
	}
	head := buf.Len()
	for _, iv := range []Interval{
		{Tag: "early", Start: hlogStart.Add(-time.Millisecond), Length: time.Second},
		{Tag: "negative", Start: hlogStart, Length: -time.Nanosecond},
		{Tag: "far", Start: hlogStart.Add(200 * 365 * 24 * time.Hour), Length: time.Second},
	} {
		if err := lw.Write(iv); err == nil || !strings.Contains(err.Error(), iv.Tag) {
			t.Errorf("%s: error %v", iv.Tag, err)
		}
	}
	if buf.Len() != head {
		t.Errorf("rejected intervals wrote %q", buf.String()[head:])
	}
	// Within the same millisecond as the (truncated) start is fine.
	if err := lw.Write(Interval{Start: hlogStart.Truncate(time.Millisecond), Length: 0}); err != nil {
		t.Errorf("interval at the truncated start: %v", err)
	}
}

type hlogFailWriter struct{}

func (hlogFailWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteLogReportsWriteErrors(t *testing.T) {
	if err := WriteLog(hlogFailWriter{}, hlogStart, "x", hlogGolden()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error %v, want the writer's", err)
	}
}

func TestSanitizeTag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"login", "login"},
		{"GET /a,b", "GET_/a_b"},
		{",edge ", "_edge_"},
		{"tab\tnl\ncr\r", "tab_nl_cr_"},
		{"nbsp\u00a0x", "nbsp_x"},
		{"bad\xffutf8", "bad_utf8"},
		{"ünïcødé-ok=1", "ünïcødé-ok=1"},
		{"zero\u200bwidth", "zero_width"},
		{strings.Repeat("é", MaxTagLen), strings.Repeat("é", MaxTagLen/2)},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.20q", tt.in), func(t *testing.T) {
			if got := SanitizeTag(tt.in); got != tt.want {
				t.Errorf("SanitizeTag(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzReadLog: ReadLog never panics, bounds its memory (MaxLogLine,
// MaxReadLogMemory), fails only with its documented errors, and what it
// reads survives a write and a second read.
func FuzzReadLog(f *testing.F) {
	var golden bytes.Buffer
	if err := WriteLog(&golden, hlogStart, "seed", hlogGolden()); err != nil {
		f.Fatal(err)
	}
	f.Add(golden.Bytes())
	b, err := hlogHist(time.Millisecond).Encode()
	if err != nil {
		f.Fatal(err)
	}
	p := string(b)
	for _, s := range []string{
		"#[StartTime: 1.0 (seconds since epoch), x]\n0.1,0.2,0.3," + p + "\n",
		"Tag=A,0.1,0.2,0.3," + p,
		"Tag=abc\n",
		"1.0,2.0,3.0,\n",
		"#[BaseTime: 99999999999999999999]\n",
		"Tag=,1,1,1," + p + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ivs, err := ReadLog(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadLog) && !errors.Is(err, ErrLogTooLarge) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		if len(ivs) == 0 {
			return
		}
		start := ivs[0].Start
		for _, iv := range ivs {
			if iv.Start.Before(start) {
				start = iv.Start
			}
		}
		var buf bytes.Buffer
		if err := WriteLog(&buf, start, "", ivs); err != nil {
			return // times beyond what a log relative to start can hold
		}
		again, err := ReadLog(&buf)
		if err != nil {
			t.Fatalf("re-reading a written log: %v\n%s", err, buf.String())
		}
		if len(again) != len(ivs) {
			t.Fatalf("re-read %d intervals, wrote %d", len(again), len(ivs))
		}
		for i := range ivs {
			if again[i].Tag != SanitizeTag(ivs[i].Tag) {
				t.Errorf("interval %d: tag %q, want %q", i, again[i].Tag, SanitizeTag(ivs[i].Tag))
			}
			if d := cmp.Diff(hlogBuckets(ivs[i].Hist), hlogBuckets(again[i].Hist)); d != "" {
				t.Fatalf("interval %d buckets (-first +second):\n%s", i, d)
			}
		}
	})
}
