package apireq

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/mutate"
	"github.com/barrage-dev/barrage/internal/openapi"
	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Options are the agent-side settings of Compile.
type Options struct {
	// UserAgent is sent with every request.
	UserAgent string
	// Shard and Shards place this agent's share of the case space.
	Shard, Shards int
	// CaptureEvery: capture (and check against the spec) one valid
	// response in CaptureEvery per operation and loop; 0 means 8.
	CaptureEvery int
}

// Capture is how many body bytes of a response are kept for the oracles.
const Capture = 16 << 10

// Families that this package owns (the others are internal/mutate's).
const (
	FamilyBody    = "body"
	FamilyMethods = "methods"
	FamilyHeaders = "headers"
	FamilyAuth    = "auth"
)

// wire is a wire-level mutation.
type wire uint8

const (
	wireNone wire = iota
	wireMalformedJSON
	wireTruncatedJSON
	wireEmptyBody
	wireNullBody
	wireWrongContentType
	wireMethod
	wireOversizedHeader
	wireManyHeaders
	wireBadContentLength
	wireNoCredentials
	wireBadCredentials
	wireCrossUser
	wireWrongAccept
	wireDuplicateQuery
	wireDuplicateHeader
	wireBareCR
	wireBadChunked
)

// Case is one mutation of an operation's request.
type Case struct {
	Family, Name, Detail string
	Expect               mutate.Expect
	// Detector names the injection evidence to look for ("" for none).
	Detector string
	// FormatOnly: only a string format keyword is broken (lenient servers).
	FormatOnly bool
	// Framing: the request's HTTP framing is broken on purpose, so the
	// answer may come from the server's HTTP layer rather than the API:
	// its status and content type are not judged against the spec.
	Framing bool

	m      *mutate.Case // value or structure case
	w      wire
	method string // wireMethod
}

// Op is one compiled operation.
type Op struct {
	O        *openapi.Operation
	Endpoint int // index in the plan's endpoints

	method   string
	segs     []seg
	params   []*param
	body     *valuegen.Gen
	bodyJSON bool
	bodyText bool
	bodyCT   string
	cases    []Case
	// creates is the resource a successful call of this operation creates
	// (a POST on a collection), and where the id is in its response.
	creates string
	idFrom  idSource
	// secured: every alternative needs credentials.
	secured bool
	auth    []authPart // how the primary identity authenticates
	auth2   []authPart // the secondary identity
	accept  string
	html    bool // some response is documented as text/html
	// statuses documented, for the conformance oracle.
	responses []*openapi.Response
	fixedHdr  []string // names of params fixed by the scenario
}

type seg struct {
	lit   string
	param int // index into params, -1 for a literal
}

type param struct {
	p        *openapi.Param
	gen      *valuegen.Gen
	fixed    *template.Template
	resource string // path params: the resource whose id it takes
}

type authPart struct {
	in, name, value string // in: header, query, cookie
}

// Compiled holds a plan's operations, ready to build requests.
type Compiled struct {
	ops       []*Op
	host      string
	basePath  string
	ua        string
	ratio     float64
	seed      uint64
	shard     int64
	shards    int64
	every     int
	secondary bool
	allOps    []*openapi.Operation
	// Warnings about what could not be generated.
	Warnings []string
}

// Ops returns the compiled operations, in plan order.
func (c *Compiled) Ops() []*Op { return c.ops }

// Compile prepares a plan's OpenAPI operations. Operation i of the plan is
// endpoint len(plan.Requests)+i.
func Compile(ctx context.Context, plan *pb.Plan, o Options) (*Compiled, error) {
	api := plan.GetOpenapi()
	if api == nil {
		return nil, errors.New("plan has no API description")
	}
	files := api.GetFiles()
	spec, err := openapi.Load(ctx, api.GetFile(), api.GetSpec(), func(rel string) ([]byte, error) {
		if b, ok := files[rel]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("file %s was not sent with the scenario", rel)
	})
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(plan.GetTarget().GetBaseUrl())
	if err != nil {
		return nil, fmt.Errorf("target base_url: %w", err)
	}
	c := &Compiled{
		host:     u.Host,
		basePath: strings.TrimSuffix(u.EscapedPath(), "/"),
		ua:       o.UserAgent,
		shard:    int64(o.Shard),
		shards:   int64(max(o.Shards, 1)),
		every:    o.CaptureEvery,
		Warnings: spec.Warnings,
	}
	if c.every <= 0 {
		c.every = 8
	}
	f := plan.GetFaults()
	fams := map[string]bool{}
	if f != nil && f.GetRatio() > 0 {
		c.ratio = f.GetRatio()
		c.seed = f.GetSeed()
		if c.seed == 0 {
			c.seed = plan.GetSeed()
		}
		for _, fam := range f.GetFamilies() {
			fams[fam] = true
		}
	}
	c.secondary = len(plan.GetAuth().GetSecondary()) > 0
	c.allOps = spec.Operations
	base := len(plan.GetRequests())
	for i, po := range api.GetOperations() {
		so := spec.Operation(po.GetId())
		if so == nil {
			return nil, fmt.Errorf("operation %q is not in %s", po.GetId(), api.GetFile())
		}
		op, err := c.compileOp(so, po, plan.GetAuth(), fams)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", so.ID, err)
		}
		op.Endpoint = base + i
		c.ops = append(c.ops, op)
	}
	c.link(spec)
	return c, nil
}

