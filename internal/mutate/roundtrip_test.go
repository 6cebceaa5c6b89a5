package mutate

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

// operation is one operation of a test document, with its generators.
type operation struct {
	name         string
	method, path string
	params       []Param
	paramGens    []*valuegen.Gen
	body         *openapi3.Schema
	bodyGen      *valuegen.Gen
	bodyRequired bool
	v31          bool
}

var genOpts = valuegen.Options{}

func loadOperations(t testing.TB, file string) (*openapi3.T, routers.Router, []*operation) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	var ops []*operation
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			o := &operation{name: op.OperationID, method: method, path: path, v31: strings.HasPrefix(doc.OpenAPI, "3.1")}
			for _, pr := range op.Parameters {
				p := pr.Value
				o.params = append(o.params, Param{Name: p.Name, In: p.In, Required: p.Required, Schema: p.Schema.Value})
				g, err := valuegen.Compile(p.Schema.Value, genOpts)
				if err != nil {
					t.Fatal(err)
				}
				o.paramGens = append(o.paramGens, g)
			}
			if rb := op.RequestBody; rb != nil {
				o.body = rb.Value.Content.Get("application/json").Schema.Value
				o.bodyRequired = rb.Value.Required
				bo := genOpts
				bo.Request = true
				if o.bodyGen, err = valuegen.Compile(o.body, bo); err != nil {
					t.Fatal(err)
				}
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].name < ops[j].name })
	return doc, router, ops
}

// buildRequest puts an operation's request together with one case applied
// (cs may be nil), as the request builder would: parameters escaped for
// their place, the body as JSON.
func buildRequest(o *operation, cs *Case, seed uint64) (*http.Request, []byte) {
	r := template.NewRand(seed)
	path := o.path
	query := url.Values{}
	header := http.Header{}
	var cookies []string
	for i, p := range o.params {
		targeted := cs != nil && cs.Target.In == p.In && cs.Target.Name == p.Name
		var v string
		switch {
		case targeted && cs.Omit:
			if p.In == "path" {
				path = strings.ReplaceAll(path, "{"+p.Name+"}", "")
			}
			continue
		case targeted:
			v = string(cs.ParamValue)
		case !p.Required && r.IntN(2) == 0:
			continue
		default:
			v = string(o.paramGens[i].AppendText(nil, r))
		}
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(v))
		case "query":
			query.Add(p.Name, v)
		case "header":
			header.Set(p.Name, v)
		case "cookie":
			cookies = append(cookies, p.Name+"="+v)
		}
	}
	var body []byte
	if o.body != nil {
		if cs != nil && cs.Edit != nil {
			body = cs.Target.Gen.AppendJSON(nil, r, cs.Edit)
		} else {
			body = o.bodyGen.AppendJSON(nil, r, nil)
		}
	}
	u := "http://example.test" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequest(strings.ToUpper(o.method), u, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header = header
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if o.body != nil && len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, body
}

// strictFormats: the formats the catalogue treats as assertions, checked
// here by kin-openapi's own optional validators and the standard library
// rather than by valuegen.CheckFormat.
var strictFormats = map[string]openapi3.StringFormatValidator{
	"uuid":  openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562),
	"email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
	"ipv4":  openapi3.NewIPValidator(true),
	"ipv6":  openapi3.NewIPValidator(false),
	"hostname": openapi3.NewCallbackValidator(func(s string) error {
		if len(s) > 253 || !hostnameRE.MatchString(s) {
			return fmt.Errorf("not a hostname")
		}
		return nil
	}),
	"byte": openapi3.NewCallbackValidator(func(s string) error {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if _, err := enc.DecodeString(s); err == nil {
				return nil
			}
		}
		return fmt.Errorf("not base64")
	}),
	"uri": openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.ParseRequestURI(s)
		if err != nil {
			return err
		}
		if u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("no scheme or host")
		}
		return nil
	}),
}

var hostnameRE = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)

// violation validates a request against the document and returns why it
// violates the spec, or "" when it conforms. A JSON body that is not UTF-8
// violates RFC 8259 even though kin-openapi's decoder accepts it.
func violation(router routers.Router, req *http.Request, body []byte) string {
	if !utf8.Valid(body) {
		return "body is not UTF-8"
	}
	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		return "no route: " + err.Error()
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidators(strictFormats)}}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return err.Error()
	}
	return ""
}

