package mutate

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

type target struct {
	Target
	param      *Param
	node       valuegen.Node    // body node; a parameter's root node (zero without a schema)
	root       *openapi3.Schema // body schema
	label      string           // "body /a/b", "query limit"
	underUnion bool             // a oneOf/anyOf branch lies on the way from the root
	union      bool             // the node is a union
}

func (t *target) isParam() bool { return t.param != nil }

func (t *target) schema() *openapi3.Schema { return t.node.Schema }

type caser struct {
	o            valuegen.Options
	bodyRequired bool
	bodyGen      *valuegen.Gen
	body         *openapi3.Schema
}

// value is a candidate value: JSON for the body, text for parameters.
type value struct {
	json, text []byte
}

// strVal is a string value. JSON escaping leaves invalid UTF-8 bytes as they are.
func strVal(s string) value { return value{json: quoteRaw(s), text: []byte(s)} }

// rawVal is a JSON value whose text form is the same bytes.
func rawVal(s string) value { return value{json: []byte(s), text: []byte(s)} }

func quoteRaw(s string) []byte {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, fmt.Sprintf(`\u%04x`, c)...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

type cand struct {
	name     string // after "family/"
	v        value
	detector string
	note     string // why it is interesting, for NoServerError details
}

// judged is a candidate's verdict.
type judged struct {
	invalid    bool   // the value violates the schema
	expect     Expect // after the rules of its place in the request
	why        string
	formatOnly bool
	skip       bool // cannot be sent in this place (header/cookie framing)
}

func (c *caser) judge(t *target, v value) judged {
	if t.isParam() {
		return judgeParam(t, v.text)
	}
	var vd verdict
	if t.underUnion {
		vd.why = c.wholeBodyInvalid(&valuegen.Edit{Node: t.Node, Op: valuegen.Replace, Raw: v.json})
	} else {
		vd = invalidJSON(t.schema(), v.json)
	}
	if vd.why == "" {
		return judged{expect: NoServerError}
	}
	return judged{invalid: true, expect: Reject4xx, why: vd.why, formatOnly: vd.formatOnly}
}

func judgeParam(t *target, text []byte) judged {
	s := string(text)
	switch t.In {
	case "header":
		if hasCTL(s) {
			return judged{skip: true}
		}
	case "cookie":
		if !cookieSafe(s) {
			return judged{skip: true}
		}
	}
	vd := paramInvalid(t.param, s)
	j := judged{invalid: vd.why != "", expect: NoServerError, why: vd.why, formatOnly: vd.formatOnly}
	if j.invalid {
		j.expect = Reject4xx
	}
	switch t.In {
	case "path":
		// An empty or slash-bearing segment may route elsewhere or be
		// redirected by path cleaning: not a decidable rejection.
		if s == "" || s == "." || s == ".." || strings.Contains(s, "/") {
			j.expect = NoServerError
		}
	case "header":
		// Header values lose surrounding whitespace; an empty header may
		// read as an absent one.
		if s == "" || strings.TrimSpace(s) != s {
			j.expect = NoServerError
		}
	}
	return j
}

func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// cookieSafe reports whether s holds only RFC 6265 cookie-octets.
func cookieSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}

func show(b []byte) string {
	const max = 48
	if len(b) <= max {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:max])), len(b))
}

func showJSON(b []byte) string {
	const max = 48
	if len(b) <= max && utf8.Valid(b) {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(string(b[:min(len(b), max)])), len(b))
}

// makeCase turns a value candidate into a case. keepValid keeps candidates
// that do not violate the schema (as NoServerError).
func (c *caser) makeCase(fam string, t *target, cd cand, keepValid bool) (Case, bool) {
	j := c.judge(t, cd.v)
	if j.skip || !j.invalid && !keepValid {
		return Case{}, false
	}
	cs := Case{Family: fam, Name: fam + "/" + cd.name, Target: t.Target, Expect: j.expect, Detector: cd.detector,
		FormatOnly: j.formatOnly && j.expect == Reject4xx}
	var shown string
	if t.isParam() {
		cs.ParamValue = cd.v.text
		shown = show(cd.v.text)
	} else {
		cs.Edit = &valuegen.Edit{Node: t.Node, Op: valuegen.Replace, Raw: cd.v.json}
		shown = showJSON(cd.v.json)
	}
	cs.Detail = t.label + ": " + shown
	switch {
	case j.invalid && j.expect == Reject4xx:
		cs.Detail += " (" + j.why + ")"
	case j.invalid:
		cs.Detail += " (" + j.why + "; a rejection is not decidable in the " + t.In + ")"
	case cd.note != "":
		cs.Detail += " (" + cd.note + ")"
	}
	return cs, true
}

