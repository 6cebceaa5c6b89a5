//go:build linux

package evloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/pacer"
)

// Supported reports whether this system has the event loop.
const Supported = true

// maxWait bounds one epoll wait, so that ctx is looked at often enough.
const maxWait = 20 * time.Millisecond

type connState uint8

const (
	stateIdle       connState = iota // connected, no request
	stateConnecting                  // non-blocking connect under way
	stateBusy                        // request written (or being written), awaiting the response
)

// job is one request.
type job struct {
	ep       int
	g        int64
	intended time.Time
	sent     time.Time
	out      int64
	retried  bool
	meta     Meta
}

type conn struct {
	fd       int
	state    connState
	reused   bool // has carried a response before
	wbuf     []byte
	woff     int
	rbuf     []byte
	p        h1.Parser
	job      job
	hasJob   bool
	deadline time.Time
	gen      uint64 // bumps on every request and close: stale deadline entries are skipped
	retire   bool   // closed model: close after this request
}

type deadlineEntry struct {
	at  time.Time
	c   *conn
	gen uint64
}

// Loop is one event loop.
type Loop struct {
	cfg     Config
	out     Outcome // reused for every Done call
	epfd    int
	conns   map[int]*conn
	idle    []*conn
	dialing int
	events  []unix.EpollEvent
	// deadlines in the order they were set; with one timeout for every
	// request they are non-decreasing, so a FIFO replaces a heap.
	deadlines []deadlineEntry
	dhead     int
	sa        unix.Sockaddr
	family    int
	pwait2    bool
	retiring  int    // connections marked to close after their request
	retryBuf  []byte // a request being resent after a stale connection
}

// New prepares a loop.
func New(cfg Config) (*Loop, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 1
	}
	if cfg.MaxDialing <= 0 {
		cfg.MaxDialing = 64
	}
	if cfg.ReadBuffer <= 0 {
		cfg.ReadBuffer = 16 << 10
	}
	if cfg.SeqStride <= 0 {
		cfg.SeqStride = 1
	}
	if cfg.Build == nil || cfg.Done == nil || cfg.Pick == nil {
		return nil, errors.New("evloop: Build, Done and Pick are required")
	}
	if !cfg.Addr.IsValid() {
		return nil, errors.New("evloop: no target address")
	}
	if cfg.Dropped == nil {
		cfg.Dropped = func(int) {}
	}
	l := &Loop{cfg: cfg, conns: map[int]*conn{}, events: make([]unix.EpollEvent, 256), pwait2: true}
	a := cfg.Addr.Addr().Unmap()
	if a.Is4() {
		l.family = unix.AF_INET
		l.sa = &unix.SockaddrInet4{Port: int(cfg.Addr.Port()), Addr: a.As4()}
	} else {
		l.family = unix.AF_INET6
		l.sa = &unix.SockaddrInet6{Port: int(cfg.Addr.Port()), Addr: a.As16()}
	}
	return l, nil
}

func (l *Loop) open() error {
	fd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return fmt.Errorf("evloop: epoll_create1: %w", err)
	}
	l.epfd = fd
	return nil
}

// shutdown closes every connection and the epoll instance.
func (l *Loop) shutdown() {
	for _, c := range l.conns {
		unix.Close(c.fd)
	}
	clear(l.conns)
	l.idle = l.idle[:0]
	unix.Close(l.epfd)
}

// wait waits for readiness until the given time (or maxWait).
func (l *Loop) wait(until time.Time) (int, error) {
	d := time.Until(until)
	if d > maxWait {
		d = maxWait
	}
	if d < 0 {
		d = 0
	}
	if l.pwait2 {
		ts := unix.NsecToTimespec(int64(d))
		n, _, errno := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd),
			uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(&ts)), 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			return 0, nil
		case unix.ENOSYS:
			l.pwait2 = false
		default:
			return 0, fmt.Errorf("evloop: epoll_pwait2: %w", errno)
		}
	}
	ms := int((d + time.Millisecond - 1) / time.Millisecond)
	n, err := unix.EpollWait(l.epfd, l.events, ms)
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("evloop: epoll_wait: %w", err)
	}
	return n, nil
}

// dial starts a non-blocking connect; the connection is connecting.
func (l *Loop) dial() (*conn, error) {
	fd, err := unix.Socket(l.family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, l.sa)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("evloop: epoll_ctl: %w", err)
	}
	c := &conn{fd: fd, state: stateConnecting, rbuf: make([]byte, l.cfg.ReadBuffer)}
	l.conns[fd] = c
	l.dialing++
	return c, nil
}

