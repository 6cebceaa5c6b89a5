package apireq

import (
	"fmt"
	"math"
	"strconv"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

// Info describes a built request; it packs into a uint64 tag that the
// event loop hands back with the response.
type Info struct {
	// Op is the operation's index in Compiled.Ops.
	Op int
	// Case is the mutation case index, -1 for a valid request.
	Case int
	// Identity sent the request.
	Identity Identity
	// Capture: the response should be kept for the oracles.
	Capture bool
	// Head: the request is HEAD.
	Head bool
}

// Tag packs Info into 64 bits.
func (i Info) Tag() uint64 {
	t := uint64(uint16(i.Op)) | uint64(uint32(i.Case+1))<<16 | uint64(i.Identity)<<48
	if i.Capture {
		t |= 1 << 56
	}
	if i.Head {
		t |= 1 << 57
	}
	return t
}

// InfoOf unpacks a tag.
func InfoOf(t uint64) Info {
	return Info{
		Op:       int(uint16(t)),
		Case:     int(uint32(t>>16)) - 1,
		Identity: Identity(t >> 48 & 0xff),
		Capture:  t&(1<<56) != 0,
		Head:     t&(1<<57) != 0,
	}
}

// Sender builds one loop's requests. Not safe for concurrent use.
type Sender struct {
	c       *Compiled
	r       *template.Rand
	pool    *Pool
	loop    int64
	loops   int64
	mutated []int64 // mutated requests so far, per operation
	valid   []int64 // valid requests so far, per operation
	body    []byte
	tmp     []byte
}

// NewSender returns a Sender for loop j of loops, with its own random
// source and resource pool.
func (c *Compiled) NewSender(seed uint64, loop, loops int) *Sender {
	return &Sender{
		c: c, r: template.NewRand(seed), pool: NewPool(),
		loop: int64(loop), loops: int64(max(loops, 1)),
		mutated: make([]int64, len(c.ops)), valid: make([]int64, len(c.ops)),
	}
}

// Pool is this Sender's resource pool.
func (s *Sender) Pool() *Pool { return s.pool }

// splitmix64 scrambles x.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// mutates reports whether global arrival g carries a mutation.
func (c *Compiled) mutates(g uint64) bool {
	if c.ratio <= 0 {
		return false
	}
	u := float64(splitmix64(g^c.seed)>>11) / (1 << 53)
	return u < c.ratio
}

// Build appends the request of operation i (Compiled.Ops index) for global
// arrival g to dst.
func (s *Sender) Build(dst []byte, i int, g uint64) ([]byte, Info) {
	op := s.c.ops[i]
	if len(op.cases) > 0 && s.c.mutates(g) {
		m := s.mutated[i]
		s.mutated[i]++
		idx := ((m*s.loops+s.loop)*s.c.shards + s.c.shard + int64(s.c.seed%uint64(math.MaxInt32))) % int64(len(op.cases))
		return s.build(dst, i, int(idx), true)
	}
	n := s.valid[i]
	s.valid[i]++
	return s.build(dst, i, -1, op.creates != "" || n%int64(s.c.every) == 0)
}

// BuildCase builds operation i's request with mutation case c (-1 for a
// valid request), as `barrage replay --case` does.
func (s *Sender) BuildCase(dst []byte, i, c int) ([]byte, Info, error) {
	if i < 0 || i >= len(s.c.ops) {
		return dst, Info{}, fmt.Errorf("no operation %d", i)
	}
	if c >= len(s.c.ops[i].cases) {
		return dst, Info{}, fmt.Errorf("operation %s has %d mutation cases, not %d", s.c.ops[i].O.ID, len(s.c.ops[i].cases), c+1)
	}
	dst, info := s.build(dst, i, c, true)
	return dst, info, nil
}

// Cases returns operation i's mutation cases.
func (c *Compiled) Cases(i int) []Case { return c.ops[i].cases }

func (s *Sender) build(dst []byte, i, ci int, capture bool) ([]byte, Info) {
	op := s.c.ops[i]
	info := Info{Op: i, Case: ci, Capture: capture}
	var cs *Case
	if ci >= 0 {
		cs = &op.cases[ci]
	}
	method := op.method
	if cs != nil && cs.w == wireMethod {
		method = cs.method
	}
	info.Head = method == "HEAD"
	ident := Primary
	if cs != nil && cs.w == wireCrossUser {
		ident = Secondary
	}
	info.Identity = ident

	// Request line.
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, s.c.basePath...)
	for k, sg := range op.segs {
		if k > 0 {
			dst = append(dst, '/')
		}
		if sg.param < 0 {
			dst = append(dst, sg.lit...)
			continue
		}
		dst = s.pathValue(dst, op, sg.param, cs)
	}
	first := true
	for pi, p := range op.params {
		if p.p.In != "query" {
			continue
		}
		v, ok := s.value(op, pi, cs)
		if !ok {
			continue
		}
		if first {
			dst = append(dst, '?')
			first = false
		} else {
			dst = append(dst, '&')
		}
		dst = appendQueryEscaped(dst, p.p.Name)
		dst = append(dst, '=')
		dst = appendQueryEscapedBytes(dst, v)
		if cs != nil && cs.w == wireDuplicateQuery && pi == firstQuery(op) {
			dst = append(dst, '&')
			dst = appendQueryEscaped(dst, p.p.Name)
			dst = append(dst, "=barrage-duplicate"...)
		}
	}
	if ident == Primary && (cs == nil || (cs.w != wireNoCredentials && cs.w != wireBadCredentials)) {
		dst = appendAuthQuery(dst, op.auth, &first, "")
	} else if cs != nil && cs.w == wireBadCredentials {
		dst = appendAuthQuery(dst, op.auth, &first, invalidSecret)
	} else if ident == Secondary {
		dst = appendAuthQuery(dst, op.auth2, &first, "")
	}
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, s.c.host...)
	dst = append(dst, "\r\n"...)
	if s.c.ua != "" {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, s.c.ua...)
		dst = append(dst, "\r\n"...)
	}
	switch {
	case cs != nil && cs.w == wireWrongAccept:
		dst = append(dst, "Accept: application/xml\r\n"...)
	case cs != nil && cs.Detector == "xss" && op.html:
		// Script probes are about browsers, which ask for HTML.
		dst = append(dst, "Accept: text/html,*/*;q=0.8\r\n"...)
	case op.accept != "":
		dst = append(dst, "Accept: "...)
		dst = append(dst, op.accept...)
		dst = append(dst, "\r\n"...)
	}
	// Credentials.
	switch {
	case cs != nil && cs.w == wireNoCredentials:
	case cs != nil && cs.w == wireBadCredentials:
		dst = appendAuthHeaders(dst, op.auth, invalidSecret)
	case ident == Secondary:
		dst = appendAuthHeaders(dst, op.auth2, "")
	default:
		dst = appendAuthHeaders(dst, op.auth, "")
	}
	// Header and cookie parameters.
	cookies := false
	for pi, p := range op.params {
		switch p.p.In {
		case "header":
			v, ok := s.value(op, pi, cs)
			if !ok {
				continue
			}
			dst = append(dst, p.p.Name...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		case "cookie":
			v, ok := s.value(op, pi, cs)
			if !ok {
				continue
			}
			if !cookies {
				dst = append(dst, "Cookie: "...)
				cookies = true
			} else {
				dst = append(dst, "; "...)
			}
			dst = append(dst, p.p.Name...)
			dst = append(dst, '=')
			dst = append(dst, v...)
		}
	}
	if cookies {
		dst = append(dst, "\r\n"...)
	}
	if cs != nil {
		switch cs.w {
		case wireOversizedHeader:
			dst = append(dst, "X-Barrage-Pad: "...)
			for range 16 << 10 {
				dst = append(dst, 'a')
			}
			dst = append(dst, "\r\n"...)
		case wireDuplicateHeader:
			dst = append(dst, "X-Barrage-Dup: 1\r\nX-Barrage-Dup: 2\r\n"...)
			if op.accept != "" {
				dst = append(dst, "Accept: text/plain\r\n"...)
			}
		case wireBareCR:
			dst = append(dst, "X-Barrage: a\rb\r\n"...)
		case wireManyHeaders:
			for k := range 200 {
				dst = append(dst, "X-Barrage-"...)
				dst = strconv.AppendInt(dst, int64(k), 10)
				dst = append(dst, ": x\r\n"...)
			}
		}
	}
	// Body.
	s.body = s.body[:0]
	hasBody := false
	if op.body != nil && (method == op.method || cs == nil) {
		var edit *valuegen.Edit
		if cs != nil && cs.m != nil && cs.m.Edit != nil && cs.m.Target.In == "body" {
			edit = cs.m.Edit
		}
		switch {
		case cs != nil && cs.w == wireEmptyBody:
		case cs != nil && cs.w == wireNullBody:
			s.body = append(s.body, "null"...)
		case op.bodyJSON:
			gen := op.body
			if edit != nil && cs.m.Target.Gen != nil {
				gen = cs.m.Target.Gen
			}
			s.body = gen.AppendJSON(s.body, s.r, edit)
		case op.bodyText:
			s.body = op.body.AppendText(s.body, s.r)
		}
		if cs != nil {
			switch cs.w {
			case wireMalformedJSON:
				// A stray "{" in front breaks any JSON value at its first
				// token (a lenient parser that stops after one value cannot
				// read past it).
				s.body = append(s.body, 0)
				copy(s.body[1:], s.body)
				s.body[0] = '{'
			case wireTruncatedJSON:
				s.body = s.body[:len(s.body)/2]
			}
		}
		hasBody = true
	}
	if hasBody {
		ct := op.bodyCT
		if cs != nil && cs.w == wireWrongContentType {
			ct = "text/plain"
		}
		dst = append(dst, "Content-Type: "...)
		dst = append(dst, ct...)
		dst = append(dst, "\r\n"...)
	}
	if cs != nil && cs.w == wireBadChunked && hasBody {
		// Declared chunked, sent as is: its first line is no chunk size
		// (ended, so that the server need not wait for more).
		dst = append(dst, "Transfer-Encoding: chunked\r\n\r\n"...)
		dst = append(dst, s.body...)
		dst = append(dst, "\r\n\r\n"...)
		return dst, info
	}
	if hasBody || method == "POST" || method == "PUT" || method == "PATCH" {
		if cs != nil && cs.w == wireBadContentLength {
			dst = append(dst, "Content-Length: 12abc\r\n"...)
		} else {
			dst = append(dst, "Content-Length: "...)
			dst = strconv.AppendInt(dst, int64(len(s.body)), 10)
			dst = append(dst, "\r\n"...)
		}
	}
	dst = append(dst, "\r\n"...)
	dst = append(dst, s.body...)
	return dst, info
}

