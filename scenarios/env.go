package scenarios

import (
	"slices"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// envRef is one "$" construct in a string scalar: "$$", "${NAME}",
// "${NAME:-default}", or a malformed "${".
type envRef struct {
	start, end int // byte range in the raw string
	name       string
	def        string
	hasDef     bool
	escape     bool // "$$"
	bad        bool // malformed; covers "${" only
}

// nextRef finds the next "$" construct in s at or after i. A "$" followed
// by anything but "$" or "{" is plain text and is skipped.
func nextRef(s string, i int) (envRef, bool) {
	for {
		k := strings.IndexByte(s[i:], '$')
		if k < 0 {
			return envRef{}, false
		}
		p := i + k
		if p+1 >= len(s) {
			return envRef{}, false
		}
		switch s[p+1] {
		case '$':
			return envRef{start: p, end: p + 2, escape: true}, true
		case '{':
			return parseRef(s, p), true
		}
		i = p + 1
	}
}

// parseRef parses the "${...}" starting at s[p].
func parseRef(s string, p int) envRef {
	bad := envRef{start: p, end: p + 2, bad: true}
	q := p + 2
	for q < len(s) && isNameByte(s[q], q == p+2) {
		q++
	}
	if q == p+2 {
		return bad
	}
	name := s[p+2 : q]
	if strings.HasPrefix(s[q:], "}") {
		return envRef{start: p, end: q + 1, name: name}
	}
	if strings.HasPrefix(s[q:], ":-") {
		c := strings.IndexByte(s[q+2:], '}')
		if c < 0 {
			return bad
		}
		return envRef{start: p, end: q + 2 + c + 1, name: name, def: s[q+2 : q+2+c], hasDef: true}
	}
	return bad
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

// substitution is one replaced region: raw[rawStart:rawEnd] became
// out[outStart:outEnd].
type substitution struct {
	outStart, outEnd int
	rawStart, rawEnd int
}

// expansion maps byte offsets of an expanded string back to the raw string.
type expansion []substitution

// rawOffset returns the offset in the raw string of byte off of the
// expanded one. An offset inside a substituted value maps to the start of
// its reference.
func (e expansion) rawOffset(off int) int {
	delta := 0
	for _, s := range e {
		if off < s.outStart {
			break
		}
		if off < s.outEnd {
			return s.rawStart
		}
		delta = s.rawEnd - s.outEnd
	}
	return off + delta
}

// envError is a problem with a reference at byte off of the raw string.
type envError struct {
	off int
	msg string
}

// expand replaces the references in s with values from env. quote, when
// not nil, is applied to each substituted value (and default), so that
// template fields take variables literally.
func expand(s string, env map[string]string, quote func(string) string) (string, expansion, []envError) {
	if !strings.Contains(s, "$") {
		return s, nil, nil
	}
	var (
		b    strings.Builder
		exp  expansion
		errs []envError
		last int
	)
	for i := 0; ; {
		r, ok := nextRef(s, i)
		if !ok {
			break
		}
		i = r.end
		var val string
		switch {
		case r.escape:
			val = "$"
		case r.bad:
			errs = append(errs, envError{r.start, "invalid variable reference; want ${NAME} or ${NAME:-default} (NAME is letters, digits and _; write $$ for a literal $)"})
			continue
		default:
			v, set := env[r.name]
			switch {
			case r.hasDef && (!set || v == ""):
				val = r.def
			case set:
				val = v
			default:
				errs = append(errs, envError{r.start, "environment variable " + r.name + " is not set (write ${" + r.name + ":-default} to give a default)"})
				continue
			}
			if quote != nil {
				val = quote(val)
			}
		}
		b.WriteString(s[last:r.start])
		start := b.Len()
		b.WriteString(val)
		exp = append(exp, substitution{outStart: start, outEnd: b.Len(), rawStart: r.start, rawEnd: r.end})
		last = r.end
	}
	if exp == nil {
		return s, nil, errs
	}
	b.WriteString(s[last:])
	return b.String(), exp, errs
}

// EnvRefs returns the sorted, unique names of the environment variables
// that src references as ${NAME} or ${NAME:-default} in its string values
// (keys are never expanded). When src is not valid YAML it scans the raw
// text instead, so the result may then include references from comments.
func EnvRefs(src []byte) []string {
	seen := map[string]bool{}
	add := func(s string) {
		for i := 0; ; {
			r, ok := nextRef(s, i)
			if !ok {
				return
			}
			i = r.end
			if r.name != "" {
				seen[r.name] = true
			}
		}
	}
	f, err := parseYAML(src)
	if err != nil {
		add(string(src))
	} else {
		for _, doc := range f.Docs {
			walkStrings(doc.Body, add, 0)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// walkStrings calls fn with every string value (not key) under n.
func walkStrings(n ast.Node, fn func(string), depth int) {
	if n == nil || depth > maxDepth {
		return
	}
	switch x := n.(type) {
	case *ast.StringNode:
		fn(x.Value)
	case *ast.LiteralNode:
		if x.Value != nil {
			fn(x.Value.Value)
		}
	case *ast.MappingNode:
		for _, v := range x.Values {
			walkStrings(v.Value, fn, depth+1)
		}
	case *ast.MappingValueNode:
		walkStrings(x.Value, fn, depth+1)
	case *ast.SequenceNode:
		for _, v := range x.Values {
			walkStrings(v, fn, depth+1)
		}
	case *ast.AnchorNode:
		walkStrings(x.Value, fn, depth+1)
	case *ast.TagNode:
		walkStrings(x.Value, fn, depth+1)
	}
}

// parseYAML runs the YAML parser, turning a panic inside it into an error.
func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errParserPanic
		}
	}()
	return parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
}
