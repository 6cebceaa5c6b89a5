package scenarios

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/barrage-dev/barrage/internal/template"
)

const (
	// maxDepth bounds the nesting of mappings and sequences (and of alias
	// hops), so that a self-referencing alias cannot recurse forever.
	maxDepth = 64
	// maxNodes bounds the nodes visited while decoding, so that aliases
	// cannot expand a small file into a huge one.
	maxNodes = 100_000
)

var errParserPanic = errors.New("yaml parser failed on this input")

// pos is a 1-based line and column.
type pos struct{ line, col int }

func (p pos) String() string { return fmt.Sprintf("%d:%d", p.line, p.col) }

func tokPos(tk *token.Token) pos {
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// nodePos is where an error about node n points: its first character.
func nodePos(n ast.Node) pos {
	switch x := n.(type) {
	case nil:
		return pos{1, 1}
	case *ast.MappingNode:
		if !x.IsFlowStyle && len(x.Values) > 0 {
			return nodePos(x.Values[0].Key)
		}
		return tokPos(x.Start)
	case *ast.MappingValueNode:
		return nodePos(x.Key)
	case *ast.MappingKeyNode:
		return tokPos(x.Start)
	case *ast.SequenceNode:
		return tokPos(x.Start)
	case *ast.LiteralNode:
		return tokPos(x.Start)
	case *ast.AnchorNode:
		return tokPos(x.Start)
	case *ast.AliasNode:
		return tokPos(x.Start)
	case *ast.TagNode:
		return tokPos(x.Start)
	}
	return tokPos(n.GetToken())
}

// anchorDef is one "&name" in the file.
type anchorDef struct {
	offset int
	value  ast.Node
}

// decoder walks the YAML AST of one file, collecting every error.
type decoder struct {
	file    string
	env     map[string]string
	errs    ErrorList
	anchors map[string][]anchorDef
	nodes   int
	// overBudget is set once maxNodes is exceeded; decoding then stops.
	overBudget bool
	// active holds the json nodes being compiled, to catch an alias that
	// refers to a node containing it.
	active map[ast.Node]bool
}

func (d *decoder) errorAt(p pos, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

// errorf reports a problem with the value at path, at position p.
func (d *decoder) errorf(p pos, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.errorAt(p, "%s", msg)
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// collectAnchors records every anchor of the document, in file order.
func (d *decoder) collectAnchors(n ast.Node) {
	d.anchors = map[string][]anchorDef{}
	ast.Walk(visitFunc(func(n ast.Node) {
		if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil && a.Start != nil && a.Start.Position != nil {
			name := a.Name.GetToken().Value
			d.anchors[name] = append(d.anchors[name], anchorDef{offset: a.Start.Position.Offset, value: a.Value})
		}
	}), n)
}

type visitFunc func(ast.Node)

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if n == nil {
		return nil
	}
	f(n)
	return f
}

// resolve follows anchors and aliases to the node that holds the value.
// A "!!str" tag is returned as is (string decoding handles it); any other
// tag is an error. It returns nil after reporting an error.
func (d *decoder) resolve(n ast.Node, path string) ast.Node {
	d.nodes++
	if d.nodes > maxNodes {
		if !d.overBudget {
			d.overBudget = true
			d.errorf(nodePos(n), path, "file too large once aliases are expanded (more than %d nodes)", maxNodes)
		}
		return nil
	}
	for hops := 0; ; hops++ {
		if hops > maxDepth {
			d.errorf(nodePos(n), path, "too many nested aliases")
			return nil
		}
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.AliasNode:
			name := ""
			if x.Value != nil {
				name = x.Value.GetToken().Value
			}
			target := d.anchorBefore(name, x.Start)
			if target == nil {
				d.errorf(nodePos(x), path, "unknown alias *%s (define it first with &%s)", name, name)
				return nil
			}
			n = target
		case *ast.TagNode:
			if x.Start != nil && x.Start.Value == "!!str" {
				return x
			}
			tag := ""
			if x.Start != nil {
				tag = x.Start.Value
			}
			d.errorf(nodePos(x), path, "unsupported tag %s (only !!str is supported)", tag)
			return nil
		default:
			return n
		}
	}
}

// anchorBefore returns the value of the last anchor named name defined
// before the alias token tk.
func (d *decoder) anchorBefore(name string, tk *token.Token) ast.Node {
	off := math.MaxInt
	if tk != nil && tk.Position != nil {
		off = tk.Position.Offset
	}
	var v ast.Node
	for _, a := range d.anchors[name] {
		if a.offset < off {
			v = a.value
		}
	}
	return v
}

// describe names the type (and, for scalars, the value) of n for messages
// such as `expected a number, got string "fast"`.
func describe(n ast.Node) string {
	switch x := n.(type) {
	case *ast.StringNode:
		return "string " + shortQuote(x.Value)
	case *ast.LiteralNode:
		if x.Value != nil {
			return "string " + shortQuote(x.Value.Value)
		}
		return "string"
	case *ast.TagNode:
		if x.Value != nil {
			return "string " + shortQuote(x.Value.GetToken().Value)
		}
		return "string"
	case *ast.IntegerNode:
		return "integer " + x.Token.Value
	case *ast.FloatNode:
		return "float " + x.Token.Value
	case *ast.InfinityNode:
		return "float " + x.Token.Value
	case *ast.NanNode:
		return "float " + x.Token.Value
	case *ast.BoolNode:
		return "boolean " + x.Token.Value
	case *ast.NullNode:
		return "null"
	case *ast.MappingNode:
		return "mapping"
	case *ast.SequenceNode:
		return "sequence"
	}
	return n.Type().String()
}

// shortQuote quotes s for a message, eliding the middle of long values.
func shortQuote(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		r := []rune(s)
		s = string(r[:limit-10]) + "…" + string(r[len(r)-5:])
	}
	return strconv.Quote(s)
}

