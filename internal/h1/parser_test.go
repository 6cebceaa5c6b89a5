package h1

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/outcome"
)

// splitter returns the size of the next piece to feed, given how many bytes
// are left (at least 1); the result is clamped to 1..left.
type splitter func(left int) int

func fixedPieces(size int) func() splitter {
	return func() splitter { return func(int) int { return size } }
}

// randomPieces feeds pieces of 1..most bytes chosen by a PCG seeded with
// seed.
func randomPieces(seed uint64, most int) func() splitter {
	return func() splitter {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		return func(int) int { return 1 + rng.IntN(most) }
	}
}

// splitModes are the ways the differential tests cut a response up.
var splitModes = []struct {
	name   string
	pieces func() splitter
}{
	{"whole", fixedPieces(1 << 30)},
	{"bytes", fixedPieces(1)},
	{"3-byte", fixedPieces(3)},
	{"random", randomPieces(1, 40)},
	{"random-large", randomPieces(2, 5000)},
}

// parse runs data through p (after Reset(head)) in pieces, then EOF when
// data runs out before the response is complete, and returns the result as
// Do would see it. It checks the Feed contract on the way.
func parse(t testing.TB, p *Parser, data []byte, head bool, next splitter) result {
	t.Helper()
	p.Reset(head)
	if p.Started() || p.BytesIn() != 0 || p.Status() != 0 {
		t.Fatalf("after Reset: Started, BytesIn, Status = %v, %d, %d", p.Started(), p.BytesIn(), p.Status())
	}
	var (
		done     bool
		err      error
		leftover bool
	)
	for off := 0; off < len(data); {
		k := min(max(next(len(data)-off), 1), len(data)-off)
		var n int
		n, done, err = p.Feed(data[off : off+k])
		if !p.Started() {
			t.Fatalf("Started() false after feeding %d bytes", off+k)
		}
		if n < 0 || n > k {
			t.Fatalf("Feed of %d bytes consumed %d", k, n)
		}
		if err != nil {
			if done {
				t.Fatalf("Feed returned done and error %v", err)
			}
			break
		}
		if done {
			leftover = off+n < len(data)
			break
		}
		if n != k {
			t.Fatalf("Feed of %d bytes consumed %d without completing the response", k, n)
		}
		off += k
	}
	if !done && err == nil {
		done, err = p.EOF()
		if done == (err != nil) {
			t.Fatalf("EOF = %v, %v", done, err)
		}
	}
	// A finished parse is sticky until Reset.
	if n, d, e := p.Feed([]byte("HTTP/1.1 200 OK\r\n")); n != 0 || d != done || e != err {
		t.Fatalf("Feed after the end = %d, %v, %v; want 0, %v, %v", n, d, e, done, err)
	}
	if d, e := p.EOF(); d != done || e != err {
		t.Fatalf("EOF after the end = %v, %v; want %v, %v", d, e, done, err)
	}
	r := result{Status: p.Status(), BytesIn: p.BytesIn(), Err: errClass(err)}
	if err != nil {
		r.Msg = err.Error()
	}
	if err == nil {
		r.MustClose = p.MustClose()
		r.Keep = !r.MustClose && !leftover
	} else if !p.MustClose() {
		t.Fatalf("MustClose() false after error %v", err)
	}
	return r
}

// blockingResult is what Client.Do makes of data. The whole of data comes
// in one read, so that, as for a Parser fed everything, any byte after the
// response is seen.
func blockingResult(t testing.TB, data []byte, head bool) result {
	t.Helper()
	c := NewClient(Config{
		Addr:           "script:80",
		Dial:           scriptDial(data, len(data)+1),
		ReadBufferSize: len(data) + 1,
	})
	defer c.Close()
	resp, err := c.Do(context.Background(), getRequest("script", "/"), head)
	r := doResult(c, resp, err)
	if err != nil {
		r.Msg = strings.TrimPrefix(err.Error(), "h1: read response: ")
	}
	return r
}

// TestParserResponses runs every response case through the Parser, cut up
// in several ways, and checks the result both against the table and against
// the blocking Client on the same bytes (which also pins BytesIn after an
// error, MustClose and the error's text).
func TestParserResponses(t *testing.T) {
	for _, m := range splitModes {
		t.Run(m.name, func(t *testing.T) {
			var p Parser // one parser for all cases: Reset must be enough
			for _, tc := range responseCases {
				t.Run(tc.name, func(t *testing.T) {
					data := []byte(tc.resp + tc.extra)
					got := parse(t, &p, data, tc.head, m.pieces())
					checkResult(t, tc, got)
					if diff := cmp.Diff(blockingResult(t, data, tc.head), got); diff != "" {
						t.Errorf("Parser differs from Client (-client +parser):\n%s", diff)
					}
				})
			}
		})
	}
}

