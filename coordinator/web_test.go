package coordinator

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestWebRejectsBadRunIDs: a run id that cannot be one is a 400 naming it,
// before anything is looked up.
func TestWebRejectsBadRunIDs(t *testing.T) {
	mux := http.NewServeMux()
	testServer().webRoutes(mux)
	for _, path := range []string{"/runs/..%2Fx", "/runs/%3Cscript%3E", "/runs/" + strings.Repeat("a", 200) + "/events", "/runs/-x/report.html"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "is not a run id") {
			t.Errorf("GET %s: %d %q, want 400 naming the id", path, rec.Code, rec.Body.String())
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: the error echoes the id as %q without nosniff: a browser could render it", path, ct)
		}
	}
}

// TestWriteEvent: a multi-line body becomes one server-sent event, each
// line its own data field, ended by a blank line.
func TestWriteEvent(t *testing.T) {
	rec := httptest.NewRecorder()
	writeEvent(rec, "update", []byte("<p>a</p>\r\n<p>b</p>\n"))
	want := "event: update\ndata: <p>a</p>\ndata: <p>b</p>\ndata: \n\n"
	if got := rec.Body.String(); got != want {
		t.Errorf("event %q, want %q", got, want)
	}
	// A lone CR (from a target's response, say) ends a line in an event
	// stream: it must not start a field of its own.
	rec = httptest.NewRecorder()
	writeEvent(rec, "update", []byte("x\revent: end\rdata: spoofed"))
	if got, want := rec.Body.String(), "event: update\ndata: x\ndata: event: end\ndata: data: spoofed\n\n"; got != want {
		t.Errorf("event %q, want %q", got, want)
	}
}
