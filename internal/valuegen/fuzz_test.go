package valuegen

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
)

// FuzzCompile: Compile never panics on any schema, and when a schema that
// kin-openapi accepts compiles, every generated value is valid for it.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"type":"string","pattern":"^[a-z]{2,5}(-\\d+)?$","maxLength":6}`,
		`{"type":"integer","minimum":-3,"maximum":3,"multipleOf":2,"exclusiveMaximum":true}`,
		`{"type":"number","multipleOf":0.25,"minimum":-1,"maximum":1}`,
		`{"type":"array","items":{"type":"string","enum":["a","b"]},"uniqueItems":true,"minItems":2}`,
		`{"type":"object","required":["a"],"properties":{"a":{"type":"string","format":"email"},"b":{"type":"boolean","nullable":true}},"additionalProperties":false}`,
		`{"allOf":[{"type":"object","properties":{"x":{"type":"integer"}}},{"required":["x"],"properties":{"x":{"maximum":0}}}]}`,
		`{"oneOf":[{"type":"string","format":"date"},{"type":"integer","format":"int32"}]}`,
		`{"anyOf":[{"type":"boolean"},{"type":"array","maxItems":0}]}`,
		`{"type":["string","null"],"format":"ipv4"}`,
		`{"type":"object","minProperties":3,"additionalProperties":{"type":"string","format":"uuid"}}`,
		`{"type":"string","format":"byte","minLength":3,"maxLength":9}`,
		`{"type":"string","pattern":"[\\x{1F600}-\\x{1F64F}]+","maxLength":3}`,
	} {
		f.Add([]byte(seed), uint64(1))
	}
	f.Fuzz(func(t *testing.T, src []byte, seed uint64) {
		var s openapi3.Schema
		if err := json.Unmarshal(src, &s); err != nil {
			return
		}
		g, err := Compile(&s, Options{})
		if err != nil {
			return
		}
		r := template.NewRand(seed)
		buf := make([]byte, 0, 256)
		for i := 0; i < 8; i++ {
			buf = g.AppendJSON(buf[:0], r, nil)
			if !json.Valid(buf) {
				t.Fatalf("invalid JSON %q", buf)
			}
			_ = g.AppendText(nil, r)
		}
		for _, n := range g.Nodes() { // edits never panic
			_ = g.AppendJSON(buf[:0], r, &Edit{Node: n.ID, Op: Replace, Raw: []byte("1")})
			_ = g.AppendJSON(buf[:0], r, &Edit{Node: n.ID, Op: Omit})
			_ = g.AppendJSON(buf[:0], r, &Edit{Node: n.ID, Op: Repeat, N: 2})
		}
		if s.Validate(context.Background(), openapi3.DisableExamplesValidation(), openapi3.DisableSchemaDefaultsValidation()) != nil {
			return // kin-openapi's validator is undefined on invalid schemas
		}
		r.Seed(seed)
		for i := 0; i < 8; i++ {
			buf = g.AppendJSON(buf[:0], r, nil)
			if err := kinValidate(&s, buf); err != nil {
				t.Fatalf("schema %s\nvalue %s\n%v", src, buf, err)
			}
		}
	})
}

// kinValidate is validate without the panics kin-openapi may have on odd
// schemas (those are its bugs, not ours).
func kinValidate(s *openapi3.Schema, b []byte) (err error) {
	defer func() {
		if recover() != nil {
			err = nil
		}
	}()
	return validate(s, b, false, false)
}
