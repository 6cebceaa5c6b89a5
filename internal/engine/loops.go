package engine

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"sync"

	"github.com/barrage-dev/barrage/internal/apireq"
	"github.com/barrage-dev/barrage/internal/evloop"
	"github.com/barrage-dev/barrage/internal/pacer"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// useLoops reports whether this shard runs on event loops: plain-TCP
// HTTP/1.1 on a system that has them, unless the config says otherwise.
func (e *eng) useLoops() bool {
	return evloop.Supported && !e.cfg.NoEventLoop && e.f.Plain()
}

// resolve finds the target's address (through the agent's allowlist).
func (e *eng) resolve(ctx context.Context) (netip.AddrPort, error) {
	host, port := e.f.Addr()
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target port %q: %w", port, err)
	}
	var a netip.Addr
	if e.cfg.Resolve != nil {
		a, err = e.cfg.Resolve(ctx, host)
	} else if a, err = netip.ParseAddr(host); err != nil {
		var addrs []netip.Addr
		addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err == nil && len(addrs) > 0 {
			a = addrs[0]
		}
	}
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("target host %s: %w", host, err)
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// loopCount is how many loops share a shard: one per P, but no more than
// the work can use.
func loopCount(need float64) int {
	return max(1, min(runtime.GOMAXPROCS(0), int(math.Ceil(need))))
}

// runLoops runs the shard on event loops until the load is over, all
// requests finished.
func (e *eng) runLoops(ctx context.Context, addr netip.AddrPort) error {
	plan := e.a.GetPlan()
	k, n := int64(e.a.GetShard()), int64(max(e.a.GetShardCount(), 1))
	base := evloop.Config{
		Addr:       addr,
		Timeout:    e.timeout(),
		MaxDialing: MaxDialing,
	}
	closed := plan.GetLoad().GetModel() == pb.LoadModel_LOAD_MODEL_CLOSED
	var L int
	var sh pacer.Shard
	var limit int64
	if closed {
		peak := int64(0)
		for _, st := range plan.GetLoad().GetStages() {
			peak = max(peak, pacer.Split(st.GetConcurrency(), int(k), int(n)))
		}
		L = loopCount(float64(peak))
	} else {
		sched, err := e.schedule()
		if err != nil {
			return fmt.Errorf("bad load schedule: %w", err)
		}
		if sh, err = sched.Shard(int(k), int(n)); err != nil {
			return fmt.Errorf("bad shard: %w", err)
		}
		sh = sh.From(e.resumeAt())
		peak := 0.0
		for _, st := range plan.GetLoad().GetStages() {
			peak = math.Max(peak, math.Max(st.GetFromRate(), st.GetToRate()))
		}
		// One loop keeps up with tens of thousands of requests a second;
		// more only help above that.
		L = loopCount(peak / float64(n) / 10000)
		limit = max(e.a.GetMaxInflight(), 1)
		if fds := fdLimit(); fds > 0 && limit > fds {
			e.log.Warn("in-flight cap lowered to fit the open-file limit", "asked", limit, "cap", fds)
			limit = fds
		}
		base.InitialConns = int(initialPool(peak/float64(n), limit))
	}
	// The loop-local arrival number: g = (m·L + j)·N + k → m.
	loops := int64(L)
	base.Pick = func(g int64) int { return e.pick.at(g / n / loops) }
	errs := make([]error, L)
	var wg sync.WaitGroup
	for j := range L {
		cfg := base
		b := e.f.NewBuilder(workerSeed(e.a.GetSeed(), j))
		nreq := len(plan.GetRequests())
		var sender *apireq.Sender
		if e.api != nil {
			sender = e.api.NewSender(workerSeed(e.a.GetSeed()^0xa5a5a5a5, j), j, L)
		}
		cfg.Build = func(dst []byte, ep int, seq uint64) ([]byte, evloop.Meta) {
			if ep < nreq {
				req, head := b.Build(dst, ep, seq)
				return req, evloop.Meta{Head: head}
			}
			req, info := sender.Build(dst, ep-nreq, seq)
			m := evloop.Meta{Head: info.Head, Tag: info.Tag()}
			if info.Capture {
				m.Capture = apireq.Capture
			}
			return req, m
		}
		g := j % e.rec.Groups()
		var hits []apireq.Hit
		cfg.Done = func(o *evloop.Outcome) {
			if o.Ep < nreq {
				e.rec.Record(g, o.Ep, o.Status, o.ErrKind, o.Latency, o.Service, o.In, o.Out)
				return
			}
			info := apireq.InfoOf(o.Tag)
			e.rec.RecordAPI(g, o.Ep, o.Status, o.ErrKind, o.Latency, o.Service, o.In, o.Out, info.Case >= 0)
			hits = e.findings.check(sender, o, hits)
			sender.Learn(info, o.Status, o.Req, o.Head, o.Body)
		}
		cfg.Dropped = func(ep int) { e.rec.Dropped(g, ep, 1) }
		if !closed {
			cfg.MaxConns = int(max(1, pacer.Split(limit, j, L)))
			cfg.InitialConns = int(max(1, pacer.Split(int64(base.InitialConns), j, L)))
		} else {
			cfg.MaxConns = math.MaxInt32
			cfg.SeqStride = int64(L) * n
			cfg.SeqBase = int64(j)*n + k
		}
		l, err := evloop.New(cfg)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if closed {
				var stages []evloop.ClosedStage
				for _, st := range plan.GetLoad().GetStages() {
					c := pacer.Split(pacer.Split(st.GetConcurrency(), int(k), int(n)), j, L)
					stages = append(stages, evloop.ClosedStage{Duration: st.GetDuration().AsDuration(), Conns: int(c)})
				}
				errs[j] = l.RunClosed(ctx, stages, e.cfg.Start)
			} else {
				errs[j] = l.RunOpen(ctx, sh, e.cfg.Start, j, L)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
