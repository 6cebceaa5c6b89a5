package allow

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestAllowsAddr(t *testing.T) {
	l, err := Parse([]string{"10.0.0.0/8", "192.168.1.7", "::1/128"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"10.1.2.3", true},
		{"11.0.0.1", false},
		{"192.168.1.7", true},
		{"192.168.1.8", false},
		{"::1", true},
		{"::ffff:10.0.0.1", true},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := l.AllowsAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("AllowsAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestDefaultIsLoopbackOnly(t *testing.T) {
	l, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, h := range []string{"127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"} {
		if err := l.CheckHost(ctx, h); err != nil {
			t.Errorf("CheckHost(%s): %v", h, err)
		}
	}
	for _, h := range []string{"10.0.0.1", "8.8.8.8", "::2"} {
		if err := l.CheckHost(ctx, h); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("CheckHost(%s) = %v, want ErrNotAllowed", h, err)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, e := range []string{"10.0.0.0/33", "a b", "http://x"} {
		if _, err := Parse([]string{e}); err == nil {
			t.Errorf("Parse(%q): want an error", e)
		}
	}
}

func TestDialerRefusesOutside(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.Background()
	loop, _ := Parse(nil)
	c, err := loop.Dialer(nil)(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("loopback dial refused: %v", err)
	}
	c.Close()
	other, _ := Parse([]string{"10.0.0.0/8"})
	if _, err := other.Dialer(nil)(ctx, "tcp", ln.Addr().String()); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("dial outside list = %v, want ErrNotAllowed", err)
	}
	if _, err := other.Dialer(nil)(ctx, "tcp", "localhost:"+portOf(ln)); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("dial of a name resolving outside the list = %v, want ErrNotAllowed", err)
	}
}

func portOf(ln net.Listener) string {
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	loop, _ := Parse(nil)
	for _, h := range []string{"127.0.0.2", "[::1]", "localhost"} {
		a, err := loop.Resolve(ctx, h)
		if err != nil || !a.IsLoopback() {
			t.Errorf("Resolve(%s) = %v, %v", h, a, err)
		}
	}
	other, _ := Parse([]string{"10.0.0.0/8"})
	if _, err := other.Resolve(ctx, "localhost"); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("Resolve(localhost) outside the list = %v", err)
	}
	byName, _ := Parse([]string{"localhost"})
	if a, err := byName.Resolve(ctx, "localhost"); err != nil || !a.IsLoopback() {
		t.Errorf("Resolve of an allowed name = %v, %v", a, err)
	}
}
