package valuegen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// maxAlternatives caps the branches of one union after distributing allOf
// over oneOf/anyOf.
const maxAlternatives = 64

// errConflict marks an allOf (or a union branch merged with its parent)
// that no value can satisfy.
var errConflict = errors.New("conflicting schemas")

// flat is a schema rewritten without allOf: one alternative for a plain
// schema, several for a union (oneOf, anyOf, a 3.1 type array). Each
// alternative has at most one non-null type and no allOf/oneOf/anyOf at
// its top level (its properties and items may still have them).
type flat struct {
	alts []*openapi3.Schema
	// nullable is the union's own nullability (for several alternatives).
	nullable bool
}

type flattener struct {
	memo   map[*openapi3.Schema]*flat
	active map[*openapi3.Schema]bool
}

func newFlattener() *flattener {
	return &flattener{memo: map[*openapi3.Schema]*flat{}, active: map[*openapi3.Schema]bool{}}
}

// nonNullTypes returns the schema's types other than "null".
func nonNullTypes(s *openapi3.Schema) []string {
	if s.Type == nil {
		return nil
	}
	var out []string
	for _, t := range *s.Type {
		if t != openapi3.TypeNull && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// isNullable reports whether s itself admits null (3.0 nullable or a 3.1
// "null" type).
func isNullable(s *openapi3.Schema) bool {
	return s.Nullable || s.Type.IncludesNull()
}

func (f *flattener) flatten(s *openapi3.Schema) (*flat, error) {
	if fl, ok := f.memo[s]; ok {
		return fl, nil
	}
	if f.active[s] {
		return nil, fmt.Errorf("allOf/oneOf/anyOf cycle")
	}
	f.active[s] = true
	defer delete(f.active, s)

	types := nonNullTypes(s)
	if len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) == 0 && len(types) <= 1 {
		fl := &flat{alts: []*openapi3.Schema{s}}
		f.memo[s] = fl
		return fl, nil
	}
	base := *s
	base.AllOf, base.OneOf, base.AnyOf, base.Discriminator = nil, nil, nil, nil
	base.Extensions, base.Origin = nil, nil
	var alts []*openapi3.Schema
	if len(types) > 1 {
		for _, t := range types {
			b := base
			b.Type = &openapi3.Types{t}
			b.Nullable = false
			alts = append(alts, &b)
		}
	} else {
		b := base
		if types == nil {
			b.Type = nil
		} else {
			b.Type = &openapi3.Types{types[0]}
		}
		b.Nullable = isNullable(s)
		alts = []*openapi3.Schema{&b}
	}

	allNull := len(s.AllOf) > 0
	for _, m := range s.AllOf {
		if m == nil || m.Value == nil {
			continue
		}
		fm, err := f.flatten(m.Value)
		if err != nil {
			return nil, err
		}
		if len(fm.alts) > 1 || !isNullable(fm.alts[0]) {
			allNull = false
		}
		if alts, err = cross(alts, fm.alts); err != nil {
			return nil, fmt.Errorf("allOf: %w", err)
		}
	}
	nullable := isNullable(s)
	for gi, group := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
		if len(group) == 0 {
			continue
		}
		allNull = false
		var branches []*openapi3.Schema
		nullBranches := 0
		for _, b := range group {
			if b == nil || b.Value == nil {
				continue
			}
			fb, err := f.flatten(b.Value)
			if err != nil {
				return nil, err
			}
			if fb.nullable || len(fb.alts) == 1 && isNullable(fb.alts[0]) {
				nullBranches++
			}
			for _, a := range fb.alts {
				if s.Discriminator != nil && s.Discriminator.PropertyName != "" {
					var ok bool
					if a, ok = withDiscriminator(a, s.Discriminator, b.Ref); !ok {
						continue
					}
				}
				branches = append(branches, a)
			}
		}
		// null is valid when exactly one oneOf branch, or any anyOf branch,
		// admits it (only decided for a lone oneOf/anyOf).
		if len(s.AllOf) == 0 && len(s.OneOf)*len(s.AnyOf) == 0 && (gi == 0 && nullBranches == 1 || gi == 1 && nullBranches > 0) {
			nullable = true
		}
		var err error
		if alts, err = cross(alts, branches); err != nil {
			return nil, fmt.Errorf("oneOf/anyOf: %w", err)
		}
	}
	fl := &flat{alts: alts, nullable: nullable}
	if len(alts) == 1 {
		if nullable || allNull {
			a := *alts[0]
			a.Nullable = true
			fl.alts = []*openapi3.Schema{&a}
		} else if alts[0].Nullable && len(s.OneOf)+len(s.AnyOf) > 0 {
			a := *alts[0]
			a.Nullable = false
			fl.alts = []*openapi3.Schema{&a}
		}
	} else {
		for i, a := range alts { // a union's branches never emit null themselves
			if isNullable(a) {
				c := *a
				c.Nullable = false
				if c.Type != nil {
					c.Type = &openapi3.Types{}
					*c.Type = nonNullTypes(a)
				}
				alts[i] = &c
			}
		}
	}
	f.memo[s] = fl
	return fl, nil
}

// withDiscriminator pins the discriminator property of a branch reached
// through ref to the value that selects it. ok is false when no value does.
func withDiscriminator(a *openapi3.Schema, d *openapi3.Discriminator, ref string) (*openapi3.Schema, bool) {
	var value string
	if len(d.Mapping) > 0 {
		keys := make([]string, 0, len(d.Mapping))
		for k := range d.Mapping {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			mr := d.Mapping[k].Ref
			if !strings.Contains(mr, "/") {
				mr = "#/components/schemas/" + mr
			}
			if mr == ref && ref != "" {
				value = k
				break
			}
		}
		if value == "" {
			return nil, false
		}
	} else {
		if ref == "" {
			return a, true
		}
		value = ref[strings.LastIndexByte(ref, '/')+1:]
	}
	pin := &openapi3.Schema{
		Properties: openapi3.Schemas{d.PropertyName: &openapi3.SchemaRef{Value: &openapi3.Schema{Enum: []any{value}}}},
		Required:   []string{d.PropertyName},
	}
	m, err := merge(a, pin)
	if err != nil {
		return nil, false
	}
	return m, true
}

// cross merges every a with every b; pairs that conflict are dropped.
func cross(as, bs []*openapi3.Schema) ([]*openapi3.Schema, error) {
	if len(bs) == 0 {
		return as, nil
	}
	var out []*openapi3.Schema
	var firstErr error
	for _, a := range as {
		for _, b := range bs {
			m, err := merge(a, b)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			out = append(out, m)
			if len(out) > maxAlternatives {
				return nil, fmt.Errorf("more than %d alternatives", maxAlternatives)
			}
		}
	}
	if len(out) == 0 {
		return nil, firstErr
	}
	return out, nil
}

// trivial reports whether s constrains nothing that merge looks at, so that
// merging with it returns the other schema unchanged.
func trivial(s *openapi3.Schema) bool {
	return s.Type.IsEmpty() && !s.Nullable && s.Format == "" && len(s.Enum) == 0 && s.Const == nil &&
		s.Min == nil && s.Max == nil && !s.ExclusiveMin.IsSet() && !s.ExclusiveMax.IsSet() && s.MultipleOf == nil &&
		s.MinLength == 0 && s.MaxLength == nil && s.Pattern == "" &&
		s.Items == nil && len(s.PrefixItems) == 0 && s.MinItems == 0 && s.MaxItems == nil && !s.UniqueItems &&
		len(s.Properties) == 0 && len(s.Required) == 0 && s.MinProps == 0 && s.MaxProps == nil &&
		s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil &&
		!s.ReadOnly && !s.WriteOnly && s.Not == nil && s.If == nil && s.Contains == nil &&
		len(s.DependentSchemas) == 0 && len(s.DependentRequired) == 0 && s.Always == nil &&
		len(s.AllOf)+len(s.OneOf)+len(s.AnyOf) == 0
}

