package valuegen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
)

// Options tune value generation. The zero value gives the defaults.
type Options struct {
	// OptionalProb is the chance that an optional property is emitted. Zero
	// means the default 0.5; a negative value means never (unless needed
	// for minProperties); 1 or more means always.
	OptionalProb float64
	// MaxDepth is the nesting depth (objects and arrays) from which only
	// what is required is generated: optional properties are dropped and
	// arrays hold minItems items. Zero means 6.
	MaxDepth int
	// MaxItems caps the item count of generated arrays (minItems still
	// wins). Zero means 3.
	MaxItems int
	// Request leaves readOnly properties out, as in request bodies.
	Request bool
}

func (o Options) withDefaults() Options {
	if o.OptionalProb == 0 {
		o.OptionalProb = 0.5
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 6
	}
	if o.MaxItems <= 0 {
		o.MaxItems = 3
	}
	return o
}

const (
	maxNodes       = 10000
	maxStringLen   = 1 << 20
	maxArrayLen    = 10000
	extraDepth     = 64 // beyond MaxDepth, required nesting may go this much deeper
	patternSamples = 64
	patternTries   = 32
	nullOdds       = 8 // 1 in nullOdds values of a nullable node is null
	exampleOdds    = 8 // 1 in exampleOdds scalar values is a valid example from the spec
	window         = 1000
	maxSafeInt     = 1 << 53
)

// maxMinValues caps the number of JSON values (scalars, arrays, objects)
// in the smallest value a schema allows, so that nested minItems cannot make
// one value enormous.
const maxMinValues = 1 << 16

// minValues returns how many JSON values the smallest generated value
// holds (saturating at maxMinValues+1).
func (c *compiler) minValues() int {
	m := make([]int, len(c.nodes))
	for id := len(c.nodes) - 1; id >= 0; id-- { // children have larger IDs
		n := &c.nodes[id]
		v := 1
		switch {
		case len(n.choices) > 0 || n.nullable:
		case len(n.alts) > 0:
			v = maxMinValues + 1
			for _, a := range n.alts {
				v = min(v, m[a])
			}
		case n.kind == Array:
			for i := 0; i < min(n.minItems, len(n.prefix)); i++ {
				v += m[n.prefix[i]]
			}
			if rest := n.minItems - len(n.prefix); rest > 0 && n.item >= 0 {
				v += rest * m[n.item]
			}
		case n.kind == Object:
			for _, p := range n.props {
				if p.required {
					v += m[p.node]
				}
			}
			for _, p := range n.extras {
				v += m[p.node]
			}
			if n.minOpt > 0 {
				v += n.minOpt // optional ones forced by minProperties: at least a value each
			}
		}
		m[id] = min(v, maxMinValues+1)
	}
	return m[0]
}

// errRecursion marks a required recursion that cannot terminate.
var errRecursion = errors.New("required recursion cannot terminate")

// Gen generates valid JSON values for a schema. It is immutable after
// Compile and safe for concurrent use.
type Gen struct {
	nodes     []gnode
	pub       []Node
	optThresh uint64 // an optional property is emitted when Uint64() < optThresh
	optAlways bool
}

type choice struct {
	json, text []byte
	null       bool
}

type prop struct {
	key      string
	keyJSON  []byte // `"key":`
	node     int32
	required bool
}

type gnode struct {
	kind     Kind
	nullable bool
	end      int32
	choices  []choice
	examples []choice

	// Integer: value = k*step for k in [kmin, kmax].
	kmin, kmax, step int64
	// Number without multipleOf: uniform in the window, rounded to cents
	// when that stays in the bounds.
	flo, fhi       float64 // window
	blo, bhi       float64 // bounds
	bloEx, bhiEx   bool
	bhasLo, bhasHi bool
	// Number with multipleOf: k*fstep for k in [kmin, kmax], fdec decimals
	// (-1: shortest form).
	fstep float64
	fdec  int

	str *strGen

	item               int32 // -1: none
	prefix             []int32
	minItems, maxItems int
	unique             bool
	domain             []choice // every valid item, when there are few

	props    []prop
	extras   []prop // synthetic properties emitted to reach minProperties
	optCount int    // optional props
	minOpt   int    // optional props needed for minProperties
	maxOpt   int    // optional props allowed by maxProperties (-1: no limit)

	alts []int32
}

type compiler struct {
	o     Options
	flat  *flattener
	nodes []gnode
	pub   []Node
	path  []*openapi3.Schema
}

