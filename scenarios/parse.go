package scenarios

import (
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/barrage-dev/barrage/internal/template"
)

// Limits and defaults of the file format (see docs/scenarios.md).
const (
	DefaultTimeout = 10 * time.Second
	MaxTimeout     = 10 * time.Minute
	DefaultWindow  = time.Second
	MinWindow      = 100 * time.Millisecond
	MaxWindow      = time.Minute
	MaxTotalStages = 24 * time.Hour
	MaxRate        = 10_000_000
	MaxConcurrency = 100_000
	MaxAgents      = 10_000
	MaxWeight      = 1_000_000
	// MaxFileSize is the largest scenario file Parse accepts, in bytes.
	MaxFileSize = 1 << 20
	// MaxFlowNesting bounds the nesting of [ and { in the file (counted
	// everywhere, strings included): the YAML parser's cost grows with the
	// square of it.
	MaxFlowNesting = 1000
	// MaxBodySize is the largest body template, in bytes.
	MaxBodySize = 1 << 20
)

// Parse parses and validates the scenario in src. file names the source in
// error messages. env holds the values for ${NAME} references (the
// submitting user's environment); nil means no variables are set.
//
// On failure the error is an ErrorList with every problem found, each at
// its file:line:col. On success every default is filled in: Protocol
// "http1", Timeout 10s, Model "open", Window 1s, and each request's Method,
// Weight and Name.
func Parse(file string, src []byte, env map[string]string) (*Scenario, error) {
	d := &decoder{file: file, env: env}
	if len(src) > MaxFileSize {
		d.errorAt(pos{1, 1}, "file is larger than %d bytes", MaxFileSize)
		return nil, d.errs
	}
	root := d.document(src)
	if root == nil {
		return nil, d.errs.sorted()
	}
	s := d.scenario(root)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	return s, nil
}

// yamlError is what the go-yaml parser's errors provide.
type yamlError interface {
	GetToken() *token.Token
	GetMessage() string
}

// document parses src as YAML and returns the body of its single document,
// or nil after reporting why there is none.
func (d *decoder) document(src []byte) ast.Node {
	if p, deep := flowNesting(src); deep {
		d.errorAt(p, "nested more than %d levels deep", MaxFlowNesting)
		return nil
	}
	f, err := parseYAML(src)
	if err != nil {
		var ye yamlError
		if errors.As(err, &ye) {
			p := tokPos(ye.GetToken())
			msg := "yaml: " + ye.GetMessage()
			if line := sourceLine(src, p.line); strings.Contains(line, "{{") && !strings.Contains(line, `"{{`) && !strings.Contains(line, `'{{`) {
				msg += " (quote values that contain {{ }}, e.g. path: \"/a/{{int 1 9}}\")"
			}
			d.errorAt(p, "%s", msg)
		} else {
			d.errorAt(pos{1, 1}, "yaml: %v", err)
		}
		return nil
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		if doc == nil || doc.Body == nil || doc.Body.Type() == ast.DirectiveType {
			continue
		}
		docs = append(docs, doc)
	}
	if len(docs) == 0 {
		d.errorAt(pos{1, 1}, "empty file; want a mapping with name, target, load and requests")
		return nil
	}
	for _, doc := range docs[1:] {
		p := nodePos(doc.Body)
		if doc.Start != nil {
			p = tokPos(doc.Start)
		}
		d.errorAt(p, "a scenario file holds one YAML document; remove the --- and what follows or use separate files")
	}
	body := docs[0].Body
	d.collectAnchors(body)
	if r := d.resolve(body, ""); r != nil {
		if _, ok := r.(*ast.MappingNode); !ok {
			d.errorAt(nodePos(r), "expected a mapping at the top level, got %s", describe(r))
			return nil
		}
	}
	return body
}

