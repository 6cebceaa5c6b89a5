package hitter

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/template"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// DefaultTimeout is the per-request timeout when the plan sets none.
const DefaultTimeout = 10 * time.Second

// Result is the outcome of one request.
type Result struct {
	// Status is the HTTP status; 0 when ErrKind is set.
	Status int
	// ErrKind is the transport error kind (outcome.Kinds), "" for a response.
	ErrKind string
	// Err is the error, for logs; nil for a response.
	Err error
	// BytesIn and BytesOut are the bytes read and written.
	BytesIn, BytesOut int64
}

// Options are the agent-side settings a plan does not carry.
type Options struct {
	// Dial connects to the target; nil means a plain net.Dialer. The agent
	// passes one that enforces its target allowlist.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// UserAgent is sent when the plan sets no User-Agent header.
	UserAgent string
}

type header struct {
	name  string
	value *template.Template
}

type endpoint struct {
	method  string
	head    bool
	path    *template.Template
	headers []header
	body    *template.Template
	static  []byte // the whole HTTP/1.1 request when nothing varies
	always  bool   // send Content-Length even when the body is empty
}

// Factory makes Hitters for one plan.
type Factory struct {
	base      *url.URL
	basePath  string
	host      string // Host header value
	addr      string // host:port to dial
	protocol  pb.Protocol
	timeout   time.Duration
	tls       *tls.Config
	endpoints []*endpoint
	opts      Options
	client    *http.Client // HTTP/2 and h2c
}

// Compile prepares a plan's requests. Errors name the template at fault.
func Compile(plan *pb.Plan, opts Options) (*Factory, error) {
	t := plan.GetTarget()
	u, err := url.Parse(t.GetBaseUrl())
	if err != nil {
		return nil, fmt.Errorf("target base_url %q: %w", t.GetBaseUrl(), err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target base_url %q: scheme must be http or https", t.GetBaseUrl())
	}
	f := &Factory{
		base:     u,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		host:     u.Host,
		protocol: t.GetProtocol(),
		timeout:  t.GetTimeout().AsDuration(),
		opts:     opts,
	}
	if f.timeout <= 0 {
		f.timeout = DefaultTimeout
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	f.addr = net.JoinHostPort(u.Hostname(), port)
	if u.Scheme == "https" {
		f.tls = &tls.Config{
			InsecureSkipVerify: t.GetInsecureSkipVerify(), //nolint:gosec // user's explicit choice for test targets
			ServerName:         t.GetServerName(),
			ClientSessionCache: tls.NewLRUClientSessionCache(64),
		}
		if f.tls.ServerName == "" {
			f.tls.ServerName = u.Hostname()
		}
	}
	if f.protocol == pb.Protocol_PROTOCOL_UNSPECIFIED {
		f.protocol = pb.Protocol_PROTOCOL_HTTP1
	}
	switch {
	case f.protocol == pb.Protocol_PROTOCOL_HTTP2 && u.Scheme != "https":
		return nil, fmt.Errorf("protocol http2 needs an https base_url (use h2c for cleartext)")
	case f.protocol == pb.Protocol_PROTOCOL_H2C && u.Scheme != "http":
		return nil, fmt.Errorf("protocol h2c needs an http base_url")
	}

	var targetHeaders []header
	for _, h := range t.GetHeaders() {
		tp, err := template.Parse(h.GetValue())
		if err != nil {
			return nil, fmt.Errorf("target header %s: %w", h.GetName(), err)
		}
		targetHeaders = append(targetHeaders, header{h.GetName(), tp})
	}
	for i, r := range plan.GetRequests() {
		ep, err := f.compileEndpoint(r, targetHeaders)
		if err != nil {
			return nil, fmt.Errorf("request %d (%s): %w", i, r.GetName(), err)
		}
		f.endpoints = append(f.endpoints, ep)
	}
	if f.protocol != pb.Protocol_PROTOCOL_HTTP1 {
		f.client = f.newHTTPClient()
	}
	return f, nil
}

func (f *Factory) compileEndpoint(r *pb.RequestTemplate, target []header) (*endpoint, error) {
	ep := &endpoint{method: strings.ToUpper(r.GetMethod())}
	if ep.method == "" {
		ep.method = http.MethodGet
	}
	ep.head = ep.method == http.MethodHead
	switch ep.method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		ep.always = true
	}
	var err error
	if ep.path, err = template.Parse(r.GetPath()); err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	if r.GetBody() != "" {
		if ep.body, err = template.Parse(r.GetBody()); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
	}
	own := map[string]bool{}
	var reqHeaders []header
	for _, h := range r.GetHeaders() {
		tp, err := template.Parse(h.GetValue())
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", h.GetName(), err)
		}
		own[strings.ToLower(h.GetName())] = true
		reqHeaders = append(reqHeaders, header{h.GetName(), tp})
	}
	for _, h := range target {
		if !own[strings.ToLower(h.name)] {
			ep.headers = append(ep.headers, h)
		}
	}
	ep.headers = append(ep.headers, reqHeaders...)
	hasUA := false
	for _, h := range ep.headers {
		switch strings.ToLower(h.name) {
		case "user-agent":
			hasUA = true
		case "host", "content-length", "transfer-encoding", "connection":
			return nil, fmt.Errorf("header %s is set by barrage and cannot be given", h.name)
		}
	}
	if !hasUA && f.opts.UserAgent != "" {
		ua, err := template.Parse(f.opts.UserAgent)
		if err != nil {
			return nil, fmt.Errorf("user agent: %w", err)
		}
		ep.headers = append(ep.headers, header{"User-Agent", ua})
	}
	static := ep.path.Static() && (ep.body == nil || ep.body.Static())
	for _, h := range ep.headers {
		static = static && h.value.Static()
	}
	if static {
		ep.static, _ = f.appendH1(nil, nil, ep, nil, 0)
	}
	return ep, nil
}

