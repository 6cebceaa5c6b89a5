package scenarios

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"

	"github.com/barrage-dev/barrage/internal/template"
)

// jsonBody compiles the YAML value n into a body template whose every
// rendering is valid JSON:
//
//   - mappings, sequences, numbers, booleans and null map to their JSON
//     counterparts (keys are literal strings, not templates);
//   - a string that is exactly one {{int A B}} or {{seq}} renders as a JSON
//     number;
//   - any other string is a template rendered inside the quotes: its text is
//     JSON-escaped now, {{pick}} options are JSON-escaped now, and {{int}},
//     {{uuid}} and {{seq}} render only characters that need no escaping.
func (d *decoder) jsonBody(n ast.Node, path string) string {
	var b strings.Builder
	d.jsonValue(&b, n, path, 0)
	if b.Len() > MaxBodySize {
		d.errorf(nodePos(n), path, "compiled body is larger than %d bytes", MaxBodySize)
	}
	return b.String()
}

func (d *decoder) jsonValue(b *strings.Builder, n ast.Node, path string, depth int) {
	if b.Len() > MaxBodySize {
		return // reported once by jsonBody
	}
	if depth > maxDepth {
		d.errorf(nodePos(n), path, "nested more than %d levels deep", maxDepth)
		return
	}
	at := nodePos(n)
	n = d.resolve(n, path)
	if n == nil {
		return
	}
	if d.active[n] {
		d.errorf(at, path, "alias refers to a value that contains it")
		return
	}
	if d.active == nil {
		d.active = map[ast.Node]bool{}
	}
	d.active[n] = true
	defer delete(d.active, n)
	switch x := n.(type) {
	case *ast.MappingNode:
		entries, _ := d.mapping(x, path)
		b.WriteByte('{')
		for i, e := range entries {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(template.Quote(appendJSONString(nil, e.name)))
			b.WriteByte(':')
			d.jsonValue(b, e.value, joinPath(path, e.name), depth+1)
		}
		b.WriteByte('}')
	case *ast.SequenceNode:
		b.WriteByte('[')
		for i, v := range x.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			d.jsonValue(b, v, indexPath(path, i), depth+1)
		}
		b.WriteByte(']')
	case *ast.NullNode:
		b.WriteString("null")
	case *ast.BoolNode:
		b.WriteString(strconv.FormatBool(x.Value))
	case *ast.IntegerNode:
		switch v := x.Value.(type) {
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case uint64:
			b.WriteString(strconv.FormatUint(v, 10))
		default:
			d.errorf(nodePos(x), path, "invalid integer %s", x.Token.Value)
		}
	case *ast.FloatNode:
		if math.IsInf(x.Value, 0) || math.IsNaN(x.Value) {
			d.errorf(nodePos(x), path, "number %s is out of range for JSON", x.Token.Value)
			return
		}
		b.WriteString(strconv.FormatFloat(x.Value, 'g', -1, 64))
	case *ast.InfinityNode, *ast.NanNode:
		d.errorf(nodePos(x), path, "%s is not a JSON number", x.GetToken().Value)
	default:
		d.jsonString(b, n, path)
	}
}

// jsonString compiles a string scalar (a template) into JSON.
func (d *decoder) jsonString(b *strings.Builder, n ast.Node, path string) {
	_, t, ok := d.tmpl(n, path)
	if !ok {
		return
	}
	segs := t.Segments()
	if t.Number() {
		b.WriteString(segs[0].String())
		return
	}
	b.WriteByte('"')
	for _, s := range segs {
		switch s.Kind {
		case template.KindText:
			b.WriteString(template.Quote(string(appendJSONInner(nil, s.Text))))
		case template.KindPick:
			opts := make([]string, len(s.Options))
			for i, o := range s.Options {
				opts[i] = string(appendJSONInner(nil, o))
			}
			s.Options = opts
			b.WriteString(s.String())
		default: // int, uuid, seq: digits, '-' and hex letters only
			b.WriteString(s.String())
		}
	}
	b.WriteByte('"')
}

// appendJSONString appends s as a quoted JSON string.
func appendJSONString(dst []byte, s string) string {
	dst = append(dst, '"')
	dst = appendJSONInner(dst, s)
	return string(append(dst, '"'))
}

// appendJSONInner appends s JSON-escaped, without quotes. Invalid UTF-8
// becomes U+FFFD.
func appendJSONInner(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return dst
}
