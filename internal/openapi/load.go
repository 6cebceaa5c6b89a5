package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"
)

// Limits on what Load reads, so a hostile description cannot make it work
// without bound.
const (
	// MaxBytes is the most bytes Load reads: the root file and every file
	// it refers to, together.
	MaxBytes = 10 << 20
	// MaxFiles is the most files a description may span, the root
	// included.
	MaxFiles = 256
)

// Load parses an API description: YAML or JSON; Swagger 2.0 (converted to
// OpenAPI 3), OpenAPI 3.0 or 3.1 (3.2 loads, with a warning: it is only
// partly supported).
//
// file names the description in messages; $refs to other files are
// resolved relative to its directory and read with read, which is given
// the referenced path relative to that directory, cleaned (it never starts
// with "/" or ".."). References to URLs, absolute paths and paths that
// leave file's directory are refused; nothing is read from the network.
// read may be nil when the description is a single file.
//
// A description that cannot be used is reported as an ErrorList, every
// *Error naming its file, JSON pointer and, when known, line and column.
// Constructs that are skipped or approximated are Spec.Warnings. Load
// never panics; it reads at most MaxBytes in at most MaxFiles files, and
// returns ctx's error when ctx ends first.
func Load(ctx context.Context, file string, data []byte, read func(rel string) ([]byte, error)) (spec *Spec, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	l := &loader{ctx: ctx, file: file, read: read, maxBytes: MaxBytes, maxFiles: MaxFiles}
	defer func() {
		if r := recover(); r != nil {
			spec, err = nil, ErrorList{{File: file, Msg: fmt.Sprintf("internal error while loading the description (please report it): %v", r)}}
		}
	}()
	spec = l.load(data)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load %s: %w", file, err)
	}
	if len(l.errs) > 0 {
		return nil, ErrorList(sortErrors(l.errs, file))
	}
	return spec, nil
}

// loader is the state of one Load.
type loader struct {
	ctx  context.Context
	file string
	read func(rel string) ([]byte, error)

	maxBytes, maxFiles int // MaxBytes and MaxFiles, but for tests

	base     string             // the root's name, as kin-openapi sees it
	root     *source            // the root file
	files    map[string]*source // every file read, by path relative to the root's directory
	order    []string           // the keys of files, in the order read
	total    int                // bytes read, the root included
	lastRead string             // the key of the file read last; "" before any

	swagger bool // the root is Swagger 2.0
	errs    []*Error
	warns   []*Error
}

// errorf records a problem at ptr of the root file.
func (l *loader) errorf(ptr, format string, args ...any) {
	l.errs = append(l.errs, l.at(ptr, fmt.Sprintf(format, args...)))
}

// warnf records a warning at ptr of the root file.
func (l *loader) warnf(ptr, format string, args ...any) {
	l.warns = append(l.warns, l.at(ptr, fmt.Sprintf(format, args...)))
}

// at returns an Error at ptr of the root file, with the position of ptr
// or, when ptr names something missing (a required field, say), of the
// nearest element above it.
func (l *loader) at(ptr, msg string) *Error {
	e := &Error{File: l.root.name, Pointer: ptr, Msg: msg}
	if l.root.tree() != nil {
		_, e.Line, e.Col = l.root.locate(ptr)
	}
	return e
}

func (l *loader) load(data []byte) *Spec {
	l.base = path.Base(l.file)
	if l.file == "" || l.base == "." || l.base == "/" {
		l.base = "openapi.yaml"
	}
	l.root = &source{name: l.file, data: data}
	l.files = map[string]*source{l.base: l.root}
	l.total = len(data)
	if len(data) > l.maxBytes {
		l.errs = append(l.errs, &Error{File: l.file, Msg: fmt.Sprintf("the description is %d bytes; the limit is %d", len(data), l.maxBytes)})
		return nil
	}

	if strings.EqualFold(path.Ext(l.file), ".json") {
		if err := checkJSON(data); err != nil {
			l.errs = append(l.errs, &Error{File: l.file, Line: err.Line, Col: err.Col, Msg: err.Msg})
			return nil
		}
	}
	version, ok := l.probe()
	if !ok {
		return nil
	}

	kl := openapi3.NewLoader()
	kl.Context = l.ctx
	kl.ReadFromURIFunc = l.readURI
	loc := &url.URL{Path: l.base}

	var doc *openapi3.T
	var err error
	if l.swagger {
		var doc2 openapi2.T
		if err := openapi2.UnmarshalFromData(data, &doc2); err != nil {
			l.swaggerDecodeError(err)
			return nil
		}
		doc, err = openapi2conv.ToV3WithLoader(&doc2, kl, loc)
		if err == nil && doc.Paths == nil {
			doc.Paths = openapi3.NewPaths() // the converter drops an empty paths object
		}
	} else {
		doc, err = kl.LoadFromDataWithPath(data, loc)
	}
	if err != nil {
		l.loadErrors(err)
		return nil
	}
	if l.ctx.Err() != nil {
		return nil
	}
	l.validate(doc)
	if len(l.errs) > 0 {
		return nil
	}
	return l.build(doc, version)
}

// probe reads the version field of the root, and reports problems that
// make the file no description at all.
func (l *loader) probe() (version string, ok bool) {
	var swagger, openapi *string
	var swaggerAt, openapiAt string
	if t := l.root.tree(); t != nil {
		if t.Kind != yaml.MappingNode {
			l.errorf("", "not an OpenAPI or Swagger document: the top level is %s, not a mapping", kindName(t))
			return "", false
		}
		if _, v := mapValue(t, "swagger"); v != nil {
			s := scalarValue(v)
			swagger, swaggerAt = &s, "/swagger"
		}
		if _, v := mapValue(t, "openapi"); v != nil {
			s := scalarValue(v)
			openapi, openapiAt = &s, "/openapi"
		}
	} else {
		// JSON that is not YAML (duplicate keys, say) still loads, without
		// positions.
		var probe map[string]any
		if json.Unmarshal(l.root.data, &probe) != nil {
			l.errs = append(l.errs, parseError(l.file, l.root.err))
			return "", false
		}
		if v, ok := probe["swagger"]; ok {
			s := fmt.Sprint(v)
			swagger, swaggerAt = &s, "/swagger"
		}
		if v, ok := probe["openapi"]; ok {
			s := fmt.Sprint(v)
			openapi, openapiAt = &s, "/openapi"
		}
	}
	switch {
	case swagger != nil && openapi != nil:
		l.errorf(openapiAt, "both swagger and openapi fields: declare one version")
		return "", false
	case swagger != nil:
		if *swagger != "2.0" {
			l.errorf(swaggerAt, "unsupported Swagger version %q: want \"2.0\" (or an openapi: 3.x document)", *swagger)
			return "", false
		}
		l.swagger = true
		return "2.0", true
	case openapi != nil:
		v := *openapi
		switch {
		case isVersion(v, "3.0"), isVersion(v, "3.1"):
		case isVersion(v, "3.2"):
			l.warnf(openapiAt, "OpenAPI %s is only partly supported; its new constructs may be ignored", v)
		default:
			l.errorf(openapiAt, "unsupported OpenAPI version %q: want 3.0.x or 3.1.x (or swagger: \"2.0\")", v)
			return "", false
		}
		return v, true
	default:
		l.errorf("", "not an OpenAPI or Swagger document: no openapi or swagger field")
		return "", false
	}
}

// isVersion reports whether v is major.minor, or major.minor.something.
func isVersion(v, majorMinor string) bool {
	return v == majorMinor || strings.HasPrefix(v, majorMinor+".")
}

func scalarValue(n *yaml.Node) string {
	if n = deref(n); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return fmt.Sprintf("<%s>", kindName(n))
}

func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a scalar"
	default:
		return "empty"
	}
}

// refusedError is a $ref Load does not follow, or a file it cannot read.
type refusedError struct {
	msg    string
	target string // the file, as refTarget writes it
}

func (e *refusedError) Error() string { return e.msg }

// readURI reads a file a $ref names, for kin-openapi: only relative paths
// that stay in the root's directory, through l.read, within the limits.
func (l *loader) readURI(_ *openapi3.Loader, u *url.URL) ([]byte, error) {
	if err := l.ctx.Err(); err != nil {
		return nil, err
	}
	file := *u
	file.Fragment, file.RawFragment = "", ""
	target := refTarget(".", file.String())
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return nil, &refusedError{"refers to a URL; only files next to the description can be referenced (nothing is fetched from the network)", target}
	}
	p := u.Path
	if strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) {
		return nil, &refusedError{fmt.Sprintf("absolute path %q refused: refer to files relative to the description", p), target}
	}
	p = path.Clean(p)
	if p == ".." || strings.HasPrefix(p, "../") {
		return nil, &refusedError{fmt.Sprintf("path %q refused: it leaves the description's directory", u.Path), target}
	}
	if src, ok := l.files[p]; ok {
		l.lastRead = p
		return src.data, nil
	}
	name := path.Join(path.Dir(l.file), p)
	if l.read == nil {
		return nil, &refusedError{fmt.Sprintf("cannot read %s: references to other files are not available here", name), p}
	}
	if len(l.files) >= l.maxFiles {
		return nil, &refusedError{fmt.Sprintf("cannot read %s: the description spans more than %d files", name, l.maxFiles), p}
	}
	data, err := l.read(p)
	if err != nil {
		return nil, &refusedError{fmt.Sprintf("cannot read %s: %v", name, err), p}
	}
	if l.total+len(data) > l.maxBytes {
		return nil, &refusedError{fmt.Sprintf("cannot read %s: the description's files exceed %d bytes together", name, l.maxBytes), p}
	}
	l.total += len(data)
	src := &source{name: name, data: data}
	l.files[p] = src
	l.order = append(l.order, p)
	l.lastRead = p
	if src.tree() == nil && !json.Valid(data) {
		return nil, parseError(name, src.err)
	}
	return data, nil
}

// sources returns every file read, the root first.
func (l *loader) sources() []*source {
	out := []*source{l.root}
	for _, k := range l.order {
		out = append(out, l.files[k])
	}
	return out
}

// quoted matches the %q-quoted strings of kin-openapi's messages.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// loadErrors turns an error of kin-openapi's loader into located Errors.
func (l *loader) loadErrors(err error) {
	// A referenced file that is not YAML.
	var fe *Error
	if errors.As(err, &fe) {
		l.errs = append(l.errs, fe)
		return
	}
	// Decoding errors carry a position and a pointer. The root is decoded
	// before any reference is followed, so after a read they are the last
	// file's.
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		src := l.root
		if l.lastRead != "" {
			src = l.files[l.lastRead]
		}
		for _, e := range les.Errors {
			msg, ptr := e.Message, ""
			if i := strings.LastIndex(msg, " in /"); i >= 0 {
				msg, ptr = msg[:i], msg[i+len(" in "):]
			}
			l.errs = append(l.errs, &Error{File: src.name, Pointer: ptr, Line: e.Mark.Line, Col: e.Mark.Column, Msg: cleanDecodeMessage(msg)})
		}
		return
	}
	// A file not read: find a $ref to it.
	msg := err.Error()
	var refused *refusedError
	isRefused := errors.As(err, &refused)
	if isRefused {
		if e := l.findRefTo(refused.target); e != nil {
			e.Msg = fmt.Sprintf("$ref %q: %s", e.Msg, refused.msg)
			l.errs = append(l.errs, e)
			return
		}
	}
	// Reference errors quote the $ref, or its fragment: find it.
	if e := l.findQuotedRef(msg); e != nil {
		ref := e.Msg
		switch {
		case isRefused:
			e.Msg = fmt.Sprintf("$ref %q: %s", ref, refused.msg)
		case strings.HasPrefix(ref, "#") && strings.Contains(msg, "failed to resolve"):
			e.Msg = fmt.Sprintf("$ref %q points to nothing: %s", ref, l.missing(e.File, ref))
		default:
			e.Msg = fmt.Sprintf("$ref %q: %s", ref, trimRefPrefix(msg))
			l.errs = append(l.errs, l.targetErrors(e.File, ref, msg)...)
		}
		l.errs = append(l.errs, e)
		return
	}
	if isRefused {
		msg = refused.msg
	}
	l.errs = append(l.errs, &Error{File: l.file, Msg: msg})
}

// refTarget writes the file a $ref written in the file from (a path
// relative to the root's directory) refers to: a cleaned relative path, or
// the reference itself for URLs and absolute paths, without its fragment.
func refTarget(from, ref string) string {
	file, _, _ := strings.Cut(ref, "#")
	if u, err := url.Parse(file); err == nil && (u.Scheme != "" || u.Host != "" || u.Opaque != "") {
		return u.String()
	}
	if file == "" {
		return from
	}
	if strings.HasPrefix(file, "/") {
		return file
	}
	if u, err := url.Parse(file); err == nil {
		file = u.Path
	}
	return path.Clean(path.Join(path.Dir(from), file))
}

// findRefTo finds a $ref to the file target (as refTarget writes it) in
// the files read. It returns an Error at the $ref with the $ref as written
// as its Msg; nil when there is none.
func (l *loader) findRefTo(target string) *Error {
	if target == "" {
		return nil
	}
	for _, k := range append([]string{l.base}, l.order...) {
		src := l.files[k]
		if src.tree() == nil {
			continue
		}
		match := func(v string) bool { return !strings.HasPrefix(v, "#") && refTarget(k, v) == target }
		if ptr, line, col, written, ok := findRef(src.tree(), match); ok {
			return &Error{File: src.name, Pointer: ptr, Line: line, Col: col, Msg: written}
		}
	}
	return nil
}

// findQuotedRef finds the $ref a kin-openapi message quotes: written
// exactly so, or (for a reference into another file) ending in the quoted
// fragment, or (in Swagger 2.0) in its original form. It returns an Error
// at the $ref, with the $ref as written as its Msg; nil when none is found.
func (l *loader) findQuotedRef(msg string) *Error {
	var refs []string
	for _, q := range quoted.FindAllString(msg, -1) {
		if ref, err := strconv.Unquote(q); err == nil && ref != "" {
			refs = append(refs, ref)
			if l.swagger && strings.HasPrefix(ref, "#/components/") {
				refs = append(refs, "#"+l.sourcePointer(strings.TrimPrefix(ref, "#")))
			}
		}
	}
	for pass := 0; pass < 2; pass++ {
		for _, ref := range refs {
			if pass == 1 && !strings.HasPrefix(ref, "#") {
				continue
			}
			for _, src := range l.sources() {
				t := src.tree()
				if t == nil {
					continue
				}
				match := func(v string) bool { return v == ref }
				if pass == 1 {
					match = func(v string) bool { return !strings.HasPrefix(v, "#") && strings.HasSuffix(v, ref) }
				}
				if ptr, line, col, written, ok := findRef(t, match); ok {
					return &Error{File: src.name, Pointer: ptr, Line: line, Col: col, Msg: written}
				}
			}
		}
	}
	return nil
}

// expecting maps kin-openapi's names of the objects a $ref may point to,
// in its "bad data" message, to a value of their type.
var expecting = map[string]func() any{
	"ref to schema object":         func() any { return new(openapi3.Schema) },
	"ref to parameter object":      func() any { return new(openapi3.Parameter) },
	"ref to response object":       func() any { return new(openapi3.Response) },
	"ref to requestBody object":    func() any { return new(openapi3.RequestBody) },
	"ref to header object":         func() any { return new(openapi3.Header) },
	"ref to example object":        func() any { return new(openapi3.Example) },
	"ref to link object":           func() any { return new(openapi3.Link) },
	"ref to securityScheme object": func() any { return new(openapi3.SecurityScheme) },
	"ref to callback object":       func() any { return new(openapi3.Callback) },
	"callback object":              func() any { return new(openapi3.Callback) },
	"pathItem object":              func() any { return new(openapi3.PathItem) },
}

// badData matches kin-openapi's message for a $ref target of the wrong
// shape.
var badData = regexp.MustCompile(`bad data in "(?:[^"\\]|\\.)*" \(expecting ([^)]*)\)`)

// targetErrors says what is wrong with the target of a $ref written in
// file, when kin-openapi only says that it has the wrong shape: decoding
// the target as what it should be names the offending field and position.
func (l *loader) targetErrors(file, ref, msg string) []*Error {
	m := badData.FindStringSubmatch(msg)
	if m == nil || expecting[m[1]] == nil {
		return nil
	}
	var from string
	for k, src := range l.files {
		if src.name == file {
			from = k
		}
	}
	filePart, frag, _ := strings.Cut(ref, "#")
	target := from
	if filePart != "" {
		target = path.Clean(path.Join(path.Dir(from), filePart))
	}
	src := l.files[target]
	if src == nil || src.tree() == nil {
		return nil
	}
	node := src.itemAt(frag)
	if node == nil {
		return nil
	}
	var les *yaml.LoadErrors
	if err := node.Decode(expecting[m[1]]()); !errors.As(err, &les) {
		return nil
	}
	var out []*Error
	for _, e := range les.Errors {
		ptr := nodePointer(src.tree(), e.Mark.Line, e.Mark.Column)
		msg := e.Message
		if i := strings.LastIndex(msg, " in /"); i >= 0 {
			msg = msg[:i]
		}
		out = append(out, &Error{File: src.name, Pointer: ptr, Line: e.Mark.Line, Col: e.Mark.Column, Msg: cleanDecodeMessage(msg)})
	}
	return out
}

// missing explains which part of a local $ref does not exist in the file
// named file.
func (l *loader) missing(file, ref string) string {
	src := l.root
	for _, s := range l.sources() {
		if s.name == file {
			src = s
		}
	}
	target := strings.TrimPrefix(ref, "#")
	if target != "" && !strings.HasPrefix(target, "/") {
		return "the part after # must be a JSON pointer starting with /"
	}
	found, _, _ := src.locate(target)
	toks := splitPointer(target)
	have := len(splitPointer(found))
	if found == target || have >= len(toks) {
		return "the target is not of the expected kind"
	}
	return fmt.Sprintf("%s has no %s", path.Base(src.name), joinPointer(toks[:have+1]))
}

// trimRefPrefix drops kin-openapi's "error resolving reference "…": " so
// the message does not repeat the ref.
func trimRefPrefix(msg string) string {
	if strings.HasPrefix(msg, "error resolving reference ") {
		if i := strings.Index(msg, `": `); i >= 0 {
			return msg[i+3:]
		}
	}
	return msg
}

// validate checks the document and records every problem, located.
// Problems Load works around are left to build, which warns about them.
func (l *loader) validate(doc *openapi3.T) {
	err := doc.Validate(l.ctx,
		openapi3.EnableMultiError(),
		openapi3.DisableExamplesValidation(),
		openapi3.DisableSchemaDefaultsValidation(),
		openapi3.DisableSchemaPatternValidation(),
		openapi3.DisableSchemaFormatValidation(),
	)
	if err == nil {
		return
	}
	var leaves []leafError
	flattenValidation(err, nil, &leaves)
	for _, v := range leaves {
		var dup *openapi3.DuplicateOperationIDError
		var pathParams *openapi3.PathParametersError
		var extra *openapi3.ExtraSiblingFieldsError
		var version *openapi3.FieldVersionMismatchError
		var paramField *openapi3.ParameterFieldValidationError
		switch {
		case errors.As(v.err, &dup), errors.As(v.err, &pathParams):
			continue // build dedupes IDs and completes path parameters
		case errors.As(v.err, &extra):
			l.warnf(l.sourcePointer(v.ptr), "unknown fields ignored: %s", strings.Join(extra.Fields, ", "))
			continue
		case errors.As(v.err, &version):
			l.warnf(l.sourcePointer(v.ptr), "%s (this is an OpenAPI %s document); used as written", v.err.Error(), doc.OpenAPI)
			continue
		}
		ptr := l.sourcePointer(v.ptr)
		if errors.As(v.err, &paramField) {
			ptr = l.paramPointer(ptr, paramField.ParameterName, paramField.Field)
		}
		l.errs = append(l.errs, l.at(ptr, v.err.Error()))
	}
}