// entry is one key: value pair of a mapping.
type entry struct {
	name  string
	key   pos
	value ast.Node
}

// mapping returns the entries of the mapping n in file order. It reports
// (and drops) duplicate keys, merge keys and non-scalar keys. ok is false
// when n is not a mapping.
func (d *decoder) mapping(n ast.Node, path string) ([]entry, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return nil, false
	}
	m, isMap := n.(*ast.MappingNode)
	if !isMap {
		d.errorf(nodePos(n), path, "expected a mapping, got %s", describe(n))
		return nil, false
	}
	var out []entry
	first := map[string]pos{}
	for _, mv := range m.Values {
		var key ast.Node = mv.Key
		if mk, ok := key.(*ast.MappingKeyNode); ok {
			key = mk.Value
		}
		kp := nodePos(key)
		if _, ok := key.(*ast.MergeKeyNode); ok {
			d.errorf(kp, path, "merge keys (<<) are not supported")
			continue
		}
		key = d.resolve(key, path)
		if key == nil {
			continue
		}
		if _, ok := key.(ast.ScalarNode); !ok {
			d.errorf(kp, path, "expected a scalar key, got %s", describe(key))
			continue
		}
		name := key.GetToken().Value
		if at, dup := first[name]; dup {
			d.errorf(kp, path, "duplicate key %s (first at %s)", strconv.Quote(name), at)
			continue
		}
		first[name] = kp
		out = append(out, entry{name: name, key: kp, value: mv.Value})
	}
	return out, true
}

// fields is a decoded mapping with a fixed set of keys.
type fields struct {
	path string
	at   pos // where "missing required field" errors point
	m    map[string]entry
}

// object decodes the mapping n whose keys must be among allowed. at is
// where errors about the whole mapping point (its key in the parent).
func (d *decoder) object(n ast.Node, path string, at pos, allowed ...string) (fields, bool) {
	f := fields{path: path, at: at, m: map[string]entry{}}
	entries, ok := d.mapping(n, path)
	if !ok {
		return f, false
	}
	for _, e := range entries {
		if !slices.Contains(allowed, e.name) {
			d.errorf(e.key, path, "unknown field %s%s; allowed: %s", strconv.Quote(e.name), suggest(e.name, allowed), strings.Join(allowed, ", "))
			continue
		}
		f.m[e.name] = e
	}
	return f, true
}

