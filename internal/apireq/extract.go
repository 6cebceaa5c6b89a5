package apireq

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/barrage-dev/barrage/internal/h1"
)

// idSource says where a create operation's response carries the new id.
type idSource struct {
	// header: take the last path segment of this header (Location).
	header string
	// pointer: JSON pointer into the body, e.g. "/id" or "/data/id".
	pointer string
}

// parseRuntimeExpr reads an OpenAPI link parameter expression of the kinds
// that name a response value: $response.body#/a/b or $response.header.X.
func parseRuntimeExpr(expr string) (idSource, bool) {
	expr = strings.TrimSpace(expr)
	expr = strings.TrimSuffix(strings.TrimPrefix(expr, "{"), "}")
	switch {
	case strings.HasPrefix(expr, "$response.body#"):
		return idSource{pointer: strings.TrimPrefix(expr, "$response.body#")}, true
	case strings.HasPrefix(expr, "$response.header."):
		return idSource{header: strings.TrimPrefix(expr, "$response.header.")}, true
	}
	return idSource{}, false
}

// extract finds the id in a captured response.
func (s idSource) extract(head, body []byte) string {
	if s.header != "" {
		v := h1.HeaderValue(head, s.header)
		if len(v) == 0 {
			return ""
		}
		v = bytes.TrimRight(v, "/")
		if i := bytes.LastIndexByte(v, '/'); i >= 0 {
			v = v[i+1:]
		}
		if j := bytes.IndexAny(v, "?#"); j >= 0 {
			v = v[:j]
		}
		return string(v)
	}
	if s.pointer == "" || len(body) == 0 {
		return ""
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return ""
	}
	v, ok := lookupPointer(doc, s.pointer)
	if !ok {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// lookupPointer resolves a JSON pointer (RFC 6901) in a decoded document.
func lookupPointer(doc any, ptr string) (any, bool) {
	if ptr == "" {
		return doc, true
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil, false
	}
	cur := doc
	for _, tok := range strings.Split(ptr[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}