// TestParserPipelined: responses back to back in one buffer (as a server
// answering pipelined requests sends them) come out one at a time, each
// Feed stopping at the end of its response.
func TestParserPipelined(t *testing.T) {
	resps := []struct {
		raw    string
		head   bool
		status int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, 200},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n", false, 201},
		{"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n", true, 200},
		{"HTTP/1.1 204 No Content\r\n\r\n", false, 204},
		{"HTTP/1.1 304 Not Modified\nContent-Length: 9\n\n", false, 304},
		{"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false, 404},
	}
	var all strings.Builder
	for _, r := range resps {
		all.WriteString(r.raw)
	}
	for _, m := range splitModes {
		t.Run(m.name, func(t *testing.T) {
			data := []byte(all.String())
			next := m.pieces()
			var p Parser
			var pending []byte // bytes fed but not consumed: the next response's
			for i, want := range resps {
				p.Reset(want.head)
				done := false
				for !done {
					if len(pending) == 0 {
						if len(data) == 0 {
							t.Fatalf("response %d: data ran out", i)
						}
						k := min(next(len(data)), len(data))
						pending, data = data[:k], data[k:]
					}
					n, d, err := p.Feed(pending)
					if err != nil {
						t.Fatalf("response %d: %v", i, err)
					}
					if !d && n != len(pending) {
						t.Fatalf("response %d: Feed consumed %d of %d without completing", i, n, len(pending))
					}
					pending, done = pending[n:], d
				}
				if p.Status() != want.status || p.BytesIn() != int64(len(want.raw)) || p.MustClose() {
					t.Errorf("response %d: Status, BytesIn, MustClose = %d, %d, %v; want %d, %d, false",
						i, p.Status(), p.BytesIn(), p.MustClose(), want.status, len(want.raw))
				}
			}
			if len(pending) != 0 || len(data) != 0 {
				t.Errorf("%d bytes left over", len(pending)+len(data))
			}
		})
	}
}

// TestParserStopsAtEndOfResponse: with everything in one buffer, Feed
// returns done with n at the exact end of the first response.
func TestParserStopsAtEndOfResponse(t *testing.T) {
	first := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
	second := "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nyo"
	var p Parser
	n, done, err := p.Feed([]byte(first + second))
	if err != nil || !done || n != len(first) {
		t.Fatalf("Feed = %d, %v, %v; want %d, true, nil", n, done, err, len(first))
	}
	p.Reset(false)
	n, done, err = p.Feed([]byte(second))
	if err != nil || !done || n != len(second) || p.BytesIn() != int64(len(second)) {
		t.Fatalf("second Feed = %d, %v, %v (BytesIn %d); want %d, true, nil", n, done, err, p.BytesIn(), len(second))
	}
}