// opt returns the entry for an optional key; ok is false when the key is
// absent or its value is null.
func (f fields) opt(name string) (entry, bool) {
	e, ok := f.m[name]
	if !ok {
		return e, false
	}
	if _, null := e.value.(*ast.NullNode); null || e.value == nil {
		return e, false
	}
	return e, true
}

// req returns the entry for a required key, reporting it when absent.
func (d *decoder) req(f fields, name string) (entry, bool) {
	e, ok := f.m[name]
	if !ok {
		d.errorf(f.at, f.path, "missing required field %s", strconv.Quote(name))
	}
	return e, ok
}

// suggest returns `, did you mean "x"?` when a close allowed name exists.
func suggest(name string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if dist := editDistance(strings.ToLower(name), a); dist < bestDist {
			best, bestDist = a, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", strconv.Quote(best))
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// sequence returns the items of the sequence n.
func (d *decoder) sequence(n ast.Node, path string) ([]ast.Node, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return nil, false
	}
	s, ok := n.(*ast.SequenceNode)
	if !ok {
		d.errorf(nodePos(n), path, "expected a sequence, got %s", describe(n))
		return nil, false
	}
	return s.Values, true
}

// str is a decoded string scalar.
type str struct {
	raw string // the scalar's value, before variable expansion
	val string // after expansion
	exp expansion
	// node is the scalar node (a *StringNode, *LiteralNode or !!str
	// *TagNode); tok is the token holding the value text.
	node ast.Node
	tok  *token.Token
}

// scalarText returns the raw text of a string scalar and its token.
func scalarText(n ast.Node) (string, *token.Token, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, x.Token, true
	case *ast.LiteralNode:
		if x.Value == nil {
			return "", x.Start, true
		}
		return x.Value.Value, x.Value.Token, true
	case *ast.TagNode:
		if x.Value == nil {
			return "", x.Start, true
		}
		if s, ok := x.Value.(*ast.StringNode); ok {
			return s.Value, s.Token, true
		}
		if _, ok := x.Value.(ast.ScalarNode); ok {
			tk := x.Value.GetToken()
			return tk.Value, tk, true
		}
	}
	return "", nil, false
}

// str decodes a string scalar and expands variables in it. For template
// fields, variable values are quoted so that they render literally.
func (d *decoder) str(n ast.Node, path string, isTemplate bool) (str, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return str{}, false
	}
	raw, tk, ok := scalarText(n)
	if !ok {
		d.errorf(nodePos(n), path, "expected a string, got %s", describe(n))
		return str{}, false
	}
	s := str{raw: raw, node: n, tok: tk}
	var quote func(string) string
	if isTemplate {
		quote = template.Quote
	}
	val, exp, errs := expand(raw, d.env, quote)
	for _, e := range errs {
		d.errorAtOffset(s, e.off, path, "%s", e.msg)
	}
	s.val, s.exp = val, exp
	return s, len(errs) == 0
}

// errorAtOffset reports a problem at byte off of s.raw: at its exact line
// and column when the scalar's source maps plainly onto its value, and at
// the scalar with the offset in the message otherwise.
func (d *decoder) errorAtOffset(s str, off int, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p, ok := offsetPos(s, off); ok {
		d.errorf(p, path, "%s", msg)
		return
	}
	d.errorf(nodePos(s.node), path, "%s (at byte %d of the value)", msg, off)
}

// offsetPos maps byte off of s.raw to a source position, for plain and
// quoted single-line scalars without escapes, and for literal (|) blocks.
func offsetPos(s str, off int) (pos, bool) {
	if s.tok == nil || s.tok.Position == nil || off < 0 || off > len(s.raw) {
		return pos{}, false
	}
	p := tokPos(s.tok)
	if lit, ok := s.node.(*ast.LiteralNode); ok {
		return literalPos(lit, s.raw, off)
	}
	src := strings.Trim(s.tok.Origin, " \t\r\n")
	switch s.tok.Type {
	case token.DoubleQuoteType, token.SingleQuoteType:
		if len(src) < 2 {
			return pos{}, false
		}
		src = src[1 : len(src)-1]
		p.col++
	}
	if src != s.raw || strings.ContainsAny(src, "\r\n") {
		return pos{}, false
	}
	p.col += utf8.RuneCountInString(s.raw[:off])
	return p, true
}

