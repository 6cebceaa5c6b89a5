package latency

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const (
	// LogFormatVersion is the log format version WriteLog declares.
	LogFormatVersion = "1.3"
	// LogMaxValueRatio is what the interval max column is divided by:
	// microseconds / 1000, so the column is in milliseconds.
	LogMaxValueRatio = 1000
	// MaxTagLen is the longest tag SanitizeTag keeps, in bytes.
	MaxTagLen = 1 << 10
	// MaxLogLine is the longest line a LogReader accepts, in bytes: a tag of
	// MaxTagLen, three numbers and a histogram of MaxEncodedSize fit.
	MaxLogLine = MaxEncodedSize + 4<<10
	// MaxReadLogMemory bounds what ReadLog keeps, in bytes (the histograms'
	// memory plus the tags); read larger logs interval by interval with a
	// LogReader.
	MaxReadLogMemory = 256 << 20
)

// maxLogSeconds bounds every time in a log (seconds since the epoch or since
// the base time): 2^32 s, after the year 2100, so that a base time plus an
// offset cannot overflow int64 nanoseconds.
const maxLogSeconds = 1 << 32

var (
	// ErrBadLog is wrapped by every error a LogReader returns for input that
	// is not a well-formed histogram log (an unreadable histogram also wraps
	// ErrCorrupt).
	ErrBadLog = errors.New("malformed histogram log")
	// ErrLogTooLarge is returned by ReadLog for a log whose histograms would
	// take more than MaxReadLogMemory.
	ErrLogTooLarge = errors.New("histogram log too large to hold at once")
)

// Interval is one tagged interval histogram of a log.
type Interval struct {
	// Tag names the series, e.g. an endpoint; "" writes an untagged line.
	// WriteLog passes it through SanitizeTag.
	Tag string
	// Start is when the interval began.
	Start time.Time
	// Length is how long the interval lasted.
	Length time.Duration
	// Hist holds the interval's values (µs); nil is an empty histogram.
	Hist *Histogram
}

// SanitizeTag returns tag made valid for a log line: commas, white space,
// control and other unprintable characters and invalid UTF-8 become '_', and
// the result is cut to at most MaxTagLen bytes (on a character boundary).
// An empty tag stays empty (an untagged line).
func SanitizeTag(tag string) string {
	s := strings.Map(func(r rune) rune {
		if r == ',' || r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return '_'
		}
		return r
	}, tag)
	if len(s) > MaxTagLen {
		cut := MaxTagLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}

// LogWriter writes an HdrHistogram interval log (.hlog), as HdrHistogram's
// HistogramLogWriter does and its HistogramLogReader, HistogramLogProcessor
// and HdrHistogramVisualizer read:
//
//	# comment
//	#[Histogram log format version 1.3]
//	#[StartTime: 1700000000.000 (seconds since epoch), 2023-11-14T22:13:20.000Z]
//	#[BaseTime: 1700000000.000 (seconds since epoch)]
//	"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
//	Tag=NAME,START,LENGTH,MAX,HISTFAAAA...
//
// START is seconds since the base time and LENGTH seconds, both to the
// millisecond; MAX is the interval's largest value divided by
// LogMaxValueRatio (milliseconds); the histogram is in the V2 compressed
// encoding (see Encode).
//
// Units: the histograms hold microseconds. HdrHistogram tools print values
// divided by an output value unit ratio that defaults to 1e6 (nanosecond
// logs): give HistogramLogProcessor `-outputValueUnitRatio 1000` (and
// HdrHistogramVisualizer the same ratio) to read milliseconds, 1 for
// microseconds. HistogramLogProcessor reads only untagged lines unless given
// `-tag NAME`.
//
// A LogWriter does not buffer: give it a bufio.Writer for many intervals.
// Not safe for concurrent use.
type LogWriter struct {
	w      io.Writer
	baseMs int64 // base time, ms since the epoch
	buf    []byte
}

