package coordinator

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
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

// TestEvictEndedKeepsRunningAndNewest: the run table keeps every run still
// going and the newest ended ones; older ended runs are forgotten (they are
// read again from etcd when asked for).
func TestEvictEndedKeepsRunningAndNewest(t *testing.T) {
	s := testServer()
	base := time.Unix(1_800_000_000, 0)
	for i := range 5 {
		addRun(t, s, fmt.Sprintf("ended-%d", i), []string{"a"}, 1, pb.RunState_RUN_STATE_COMPLETED, base.Add(time.Duration(i)*time.Minute))
	}
	addRun(t, s, "running", []string{"a"}, 1, pb.RunState_RUN_STATE_RUNNING, time.Time{})
	s.evictEnded(2)
	var left []string
	for id := range s.runs {
		left = append(left, id)
	}
	sort.Strings(left)
	if want := []string{"ended-3", "ended-4", "running"}; !slices.Equal(left, want) {
		t.Errorf("runs kept %v, want %v", left, want)
	}
}