func (c *caser) collect(fam string, t *target, cands []cand, keepValid bool) []Case {
	var out []Case
	seen := map[string]bool{}
	for _, cd := range cands {
		key := string(cd.v.json)
		if t.isParam() {
			key = string(cd.v.text)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		if cs, ok := c.makeCase(fam, t, cd, keepValid); ok {
			out = append(out, cs)
		}
	}
	return out
}

func (c *caser) forTarget(fam string, t *target) []Case {
	if t.isParam() && t.Gen == nil {
		if fam == FamilyStructure {
			return c.structureParam(t)
		}
		return nil
	}
	switch fam {
	case FamilyTypes:
		return c.types(t)
	case FamilyBoundaries:
		return c.boundaries(t)
	case FamilyStrings:
		return c.stringsFam(t)
	case FamilyFormats:
		return c.formats(t)
	case FamilyStructure:
		if t.isParam() {
			return c.structureParam(t)
		}
		return c.structureBody(t)
	case FamilyEncoding:
		return c.encoding(t)
	case FamilyInjection:
		return c.injection(t)
	}
	return nil
}

// ---- samples ----

// sampleJSON is a valid, non-null JSON value for the target (a fixed seed:
// the case list must be deterministic).
func (c *caser) sampleJSON(t *target) []byte {
	var b []byte
	for seed := uint64(1); seed <= 16; seed++ {
		if t.isParam() {
			b = t.Gen.AppendText(b[:0], template.NewRand(seed))
			return b
		}
		b = t.Gen.AppendNode(b[:0], template.NewRand(seed), t.Node)
		if string(b) != "null" {
			return b
		}
	}
	return b
}

// sampleString is a valid string value for a String target.
func (c *caser) sampleString(t *target) string {
	b := c.sampleJSON(t)
	if t.isParam() {
		return string(b)
	}
	var s string
	if json.Unmarshal(b, &s) != nil {
		return "a"
	}
	return s
}

func kindName(t *target) string {
	if t.union {
		return "union"
	}
	return t.node.Kind.String()
}

func isScalar(k valuegen.Kind) bool {
	return k == valuegen.String || k == valuegen.Integer || k == valuegen.Number || k == valuegen.Boolean
}

// ---- types ----

func (c *caser) types(t *target) []Case {
	k := t.node.Kind
	if t.isParam() {
		var cands []cand
		switch k {
		case valuegen.Integer:
			cands = []cand{{name: "string-for-integer", v: strVal("abc")}, {name: "float-for-integer", v: strVal("1.5")},
				{name: "boolean-for-integer", v: strVal("true")}, {name: "hex-for-integer", v: strVal("0x10")}}
		case valuegen.Number:
			cands = []cand{{name: "string-for-number", v: strVal("abc")}, {name: "comma-decimal-for-number", v: strVal("1,5")},
				{name: "boolean-for-number", v: strVal("true")}, {name: "nan-for-number", v: strVal("NaN")}}
		case valuegen.Boolean:
			cands = []cand{{name: "string-for-boolean", v: strVal("maybe")}, {name: "yes-for-boolean", v: strVal("yes")},
				{name: "number-for-boolean", v: strVal("2")}}
		}
		return c.collect(FamilyTypes, t, cands, false)
	}
	if t.node.Alt || k == valuegen.Any && !t.union {
		return nil
	}
	sample := c.sampleJSON(t)
	kn := kindName(t)
	str := cand{name: "string-for-" + kn, v: strVal("abc")}
	numStr := cand{name: "numeric-string-for-" + kn, v: strVal(string(sample))}
	num := cand{name: "number-for-" + kn, v: rawVal("123")}
	flt := cand{name: "float-for-" + kn, v: rawVal("1.5")}
	boo := cand{name: "boolean-for-" + kn, v: rawVal("true")}
	nul := cand{name: "null-for-" + kn, v: rawVal("null")}
	arr := cand{name: "array-for-" + kn, v: rawVal("[" + string(sample) + "]")}
	obj := cand{name: "object-for-" + kn, v: rawVal("{}")}
	var cands []cand
	switch {
	case t.union:
		cands = []cand{str, num, flt, boo, nul, {name: "array-for-" + kn, v: rawVal("[]")}, obj}
	case k == valuegen.String:
		cands = []cand{num, boo, nul, arr, obj}
	case k == valuegen.Integer:
		cands = []cand{str, numStr, flt, boo, nul, arr, obj}
	case k == valuegen.Number:
		cands = []cand{str, numStr, boo, nul, arr, obj}
	case k == valuegen.Boolean:
		cands = []cand{{name: "string-for-boolean", v: strVal("true")}, {name: "number-for-boolean", v: rawVal("1")}, nul, arr, obj}
	case k == valuegen.Array:
		cands = []cand{obj, str, num, nul}
	case k == valuegen.Object:
		cands = []cand{{name: "array-for-object", v: rawVal("[" + string(sample) + "]")}, str, num, nul}
	case k == valuegen.Null:
		cands = []cand{num, str}
	}
	return c.collect(FamilyTypes, t, cands, false)
}

// ---- boundaries ----

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	if a := math.Abs(v); a >= 1e21 || a != 0 && a < 1e-6 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func (c *caser) boundaries(t *target) []Case {
	k := t.node.Kind
	if k != valuegen.Integer && k != valuegen.Number || enumerated(t) {
		return nil
	}
	s := t.schema()
	b := valuegen.SchemaBounds(s)
	numC := func(name, text string) cand { return cand{name: name, v: rawVal(text), note: "edge value"} }
	var cands []cand
	if b.HasMin && !math.IsInf(b.Min, 0) {
		if k == valuegen.Integer {
			lo := math.Ceil(b.Min)
			if b.MinExclusive && lo == b.Min {
				lo++
			}
			cands = append(cands, numC("min-1", fmtNum(lo-1)), numC("at-min", fmtNum(lo)))
		} else if b.MinExclusive {
			cands = append(cands, numC("exclusive-min", fmtNum(b.Min)))
		} else {
			cands = append(cands, numC("min-1", fmtNum(b.Min-1)), numC("at-min", fmtNum(b.Min)))
		}
	}
	if b.HasMax && !math.IsInf(b.Max, 0) {
		if k == valuegen.Integer {
			hi := math.Floor(b.Max)
			if b.MaxExclusive && hi == b.Max {
				hi--
			}
			cands = append(cands, numC("max+1", fmtNum(hi+1)), numC("at-max", fmtNum(hi)))
		} else if b.MaxExclusive {
			cands = append(cands, numC("exclusive-max", fmtNum(b.Max)))
		} else {
			cands = append(cands, numC("max+1", fmtNum(b.Max+1)), numC("at-max", fmtNum(b.Max)))
		}
	}
	if b.HasMin && b.Min >= 1 {
		cands = append(cands, numC("zero", "0"), numC("negative", "-1"))
	}
	switch s.Format {
	case "int32":
		cands = append(cands, numC("int32-overflow", "2147483648"), numC("int32-underflow", "-2147483649"))
	case "int64":
		cands = append(cands, numC("int64-overflow", "18446744073709551616"), numC("int64-underflow", "-18446744073709551616"))
	}
	if s.MultipleOf != nil && *s.MultipleOf > 0 {
		if v, err := strconv.ParseFloat(string(c.sampleJSON(t)), 64); err == nil {
			m := *s.MultipleOf
			off := m / 2
			if k == valuegen.Integer {
				off = 1
			}
			if k != valuegen.Integer || m > 1 {
				cands = append(cands, numC("not-multiple", fmtNum(v+off)))
			}
		}
	}
	cands = append(cands, numC("huge", "1e308"), numC("huge-integer", "99999999999999999999999"), numC("huge-negative", "-1e308"))
	return c.collect(FamilyBoundaries, t, cands, true)
}

// ---- strings ----

// longValue is the 64 KiB string, built once and shared by every case (Raw
// and ParamValue are read-only).
var longValue = sync.OnceValue(func() value { return strVal(strings.Repeat("a", 64<<10)) })

// enumerated reports whether the target's values are listed (enum or
// const): the formats family covers those; string mutations would only
// repeat "not in enum".
func enumerated(t *target) bool {
	s := t.schema()
	return s != nil && (len(s.Enum) > 0 || s.Const != nil)
}

func (c *caser) stringsFam(t *target) []Case {
	if t.node.Kind != valuegen.String || enumerated(t) {
		return nil
	}
	s := t.schema()
	sample := c.sampleString(t)
	cands := []cand{{name: "empty", v: strVal("")}}
	if s.MinLength >= 2 {
		cands = append(cands, cand{name: "below-min-length", v: strVal(strings.Repeat("a", int(s.MinLength-1)))})
	}
	if s.MaxLength != nil && *s.MaxLength < 1<<20 {
		n := int(*s.MaxLength) + 1
		v := sample
		if r := utf8.RuneCountInString(v); r < n {
			v += strings.Repeat("a", n-r)
		} else {
			v = strings.Repeat("a", n)
		}
		cands = append(cands, cand{name: "above-max-length", v: strVal(v)})
	}
	cands = append(cands,
		cand{name: "very-long", v: longValue(), note: "64 KiB string"},
		cand{name: "whitespace-only", v: strVal("   "), note: "whitespace only"},
		cand{name: "padded", v: strVal(" " + sample + " "), note: "surrounding spaces"},
	)
	var out []Case
	for _, cs := range c.collect(FamilyStrings, t, cands, true) {
		if cs.Name == "strings/empty" && cs.Expect != Reject4xx {
			continue // an allowed empty string is just a valid value
		}
		out = append(out, cs)
	}
	return out
}

// ---- formats, patterns, enums ----

func replaceAt(s string, i int, c byte) string {
	if i < 0 || i >= len(s) {
		return s + string(c)
	}
	return s[:i] + string(c) + s[i+1:]
}

func formatCands(format, sample string) []cand {
	wrong := func(name, v string) cand { return cand{name: name, v: strVal(v)} }
	switch format {
	case "uuid":
		return []cand{wrong("uuid-one-char-off", replaceAt(sample, 0, 'g')), wrong("uuid-short", sample[:max(0, len(sample)-1)]),
			wrong("uuid-no-hyphens", strings.ReplaceAll(sample, "-", "")), wrong("uuid-wrong", "not-a-uuid")}
	case "date":
		return []cand{wrong("date-bad-month", "2026-13-45"), wrong("date-bad-day", "2026-02-30"), wrong("date-slashes", "2026/01/01"), wrong("date-short-year", "26-01-01")}
	case "date-time":
		return []cand{wrong("date-time-out-of-range", "2026-13-45T25:61:61Z"), wrong("date-time-no-offset", "2026-01-01T10:00:00"),
			wrong("date-time-space", "2026-01-01 10:00:00Z"), wrong("date-time-date-only", "2026-01-01")}
	case "time":
		return []cand{wrong("time-out-of-range", "25:61:61Z"), wrong("time-short", "10:00")}
	case "email", "idn-email":
		return []cand{wrong("email-no-at", "barrage.example.com"), wrong("email-two-ats", "a@b@example.com"),
			wrong("email-no-local", "@example.com"), wrong("email-no-domain", "barrage@")}
	case "uri", "url", "iri":
		return []cand{wrong("uri-no-scheme", "example.com/path"), wrong("uri-bad-host", "http://[::1"), wrong("uri-empty-scheme", "://example.com")}
	case "uri-reference", "iri-reference":
		return []cand{wrong("uri-bad-host", "http://[::1")}
	case "hostname", "idn-hostname":
		return []cand{wrong("hostname-hyphens", "-bad-.example"), wrong("hostname-empty-label", "a..b"),
			wrong("hostname-space", "ex ample.com"), wrong("hostname-too-long", strings.Repeat("a.", 127)+"com")}
	case "ipv4":
		return []cand{wrong("ipv4-octet-256", "256.1.1.1"), wrong("ipv4-three-octets", "1.2.3"), wrong("ipv4-five-octets", "1.2.3.4.5"),
			wrong("ipv4-leading-zero", "01.2.3.4"), wrong("ipv4-cidr", "1.2.3.4/24")}
	case "ipv6":
		return []cand{wrong("ipv6-bad-hex", "2001:db8::g"), wrong("ipv6-two-gaps", "1::2::3"), wrong("ipv6-long-group", "12345::1"), wrong("ipv6-v4", "10.0.0.1")}
	case "byte":
		return []cand{wrong("byte-not-base64", "!!!not-base64!!!"), wrong("byte-bad-length", "a")}
	}
	return nil
}

func (c *caser) formats(t *target) []Case {
	s := t.schema()
	if t.union || s == nil {
		return nil
	}
	var cands []cand
	if t.node.Kind == valuegen.String {
		sample := c.sampleString(t)
		if _, known := valuegen.CheckFormat(s.Format, ""); known {
			cands = append(cands, formatCands(s.Format, sample)...)
		}
		if s.Pattern != "" {
			cands = append(cands, patternCands(s.Pattern, sample)...)
		}
	}
	enum := s.Enum
	if s.Const != nil {
		enum = []any{s.Const}
	}
	if len(enum) > 0 {
		cands = append(cands, enumCands(enum)...)
	}
	return c.collect(FamilyFormats, t, cands, false)
}

// patternCands are strings near a valid sample and plainly wrong ones;
// collect keeps those that violate the schema.
func patternCands(pattern, sample string) []cand {
	near := []string{}
	if sample != "" {
		near = append(near, replaceAt(sample, 0, '!'), "!"+sample, sample[:len(sample)-1], flipCase(sample), sample+"!")
	}
	var out []cand
	for _, v := range near {
		out = append(out, cand{name: "pattern-near-miss", v: strVal(v)})
	}
	for _, v := range []string{"!", "~~~~~~~~", " ", "0", "A", "a"} {
		out = append(out, cand{name: "pattern-mismatch", v: strVal(v)})
	}
	return out
}

func flipCase(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsUpper(r) {
			return unicode.ToLower(r)
		}
		return unicode.ToUpper(r)
	}, s)
}