// TestParserContract covers the smaller promises of the API.
func TestParserContract(t *testing.T) {
	t.Run("zero value parses a GET response", func(t *testing.T) {
		var p Parser
		n, done, err := p.Feed([]byte(smallResponse))
		if err != nil || !done || n != len(smallResponse) || p.Status() != 200 || p.MustClose() {
			t.Fatalf("Feed = %d, %v, %v; Status %d, MustClose %v", n, done, err, p.Status(), p.MustClose())
		}
	})
	t.Run("empty feed changes nothing", func(t *testing.T) {
		var p Parser
		if n, done, err := p.Feed(nil); n != 0 || done || err != nil || p.Started() {
			t.Fatalf("Feed(nil) = %d, %v, %v, Started %v", n, done, err, p.Started())
		}
		if _, err := p.EOF(); err != io.EOF {
			t.Fatalf("EOF with no byte = %v, want io.EOF", err)
		}
	})
	t.Run("status hidden until done", func(t *testing.T) {
		var p Parser
		p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"))
		if p.Status() != 0 {
			t.Fatalf("Status = %d before the body ended", p.Status())
		}
		if _, done, _ := p.Feed([]byte("c")); !done || p.Status() != 200 {
			t.Fatalf("done, Status = %v, %d", done, p.Status())
		}
	})
	t.Run("close-delimited body ends at EOF", func(t *testing.T) {
		var p Parser
		const resp = "HTTP/1.1 200 OK\r\n\r\nsome body"
		if n, done, err := p.Feed([]byte(resp)); n != len(resp) || done || err != nil {
			t.Fatalf("Feed = %d, %v, %v", n, done, err)
		}
		if done, err := p.EOF(); !done || err != nil || !p.MustClose() || p.BytesIn() != int64(len(resp)) {
			t.Fatalf("EOF = %v, %v; MustClose %v, BytesIn %d", done, err, p.MustClose(), p.BytesIn())
		}
	})
	t.Run("error is sticky and counts the bad line", func(t *testing.T) {
		var p Parser
		const good, bad = "HTTP/1.1 200 OK\r\n", "NoColon\r\n"
		n, done, err := p.Feed([]byte(good + bad + "Content-Length: 0\r\n\r\n"))
		if !errors.Is(err, outcome.ErrProtocol) || done || n != len(good) {
			t.Fatalf("Feed = %d, %v, %v; want %d, false, a protocol error", n, done, err, len(good))
		}
		if p.BytesIn() != int64(len(good+bad)) {
			t.Errorf("BytesIn = %d, want %d (as Client counts)", p.BytesIn(), len(good+bad))
		}
		if _, _, err2 := p.Feed([]byte("x")); err2 != err {
			t.Errorf("Feed after the error = %v, want %v", err2, err)
		}
	})
	t.Run("EOF mid-response after an interim one", func(t *testing.T) {
		var p Parser
		p.Feed([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
		if _, err := p.EOF(); err != io.ErrUnexpectedEOF {
			t.Fatalf("EOF = %v, want io.ErrUnexpectedEOF", err)
		}
	})
}

// TestParserAllocs: after the first response (which may grow the line
// buffer), parsing allocates nothing, whether lines arrive whole or split.
func TestParserAllocs(t *testing.T) {
	chunked := "HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"7\r\nHello, \r\n6\r\nWorld!\r\n0\r\n\r\n"
	tests := []struct {
		name, resp string
		piece      int
	}{
		{"content-length whole", smallResponse, 1 << 20},
		{"content-length in 7-byte pieces", smallResponse, 7},
		{"chunked whole", chunked, 1 << 20},
		{"chunked byte by byte", chunked, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.resp)
			var p Parser
			var failed error
			run := func() {
				p.Reset(false)
				for off := 0; off < len(data); {
					k := min(tt.piece, len(data)-off)
					n, done, err := p.Feed(data[off : off+k])
					if err != nil || (done && off+n != len(data)) {
						failed = fmt.Errorf("Feed = %d, %v, %v at %d", n, done, err, off)
						return
					}
					off += k
				}
				if p.Status() != 200 {
					failed = fmt.Errorf("Status %d", p.Status())
				}
			}
			run()
			if allocs := testing.AllocsPerRun(1000, run); allocs != 0 {
				t.Errorf("%v allocations per response, want 0", allocs)
			}
			if failed != nil {
				t.Fatal(failed)
			}
		})
	}
}

// FuzzParser feeds arbitrary bytes to a Parser in random pieces and to the
// blocking Client, which must come to the same result: status, BytesIn,
// MustClose, keep-alive and the error, to its text. There is no known intentional
// difference.
func FuzzParser(f *testing.F) {
	for i, tc := range responseCases {
		if len(tc.resp) > 4<<10 {
			continue // big seeds make minimizing crawl; the table tests cover them
		}
		f.Add([]byte(tc.resp+tc.extra), uint64(i), uint8(0), tc.head)
		f.Add([]byte(tc.resp+tc.extra), uint64(i), uint8(3), tc.head)
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, maxPiece uint8, head bool) {
		next := randomPieces(seed, int(maxPiece)+1)()
		if maxPiece == 255 {
			next = fixedPieces(1 << 30)()
		}
		var p Parser
		got := parse(t, &p, data, head, next)
		if got.BytesIn < 0 || got.BytesIn > int64(len(data)) {
			t.Fatalf("BytesIn = %d of %d bytes", got.BytesIn, len(data))
		}
		if diff := cmp.Diff(blockingResult(t, data, head), got); diff != "" {
			t.Fatalf("Parser differs from Client (-client +parser):\n%s", diff)
		}
	})
}

// BenchmarkParser parses a small Content-Length response (and a chunked
// one) delivered in one piece, as a read from a socket usually brings it.
func BenchmarkParser(b *testing.B) {
	cases := []struct{ name, resp string }{
		{"content-length", smallResponse},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nHello, \r\n6\r\nWorld!\r\n0\r\n\r\n"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			data := []byte(c.resp)
			var p Parser
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				p.Reset(false)
				if n, done, err := p.Feed(data); !done || err != nil || n != len(data) {
					b.Fatalf("Feed = %d, %v, %v", n, done, err)
				}
			}
		})
	}
}