// Compile turns s into a generator. It fails when the schema has no valid
// value Gen can produce: a pattern it cannot honour, contradictory
// constraints, a required recursion, unsupported keywords that constrain
// values (not, if/then/else, contains, dependentSchemas). Optional
// properties and union branches that fail are left out instead.
func Compile(s *openapi3.Schema, o Options) (*Gen, error) {
	if s == nil {
		return nil, errors.New("valuegen: nil schema")
	}
	c := &compiler{o: o.withDefaults(), flat: newFlattener()}
	if _, err := c.build(s, "", -1, false, 0, false); err != nil {
		return nil, fmt.Errorf("valuegen: %w", err)
	}
	if n := c.minValues(); n > maxMinValues {
		return nil, fmt.Errorf("valuegen: the smallest valid value holds more than %d values (minItems, required properties)", maxMinValues)
	}
	g := &Gen{nodes: c.nodes, pub: c.pub}
	p := c.o.OptionalProb
	switch {
	case p >= 1:
		g.optAlways = true
	case p > 0:
		g.optThresh = uint64(p * (1 << 63) * 2)
	}
	return g, nil
}

// Nodes returns every node of the compiled tree, indexed by ID. The slice
// is shared: do not modify it.
func (g *Gen) Nodes() []Node { return g.pub }

func (c *compiler) newNode(ptr string, parent int, required bool, kind Kind, s *openapi3.Schema) (int, error) {
	if len(c.nodes) >= maxNodes {
		return 0, fmt.Errorf("schema expands to more than %d nodes", maxNodes)
	}
	id := len(c.nodes)
	c.nodes = append(c.nodes, gnode{kind: kind, item: -1, maxOpt: -1})
	c.pub = append(c.pub, Node{ID: id, Pointer: ptr, Kind: kind, Required: required, Schema: s, Parent: parent})
	return id, nil
}

func (c *compiler) truncate(n int) {
	c.nodes, c.pub = c.nodes[:n], c.pub[:n]
}

func (c *compiler) finish(id int) {
	c.nodes[id].end = int32(len(c.nodes))
	c.pub[id].End = len(c.nodes)
	c.pub[id].Nullable = c.nodes[id].nullable
	c.pub[id].Kind = c.nodes[id].kind
}

func at(ptr string) string {
	if ptr == "" {
		return "root"
	}
	return ptr
}

// build compiles s at ptr and returns its node ID.
func (c *compiler) build(s *openapi3.Schema, ptr string, parent int, required bool, depth int, noNull bool) (int, error) {
	if s == nil {
		s = &openapi3.Schema{}
	}
	limited := depth >= c.o.MaxDepth
	if depth > c.o.MaxDepth+extraDepth {
		return 0, fmt.Errorf("%s: nesting deeper than %d", at(ptr), depth)
	}
	fl, err := c.flat.flatten(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", at(ptr), err)
	}
	if slices.Contains(c.path, s) && limited {
		if !noNull && (fl.nullable || len(fl.alts) == 1 && isNullable(fl.alts[0])) {
			// A nullable recursion ends in null.
			id, err := c.newNode(ptr, parent, required, Null, s)
			if err != nil {
				return 0, err
			}
			c.nodes[id].nullable = true
			c.finish(id)
			return id, nil
		}
		return 0, fmt.Errorf("%s: %w", at(ptr), errRecursion)
	}
	c.path = append(c.path, s)
	defer func() { c.path = c.path[:len(c.path)-1] }()

	if len(fl.alts) == 1 {
		return c.buildSingle(fl.alts[0], ptr, parent, required, depth, noNull, false)
	}
	id, err := c.newNode(ptr, parent, required, Any, s)
	if err != nil {
		return 0, err
	}
	c.nodes[id].nullable = fl.nullable && !noNull
	var firstErr error
	var built []*openapi3.Schema // the alternatives that compiled, in node order
	for _, a := range fl.alts {
		mark := len(c.nodes)
		child, err := c.buildSingle(a, ptr, id, false, depth, true, true)
		if err != nil {
			c.truncate(mark)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		c.nodes[id].alts = append(c.nodes[id].alts, int32(child))
		built = append(built, a)
	}
	if len(built) == 0 {
		return 0, firstErr
	}
	keep, err := c.pruneOverlapping(id, s)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", at(ptr), err)
	}
	if len(keep) < len(built) { // compile again without the pruned branches, so that Nodes() holds no dead ones
		c.truncate(id + 1)
		c.nodes[id].alts = c.nodes[id].alts[:0]
		for _, k := range keep {
			child, err := c.buildSingle(built[k], ptr, id, false, depth, true, true)
			if err != nil {
				return 0, err
			}
			c.nodes[id].alts = append(c.nodes[id].alts, int32(child))
		}
	}
	c.finish(id)
	return id, nil
}