func enumCands(enum []any) []cand {
	var out []cand
	var strs []string
	maxNum, haveNum := math.Inf(-1), false
	hasTrue, hasFalse := false, false
	for _, v := range enum {
		switch x := normalize(v).(type) {
		case string:
			strs = append(strs, x)
		case float64:
			maxNum, haveNum = math.Max(maxNum, x), true
		case bool:
			hasTrue, hasFalse = hasTrue || x, hasFalse || !x
		}
	}
	if len(strs) > 0 {
		out = append(out, cand{name: "not-in-enum", v: strVal("barrage-not-in-enum")})
		for _, f := range []func(string) string{strings.ToUpper, strings.ToLower, flipCase} {
			if v := f(strs[0]); !slices.Contains(strs, v) {
				out = append(out, cand{name: "enum-case", v: strVal(v)})
			}
		}
		out = append(out, cand{name: "enum-trailing-space", v: strVal(strs[0] + " ")})
	}
	if haveNum && !math.IsInf(maxNum, 0) {
		out = append(out, cand{name: "not-in-enum", v: rawVal(fmtNum(maxNum + 1))})
	}
	if hasTrue != hasFalse {
		out = append(out, cand{name: "not-in-enum", v: rawVal(strconv.FormatBool(!hasTrue))})
	}
	return out
}

