package httpserve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server is a running HTTP server.
type Server struct {
	// Addr is the bound address (host:port).
	Addr string
	srv  *http.Server
	done chan struct{}
}

// Start listens on addr and serves h until Stop. Requests' contexts derive
// from ctx.
func Start(ctx context.Context, addr string, h http.Handler, log *slog.Logger) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (HTTP): %w", addr, err)
	}
	s := &Server{
		Addr: lis.Addr().String(),
		srv:  &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(lis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve HTTP", "err", err)
		}
	}()
	return s, nil
}

// Stop closes the listener and the open connections (long-lived ones, such
// as event streams, after a second) and waits for the server to return.
func (s *Server) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
}
