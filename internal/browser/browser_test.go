package browser_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/barrage-dev/barrage/internal/browser"
)

// TestSessionSeesThePageAndItsErrors: a real Chromium loads a page, runs
// its script, and the session reports the page's console error and
// uncaught exception, and nothing for a clean page.
func TestSessionSeesThePageAndItsErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/clean":
			w.Write([]byte(`<!DOCTYPE html><title>t</title><p id="x">0</p><script>document.getElementById("x").textContent = String(6*7)</script>`))
		case "/bad":
			w.Write([]byte(`<!DOCTYPE html><title>t</title><script>console.error("boom"); undefinedFunction();</script>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := browser.Start(ctx, browser.Options{UserDataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Do(chromedp.Navigate(srv.URL + "/clean")); err != nil {
		t.Fatal(err)
	}
	got, err := browser.Eval[string](s, `document.getElementById("x").textContent`)
	if err != nil || got != "42" {
		t.Fatalf("script result %q, %v; want 42", got, err)
	}
	if e := s.Errors(); len(e) != 0 {
		t.Errorf("errors on a clean page: %q", e)
	}
	if err := s.Do(chromedp.Navigate(srv.URL + "/bad")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Errors()) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	all := strings.Join(s.Errors(), "\n")
	if !strings.Contains(all, "boom") || !strings.Contains(all, "undefinedFunction") {
		t.Errorf("errors %q: want the console error and the exception", all)
	}
	shot := t.TempDir() + "/x.png"
	if err := s.Screenshot(shot); err != nil {
		t.Fatal(err)
	}
}