func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// ---- structure ----

func (c *caser) structureParam(t *target) []Case {
	if !t.param.Required {
		return nil
	}
	cs := Case{Family: FamilyStructure, Name: "structure/missing-required", Target: t.Target, Omit: true,
		Expect: Reject4xx, Detail: t.label + ": left out (required)"}
	if t.In == "path" {
		cs.Expect = NoServerError // an empty segment may be redirected or routed elsewhere
		cs.Detail = t.label + ": empty path segment (required)"
	}
	return []Case{cs}
}

var (
	deepArrays  = sync.OnceValue(func() []byte { return []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)) })
	deepObjects = sync.OnceValue(func() []byte {
		return []byte(strings.Repeat(`{"a":`, 10000) + "{}" + strings.Repeat("}", 10000))
	})
)

// massAssignmentKeys are property names that often carry privileges.
var massAssignmentKeys = []struct{ key, raw string }{{"id", "1"}, {"isAdmin", "true"}, {"role", `"admin"`}}

func (c *caser) bodyCase(t *target, name string, e *valuegen.Edit, expect Expect, detail string) Case {
	return Case{Family: FamilyStructure, Name: "structure/" + name, Target: t.Target, Edit: e, Expect: expect, Detail: t.label + ": " + detail}
}

// structural returns Reject4xx for an edit whose violation is certain,
// re-checking the whole body under a union.
func (c *caser) structural(t *target, e *valuegen.Edit, why string) (Expect, string) {
	if t.underUnion || t.union {
		w := c.wholeBodyInvalid(e)
		if w == "" {
			return NoServerError, "may still match another oneOf/anyOf branch"
		}
		return Reject4xx, w
	}
	return Reject4xx, why
}