// merge returns a schema whose valid values are those valid for both a and
// b (both without allOf/oneOf/anyOf at the top), or errConflict.
func merge(a, b *openapi3.Schema) (*openapi3.Schema, error) {
	if a.Always != nil && !*a.Always || b.Always != nil && !*b.Always {
		return nil, fmt.Errorf("%w: false schema", errConflict)
	}
	if trivial(a) || a.Always != nil {
		return b, nil
	}
	if trivial(b) || b.Always != nil {
		return a, nil
	}
	m := &openapi3.Schema{Title: a.Title, Description: a.Description}

	ta, tb := nonNullTypes(a), nonNullTypes(b)
	switch {
	case len(ta) == 0:
		if len(tb) > 0 {
			m.Type = &openapi3.Types{tb[0]}
		}
	case len(tb) == 0 || ta[0] == tb[0]:
		m.Type = &openapi3.Types{ta[0]}
	case ta[0] == openapi3.TypeInteger && tb[0] == openapi3.TypeNumber, ta[0] == openapi3.TypeNumber && tb[0] == openapi3.TypeInteger:
		m.Type = &openapi3.Types{openapi3.TypeInteger}
	default:
		return nil, fmt.Errorf("%w: type %s and %s", errConflict, ta[0], tb[0])
	}
	m.Nullable = isNullable(a) && isNullable(b)

	switch {
	case a.Format == "" || a.Format == b.Format:
		m.Format = b.Format
	case b.Format == "":
		m.Format = a.Format
	default:
		return nil, fmt.Errorf("%w: format %s and %s", errConflict, a.Format, b.Format)
	}

	switch {
	case len(a.Enum) == 0:
		m.Enum = b.Enum
	case len(b.Enum) == 0:
		m.Enum = a.Enum
	default:
		for _, v := range a.Enum {
			if slices.ContainsFunc(b.Enum, func(w any) bool { return sameJSON(v, w) }) {
				m.Enum = append(m.Enum, v)
			}
		}
		if len(m.Enum) == 0 {
			return nil, fmt.Errorf("%w: disjoint enums", errConflict)
		}
	}
	switch {
	case a.Const == nil:
		m.Const = b.Const
	case b.Const == nil || sameJSON(a.Const, b.Const):
		m.Const = a.Const
	default:
		return nil, fmt.Errorf("%w: different consts", errConflict)
	}
	m.Default, m.Example, m.Examples = firstNonNil(a.Default, b.Default), firstNonNil(a.Example, b.Example), append(slices.Clip(a.Examples), b.Examples...)

	ba, bb := SchemaBounds(a), SchemaBounds(b)
	lo := ba
	if bb.HasMin && (!ba.HasMin || bb.Min > ba.Min || bb.Min == ba.Min && bb.MinExclusive) {
		lo.Min, lo.MinExclusive, lo.HasMin = bb.Min, bb.MinExclusive, true
	}
	if lo.HasMin {
		v, ex := lo.Min, lo.MinExclusive
		m.Min, m.ExclusiveMin = &v, openapi3.ExclusiveBound{Bool: &ex}
	}
	hi := ba
	if bb.HasMax && (!ba.HasMax || bb.Max < ba.Max || bb.Max == ba.Max && bb.MaxExclusive) {
		hi.Max, hi.MaxExclusive, hi.HasMax = bb.Max, bb.MaxExclusive, true
	}
	if hi.HasMax {
		v, ex := hi.Max, hi.MaxExclusive
		m.Max, m.ExclusiveMax = &v, openapi3.ExclusiveBound{Bool: &ex}
	}
	switch {
	case a.MultipleOf == nil:
		m.MultipleOf = b.MultipleOf
	case b.MultipleOf == nil:
		m.MultipleOf = a.MultipleOf
	default:
		v, err := commonMultiple(*a.MultipleOf, *b.MultipleOf)
		if err != nil {
			return nil, err
		}
		m.MultipleOf = &v
	}

	m.MinLength = max(a.MinLength, b.MinLength)
	m.MaxLength = minPtr(a.MaxLength, b.MaxLength)
	switch {
	case a.Pattern == "" || a.Pattern == b.Pattern:
		m.Pattern = b.Pattern
	case b.Pattern == "":
		m.Pattern = a.Pattern
	default:
		return nil, fmt.Errorf("%w: two patterns %q and %q", errConflict, a.Pattern, b.Pattern)
	}

	m.Items = mergeRefs(a.Items, b.Items)
	switch {
	case len(a.PrefixItems) == 0:
		m.PrefixItems = b.PrefixItems
	case len(b.PrefixItems) == 0:
		m.PrefixItems = a.PrefixItems
	default:
		return nil, fmt.Errorf("%w: two prefixItems", errConflict)
	}
	m.MinItems = max(a.MinItems, b.MinItems)
	m.MaxItems = minPtr(a.MaxItems, b.MaxItems)
	m.UniqueItems = a.UniqueItems || b.UniqueItems

	required := slices.Clone(a.Required)
	for _, k := range b.Required {
		if !slices.Contains(required, k) {
			required = append(required, k)
		}
	}
	m.Required = required
	keys := make([]string, 0, len(a.Properties)+len(b.Properties))
	for k := range a.Properties {
		keys = append(keys, k)
	}
	for k := range b.Properties {
		if _, dup := a.Properties[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		ra, fa := propertySchema(a, k)
		rb, fb := propertySchema(b, k)
		if fa || fb {
			if slices.Contains(required, k) {
				return nil, fmt.Errorf("%w: required property %q is forbidden by additionalProperties: false", errConflict, k)
			}
			continue
		}
		if m.Properties == nil {
			m.Properties = openapi3.Schemas{}
		}
		m.Properties[k] = mergeRefs(ra, rb)
		if m.Properties[k] == nil {
			m.Properties[k] = &openapi3.SchemaRef{Value: &openapi3.Schema{}}
		}
	}
	for _, k := range required {
		if _, ok := m.Properties[k]; ok {
			continue
		}
		if _, fa := propertySchema(a, k); fa {
			return nil, fmt.Errorf("%w: required property %q is forbidden by additionalProperties: false", errConflict, k)
		}
		if _, fb := propertySchema(b, k); fb {
			return nil, fmt.Errorf("%w: required property %q is forbidden by additionalProperties: false", errConflict, k)
		}
	}
	aa, ab := a.AdditionalProperties, b.AdditionalProperties
	switch {
	case aa.Has != nil && !*aa.Has || ab.Has != nil && !*ab.Has:
		f := false
		m.AdditionalProperties.Has = &f
	case aa.Schema != nil || ab.Schema != nil:
		m.AdditionalProperties.Schema = mergeRefs(aa.Schema, ab.Schema)
	case aa.Has != nil:
		m.AdditionalProperties.Has = aa.Has
	default:
		m.AdditionalProperties.Has = ab.Has
	}
	m.MinProps = max(a.MinProps, b.MinProps)
	m.MaxProps = minPtr(a.MaxProps, b.MaxProps)
	if len(a.DependentRequired)+len(b.DependentRequired) > 0 {
		m.DependentRequired = map[string][]string{}
		for _, d := range []map[string][]string{a.DependentRequired, b.DependentRequired} {
			for k, v := range d {
				m.DependentRequired[k] = append(m.DependentRequired[k], v...)
			}
		}
	}
	m.ReadOnly = a.ReadOnly || b.ReadOnly
	m.WriteOnly = a.WriteOnly || b.WriteOnly
	m.Not = firstRef(a.Not, b.Not)
	m.If = firstRef(a.If, b.If)
	m.Contains = firstRef(a.Contains, b.Contains)
	if len(a.DependentSchemas) > 0 {
		m.DependentSchemas = a.DependentSchemas
	} else {
		m.DependentSchemas = b.DependentSchemas
	}
	return m, nil
}

// propertySchema returns the schema s applies to property k, and whether
// s forbids k (additionalProperties: false and k not declared).
func propertySchema(s *openapi3.Schema, k string) (*openapi3.SchemaRef, bool) {
	if r, ok := s.Properties[k]; ok {
		return r, false
	}
	if h := s.AdditionalProperties.Has; h != nil && !*h {
		return nil, true
	}
	return s.AdditionalProperties.Schema, false
}

func mergeRefs(a, b *openapi3.SchemaRef) *openapi3.SchemaRef {
	switch {
	case a == nil || a.Value == nil:
		return b
	case b == nil || b.Value == nil || a.Value == b.Value:
		return a
	}
	return &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{a, b}}}
}