func (l *Loop) closeConn(c *conn) {
	if c.state == stateConnecting {
		l.dialing--
	}
	if c.retire {
		l.retiring--
		c.retire = false
	}
	unix.Close(c.fd)
	delete(l.conns, c.fd)
	c.gen++
	c.fd = -1
}

// start gives a job to a connection (connected or connecting) and, when
// connected, writes it.
func (l *Loop) start(c *conn, j job, now time.Time) {
	c.job, c.hasJob = j, true
	c.gen++
	c.deadline = now.Add(l.cfg.Timeout)
	l.deadlines = append(l.deadlines, deadlineEntry{at: c.deadline, c: c, gen: c.gen})
	if !j.retried {
		c.wbuf, c.job.meta = l.cfg.Build(c.wbuf[:0], j.ep, uint64(j.g))
	} else {
		c.wbuf = append(c.wbuf[:0], l.retryBuf...)
	}
	c.woff = 0
	c.p.Reset(c.job.meta.Head)
	if c.job.meta.Capture > 0 {
		c.p.Capture(c.job.meta.Capture)
	}
	if c.state == stateConnecting {
		return // written once connected
	}
	c.state = stateBusy
	l.write(c, now)
}

// write writes what is left of the request.
func (l *Loop) write(c *conn, now time.Time) {
	if c.woff == 0 {
		c.job.sent = now
	}
	for c.woff < len(c.wbuf) {
		n, err := rawWrite(c.fd, c.wbuf[c.woff:])
		if n > 0 {
			c.woff += n
			c.job.out += int64(n)
		}
		if err == unix.EAGAIN {
			return // EPOLLOUT resumes
		}
		if err != nil {
			l.fail(c, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", err)}, time.Now())
			return
		}
	}
}

// finish reports the job's outcome; the connection is idle again unless
// it must close.
func (l *Loop) finish(c *conn, now time.Time, status int, errKind string) {
	j := c.job
	c.hasJob = false
	c.gen++
	o := &l.out
	*o = Outcome{Ep: j.ep, Seq: uint64(j.g), Tag: j.meta.Tag, Status: status, ErrKind: errKind,
		Latency: max(0, now.Sub(j.intended)), Service: now.Sub(j.sent), In: c.p.BytesIn(), Out: j.out,
		Sent: j.sent, Req: c.wbuf}
	if j.meta.Capture > 0 {
		o.Head, o.Body, o.Truncated = c.p.Captured()
	}
	l.cfg.Done(o)
}

// fake reports the outcome of a job that never got a connection.
func (l *Loop) fake(j job, now time.Time, errKind string) {
	o := &l.out
	*o = Outcome{Ep: j.ep, Seq: uint64(j.g), Tag: j.meta.Tag, ErrKind: errKind,
		Latency: max(0, now.Sub(j.intended)), Sent: j.sent, Out: j.out, Req: l.retryBuf}
	if !j.sent.IsZero() {
		o.Service = now.Sub(j.sent)
	}
	l.cfg.Done(o)
}

// fail ends the connection after an error; a request on a reused
// connection that got no byte back is retried once on a fresh one (the
// server closed an idle keep-alive connection), like net/http does.
func (l *Loop) fail(c *conn, err error, now time.Time) {
	if !c.hasJob {
		l.closeConn(c)
		return
	}
	j := c.job
	if c.reused && !j.retried && !c.p.Started() && stale(err) {
		// Resend the same bytes on a fresh connection.
		l.retryBuf = append(l.retryBuf[:0], c.wbuf...)
		l.closeConn(c)
		j.retried = true
		nc, derr := l.dial()
		if derr == nil {
			l.start(nc, j, now)
			return
		}
		l.fake(j, now, outcome.Kind(derr))
		return
	}
	l.finish(c, now, 0, outcome.Kind(err))
	l.closeConn(c)
}

func stale(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, unix.ECONNRESET) || errors.Is(err, unix.EPIPE) || errors.Is(err, unix.ECONNABORTED)
}

