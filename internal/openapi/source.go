package openapi

import (
	"errors"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// source is one file of a description: its bytes and, parsed on demand,
// its YAML node tree (JSON is YAML), used to put positions on problems.
type source struct {
	name   string // as reported in errors
	data   []byte
	parsed bool
	root   *yaml.Node // the top-level value; nil when it does not parse
	err    error      // why it does not parse

	// keys indexes the keys of large mappings, built on first lookup, so
	// that locating many pointers in a large file stays linear.
	keys map[*yaml.Node]map[string]int
}

// treeSource wraps a parsed tree, for looking things up in it.
func treeSource(root *yaml.Node) *source {
	return &source{parsed: true, root: root}
}

// indexFrom is the size from which mappings are indexed.
const indexFrom = 32

// mapValue returns the key and value nodes of key in mapping m, or nils.
func (s *source) mapValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	if len(m.Content) < 2*indexFrom {
		return mapValue(m, key)
	}
	ix, ok := s.keys[m]
	if !ok {
		ix = make(map[string]int, len(m.Content)/2)
		for i := 0; i+1 < len(m.Content); i += 2 {
			if kn := m.Content[i]; kn.Kind == yaml.ScalarNode {
				if _, dup := ix[kn.Value]; !dup {
					ix[kn.Value] = i
				}
			}
		}
		if s.keys == nil {
			s.keys = map[*yaml.Node]map[string]int{}
		}
		s.keys[m] = ix
	}
	if i, ok := ix[key]; ok {
		return m.Content[i], m.Content[i+1]
	}
	return nil, nil
}

// tree returns the top-level node of the file, or nil when the file does
// not parse as YAML.
func (s *source) tree() *yaml.Node {
	if !s.parsed {
		s.parsed = true
		s.root, s.err = parseYAML(s.data)
	}
	return s.root
}

// errEmpty is the parse error of a file without a document.
var errEmpty = errors.New("the file is empty")

// parseYAML parses data into a node tree and returns its top-level value.
func parseYAML(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil, errEmpty
		}
		return doc.Content[0], nil
	}
	if doc.Kind == 0 {
		return nil, errEmpty
	}
	return &doc, nil
}

// yamlErrorPos returns the position a YAML parse error names, or 0, 0.
func yamlErrorPos(err error) (line, col int, msg string) {
	var le *yaml.LoadError
	if errors.As(err, &le) {
		return le.Mark.Line, le.Mark.Column, le.Message
	}
	var les *yaml.LoadErrors
	if errors.As(err, &les) && len(les.Errors) > 0 {
		e := les.Errors[0]
		return e.Mark.Line, e.Mark.Column, e.Message
	}
	return 0, 0, err.Error()
}

// maxAliasHops bounds how many aliases locate follows in a row, so an
// alias loop cannot hold it.
const maxAliasHops = 64

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasHops; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// mapValue returns the key and value nodes of key in mapping m, or nils.
func mapValue(m *yaml.Node, key string) (k, v *yaml.Node) {
	m = deref(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if kn := m.Content[i]; kn.Kind == yaml.ScalarNode && kn.Value == key {
			return kn, m.Content[i+1]
		}
	}
	return nil, nil
}

// locate walks pointer down from root as far as it exists and returns the
// pointer of the deepest element it reached (a prefix of pointer) and that
// element's position: its key's when it is a mapping member, else its own.
func (s *source) locate(pointer string) (found string, line, col int) {
	n := deref(s.tree())
	if n == nil {
		return "", 0, 0
	}
	line, col = n.Line, n.Column
	var reached []string
	for _, tok := range splitPointer(pointer) {
		switch n.Kind {
		case yaml.MappingNode:
			k, v := s.mapValue(n, tok)
			if k == nil {
				return joinPointer(reached), line, col
			}
			line, col = k.Line, k.Column
			n = deref(v)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) || tok != strconv.Itoa(i) {
				return joinPointer(reached), line, col
			}
			item := n.Content[i]
			line, col = item.Line, item.Column
			n = deref(item)
		default:
			return joinPointer(reached), line, col
		}
		reached = append(reached, tok)
		if n == nil {
			break
		}
	}
	return joinPointer(reached), line, col
}

// findRef returns the pointer, position and value of the first "$ref"
// member whose value matches, searching the tree depth first in document
// order.
func findRef(root *yaml.Node, match func(string) bool) (pointer string, line, col int, ref string, ok bool) {
	var path []string
	budget := 1 << 20 // nodes visited at most
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		budget--
		if n == nil || budget < 0 {
			return false
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.Value == "$ref" && v.Kind == yaml.ScalarNode && match(v.Value) {
					pointer = joinPointer(append(path, "$ref"))
					line, col, ref = v.Line, v.Column, v.Value
					return true
				}
				path = append(path, k.Value)
				if walk(v) {
					return true
				}
				path = path[:len(path)-1]
			}
		case yaml.SequenceNode:
			for i, v := range n.Content {
				path = append(path, strconv.Itoa(i))
				if walk(v) {
					return true
				}
				path = path[:len(path)-1]
			}
		}
		// Aliases are not followed: the anchor they name was searched where
		// it was written.
		return false
	}
	ok = walk(root)
	return pointer, line, col, ref, ok
}

// splitPointer returns the unescaped tokens of a JSON pointer.
func splitPointer(p string) []string {
	p = strings.TrimPrefix(p, "#")
	if p == "" {
		return nil
	}
	p = strings.TrimPrefix(p, "/")
	toks := strings.Split(p, "/")
	for i, t := range toks {
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks
}

// escapeToken escapes one JSON pointer token.
func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// joinPointer builds a JSON pointer from unescaped tokens.
func joinPointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// pointer builds a JSON pointer from unescaped tokens.
func pointer(toks ...string) string { return joinPointer(toks) }

// itemAt returns the node at ptr, or nil.
func (s *source) itemAt(ptr string) *yaml.Node {
	n := deref(s.tree())
	for _, tok := range splitPointer(ptr) {
		if n == nil {
			return nil
		}
		switch n.Kind {
		case yaml.MappingNode:
			_, v := s.mapValue(n, tok)
			n = deref(v)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = deref(n.Content[i])
		default:
			return nil
		}
	}
	return n
}