// leafError is a validation error with the pointer its context wrappers
// name.
type leafError struct {
	ptr string
	err error
}

// flattenValidation walks kin-openapi's context wrappers, building the
// JSON pointer they name, down to each underlying error.
func flattenValidation(err error, toks []string, out *[]leafError) {
	add := func(more ...string) []string { return slices.Concat(toks, more) }
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, x := range e {
			flattenValidation(x, toks, out)
		}
	case *openapi3.SectionValidationError:
		flattenValidation(e.Cause, add(e.Section), out)
	case *openapi3.PathValidationError:
		flattenValidation(e.Cause, add(e.Path), out)
	case *openapi3.OperationValidationError:
		flattenValidation(e.Cause, add(strings.ToLower(e.Method)), out)
	case *openapi3.WebhookValidationError:
		flattenValidation(e.Cause, add(e.Name), out)
	case *openapi3.ComponentValidationError:
		flattenValidation(e.Cause, add(componentSection(e.Section), e.Name), out)
	default:
		*out = append(*out, leafError{joinPointer(toks), err})
	}
}

// componentSection maps kin-openapi's names of component sections to the
// document's keys.
func componentSection(s string) string {
	switch s {
	case "schema":
		return "schemas"
	case "parameter":
		return "parameters"
	case "header":
		return "headers"
	case "request body":
		return "requestBodies"
	case "response":
		return "responses"
	case "security scheme":
		return "securitySchemes"
	case "example":
		return "examples"
	case "link":
		return "links"
	case "callback":
		return "callbacks"
	}
	return s
}

// sourcePointer maps a pointer into the (converted) document to the root
// file: for Swagger 2.0, components live elsewhere.
func (l *loader) sourcePointer(ptr string) string {
	if !l.swagger {
		return ptr
	}
	toks := splitPointer(ptr)
	if len(toks) >= 2 && toks[0] == "components" {
		switch toks[1] {
		case "schemas":
			return joinPointer(append([]string{"definitions"}, toks[2:]...))
		case "parameters", "requestBodies":
			return joinPointer(append([]string{"parameters"}, toks[2:]...))
		case "responses":
			return joinPointer(append([]string{"responses"}, toks[2:]...))
		case "securitySchemes":
			return joinPointer(append([]string{"securityDefinitions"}, toks[2:]...))
		}
	}
	return ptr
}

// paramPointer finds the parameter called name under the operation or
// path item at ptr and returns the pointer of its field; ptr when there is
// none.
func (l *loader) paramPointer(ptr, name, field string) string {
	for _, base := range []string{ptr, parentPointer(ptr)} {
		params := l.root.itemAt(base + "/parameters")
		if params == nil || params.Kind != yaml.SequenceNode {
			continue
		}
		for i, p := range params.Content {
			if _, v := mapValue(p, "name"); v != nil && scalarValue(v) == name {
				return fmt.Sprintf("%s/parameters/%d/%s", base, i, field)
			}
		}
	}
	return ptr
}

// parentPointer drops the last token of ptr.
func parentPointer(ptr string) string {
	if i := strings.LastIndex(ptr, "/"); i >= 0 {
		return ptr[:i]
	}
	return ""
}

