package apireq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/finding"
	"github.com/barrage-dev/barrage/internal/h1"
	"github.com/barrage-dev/barrage/internal/mutate"
	"github.com/barrage-dev/barrage/internal/openapi"
	"github.com/barrage-dev/barrage/internal/oracle"
)

// Hit is one oracle firing on one response.
type Hit struct {
	Oracle   finding.Oracle
	Mutation string // case name; "" for valid traffic
	Family   string
	Detail   string
	Evidence string
}

// Case returns the case of an Info, or nil for a valid request.
func (s *Sender) Case(info Info) *Case {
	if info.Case < 0 {
		return nil
	}
	op := s.c.ops[info.Op]
	if info.Case >= len(op.cases) {
		return nil
	}
	return &op.cases[info.Case]
}

// Check judges one response (status 0 with errKind for a transport
// failure; head and body when it was captured) and appends what fired.
func (s *Sender) Check(info Info, status int, errKind string, head, body []byte, hits []Hit) []Hit {
	op := s.c.ops[info.Op]
	cs := s.Case(info)
	mut, fam, detail := "", "", ""
	if cs != nil {
		mut, fam, detail = cs.Name, cs.Family, cs.Detail
	}
	hit := func(o finding.Oracle, evidence string) {
		hits = append(hits, Hit{Oracle: o, Mutation: mut, Family: fam, Detail: detail, Evidence: evidence})
	}
	if status == 0 {
		// A transport failure: a finding only when a mutation provoked it
		// (failures of valid traffic under load are the load report's).
		if cs != nil && (errKind == "reset" || errKind == "closed" || errKind == "timeout") {
			hit(finding.ConnectionFailure, "connection "+map[string]string{"reset": "reset", "closed": "closed without a response", "timeout": "timed out"}[errKind])
		}
		return hits
	}
	if status >= 500 {
		hit(finding.ServerError, "HTTP "+strconv.Itoa(status)+excerpt(body))
	}
	if cs != nil && cs.Expect == mutate.Reject4xx && status >= 200 && status < 300 {
		switch cs.w {
		case wireNoCredentials, wireBadCredentials:
			hit(finding.AuthNotEnforced, "HTTP "+strconv.Itoa(status)+" to a request sent with "+cs.Detail)
		case wireCrossUser:
			hit(finding.CrossUser, "HTTP "+strconv.Itoa(status)+": the second user got the first user's resource")
		default:
			hit(finding.InvalidAccepted, "HTTP "+strconv.Itoa(status)+" to an invalid request")
		}
	}
	if !info.Capture || head == nil {
		return hits
	}
	if cs == nil || !cs.Framing {
		s.conformance(op, status, head, body, hit)
	}
	if kind, ev, ok := oracle.InfoLeak(body); ok {
		hit(finding.InfoLeak, kind+": "+ev)
	}
	if cs != nil && cs.Detector != "" && cs.m != nil {
		probe := cs.m.ParamValue
		if cs.m.Edit != nil {
			probe = cs.m.Edit.Raw
		}
		if ev, ok := oracle.Injection(cs.Detector, probe, string(h1.HeaderValue(head, "Content-Type")), body); ok {
			hit(finding.InjectionEvidence, ev)
		}
	}
	return hits
}

// conformance checks the status, content type and body against the spec.
func (s *Sender) conformance(op *Op, status int, head, body []byte, hit func(finding.Oracle, string)) {
	resp := documented(op, status)
	if resp == nil {
		hit(finding.SpecStatus, "HTTP "+strconv.Itoa(status)+" is not documented for "+op.O.Method+" "+op.O.Path)
		return
	}
	if len(body) == 0 || len(resp.MediaTypes) == 0 {
		return
	}
	ct := string(h1.HeaderValue(head, "Content-Type"))
	mt := strings.ToLower(strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]))
	schema, ok := mediaMatch(resp.MediaTypes, mt)
	if !ok {
		hit(finding.SpecContentType, fmt.Sprintf("HTTP %d with Content-Type %q; documented: %s", status, ct, strings.Join(keys(resp.MediaTypes), ", ")))
		return
	}
	if schema == nil || !(mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		hit(finding.SpecBody, fmt.Sprintf("HTTP %d body is not JSON: %v", status, err))
		return
	}
	v = unNumber(v)
	if err := schema.VisitJSON(v, openapi3.VisitAsResponse()); err != nil {
		// The first line names the problem; kin-openapi appends the schema
		// and the value, which the response excerpt already shows.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		hit(finding.SpecBody, fmt.Sprintf("HTTP %d body violates the schema: %s", status, msg))
	}
}

// documented returns the response the spec documents for status: the
// exact code, else its class (4XX), else default.
func documented(op *Op, status int) *openapi.Response {
	code := strconv.Itoa(status)
	class := code[:1] + "XX"
	var byClass, def *openapi.Response
	for _, r := range op.responses {
		switch strings.ToUpper(r.Status) {
		case code:
			return r
		case class:
			byClass = r
		case "DEFAULT":
			def = r
		}
	}
	if byClass != nil {
		return byClass
	}
	return def
}

// mediaMatch finds the documented media type matching mt (exact, then
// type/*, then */*).
func mediaMatch(m map[string]*openapi3.Schema, mt string) (*openapi3.Schema, bool) {
	for k, s := range m {
		if strings.EqualFold(k, mt) {
			return s, true
		}
	}
	major, _, _ := strings.Cut(mt, "/")
	for k, s := range m {
		if strings.EqualFold(k, major+"/*") || k == "*/*" {
			return s, true
		}
	}
	return nil, false
}

func keys(m map[string]*openapi3.Schema) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// unNumber turns json.Number values into float64 or int64 for VisitJSON.
func unNumber(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return float64(i)
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = unNumber(e)
		}
	case []any:
		for i, e := range x {
			x[i] = unNumber(e)
		}
	}
	return v
}

func excerpt(body []byte) string {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return ""
	}
	if len(b) > 120 {
		b = b[:120]
	}
	return ": " + strconv.Quote(string(b))
}

// Learn keeps the id a successful create returned in the pool, and drops
// a pooled id that a successful delete removed or that is gone (404).
func (s *Sender) Learn(info Info, status int, req, head, body []byte) {
	if info.Case >= 0 {
		return
	}
	op := s.c.ops[info.Op]
	if op.creates != "" && status >= 200 && status < 300 {
		if id := op.idFrom.extract(head, body); id != "" {
			s.pool.Put(op.creates, id, info.Identity)
		}
		return
	}
	if (op.method == "DELETE" && status >= 200 && status < 300) || status == 404 {
		for k, sg := range op.segs {
			if sg.param < 0 || op.params[sg.param].resource == "" {
				continue
			}
			if v, ok := pathSegment(req, len(s.c.basePath), k); ok {
				s.pool.Remove(op.params[sg.param].resource, v)
			}
		}
	}
}

// pathSegment returns segment k (unescaped) of the request line's path,
// after skip bytes of base path.
func pathSegment(req []byte, skip, k int) (string, bool) {
	sp := bytes.IndexByte(req, ' ')
	if sp < 0 {
		return "", false
	}
	rest := req[sp+1:]
	end := bytes.IndexAny(rest, " ?")
	if end < 0 || skip > end {
		return "", false
	}
	segs := bytes.Split(rest[skip:end], []byte("/"))
	if k >= len(segs) {
		return "", false
	}
	v, err := url.PathUnescape(string(segs[k]))
	return v, err == nil
}