// NewLogWriter writes the log's header to w: the comment (each of its lines
// as a "# " comment line; empty: none), the format version, start as the
// start time and as the base time (to the millisecond, truncated), and the
// legend. start must lie between the Unix epoch and 2^32 s after it.
func NewLogWriter(w io.Writer, start time.Time, comment string) (*LogWriter, error) {
	if start.Before(time.Unix(0, 0)) || start.Unix() >= maxLogSeconds {
		return nil, fmt.Errorf("log start time %v outside the range of the log format", start)
	}
	lw := &LogWriter{w: w, baseMs: start.UnixMilli()}
	b := lw.buf[:0]
	for _, line := range strings.FieldsFunc(comment, func(r rune) bool { return r == '\n' || r == '\r' }) {
		// "#[" starts the header lines readers look for; keep comments
		// from ever reading as one.
		b = append(b, "# "...)
		b = append(b, strings.ReplaceAll(line, "#[", "# [")...)
		b = append(b, '\n')
	}
	b = append(b, "#[Histogram log format version "+LogFormatVersion+"]\n"...)
	b = append(b, "#[StartTime: "...)
	b = appendMillis(b, lw.baseMs)
	b = append(b, " (seconds since epoch), "...)
	b = time.UnixMilli(lw.baseMs).UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, "]\n#[BaseTime: "...)
	b = appendMillis(b, lw.baseMs)
	b = append(b, " (seconds since epoch)]\n"...)
	b = append(b, `"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`+"\n"...)
	lw.buf = b
	if _, err := w.Write(b); err != nil {
		return nil, fmt.Errorf("write log header: %w", err)
	}
	return lw, nil
}

// Write writes one interval line: its tag (sanitized), its start relative to
// the base time and its length, both rounded to the millisecond, its largest
// value in milliseconds, and its histogram. An interval that starts before
// the log's start time, or has a negative length, is an error and nothing is
// written.
func (lw *LogWriter) Write(iv Interval) error {
	base := time.UnixMilli(lw.baseMs)
	if iv.Start.Before(base) {
		return fmt.Errorf("interval %q starts at %v, before the log's start %v", iv.Tag, iv.Start, base)
	}
	if iv.Length < 0 {
		return fmt.Errorf("interval %q has a negative length %v", iv.Tag, iv.Length)
	}
	rel := roundMillis(iv.Start.Sub(base)) // Sub saturates; the bound below catches it
	length := roundMillis(iv.Length)
	if rel >= maxLogSeconds*1000 || length >= maxLogSeconds*1000 {
		return fmt.Errorf("interval %q at %v lasting %v lies outside the range of the log format", iv.Tag, iv.Start, iv.Length)
	}
	h := iv.Hist
	if h == nil {
		h = NewHistogram()
	}
	payload, err := h.Encode()
	if err != nil {
		return fmt.Errorf("encode interval %q: %w", iv.Tag, err)
	}
	var maxMicros int64
	if h.Count() > 0 {
		maxMicros = h.p.Max()
	}
	b := lw.buf[:0]
	if tag := SanitizeTag(iv.Tag); tag != "" {
		b = append(b, "Tag="...)
		b = append(b, tag...)
		b = append(b, ',')
	}
	b = appendMillis(b, rel)
	b = append(b, ',')
	b = appendMillis(b, length)
	b = append(b, ',')
	b = appendMillis(b, maxMicros) // µs / LogMaxValueRatio = ms, three decimals exact
	b = append(b, ',')
	b = append(b, payload...)
	b = append(b, '\n')
	lw.buf = b
	if _, err := lw.w.Write(b); err != nil {
		return fmt.Errorf("write interval %q: %w", iv.Tag, err)
	}
	return nil
}