var genOpts = valuegen.Options{}

func (c *Compiled) compileOp(so *openapi.Operation, po *pb.Operation, auth *pb.Auth, fams map[string]bool) (*Op, error) {
	op := &Op{O: so, method: so.Method, responses: so.Responses, accept: acceptOf(so)}
	for _, r := range so.Responses {
		if _, ok := r.MediaTypes["text/html"]; ok {
			op.html = true
		}
	}
	byName := map[string]int{}
	var mparams []mutate.Param
	for _, p := range so.Params {
		pp := &param{p: p}
		if src, ok := po.GetParams()[p.Name]; ok {
			t, err := template.Parse(src)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %w", p.Name, err)
			}
			pp.fixed = t
		}
		if p.Schema != nil {
			g, err := valuegen.Compile(p.Schema, genOpts)
			if err != nil {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: parameter %s: %v; sending a fixed value", so.ID, p.Name, err))
			} else {
				pp.gen = g
			}
		}
		byName[p.In+"\x00"+p.Name] = len(op.params)
		op.params = append(op.params, pp)
		if pp.fixed == nil {
			mparams = append(mparams, mutate.Param{Name: p.Name, In: p.In, Required: p.Required, Schema: p.Schema})
		}
	}
	// Path segments.
	for _, s := range splitPath(so.Path) {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			name := s[1 : len(s)-1]
			i, ok := byName["path\x00"+name]
			if !ok {
				return nil, fmt.Errorf("path parameter %s is not described", name)
			}
			op.segs = append(op.segs, seg{param: i})
			continue
		}
		op.segs = append(op.segs, seg{lit: s, param: -1})
	}
	// Resources named by path parameters: /orders/{orderId} → orders.
	segs := strings.Split(so.Path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if j, ok := byName["path\x00"+s[1:len(s)-1]]; ok {
				op.params[j].resource = openapi.ResourceName(strings.Join(segs[:i+1], "/"))
			}
		}
	}
	var bodySchema *openapi3.Schema
	if b := so.Body; b != nil && b.Schema != nil {
		mt := strings.ToLower(b.MediaType)
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			g, err := valuegen.Compile(b.Schema, valuegen.Options{Request: true})
			if err != nil {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: request body: %v; sending {}", so.ID, err))
			} else {
				op.body, op.bodyJSON, bodySchema = g, true, b.Schema
			}
		case strings.HasPrefix(mt, "text/"):
			if g, err := valuegen.Compile(b.Schema, valuegen.Options{Request: true}); err == nil {
				op.body, op.bodyText = g, true
			}
		default:
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: request body media type %s is not generated; sending no body", so.ID, b.MediaType))
		}
		op.bodyCT = b.MediaType
	}
	// Security: the first alternative the primary identity can satisfy.
	op.secured = len(so.Security) > 0
	for _, req := range so.Security {
		if len(req.Schemes) == 0 {
			op.secured = false
		}
	}
	op.auth, _ = authFor(so, auth.GetPrimary())
	op.auth2, _ = authFor(so, auth.GetSecondary())
	// Mutation cases.
	if len(fams) > 0 {
		var mf []string
		for _, f := range mutate.Families() {
			if fams[f] {
				mf = append(mf, f)
			}
		}
		if len(mf) > 0 {
			mc, err := mutate.Cases(mparams, bodySchema, so.Body != nil && so.Body.Required, mf, valuegen.Options{})
			if err != nil {
				c.Warnings = append(c.Warnings, fmt.Sprintf("%s: no value mutations: %v", so.ID, err))
			}
			for i := range mc {
				m := &mc[i]
				op.cases = append(op.cases, Case{Family: m.Family, Name: m.Name, Detail: m.Detail, Expect: m.Expect,
					Detector: m.Detector, FormatOnly: m.FormatOnly, m: m})
			}
		}
		op.cases = interleave(append(op.cases, c.wireCases(op, fams)...))
	}
	return op, nil
}

