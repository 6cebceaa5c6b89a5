package openapi

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in an API description.
type Error struct {
	// File is the file the problem is in: the file given to Load, or a
	// referenced file (its path joined to the directory of File).
	File string
	// Pointer is the JSON pointer (RFC 6901) of the offending element in
	// File, e.g. "/paths/~1orders/post"; "" is the document root, or
	// unknown.
	Pointer string
	// Line and Col are the 1-based position of Pointer in File; 0 when
	// unknown.
	Line, Col int
	// Msg says what is wrong.
	Msg string
}

// Error returns "file:line:col: pointer: msg", leaving out the position
// when it is unknown and the pointer when it is the root.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Pointer != "" {
		b.WriteString(e.Pointer)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found while loading a description, the root
// file's first, each file's in position order. Load returns a non-empty
// ErrorList as its error.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// sortErrors sorts l with root's problems first, then by file, position
// and message, and drops exact duplicates.
func sortErrors(l []*Error, root string) []*Error {
	rank := func(e *Error) int {
		if e.File == root {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(rank(a), rank(b)),
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
			strings.Compare(a.Pointer, b.Pointer),
			strings.Compare(a.Msg, b.Msg),
		)
	})
	return slices.CompactFunc(l, func(a, b *Error) bool { return *a == *b })
}
