package apireq

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/outcome"
)

// roundTrip sends req on a fresh connection and reads the response with
// the push parser, as the event loop does, capturing it.
func roundTrip(t *testing.T, addr string, req []byte, head bool, p *h1.Parser) (status int, kind string, h, b []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	p.Reset(head)
	p.Capture(Capture)
	if _, err := c.Write(req); err != nil {
		return 0, outcome.Kind(err), nil, nil
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			_, done, perr := p.Feed(buf[:n])
			if perr != nil {
				return 0, outcome.Kind(perr), nil, nil
			}
			if done {
				hh, bb, _ := p.Captured()
				return p.Status(), "", hh, bb
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				done, perr := p.EOF()
				if done {
					hh, bb, _ := p.Captured()
					return p.Status(), "", hh, bb
				}
				return 0, outcome.Kind(perr), nil, nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return 0, "timeout", nil, nil
			}
			return 0, outcome.Kind(err), nil, nil
		}
	}
}
