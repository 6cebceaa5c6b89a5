package embedetcd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Config says where and how to run the embedded server.
type Config struct {
	// Dir holds etcd's data. Required; the caller creates and removes it.
	Dir string
	// ClientAddr is the loopback host:port clients use; empty picks a free
	// port on 127.0.0.1.
	ClientAddr string
	// Logger receives etcd's warnings and errors; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds how long Start waits for the server to be ready;
	// 0 means 30s.
	StartTimeout time.Duration
}

// Server is a running embedded etcd.
type Server struct {
	etcd      *embed.Etcd
	endpoints []string
	closing   *atomic.Bool
}

// Start starts an embedded single-member etcd and waits until it serves.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("embedetcd: no data directory given")
	}
	// Port 0: the kernel picks free ports, so parallel tests cannot race
	// for them; the bound client address is read back after start.
	clientAddr := cfg.ClientAddr
	if clientAddr == "" {
		clientAddr = "127.0.0.1:0"
	}
	if err := checkLoopback(clientAddr); err != nil {
		return nil, err
	}
	peerAddr := "127.0.0.1:0"
	ec := embed.NewConfig()
	ec.Name = "barrage"
	ec.Dir = cfg.Dir
	cu := url.URL{Scheme: "http", Host: clientAddr}
	pu := url.URL{Scheme: "http", Host: peerAddr}
	ec.ListenClientUrls = []url.URL{cu}
	ec.AdvertiseClientUrls = []url.URL{cu}
	ec.ListenPeerUrls = []url.URL{pu}
	ec.AdvertisePeerUrls = []url.URL{pu}
	ec.InitialCluster = ec.InitialClusterFromName(ec.Name)
	ec.LogLevel = "error"
	closing := &atomic.Bool{}
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zapToSlog(cfg.Logger, closing))
	// Local mode keeps runs for as long as the process lives; a small
	// periodic compaction bounds the revision history of result windows.
	ec.AutoCompactionMode = "periodic"
	ec.AutoCompactionRetention = "1m"

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("start embedded etcd in %s: %w", cfg.Dir, err)
	}
	timeout := cfg.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(timeout):
		e.Close()
		return nil, fmt.Errorf("embedded etcd not ready after %v", timeout)
	case <-ctx.Done():
		e.Close()
		return nil, fmt.Errorf("start embedded etcd: %w", ctx.Err())
	}
	if len(e.Clients) == 0 {
		e.Close()
		return nil, errors.New("embedded etcd has no client listener")
	}
	bound := url.URL{Scheme: "http", Host: e.Clients[0].Addr().String()}
	return &Server{etcd: e, endpoints: []string{bound.String()}, closing: closing}, nil
}

// Endpoints are the client URLs to give clientv3.
func (s *Server) Endpoints() []string { return s.endpoints }

// Close stops the server and waits for it to be gone.
func (s *Server) Close() {
	// etcd reports its own listeners closing as errors; they are expected.
	s.closing.Store(true)
	s.etcd.Close()
	<-s.etcd.Server.StopNotify()
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("embedded etcd client address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("embedded etcd client address %q is not loopback", addr)
	}
	return nil
}

// zapToSlog makes a zap logger that forwards warnings and errors to l.
func zapToSlog(l *slog.Logger, closing *atomic.Bool) *zap.Logger {
	if l == nil {
		return zap.NewNop()
	}
	core := &slogCore{l: l, level: zapcore.WarnLevel, closing: closing}
	return zap.New(core)
}

type slogCore struct {
	l       *slog.Logger
	level   zapcore.Level
	fields  []zapcore.Field
	closing *atomic.Bool
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= c.level && !c.closing.Load() }

func (c *slogCore) With(fs []zapcore.Field) zapcore.Core {
	n := *c
	n.fields = append(append([]zapcore.Field(nil), c.fields...), fs...)
	return &n
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range append(c.fields, fs...) {
		f.AddTo(enc)
	}
	attrs := make([]any, 0, 2*len(enc.Fields)+2)
	attrs = append(attrs, "component", "etcd")
	for k, v := range enc.Fields {
		attrs = append(attrs, k, v)
	}
	lvl := slog.LevelWarn
	if e.Level >= zapcore.ErrorLevel {
		lvl = slog.LevelError
	}
	c.l.Log(context.Background(), lvl, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }
