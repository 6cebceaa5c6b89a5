package openapi

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

// build reduces a loaded, valid document to a Spec.
func (l *loader) build(doc *openapi3.T, version string) *Spec {
	s := &Spec{File: l.file, OpenAPIVersion: version, Doc: doc, byID: map[string]*Operation{}}
	if doc.Info != nil {
		s.Title, s.Version = doc.Info.Title, doc.Info.Version
	}
	s.Servers = serverURLs(doc.Servers)
	schemes := l.schemes(doc, s)

	type entry struct {
		path, method string
		item         *openapi3.PathItem
		op           *openapi3.Operation
	}
	var entries []entry
	if doc.Paths != nil {
		for p, item := range doc.Paths.Map() {
			if item == nil {
				continue
			}
			for m, op := range item.Operations() {
				if op != nil {
					entries = append(entries, entry{p, strings.ToUpper(m), item, op})
				}
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(strings.Compare(a.path, b.path), strings.Compare(a.method, b.method))
	})
	for _, e := range entries {
		s.Operations = append(s.Operations, l.operation(doc, e.path, e.method, e.item, e.op, schemes))
	}
	l.assignIDs(s)
	links := l.linkResolver(s)
	for _, o := range s.Operations {
		o.Responses = l.responses(o.Pointer, o.Op.Responses, links)
	}

	for _, name := range slices.Sorted(maps.Keys(doc.Webhooks)) {
		l.warnf(pointer("webhooks", name), "webhooks are not exercised: the API sends them, clients do not")
	}
	for _, w := range sortErrors(l.warns, l.file) {
		s.Warnings = append(s.Warnings, w.Error())
	}
	return s
}

// serverURLs returns the servers' URLs with variables set to their
// defaults.
func serverURLs(servers openapi3.Servers) []string {
	var out []string
	for _, sv := range servers {
		if sv == nil {
			continue
		}
		u := sv.URL
		for _, name := range slices.Sorted(maps.Keys(sv.Variables)) {
			if v := sv.Variables[name]; v != nil {
				u = strings.ReplaceAll(u, "{"+name+"}", v.Default)
			}
		}
		out = append(out, u)
	}
	return out
}

// schemes converts the document's security schemes; unsupported ones map
// to nil, with a warning.
func (l *loader) schemes(doc *openapi3.T, s *Spec) map[string]*Scheme {
	out := map[string]*Scheme{}
	if doc.Components == nil {
		return out
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Components.SecuritySchemes)) {
		ref := doc.Components.SecuritySchemes[name]
		ptr := l.sourcePointer(pointer("components", "securitySchemes", name))
		if ref == nil || ref.Value == nil {
			out[name] = nil
			continue
		}
		ss := ref.Value
		sc := &Scheme{Name: name, Type: ss.Type}
		switch ss.Type {
		case "http":
			switch strings.ToLower(ss.Scheme) {
			case "bearer":
				sc.Kind = KindBearer
			case "basic":
				sc.Kind = KindBasic
			default:
				l.warnf(ptr, "HTTP authentication scheme %q is not supported; requirements that need it are skipped", ss.Scheme)
				sc = nil
			}
		case "apiKey":
			switch ss.In {
			case "header", "query", "cookie":
				sc.Kind, sc.In, sc.ParamName = KindAPIKey, ss.In, ss.Name
			default:
				l.warnf(ptr, "API key in %q is not supported; requirements that need it are skipped", ss.In)
				sc = nil
			}
		case "oauth2", "openIdConnect":
			sc.Kind = KindBearer
			l.warnf(ptr, "%s is not negotiated: give an access token in auth and it is sent as a bearer token", ss.Type)
		default:
			l.warnf(ptr, "security scheme type %q is not supported; requirements that need it are skipped", ss.Type)
			sc = nil
		}
		out[name] = sc
		if sc != nil {
			s.Schemes = append(s.Schemes, sc)
		}
	}
	return out
}

// reservedHeaders are header parameters the specification says to ignore.
var reservedHeaders = map[string]bool{"accept": true, "content-type": true, "authorization": true}

// templateVar matches a path template's {name}.
var templateVar = regexp.MustCompile(`\{([^{}/]+)\}`)

// operation converts one operation.
func (l *loader) operation(doc *openapi3.T, p, method string, item *openapi3.PathItem, op *openapi3.Operation, schemes map[string]*Scheme) *Operation {
	itemPtr := pointer("paths", p)
	opPtr := pointer("paths", p, strings.ToLower(method))
	o := &Operation{
		Method:     method,
		Path:       p,
		Summary:    op.Summary,
		Tags:       op.Tags,
		Deprecated: op.Deprecated,
		Op:         op,
		Pointer:    opPtr,
	}
	if o.Summary == "" {
		o.Summary, _, _ = strings.Cut(strings.TrimSpace(op.Description), "\n")
	}
	o.Params = l.params(p, itemPtr, opPtr, item.Parameters, op.Parameters)
	o.Body = l.body(opPtr, op.RequestBody)
	o.Security = l.security(doc, opPtr, op, schemes)
	if len(op.Callbacks) > 0 {
		l.warnf(opPtr+"/callbacks", "callbacks are not exercised: the API calls them, clients do not")
	}
	return o
}

