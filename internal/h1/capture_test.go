package h1

import (
	"testing"
)

func TestParserCapture(t *testing.T) {
	tests := []struct {
		name, resp       string
		limit            int
		body, ctype, loc string
		truncated        bool
	}{
		{"content-length", "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nLocation: /orders/7\r\nContent-Length: 9\r\n\r\n{\"id\":7}\n", 100, "{\"id\":7}\n", "application/json", "/orders/7", false},
		{"chunked is de-chunked", "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", 100, "abcdefg", "text/plain", "", false},
		{"interim replaced", "HTTP/1.1 100 Continue\r\nX: y\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 100, "ok", "", "", false},
		{"truncated", "HTTP/1.1 500 Oops\r\nContent-Length: 10\r\n\r\n0123456789", 4, "0123", "", "", true},
	}
	var p Parser
	for _, tt := range tests {
		for _, step := range []int{1, 3, 1 << 20} {
			p.Reset(false)
			p.Capture(tt.limit)
			b := []byte(tt.resp)
			done := false
			for i := 0; i < len(b) && !done; i += step {
				_, d, err := p.Feed(b[i:min(len(b), i+step)])
				if err != nil {
					t.Fatalf("%s/%d: %v", tt.name, step, err)
				}
				done = d
			}
			if !done {
				t.Fatalf("%s/%d: not done", tt.name, step)
			}
			head, body, tr := p.Captured()
			if string(body) != tt.body || tr != tt.truncated {
				t.Errorf("%s/%d: body %q truncated %v, want %q %v", tt.name, step, body, tr, tt.body, tt.truncated)
			}
			if got := string(HeaderValue(head, "Content-Type")); got != tt.ctype {
				t.Errorf("%s/%d: content type %q, want %q", tt.name, step, got, tt.ctype)
			}
			if got := string(HeaderValue(head, "location")); got != tt.loc {
				t.Errorf("%s/%d: location %q, want %q", tt.name, step, got, tt.loc)
			}
			if tt.name == "interim replaced" && string(head) != "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" {
				t.Errorf("head kept the interim response: %q", head)
			}
		}
	}
	// Without Capture nothing is kept.
	p.Reset(false)
	p.Feed([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
	if h, b, _ := p.Captured(); len(h)+len(b) != 0 {
		t.Errorf("captured %q %q without Capture", h, b)
	}
}

func TestParserCaptureAllocs(t *testing.T) {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	var p Parser
	run := func() {
		p.Reset(false)
		p.Capture(4096)
		p.Feed(resp)
	}
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Fatalf("capture allocates %v per response", a)
	}
}
