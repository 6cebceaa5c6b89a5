package valuegen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
)

// strictFormats are format checkers independent of CheckFormat, built from
// kin-openapi's own optional validators and the standard library.
var strictFormats = map[string]openapi3.StringFormatValidator{
	"uuid":      openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC4122),
	"email":     openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
	"idn-email": openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail),
	"ipv4":      openapi3.NewIPValidator(true),
	"ipv6":      openapi3.NewIPValidator(false),
	"hostname":  openapi3.NewRegexpFormatValidator(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`),
	"time":      openapi3.NewRegexpFormatValidator(`^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$`),
	"uri":       openapi3.NewCallbackValidator(checkURI),
	"url":       openapi3.NewCallbackValidator(checkURI),
}

func checkURI(s string) error {
	u, err := url.ParseRequestURI(s)
	if err != nil {
		return err
	}
	if u.Scheme == "" || u.Host == "" {
		return errors.New("no scheme or host")
	}
	return nil
}

func loadDoc(t testing.TB, path string) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(openapi3.NewLoader().Context, openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return doc
}

func sortedNames(doc *openapi3.T) []string {
	var names []string
	for k := range doc.Components.Schemas {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func validate(s *openapi3.Schema, b []byte, v31, request bool) error {
	if !utf8.Valid(b) {
		return errors.New("invalid UTF-8")
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	opts := []openapi3.SchemaValidationOption{openapi3.MultiErrors(), openapi3.WithStringFormatValidators(strictFormats)}
	if request {
		opts = append(opts, openapi3.VisitAsRequest())
	}
	if v31 {
		opts = append(opts, openapi3.EnableJSONSchema2020())
	}
	return s.VisitJSON(v, opts...)
}

// TestValidAgainstSchema is the property test: for every schema of the
// test documents and many seeds, the generated JSON is valid for the
// schema according to kin-openapi's validator.
func TestValidAgainstSchema(t *testing.T) {
	for _, file := range []string{"testdata/schemas30.yaml", "testdata/schemas31.yaml"} {
		doc := loadDoc(t, file)
		v31 := strings.HasSuffix(file, "31.yaml")
		for _, name := range sortedNames(doc) {
			for _, request := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/request=%v", file, name, request), func(t *testing.T) {
					s := doc.Components.Schemas[name].Value
					g, err := Compile(s, Options{Request: request})
					if err != nil {
						t.Fatalf("Compile: %v", err)
					}
					r := template.NewRand(0)
					var buf []byte
					seen := map[string]bool{}
					for seed := uint64(0); seed < 300; seed++ {
						r.Seed(seed)
						buf = g.AppendJSON(buf[:0], r, nil)
						seen[string(buf)] = true
						if err := validate(s, buf, v31, request); err != nil {
							t.Fatalf("seed %d: %s\n%v", seed, buf, err)
						}
					}
					if len(seen) < 2 && !constantSchema[name] {
						t.Errorf("300 seeds gave %d distinct values", len(seen))
					}
				})
			}
		}
	}
}

// constantSchema lists the test schemas that have a single valid value.
var constantSchema = map[string]bool{"EnumPartlyInvalid": true, "Map": true, "EmptyOnly": true, "IntSingle": true, "Const": true, "ConstObj": true, "EmptyArray": true}

func TestAppendTextParsesAsValid(t *testing.T) {
	doc := loadDoc(t, "testdata/schemas30.yaml")
	for _, name := range sortedNames(doc) {
		s := doc.Components.Schemas[name].Value
		g, err := Compile(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		k := g.Nodes()[0].Kind
		if k != String && k != Integer && k != Number && k != Boolean {
			continue
		}
		t.Run(name, func(t *testing.T) {
			r := template.NewRand(0)
			var buf []byte
			for seed := uint64(0); seed < 200; seed++ {
				r.Seed(seed)
				buf = g.AppendText(buf[:0], r)
				var v any = string(buf)
				switch k {
				case Integer:
					n, err := strconv.ParseInt(string(buf), 10, 64)
					if err != nil {
						t.Fatalf("seed %d: %q: %v", seed, buf, err)
					}
					v = float64(n)
				case Number:
					f, err := strconv.ParseFloat(string(buf), 64)
					if err != nil {
						t.Fatalf("seed %d: %q: %v", seed, buf, err)
					}
					v = f
				case Boolean:
					b, err := strconv.ParseBool(string(buf))
					if err != nil {
						t.Fatalf("seed %d: %q: %v", seed, buf, err)
					}
					v = b
				}
				if err := s.VisitJSON(v, openapi3.WithStringFormatValidators(strictFormats)); err != nil {
					t.Fatalf("seed %d: %q: %v", seed, buf, err)
				}
			}
		})
	}
}

func compileJSON(t testing.TB, src string, o Options) (*Gen, *openapi3.Schema) {
	t.Helper()
	var s openapi3.Schema
	if err := json.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	g, err := Compile(&s, o)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	return g, &s
}

func nodeByPointer(t testing.TB, g *Gen, ptr string) int {
	t.Helper()
	for _, n := range g.Nodes() {
		if n.Pointer == ptr && !n.Alt {
			return n.ID
		}
	}
	t.Fatalf("no node %q", ptr)
	return -1
}

const editSchema = `{"type":"object","required":["id"],"properties":{
	"id":{"type":"integer","minimum":1,"maximum":9},
	"opt":{"type":"string","maxLength":3},
	"deep":{"type":"object","properties":{"list":{"type":"array","items":{"type":"object","properties":{"x":{"type":"boolean"}}}}}},
	"maybe":{"type":"string","nullable":true},
	"u":{"oneOf":[{"type":"string"},{"type":"object","properties":{"y":{"type":"integer"}}}]}
}}`

func TestEdits(t *testing.T) {
	g, _ := compileJSON(t, editSchema, Options{OptionalProb: -1})
	tests := []struct {
		name  string
		edit  func() *Edit
		check func(t *testing.T, out string)
	}{
		{"replace required", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/id"), Op: Replace, Raw: []byte(`"abc"`)} },
			func(t *testing.T, out string) { mustContain(t, out, `"id":"abc"`) }},
		{"replace optional forces it", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/opt"), Op: Replace, Raw: []byte(`12345`)} },
			func(t *testing.T, out string) { mustContain(t, out, `"opt":12345`) }},
		{"replace deep forces the path", func() *Edit {
			return &Edit{Node: nodeByPointer(t, g, "/deep/list/0/x"), Op: Replace, Raw: []byte(`"X"`)}
		}, func(t *testing.T, out string) { mustContain(t, out, `"deep":{"list":[{"x":"X"}`) }},
		{"replace nullable never null", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/maybe"), Op: Replace, Raw: []byte(`7`)} },
			func(t *testing.T, out string) { mustContain(t, out, `"maybe":7`) }},
		{"replace in union branch picks it", func() *Edit {
			for _, n := range g.Nodes() {
				if n.Pointer == "/u/y" {
					return &Edit{Node: n.ID, Op: Replace, Raw: []byte(`"Y"`)}
				}
			}
			t.Fatal("no /u/y")
			return nil
		}, func(t *testing.T, out string) { mustContain(t, out, `"u":{"y":"Y"}`) }},
		{"omit required", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/id"), Op: Omit} },
			func(t *testing.T, out string) { mustNotContain(t, out, `"id"`) }},
		{"omit root", func() *Edit { return &Edit{Node: 0, Op: Omit} },
			func(t *testing.T, out string) {
				if out != "" {
					t.Errorf("got %q, want empty", out)
				}
			}},
		{"omit array property", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/deep/list"), Op: Omit} },
			func(t *testing.T, out string) { mustNotContain(t, out, `"list"`) }},
		{"omit array item", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/deep/list/0"), Op: Omit} },
			func(t *testing.T, out string) { mustContain(t, out, `"list":[]`) }},
		{"repeat zero", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/deep/list"), Op: Repeat} },
			func(t *testing.T, out string) { mustContain(t, out, `"deep":{"list":[]}`) }},
		{"duplicate", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/id"), Op: Duplicate, Raw: []byte(`null`)} },
			func(t *testing.T, out string) {
				if !regexp.MustCompile(`"id":null,"id":[1-9]`).MatchString(out) {
					t.Errorf("no duplicate in %s", out)
				}
			}},
		{"extra", func() *Edit { return &Edit{Node: 0, Op: Extra, Key: `is"Admin`, Raw: []byte(`true`)} },
			func(t *testing.T, out string) { mustContain(t, out, `,"is\"Admin":true}`) }},
		{"repeat", func() *Edit { return &Edit{Node: nodeByPointer(t, g, "/deep/list"), Op: Repeat, N: 50} },
			func(t *testing.T, out string) {
				var v struct {
					Deep struct{ List []any } `json:"deep"`
				}
				if err := json.Unmarshal([]byte(out), &v); err != nil || len(v.Deep.List) != 50 {
					t.Errorf("want 50 items: %v %s", err, out)
				}
			}},
		{"none", func() *Edit { return &Edit{Node: 1} },
			func(t *testing.T, out string) {
				if !json.Valid([]byte(out)) {
					t.Errorf("invalid JSON %s", out)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.edit()
			for seed := uint64(0); seed < 50; seed++ {
				out := string(g.AppendJSON(nil, template.NewRand(seed), e))
				tt.check(t, out)
				if t.Failed() {
					t.Logf("seed %d: %s", seed, out)
					return
				}
			}
		})
	}
}

func mustContain(t *testing.T, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Errorf("%s does not contain %s", out, want)
	}
}