// unionSamples is how many values of each union branch are checked.
const unionSamples = 16

// pruneOverlapping returns the indexes of the branches of union node id
// whose sample values kin-openapi's validator accepts for s: for oneOf, a
// value matching several branches is invalid, and the generator cannot see
// that by itself.
func (c *compiler) pruneOverlapping(id int, s *openapi3.Schema) ([]int, error) {
	alts := c.nodes[id].alts
	if len(alts) < 2 {
		return []int{0}, nil
	}
	tmp := &Gen{nodes: c.nodes}
	opts := []openapi3.SchemaValidationOption{openapi3.FailFast()}
	if c.o.Request {
		opts = append(opts, openapi3.VisitAsRequest())
	}
	r := template.NewRand(0xa17)
	var buf []byte
	var keep []int
	for k, a := range alts {
		ok := true
		for i := 0; i < unionSamples && ok; i++ {
			buf = tmp.gen(buf[:0], r, a, nil)
			var v any
			ok = json.Unmarshal(buf, &v) == nil && safeVisit(s, v, opts) == nil
		}
		if ok {
			keep = append(keep, k)
		}
	}
	if len(keep) == 0 {
		return nil, errors.New("no oneOf/anyOf branch yields values that match exactly one branch")
	}
	return keep, nil
}

// safeVisit runs kin-openapi's validator, turning its panics (on odd
// schemas) into errors.
func safeVisit(s *openapi3.Schema, v any, opts []openapi3.SchemaValidationOption) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("validator panic: %v", p)
		}
	}()
	return s.VisitJSON(v, opts...)
}

func kindOf(s *openapi3.Schema) Kind {
	if s.Type != nil && len(*s.Type) > 0 {
		t := nonNullTypes(s)
		if len(t) == 0 {
			return Null
		}
		switch t[0] {
		case openapi3.TypeString:
			return String
		case openapi3.TypeInteger:
			return Integer
		case openapi3.TypeNumber:
			return Number
		case openapi3.TypeBoolean:
			return Boolean
		case openapi3.TypeArray:
			return Array
		case openapi3.TypeObject:
			return Object
		}
		return Any
	}
	switch {
	case len(s.Properties) > 0 || len(s.Required) > 0 || s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil || s.MinProps > 0 || s.MaxProps != nil:
		return Object
	case s.Items != nil || len(s.PrefixItems) > 0 || s.MinItems > 0 || s.MaxItems != nil || s.UniqueItems:
		return Array
	case s.MinLength > 0 || s.MaxLength != nil || s.Pattern != "" || formatSpecs[s.Format] != nil:
		return String
	case s.Min != nil || s.Max != nil || s.MultipleOf != nil || s.ExclusiveMin.IsSet() || s.ExclusiveMax.IsSet():
		if s.Format == "int32" || s.Format == "int64" {
			return Integer
		}
		return Number
	}
	vals := s.Enum
	if s.Const != nil {
		vals = []any{s.Const}
	}
	k := Any
	for i, v := range vals {
		vk := jsonKind(v)
		if i == 0 {
			k = vk
		} else if vk != k {
			return Any
		}
	}
	return k
}

func jsonKind(v any) Kind {
	switch normalizeJSON(v).(type) {
	case string:
		return String
	case float64:
		return Number
	case bool:
		return Boolean
	case []any:
		return Array
	case map[string]any:
		return Object
	case nil:
		return Null
	}
	return Any
}