// event handles readiness of one connection. It returns the connection if
// it became idle (for the caller to reuse), else nil.
func (l *Loop) event(c *conn, ev uint32, now time.Time) *conn {
	if c.state == stateConnecting {
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return nil
		}
		soerr, err := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && soerr != 0 {
			err = unix.Errno(soerr)
		}
		l.dialing--
		if err != nil {
			c.state = stateIdle // not connecting any more
			l.fail(c, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)}, now)
			return nil
		}
		if !c.hasJob {
			c.state = stateIdle
			return c
		}
		c.state = stateBusy
		l.write(c, now)
		if c.fd < 0 {
			return nil
		}
	}
	if c.state == stateBusy && c.woff < len(c.wbuf) && ev&unix.EPOLLOUT != 0 {
		l.write(c, now)
		if c.fd < 0 {
			return nil
		}
	}
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) == 0 {
		return nil
	}
	for {
		n, err := rawRead(c.fd, c.rbuf)
		if err == unix.EAGAIN {
			return nil
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			l.fail(c, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", err)}, now)
			return nil
		}
		if n == 0 {
			if !c.hasJob {
				l.closeConn(c) // an idle connection the server closed
				return nil
			}
			done, perr := c.p.EOF()
			if done {
				l.finish(c, now, c.p.Status(), "")
				l.closeConn(c)
				return nil
			}
			if perr == nil {
				perr = io.ErrUnexpectedEOF
			}
			l.fail(c, perr, now)
			return nil
		}
		if !c.hasJob {
			// Bytes nobody asked for: the connection cannot be trusted.
			l.closeConn(c)
			return nil
		}
		used, done, perr := c.p.Feed(c.rbuf[:n])
		if perr != nil {
			l.fail(c, perr, now)
			return nil
		}
		if done {
			l.finish(c, now, c.p.Status(), "")
			if used < n || c.p.MustClose() || c.retire {
				l.closeConn(c)
				return nil
			}
			c.reused = true
			c.state = stateIdle
			return c
		}
		if n < len(c.rbuf) && ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) == 0 {
			// A short read drained the socket; with edge-triggered epoll
			// the next bytes (or the peer's close) raise a new event. A
			// close already reported with this event must be read now.
			return nil
		}
	}
}

// expire fails the requests whose deadline passed.
func (l *Loop) expire(now time.Time) {
	for l.dhead < len(l.deadlines) {
		d := l.deadlines[l.dhead]
		if d.at.After(now) {
			break
		}
		l.dhead++
		if d.c.gen != d.gen || d.c.fd < 0 || !d.c.hasJob {
			continue
		}
		l.finish(d.c, now, 0, outcome.KindTimeout)
		l.closeConn(d.c)
	}
	if l.dhead > 1024 && l.dhead*2 > len(l.deadlines) {
		n := copy(l.deadlines, l.deadlines[l.dhead:])
		l.deadlines = l.deadlines[:n]
		l.dhead = 0
	}
}

func (l *Loop) nextDeadline() (time.Time, bool) {
	for l.dhead < len(l.deadlines) {
		d := l.deadlines[l.dhead]
		if d.c.gen == d.gen && d.c.fd >= 0 && d.c.hasJob {
			return d.at, true
		}
		l.dhead++
	}
	return time.Time{}, false
}

func (l *Loop) busy() int {
	n := 0
	for _, c := range l.conns {
		if c.hasJob {
			n++
		}
	}
	return n
}

// drain waits for the requests in flight to finish (or time out).
func (l *Loop) drain() error {
	for l.busy() > 0 {
		next := time.Now().Add(maxWait)
		if d, ok := l.nextDeadline(); ok && d.Before(next) {
			next = d
		}
		if err := l.poll(next, nil); err != nil {
			return err
		}
		l.expire(time.Now())
	}
	return nil
}

// poll waits until the given time and handles events; idle connections are
// passed to onIdle (nil: keep them idle).
func (l *Loop) poll(until time.Time, onIdle func(*conn, time.Time)) error {
	n, err := l.wait(until)
	if err != nil {
		return err
	}
	now := time.Now()
	for i := 0; i < n; i++ {
		ev := l.events[i]
		c := l.conns[int(ev.Fd)]
		if c == nil {
			continue
		}
		if idle := l.event(c, ev.Events, now); idle != nil {
			if onIdle != nil {
				onIdle(idle, now)
			} else {
				l.idle = append(l.idle, idle)
			}
		}
	}
	return nil
}

