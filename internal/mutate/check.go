package mutate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/barrage-dev/barrage/internal/template"
	"github.com/barrage-dev/barrage/internal/valuegen"
)

// Whether a mutated value violates the spec is decided, not assumed: a
// replacement value is checked against its node's schema (or, under a
// oneOf/anyOf, the whole mutated body against the body schema over several
// seeds) with kin-openapi's validator, plus the formats valuegen asserts
// and const. Only structural edits whose effect is certain (a required
// property left out, an undeclared property where additionalProperties is
// false, too many or too few items, invalid UTF-8 in the JSON text) are
// judged by rule.

// formatValidators makes kin-openapi assert the formats valuegen.CheckFormat knows.
var formatValidators = func() map[string]openapi3.StringFormatValidator {
	m := map[string]openapi3.StringFormatValidator{}
	for _, f := range []string{"uuid", "date", "date-time", "time", "email", "idn-email", "hostname", "idn-hostname",
		"ipv4", "ipv6", "uri", "url", "iri", "uri-reference", "iri-reference", "byte"} {
		m[f] = openapi3.NewCallbackValidator(func(s string) error {
			if ok, _ := valuegen.CheckFormat(f, s); !ok {
				return fmt.Errorf("not a valid %s", f)
			}
			return nil
		})
	}
	return m
}()

// laxFormats accepts anything for every string format: validating with it
// tells whether a value breaks only a format keyword.
var laxFormats = func() map[string]openapi3.StringFormatValidator {
	m := map[string]openapi3.StringFormatValidator{}
	for f := range formatValidators {
		m[f] = openapi3.NewCallbackValidator(func(string) error { return nil })
	}
	return m
}()

var (
	visitOpts = []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.WithStringFormatValidators(formatValidators)}
	laxOpts   = []openapi3.SchemaValidationOption{openapi3.VisitAsRequest(), openapi3.WithStringFormatValidators(laxFormats)}
)

// visit runs kin-openapi's validator, turning a panic into an error.
func visit(s *openapi3.Schema, v any, opts []openapi3.SchemaValidationOption) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("validator panic: %v", p)
		}
	}()
	if err := s.VisitJSON(v, opts...); err != nil {
		return err
	}
	if s.Const != nil && !sameJSON(s.Const, v) {
		return errors.New("value is not the const")
	}
	return nil
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// reason gives a short human reason from a validation error.
func reason(err error) string {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		if se.SchemaField != "" && se.Reason != "" {
			return se.SchemaField + ": " + se.Reason
		}
		if se.Reason != "" {
			return se.Reason
		}
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// astralToBMP replaces runes outside the BMP, whose length counts differ
// between JSON Schema (code points) and kin-openapi (UTF-16 units).
func astralToBMP(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		changed := false
		out := strings.Map(func(r rune) rune {
			if r > 0xffff {
				changed = true
				return 'a'
			}
			return r
		}, x)
		return out, changed
	case []any:
		changed := false
		out := make([]any, len(x))
		for i, e := range x {
			var c bool
			out[i], c = astralToBMP(e)
			changed = changed || c
		}
		return out, changed
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			var c bool
			out[k], c = astralToBMP(e)
			changed = changed || c
		}
		return out, changed
	}
	return v, false
}

// verdict says why a value is invalid ("" when it is valid) and whether
// only a string format keyword rejects it.
type verdict struct {
	why        string
	formatOnly bool
}

// invalidFor judges v (decoded JSON) against s. A verdict that only holds
// when astral runes count twice is "valid". mayHaveAstral false skips that
// check.
func invalidFor(s *openapi3.Schema, v any, mayHaveAstral bool) verdict {
	err := visit(s, v, visitOpts)
	if err == nil {
		return verdict{}
	}
	if mayHaveAstral {
		if w, changed := astralToBMP(v); changed && visit(s, w, visitOpts) == nil {
			return verdict{}
		}
	}
	return verdict{why: reason(err), formatOnly: visit(s, v, laxOpts) == nil}
}

