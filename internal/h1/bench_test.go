package h1

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The benchmarks run against the raw responder in a helper process, so the
// process's CPU time (reported as cpu-ns/op and req/cpu-s) is the client's
// alone: compare BenchmarkDo with BenchmarkNetHTTP.
//
//	go test -run '^$' -bench . -benchmem ./internal/h1/

// benchHelper is one helper server shared by the benchmarks of a run; it
// exits with the test binary.
var benchHelper struct {
	sync.Once
	addr string
	stop func() // kept reachable so the helper's stdin pipe stays open
	err  error
}

func benchServer(b *testing.B) string {
	benchHelper.Do(func() {
		benchHelper.addr, benchHelper.stop, benchHelper.err = spawnHelper("raw")
	})
	if benchHelper.err != nil {
		b.Fatal(benchHelper.err)
	}
	return benchHelper.addr
}

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports CPU time per request and requests per CPU second.
func reportCPU(b *testing.B, cpu time.Duration, n int) {
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/op")
	b.ReportMetric(float64(n)/cpu.Seconds(), "req/cpu-s")
}

func BenchmarkDo(b *testing.B) {
	addr := benchServer(b)
	c := NewClient(Config{Addr: addr})
	defer c.Close()
	req := getRequest(addr, "/")
	ctx := context.Background()
	if _, err := c.Do(ctx, req, false); err != nil {
		b.Fatal(err)
	}
	start := cpuTime()
	for b.Loop() {
		if _, err := c.Do(ctx, req, false); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpuTime()-start, b.N)
}

func BenchmarkNetHTTP(b *testing.B) {
	addr := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
	if err != nil {
		b.Fatal(err)
	}
	get := func() error {
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	if err := get(); err != nil {
		b.Fatal(err)
	}
	start := cpuTime()
	for b.Loop() {
		if err := get(); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpuTime()-start, b.N)
}

// parallel64 runs body on 64 goroutines (64 connections, as the wrk
// comparison does), each with its own state from newWorker.
func parallel64(b *testing.B, newWorker func() func() error) {
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	var start time.Duration
	b.ResetTimer()
	start = cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		do := newWorker()
		for pb.Next() {
			if err := do(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	reportCPU(b, cpuTime()-start, b.N)
}

func BenchmarkDoParallel64(b *testing.B) {
	addr := benchServer(b)
	req := getRequest(addr, "/")
	var mu sync.Mutex
	var clients []*Client
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	parallel64(b, func() func() error {
		c := NewClient(Config{Addr: addr})
		mu.Lock()
		clients = append(clients, c)
		mu.Unlock()
		return func() error {
			_, err := c.Do(context.Background(), req, false)
			return err
		}
	})
}

func BenchmarkNetHTTPParallel64(b *testing.B) {
	addr := benchServer(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	parallel64(b, func() func() error {
		req, err := http.NewRequest("GET", "http://"+addr+"/", nil)
		if err != nil {
			return func() error { return err }
		}
		return func() error {
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			io.Copy(io.Discard, resp.Body)
			return resp.Body.Close()
		}
	})
}