const invalidSecret = "barrage-invalid-credentials"

// value renders parameter pi: the mutation's value, the scenario's fixed
// template, a pooled id, or a generated one. ok is false when it is left
// out (an optional parameter this time, or a mutation that omits it).
func (s *Sender) value(op *Op, pi int, cs *Case) ([]byte, bool) {
	p := op.params[pi]
	if cs != nil && cs.m != nil && cs.m.Target.In == p.p.In && cs.m.Target.Name == p.p.Name {
		if cs.m.Omit {
			return nil, false
		}
		if cs.m.ParamValue != nil {
			return cs.m.ParamValue, true
		}
	}
	if !p.p.Required && p.fixed == nil && s.r.IntN(2) == 0 {
		return nil, false
	}
	s.tmp = s.tmp[:0]
	switch {
	case p.fixed != nil:
		s.tmp = p.fixed.Append(s.tmp, s.r, 0)
	case p.gen != nil:
		s.tmp = p.gen.AppendText(s.tmp, s.r)
	default:
		s.tmp = append(s.tmp, '1')
	}
	return s.tmp, true
}

// pathValue appends path parameter pi, escaped.
func (s *Sender) pathValue(dst []byte, op *Op, pi int, cs *Case) []byte {
	p := op.params[pi]
	if cs != nil && cs.m != nil && cs.m.Target.In == "path" && cs.m.Target.Name == p.p.Name {
		if cs.m.Omit {
			return dst
		}
		if cs.m.ParamValue != nil {
			return appendPathEscaped(dst, cs.m.ParamValue)
		}
	}
	if p.resource != "" && p.fixed == nil {
		owner := Primary
		// A cross-user request asks for the first user's resource.
		if id, ok := s.pool.Get(p.resource, owner, s.r.Uint64()); ok && (s.r.IntN(8) != 0 || (cs != nil && cs.w == wireCrossUser)) {
			return appendPathEscaped(dst, []byte(id))
		}
	}
	v, _ := s.value(op, pi, nil)
	return appendPathEscaped(dst, v)
}