// params merges the path item's and the operation's parameters.
func (l *loader) params(p, itemPtr, opPtr string, itemParams, opParams openapi3.Parameters) []*Param {
	type key struct{ name, in string }
	var out []*Param
	index := map[key]int{}
	add := func(refs openapi3.Parameters, base string) {
		for i, ref := range refs {
			if ref == nil || ref.Value == nil {
				continue
			}
			ptr := base + "/parameters/" + strconv.Itoa(i)
			v := ref.Value
			k := key{v.Name, v.In}
			if v.In == "header" {
				if reservedHeaders[strings.ToLower(v.Name)] {
					l.warnf(ptr, "header parameter %q is ignored, as the specification says; the request sets it", v.Name)
					continue
				}
				k.name = strings.ToLower(v.Name)
			}
			prm := l.param(v)
			if j, ok := index[k]; ok {
				out[j] = prm
			} else {
				index[k] = len(out)
				out = append(out, prm)
			}
		}
	}
	add(itemParams, itemPtr)
	add(opParams, opPtr)

	vars := map[string]bool{}
	for _, m := range templateVar.FindAllStringSubmatch(p, -1) {
		name := m[1]
		vars[name] = true
		if _, ok := index[key{name, "path"}]; ok {
			continue
		}
		l.warnf(opPtr, "path parameter %q is not declared; it is sent as a string", name)
		index[key{name, "path"}] = len(out)
		out = append(out, &Param{Name: name, In: "path", Required: true, Schema: openapi3.NewStringSchema(), Style: openapi3.SerializationSimple})
	}
	return slices.DeleteFunc(out, func(prm *Param) bool {
		if prm.In == "path" && !vars[prm.Name] {
			l.warnf(opPtr, "path parameter %q is not in the path template; it is ignored", prm.Name)
			return true
		}
		return false
	})
}

// param converts one parameter.
func (l *loader) param(v *openapi3.Parameter) *Param {
	prm := &Param{Name: v.Name, In: v.In, Required: v.Required || v.In == "path", Example: v.Example}
	if v.Schema != nil {
		prm.Schema = v.Schema.Value
	} else if len(v.Content) > 0 {
		types := slices.Sorted(maps.Keys(v.Content))
		mt := types[0]
		if m := v.Content[mt]; m != nil && m.Schema != nil {
			prm.Schema = m.Schema.Value
		}
		prm.MediaType = mt
	}
	if sm, err := v.SerializationMethod(); err == nil {
		prm.Style, prm.Explode = sm.Style, sm.Explode
	}
	if prm.Example == nil && len(v.Examples) > 0 {
		for _, name := range slices.Sorted(maps.Keys(v.Examples)) {
			if ex := v.Examples[name]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
				prm.Example = ex.Value.Value
				break
			}
		}
	}
	return prm
}

