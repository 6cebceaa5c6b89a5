package coordinator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// httpServer serves the web view and /metrics.
type httpServer struct {
	srv  *http.Server
	done chan struct{}
}

// startHTTP listens on addr and serves the coordinator's HTTP routes until
// stop.
func (s *server) startHTTP(addr string) (*httpServer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (HTTP): %w", addr, err)
	}
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
	h := &httpServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return s.ctx }},
		done: make(chan struct{}),
	}
	go func() {
		defer close(h.done)
		if err := h.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve HTTP", "err", err)
		}
	}()
	s.httpAddr = lis.Addr().String()
	s.log.Info("web view listening", "addr", "http://"+s.httpAddr+"/")
	if s.cfg.OnHTTP != nil {
		s.cfg.OnHTTP(s.httpAddr)
	}
	return h, nil
}

// stop closes the listener and open connections (live pages hold theirs
// open) and waits for Serve to return.
func (h *httpServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		h.srv.Close()
	}
	<-h.done
}
