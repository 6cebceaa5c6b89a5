package coordinator

import (
	"fmt"
	"net/http"

	"github.com/barrage-dev/barrage/internal/httpserve"
)

// startHTTP serves the web view, /metrics and /healthz on addr until the
// returned server is stopped.
func (s *server) startHTTP(addr string) (*httpserve.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if _, err := s.currentLeader(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	s.webRoutes(mux)
	srv, err := httpserve.Start(s.ctx, addr, mux, s.log)
	if err != nil {
		return nil, err
	}
	s.httpAddr = srv.Addr
	s.log.Info("web view listening", "addr", "http://"+s.httpAddr+"/")
	if s.cfg.OnHTTP != nil {
		s.cfg.OnHTTP(s.httpAddr)
	}
	return srv, nil
}