func appendAuthHeaders(dst []byte, parts []authPart, override string) []byte {
	cookie := false
	for _, a := range parts {
		v := a.value
		if override != "" {
			v = override
			if len(a.value) > 7 && a.value[:7] == "Bearer " {
				v = "Bearer " + override
			} else if len(a.value) > 6 && a.value[:6] == "Basic " {
				v = "Basic " + base64std("nobody:"+override)
			}
		}
		switch a.in {
		case "header":
			dst = append(dst, a.name...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		case "cookie":
			if !cookie {
				dst = append(dst, "Cookie: "...)
				cookie = true
			} else {
				dst = append(dst, "; "...)
			}
			dst = append(dst, a.name...)
			dst = append(dst, '=')
			dst = append(dst, v...)
		}
	}
	if cookie {
		dst = append(dst, "\r\n"...)
	}
	return dst
}

func appendAuthQuery(dst []byte, parts []authPart, first *bool, override string) []byte {
	for _, a := range parts {
		if a.in != "query" {
			continue
		}
		if *first {
			dst = append(dst, '?')
			*first = false
		} else {
			dst = append(dst, '&')
		}
		v := a.value
		if override != "" {
			v = override
		}
		dst = appendQueryEscaped(dst, a.name)
		dst = append(dst, '=')
		dst = appendQueryEscaped(dst, v)
	}
	return dst
}

const hexDigits = "0123456789ABCDEF"

// unreserved reports RFC 3986 unreserved characters.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// appendPathEscaped percent-encodes a path segment (keeping sub-delims and
// ':' '@' as RFC 3986 allows in a segment).
func appendPathEscaped(dst, v []byte) []byte {
	for _, c := range v {
		switch {
		case unreserved(c), c == '!', c == '$', c == '&', c == '\'', c == '(', c == ')', c == '*', c == '+', c == ',', c == ';', c == '=', c == ':', c == '@':
			dst = append(dst, c)
		default:
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// appendQueryEscapedBytes percent-encodes a query name or value.
func appendQueryEscapedBytes(dst, v []byte) []byte {
	for _, c := range v {
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

func appendQueryEscaped(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if unreserved(c) {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return dst
}

// firstQuery is the index of op's first query parameter, -1 if none.
func firstQuery(op *Op) int {
	for i, p := range op.params {
		if p.p.In == "query" {
			return i
		}
	}
	return -1
}