// interleave orders cases breadth first: one of each family in turn, each
// family's cases in their own order. Mutated requests take the cases in
// order, round robin, so a short run or a low fault ratio still tries every
// family rather than spending itself on the first family's long list.
func interleave(cases []Case) []Case {
	var fams []string
	by := map[string][]Case{}
	for _, cs := range cases {
		if _, ok := by[cs.Family]; !ok {
			fams = append(fams, cs.Family)
		}
		by[cs.Family] = append(by[cs.Family], cs)
	}
	out := make([]Case, 0, len(cases))
	for k := 0; len(out) < len(cases); k++ {
		for _, f := range fams {
			if k < len(by[f]) {
				out = append(out, by[f][k])
			}
		}
	}
	return out
}

// authFor returns how an identity with the given secrets authenticates for
// an operation: the first security alternative it can satisfy.
func authFor(so *openapi.Operation, secrets map[string]string) ([]authPart, bool) {
	if len(so.Security) == 0 {
		return nil, true
	}
	for _, req := range so.Security {
		var parts []authPart
		ok := true
		for _, sc := range req.Schemes {
			v, have := secrets[sc.Name]
			if !have {
				ok = false
				break
			}
			switch sc.Kind {
			case openapi.KindBearer:
				parts = append(parts, authPart{"header", "Authorization", "Bearer " + v})
			case openapi.KindBasic:
				parts = append(parts, authPart{"header", "Authorization", "Basic " + base64std(v)})
			case openapi.KindAPIKey:
				parts = append(parts, authPart{sc.In, sc.ParamName, v})
			}
		}
		if ok {
			return parts, true
		}
	}
	return nil, false
}

// acceptOf picks the Accept header: the JSON media type the successful
// responses document, else none.
func acceptOf(so *openapi.Operation) string {
	for _, r := range so.Responses {
		if !strings.HasPrefix(r.Status, "2") {
			continue
		}
		for mt := range r.MediaTypes {
			if mt == "application/json" || strings.HasSuffix(mt, "+json") {
				return mt
			}
		}
	}
	return ""
}

var methods = []string{"GET", "PUT", "POST", "DELETE", "PATCH"}

