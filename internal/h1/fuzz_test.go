package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/barrage-dev/barrage/internal/outcome"
)

// FuzzReadResponse feeds arbitrary bytes to Do as a server's response, in
// reads of 1..64 bytes, with a tiny or a default read buffer. Do must return
// (the script conn ends with io.EOF, so a hang is a bug), never panic, and
// either succeed with a plausible response or fail with a protocol or
// connection-closed error. Where net/http also accepts the bytes as a final
// response, both must agree on the status.
func FuzzReadResponse(f *testing.F) {
	for _, tc := range responseCases {
		if len(tc.resp) > 4<<10 {
			continue // big seeds make minimizing crawl; the table tests cover them
		}
		f.Add([]byte(tc.resp+tc.extra), uint8(0), tc.head)
		f.Add([]byte(tc.resp+tc.extra), uint8(7), tc.head)
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, head bool) {
		chunk := int(mode>>1)%64 + 1
		bufSize := 0
		if mode&1 == 1 {
			bufSize = minReadBufferSize
		}
		c := NewClient(Config{Addr: "fuzz:80", Dial: scriptDial(data, chunk), ReadBufferSize: bufSize})
		defer c.Close()
		req := getRequest("fuzz", "/")
		resp, err := c.Do(context.Background(), req, head)

		if resp.BytesOut != int64(len(req)) || resp.BytesIn > int64(len(data)) || resp.BytesIn < 0 {
			t.Fatalf("BytesOut, BytesIn = %d, %d for a %d-byte request and %d bytes of response",
				resp.BytesOut, resp.BytesIn, len(req), len(data))
		}
		if resp.Reused || resp.Retried {
			t.Fatalf("Reused, Retried = %v, %v on a first request", resp.Reused, resp.Retried)
		}
		if err != nil {
			if k := outcome.Kind(err); k != outcome.KindProtocol && k != outcome.KindClosed {
				t.Fatalf("Kind(%v) = %q, want protocol or closed", err, k)
			}
			if resp.Status != 0 {
				t.Fatalf("Status = %d with error %v", resp.Status, err)
			}
			return
		}
		if resp.Status < 100 || resp.Status > 599 || (resp.Status < 200 && resp.Status != 101) {
			t.Fatalf("Status = %d", resp.Status)
		}

		// Differential check against net/http's parser, for what both accept.
		method := "GET"
		if head {
			method = "HEAD"
		}
		hr, herr := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: method})
		if herr != nil || hr.StatusCode < 200 {
			return
		}
		_, berr := io.Copy(io.Discard, hr.Body)
		hr.Body.Close()
		if berr == nil && hr.StatusCode != resp.Status {
			t.Fatalf("status %d, net/http says %d", resp.Status, hr.StatusCode)
		}
	})
}

// TestProtocolErrorsAreTyped: every malformed-response case is reported by
// outcome.Kind as "protocol", not "other".
func TestProtocolErrorsAreTyped(t *testing.T) {
	for _, tc := range responseCases {
		if tc.wantErr != outcome.ErrProtocol {
			continue
		}
		c := NewClient(Config{Addr: "x:1", Dial: scriptDial([]byte(tc.resp), 1<<20)})
		_, err := c.Do(context.Background(), getRequest("x", "/"), tc.head)
		if !errors.Is(err, outcome.ErrProtocol) || outcome.Kind(err) != outcome.KindProtocol {
			t.Errorf("%s: err = %v, Kind %q; want ErrProtocol, protocol", tc.name, err, outcome.Kind(err))
		}
		c.Close()
	}
}
