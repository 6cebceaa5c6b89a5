// Package template parses and renders value templates: strings from a
// scenario (request path and query, header values, bodies) that may hold
// generators between double braces.
//
// Generators:
//
//	{{int A B}}        uniform random integer in [A, B] (int64, A <= B)
//	{{uuid}}           random version-4 UUID, lower-case canonical form
//	{{pick a b "c d"}} one of the options, uniformly
//	{{seq}}            the per-request sequence number passed to Append
//	{{"text"}}         text, literally: {{"{{"}} writes a literal "{{"
//
// Whitespace inside the braces is ignored ({{ int 1 5 }} is {{int 1 5}}).
// Options and arguments are separated by whitespace; a double-quoted one may
// hold spaces and uses Go escapes (\" \\ \n \t \u00e9 …). Text outside the
// braces, including a lone "{" or "}}", is copied as is.
//
// Usage:
//
//	t, err := template.Parse("/products/{{int 1 1000}}?trace={{uuid}}")
//	if err != nil {
//		return err // a *SyntaxError with the byte offset of the problem
//	}
//	r := template.NewRand(seed)
//	buf = t.Append(buf[:0], r, seq) // no allocation once buf is large enough
//
// Concurrency: a parsed *Template is immutable and safe for concurrent use.
// A *Rand is not: give each goroutine its own.
package template