// WriteLog writes intervals, in the order given, as an HdrHistogram interval
// log (format version 1.3) whose start time and base time are start: see
// LogWriter (format and units: HdrHistogram tools need an output value unit
// ratio of 1000 to print milliseconds), NewLogWriter and LogWriter.Write.
func WriteLog(w io.Writer, start time.Time, comment string, intervals []Interval) error {
	bw := bufio.NewWriter(w)
	lw, err := NewLogWriter(bw, start, comment)
	if err != nil {
		return err
	}
	for _, iv := range intervals {
		if err := lw.Write(iv); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	return nil
}

// roundMillis converts a non-negative d to milliseconds, rounding halves up.
func roundMillis(d time.Duration) int64 {
	return int64(d/time.Millisecond) + int64(d%time.Millisecond+time.Millisecond/2)/int64(time.Millisecond)
}

// appendMillis appends v/1000 with three decimals (v >= 0).
func appendMillis(b []byte, v int64) []byte {
	b = strconv.AppendInt(b, v/1000, 10)
	frac := v % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

// LogReader reads an interval log one interval at a time, with the semantics
// of HdrHistogram's HistogramLogReader: "#[StartTime: S" and "#[BaseTime: B"
// header lines (seconds since the epoch), other '#' lines and the legend
// ignored, interval lines "[Tag=T,]START,LENGTH,MAX,HISTOGRAM". Interval start
// times are BaseTime + START; without a BaseTime line, START is taken as
// absolute unless it is more than a year before the StartTime (then relative
// to it), and without a StartTime line the first interval's START is the
// start time.
//
// The input is treated as hostile: lines longer than MaxLogLine, numbers that
// are not plain non-negative decimals or exceed 2^32 s, and histograms that
// Decode rejects (including geometries other than the package's) are errors;
// each Next allocates at most about MaxLogLine plus what Decode does. Errors
// wrap ErrBadLog and name the line. Not safe for concurrent use.
type LogReader struct {
	sc                  *bufio.Scanner
	line                int
	startNs, baseNs     int64
	haveStart, haveBase bool
	err                 error
}

// NewLogReader returns a reader of the log in r.
func NewLogReader(r io.Reader) *LogReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLogLine)
	return &LogReader{sc: sc}
}

// Next returns the next interval, or io.EOF after the last one. After an
// error, Next returns the same error again.
func (lr *LogReader) Next() (Interval, error) {
	if lr.err != nil {
		return Interval{}, lr.err
	}
	for lr.sc.Scan() {
		lr.line++
		iv, ok, err := lr.parseLine(lr.sc.Bytes())
		if err != nil {
			lr.err = fmt.Errorf("%w: line %d: %w", ErrBadLog, lr.line, err)
			return Interval{}, lr.err
		}
		if ok {
			return iv, nil
		}
	}
	switch err := lr.sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		lr.err = fmt.Errorf("%w: line %d is longer than %d bytes", ErrBadLog, lr.line+1, MaxLogLine)
	case err != nil:
		lr.err = fmt.Errorf("read histogram log: %w", err)
	default:
		lr.err = io.EOF
	}
	return Interval{}, lr.err
}

var (
	startTimePrefix = []byte("#[StartTime: ")
	baseTimePrefix  = []byte("#[BaseTime: ")
	tagPrefix       = []byte("Tag=")
)