// appendH1 renders an HTTP/1.1 request for ep into dst. body is scratch
// space for the body; it is returned (grown) for reuse.
func (f *Factory) appendH1(dst, body []byte, ep *endpoint, r *template.Rand, seq uint64) ([]byte, []byte) {
	dst = append(dst, ep.method...)
	dst = append(dst, ' ')
	dst = append(dst, f.basePath...)
	dst = ep.path.Append(dst, r, seq)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, f.host...)
	dst = append(dst, "\r\n"...)
	for _, h := range ep.headers {
		dst = append(dst, h.name...)
		dst = append(dst, ": "...)
		dst = h.value.Append(dst, r, seq)
		dst = append(dst, "\r\n"...)
	}
	if ep.body != nil {
		body = ep.body.Append(body[:0], r, seq)
	} else {
		body = body[:0]
	}
	if len(body) > 0 || ep.always {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...), body
}

// Endpoints is the number of request templates.
func (f *Factory) Endpoints() int { return len(f.endpoints) }

// Plain reports whether requests are HTTP/1.1 over cleartext TCP, the case
// the event loop (internal/evloop) handles.
func (f *Factory) Plain() bool { return f.protocol == pb.Protocol_PROTOCOL_HTTP1 && f.tls == nil }

// Addr is the target's host and port to dial.
func (f *Factory) Addr() (host, port string) {
	h, p, _ := net.SplitHostPort(f.addr)
	return h, p
}

// Builder renders HTTP/1.1 requests for a loop that writes them itself.
// Not safe for concurrent use.
type Builder struct {
	f    *Factory
	rand *template.Rand
	body []byte
}

// NewBuilder returns a Builder with its own random source.
func (f *Factory) NewBuilder(seed uint64) *Builder {
	return &Builder{f: f, rand: template.NewRand(seed)}
}

// Build appends the request for endpoint ep with sequence number seq to dst
// and says whether it is a HEAD request.
func (b *Builder) Build(dst []byte, ep int, seq uint64) ([]byte, bool) {
	e := b.f.endpoints[ep]
	if e.static != nil {
		return append(dst, e.static...), e.head
	}
	dst, b.body = b.f.appendH1(dst, b.body, e, b.rand, seq)
	return dst, e.head
}

