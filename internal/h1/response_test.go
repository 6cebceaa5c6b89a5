package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/barrage-dev/barrage/internal/outcome"
)

// responseCase is one server response as exact bytes, and what Do must make
// of it.
type responseCase struct {
	name string
	resp string // the response bytes the server sends, then it closes
	// extra follows resp: bytes after the response that Do must not count
	// (only meaningful in scripted modes, where they arrive with resp).
	extra      string
	head       bool
	wantStatus int
	wantKeep   bool  // the connection stays open for the next request
	wantErr    error // nil, outcome.ErrProtocol, io.EOF or io.ErrUnexpectedEOF
}

var responseCases = []responseCase{
	// Content-Length framing.
	{name: "content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", wantStatus: 200, wantKeep: true},
	{name: "content-length case-insensitive", resp: "HTTP/1.1 201 Created\r\ncontent-LENGTH: 5\r\n\r\nhello", wantStatus: 201, wantKeep: true},
	{name: "content-length zero", resp: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "content-length identical list", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", wantStatus: 200, wantKeep: true},
	{name: "content-length repeated identical", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length:5\r\n\r\nhello", wantStatus: 200, wantKeep: true},
	{name: "content-length with OWS", resp: "HTTP/1.1 200 OK\r\nContent-Length: \t5 \r\n\r\nhello", wantStatus: 200, wantKeep: true},
	{name: "no reason phrase", resp: "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx", wantStatus: 404, wantKeep: true},
	{name: "empty reason phrase", resp: "HTTP/1.1 503 \r\nContent-Length: 0\r\n\r\n", wantStatus: 503, wantKeep: true},
	{name: "bare LF line ends", resp: "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", wantStatus: 200, wantKeep: true},
	{name: "obs-fold on other header", resp: "HTTP/1.1 200 OK\r\nX-A: 1\r\n  more\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: true},
	{name: "many headers", resp: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Header-Name: some value here\r\n", 500) + "Content-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: true},
	{name: "long header line", resp: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 60000) + "\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: true},
	{name: "large body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("b", 100000), wantStatus: 200, wantKeep: true},
	{name: "unread bytes after response close the connection", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", extra: "HTTP/1.1 200 OK\r\n", wantStatus: 200, wantKeep: false},

	// Chunked framing.
	{name: "chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "chunked extensions and trailers", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\nA ; c\r\n0123456789\r\n000\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "chunked last of codings, case-insensitive", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n1\r\nx\r\n0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "chunked in second Transfer-Encoding field", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "chunked large chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n186a0\r\n" + strings.Repeat("c", 100000) + "\r\n0\r\n\r\n", wantStatus: 200, wantKeep: true},

	// Close-delimited bodies.
	{name: "close-delimited", resp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", wantStatus: 200, wantKeep: false},
	{name: "close-delimited empty", resp: "HTTP/1.1 200 OK\r\n\r\n", wantStatus: 200, wantKeep: false},
	{name: "chunked not last coding reads to close", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n5\r\nhello\r\n0\r\n\r\n", wantStatus: 200, wantKeep: false},

	// Connection management.
	{name: "connection close", resp: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: false},
	{name: "connection close in list", resp: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: false},
	{name: "connection close continued", resp: "HTTP/1.1 200 OK\r\nConnection: upgrade\r\n close\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: false},
	{name: "http/1.0", resp: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: false},
	{name: "http/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: true},
	{name: "http/1.0 close-delimited", resp: "HTTP/1.0 200 OK\r\n\r\nbody", wantStatus: 200, wantKeep: false},
	{name: "http/1.0 ignores Transfer-Encoding", resp: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", wantStatus: 200, wantKeep: true},

	// Responses without a body.
	{name: "HEAD with Content-Length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", head: true, wantStatus: 200, wantKeep: true},
	{name: "HEAD with chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", head: true, wantStatus: 200, wantKeep: true},
	{name: "HEAD without framing", resp: "HTTP/1.1 200 OK\r\n\r\n", head: true, wantStatus: 200, wantKeep: true},
	{name: "204", resp: "HTTP/1.1 204 No Content\r\n\r\n", wantStatus: 204, wantKeep: true},
	{name: "304 with Content-Length", resp: "HTTP/1.1 304 Not Modified\r\nContent-Length: 1000\r\n\r\n", wantStatus: 304, wantKeep: true},

	// Interim responses.
	{name: "100 continue skipped", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", wantStatus: 200, wantKeep: true},
	{name: "several interim responses", resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", wantStatus: 201, wantKeep: true},
	{name: "101 is final and ends the connection", resp: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", wantStatus: 101, wantKeep: false},

	// Malformed responses.
	{name: "status not a number", resp: "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "status too short", resp: "HTTP/1.1 20 OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "status glued to reason", resp: "HTTP/1.1 200OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "status below 100", resp: "HTTP/1.1 099 Odd\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "status above 599", resp: "HTTP/1.1 600 Odd\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "HTTP/2.0 version", resp: "HTTP/2.0 200 OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "not HTTP", resp: "ICY 200 OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "blank line before status", resp: "\r\nHTTP/1.1 200 OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "lower-case protocol", resp: "http/1.1 200 OK\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "content-length not a number", resp: "HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "content-length negative", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "content-length empty", resp: "HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "content-length trailing comma", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5,\r\n\r\nhello", wantErr: outcome.ErrProtocol},
	{name: "content-length overflow", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "content-length conflicting list", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello", wantErr: outcome.ErrProtocol},
	{name: "content-length conflicting fields", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", wantErr: outcome.ErrProtocol},
	{name: "content-length and transfer-encoding", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunked twice", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk size not hex", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk size empty", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk size with junk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk size overflow", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk size line bare LF", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk data without CRLF", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk data followed by LF only", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "malformed trailer", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nno colon\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "header without colon", resp: "HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "header with empty name", resp: "HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "whitespace before colon", resp: "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello", wantErr: outcome.ErrProtocol},
	{name: "continuation of content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n 6\r\n\r\nhello", wantErr: outcome.ErrProtocol},
	{name: "continuation as first field", resp: "HTTP/1.1 200 OK\r\n X: 1\r\nContent-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "header section over 64 KiB", resp: "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Filler: 0123456789012345678901234567890123456789\r\n", 1400) + "Content-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "header line over 64 KiB", resp: "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("v", 70000) + "\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "status line over 64 KiB", resp: "HTTP/1.1 200 " + strings.Repeat("v", 70000) + "\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "trailer section over 64 KiB", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + strings.Repeat("X-Filler: 0123456789012345678901234567890123456789\r\n", 1400) + "\r\n", wantErr: outcome.ErrProtocol},

	// Exactly at the limits (the line that reaches a limit is the one that
	// decides, whether or not more bytes follow).
	{name: "header section of exactly 64 KiB", resp: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", MaxHeaderBytes-43) + "\r\nContent-Length: 0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "header section one byte over 64 KiB", resp: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", MaxHeaderBytes-42) + "\r\nContent-Length: 0\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "header section full before its blank line, then close", resp: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("v", MaxHeaderBytes-41) + "\r\nContent-Length: 0\r\n", wantErr: outcome.ErrProtocol},
	{name: "status line filling 64 KiB but a bare LF", resp: "HTTP/1.1 200 " + strings.Repeat("v", MaxHeaderBytes-16) + "\r\n\n", wantStatus: 200, wantKeep: false},
	{name: "status line of exactly 64 KiB, then close", resp: "HTTP/1.1 200 " + strings.Repeat("v", MaxHeaderBytes-15) + "\r\n", wantErr: outcome.ErrProtocol},
	{name: "64 KiB of status line without LF, then close", resp: "HTTP/1.1 200 " + strings.Repeat("v", MaxHeaderBytes-13), wantErr: outcome.ErrProtocol},
	{name: "status line one byte short of 64 KiB without LF, then close", resp: "HTTP/1.1 200 " + strings.Repeat("v", MaxHeaderBytes-14), wantErr: io.ErrUnexpectedEOF},
	{name: "trailer section of exactly 64 KiB", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + strings.Repeat("v", MaxHeaderBytes-7) + "\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "trailer section one byte over 64 KiB", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + strings.Repeat("v", MaxHeaderBytes-6) + "\r\n\r\n", wantErr: outcome.ErrProtocol},
	{name: "chunk-size line of exactly 64 KiB", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", MaxHeaderBytes-4) + "\r\nx\r\n0\r\n\r\n", wantStatus: 200, wantKeep: true},
	{name: "chunk-size line over 64 KiB", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", MaxHeaderBytes-3) + "\r\nx\r\n0\r\n\r\n", wantErr: outcome.ErrProtocol},

	// Bytes after a complete response.
	{name: "204 followed by body bytes", resp: "HTTP/1.1 204 No Content\r\n\r\n", extra: "junk", wantStatus: 204, wantKeep: false},
	{name: "HEAD followed by the body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", extra: "hello", head: true, wantStatus: 200, wantKeep: false},
	{name: "chunked followed by a second response", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", extra: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", wantStatus: 200, wantKeep: false},

	// Connection closed early.
	{name: "no response", resp: "", wantErr: io.EOF},
	{name: "partial status line", resp: "HTTP/1.1 20", wantErr: io.ErrUnexpectedEOF},
	{name: "partial headers", resp: "HTTP/1.1 200 OK\r\nContent-Len", wantErr: io.ErrUnexpectedEOF},
	{name: "headers without blank line", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", wantErr: io.ErrUnexpectedEOF},
	{name: "interim response only", resp: "HTTP/1.1 100 Continue\r\n\r\n", wantErr: io.ErrUnexpectedEOF},
	{name: "truncated body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", wantErr: io.ErrUnexpectedEOF},
	{name: "truncated chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", wantErr: io.ErrUnexpectedEOF},
	{name: "missing last chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", wantErr: io.ErrUnexpectedEOF},
	{name: "chunk data then close after CR", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r", wantErr: io.ErrUnexpectedEOF},
	// Two bytes decide whether chunk data ends in CRLF; one wrong byte
	// before the close is an early close, not (yet) a framing error.
	{name: "chunk data then one wrong byte and close", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy", wantErr: io.ErrUnexpectedEOF},
	{name: "chunk data then two wrong bytes and close", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxyz", wantErr: outcome.ErrProtocol},
	{name: "missing end of trailers", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", wantErr: io.ErrUnexpectedEOF},
}

// result is what parsing one response came to, in a form both the blocking
// Client and the Parser produce, so that they can be compared.
type result struct {
	Status    int
	BytesIn   int64
	MustClose bool   // the response ends the connection (false after an error)
	Keep      bool   // the connection can carry the next request
	Err       string // errClass of the error
	Msg       string // the parse error's text (set by the differential tests only)
}

// errClass classifies a parse error: "" (none), "protocol", "eof",
// "unexpected-eof", or the error text for anything else.
func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, outcome.ErrProtocol):
		return "protocol"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected-eof"
	case errors.Is(err, io.EOF):
		return "eof"
	}
	return "other: " + err.Error()
}

// checkResult checks a result against what the table says of tc: the
// status, the keep-alive verdict, BytesIn (the whole response, extra
// excluded) and the kind of error.
func checkResult(t *testing.T, tc responseCase, got result) {
	t.Helper()
	if want := errClass(tc.wantErr); got.Err != want {
		t.Fatalf("error %q, want %q", got.Err, want)
	}
	if tc.wantErr != nil {
		if got.Status != 0 || got.Keep {
			t.Errorf("Status, Keep = %d, %v after an error; want 0, false", got.Status, got.Keep)
		}
		if got.BytesIn > int64(len(tc.resp)) {
			t.Errorf("BytesIn = %d, more than the %d bytes sent", got.BytesIn, len(tc.resp))
		}
		return
	}
	if got.Status != tc.wantStatus {
		t.Errorf("Status = %d, want %d", got.Status, tc.wantStatus)
	}
	if got.BytesIn != int64(len(tc.resp)) {
		t.Errorf("BytesIn = %d, want %d", got.BytesIn, len(tc.resp))
	}
	if got.Keep != tc.wantKeep {
		t.Errorf("connection kept = %v, want %v", got.Keep, tc.wantKeep)
	}
}

// doResult is the result of a Do on c.
func doResult(c *Client, resp Response, err error) result {
	r := result{Status: resp.Status, BytesIn: resp.BytesIn, Keep: c.conn != nil, Err: errClass(err)}
	if err == nil {
		r.MustClose = c.mustClose
	}
	return r
}

// checkResponse checks one Do result against tc.
func checkResponse(t *testing.T, c *Client, tc responseCase, req []byte, resp Response, err error) {
	t.Helper()
	if resp.BytesOut != int64(len(req)) {
		t.Errorf("BytesOut = %d, want %d", resp.BytesOut, len(req))
	}
	if resp.Reused || resp.Retried {
		t.Errorf("Reused, Retried = %v, %v on a fresh connection", resp.Reused, resp.Retried)
	}
	if err != nil && c.conn != nil {
		t.Errorf("connection kept open after an error")
	}
	checkResult(t, tc, doResult(c, resp, err))
}

// TestResponsesScripted feeds each case through an in-memory connection,
// in pieces of various sizes and with a tiny and a default read buffer.
func TestResponsesScripted(t *testing.T) {
	modes := []struct {
		chunk, bufSize int
	}{
		{chunk: 1, bufSize: 16},
		{chunk: 3, bufSize: 0},
		{chunk: 1 << 20, bufSize: 16},
		{chunk: 1 << 20, bufSize: 0},
	}
	for _, tc := range responseCases {
		for _, m := range modes {
			if tc.extra != "" && m.chunk < len(tc.resp+tc.extra) {
				continue // extra bytes are only seen when they arrive with the response
			}
			t.Run(fmt.Sprintf("%s/chunk=%d,buf=%d", tc.name, m.chunk, m.bufSize), func(t *testing.T) {
				c := NewClient(Config{
					Addr:           "script:80",
					Dial:           scriptDial([]byte(tc.resp+tc.extra), m.chunk),
					ReadBufferSize: m.bufSize,
				})
				defer c.Close()
				req := getRequest("script", "/")
				resp, err := c.Do(context.Background(), req, tc.head)
				checkResponse(t, c, tc, req, resp, err)
			})
		}
	}
}

// TestResponsesSocket sends each case from a real TCP server that writes
// the bytes, then closes its side.
func TestResponsesSocket(t *testing.T) {
	for _, tc := range responseCases {
		if tc.extra != "" {
			continue // whether extra bytes arrive with the response depends on timing
		}
		t.Run(tc.name, func(t *testing.T) {
			srv := newRawServer(t, func(_ int, conn net.Conn) {
				if err := readRequest(bufio.NewReader(conn)); err != nil {
					return
				}
				io.WriteString(conn, tc.resp)
				conn.(*net.TCPConn).CloseWrite()
				drain(conn)
			})
			c := NewClient(Config{Addr: srv.addr()})
			defer c.Close()
			req := getRequest(srv.addr(), "/")
			resp, err := c.Do(context.Background(), req, tc.head)
			checkResponse(t, c, tc, req, resp, err)
		})
	}
}

func TestParseStatusLine(t *testing.T) {
	tests := []struct {
		line          string
		status, minor int
		ok            bool
	}{
		{"HTTP/1.1 200 OK", 200, 1, true},
		{"HTTP/1.0 404 Not Found", 404, 0, true},
		{"HTTP/1.1 599", 599, 1, true},
		{"HTTP/1.1 100 ", 100, 1, true},
		{"HTTP/1.1 1000", 0, 0, false},
		{"HTTP/1.1  200 OK", 0, 0, false},
		{"HTTP/1.x 200 OK", 0, 0, false},
		{"HTTP/1.1 -20 OK", 0, 0, false},
		{"HTTP/1.1\t200 OK", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			status, minor, ok := parseStatusLine([]byte(tt.line))
			if status != tt.status || minor != tt.minor || ok != tt.ok {
				t.Errorf("parseStatusLine(%q) = %d, %d, %v; want %d, %d, %v",
					tt.line, status, minor, ok, tt.status, tt.minor, tt.ok)
			}
		})
	}
}

func TestParseChunkSize(t *testing.T) {
	tests := []struct {
		line string
		size int64
		ok   bool
	}{
		{"0", 0, true},
		{"a", 10, true},
		{"Ff", 255, true},
		{"10;name=value", 16, true},
		{"10 ;name", 16, true},
		{"10\t", 16, true},
		{"7fffffffffffffff", 1<<63 - 1, true},
		{"8000000000000000", 0, false},
		{"", 0, false},
		{";ext", 0, false},
		{"-1", 0, false},
		{"0x10", 0, false},
		{"1 2", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			size, ok := parseChunkSize([]byte(tt.line))
			if size != tt.size || ok != tt.ok {
				t.Errorf("parseChunkSize(%q) = %d, %v; want %d, %v", tt.line, size, ok, tt.size, tt.ok)
			}
		})
	}
}

func TestEqualFold(t *testing.T) {
	tests := []struct {
		b, s string
		want bool
	}{
		{"Content-Length", "content-length", true},
		{"CONTENT-LENGTH", "content-length", true},
		{"content-length", "content-length", true},
		{"content\rlength", "content-length", false}, // '\r'|0x20 == '-'
		{"Content-Lengt", "content-length", false},
		{"Connection", "content-length", false},
	}
	for _, tt := range tests {
		if got := equalFold([]byte(tt.b), tt.s); got != tt.want {
			t.Errorf("equalFold(%q, %q) = %v, want %v", tt.b, tt.s, got, tt.want)
		}
	}
}
