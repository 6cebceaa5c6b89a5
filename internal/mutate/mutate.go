package mutate

import (
	"fmt"
	"slices"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/valuegen"
)

// Expect is what a correct server answers to a case.
type Expect uint8

// Expectations. The zero value is not used by Cases.
const (
	_ Expect = iota
	// Reject4xx: the input violates the spec, so a correct server answers
	// 4xx. An answer of 2xx/3xx is "invalid input accepted".
	Reject4xx
	// NoServerError: the input may be valid per spec (or its validity is
	// not decidable), but it is hostile; anything but a 5xx or a transport
	// failure is fine.
	NoServerError
)

// String returns "reject-4xx" or "no-5xx".
func (e Expect) String() string {
	switch e {
	case Reject4xx:
		return "reject-4xx"
	case NoServerError:
		return "no-5xx"
	}
	return "expect(?)"
}

// Families of this package, in the order Cases lists them. The request
// builder owns the wire-level ones ("body", "methods", "headers", "auth").
const (
	FamilyTypes      = "types"
	FamilyBoundaries = "boundaries"
	FamilyStrings    = "strings"
	FamilyFormats    = "formats"
	FamilyStructure  = "structure"
	FamilyEncoding   = "encoding"
	FamilyInjection  = "injection"
)

var families = []string{FamilyTypes, FamilyBoundaries, FamilyStrings, FamilyFormats, FamilyStructure, FamilyEncoding, FamilyInjection}

// Families returns the schema- and value-level families, in order.
func Families() []string { return slices.Clone(families) }

// Detectors name the evidence an oracle looks for after an injection probe.
const (
	DetectorSQL      = "sql"
	DetectorNoSQL    = "nosql"
	DetectorCmd      = "cmd"
	DetectorPath     = "path"
	DetectorTemplate = "template"
	DetectorXSS      = "xss"
)

// Param is one operation parameter.
type Param struct {
	// Name is the parameter name.
	Name string
	// In is "path", "query", "header" or "cookie".
	In string
	// Required is the parameter's required flag (path parameters always are).
	Required bool
	// Schema is the parameter's schema; nil for content-typed parameters,
	// which get only the cases that need no schema.
	Schema *openapi3.Schema
}

// Target is what a case mutates.
type Target struct {
	// In is "path", "query", "header", "cookie" or "body".
	In string
	// Name is the parameter name, "" for the body.
	Name string
	// Gen generates the target's valid value: the parameter's text, or the
	// whole body. A body Edit's node IDs refer to this Gen's Nodes(). Nil
	// for a parameter without a schema.
	Gen *valuegen.Gen
	// Node is the body node mutated, -1 for parameters.
	Node int
}

// Case is one concrete mutation of an operation's request.
type Case struct {
	// Family is one of Families().
	Family string
	// Name is a stable short id such as "boundaries/max+1"; with Target it
	// identifies the case.
	Name string
	// Target is what is mutated.
	Target Target
	// Exactly one of ParamValue, Omit and Edit is set.

	// ParamValue replaces a parameter's value: raw text, not yet escaped
	// for its place in the request (path, query, header, cookie).
	ParamValue []byte
	// Omit leaves the parameter out.
	Omit bool
	// Edit is applied while generating the body with Target.Gen.
	Edit *valuegen.Edit

	// Expect is what a correct server answers.
	Expect Expect
	// Detail describes the case for humans, e.g. `body /quantity: 101 (maximum 100)`.
	Detail string
	// Detector names the evidence detector for injection probes ("sql",
	// "nosql", "cmd", "path", "template", "xss"); "" otherwise.
	Detector string
	// FormatOnly is set on a Reject4xx case whose value breaks only a
	// string format keyword (uuid, email, date, …). OpenAPI leaves format
	// assertion to tools and many servers do not check formats, so a
	// server accepting it is lenient rather than plainly wrong; an oracle
	// may grade such findings lower.
	FormatOnly bool
}

// Per-target caps on the cases of one family: a finite, reasonably sized
// list even for large bodies.
const (
	capPerTarget          = 12
	capInjectionPerTarget = 24
)

// Cases enumerates the mutation cases of an operation: its parameters, its
// JSON request body schema (nil when there is none) and whether the body
// is required. fams restricts the list to the named families (nil or
// empty: all; an unknown name is an error); the order is always that of
// Families(). Within a family, targets come in order (parameters as given,
// then body nodes by ID) and each target's cases in a fixed order, at most
// 12 per target and family (24 for injection). The same inputs always give
// the same list.
//
// o tunes the generators (see valuegen.Options); the body is always
// compiled with Request set. A parameter or body schema that valuegen
// cannot compile is an error (the caller falls back to not fuzzing the
// operation from its schemas).
func Cases(params []Param, body *openapi3.Schema, bodyRequired bool, fams []string, o valuegen.Options) ([]Case, error) {
	want := map[string]bool{}
	for _, f := range fams {
		if !slices.Contains(families, f) {
			return nil, fmt.Errorf("mutate: unknown family %q", f)
		}
		want[f] = true
	}
	var targets []*target
	for i := range params {
		p := &params[i]
		t := &target{Target: Target{In: p.In, Name: p.Name, Node: -1}, param: p}
		t.label = p.In + " " + p.Name
		if p.Schema != nil {
			g, err := valuegen.Compile(p.Schema, o)
			if err != nil {
				return nil, fmt.Errorf("mutate: %s parameter %q: %w", p.In, p.Name, err)
			}
			t.Gen = g
			t.node = g.Nodes()[0]
		}
		targets = append(targets, t)
	}
	var bodyGen *valuegen.Gen
	if body != nil {
		bo := o
		bo.Request = true
		g, err := valuegen.Compile(body, bo)
		if err != nil {
			return nil, fmt.Errorf("mutate: request body: %w", err)
		}
		bodyGen = g
		nodes := g.Nodes()
		for _, n := range nodes {
			t := &target{Target: Target{In: "body", Gen: g, Node: n.ID}, node: n, root: body}
			t.label = "body"
			if n.Pointer != "" {
				t.label += " " + n.Pointer
			}
			for a := n.ID; a >= 0; a = nodes[a].Parent {
				if nodes[a].Alt {
					t.underUnion = true
				}
			}
			t.union = n.Kind == valuegen.Any && n.End > n.ID+1 && nodes[n.ID+1].Alt
			targets = append(targets, t)
		}
	}
	c := &caser{o: o, bodyRequired: bodyRequired, bodyGen: bodyGen, body: body}
	var out []Case
	for _, fam := range families {
		if len(want) > 0 && !want[fam] {
			continue
		}
		for _, t := range targets {
			limit := capPerTarget
			if fam == FamilyInjection {
				limit = capInjectionPerTarget
			}
			cs := c.forTarget(fam, t)
			if len(cs) > limit {
				cs = cs[:limit]
			}
			out = append(out, cs...)
		}
	}
	return out, nil
}