// parseLine parses one line; ok reports whether it was an interval.
func (lr *LogReader) parseLine(b []byte) (iv Interval, ok bool, err error) {
	switch {
	case len(b) == 0, b[0] == '"': // blank, legend
		return Interval{}, false, nil
	case bytes.HasPrefix(b, startTimePrefix):
		lr.startNs, err = parseSeconds(leadingNumber(b[len(startTimePrefix):]))
		if err != nil {
			return Interval{}, false, fmt.Errorf("start time: %w", err)
		}
		lr.haveStart = true
		return Interval{}, false, nil
	case bytes.HasPrefix(b, baseTimePrefix):
		lr.baseNs, err = parseSeconds(leadingNumber(b[len(baseTimePrefix):]))
		if err != nil {
			return Interval{}, false, fmt.Errorf("base time: %w", err)
		}
		lr.haveBase = true
		return Interval{}, false, nil
	case b[0] == '#':
		return Interval{}, false, nil
	}
	if bytes.HasPrefix(b, tagPrefix) {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return Interval{}, false, errors.New("a tag without an interval")
		}
		iv.Tag = string(b[len(tagPrefix):i]) // a copy: b is the scanner's buffer
		b = b[i+1:]
	}
	var fields [3][]byte
	for i := range fields {
		j := bytes.IndexByte(b, ',')
		if j < 0 {
			return Interval{}, false, errors.New("an interval needs start, length, max and histogram fields")
		}
		fields[i], b = b[:j], b[j+1:]
	}
	startNs, err := parseSeconds(fields[0])
	if err != nil {
		return Interval{}, false, fmt.Errorf("interval start: %w", err)
	}
	lengthNs, err := parseSeconds(fields[1])
	if err != nil {
		return Interval{}, false, fmt.Errorf("interval length: %w", err)
	}
	if _, err := parseSeconds(fields[2]); err != nil {
		return Interval{}, false, fmt.Errorf("interval max: %w", err)
	}
	h, err := Decode(b)
	if err != nil {
		return Interval{}, false, fmt.Errorf("interval histogram: %w", err)
	}
	if !lr.haveStart {
		lr.startNs, lr.haveStart = startNs, true
	}
	if !lr.haveBase {
		// As HistogramLogReader: a time more than a year before the start
		// time is relative to it, otherwise absolute.
		if startNs < lr.startNs-int64(365*24*time.Hour) {
			lr.baseNs = lr.startNs
		}
		lr.haveBase = true
	}
	iv.Start = time.Unix(0, lr.baseNs+startNs).UTC()
	iv.Length = time.Duration(lengthNs)
	iv.Hist = h
	return iv, true, nil
}

// leadingNumber returns the run of digits and dots b starts with.
func leadingNumber(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == '.' || (b[i] >= '0' && b[i] <= '9')) {
		i++
	}
	return b[:i]
}

// parseSeconds parses a plain non-negative decimal number of seconds
// ("12", "12.", "12.345678") below 2^32 into nanoseconds, exactly to the
// nanosecond (further decimals are dropped).
func parseSeconds(b []byte) (int64, error) {
	var sec int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sec = sec*10 + int64(b[i]-'0')
		if sec >= maxLogSeconds {
			return 0, fmt.Errorf("%.40q is out of range", b)
		}
	}
	if i == 0 {
		return 0, fmt.Errorf("%.40q is not a non-negative decimal number", b)
	}
	var frac int64
	digits := 0
	if i < len(b) {
		if b[i] != '.' {
			return 0, fmt.Errorf("%.40q is not a non-negative decimal number", b)
		}
		for i++; i < len(b); i++ {
			if b[i] < '0' || b[i] > '9' {
				return 0, fmt.Errorf("%.40q is not a non-negative decimal number", b)
			}
			if digits < 9 {
				frac = frac*10 + int64(b[i]-'0')
				digits++
			}
		}
	}
	for ; digits < 9; digits++ {
		frac *= 10
	}
	return sec*int64(time.Second) + frac, nil
}

// ReadLog reads a whole interval log (see LogReader), for round trips and
// tests. It fails with ErrLogTooLarge once the histograms read would take
// more than MaxReadLogMemory bytes; read such logs with a LogReader.
func ReadLog(r io.Reader) ([]Interval, error) { return readLog(r, MaxReadLogMemory) }

// readLog is ReadLog with a memory limit of limit bytes.
func readLog(r io.Reader, limit int) ([]Interval, error) {
	lr := NewLogReader(r)
	var (
		out []Interval
		mem int
	)
	for {
		iv, err := lr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		mem += iv.Hist.memSize() + len(iv.Tag) + intervalSize
		if mem > limit {
			return nil, fmt.Errorf("%w: more than %d bytes by line %d", ErrLogTooLarge, limit, lr.line)
		}
		out = append(out, iv)
	}
}

// intervalSize is the memory of an Interval and its Histogram wrapper,
// beyond the histogram's own (about: slice growth is not counted).
const intervalSize = 80

// memSize returns about how many bytes h holds.
func (h *Histogram) memSize() int {
	if h.p == nil {
		return 0
	}
	return h.p.GetMemorySize()
}