// Hitter sends requests for one worker.
type Hitter interface {
	// Hit sends one request of endpoint ep with sequence number seq (for
	// {{seq}}) and waits for its outcome (bounded by the plan's timeout).
	Hit(ep int, seq uint64) Result
	// Warm opens the connection ahead of the first Hit, where the protocol
	// has one connection per Hitter; a failure is left for Hit to report.
	Warm(ctx context.Context)
	// Close releases the connection.
	Close()
}

// New returns a Hitter with its own connection and random source.
func (f *Factory) New(seed uint64) Hitter {
	r := template.NewRand(seed)
	if f.protocol == pb.Protocol_PROTOCOL_HTTP1 {
		return &h1Hitter{f: f, rand: r, c: h1.NewClient(h1.Config{
			Addr: f.addr, TLS: f.tls, Dial: f.opts.Dial, Timeout: f.timeout,
		})}
	}
	return &netHitter{f: f, rand: r}
}

type h1Hitter struct {
	f    *Factory
	c    *h1.Client
	rand *template.Rand
	buf  []byte
	body []byte
}

func (h *h1Hitter) Hit(i int, seq uint64) Result {
	ep := h.f.endpoints[i]
	req := ep.static
	if req == nil {
		h.buf, h.body = h.f.appendH1(h.buf[:0], h.body, ep, h.rand, seq)
		req = h.buf
	}
	resp, err := h.c.Do(context.Background(), req, ep.head)
	res := Result{Status: resp.Status, BytesIn: resp.BytesIn, BytesOut: resp.BytesOut}
	if err != nil {
		res.Status, res.Err, res.ErrKind = 0, err, outcome.Kind(err)
	}
	return res
}

func (h *h1Hitter) Close() { _ = h.c.Close() }

func (h *h1Hitter) Warm(ctx context.Context) { _ = h.c.Warm(ctx) }

func (f *Factory) newHTTPClient() *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     f.tls,
		MaxIdleConnsPerHost: 1024,
		ForceAttemptHTTP2:   true,
		DisableCompression:  true,
	}
	d := f.opts.Dial
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	tr.DialContext = d
	var p http.Protocols
	if f.protocol == pb.Protocol_PROTOCOL_H2C {
		p.SetUnencryptedHTTP2(true)
	} else {
		p.SetHTTP2(true)
	}
	tr.Protocols = &p
	return &http.Client{
		Transport: tr,
		Timeout:   f.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

type netHitter struct {
	f    *Factory
	rand *template.Rand
	path []byte
	body []byte
}

func (h *netHitter) Hit(i int, seq uint64) Result {
	ep := h.f.endpoints[i]
	h.path = append(h.path[:0], h.f.basePath...)
	h.path = ep.path.Append(h.path, h.rand, seq)
	var body io.Reader
	var out int64
	if ep.body != nil {
		h.body = ep.body.Append(h.body[:0], h.rand, seq)
		body = strings.NewReader(string(h.body))
		out = int64(len(h.body))
	}
	u := *h.f.base
	u.RawQuery = ""
	pathPart, query, _ := strings.Cut(string(h.path), "?")
	u.RawPath = pathPart
	if p, err := url.PathUnescape(pathPart); err == nil {
		u.Path = p
	} else {
		u.Path = pathPart
	}
	u.RawQuery = query
	req, err := http.NewRequestWithContext(context.Background(), ep.method, u.String(), body)
	if err != nil {
		return Result{Err: err, ErrKind: "other"}
	}
	for _, hd := range ep.headers {
		req.Header.Add(hd.name, string(hd.value.Append(nil, h.rand, seq)))
	}
	if body == nil && ep.always {
		req.ContentLength = 0
		req.Body = http.NoBody
	}
	resp, err := h.f.client.Do(req)
	if err != nil {
		return Result{Err: err, ErrKind: outcome.Kind(err), BytesOut: out}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res := Result{Status: resp.StatusCode, BytesIn: n, BytesOut: out}
	if err != nil && !errors.Is(err, io.EOF) {
		res.Status, res.Err, res.ErrKind = 0, err, outcome.Kind(err)
	}
	return res
}

func (h *netHitter) Close() {}

// Warm does nothing: HTTP/2 streams share the shard's transport.
func (h *netHitter) Warm(context.Context) {}