// mediaRank orders media types for a request body: lower is preferred.
// It also returns the media type to send for a wildcard.
func mediaRank(mt string) (rank int, send string) {
	base, _, _ := strings.Cut(mt, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	switch {
	case base == "application/json":
		return 0, mt
	case strings.HasSuffix(base, "+json"):
		return 1, mt
	case base == "*/*" || base == "application/*":
		return 2, "application/json"
	case base == "application/x-www-form-urlencoded":
		return 3, mt
	case base == "multipart/form-data":
		return 4, mt
	case base == "text/plain":
		return 5, mt
	case base == "text/*":
		return 6, "text/plain"
	case strings.HasPrefix(base, "text/"):
		return 6, mt
	}
	return 7, mt
}

// body converts a request body.
func (l *loader) body(opPtr string, ref *openapi3.RequestBodyRef) *Body {
	if ref == nil || ref.Value == nil {
		return nil
	}
	rb := ref.Value
	at := opPtr + "/requestBody"
	if l.swagger {
		at = opPtr // a Swagger 2.0 body is a parameter
	}
	if len(rb.Content) == 0 {
		l.warnf(at, "the request body has no media types; it is not sent")
		return nil
	}
	types := slices.Sorted(maps.Keys(rb.Content))
	best, bestRank, send := "", 1<<30, ""
	for _, mt := range types {
		if r, s := mediaRank(mt); r < bestRank {
			best, bestRank, send = mt, r, s
		}
	}
	if bestRank == 7 {
		l.warnf(at, "no JSON, form or text media type for the request body; sending %s", best)
	}
	b := &Body{Required: rb.Required, MediaType: send, MediaTypes: types}
	if m := rb.Content[best]; m != nil && m.Schema != nil {
		b.Schema = m.Schema.Value
	}
	// Swagger 2.0 form parameters become a body that is never required by
	// itself; it is when one of its fields is.
	if l.swagger && (bestRank == 3 || bestRank == 4) && b.Schema != nil && len(b.Schema.Required) > 0 {
		b.Required = true
	}
	return b
}

// responses converts the responses, in document order.
func (l *loader) responses(opPtr string, rs *openapi3.Responses, links func(ptr string, lk *openapi3.Link) (string, bool)) []*Response {
	if rs == nil || rs.Len() == 0 {
		return nil
	}
	m := rs.Map()
	var keys []string
	seen := map[string]bool{}
	if n := l.root.itemAt(opPtr + "/responses"); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; m[k] != nil && !seen[k] {
				keys = append(keys, k)
				seen[k] = true
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !seen[k] {
			keys = append(keys, k)
		}
	}
	var out []*Response
	for _, k := range keys {
		ref := m[k]
		if ref == nil || ref.Value == nil {
			continue
		}
		r := &Response{Status: k}
		for mt, media := range ref.Value.Content {
			if r.MediaTypes == nil {
				r.MediaTypes = map[string]*openapi3.Schema{}
			}
			var schema *openapi3.Schema
			if media != nil && media.Schema != nil {
				schema = media.Schema.Value
			}
			r.MediaTypes[mt] = schema
		}
		r.Headers = slices.Sorted(maps.Keys(ref.Value.Headers))
		for _, name := range slices.Sorted(maps.Keys(ref.Value.Links)) {
			lr := ref.Value.Links[name]
			if lr == nil || lr.Value == nil {
				continue
			}
			id, ok := links(opPtr+"/responses/"+escapeToken(k)+"/links/"+escapeToken(name), lr.Value)
			if !ok {
				continue
			}
			lk := Link{Name: name, OperationID: id, Parameters: map[string]string{}}
			for pn, pv := range lr.Value.Parameters {
				if s, ok := pv.(string); ok {
					lk.Parameters[pn] = s
				} else if b, err := json.Marshal(pv); err == nil {
					lk.Parameters[pn] = string(b)
				}
			}
			r.Links = append(r.Links, lk)
		}
		out = append(out, r)
	}
	return out
}

// security returns the effective requirements of an operation.
func (l *loader) security(doc *openapi3.T, opPtr string, op *openapi3.Operation, schemes map[string]*Scheme) []Requirement {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	var out []Requirement
	for _, req := range reqs {
		r := Requirement{}
		ok := true
		for _, name := range slices.Sorted(maps.Keys(req)) {
			sc, defined := schemes[name]
			if !defined {
				l.warnf(opPtr, "security requirement names undefined scheme %q; it is skipped", name)
				ok = false
				break
			}
			if sc == nil {
				ok = false
				break
			}
			c := *sc
			c.Scopes = req[name]
			r.Schemes = append(r.Schemes, c)
		}
		if ok {
			out = append(out, r)
		}
	}
	if len(reqs) > 0 && len(out) == 0 {
		l.warnf(opPtr, "no security requirement of this operation can be met; requests are sent without credentials")
	}
	return out
}

// assignIDs gives every operation a unique ID: its operationId, else
// "METHOD /path"; repeats get a numeric suffix.
func (l *loader) assignIDs(s *Spec) {
	taken := map[string]*Operation{}
	unique := func(o *Operation, want string) {
		id := want
		for n := 2; taken[id] != nil; n++ {
			id = want + "_" + strconv.Itoa(n)
		}
		if id != want {
			l.warnf(o.Pointer, "operation ID %q is also %s %s's; this operation is called %q", want, taken[want].Method, taken[want].Path, id)
		}
		o.ID = id
		taken[id] = o
	}
	// Explicit operationIds first, so a fallback never takes one.
	for _, o := range s.Operations {
		if o.Op.OperationID != "" {
			unique(o, o.Op.OperationID)
		}
	}
	for _, o := range s.Operations {
		if o.Op.OperationID == "" {
			unique(o, o.Method+" "+o.Path)
		}
	}
	s.byID = taken
}

// linkResolver returns a function that maps a link to the ID of the
// operation it names, by operationId or operationRef, and warns about (and
// rejects) links to no operation.
func (l *loader) linkResolver(s *Spec) func(ptr string, lk *openapi3.Link) (string, bool) {
	type pm struct{ path, method string }
	byPM := map[pm]*Operation{}
	for _, o := range s.Operations {
		byPM[pm{o.Path, o.Method}] = o
	}
	return func(ptr string, lk *openapi3.Link) (string, bool) {
		if lk.OperationID != "" {
			if s.byID[lk.OperationID] == nil {
				l.warnf(ptr, "link names unknown operation %q; the link is skipped", lk.OperationID)
				return "", false
			}
			return lk.OperationID, true
		}
		ref := lk.OperationRef
		if frag, ok := strings.CutPrefix(ref, "#"); ok {
			if f, err := url.PathUnescape(frag); err == nil {
				frag = f
			}
			if toks := splitPointer(frag); len(toks) == 3 && toks[0] == "paths" {
				if o := byPM[pm{toks[1], strings.ToUpper(toks[2])}]; o != nil {
					return o.ID, true
				}
			}
		}
		l.warnf(ptr, "link's operationRef %q names no operation of this description; the link is skipped", ref)
		return "", false
	}
}
