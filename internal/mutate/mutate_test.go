package mutate

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

func schema(t *testing.T, src string) *openapi3.Schema {
	t.Helper()
	var s openapi3.Schema
	if err := json.Unmarshal([]byte(src), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// want describes one expected case: its name, the target ("body /x",
// "query q"), the mutated value as it appears in the request, and Expect.
type want struct {
	name, target, value string
	expect              Expect
	detector            string
}

func targetLabel(cs Case) string {
	if cs.Target.In != "body" {
		return cs.Target.In + " " + cs.Target.Name
	}
	p := cs.Target.Gen.Nodes()[cs.Target.Node].Pointer
	if p == "" {
		return "body"
	}
	return "body " + p
}

// rendered is what the case puts in the request: the parameter text, or
// for a body edit the whole body generated with a fixed seed.
func rendered(cs Case) string {
	switch {
	case cs.Omit:
		return "<omitted>"
	case cs.ParamValue != nil:
		return string(cs.ParamValue)
	}
	return string(cs.Target.Gen.AppendJSON(nil, template.NewRand(7), cs.Edit))
}

func find(cases []Case, name, target string) []Case {
	var out []Case
	for _, cs := range cases {
		if cs.Name == name && targetLabel(cs) == target {
			out = append(out, cs)
		}
	}
	return out
}

// check asserts that each want is among the cases: same name and target,
// an Expect and a detector as given, and (for body edits) a rendered body
// that contains the value.
func check(t *testing.T, cases []Case, wants []want) {
	t.Helper()
	for _, w := range wants {
		found := false
		for _, cs := range find(cases, w.name, w.target) {
			r := rendered(cs)
			if cs.Target.In == "body" && !strings.Contains(r, w.value) || cs.Target.In != "body" && r != w.value {
				continue
			}
			found = true
			if cs.Expect != w.expect || cs.Detector != w.detector {
				t.Errorf("%s %s %q: expect %v detector %q, want %v %q (%s)", w.name, w.target, w.value, cs.Expect, cs.Detector, w.expect, w.detector, cs.Detail)
			}
		}
		if !found {
			t.Errorf("no case %s on %s with %q; have:\n%s", w.name, w.target, w.value, list(cases))
		}
	}
}

// absent asserts that no case has the name on the target.
func absent(t *testing.T, cases []Case, name, target string) {
	t.Helper()
	if cs := find(cases, name, target); len(cs) > 0 {
		t.Errorf("unexpected %s on %s: %s", name, target, cs[0].Detail)
	}
}

func list(cases []Case) string {
	var b strings.Builder
	for _, cs := range cases {
		b.WriteString("  " + cs.Name + " " + cs.Expect.String() + " " + cs.Detail + "\n")
	}
	return b.String()
}

func mustCases(t *testing.T, params []Param, body *openapi3.Schema, fams ...string) []Case {
	t.Helper()
	cs, err := Cases(params, body, true, fams, valuegen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestTypes(t *testing.T) {
	body := schema(t, `{"type":"object","required":["n"],"properties":{
		"n":{"type":"integer"},"s":{"type":"string","nullable":true},"b":{"type":"boolean"},
		"u":{"oneOf":[{"type":"string"},{"type":"integer"}]},"any":{}}}`)
	params := []Param{{Name: "limit", In: "query", Schema: schema(t, `{"type":"integer"}`)},
		{Name: "flag", In: "query", Schema: schema(t, `{"type":"boolean"}`)},
		{Name: "q", In: "query", Schema: schema(t, `{"type":"string"}`)}}
	cases := mustCases(t, params, body, FamilyTypes)
	check(t, cases, []want{
		{name: "types/string-for-integer", target: "query limit", value: "abc", expect: Reject4xx},
		{name: "types/float-for-integer", target: "query limit", value: "1.5", expect: Reject4xx},
		{name: "types/string-for-boolean", target: "query flag", value: "maybe", expect: Reject4xx},
		{name: "types/string-for-integer", target: "body /n", value: `"n":"abc"`, expect: Reject4xx},
		{name: "types/null-for-integer", target: "body /n", value: `"n":null`, expect: Reject4xx},
		{name: "types/number-for-string", target: "body /s", value: `"s":123`, expect: Reject4xx},
		{name: "types/string-for-boolean", target: "body /b", value: `"b":"true"`, expect: Reject4xx},
		{name: "types/boolean-for-union", target: "body /u", value: `"u":true`, expect: Reject4xx},
		{name: "types/array-for-object", target: "body", value: `[{`, expect: Reject4xx},
	})
	absent(t, cases, "types/null-for-string", "body /s")    // nullable
	absent(t, cases, "types/string-for-union", "body /u")   // a string is a valid branch
	absent(t, cases, "types/number-for-union", "body /u")   // so is an integer
	absent(t, cases, "types/string-for-integer", "query q") // any text is a string
	absent(t, cases, "types/number-for-any", "body /any")   // anything goes
	for _, cs := range cases {
		if cs.Expect != Reject4xx {
			t.Errorf("types case %s is %v", cs.Detail, cs.Expect)
		}
	}
}

func TestBoundaries(t *testing.T) {
	body := schema(t, `{"type":"object","properties":{
		"qty":{"type":"integer","minimum":1,"maximum":10},
		"ex":{"type":"number","minimum":0,"exclusiveMinimum":true,"maximum":5},
		"i32":{"type":"integer","format":"int32"},
		"step":{"type":"integer","multipleOf":5,"minimum":0,"maximum":100},
		"free":{"type":"number"}}}`)
	params := []Param{{Name: "page", In: "query", Schema: schema(t, `{"type":"integer","minimum":1}`)}}
	cases := mustCases(t, params, body, FamilyBoundaries)
	check(t, cases, []want{
		{name: "boundaries/min-1", target: "query page", value: "0", expect: Reject4xx},
		{name: "boundaries/at-min", target: "query page", value: "1", expect: NoServerError},
		{name: "boundaries/min-1", target: "body /qty", value: `"qty":0`, expect: Reject4xx}, // also "zero": deduplicated
		{name: "boundaries/negative", target: "body /qty", value: `"qty":-1`, expect: Reject4xx},
		{name: "boundaries/max+1", target: "body /qty", value: `"qty":11`, expect: Reject4xx},
		{name: "boundaries/at-max", target: "body /qty", value: `"qty":10`, expect: NoServerError},
		{name: "boundaries/exclusive-min", target: "body /ex", value: `"ex":0`, expect: Reject4xx},
		{name: "boundaries/max+1", target: "body /ex", value: `"ex":6`, expect: Reject4xx},
		{name: "boundaries/int32-overflow", target: "body /i32", value: `"i32":2147483648`, expect: Reject4xx},
		{name: "boundaries/huge", target: "body /i32", value: `"i32":1e308`, expect: Reject4xx},
		{name: "boundaries/huge", target: "body /free", value: `"free":1e308`, expect: NoServerError},
		{name: "boundaries/huge-integer", target: "body /free", value: `"free":99999999999999999999999`, expect: NoServerError},
	})
	var notMultiple []Case = find(cases, "boundaries/not-multiple", "body /step")
	if len(notMultiple) != 1 || notMultiple[0].Expect != Reject4xx {
		t.Fatalf("not-multiple: %v", notMultiple)
	}
	var v struct{ Step float64 }
	if err := json.Unmarshal([]byte(rendered(notMultiple[0])), &v); err != nil || int(v.Step)%5 == 0 {
		t.Errorf("not-multiple gave %v (%v)", v.Step, err)
	}
	absent(t, cases, "boundaries/zero", "body /ex") // minimum 0 < 1
}

func TestStrings(t *testing.T) {
	body := schema(t, `{"type":"object","properties":{
		"code":{"type":"string","minLength":3,"maxLength":5},
		"note":{"type":"string"},
		"kind":{"type":"string","enum":["a","b"]}}}`)
	params := []Param{{Name: "X-Tag", In: "header", Schema: schema(t, `{"type":"string","maxLength":4}`)}}
	cases := mustCases(t, params, body, FamilyStrings)
	check(t, cases, []want{
		{name: "strings/empty", target: "body /code", value: `"code":""`, expect: Reject4xx},
		{name: "strings/below-min-length", target: "body /code", value: `"code":"aa"`, expect: Reject4xx},
		{name: "strings/very-long", target: "body /code", value: strings.Repeat("a", 1000), expect: Reject4xx},
		{name: "strings/very-long", target: "body /note", value: strings.Repeat("a", 65536), expect: NoServerError},
		{name: "strings/whitespace-only", target: "body /note", value: `"note":"   "`, expect: NoServerError},
		{name: "strings/whitespace-only", target: "header X-Tag", value: "   ", expect: NoServerError}, // trimmed by HTTP
	})
	for _, cs := range find(cases, "strings/above-max-length", "body /code") {
		var v struct{ Code string }
		if err := json.Unmarshal([]byte(rendered(cs)), &v); err != nil || len(v.Code) != 6 || cs.Expect != Reject4xx {
			t.Errorf("above-max-length: %q %v %v", v.Code, err, cs.Expect)
		}
	}
	absent(t, cases, "strings/empty", "body /note") // "" is valid there
	absent(t, cases, "strings/empty", "body /kind") // enums belong to the formats family
}

func TestFormats(t *testing.T) {
	body := schema(t, `{"type":"object","properties":{
		"id":{"type":"string","format":"uuid"},
		"day":{"type":"string","format":"date"},
		"ip":{"type":"string","format":"ipv4"},
		"mail":{"type":"string","format":"email"},
		"zip":{"type":"string","pattern":"^[0-9]{5}$"},
		"color":{"type":"string","enum":["red","green"]},
		"level":{"type":"integer","enum":[1,2,3]},
		"blob":{"type":"string","format":"binary"}}}`)
	cases := mustCases(t, nil, body, FamilyFormats)
	check(t, cases, []want{
		{name: "formats/uuid-wrong", target: "body /id", value: `"id":"not-a-uuid"`, expect: Reject4xx},
		{name: "formats/date-bad-month", target: "body /day", value: `"day":"2026-13-45"`, expect: Reject4xx},
		{name: "formats/date-bad-day", target: "body /day", value: `"day":"2026-02-30"`, expect: Reject4xx},
		{name: "formats/ipv4-octet-256", target: "body /ip", value: `"ip":"256.1.1.1"`, expect: Reject4xx},
		{name: "formats/email-no-at", target: "body /mail", value: `"mail":"barrage.example.com"`, expect: Reject4xx},
		{name: "formats/pattern-mismatch", target: "body /zip", value: `"zip":"A"`, expect: Reject4xx},
		{name: "formats/not-in-enum", target: "body /color", value: `"color":"barrage-not-in-enum"`, expect: Reject4xx},
		{name: "formats/enum-case", target: "body /color", value: `"color":"RED"`, expect: Reject4xx},
		{name: "formats/not-in-enum", target: "body /level", value: `"level":4`, expect: Reject4xx},
	})
	for _, tc := range []struct {
		name, target string
		formatOnly   bool
	}{
		{"formats/uuid-wrong", "body /id", true},
		{"formats/date-bad-day", "body /day", true},
		{"formats/not-in-enum", "body /color", false},
		{"formats/pattern-mismatch", "body /zip", false},
	} {
		for _, cs := range find(cases, tc.name, tc.target) {
			if cs.FormatOnly != tc.formatOnly {
				t.Errorf("%s: FormatOnly %v, want %v", cs.Detail, cs.FormatOnly, tc.formatOnly)
			}
		}
	}
	// The near miss of a uuid differs from a valid one in one character.
	for _, cs := range find(cases, "formats/uuid-one-char-off", "body /id") {
		var v struct{ ID string }
		if err := json.Unmarshal([]byte(rendered(cs)), &v); err != nil || len(v.ID) != 36 || v.ID[0] != 'g' {
			t.Errorf("uuid-one-char-off: %q", v.ID)
		}
	}
	for _, cs := range cases {
		if cs.Expect != Reject4xx {
			t.Errorf("formats case %s is %v", cs.Detail, cs.Expect)
		}
		if targetLabel(cs) == "body /blob" {
			t.Errorf("binary is not asserted: %s", cs.Detail)
		}
	}
}

func TestStructure(t *testing.T) {
	body := schema(t, `{"type":"object","required":["name","items"],"properties":{
		"id":{"type":"integer","readOnly":true},
		"name":{"type":"string"},
		"items":{"type":"array","maxItems":2,"items":{"type":"integer"}},
		"tags":{"type":"array","items":{"type":"string"},"uniqueItems":true},
		"addr":{"type":"object","additionalProperties":false,"properties":{"city":{"type":"string"}}}}}`)
	params := []Param{{Name: "id", In: "path", Required: true, Schema: schema(t, `{"type":"integer"}`)},
		{Name: "token", In: "header", Required: true, Schema: schema(t, `{"type":"string"}`)},
		{Name: "opt", In: "query", Schema: schema(t, `{"type":"string"}`)}}
	cases := mustCases(t, params, body, FamilyStructure)
	check(t, cases, []want{
		{name: "structure/missing-required", target: "path id", value: "<omitted>", expect: NoServerError},
		{name: "structure/missing-required", target: "header token", value: "<omitted>", expect: Reject4xx},
		{name: "structure/missing-body", target: "body", value: "", expect: Reject4xx},
		{name: "structure/deep-nesting-arrays", target: "body", value: strings.Repeat("[", 10000), expect: NoServerError},
		{name: "structure/missing-required", target: "body /name", value: `{"items":`, expect: Reject4xx},
		{name: "structure/mass-assignment", target: "body", value: `"id":`, expect: NoServerError},
		{name: "structure/mass-assignment", target: "body", value: `"isAdmin":true}`, expect: NoServerError},
		{name: "structure/extra-property", target: "body /addr", value: `"barrageExtra":"x"}`, expect: Reject4xx},
		{name: "structure/mass-assignment", target: "body /addr", value: `"role":"admin"}`, expect: Reject4xx},
		{name: "structure/duplicate-key", target: "body /name", value: `"name":123,"name":"`, expect: NoServerError},
		{name: "structure/empty-object", target: "body", value: `{}`, expect: Reject4xx},
		{name: "structure/duplicate-items", target: "body /tags", value: `"tags":["`, expect: Reject4xx},
	})
	absent(t, cases, "structure/missing-required", "query opt")
	for _, cs := range find(cases, "structure/above-max-items", "body /items") {
		var v struct{ Items []int }
		if err := json.Unmarshal([]byte(rendered(cs)), &v); err != nil || len(v.Items) != 3 || cs.Expect != Reject4xx {
			t.Errorf("above-max-items: %d items, %v, %v", len(v.Items), err, cs.Expect)
		}
	}
	for _, cs := range find(cases, "structure/huge-array", "body /tags") {
		var v struct{ Tags []string }
		if err := json.Unmarshal([]byte(rendered(cs)), &v); err != nil || len(v.Tags) != 10000 || cs.Expect != NoServerError {
			t.Errorf("huge-array: %d items, %v, %v", len(v.Tags), err, cs.Expect)
		}
	}
	if cs := find(cases, "structure/missing-body", "body"); len(cs) != 1 || rendered(cs[0]) != "" {
		t.Errorf("missing-body renders %q", rendered(cs[0]))
	}
}

func TestEncoding(t *testing.T) {
	body := schema(t, `{"type":"object","properties":{"note":{"type":"string"},"code":{"type":"string","pattern":"^[a-z]+$"}}}`)
	params := []Param{{Name: "q", In: "query", Schema: schema(t, `{"type":"string"}`)},
		{Name: "X-Note", In: "header", Schema: schema(t, `{"type":"string"}`)}}
	cases := mustCases(t, params, body, FamilyEncoding)
	check(t, cases, []want{
		{name: "encoding/nul", target: "body /note", value: `\u0000`, expect: NoServerError},
		{name: "encoding/nul", target: "body /code", value: `\u0000`, expect: Reject4xx},
		{name: "encoding/invalid-utf8", target: "body /note", value: "\xff\xfe", expect: Reject4xx},
		{name: "encoding/zero-width", target: "body /note", value: "\u200b", expect: NoServerError},
		{name: "encoding/lone-surrogate", target: "body /note", value: `"\ud800"`, expect: NoServerError},
	})
	for _, cs := range cases {
		if cs.Target.In == "header" && hasCTL(string(cs.ParamValue)) {
			t.Errorf("header value with control characters: %s", cs.Detail)
		}
		if cs.Target.In == "query" && cs.Name == "encoding/invalid-utf8" && cs.Expect != NoServerError {
			t.Errorf("invalid UTF-8 in a query parameter is not decidable: %s", cs.Detail)
		}
	}
	if len(find(cases, "encoding/nul", "header X-Note")) != 0 || len(find(cases, "encoding/zero-width", "header X-Note")) != 1 {
		t.Error("header cases: want zero-width, not nul")
	}
}

func TestInjection(t *testing.T) {
	body := schema(t, `{"type":"object","properties":{"name":{"type":"string"},"id":{"type":"string","format":"uuid"},"short":{"type":"string","maxLength":3}}}`)
	params := []Param{{Name: "id", In: "path", Required: true, Schema: schema(t, `{"type":"integer"}`)},
		{Name: "search", In: "query", Schema: schema(t, `{"type":"string"}`)}}
	cases := mustCases(t, params, body, FamilyInjection)
	check(t, cases, []want{
		{name: "injection/sql-tautology", target: "query search", value: `' OR '1'='1`, expect: NoServerError, detector: DetectorSQL},
		{name: "injection/sql-numeric-tautology", target: "path id", value: `1 OR 1=1`, expect: Reject4xx, detector: DetectorSQL},
		{name: "injection/cmd-subshell", target: "body /name", value: `"name":"$(id)"`, expect: NoServerError, detector: DetectorCmd},
		{name: "injection/path-traversal", target: "body /name", value: `../../../../etc/passwd`, expect: NoServerError, detector: DetectorPath},
		{name: "injection/template-jinja", target: "body /name", value: `{{7*7}}`, expect: NoServerError, detector: DetectorTemplate},
		{name: "injection/nosql-operator-object", target: "body /name", value: `"name":{"$ne": null}`, expect: Reject4xx, detector: DetectorNoSQL},
		{name: "injection/sql-tautology", target: "body /short", value: `' OR '1'='1`, expect: Reject4xx, detector: DetectorSQL},
	})
	absent(t, cases, "injection/sql-tautology", "body /id") // a uuid is constrained
	xss := find(cases, "injection/xss-script", "body /name")
	if len(xss) != 1 || !strings.Contains(rendered(xss[0]), "barrage-xss-"+xssToken("body /name", "xss-script")) {
		t.Fatalf("xss probe: %v", xss)
	}
	if other := find(cases, "injection/xss-script", "query search"); len(other) != 1 || strings.Contains(rendered(other[0]), xssToken("body /name", "xss-script")) {
		t.Error("xss tokens must differ between targets")
	}
}

func TestCasesDeterministic(t *testing.T) {
	_, _, ops := loadOperations(t, "testdata/petstore30.yaml")
	for _, o := range ops {
		a, err := Cases(o.params, o.body, o.bodyRequired, nil, genOpts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Cases(o.params, o.body, o.bodyRequired, nil, genOpts)
		if err != nil {
			t.Fatal(err)
		}
		ka, kb := caseKeys(a), caseKeys(b)
		if d := cmp.Diff(ka, kb); d != "" {
			t.Errorf("%s: two runs differ:\n%s", o.name, d)
		}
	}
}

func TestFamiliesFilterAndCaps(t *testing.T) {
	if _, err := Cases(nil, nil, false, []string{"nope"}, valuegen.Options{}); err == nil {
		t.Error("unknown family accepted")
	}
	props := map[string]any{}
	for i := 0; i < 30; i++ {
		props[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = map[string]any{"type": "string"}
	}
	src, _ := json.Marshal(map[string]any{"type": "object", "properties": props})
	body := schema(t, string(src))
	cases := mustCases(t, nil, body, FamilyInjection, FamilyTypes)
	perTarget := map[string]int{}
	for _, cs := range cases {
		if cs.Family != FamilyInjection && cs.Family != FamilyTypes {
			t.Fatalf("family %s not asked for", cs.Family)
		}
		perTarget[cs.Family+targetLabel(cs)]++
	}
	for k, n := range perTarget {
		if n > capInjectionPerTarget {
			t.Errorf("%s: %d cases", k, n)
		}
	}
	if got := len(find(cases, "injection/sql-tautology", "body /a")); got != 1 {
		t.Errorf("sql-tautology on /a: %d", got)
	}
	if cases[0].Family != FamilyTypes {
		t.Errorf("families out of order: first is %s", cases[0].Family)
	}
}

func TestCompileError(t *testing.T) {
	_, err := Cases(nil, schema(t, `{"type":"string","pattern":"(?=x)"}`), true, nil, valuegen.Options{})
	if err == nil || !strings.Contains(err.Error(), "request body") {
		t.Errorf("err = %v", err)
	}
	_, err = Cases([]Param{{Name: "p", In: "query", Schema: schema(t, `{"type":"string","minLength":3,"maxLength":1}`)}}, nil, false, nil, valuegen.Options{})
	if err == nil || !strings.Contains(err.Error(), `query parameter "p"`) {
		t.Errorf("err = %v", err)
	}
}

func TestParamWithoutSchema(t *testing.T) {
	cases := mustCases(t, []Param{{Name: "filter", In: "query", Required: true}}, nil)
	if len(cases) != 1 || cases[0].Name != "structure/missing-required" || !cases[0].Omit || cases[0].Target.Gen != nil {
		t.Errorf("got %s", list(cases))
	}
}

// caseKeys renders cases for comparison (go-cmp is slow on 64 KiB values),
// with a hash of the raw bytes.
func caseKeys(cases []Case) []string {
	var out []string
	for _, cs := range cases {
		h := fnv.New64a()
		h.Write(cs.ParamValue)
		e := ""
		if cs.Edit != nil {
			h.Write(cs.Edit.Raw)
			e = fmt.Sprintf("%d/%v/%s/%d", cs.Edit.Node, cs.Edit.Op, cs.Edit.Key, cs.Edit.N)
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%d|%v|%s|%v|%s|%s|%x", cs.Family, cs.Name, cs.Target.In+" "+cs.Target.Name, cs.Target.Node,
			cs.Omit, e, cs.Expect, cs.Detail, cs.Detector, h.Sum64()))
	}
	return out
}

func BenchmarkCases(b *testing.B) {
	_, _, ops := loadOperations(b, "testdata/petstore30.yaml")
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Cases(o.params, o.body, o.bodyRequired, nil, genOpts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
