package mutate

import (
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

// FuzzCases: for any body and parameter schema, Cases does not panic, its
// cases are well formed, and every edit can be rendered.
func FuzzCases(f *testing.F) {
	f.Add([]byte(`{"type":"object","required":["a"],"properties":{"a":{"type":"integer","maximum":3},"b":{"type":"array","maxItems":1,"items":{"type":"string","format":"uuid"}}},"additionalProperties":false}`),
		[]byte(`{"type":"integer","format":"int32","minimum":1}`))
	f.Add([]byte(`{"oneOf":[{"type":"string","pattern":"^a+$"},{"type":"object","properties":{"x":{"enum":[1,2]}}}]}`), []byte(`{"type":"string","maxLength":2}`))
	f.Add([]byte(`{"type":["string","null"],"format":"date"}`), []byte(`{"type":"boolean"}`))
	f.Fuzz(func(t *testing.T, bodySrc, paramSrc []byte) {
		var body, param openapi3.Schema
		if json.Unmarshal(bodySrc, &body) != nil || json.Unmarshal(paramSrc, &param) != nil {
			return
		}
		params := []Param{{Name: "p", In: "query", Required: true, Schema: &param}, {Name: "h", In: "header", Schema: &param}}
		cases, err := Cases(params, &body, true, nil, valuegen.Options{})
		if err != nil {
			return
		}
		for _, cs := range cases {
			if cs.Expect != Reject4xx && cs.Expect != NoServerError {
				t.Fatalf("%s: expect %v", cs.Name, cs.Expect)
			}
			if cs.Edit != nil {
				_ = cs.Target.Gen.AppendJSON(nil, template.NewRand(1), cs.Edit)
			}
		}
	})
}
