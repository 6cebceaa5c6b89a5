package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// startHTTP serves /metrics and /healthz on addr; the returned func stops
// the server and waits for it.
func (a *agent) startHTTP(ctx context.Context, addr string) (func(), error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (HTTP): %w", addr, err)
	}
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
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("serve HTTP", "err", err)
		}
	}()
	a.log.Info("metrics listening", "addr", "http://"+lis.Addr().String()+"/metrics")
	if a.cfg.OnHTTP != nil {
		a.cfg.OnHTTP(lis.Addr().String())
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			srv.Close()
		}
		<-done
	}, nil
}