func mustNotContain(t *testing.T, out, bad string) {
	t.Helper()
	if strings.Contains(out, bad) {
		t.Errorf("%s contains %s", out, bad)
	}
}

func TestNodes(t *testing.T) {
	g, _ := compileJSON(t, `{"type":"object","required":["a/b"],"properties":{
		"a/b":{"type":"array","items":{"type":"string"}},
		"c~":{"type":["integer","null"]},
		"u":{"anyOf":[{"type":"string"},{"type":"boolean"}]}}}`, Options{})
	type row struct {
		Pointer  string
		Kind     Kind
		Required bool
		Nullable bool
		Alt      bool
		Parent   int
	}
	var got []row
	for i, n := range g.Nodes() {
		if n.ID != i || n.End <= n.ID || n.Schema == nil {
			t.Errorf("node %d: bad ID/End/Schema: %+v", i, n)
		}
		got = append(got, row{n.Pointer, n.Kind, n.Required, n.Nullable, n.Alt, n.Parent})
	}
	want := []row{
		{"", Object, false, false, false, -1},
		{"/a~1b", Array, true, false, false, 0},
		{"/a~1b/0", String, false, false, false, 1},
		{"/c~0", Integer, false, true, false, 0},
		{"/u", Any, false, false, false, 0},
		{"/u", String, false, false, true, 4},
		{"/u", Boolean, false, false, true, 4},
	}
	if d := diffRows(got, want); d != "" {
		t.Error(d)
	}
}