var testDocs = []string{"testdata/petstore30.yaml", "testdata/things31.yaml"}

// TestRoundTrip checks every Reject4xx case of the test documents against
// kin-openapi's request validator: the mutated request must violate the
// spec, for several seeds, while the unmutated request conforms.
func TestRoundTrip(t *testing.T) {
	for _, file := range testDocs {
		_, router, ops := loadOperations(t, file)
		for _, o := range ops {
			t.Run(file+"/"+o.name, func(t *testing.T) {
				for seed := uint64(0); seed < 40; seed++ {
					req, body := buildRequest(o, nil, seed)
					if v := violation(router, req, body); v != "" {
						t.Fatalf("unmutated request (seed %d) does not conform: %s\n%s %s\n%s", seed, v, req.Method, req.URL, body)
					}
				}
				cases, err := Cases(o.params, o.body, o.bodyRequired, nil, genOpts)
				if err != nil {
					t.Fatal(err)
				}
				rejects := 0
				for i := range cases {
					cs := &cases[i]
					if cs.Expect != Reject4xx {
						continue
					}
					rejects++
					for seed := uint64(0); seed < 5; seed++ {
						req, body := buildRequest(o, cs, seed)
						if v := violation(router, req, body); v == "" {
							t.Errorf("%s [%s]: request conforms (seed %d) but the case expects 4xx\n%s %s\n%s", cs.Name, cs.Detail, seed, req.Method, req.URL, body)
							break
						}
					}
				}
				if rejects == 0 {
					t.Error("no Reject4xx case")
				}
			})
		}
	}
}

// TestCaseShape checks the invariants of every case of the test documents.
func TestCaseShape(t *testing.T) {
	for _, file := range testDocs {
		_, _, ops := loadOperations(t, file)
		for _, o := range ops {
			cases, err := Cases(o.params, o.body, o.bodyRequired, nil, genOpts)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			lastFam := -1
			for _, cs := range cases {
				set := 0
				if cs.ParamValue != nil {
					set++
				}
				if cs.Omit {
					set++
				}
				if cs.Edit != nil {
					set++
				}
				if set != 1 {
					t.Errorf("%s %s: %d of ParamValue/Omit/Edit set", o.name, cs.Name, set)
				}
				fam := slices.Index(Families(), cs.Family)
				if fam < lastFam {
					t.Errorf("%s: %s out of family order", o.name, cs.Name)
				}
				lastFam = fam
				if !strings.HasPrefix(cs.Name, cs.Family+"/") {
					t.Errorf("%s: name %q not in family %q", o.name, cs.Name, cs.Family)
				}
				if cs.Expect != Reject4xx && cs.Expect != NoServerError {
					t.Errorf("%s %s: expect %v", o.name, cs.Name, cs.Expect)
				}
				if (cs.Family == FamilyInjection) != (cs.Detector != "") {
					t.Errorf("%s %s: detector %q", o.name, cs.Name, cs.Detector)
				}
				if cs.Target.In == "body" && (cs.Edit == nil || cs.Target.Gen == nil || cs.Target.Node < 0) {
					t.Errorf("%s %s: body case without edit/gen/node", o.name, cs.Name)
				}
				if cs.Target.In != "body" && cs.Target.Node != -1 {
					t.Errorf("%s %s: param case with node %d", o.name, cs.Name, cs.Target.Node)
				}
				if cs.Detail == "" {
					t.Errorf("%s %s: no detail", o.name, cs.Name)
				}
				key := fmt.Sprintf("%s|%s|%s|%d|%q|%v|%+v", cs.Name, cs.Target.In, cs.Target.Name, cs.Target.Node, cs.ParamValue, cs.Omit, editKey(cs.Edit))
				if seen[key] {
					t.Errorf("%s: duplicate case %s", o.name, key)
				}
				seen[key] = true
			}
		}
	}
}

func editKey(e *valuegen.Edit) string {
	if e == nil {
		return ""
	}
	return fmt.Sprintf("%d/%v/%q/%s/%d", e.Node, e.Op, e.Raw, e.Key, e.N)
}