// literalPos maps byte off of the value of a literal block scalar (|) to
// its source position, checking that the block's lines are the value's
// lines behind a common indentation.
func literalPos(lit *ast.LiteralNode, raw string, off int) (pos, bool) {
	if lit.Start == nil || lit.Start.Position == nil || lit.Value == nil || !strings.HasPrefix(lit.Start.Value, "|") {
		return pos{}, false
	}
	origin := strings.TrimPrefix(lit.Value.Token.Origin, "\n")
	lines := strings.Split(origin, "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimLeft(l, " ") != "" {
			indent = len(l) - len(strings.TrimLeft(l, " "))
			break
		}
	}
	if indent < 0 {
		return pos{}, false
	}
	for i, l := range lines {
		lines[i] = l[min(indent, len(l)-len(strings.TrimLeft(l, " "))):]
	}
	if !strings.HasPrefix(strings.Join(lines, "\n"), strings.TrimRight(raw, "\n")) {
		return pos{}, false
	}
	before := raw[:off]
	line := strings.Count(before, "\n")
	lineStart := strings.LastIndexByte(before, '\n') + 1
	return pos{
		line: lit.Start.Position.Line + 1 + line,
		col:  indent + 1 + utf8.RuneCountInString(before[lineStart:]),
	}, true
}

// tmpl decodes a template string and parses it. It returns the template
// source (variables expanded) and the parsed template.
func (d *decoder) tmpl(n ast.Node, path string) (str, *template.Template, bool) {
	s, ok := d.str(n, path, true)
	if !ok {
		return s, nil, false
	}
	t, err := template.Parse(s.val)
	if err != nil {
		var se *template.SyntaxError
		if errors.As(err, &se) {
			d.errorAtOffset(s, s.exp.rawOffset(se.Offset), path, "invalid template: %s", se.Msg)
		} else {
			d.errorf(nodePos(s.node), path, "invalid template: %v", err)
		}
		return s, nil, false
	}
	return s, t, true
}

// refText returns the text of a string scalar holding a variable
// reference, expanded, for numeric and boolean fields ("rate: ${RATE}").
// isRef is false when n is not such a scalar; ok is false after an
// expansion error was reported.
func (d *decoder) refText(n ast.Node, path string) (text string, isRef, ok bool) {
	raw, _, isStr := scalarText(n)
	if !isStr || !strings.Contains(raw, "${") {
		return "", false, false
	}
	s, ok := d.str(n, path, false)
	return strings.TrimSpace(s.val), true, ok
}

// float decodes a number. ok is false after an error was reported.
func (d *decoder) float(n ast.Node, path string) (float64, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return 0, false
	}
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			return float64(v), true
		case uint64:
			return float64(v), true
		}
	case *ast.FloatNode:
		return x.Value, true
	case *ast.InfinityNode:
		return x.Value, true
	case *ast.NanNode:
		return math.NaN(), true
	}
	if text, isRef, ok := d.refText(n, path); isRef {
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseFloat(text, 64)
		if err == nil {
			return v, true
		}
		d.errorf(nodePos(n), path, "expected a number, got %s after expanding variables", shortQuote(text))
		return 0, false
	}
	d.errorf(nodePos(n), path, "expected a number, got %s", describe(n))
	return 0, false
}

