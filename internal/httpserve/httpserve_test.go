package httpserve

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
)

// TestStartServesUntilStop: the server answers on its bound address and,
// stopped, no longer does.
func TestStartServesUntilStop(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/x", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	s, err := Start(context.Background(), "127.0.0.1:0", mux, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + s.Addr + "/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Errorf("body %q", b)
	}
	s.Stop()
	if _, err := http.Get("http://" + s.Addr + "/x"); err == nil {
		t.Error("still serving after Stop")
	}
	if _, err := Start(context.Background(), s.Addr+"x", mux, slog.New(slog.DiscardHandler)); err == nil {
		t.Error("a bad address started")
	}
}