func (c *caser) structureBody(t *target) []Case {
	var out []Case
	nodes := t.Gen.Nodes()
	n := t.node
	s := n.Schema
	if n.ID == 0 {
		if c.bodyRequired {
			out = append(out, c.bodyCase(t, "missing-body", &valuegen.Edit{Node: 0, Op: valuegen.Omit}, Reject4xx, "empty body (required)"))
		}
		out = append(out,
			c.bodyCase(t, "deep-nesting-arrays", &valuegen.Edit{Node: 0, Op: valuegen.Replace, Raw: deepArrays()}, NoServerError, "10000 nested arrays"),
			c.bodyCase(t, "deep-nesting-objects", &valuegen.Edit{Node: 0, Op: valuegen.Replace, Raw: deepObjects()}, NoServerError, "10000 nested objects"))
	}
	if n.Alt {
		return out
	}
	if n.Parent >= 0 && nodes[n.Parent].Kind == valuegen.Object { // a property
		if raw := wrongTypeRaw(n.Kind); raw != "" {
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Duplicate, Raw: []byte(raw)}
			out = append(out, c.bodyCase(t, "duplicate-key", e, NoServerError,
				fmt.Sprintf("key sent twice, first as %s then valid", raw)))
		}
	}
	switch n.Kind {
	case valuegen.Object:
		for _, ch := range nodes[n.ID+1 : n.End] {
			if ch.Parent != n.ID || !ch.Required || ch.Alt {
				continue
			}
			e := &valuegen.Edit{Node: ch.ID, Op: valuegen.Omit}
			exp, why := c.structural(t, e, "required")
			out = append(out, Case{Family: FamilyStructure, Name: "structure/missing-required", Target: Target{In: "body", Gen: t.Gen, Node: ch.ID},
				Edit: e, Expect: exp, Detail: "body " + ch.Pointer + ": left out (" + why + ")"})
		}
		closed := s.AdditionalProperties.Has != nil && !*s.AdditionalProperties.Has && len(s.PatternProperties) == 0
		if closed {
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Extra, Key: "barrageExtra", Raw: []byte(`"x"`)}
			exp, why := c.structural(t, e, "additionalProperties: false")
			out = append(out, c.bodyCase(t, "extra-property", e, exp, `extra property "barrageExtra" (`+why+")"))
		}
		for _, k := range readOnlyProps(s) {
			raw := c.validRaw(s.Properties[k].Value)
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Extra, Key: k, Raw: raw}
			out = append(out, c.bodyCase(t, "mass-assignment", e, NoServerError,
				fmt.Sprintf("readOnly property %q sent: %s (must be ignored or rejected)", k, showJSON(raw))))
		}
		for _, m := range massAssignmentKeys {
			if _, declared := s.Properties[m.key]; declared {
				continue
			}
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Extra, Key: m.key, Raw: []byte(m.raw)}
			exp, why := NoServerError, "must be ignored or rejected"
			if closed {
				exp, why = c.structural(t, e, "additionalProperties: false")
			}
			out = append(out, c.bodyCase(t, "mass-assignment", e, exp, fmt.Sprintf("undeclared %q: %s (%s)", m.key, m.raw, why)))
		}
		if cs, ok := c.makeCase(FamilyStructure, t, cand{name: "empty-object", v: rawVal("{}")}, false); ok {
			out = append(out, cs)
		}
	case valuegen.Array:
		if s.MaxItems != nil && *s.MaxItems < 10000 {
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Repeat, N: int(*s.MaxItems) + 1}
			exp, why := c.structural(t, e, fmt.Sprintf("maxItems %d", *s.MaxItems))
			out = append(out, c.bodyCase(t, "above-max-items", e, exp, fmt.Sprintf("%d items (%s)", e.N, why)))
		}
		if s.MinItems >= 1 {
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Repeat, N: int(s.MinItems) - 1}
			exp, why := c.structural(t, e, fmt.Sprintf("minItems %d", s.MinItems))
			out = append(out, c.bodyCase(t, "below-min-items", e, exp, fmt.Sprintf("%d items (%s)", e.N, why)))
		}
		if s.MaxItems == nil {
			// 10000 items, fewer when items are big: about 1 MiB at most.
			probe := t.Gen.AppendJSON(nil, template.NewRand(1), &valuegen.Edit{Node: n.ID, Op: valuegen.Repeat, N: 1})
			base := t.Gen.AppendJSON(nil, template.NewRand(1), &valuegen.Edit{Node: n.ID, Op: valuegen.Repeat, N: 0})
			per := max(1, len(probe)-len(base))
			e := &valuegen.Edit{Node: n.ID, Op: valuegen.Repeat, N: min(10000, max(10, (1<<20)/per))}
			out = append(out, c.bodyCase(t, "huge-array", e, NoServerError, fmt.Sprintf("%d items", e.N)))
		}
		if s.UniqueItems && n.End > n.ID+1 {
			item := c.validRawNode(t, n.End-1)
			for id := n.ID + 1; id < n.End; id++ {
				if nodes[id].Parent == n.ID {
					item = c.validRawNode(t, id)
					break
				}
			}
			raw := "[" + string(item) + "," + string(item) + "]"
			if cs, ok := c.makeCase(FamilyStructure, t, cand{name: "duplicate-items", v: rawVal(raw)}, false); ok {
				out = append(out, cs)
			}
		}
	}
	return out
}

