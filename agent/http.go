package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/barrage-dev/barrage/internal/httpserve"
)

// startHTTP serves /metrics and /healthz on addr until the returned server
// is stopped.
func (a *agent) startHTTP(ctx context.Context, addr string) (*httpserve.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.metricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		ok := a.connected
		a.mu.Unlock()
		if !ok {
			http.Error(w, "not connected to a coordinator", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv, err := httpserve.Start(ctx, addr, mux, a.log)
	if err != nil {
		return nil, err
	}
	a.log.Info("metrics listening", "addr", "http://"+srv.Addr+"/metrics")
	if a.cfg.OnHTTP != nil {
		a.cfg.OnHTTP(srv.Addr)
	}
	return srv, nil
}