// normalizeJSON converts a value from a YAML or JSON loader into what
// json.Unmarshal produces (float64 numbers, []any, map[string]any).
func normalizeJSON(v any) any {
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

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// validFor reports whether v (a decoded JSON value) is valid for s,
// including the formats this package asserts.
func validFor(s *openapi3.Schema, v any, nullable bool) bool {
	if v == nil {
		return nullable
	}
	if str, ok := v.(string); ok && s.Format != "" {
		if valid, _ := CheckFormat(s.Format, str); !valid {
			return false
		}
	}
	return s.VisitJSON(v) == nil
}

func makeChoice(v any) (choice, error) {
	j, err := encodeJSON(v)
	if err != nil {
		return choice{}, err
	}
	ch := choice{json: j, null: v == nil}
	switch x := v.(type) {
	case string:
		ch.text = []byte(x)
	case nil:
		ch.text = []byte("null")
	default:
		ch.text = j
	}
	return ch, nil
}

func (c *compiler) buildSingle(s *openapi3.Schema, ptr string, parent int, required bool, depth int, noNull, alt bool) (int, error) {
	switch {
	case s.Not != nil:
		return 0, fmt.Errorf("%s: unsupported keyword \"not\"", at(ptr))
	case s.If != nil:
		return 0, fmt.Errorf("%s: unsupported keyword \"if\"", at(ptr))
	case s.Contains != nil:
		return 0, fmt.Errorf("%s: unsupported keyword \"contains\"", at(ptr))
	case len(s.DependentSchemas) > 0:
		return 0, fmt.Errorf("%s: unsupported keyword \"dependentSchemas\"", at(ptr))
	case s.Always != nil && !*s.Always:
		return 0, fmt.Errorf("%s: false schema has no valid value", at(ptr))
	}
	if s.Type != nil && len(*s.Type) == 0 {
		return 0, fmt.Errorf("%s: empty type list", at(ptr))
	}
	kind := kindOf(s)
	if s.Always != nil {
		kind = Any
	}
	id, err := c.newNode(ptr, parent, required, kind, s)
	if err != nil {
		return 0, err
	}
	c.pub[id].Alt = alt
	n := &c.nodes[id]
	n.nullable = (isNullable(s) || kind == Null) && !noNull

	// enum and const: the node emits one of the listed values.
	var listed []any
	hasList := s.Const != nil || len(s.Enum) > 0
	if s.Const != nil {
		listed = []any{s.Const}
	} else {
		listed = s.Enum
	}
	for _, v := range listed {
		nv := normalizeJSON(v)
		if !validFor(s, nv, isNullable(s)) || nv == nil && noNull {
			continue
		}
		ch, err := makeChoice(nv)
		if err != nil || slices.ContainsFunc(n.choices, func(o choice) bool { return bytes.Equal(o.json, ch.json) }) {
			continue
		}
		n.choices = append(n.choices, ch)
	}
	if hasList {
		if len(n.choices) == 0 {
			return 0, fmt.Errorf("%s: no enum/const value is valid for the schema", at(ptr))
		}
		n.nullable = false
		c.finish(id)
		return id, nil
	}
	if kind != Object && kind != Array {
		var cands []any
		cands = append(cands, s.Default, s.Example)
		cands = append(cands, s.Examples...)
		for _, v := range cands {
			if v == nil {
				continue
			}
			nv := normalizeJSON(v)
			if nv == nil || !validFor(s, nv, false) {
				continue
			}
			if ch, err := makeChoice(nv); err == nil {
				n.examples = append(n.examples, ch)
			}
		}
	}

	switch kind {
	case Integer:
		err = c.compileInteger(n, s)
	case Number:
		err = c.compileNumber(n, s)
	case String:
		n.str, err = compileString(s)
	case Array:
		err = c.compileArray(id, s, ptr, depth)
	case Object:
		err = c.compileObject(id, s, ptr, depth)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", at(ptr), err)
	}
	c.finish(id)
	return id, nil
}

// ---- numbers ----

func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) == (b > 0) {
		q++
	}
	return q
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a > 0) != (b > 0) {
		q--
	}
	return q
}

// intRange returns the integer range of a schema with its format's limits,
// clamped to ±2^53 (beyond which float64, and so most JSON parsers, lose
// integers).
func intRange(s *openapi3.Schema) (lo, hi int64, err error) {
	b := SchemaBounds(s)
	lo, hi = -maxSafeInt, maxSafeInt
	if s.Format == "int32" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if b.HasMin {
		if math.IsNaN(b.Min) || b.Min > maxSafeInt {
			return 0, 0, fmt.Errorf("minimum %g beyond 2^53 is not supported", b.Min)
		}
		v := math.Ceil(b.Min)
		if b.MinExclusive && v == b.Min {
			v++
		}
		if v > float64(lo) {
			lo = int64(v)
		}
	}
	if b.HasMax {
		if math.IsNaN(b.Max) || b.Max < -maxSafeInt {
			return 0, 0, fmt.Errorf("maximum %g beyond -2^53 is not supported", b.Max)
		}
		v := math.Floor(b.Max)
		if b.MaxExclusive && v == b.Max {
			v--
		}
		if v < float64(hi) {
			hi = int64(v)
		}
	}
	if lo > hi {
		return 0, 0, fmt.Errorf("no integer in [%d, %d]", lo, hi)
	}
	return lo, hi, nil
}