func (c *Compiled) wireCases(op *Op, fams map[string]bool) []Case {
	var out []Case
	so := op.O
	if fams[FamilyBody] && op.bodyJSON {
		out = append(out,
			Case{Family: FamilyBody, Name: "body/malformed-json", Detail: "body: JSON with a syntax error", Expect: mutate.Reject4xx, w: wireMalformedJSON},
			Case{Family: FamilyBody, Name: "body/truncated-json", Detail: "body: JSON cut in the middle", Expect: mutate.Reject4xx, w: wireTruncatedJSON},
			Case{Family: FamilyBody, Name: "body/wrong-content-type", Detail: "Content-Type: text/plain for a JSON body", Expect: mutate.Reject4xx, w: wireWrongContentType},
		)
		if so.Body.Required {
			out = append(out, Case{Family: FamilyBody, Name: "body/empty", Detail: "required body left empty", Expect: mutate.Reject4xx, w: wireEmptyBody})
		}
		if s := so.Body.Schema; s != nil && !s.Nullable && s.Type != nil && !s.Type.Includes("null") {
			out = append(out, Case{Family: FamilyBody, Name: "body/null", Detail: "body: null", Expect: mutate.Reject4xx, w: wireNullBody})
		}
	}
	if fams[FamilyBody] && op.accept != "" {
		out = append(out, Case{Family: FamilyBody, Name: "body/wrong-accept", Detail: "Accept: application/xml (only " + op.accept + " is documented)",
			Expect: mutate.NoServerError, w: wireWrongAccept,
			// 406 and a JSON answer are both fine: not judged against the spec.
			Framing: true})
	}
	if fams[FamilyMethods] {
		for _, m := range methods {
			if !c.pathHas(so.Path, m) && c.pathHas(so.Path, so.Method) {
				out = append(out, Case{Family: FamilyMethods, Name: "methods/undocumented-" + strings.ToLower(m),
					Detail: m + " " + so.Path + " is not documented", Expect: mutate.Reject4xx, w: wireMethod, method: m,
					// Not the documented operation: its answer is not judged
					// against this operation's responses.
					Framing: true})
			}
		}
	}
	if fams[FamilyMethods] {
		for _, p := range op.params {
			if p.p.In == "query" {
				out = append(out, Case{Family: FamilyMethods, Name: "methods/duplicate-parameter", Detail: "query parameter " + p.p.Name + " given twice",
					Expect: mutate.NoServerError, w: wireDuplicateQuery, Framing: true})
				break
			}
		}
	}
	if fams[FamilyHeaders] {
		out = append(out,
			Case{Family: FamilyHeaders, Name: "headers/duplicate", Detail: "a header sent twice with different values", Expect: mutate.NoServerError, w: wireDuplicateHeader, Framing: true},
			Case{Family: FamilyHeaders, Name: "headers/bare-cr", Detail: "a header value with a bare CR (RFC 9110 forbids it)", Expect: mutate.Reject4xx, w: wireBareCR, Framing: true},
			Case{Family: FamilyHeaders, Name: "headers/oversized", Detail: "a 16 KiB header", Expect: mutate.NoServerError, w: wireOversizedHeader, Framing: true},
			Case{Family: FamilyHeaders, Name: "headers/many", Detail: "200 extra headers", Expect: mutate.NoServerError, w: wireManyHeaders, Framing: true},
		)
		if op.body != nil {
			out = append(out,
				Case{Family: FamilyHeaders, Name: "headers/bad-content-length", Detail: "Content-Length: 12abc", Expect: mutate.Reject4xx, w: wireBadContentLength, Framing: true},
				Case{Family: FamilyHeaders, Name: "headers/bad-transfer-encoding", Detail: "Transfer-Encoding: chunked over a body that is not chunked", Expect: mutate.Reject4xx, w: wireBadChunked, Framing: true})
		}
	}
	if fams[FamilyAuth] && op.secured && len(op.auth) > 0 {
		out = append(out,
			Case{Family: FamilyAuth, Name: "auth/no-credentials", Detail: "no credentials", Expect: mutate.Reject4xx, w: wireNoCredentials},
			Case{Family: FamilyAuth, Name: "auth/invalid-credentials", Detail: "invalid credentials", Expect: mutate.Reject4xx, w: wireBadCredentials},
		)
		if c.secondary && len(op.auth2) > 0 && op.hasResourceParam() {
			out = append(out, Case{Family: FamilyAuth, Name: "auth/cross-user", Detail: "the second user asks for the first user's resource", Expect: mutate.Reject4xx, w: wireCrossUser})
		}
	}
	return out
}

func (op *Op) hasResourceParam() bool {
	for _, p := range op.params {
		if p.resource != "" && p.p.In == "path" {
			return true
		}
	}
	return false
}

// pathHas reports whether the spec documents method on path (only the
// compiled operations are known; others count as documented so as not to
// claim what the spec does not say).
func (c *Compiled) pathHas(p, method string) bool {
	return slices.ContainsFunc(c.allOps, func(o *openapi.Operation) bool { return o.Path == p && o.Method == method })
}

// link finds, for each collection POST, the resource it creates and where
// its response carries the new id: an OpenAPI link to an operation that
// takes it as a path parameter, else the Location header, else "/id".
func (c *Compiled) link(spec *openapi.Spec) {
	for _, op := range c.ops {
		so := op.O
		if so.Method != "POST" || strings.HasSuffix(strings.TrimSuffix(so.Path, "/"), "}") {
			continue
		}
		res := openapi.ResourceName(so.Path)
		if res == "" {
			continue
		}
		for _, r := range so.Responses {
			if !strings.HasPrefix(r.Status, "2") {
				continue
			}
			for _, lk := range r.Links {
				target := spec.Operation(lk.OperationID)
				if target == nil {
					continue
				}
				for name, expr := range lk.Parameters {
					if src, ok := parseRuntimeExpr(expr); ok && pathParamOfResource(target, name, res) {
						op.creates, op.idFrom = res, src
					}
				}
			}
			if op.creates == "" {
				for _, h := range r.Headers {
					if strings.EqualFold(h, "Location") {
						op.creates, op.idFrom = res, idSource{header: "Location"}
					}
				}
			}
			if op.creates == "" {
				for _, s := range r.MediaTypes {
					if s != nil && s.Properties["id"] != nil {
						op.creates, op.idFrom = res, idSource{pointer: "/id"}
					}
				}
			}
		}
	}
}

func pathParamOfResource(o *openapi.Operation, name, res string) bool {
	segs := strings.Split(o.Path, "/")
	for i, s := range segs {
		if s == "{"+name+"}" {
			return openapi.ResourceName(strings.Join(segs[:i+1], "/")) == res
		}
	}
	return false
}

func splitPath(p string) []string { return strings.Split(p, "/") }

func base64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