func readOnlyProps(s *openapi3.Schema) []string {
	var ks []string
	for k, r := range s.Properties {
		if r != nil && r.Value != nil && r.Value.ReadOnly {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	return ks
}

// validRaw is a valid JSON value for s (readOnly properties included), or
// a string when s cannot be compiled.
func (c *caser) validRaw(s *openapi3.Schema) []byte {
	o := c.o
	o.Request = false
	g, err := valuegen.Compile(s, o)
	if err != nil {
		return []byte(`"x"`)
	}
	for seed := uint64(1); seed <= 16; seed++ {
		if b := g.AppendJSON(nil, template.NewRand(seed), nil); string(b) != "null" {
			return b
		}
	}
	return []byte(`"x"`)
}

func (c *caser) validRawNode(t *target, id int) []byte {
	var b []byte
	for seed := uint64(1); seed <= 16; seed++ {
		if b = t.Gen.AppendNode(nil, template.NewRand(seed), id); string(b) != "null" {
			return b
		}
	}
	return b
}

// wrongTypeRaw is a value of another type than k, for duplicate keys.
func wrongTypeRaw(k valuegen.Kind) string {
	switch k {
	case valuegen.String:
		return "123"
	case valuegen.Integer, valuegen.Number, valuegen.Boolean:
		return `"abc"`
	case valuegen.Array:
		return "{}"
	case valuegen.Object:
		return "[]"
	case valuegen.Null:
		return "0"
	}
	return ""
}

// ---- encoding ----

func insertMid(s, ins string) string {
	i := len(s) / 2
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + ins + s[i:]
}

func (c *caser) encoding(t *target) []Case {
	if t.node.Kind != valuegen.String || enumerated(t) {
		return nil
	}
	sample := c.sampleString(t)
	if sample == "" {
		sample = "a"
	}
	cands := []cand{
		{name: "nul", v: strVal(insertMid(sample, "\x00")), note: "NUL character"},
		{name: "control-chars", v: strVal(insertMid(sample, "\x01\x1b[31m")), note: "control characters"},
		{name: "crlf", v: strVal(insertMid(sample, "\r\nX-Barrage: 1")), note: "CR LF"},
		{name: "zero-width", v: strVal(insertMid(sample, "\u200b")), note: "zero-width space"},
		{name: "bidi-override", v: strVal("\u202e" + sample + "\u202c"), note: "right-to-left override"},
		{name: "bom", v: strVal("\ufeff" + sample), note: "byte order mark"},
		{name: "emoji", v: strVal(sample + "\U0001F600"), note: "non-BMP character"},
		{name: "combining", v: strVal(sample + "e\u0301"), note: "combining character"},
	}
	out := c.collect(FamilyEncoding, t, cands, true)
	// Invalid UTF-8: in a JSON body the text is no longer valid JSON (RFC
	// 8259 requires UTF-8), whatever the schema; in a parameter it is only
	// hostile.
	for _, bad := range []struct{ name, ins, note string }{
		{"invalid-utf8", "\xff\xfe", "invalid UTF-8 bytes"},
		{"overlong-utf8", "\xc0\xaf", "overlong UTF-8 encoding of '/'"},
	} {
		v := strVal(insertMid(sample, bad.ins))
		cs := Case{Family: FamilyEncoding, Name: "encoding/" + bad.name, Target: t.Target}
		if t.isParam() {
			j := judgeParam(t, v.text)
			if j.skip {
				continue
			}
			cs.ParamValue, cs.Expect = v.text, NoServerError
			cs.Detail = t.label + ": " + show(v.text) + " (" + bad.note + ")"
		} else {
			cs.Edit = &valuegen.Edit{Node: t.Node, Op: valuegen.Replace, Raw: v.json}
			cs.Expect = Reject4xx
			cs.Detail = t.label + ": " + show(v.json) + " (" + bad.note + ": the JSON text is not UTF-8)"
		}
		out = append(out, cs)
	}
	if !t.isParam() {
		cs, ok := c.makeCase(FamilyEncoding, t, cand{name: "lone-surrogate", v: rawVal(`"\ud800"`), note: "lone UTF-16 surrogate escape"}, true)
		if ok {
			out = append(out, cs)
		}
	}
	return out
}

// ---- injection ----

type payload struct {
	name, detector, text string
}

var payloads = []payload{
	{"sql-tautology", DetectorSQL, `' OR '1'='1`},
	{"sql-stacked", DetectorSQL, `1;SELECT pg_sleep(0)--`},
	{"sql-double-quote", DetectorSQL, `" OR ""="`},
	{"sql-union", DetectorSQL, `1' UNION SELECT NULL--`},
	{"nosql-operator-string", DetectorNoSQL, `{"$gt": ""}`},
	{"cmd-semicolon", DetectorCmd, `;id`},
	{"cmd-subshell", DetectorCmd, `$(id)`},
	{"cmd-backticks", DetectorCmd, "`id`"},
	{"cmd-pipe", DetectorCmd, `| id`},
	{"path-traversal", DetectorPath, `../../../../etc/passwd`},
	{"path-traversal-encoded", DetectorPath, `..%2f..%2f..%2f..%2fetc%2fpasswd`},
	{"path-traversal-nested", DetectorPath, `....//....//....//etc/passwd`},
	{"path-traversal-windows", DetectorPath, `..\..\..\windows\win.ini`},
	{"template-jinja", DetectorTemplate, `{{7*7}}`},
	{"template-el", DetectorTemplate, `${7*7}`},
	{"template-erb", DetectorTemplate, `<%= 7*7 %>`},
	{"template-ruby", DetectorTemplate, `#{7*7}`},
	{"xss-script", DetectorXSS, `<script>barrage-xss-%s</script>`},
	{"xss-img", DetectorXSS, `"><img src=x onerror=barrage-xss-%s>`},
}

// xssToken is a stable token for one target and probe, so that the oracle
// can recognise the reflection.
func xssToken(label, name string) string {
	h := fnv.New32a()
	h.Write([]byte(label + "\x00" + name))
	return fmt.Sprintf("%08x", h.Sum32())
}

func (c *caser) injection(t *target) []Case {
	s := t.schema()
	if s == nil {
		return nil
	}
	if t.node.Kind == valuegen.Integer && t.isParam() {
		cands := []cand{
			{name: "sql-numeric-tautology", v: strVal("1 OR 1=1"), detector: DetectorSQL, note: "sql probe"},
			{name: "sql-numeric-stacked", v: strVal("1;SELECT pg_sleep(0)--"), detector: DetectorSQL, note: "sql probe"},
		}
		return c.collect(FamilyInjection, t, cands, true)
	}
	if t.node.Kind != valuegen.String || s.Pattern != "" || len(s.Enum) > 0 || s.Const != nil {
		return nil
	}
	if _, known := valuegen.CheckFormat(s.Format, ""); known {
		return nil
	}
	var cands []cand
	for _, p := range payloads {
		text := p.text
		if p.detector == DetectorXSS {
			text = fmt.Sprintf(text, xssToken(t.label, p.name))
		}
		cands = append(cands, cand{name: p.name, v: strVal(text), detector: p.detector, note: p.detector + " probe"})
	}
	if !t.isParam() {
		cands = append(cands, cand{name: "nosql-operator-object", v: rawVal(`{"$ne": null}`), detector: DetectorNoSQL, note: "nosql probe"})
	}
	return c.collect(FamilyInjection, t, cands, true)
}