// windowOf narrows [lo, hi] to at most window+1 values near 1.
func windowOf(lo, hi int64) (int64, int64) {
	c := min(max(int64(1), lo), hi)
	wlo, whi := c, min(hi, c+window)
	if whi == wlo {
		wlo = max(lo, hi-window)
	}
	return wlo, whi
}

func (c *compiler) compileInteger(n *gnode, s *openapi3.Schema) error {
	lo, hi, err := intRange(s)
	if err != nil {
		return err
	}
	step := int64(1)
	if s.MultipleOf != nil {
		m := decimalRat(*s.MultipleOf)
		if m == nil || m.Sign() <= 0 {
			return fmt.Errorf("multipleOf %g is not positive", *s.MultipleOf)
		}
		if !m.Num().IsInt64() || m.Num().Int64() > maxSafeInt {
			return fmt.Errorf("multipleOf %g is too large", *s.MultipleOf)
		}
		step = m.Num().Int64() // the smallest positive integer that is a multiple of p/q
	}
	kmin, kmax := ceilDiv(lo, step), floorDiv(hi, step)
	if kmin > kmax {
		return fmt.Errorf("no multiple of %d in [%d, %d]", step, lo, hi)
	}
	n.kmin, n.kmax = windowOf(kmin, kmax)
	n.step = step
	return nil
}