func firstRef(a, b *openapi3.SchemaRef) *openapi3.SchemaRef {
	if a != nil {
		return a
	}
	return b
}

func firstNonNil(a, b any) any {
	if a != nil {
		return a
	}
	return b
}

func minPtr(a, b *uint64) *uint64 {
	switch {
	case a == nil:
		return b
	case b == nil || *a <= *b:
		return a
	}
	return b
}

// sameJSON reports whether a and b encode to the same JSON.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// commonMultiple returns a positive number that is a multiple of both a and
// b (so multipleOf it satisfies both).
func commonMultiple(a, b float64) (float64, error) {
	ra, rb := decimalRat(a), decimalRat(b)
	if ra == nil || rb == nil || ra.Sign() <= 0 || rb.Sign() <= 0 {
		return 0, fmt.Errorf("%w: multipleOf %g and %g", errConflict, a, b)
	}
	// lcm(p1/q1, p2/q2) = lcm(p1, p2) / gcd(q1, q2)
	p1, q1, p2, q2 := ra.Num(), ra.Denom(), rb.Num(), rb.Denom()
	g := new(big.Int).GCD(nil, nil, p1, p2)
	l := new(big.Int).Mul(p1, p2)
	l.Quo(l, g)
	d := new(big.Int).GCD(nil, nil, q1, q2)
	v, _ := new(big.Rat).SetFrac(l, d).Float64()
	if v <= 0 || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: multipleOf %g and %g", errConflict, a, b)
	}
	return v, nil
}