// integer decodes an integer in [lo, hi].
func (d *decoder) integer(n ast.Node, path string, lo, hi int64) (int64, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return 0, false
	}
	var v int64
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch iv := x.Value.(type) {
		case int64:
			v = iv
		case uint64:
			if iv > math.MaxInt64 {
				d.errorf(nodePos(n), path, "must be between %d and %d, got %d", lo, hi, iv)
				return 0, false
			}
			v = int64(iv)
		}
	default:
		text, isRef, ok := d.refText(n, path)
		if !isRef {
			if big, isBig := bigInteger(n); isBig {
				d.errorf(nodePos(n), path, "must be between %d and %d, got %s", lo, hi, big)
			} else {
				d.errorf(nodePos(n), path, "expected an integer, got %s", describe(n))
			}
			return 0, false
		}
		if !ok {
			return 0, false
		}
		iv, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			d.errorf(nodePos(n), path, "expected an integer, got %s after expanding variables", shortQuote(text))
			return 0, false
		}
		v = iv
	}
	if v < lo || v > hi {
		if hi == math.MaxInt64 {
			d.errorf(nodePos(n), path, "must be >= %d, got %d", lo, v)
		} else {
			d.errorf(nodePos(n), path, "must be between %d and %d, got %d", lo, hi, v)
		}
		return 0, false
	}
	return v, true
}

// bigInteger reports whether n is a plain scalar of decimal digits too
// large for the YAML parser's integers (it reads those as strings).
func bigInteger(n ast.Node) (string, bool) {
	x, ok := n.(*ast.StringNode)
	if !ok || x.Token == nil || x.Token.Type != token.StringType {
		return "", false
	}
	t := strings.TrimPrefix(strings.TrimPrefix(x.Value, "-"), "+")
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return "", false
	}
	return x.Value, true
}

// uint decodes an unsigned 64-bit integer.
func (d *decoder) uint(n ast.Node, path string) (uint64, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return 0, false
	}
	var text string
	switch x := n.(type) {
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			if v >= 0 {
				return uint64(v), true
			}
		case uint64:
			return v, true
		}
		text = x.Token.Value
	default:
		t, isRef, ok := d.refText(n, path)
		if !isRef {
			if big, isBig := bigInteger(n); isBig {
				text = big
				break
			}
			d.errorf(nodePos(n), path, "expected an unsigned integer, got %s", describe(n))
			return 0, false
		}
		if !ok {
			return 0, false
		}
		text = t
		if v, err := strconv.ParseUint(text, 10, 64); err == nil {
			return v, true
		}
	}
	d.errorf(nodePos(n), path, "must be an integer between 0 and %d, got %s", uint64(math.MaxUint64), text)
	return 0, false
}

// boolean decodes true or false.
func (d *decoder) boolean(n ast.Node, path string) (bool, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return false, false
	}
	if b, ok := n.(*ast.BoolNode); ok {
		return b.Value, true
	}
	if text, isRef, ok := d.refText(n, path); isRef {
		if !ok {
			return false, false
		}
		switch text {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		d.errorf(nodePos(n), path, "expected true or false, got %s after expanding variables", shortQuote(text))
		return false, false
	}
	d.errorf(nodePos(n), path, "expected true or false, got %s", describe(n))
	return false, false
}

// duration decodes a Go duration string with a unit ("500ms", "1h30m"). It
// also returns the value's position for range errors.
func (d *decoder) duration(n ast.Node, path string) (time.Duration, pos, bool) {
	n = d.resolve(n, path)
	if n == nil {
		return 0, pos{}, false
	}
	p := nodePos(n)
	switch x := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode:
		t := x.GetToken().Value
		d.errorf(p, path, "expected a duration with a unit, got number %s; add a unit, e.g. \"%ss\" or \"%sms\"", t, t, t)
		return 0, p, false
	}
	if _, _, isStr := scalarText(n); !isStr {
		d.errorf(p, path, "expected a duration such as \"500ms\" or \"2m\", got %s", describe(n))
		return 0, p, false
	}
	s, ok := d.str(n, path, false)
	if !ok {
		return 0, p, false
	}
	text := strings.TrimSpace(s.val)
	v, err := time.ParseDuration(text)
	if err != nil {
		if _, numErr := strconv.ParseFloat(text, 64); numErr == nil {
			d.errorf(p, path, "duration %s has no unit; add one, e.g. \"%ss\" or \"%sms\"", strconv.Quote(text), text, text)
		} else {
			d.errorf(p, path, "invalid duration %s; want a number with a unit (ns, us, ms, s, m, h) such as \"500ms\", \"2m\" or \"1h30m\"", shortQuote(text))
		}
		return 0, p, false
	}
	return v, p, true
}

// fmtDuration formats d compactly for messages: 1m rather than 1m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