// RunOpen paces sub-shard sub of nsub of the shard: arrivals i ≡ sub (mod
// nsub) of the shard's sequence, each at its intended time (start plus its
// offset). An arrival goes to an idle connection, or to a new one while
// under MaxConns and MaxDialing, or is dropped. RunOpen returns after the
// schedule's end and after every request finished.
func (l *Loop) RunOpen(ctx context.Context, sh pacer.Shard, start time.Time, sub, nsub int) error {
	if err := l.open(); err != nil {
		return err
	}
	defer l.shutdown()
	for range min(l.cfg.InitialConns, l.cfg.MaxConns) {
		if _, err := l.dial(); err != nil {
			break // the first arrivals will report it
		}
	}
	now := time.Now()
	anchor := now.Add(start.Sub(now)) // monotonic reading
	end := anchor.Add(sh.Total())
	i := int64(sub)
	nextAt := func() (g int64, at time.Time, ok bool) {
		g, off, ok := sh.At(i)
		return g, anchor.Add(off), ok
	}
	g, at, more := nextAt()
	onIdle := func(c *conn, _ time.Time) { l.idle = append(l.idle, c) }
	for ctx.Err() == nil {
		now := time.Now()
		l.expire(now)
		for more && !at.After(now) {
			j := job{ep: l.cfg.Pick(g), g: g, intended: at}
			switch {
			case len(l.idle) > 0:
				c := l.idle[len(l.idle)-1]
				l.idle = l.idle[:len(l.idle)-1]
				if c.fd < 0 {
					continue // closed while idle; try the next
				}
				l.start(c, j, now)
			case len(l.conns) < l.cfg.MaxConns && l.dialing < l.cfg.MaxDialing:
				c, err := l.dial()
				if err != nil {
					l.retryBuf, j.meta = l.cfg.Build(l.retryBuf[:0], j.ep, uint64(j.g))
					l.fake(j, now, outcome.Kind(err))
					break
				}
				l.start(c, j, now)
			default:
				l.cfg.Dropped(j.ep)
			}
			i += int64(nsub)
			g, at, more = nextAt()
		}
		if !more && !now.Before(end) {
			break
		}
		until := end
		if more {
			until = at
		}
		if d, ok := l.nextDeadline(); ok && d.Before(until) {
			until = d
		}
		if err := l.poll(until, onIdle); err != nil {
			return err
		}
	}
	return l.drain()
}

// RunClosed keeps each stage's number of connections sending back to back,
// from start until the stages are over (or ctx ends), then lets the
// requests in flight finish.
func (l *Loop) RunClosed(ctx context.Context, stages []ClosedStage, start time.Time) error {
	if err := l.open(); err != nil {
		return err
	}
	defer l.shutdown()
	var iter int64
	target := 0
	next := func(c *conn, now time.Time) {
		if c.retire || l.active() > target {
			l.closeConn(c)
			return
		}
		g := iter*l.cfg.SeqStride + l.cfg.SeqBase
		iter++
		l.start(c, job{ep: l.cfg.Pick(g), g: g, intended: now}, now)
	}
	now := time.Now()
	stageEnd := now.Add(start.Sub(now))
	for _, st := range stages {
		stageEnd = stageEnd.Add(st.Duration)
		target = st.Conns
		now := time.Now()
		// Grow: new connections start working once connected; shrink:
		// surplus connections retire after their current request.
		for l.active() < target {
			c, err := l.dial()
			if err != nil {
				break
			}
			next(c, now)
		}
		for ctx.Err() == nil && time.Now().Before(stageEnd) {
			now := time.Now()
			l.expire(now)
			for l.active() < target && l.dialing < l.cfg.MaxDialing {
				c, err := l.dial()
				if err != nil {
					break
				}
				next(c, now)
			}
			until := stageEnd
			if d, ok := l.nextDeadline(); ok && d.Before(until) {
				until = d
			}
			if err := l.poll(until, next); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	for _, c := range l.conns {
		l.markRetire(c)
	}
	return l.drain()
}

func (l *Loop) markRetire(c *conn) {
	if !c.retire {
		c.retire = true
		l.retiring++
	}
}

// active counts connections that are not retiring.
func (l *Loop) active() int { return len(l.conns) - l.retiring }

// rawWrite and rawRead are write(2) and read(2) on a non-blocking socket.
// They never block, so they skip the runtime's entersyscall/exitsyscall
// bookkeeping (and the scheduler work it wakes) that unix.Write pays for.
func rawWrite(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func rawRead(fd int, b []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}