// flowNesting reports whether [ and { nest deeper than MaxFlowNesting in
// src, and where. Closing brackets never take the count below zero.
func flowNesting(src []byte) (pos, bool) {
	depth, line, col := 0, 1, 0
	for _, c := range src {
		if c&0xc0 != 0x80 { // count characters, not UTF-8 continuation bytes
			col++
		}
		switch c {
		case '\n':
			line, col = line+1, 0
		case '[', '{':
			if depth++; depth > MaxFlowNesting {
				return pos{line, col}, true
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return pos{}, false
}

// sourceLine returns line n (1-based) of src.
func sourceLine(src []byte, n int) string {
	lines := strings.SplitN(string(src), "\n", n+1)
	if n < 1 || n > len(lines) {
		return ""
	}
	return lines[n-1]
}

func (d *decoder) scenario(n ast.Node) *Scenario {
	s := &Scenario{File: d.file, Window: DefaultWindow}
	f, ok := d.object(n, "", nodePos(n), "name", "description", "target", "load", "agents", "seed", "window", "requests", "openapi", "auth", "faults")
	if !ok {
		return s
	}
	if e, ok := d.req(f, "name"); ok {
		if v, ok := d.str(e.value, "name", false); ok {
			s.Name = v.val
			if strings.TrimSpace(v.val) == "" {
				d.errorf(nodePos(v.node), "name", "must not be empty")
			}
		}
	}
	if e, ok := f.opt("description"); ok {
		if v, ok := d.str(e.value, "description", false); ok {
			s.Description = v.val
		}
	}
	if e, ok := d.req(f, "target"); ok {
		d.target(e, &s.Target)
	}
	if e, ok := d.req(f, "load"); ok {
		d.load(e, &s.Load)
	}
	if e, ok := f.opt("agents"); ok {
		if v, ok := d.integer(e.value, "agents", 0, MaxAgents); ok {
			s.Agents = int(v)
		}
	}
	if e, ok := f.opt("seed"); ok {
		if v, ok := d.uint(e.value, "seed"); ok {
			s.Seed = &v
		}
	}
	if e, ok := f.opt("window"); ok {
		if v, p, ok := d.duration(e.value, "window"); ok {
			if v < MinWindow || v > MaxWindow {
				d.errorf(p, "window", "must be between 100ms and 1m, got %s", fmtDuration(v))
			}
			s.Window = v
		}
	}
	if e, ok := f.opt("openapi"); ok {
		s.OpenAPI = d.openapi(e)
	}
	if e, ok := f.opt("auth"); ok {
		s.Auth = d.auth(e)
	}
	if e, ok := f.opt("faults"); ok {
		s.Faults = d.faults(e)
	}
	if s.OpenAPI == nil {
		if e, ok := d.req(f, "requests"); ok {
			s.Requests = d.requests(e)
		}
	} else if e, ok := f.opt("requests"); ok {
		s.Requests = d.requests(e)
	}
	if s.Faults != nil && s.OpenAPI == nil {
		if e, ok := f.opt("faults"); ok {
			d.errorf(e.key, "faults", "malformed inputs are generated from an API description: add openapi: {spec: FILE}")
		}
	}
	return s
}

func (d *decoder) openapi(e entry) *OpenAPI {
	const path = "openapi"
	o := &OpenAPI{}
	f, ok := d.object(e.value, path, e.key, "spec", "include", "exclude", "operations", "latency_budget")
	if !ok {
		return o
	}
	if e, ok := d.req(f, "spec"); ok {
		if v, ok := d.str(e.value, path+".spec", false); ok {
			o.Spec, o.specAt = strings.TrimSpace(v.val), nodePos(v.node)
			switch {
			case o.Spec == "":
				d.errorf(o.specAt, path+".spec", "must not be empty")
			case strings.Contains(o.Spec, "://"):
				d.errorf(o.specAt, path+".spec", "must be a local file (relative to the scenario), not a URL")
			}
		}
	}
	o.Include = d.strList(f, "include", path)
	o.Exclude = d.strList(f, "exclude", path)
	o.LatencyBudget = d.latencyBudget(f, path)
	if e, ok := f.opt("operations"); ok {
		p := path + ".operations"
		entries, ok := d.mapping(e.value, p)
		if ok {
			for _, oe := range entries {
				op := OperationSetting{ID: oe.name, Weight: 1, at: oe.key}
				q := joinPath(p, oe.name)
				if _, null := oe.value.(*ast.NullNode); !null {
					of, ok := d.object(oe.value, q, oe.key, "weight", "params", "latency_budget")
					if ok {
						op.LatencyBudget = d.latencyBudget(of, q)
						if we, ok := of.opt("weight"); ok {
							if w, ok := d.integer(we.value, q+".weight", 0, MaxWeight); ok {
								op.Weight = int(w)
							}
						}
						if pe, ok := of.opt("params"); ok {
							op.Params = d.params(pe.value, q+".params")
						}
					}
				}
				o.Operations = append(o.Operations, op)
			}
		}
	}
	return o
}

// latencyBudget decodes an optional latency_budget: a duration above 0
// and at most MaxTimeout.
func (d *decoder) latencyBudget(f fields, path string) time.Duration {
	e, ok := f.opt("latency_budget")
	if !ok {
		return 0
	}
	v, p, ok := d.duration(e.value, path+".latency_budget")
	if !ok {
		return 0
	}
	if v <= 0 || v > MaxTimeout {
		d.errorf(p, path+".latency_budget", "must be > 0 and <= 10m, got %s", fmtDuration(v))
		return 0
	}
	return v
}

// params decodes a mapping of parameter names to value templates.
func (d *decoder) params(n ast.Node, path string) map[string]string {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for _, e := range entries {
		if _, null := e.value.(*ast.NullNode); null {
			continue
		}
		if v, _, ok := d.tmpl(e.value, joinPath(path, e.name)); ok {
			out[e.name] = v.val
		}
	}
	return out
}

// strList decodes an optional sequence of strings.
func (d *decoder) strList(f fields, key, parent string) []string {
	e, ok := f.opt(key)
	if !ok {
		return nil
	}
	p := parent + "." + key
	items, ok := d.sequence(e.value, p)
	if !ok {
		return nil
	}
	var out []string
	for i, it := range items {
		if v, ok := d.str(it, indexPath(p, i), false); ok {
			if strings.TrimSpace(v.val) == "" {
				d.errorf(nodePos(v.node), indexPath(p, i), "must not be empty")
				continue
			}
			out = append(out, v.val)
		}
	}
	return out
}

func (d *decoder) auth(e entry) *Auth {
	const path = "auth"
	a := &Auth{}
	f, ok := d.object(e.value, path, e.key, "primary", "secondary")
	if !ok {
		return a
	}
	secrets := func(key string) map[string]string {
		e, ok := f.opt(key)
		if !ok {
			return nil
		}
		p := path + "." + key
		entries, ok := d.mapping(e.value, p)
		if !ok {
			return nil
		}
		out := map[string]string{}
		for _, se := range entries {
			if v, ok := d.str(se.value, joinPath(p, se.name), false); ok {
				if strings.ContainsAny(v.val, "\r\n\x00") {
					d.errorf(nodePos(v.node), joinPath(p, se.name), "must not contain CR, LF or NUL")
					continue
				}
				out[se.name] = v.val
			}
		}
		return out
	}
	a.Primary = secrets("primary")
	a.Secondary = secrets("secondary")
	return a
}

func (d *decoder) faults(e entry) *Faults {
	const path = "faults"
	fl := &Faults{}
	f, ok := d.object(e.value, path, e.key, "ratio", "families", "seed")
	if !ok {
		return fl
	}
	if e, ok := d.req(f, "ratio"); ok {
		if v, ok := d.float(e.value, path+".ratio"); ok {
			if v < 0 || v > 1 || math.IsNaN(v) {
				d.errorf(nodePos(e.value), path+".ratio", "must be between 0 and 1, got %v", v)
			}
			fl.Ratio = v
		}
	}
	fl.Families = append([]string(nil), FaultFamilies...)
	if e, ok := f.opt("families"); ok {
		p := path + ".families"
		items, ok := d.sequence(e.value, p)
		if ok {
			fl.Families = nil
			seen := map[string]bool{}
			for i, it := range items {
				v, ok := d.str(it, indexPath(p, i), false)
				if !ok {
					continue
				}
				if !slices.Contains(FaultFamilies, v.val) {
					d.errorf(nodePos(v.node), indexPath(p, i), "unknown family %s%s; known: %s", shortQuote(v.val), suggest(v.val, FaultFamilies), strings.Join(FaultFamilies, ", "))
					continue
				}
				if !seen[v.val] {
					seen[v.val] = true
					fl.Families = append(fl.Families, v.val)
				}
			}
		}
	}
	if e, ok := f.opt("seed"); ok {
		if v, ok := d.uint(e.value, path+".seed"); ok {
			fl.Seed = &v
		}
	}
	return fl
}

func (d *decoder) target(e entry, t *Target) {
	const path = "target"
	t.Protocol = "http1"
	t.Timeout = DefaultTimeout
	f, ok := d.object(e.value, path, e.key, "base_url", "headers", "protocol", "timeout", "tls")
	if !ok {
		return
	}
	scheme := ""
	if e, ok := d.req(f, "base_url"); ok {
		if v, ok := d.str(e.value, path+".base_url", false); ok {
			t.BaseURL, scheme = d.baseURL(v, path+".base_url")
		}
	}
	if e, ok := f.opt("headers"); ok {
		t.Headers = d.headers(e.value, path+".headers")
	}
	if e, ok := f.opt("protocol"); ok {
		p := path + ".protocol"
		if v, ok := d.str(e.value, p, false); ok {
			switch v.val {
			case "http1", "h2c", "http2":
				t.Protocol = v.val
				if v.val == "http2" && scheme == "http" {
					d.errorf(nodePos(v.node), p, "http2 needs an https base_url; use h2c for HTTP/2 over cleartext")
				}
				if v.val == "h2c" && scheme == "https" {
					d.errorf(nodePos(v.node), p, "h2c needs an http base_url; use http2 for HTTP/2 over TLS")
				}
			default:
				d.errorf(nodePos(v.node), p, "unknown protocol %s; want http1, http2 or h2c", shortQuote(v.val))
			}
		}
	}
	if e, ok := f.opt("timeout"); ok {
		if v, p, ok := d.duration(e.value, path+".timeout"); ok {
			if v <= 0 || v > MaxTimeout {
				d.errorf(p, path+".timeout", "must be > 0 and <= 10m, got %s", fmtDuration(v))
			}
			t.Timeout = v
		}
	}
	if e, ok := f.opt("tls"); ok {
		p := path + ".tls"
		tf, ok := d.object(e.value, p, e.key, "insecure_skip_verify", "server_name")
		if ok {
			if e, ok := tf.opt("insecure_skip_verify"); ok {
				t.InsecureSkipVerify, _ = d.boolean(e.value, p+".insecure_skip_verify")
			}
			if e, ok := tf.opt("server_name"); ok {
				if v, ok := d.str(e.value, p+".server_name", false); ok {
					t.ServerName = v.val
				}
			}
		}
	}
}

// baseURL checks a base URL and returns it without trailing slashes, and
// its scheme.
func (d *decoder) baseURL(v str, path string) (string, string) {
	p := nodePos(v.node)
	raw := strings.TrimSpace(v.val)
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		d.errorf(p, path, "invalid URL %s: %v", shortQuote(raw), err)
		return raw, ""
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		if u.Scheme == "" {
			d.errorf(p, path, "must start with http:// or https://, got %s", shortQuote(raw))
		} else {
			d.errorf(p, path, "scheme must be http or https, got %s", strconv.Quote(u.Scheme))
		}
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		d.errorf(p, path, "missing host, e.g. http://127.0.0.1:8080")
	case u.User != nil:
		d.errorf(p, path, "must not hold credentials (user@); send them in an Authorization header")
	case u.RawQuery != "" || u.ForceQuery:
		d.errorf(p, path, "must not have a query; put it in each request's path")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		d.errorf(p, path, "must not have a fragment (#...)")
	}
	return strings.TrimRight(raw, "/"), scheme
}

// headers decodes a mapping of header names to value templates.
func (d *decoder) headers(n ast.Node, path string) []Header {
	entries, ok := d.mapping(n, path)
	if !ok {
		return nil
	}
	var out []Header
	for _, e := range entries {
		p := joinPath(path, e.name)
		if !isToken(e.name) {
			d.errorf(e.key, path, "invalid header name %s: want letters, digits and !#$%%&'*+-.^_`|~", shortQuote(e.name))
		}
		if _, null := e.value.(*ast.NullNode); null {
			continue // like every key, an empty value counts as absent
		}
		v, t, ok := d.tmpl(e.value, p)
		if !ok {
			continue
		}
		if i := strings.IndexAny(v.val, "\r\n\x00"); i >= 0 {
			d.errorAtOffset(v, v.exp.rawOffset(i), p, "header value must not contain CR, LF or NUL")
		} else if badPick(t, "\r\n\x00") {
			d.errorf(nodePos(v.node), p, "header value must not contain CR, LF or NUL (in a pick option)")
		}
		out = append(out, Header{Name: e.name, Value: v.val})
	}
	return out
}

// badPick reports whether a pick option of t contains any of chars.
func badPick(t *template.Template, chars string) bool {
	for _, s := range t.Segments() {
		for _, o := range s.Options {
			if strings.ContainsAny(o, chars) {
				return true
			}
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func (d *decoder) load(e entry, l *Load) {
	const path = "load"
	l.Model = "open"
	f, ok := d.object(e.value, path, e.key, "model", "max_inflight", "stages")
	if !ok {
		return
	}
	model := "open"
	if e, ok := f.opt("model"); ok {
		if v, ok := d.str(e.value, path+".model", false); ok {
			switch v.val {
			case "open", "closed":
				model = v.val
			default:
				model = ""
				d.errorf(nodePos(v.node), path+".model", "unknown model %s; want open (arrival rate) or closed (concurrency)", shortQuote(v.val))
			}
		} else {
			model = ""
		}
	}
	l.Model = model
	if e, ok := f.opt("max_inflight"); ok {
		if model == "closed" {
			d.errorf(e.key, path+".max_inflight", "only for the open model (the closed model's concurrency bounds in-flight requests)")
		} else if v, ok := d.integer(e.value, path+".max_inflight", 0, math.MaxInt64); ok {
			l.MaxInflight = v
		}
	}
	if e, ok := d.req(f, "stages"); ok {
		l.Stages = d.stages(e, model)
	}
}

func (d *decoder) stages(e entry, model string) []Stage {
	const path = "load.stages"
	items, ok := d.sequence(e.value, path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(nodePos(e.value), path, "want at least one stage")
		return nil
	}
	var (
		out      []Stage
		total    time.Duration
		prevRate float64
		positive bool
	)
	for i, item := range items {
		p := indexPath(path, i)
		f, ok := d.object(item, p, nodePos(item), "duration", "rate", "from", "to", "concurrency")
		if !ok {
			continue
		}
		var st Stage
		if e, ok := d.req(f, "duration"); ok {
			if v, vp, ok := d.duration(e.value, p+".duration"); ok {
				if v <= 0 {
					d.errorf(vp, p+".duration", "must be > 0, got %s", fmtDuration(v))
				}
				st.Duration = v
				if v > 0 {
					if total += v; total < 0 {
						total = math.MaxInt64
					}
				}
			}
		}
		rate := func(name string) (float64, bool) {
			e, ok := f.opt(name)
			if !ok {
				return 0, false
			}
			v, ok := d.float(e.value, p+"."+name)
			if !ok {
				return 0, false
			}
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > MaxRate {
				d.errorf(nodePos(e.value), p+"."+name, "must be a finite rate between 0 and %d requests per second, got %s", MaxRate, e.value.GetToken().Value)
				return 0, false
			}
			return v, true
		}
		switch model {
		case "open":
			if e, ok := f.opt("concurrency"); ok {
				d.errorf(e.key, p+".concurrency", "only for the closed model (set load.model: closed); open stages use rate or to")
			}
			_, hasRate := f.opt("rate")
			te, hasTo := f.opt("to")
			fe, hasFrom := f.opt("from")
			switch {
			case hasRate && hasTo:
				d.errorf(te.key, p, "rate and to are mutually exclusive; use rate for a constant stage, to (and from) for a ramp")
			case hasRate && hasFrom:
				d.errorf(fe.key, p, "from needs to (a ramp); a constant stage has rate alone")
			case !hasRate && !hasTo:
				if hasFrom {
					d.errorf(fe.key, p, "from needs to: the rate at the end of the ramp")
				} else {
					d.errorf(nodePos(item), p, "want rate (constant) or to (ramp) in an open-model stage")
				}
			}
			if v, ok := rate("rate"); ok && hasRate {
				st.FromRate, st.ToRate = v, v
			}
			if hasTo {
				st.FromRate = prevRate
				if v, ok := rate("from"); ok {
					st.FromRate = v
				}
				if v, ok := rate("to"); ok {
					st.ToRate = v
				}
			}
			prevRate = st.ToRate
			if st.FromRate > 0 || st.ToRate > 0 {
				positive = true
			}
		case "closed":
			for _, k := range []string{"rate", "from", "to"} {
				if e, ok := f.opt(k); ok {
					d.errorf(e.key, p+"."+k, "only for the open model; closed stages use concurrency")
				}
			}
			if e, ok := d.req(f, "concurrency"); ok {
				if v, ok := d.integer(e.value, p+".concurrency", 1, MaxConcurrency); ok {
					st.Concurrency = v
				}
			}
		}
		out = append(out, st)
	}
	if total > MaxTotalStages {
		d.errorf(e.key, path, "total duration %s is longer than 24h", fmtDuration(total))
	}
	if model == "open" && len(out) == len(items) && !positive && !d.hasErrorUnder(path) {
		d.errorf(e.key, path, "want at least one stage with a rate above 0")
	}
	return out
}

// hasErrorUnder reports whether an error about path (or below it) was
// reported, to avoid follow-on errors.
func (d *decoder) hasErrorUnder(path string) bool {
	for _, e := range d.errs {
		if strings.HasPrefix(e.Msg, path) {
			return true
		}
	}
	return false
}

func (d *decoder) requests(e entry) []Request {
	const path = "requests"
	items, ok := d.sequence(e.value, path)
	if !ok {
		return nil
	}
	if len(items) == 0 {
		d.errorf(nodePos(e.value), path, "want at least one request")
		return nil
	}
	var out []Request
	names := map[string]pos{}
	for i, item := range items {
		p := indexPath(path, i)
		at := nodePos(item)
		f, ok := d.object(item, p, at, "name", "weight", "method", "path", "headers", "body", "json")
		if !ok {
			continue
		}
		r := Request{Weight: 1, Method: "GET"}
		if e, ok := f.opt("method"); ok {
			if v, ok := d.str(e.value, p+".method", false); ok {
				if !isToken(v.val) {
					d.errorf(nodePos(v.node), p+".method", "invalid method %s: want a token such as GET or POST", shortQuote(v.val))
				}
				r.Method = strings.ToUpper(v.val)
			}
		}
		if e, ok := d.req(f, "path"); ok {
			if v, t, ok := d.tmpl(e.value, p+".path"); ok {
				r.Path = v.val
				d.checkPath(v, t, p+".path")
			}
		}
		namePos := at
		if e, ok := f.opt("name"); ok {
			namePos = nodePos(e.value)
			if v, ok := d.str(e.value, p+".name", false); ok {
				r.Name = v.val
				if strings.TrimSpace(v.val) == "" {
					d.errorf(namePos, p+".name", "must not be empty (leave it out for the default \"METHOD path\")")
				}
			}
		} else {
			r.Name = r.Method + " " + r.Path
		}
		if first, dup := names[r.Name]; dup {
			hint := ""
			if _, named := f.opt("name"); !named {
				hint = "; set name to tell them apart"
			}
			d.errorf(namePos, p+".name", "duplicate request name %s (first at %s)%s", shortQuote(r.Name), first, hint)
		} else if r.Name != "" {
			names[r.Name] = namePos
		}
		if e, ok := f.opt("weight"); ok {
			if v, ok := d.integer(e.value, p+".weight", 1, MaxWeight); ok {
				r.Weight = int(v)
			}
		}
		if e, ok := f.opt("headers"); ok {
			r.Headers = d.headers(e.value, p+".headers")
		}
		be, hasBody := f.opt("body")
		je, hasJSON := f.opt("json")
		switch {
		case hasBody && hasJSON:
			second := je
			if je.key.line < be.key.line || je.key.line == be.key.line && je.key.col < be.key.col {
				second = be
			}
			d.errorf(second.key, p, "body and json are mutually exclusive")
		case hasBody:
			if v, _, ok := d.tmpl(be.value, p+".body"); ok {
				r.Body = v.val
			}
		case hasJSON:
			r.Body, r.JSON = d.jsonBody(je.value, p+".json"), true
		}
		out = append(out, r)
	}
	return out
}

// checkPath checks a request path template.
func (d *decoder) checkPath(v str, t *template.Template, path string) {
	if !strings.HasPrefix(v.val, "/") {
		d.errorf(nodePos(v.node), path, "must start with \"/\", got %s", shortQuote(v.val))
		return
	}
	if i := literalIndex(v.val, isSpaceOrControl); i >= 0 {
		d.errorAtOffset(v, v.exp.rawOffset(i), path, "must not contain spaces or control characters; percent-encode them (%%20)")
		return
	}
	if badPick(t, " \t\r\n\x00\x7f") {
		d.errorf(nodePos(v.node), path, "pick options in a path must not contain spaces or control characters; percent-encode them (%%20)")
	}
}

func isSpaceOrControl(c byte) bool { return c <= ' ' || c == 0x7f }

// literalIndex returns the offset of the first byte of src outside {{ }}
// for which bad is true, or -1.
func literalIndex(src string, bad func(byte) bool) int {
	inside := false
	for i := 0; i < len(src); i++ {
		switch {
		case !inside && strings.HasPrefix(src[i:], "{{"):
			inside = true
			i++
		case inside && strings.HasPrefix(src[i:], "}}"):
			inside = false
			i++
		case !inside && bad(src[i]):
			return i
		}
	}
	return -1
}