// checkJSON reports where data stops being JSON, or nil.
func checkJSON(data []byte) *Error {
	var v any
	err := json.Unmarshal(data, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := offsetPos(data, int(se.Offset))
		return &Error{Line: line, Col: col, Msg: "not JSON: " + se.Error()}
	}
	return &Error{Msg: "not JSON: " + err.Error()}
}

// offsetPos returns the 1-based line and column (in characters) of the
// byte just before offset, where a JSON syntax error is reported.
func offsetPos(data []byte, offset int) (line, col int) {
	offset = min(max(offset-1, 0), len(data))
	line, col = 1, 1
	for _, r := range string(data[:offset]) {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// swaggerDecodeError reports a Swagger 2.0 document that does not decode.
// The decoder does not say where; decoding the YAML tree into the same
// types usually does.
func (l *loader) swaggerDecodeError(err error) {
	var probe openapi2.T
	yerr := yaml.Unmarshal(l.root.data, &probe)
	var les *yaml.LoadErrors
	if errors.As(yerr, &les) && len(les.Errors) > 0 && les.Errors[0].Mark.Line > 0 {
		for _, e := range les.Errors {
			ptr := ""
			if t := l.root.tree(); t != nil {
				ptr = nodePointer(t, e.Mark.Line, e.Mark.Column)
			}
			l.errs = append(l.errs, &Error{File: l.file, Pointer: ptr, Line: e.Mark.Line, Col: e.Mark.Column, Msg: cleanDecodeMessage(e.Message)})
		}
		return
	}
	msg := strings.TrimPrefix(err.Error(), "failed to unmarshal data: ")
	msg = strings.TrimPrefix(msg, "yaml error: ")
	l.errs = append(l.errs, &Error{File: l.file, Msg: "not a valid Swagger 2.0 document: " + msg})
}

// nodePointer returns the pointer of the node of root that starts at line
// and col, or "".
func nodePointer(root *yaml.Node, line, col int) string {
	var found string
	var walk func(n *yaml.Node, toks []string) bool
	budget := 1 << 20
	walk = func(n *yaml.Node, toks []string) bool {
		budget--
		if n == nil || budget < 0 {
			return false
		}
		if n.Line == line && n.Column == col {
			found = joinPointer(toks)
			return true
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if walk(n.Content[i+1], append(toks, n.Content[i].Value)) {
					return true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				if walk(c, append(toks, strconv.Itoa(i))) {
					return true
				}
			}
		}
		return false
	}
	walk(root, nil)
	return found
}

// decodeMessage matches the YAML decoder's wording of a type mismatch.
var decodeMessage = regexp.MustCompile("^cannot (?:construct|unmarshal) !!(\\w+)(?: `([^`]*)`)? into (.+)$")

// cleanDecodeMessage rewords a type mismatch without Go type names.
func cleanDecodeMessage(msg string) string {
	m := decodeMessage.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := map[string]string{"seq": "a list", "map": "a mapping", "str": "the string", "int": "the number", "float": "the number", "bool": "the boolean", "null": "null", "binary": "binary data", "timestamp": "the time"}[m[1]]
	if got == "" {
		got = m[1]
	}
	if m[2] != "" && m[1] != "seq" && m[1] != "map" {
		got += " " + strconv.Quote(m[2])
	}
	want := "a value of another kind"
	switch t := m[3]; {
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map["), strings.Contains(t, "."):
		want = "an object"
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		want = "a number"
	case t == "bool":
		want = "a boolean"
	case t == "string":
		want = "a string"
	}
	return fmt.Sprintf("want %s, got %s", want, got)
}

// parseError reports a file that does not parse.
func parseError(file string, err error) *Error {
	if errors.Is(err, errEmpty) {
		return &Error{File: file, Msg: "the file is empty: not an OpenAPI or Swagger document"}
	}
	line, col, msg := yamlErrorPos(err)
	return &Error{File: file, Line: line, Col: col, Msg: "not YAML or JSON: " + msg}
}
