package openapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Select returns the operations that match an include pattern and no
// exclude pattern, in spec order. An empty include selects every
// operation.
//
// A pattern is one of:
//
//	createOrder          an operation ID (exactly)
//	GET /products/*      a method and a path glob; the method may be *
//	/admin/*             a path glob, any method
//	tag:orders           every operation with that tag
//	*                    every operation
//
// In globs, * stands for any run of characters, "/" included, so
// "/orders/*" matches "/orders/{id}" and "/orders/{id}/items" but not
// "/orders". Methods and tags compare case-insensitively, paths and IDs
// exactly. A pattern that matches no operation is an error (naming it), in
// include and exclude alike, as it is most likely a typo.
func (s *Spec) Select(include, exclude []string) ([]*Operation, error) {
	var errs []error
	match := func(patterns []string) map[*Operation]bool {
		set := map[*Operation]bool{}
		for _, p := range patterns {
			m, err := compilePattern(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			n := 0
			for _, o := range s.Operations {
				if m(o) {
					set[o] = true
					n++
				}
			}
			if n == 0 {
				errs = append(errs, fmt.Errorf("operation pattern %q matches no operation", p))
			}
		}
		return set
	}
	inc := match(include)
	exc := match(exclude)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []*Operation
	for _, o := range s.Operations {
		if (len(include) == 0 || inc[o]) && !exc[o] {
			out = append(out, o)
		}
	}
	return out, nil
}

// compilePattern returns the matcher of one Select pattern.
func compilePattern(p string) (func(*Operation) bool, error) {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return nil, errors.New("empty operation pattern")
	case p == "*":
		return func(*Operation) bool { return true }, nil
	case strings.HasPrefix(p, "tag:"):
		tag := strings.TrimSpace(strings.TrimPrefix(p, "tag:"))
		if tag == "" {
			return nil, fmt.Errorf("operation pattern %q: missing tag name", p)
		}
		return func(o *Operation) bool {
			return slices.ContainsFunc(o.Tags, func(t string) bool { return strings.EqualFold(t, tag) })
		}, nil
	case strings.HasPrefix(p, "/"):
		return func(o *Operation) bool { return glob(p, o.Path) }, nil
	}
	if method, pathGlob, ok := strings.Cut(p, " "); ok {
		pathGlob = strings.TrimSpace(pathGlob)
		if strings.HasPrefix(pathGlob, "/") && !strings.Contains(method, "/") {
			return func(o *Operation) bool {
				// An operationId may itself look like "GET /x".
				if o.ID == p {
					return true
				}
				return (method == "*" || strings.EqualFold(method, o.Method)) && glob(pathGlob, o.Path)
			}, nil
		}
	}
	return func(o *Operation) bool { return o.ID == p }, nil
}

// glob reports whether s matches pattern, where * matches any run of
// characters (including none and "/") and everything else matches itself.
// It runs in O(len(pattern)·len(s)) at worst.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	starP, starS := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && pattern[px] == '*':
			starP, starS = px, sx
			px++
		case px < len(pattern) && pattern[px] == s[sx]:
			px++
			sx++
		case starP >= 0:
			px = starP + 1
			starS++
			sx = starS
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// ResourceName names the resource a path addresses: its last segment that
// is not a template parameter. "/orders/{orderId}/items" → "items",
// "/orders/{orderId}" → "orders". Segments holding a parameter (such as
// "{name}.json") count as parameters. It is "" for a path without a
// literal segment ("/", "/{id}").
func ResourceName(path string) string {
	segs := strings.Split(path, "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if seg := segs[i]; seg != "" && !strings.Contains(seg, "{") {
			return seg
		}
	}
	return ""
}