// decimalRat returns the exact rational of f's shortest decimal form (0.1
// is 1/10, not the binary fraction), or nil for non-finite f.
func decimalRat(f float64) *big.Rat {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	if !ok {
		return nil
	}
	return r
}

// Bounds is the declared range of a numeric schema, with both the OpenAPI
// 3.0 (boolean exclusiveMinimum beside minimum) and 3.1 (numeric
// exclusiveMinimum) forms folded in: the stricter bound wins.
type Bounds struct {
	Min, Max                   float64
	HasMin, HasMax             bool
	MinExclusive, MaxExclusive bool
}

// SchemaBounds returns s's declared numeric range. It does not include the
// limits of format int32/int64.
func SchemaBounds(s *openapi3.Schema) Bounds {
	var b Bounds
	if s.Min != nil {
		b.Min, b.HasMin, b.MinExclusive = *s.Min, true, s.ExclusiveMin.IsTrue()
	}
	if v := s.ExclusiveMin.Value; v != nil && (!b.HasMin || *v >= b.Min) {
		b.Min, b.HasMin, b.MinExclusive = *v, true, true
	}
	if s.Max != nil {
		b.Max, b.HasMax, b.MaxExclusive = *s.Max, true, s.ExclusiveMax.IsTrue()
	}
	if v := s.ExclusiveMax.Value; v != nil && (!b.HasMax || *v <= b.Max) {
		b.Max, b.HasMax, b.MaxExclusive = *v, true, true
	}
	return b
}