func appendFloat(dst []byte, v float64) []byte {
	if a := math.Abs(v); a != 0 && (a >= 1e21 || a < 1e-6) {
		return strconv.AppendFloat(dst, v, 'g', -1, 64)
	}
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

func (n *gnode) inBounds(v float64) bool {
	if n.bhasLo && (v < n.blo || n.bloEx && v == n.blo) {
		return false
	}
	if n.bhasHi && (v > n.bhi || n.bhiEx && v == n.bhi) {
		return false
	}
	return !math.IsInf(v, 0) && !math.IsNaN(v)
}

func (n *gnode) stepValue(k int64) float64 {
	v := float64(k) * n.fstep
	if n.fdec >= 0 {
		var buf [64]byte
		b := strconv.AppendFloat(buf[:0], v, 'f', n.fdec, 64)
		v, _ = strconv.ParseFloat(string(b), 64)
	}
	return v
}

func (c *compiler) compileNumber(n *gnode, s *openapi3.Schema) error {
	b := SchemaBounds(s)
	n.bhasLo, n.blo, n.bloEx = b.HasMin, b.Min, b.MinExclusive
	n.bhasHi, n.bhi, n.bhiEx = b.HasMax, b.Max, b.MaxExclusive
	if s.Format == "float" {
		if !n.bhasLo || n.blo < -math.MaxFloat32 {
			n.bhasLo, n.blo, n.bloEx = true, -math.MaxFloat32, false
		}
		if !n.bhasHi || n.bhi > math.MaxFloat32 {
			n.bhasHi, n.bhi, n.bhiEx = true, math.MaxFloat32, false
		}
	}
	lo, hi := -math.MaxFloat64, math.MaxFloat64
	if n.bhasLo {
		lo = n.blo
	}
	if n.bhasHi {
		hi = n.bhi
	}
	if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi || lo == hi && (n.bloEx || n.bhiEx) {
		return fmt.Errorf("empty number range")
	}
	if s.MultipleOf != nil {
		m := *s.MultipleOf
		if !(m > 0) || math.IsInf(m, 0) {
			return fmt.Errorf("multipleOf %g is not positive", m)
		}
		n.fstep, n.fdec = m, -1
		if str := strconv.FormatFloat(m, 'f', -1, 64); len(str) <= 17 {
			if i := strings.IndexByte(str, '.'); i >= 0 {
				n.fdec = len(str) - i - 1
			} else {
				n.fdec = 0
			}
		}
		klo, khi := math.Ceil(lo/m), math.Floor(hi/m)
		klo, khi = max(klo, -maxSafeInt), min(khi, maxSafeInt)
		if math.IsNaN(klo) || math.IsNaN(khi) || klo > khi+2 {
			return fmt.Errorf("no multiple of %g in range", m)
		}
		kmin, kmax := int64(klo), int64(khi)
		for i := 0; i < 4 && !n.inBounds(n.stepValue(kmin)); i++ {
			kmin++
		}
		for i := 0; i < 4 && !n.inBounds(n.stepValue(kmax)); i++ {
			kmax--
		}
		if kmin > kmax || !n.inBounds(n.stepValue(kmin)) || !n.inBounds(n.stepValue(kmax)) {
			return fmt.Errorf("no multiple of %g in range", m)
		}
		n.kmin, n.kmax = windowOf(kmin, kmax)
		return nil
	}
	c1 := min(max(1, lo), hi)
	n.flo, n.fhi = c1, min(hi, c1+window)
	if n.fhi == n.flo {
		n.flo = max(lo, hi-window)
	}
	if !n.inBounds((n.flo + n.fhi) / 2) {
		if v := math.Nextafter(n.flo, n.fhi); !n.inBounds(v) {
			return fmt.Errorf("no number in range")
		}
	}
	return nil
}

// ---- strings ----

type strMode uint8

const (
	strPlain strMode = iota
	strFormat
	strPattern
)

type strGen struct {
	mode    strMode
	lo, hi  int     // plain: length range
	lens    []int32 // format: allowed lengths
	charset string
	spec    *formatSpec
	prog    *reProg
	minLen  int
	maxLen  int // -1: none
	fbJSON  []byte
	fbText  []byte
}

const (
	plainChars    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	passwordChars = plainChars + "!#$%&*+-=?@^_~"
)

func compileString(s *openapi3.Schema) (*strGen, error) {
	minLen, maxLen := int(min(s.MinLength, maxStringLen+1)), -1
	if s.MaxLength != nil {
		maxLen = int(min(*s.MaxLength, maxStringLen+1))
	}
	if minLen > maxStringLen {
		return nil, fmt.Errorf("minLength %d is too large", s.MinLength)
	}
	if maxLen >= 0 && maxLen < minLen {
		return nil, fmt.Errorf("maxLength %d < minLength %d", maxLen, minLen)
	}
	spec := formatSpecs[s.Format]
	if s.Pattern != "" {
		prog, re, err := compilePattern(s.Pattern, max(8, minLen))
		if err != nil {
			return nil, err
		}
		if spec != nil {
			if g, err := formatGen(spec, minLen, maxLen); err == nil && sampleOK(g, re, s.Format, false) {
				return g, nil
			}
		}
		g := &strGen{mode: strPattern, prog: prog, minLen: minLen, maxLen: maxLen}
		if !sampleOK(g, re, s.Format, true) {
			return nil, fmt.Errorf("pattern %q cannot be honoured (minLength %d, maxLength %d, format %q)", s.Pattern, minLen, maxLen, s.Format)
		}
		return g, nil
	}
	if spec != nil {
		return formatGen(spec, minLen, maxLen)
	}
	lo, hi := minLen, maxLen
	if lo == 0 && hi != 0 {
		lo = 1 // prefer non-empty strings: servers often reject "" without saying so
	}
	if hi < 0 || hi > lo+32 {
		hi = lo + 12
		if maxLen >= 0 {
			hi = min(hi, maxLen)
		}
	}
	g := &strGen{mode: strPlain, lo: lo, hi: hi, charset: plainChars}
	if s.Format == "password" {
		g.charset = passwordChars
	}
	return g, nil
}

func formatGen(spec *formatSpec, minLen, maxLen int) (*strGen, error) {
	tlo, thi := max(minLen, spec.lo), spec.hi
	if maxLen >= 0 {
		thi = min(thi, maxLen)
	}
	var lens []int32
	for n := max(tlo, spec.nlo); n <= min(thi, spec.nhi) && len(lens) < 64; n++ {
		if spec.lengthOK(n) {
			lens = append(lens, int32(n))
		}
	}
	if len(lens) == 0 {
		for n := tlo; n <= thi && n <= tlo+64; n++ {
			if spec.lengthOK(n) {
				lens = append(lens, int32(n))
			}
		}
	}
	if len(lens) == 0 {
		return nil, fmt.Errorf("format cannot be generated within minLength %d, maxLength %d", minLen, maxLen)
	}
	return &strGen{mode: strFormat, spec: spec, lens: lens}, nil
}

// sampleOK generates patternSamples strings and checks them against re and
// the format. For a pattern generator (needFallback) samples of the wrong
// length are skipped and the first valid one becomes the fallback; it fails
// when no sample is valid. Any sample that does not match fails it.
func sampleOK(g *strGen, re *regexp.Regexp, format string, needFallback bool) bool {
	r := template.NewRand(0x5eed)
	var buf []byte
	good := 0
	for i := 0; i < patternSamples; i++ {
		if g.mode == strPattern {
			var n int
			buf, n = g.prog.gen(buf[:0], r, g.prog.root(), false)
			if n < g.minLen || g.maxLen >= 0 && n > g.maxLen {
				continue
			}
		} else {
			buf = g.gen(buf[:0], r, false)
		}
		str := string(buf)
		if !re.MatchString(str) {
			return false
		}
		if valid, _ := CheckFormat(format, str); !valid {
			return false
		}
		if good == 0 && needFallback {
			g.fbText = []byte(str)
			g.fbJSON = appendJSONString(nil, str)
		}
		good++
	}
	return good > 0
}

// gen appends a string; in JSON mode quoted and escaped.
func (g *strGen) gen(dst []byte, r *template.Rand, js bool) []byte {
	switch g.mode {
	case strFormat:
		n := int(g.lens[r.IntN(uint64(len(g.lens)))])
		if js {
			dst = append(dst, '"')
			dst = g.spec.gen(dst, r, n)
			return append(dst, '"')
		}
		return g.spec.gen(dst, r, n)
	case strPattern:
		for try := 0; try < patternTries; try++ {
			mark := len(dst)
			if js {
				dst = append(dst, '"')
			}
			var n int
			dst, n = g.prog.gen(dst, r, g.prog.root(), js)
			if n >= g.minLen && (g.maxLen < 0 || n <= g.maxLen) {
				if js {
					dst = append(dst, '"')
				}
				return dst
			}
			dst = dst[:mark]
		}
		if js {
			return append(dst, g.fbJSON...)
		}
		return append(dst, g.fbText...)
	}
	n := g.lo + int(r.IntN(uint64(g.hi-g.lo+1)))
	if js {
		dst = append(dst, '"')
	}
	for i := 0; i < n; i++ {
		if js && r.IntN(64) == 0 { // text (parameters) stays ASCII: cookies and headers need it
			dst = utf8.AppendRune(dst, 'é')
			continue
		}
		dst = append(dst, pick(r, g.charset))
	}
	if js {
		dst = append(dst, '"')
	}
	return dst
}

// ---- arrays and objects ----

func (c *compiler) compileArray(id int, s *openapi3.Schema, ptr string, depth int) error {
	minI := int(min(s.MinItems, maxArrayLen+1))
	maxI := -1
	if s.MaxItems != nil {
		maxI = int(min(*s.MaxItems, maxArrayLen+1))
	}
	if minI > maxArrayLen {
		return fmt.Errorf("minItems %d is too large", s.MinItems)
	}
	if maxI >= 0 && maxI < minI {
		return fmt.Errorf("maxItems %d < minItems %d", maxI, minI)
	}
	hiCount := max(minI, c.o.MaxItems)
	if maxI >= 0 {
		hiCount = min(hiCount, maxI)
	}
	limited := depth >= c.o.MaxDepth
	if limited {
		hiCount = minI
	}
	var prefix []int32
	for i, p := range s.PrefixItems {
		if i >= hiCount {
			break
		}
		var ps *openapi3.Schema
		if p != nil {
			ps = p.Value
		}
		child, err := c.build(ps, ptr+"/"+strconv.Itoa(i), id, false, depth+1, false)
		if err != nil {
			return err
		}
		prefix = append(prefix, int32(child))
	}
	item := int32(-1)
	if hiCount > len(prefix) {
		var is *openapi3.Schema
		if s.Items != nil {
			is = s.Items.Value
		}
		mark := len(c.nodes)
		child, err := c.build(is, ptr+"/"+strconv.Itoa(len(prefix)), id, false, depth+1, false)
		switch {
		case err == nil:
			item = int32(child)
		case minI > len(prefix):
			return err
		default:
			c.truncate(mark)
			hiCount = len(prefix)
		}
	}
	n := &c.nodes[id]
	n.prefix, n.item = prefix, item
	n.minItems, n.maxItems = minI, hiCount
	n.unique = s.UniqueItems
	if n.unique && item >= 0 {
		in := &c.nodes[item]
		distinct := -1
		switch {
		case len(in.choices) > 0:
			distinct = len(in.choices)
		case in.kind == Boolean:
			distinct = 2
		case in.kind == Null:
			distinct = 1
		}
		if in.nullable && distinct >= 0 {
			distinct++
		}
		if distinct >= 0 && minI-len(prefix) > distinct {
			return fmt.Errorf("uniqueItems: minItems %d but only %d distinct items", minI, distinct)
		}
		if distinct >= 0 {
			n.maxItems = min(n.maxItems, len(prefix)+distinct)
			// a small finite domain: uniqueness falls back to trying each value
			n.domain = append(n.domain, in.choices...)
			if in.kind == Boolean && len(in.choices) == 0 {
				n.domain = append(n.domain, choice{json: []byte("false"), text: []byte("false")}, choice{json: []byte("true"), text: []byte("true")})
			}
			if in.nullable {
				n.domain = append(n.domain, choice{json: []byte("null"), text: []byte("null"), null: true})
			}
		}
	}
	return nil
}

// readOnly reports whether s is readOnly, also through allOf.
func (c *compiler) readOnly(s *openapi3.Schema) bool {
	if s.ReadOnly {
		return true
	}
	fl, err := c.flat.flatten(s)
	return err == nil && len(fl.alts) == 1 && fl.alts[0].ReadOnly
}

func escapePointer(k string) string {
	k = strings.ReplaceAll(k, "~", "~0")
	return strings.ReplaceAll(k, "/", "~1")
}

func (c *compiler) compileObject(id int, s *openapi3.Schema, ptr string, depth int) error {
	limited := depth >= c.o.MaxDepth
	required := map[string]bool{}
	for _, k := range s.Required {
		required[k] = true
	}
	// dependentRequired: a required key drags its dependents in; optional
	// keys with dependents are never emitted.
	for changed := true; changed; {
		changed = false
		for k, deps := range s.DependentRequired {
			if !required[k] {
				continue
			}
			for _, d := range deps {
				if !required[d] {
					required[d], changed = true, true
				}
			}
		}
	}
	keys := make([]string, 0, len(s.Properties)+len(required))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	for k := range required {
		if _, ok := s.Properties[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var props []prop
	optCount, reqCount := 0, 0
	for _, k := range keys {
		req := required[k]
		var ps *openapi3.Schema
		if r, ok := s.Properties[k]; ok {
			if r != nil {
				ps = r.Value
			}
		} else { // required but not declared: the additionalProperties schema applies
			if h := s.AdditionalProperties.Has; h != nil && !*h {
				return fmt.Errorf("required property %q is forbidden by additionalProperties: false", k)
			}
			if r := s.AdditionalProperties.Schema; r != nil {
				ps = r.Value
			}
		}
		if c.o.Request && ps != nil && c.readOnly(ps) {
			continue
		}
		if !req && (limited || len(s.DependentRequired[k]) > 0) {
			continue
		}
		mark := len(c.nodes)
		child, err := c.build(ps, ptr+"/"+escapePointer(k), id, req, depth+1, false)
		if err != nil {
			if req {
				return err
			}
			c.truncate(mark)
			continue
		}
		props = append(props, prop{key: k, keyJSON: append(appendJSONString(nil, k), ':'), node: int32(child), required: req})
		if req {
			reqCount++
		} else {
			optCount++
		}
	}
	minP := int(min(s.MinProps, maxNodes))
	maxP := -1
	if s.MaxProps != nil {
		maxP = int(min(*s.MaxProps, maxNodes))
	}
	if maxP >= 0 && reqCount > maxP {
		return fmt.Errorf("%d required properties but maxProperties %d", reqCount, maxP)
	}
	if maxP >= 0 && maxP < minP {
		return fmt.Errorf("maxProperties %d < minProperties %d", maxP, minP)
	}
	var extras []prop
	for i := 1; len(props)+len(extras) < minP; i++ {
		if h := s.AdditionalProperties.Has; h != nil && !*h {
			return fmt.Errorf("minProperties %d needs additional properties, which are forbidden", minP)
		}
		k := "extra" + strconv.Itoa(i)
		if _, clash := s.Properties[k]; clash {
			continue
		}
		var as *openapi3.Schema
		if r := s.AdditionalProperties.Schema; r != nil {
			as = r.Value
		}
		child, err := c.build(as, ptr+"/"+k, id, false, depth+1, false)
		if err != nil {
			return err
		}
		extras = append(extras, prop{key: k, keyJSON: append(appendJSONString(nil, k), ':'), node: int32(child)})
	}
	n := &c.nodes[id]
	n.props, n.extras, n.optCount = props, extras, optCount
	n.minOpt = max(0, minP-reqCount)
	if maxP >= 0 {
		n.maxOpt = maxP - reqCount
	}
	return nil
}
