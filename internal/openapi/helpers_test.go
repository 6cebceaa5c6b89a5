package openapi

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// mapReader serves referenced files from a map and records what was read.
type mapReader struct {
	files map[string]string
	reads []string
}

func (m *mapReader) read(rel string) ([]byte, error) {
	m.reads = append(m.reads, rel)
	s, ok := m.files[rel]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

// load loads src as name, failing the test on error.
func load(t *testing.T, name, src string, files map[string]string) *Spec {
	t.Helper()
	r := &mapReader{files: files}
	s, err := Load(context.Background(), name, []byte(src), r.read)
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	checkConsistent(t, s)
	return s
}

// loadErr loads src as name and returns its error, failing the test when
// it loads.
func loadErr(t *testing.T, name, src string, files map[string]string) error {
	t.Helper()
	r := &mapReader{files: files}
	s, err := Load(context.Background(), name, []byte(src), r.read)
	if err == nil {
		t.Fatalf("Load(%s) succeeded with %d operations, want an error", name, len(s.Operations))
	}
	return err
}

// checkConsistent checks what every loaded Spec promises.
func checkConsistent(t testing.TB, s *Spec) {
	t.Helper()
	if err := consistent(s); err != nil {
		t.Fatal(err)
	}
}

// consistent returns the first broken promise of a loaded Spec, or nil.
func consistent(s *Spec) error {
	if s.Doc == nil {
		return fmt.Errorf("no Doc")
	}
	ids := map[string]bool{}
	for i, o := range s.Operations {
		if i > 0 {
			p := s.Operations[i-1]
			if p.Path > o.Path || p.Path == o.Path && p.Method >= o.Method {
				return fmt.Errorf("operations not sorted: %s %s before %s %s", p.Method, p.Path, o.Method, o.Path)
			}
		}
		if o.ID == "" || ids[o.ID] {
			return fmt.Errorf("operation %s %s: empty or repeated ID %q", o.Method, o.Path, o.ID)
		}
		ids[o.ID] = true
		if s.Operation(o.ID) != o {
			return fmt.Errorf("Operation(%q) does not return the operation", o.ID)
		}
		if o.Method != strings.ToUpper(o.Method) || o.Op == nil {
			return fmt.Errorf("operation %q: method %q not upper case, or no Op", o.ID, o.Method)
		}
		seen := map[string]bool{}
		for _, p := range o.Params {
			k := p.In + " " + p.Name
			if p.In == "header" {
				k = strings.ToLower(k)
			}
			if seen[k] {
				return fmt.Errorf("operation %q: parameter %s twice", o.ID, k)
			}
			seen[k] = true
			if p.In == "path" && !p.Required {
				return fmt.Errorf("operation %q: path parameter %q not required", o.ID, p.Name)
			}
		}
		for _, m := range templateVar.FindAllStringSubmatch(o.Path, -1) {
			if !seen["path "+m[1]] {
				return fmt.Errorf("operation %q: no path parameter for {%s}", o.ID, m[1])
			}
		}
		statuses := map[string]bool{}
		for _, r := range o.Responses {
			if statuses[r.Status] {
				return fmt.Errorf("operation %q: response %s twice", o.ID, r.Status)
			}
			statuses[r.Status] = true
		}
		if o.Body != nil && (o.Body.MediaType == "" || len(o.Body.MediaTypes) == 0) {
			return fmt.Errorf("operation %q: body without media type", o.ID)
		}
	}
	all, err := s.Select(nil, nil)
	if err != nil || len(all) != len(s.Operations) {
		return fmt.Errorf("Select(nil, nil) = %d operations, %v; want all %d", len(all), err, len(s.Operations))
	}
	return nil
}

// opView is an Operation reduced to comparable values.
type opView struct {
	ID, Method, Path string
	Summary          string
	Tags             []string
	Params           []paramView
	Body             *bodyView
	Responses        []string
	Security         []string
}

type paramView struct {
	Name, In  string
	Required  bool
	Type      string
	MediaType string
	Style     string
	Explode   bool
	Example   any
}

type bodyView struct {
	Required   bool
	MediaType  string
	Type       string
	Props      []string
	MediaTypes []string
}

// typeOf writes a schema's types as "a|b"; "-" for no schema.
func typeOf(s *openapi3.Schema) string {
	if s == nil {
		return "-"
	}
	if s.Type == nil {
		return ""
	}
	return strings.Join(s.Type.Slice(), "|")
}

func view(o *Operation) opView {
	v := opView{ID: o.ID, Method: o.Method, Path: o.Path, Summary: o.Summary, Tags: o.Tags}
	for _, p := range o.Params {
		v.Params = append(v.Params, paramView{p.Name, p.In, p.Required, typeOf(p.Schema), p.MediaType, p.Style, p.Explode, p.Example})
	}
	if b := o.Body; b != nil {
		bv := &bodyView{Required: b.Required, MediaType: b.MediaType, Type: typeOf(b.Schema), MediaTypes: b.MediaTypes}
		if b.Schema != nil {
			bv.Props = slices.Sorted(maps.Keys(b.Schema.Properties))
		}
		v.Body = bv
	}
	for _, r := range o.Responses {
		v.Responses = append(v.Responses, r.Status)
	}
	v.Security = securityView(o.Security)
	return v
}

// securityView writes requirements as "a:kind+b:kind" alternatives; an
// anonymous requirement is "{}".
func securityView(reqs []Requirement) []string {
	var out []string
	for _, r := range reqs {
		if len(r.Schemes) == 0 {
			out = append(out, "{}")
			continue
		}
		var parts []string
		for _, s := range r.Schemes {
			p := s.Name + ":" + s.Kind
			if s.Kind == KindAPIKey {
				p += ":" + s.In + ":" + s.ParamName
			}
			if len(s.Scopes) > 0 {
				p += "[" + strings.Join(s.Scopes, ",") + "]"
			}
			parts = append(parts, p)
		}
		out = append(out, strings.Join(parts, "+"))
	}
	return out
}

// hasWarning reports whether some warning contains every one of parts.
func hasWarning(s *Spec, parts ...string) bool {
	for _, w := range s.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// ids returns the operations' IDs.
func ids(ops []*Operation) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.ID)
	}
	return out
}