func diffRows[T comparable](got, want []T) string {
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("got  %+v\nwant %+v", got, want)
}

func TestDeterministic(t *testing.T) {
	doc := loadDoc(t, "testdata/schemas30.yaml")
	for _, name := range []string{"Pet", "Extended", "Animal", "Tree", "PatternSKU"} {
		s := doc.Components.Schemas[name].Value
		g1, err := Compile(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		g2, err := Compile(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for seed := uint64(0); seed < 20; seed++ {
			a := g1.AppendJSON(nil, template.NewRand(seed), nil)
			b := g2.AppendJSON(nil, template.NewRand(seed), nil)
			if !bytes.Equal(a, b) {
				t.Fatalf("%s seed %d: %s != %s", name, seed, a, b)
			}
		}
	}
}

func TestRecursionDepth(t *testing.T) {
	doc := loadDoc(t, "testdata/schemas30.yaml")
	for _, tt := range []struct {
		name  string
		depth int
	}{{"Tree", 2}, {"Tree", 6}, {"LinkedList", 3}, {"Expr", 4}} {
		s := doc.Components.Schemas[tt.name].Value
		g, err := Compile(s, Options{MaxDepth: tt.depth, OptionalProb: 1, MaxItems: 1})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, n := range g.Nodes() {
			if d := strings.Count(n.Pointer, "/"); d > tt.depth+2 {
				t.Errorf("%s depth %d: node %q is too deep", tt.name, tt.depth, n.Pointer)
			}
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"lookahead pattern", `{"type":"string","pattern":"^(?=a)a$"}`, "pattern"},
		{"pattern and length", `{"type":"string","pattern":"^a{2}$","minLength":3}`, "cannot be honoured"},
		{"max below min", `{"type":"string","minLength":5,"maxLength":2}`, "maxLength"},
		{"empty integer range", `{"type":"integer","minimum":1.2,"maximum":1.8}`, "no integer"},
		{"empty multiple", `{"type":"integer","minimum":1,"maximum":6,"multipleOf":7}`, "multiple"},
		{"allOf type conflict", `{"allOf":[{"type":"string"},{"type":"integer"}]}`, "conflicting"},
		{"not", `{"type":"string","not":{"enum":["a"]}}`, `"not"`},
		{"enum none valid", `{"type":"integer","enum":["a","b"]}`, "enum"},
		{"required forbidden", `{"allOf":[{"type":"object","additionalProperties":false},{"required":["x"]}]}`, "forbidden"},
		{"unique too few", `{"type":"array","uniqueItems":true,"minItems":3,"items":{"type":"boolean"}}`, "uniqueItems"},
		{"maxProperties", `{"type":"object","maxProperties":1,"required":["a","b"],"properties":{"a":{},"b":{}}}`, "maxProperties"},
		{"format too short", `{"type":"string","format":"uuid","maxLength":10}`, "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s openapi3.Schema
			if err := json.Unmarshal([]byte(tt.schema), &s); err != nil {
				t.Fatal(err)
			}
			_, err := Compile(&s, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestRequiredRecursionFails(t *testing.T) {
	s := &openapi3.Schema{Type: &openapi3.Types{"object"}, Required: []string{"self"}}
	s.Properties = openapi3.Schemas{"self": {Value: s}}
	_, err := Compile(s, Options{})
	if err == nil || !strings.Contains(err.Error(), "recursion") {
		t.Fatalf("err = %v, want a recursion error", err)
	}
	opt := &openapi3.Schema{Type: &openapi3.Types{"object"}}
	opt.Properties = openapi3.Schemas{"self": {Value: opt}}
	if _, err := Compile(opt, Options{}); err != nil {
		t.Fatalf("optional recursion: %v", err)
	}
}

func TestJSONEscaping(t *testing.T) {
	g, s := compileJSON(t, `{"type":"string","pattern":"^[\\x00-\\x1f\"\\\\\\x{2028}é]{5,10}$"}`, Options{})
	for seed := uint64(0); seed < 200; seed++ {
		b := g.AppendJSON(nil, template.NewRand(seed), nil)
		if err := validate(s, b, false, false); err != nil {
			t.Fatalf("seed %d: %q: %v", seed, b, err)
		}
	}
}

func TestCheckFormat(t *testing.T) {
	tests := []struct {
		format, value string
		valid, known  bool
	}{
		{"uuid", "123e4567-e89b-42d3-a456-426614174000", true, true},
		{"uuid", "123e4567-e89b-42d3-a456-42661417400g", false, true},
		{"date", "2024-02-29", true, true},
		{"date", "2023-02-29", false, true},
		{"date", "2026-13-45", false, true},
		{"date-time", "2024-01-02T03:04:05.5+01:00", true, true},
		{"date-time", "2024-01-02 03:04:05", false, true},
		{"time", "23:59:59Z", true, true},
		{"time", "24:00:00Z", false, true},
		{"email", "a@example.com", true, true},
		{"email", "a.example.com", false, true},
		{"ipv4", "10.0.0.1", true, true},
		{"ipv4", "256.1.1.1", false, true},
		{"ipv4", "01.2.3.4", false, true},
		{"ipv6", "2001:db8::1", true, true},
		{"ipv6", "10.0.0.1", false, true},
		{"uri", "https://example.com/x", true, true},
		{"uri", "example.com/x", false, true},
		{"hostname", "api.example.com", true, true},
		{"hostname", "-bad.example.com", false, true},
		{"byte", "aGVsbG8=", true, true},
		{"byte", "!!", false, true},
		{"password", "anything", true, false},
	}
	for _, tt := range tests {
		valid, known := CheckFormat(tt.format, tt.value)
		if valid != tt.valid || known != tt.known {
			t.Errorf("CheckFormat(%q, %q) = %v, %v; want %v, %v", tt.format, tt.value, valid, known, tt.valid, tt.known)
		}
	}
}

func TestGeneratedFormatsPassCheckFormat(t *testing.T) {
	for name, spec := range formatSpecs {
		r := template.NewRand(3)
		for n := spec.lo; n <= min(spec.hi, spec.lo+80); n++ {
			if !spec.lengthOK(n) {
				continue
			}
			for i := 0; i < 20; i++ {
				b := spec.gen(nil, r, n)
				if utf8.RuneCount(b) != n {
					t.Fatalf("%s: asked %d chars, got %q", name, n, b)
				}
				if ok, _ := CheckFormat(name, string(b)); !ok {
					t.Fatalf("%s: %q fails CheckFormat", name, b)
				}
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	doc := loadDoc(t, "testdata/schemas30.yaml")
	for _, name := range []string{"Pet", "Extended", "Animal", "Tree", "PatternSKU", "Tags", "NumberCents", "MinProps", "StringOrInt"} {
		s := doc.Components.Schemas[name].Value
		g, err := Compile(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		r := template.NewRand(1)
		buf := make([]byte, 0, 1<<20)
		last := len(g.Nodes()) - 1
		edits := []*Edit{nil, {Node: last, Op: Replace, Raw: []byte(`"x"`)}, {Node: last, Op: Omit},
			{Node: last, Op: Duplicate, Raw: []byte(`1`)}, {Node: 0, Op: Extra, Key: "k\"", Raw: []byte(`1`)}, {Node: 0, Op: Repeat, N: 20}}
		for _, e := range edits {
			if a := testing.AllocsPerRun(200, func() { buf = g.AppendJSON(buf[:0], r, e) }); a != 0 {
				t.Errorf("%s: AppendJSON with %+v allocates %.1f times per run", name, e, a)
			}
		}
		if a := testing.AllocsPerRun(500, func() { buf = g.AppendText(buf[:0], r) }); a != 0 {
			t.Errorf("%s: AppendText allocates %.1f times per run", name, a)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	doc := loadDoc(b, "testdata/schemas30.yaml")
	for _, name := range []string{"Pet", "Extended", "Animal", "Tree", "PatternSKU", "UUID"} {
		s := doc.Components.Schemas[name].Value
		g, err := Compile(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			r := template.NewRand(1)
			buf := make([]byte, 0, 1<<16)
			b.ReportAllocs()
			for b.Loop() {
				buf = g.AppendJSON(buf[:0], r, nil)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	doc := loadDoc(b, "testdata/schemas30.yaml")
	s := doc.Components.Schemas["Pet"].Value
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(s, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestUnionBranchesKept(t *testing.T) {
	for file, names := range map[string][]string{
		"testdata/schemas30.yaml": {"Animal", "AnimalNoMapping", "StringOrInt", "AnyShape", "PropsWithOneOf", "Expr"},
		"testdata/schemas31.yaml": {"StringOrNumber"},
	} {
		doc := loadDoc(t, file)
		for _, name := range names {
			g, err := Compile(doc.Components.Schemas[name].Value, Options{})
			if err != nil {
				t.Fatal(err)
			}
			alts := 0
			for _, n := range g.Nodes() {
				if n.Alt && n.Parent == 0 {
					alts++
				}
			}
			if alts != 2 {
				t.Errorf("%s: %d branches at the root, want 2", name, alts)
			}
		}
	}
	// Overlapping oneOf branches: only the one that matches exactly one
	// branch survives.
	g, _ := compileJSON(t, `{"oneOf":[{"type":"number"},{"type":"integer"}]}`, Options{})
	var kinds []Kind
	for _, n := range g.Nodes()[1:] {
		kinds = append(kinds, n.Kind)
	}
	if !slices.Equal(kinds, []Kind{Number}) {
		t.Errorf("branches %v, want [number]", kinds)
	}
}

// TestConcurrentUse: one Gen, many goroutines with their own Rand; each
// gets exactly what a lone caller with the same seed gets (run with -race).
func TestConcurrentUse(t *testing.T) {
	doc := loadDoc(t, "testdata/schemas30.yaml")
	g, err := Compile(doc.Components.Schemas["Pet"].Value, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]byte, 8)
	for i := range want {
		want[i] = g.AppendJSON(nil, template.NewRand(uint64(i)), nil)
	}
	errs := make(chan error, len(want))
	for i := range want {
		go func() {
			r := template.NewRand(uint64(i))
			var buf []byte
			for n := 0; n < 200; n++ {
				r.Seed(uint64(i))
				buf = g.AppendJSON(buf[:0], r, nil)
				if !bytes.Equal(buf, want[i]) {
					errs <- fmt.Errorf("goroutine %d: %s != %s", i, buf, want[i])
					return
				}
			}
			errs <- nil
		}()
	}
	for range want {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestHugeMinimumRejected(t *testing.T) {
	var s openapi3.Schema
	src := `{"type":"array","minItems":1000,"items":{"type":"array","minItems":1000,"items":{"type":"integer"}}}`
	if err := json.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(&s, Options{}); err == nil || !strings.Contains(err.Error(), "smallest valid value") {
		t.Errorf("err = %v", err)
	}
}