// mayHaveAstral reports whether JSON or text bytes may encode a rune
// outside the BMP (a 4-byte UTF-8 sequence or a \u surrogate escape).
func mayHaveAstral(b []byte) bool {
	for i, c := range b {
		if c >= 0xf0 || c == '\\' && i+2 < len(b) && b[i+1] == 'u' && (b[i+2] == 'd' || b[i+2] == 'D') {
			return true
		}
	}
	return false
}

// invalidJSON judges raw against s.
func invalidJSON(s *openapi3.Schema, raw []byte) verdict {
	if !utf8.Valid(raw) {
		return verdict{why: "invalid UTF-8 in the JSON text"}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return verdict{why: "not JSON"}
	}
	return invalidFor(s, v, mayHaveAstral(raw))
}

// wholeBodyInvalid generates the mutated body with several seeds and
// reports why every one is invalid for the body schema, or "" when one of
// them is valid (the edit does not always violate the spec).
func (c *caser) wholeBodyInvalid(e *valuegen.Edit) string {
	var why string
	r := template.NewRand(0)
	var buf []byte
	for seed := uint64(0); seed < verifySeeds; seed++ {
		r.Seed(seed)
		buf = c.bodyGen.AppendJSON(buf[:0], r, e)
		w := invalidJSON(c.body, buf).why
		if w == "" {
			return ""
		}
		why = w
	}
	return why
}

// verifySeeds is how many mutated bodies are checked when a case's
// validity depends on the rest of the body.
const verifySeeds = 8

// paramInvalid judges text as a value of parameter p; undecidable values
// are valid. It decodes text as kin-openapi's request validator does for a
// primitive parameter: by the schema's types in order (integer with
// strconv.ParseInt, number with ParseFloat over decimal characters,
// boolean with ParseBool, string as is).
func paramInvalid(p *Param, text string) verdict {
	s := p.Schema
	if s == nil || len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) > 0 || s.Not != nil {
		return verdict{}
	}
	var types []string
	if s.Type != nil {
		for _, t := range *s.Type {
			if t != openapi3.TypeNull {
				types = append(types, t)
			}
		}
	}
	if len(types) == 0 {
		if s.Const != nil || len(s.Enum) > 0 {
			types = []string{openapi3.TypeBoolean, openapi3.TypeNumber, openapi3.TypeString}
		} else {
			types = []string{openapi3.TypeString}
		}
	}
	var out verdict
	for _, t := range types {
		var v any
		switch t {
		case openapi3.TypeString:
			v = text
		case openapi3.TypeInteger, openapi3.TypeNumber, openapi3.TypeBoolean:
			if text == "" {
				return verdict{} // decoded as absent
			}
			var err error
			if v, err = parseScalar(t, s.Format, text); err != nil {
				if out.why == "" {
					out.why = "not " + article(t)
				}
				continue
			}
		default:
			return verdict{} // arrays and objects: serialization styles are not modelled
		}
		w := invalidFor(s, v, mayHaveAstral([]byte(text)))
		if w.why == "" {
			return verdict{}
		}
		out.why, out.formatOnly = w.why, out.formatOnly || w.formatOnly
	}
	return out
}

func article(t string) string {
	if t == openapi3.TypeInteger {
		return "an integer"
	}
	return "a " + t
}

func parseScalar(t, format, text string) (any, error) {
	switch t {
	case openapi3.TypeInteger:
		bits := 64
		if format == "int32" {
			bits = 32
		}
		n, err := strconv.ParseInt(text, 10, bits)
		return float64(n), err
	case openapi3.TypeNumber:
		if strings.ContainsFunc(text, func(r rune) bool { return !strings.ContainsRune("+-.0123456789eE", r) }) {
			return nil, strconv.ErrSyntax
		}
		return strconv.ParseFloat(text, 64)
	default:
		return strconv.ParseBool(text)
	}
}
