// Package mutate is the catalogue of schema- and value-level mutations for
// API fuzzing at load. From one operation (its parameters and JSON request
// body schema) Cases enumerates a deterministic, finite list of concrete
// cases; case i (mod len) is the i-th mutation a shard sends. Each case
// says what a correct server must answer, which makes "invalid input
// accepted" decidable.
//
// Families (in this order) and what they hold:
//
//	types       a value of the wrong JSON type per node (string for integer, numeric
//	            string, float for integer, boolean, null where not nullable, array
//	            and object swaps); wrong-type parameter text ("abc", "1.5", "0x10")
//	boundaries  min-1 / max+1 (exclusive bounds respected), the bounds themselves,
//	            zero and -1 when minimum >= 1, int32/int64 overflow, a value off
//	            multipleOf, 1e308, -1e308, 99999999999999999999999
//	strings     "" when not allowed, minLength-1, maxLength+1, 64 KiB, "   ",
//	            the value padded with spaces
//	formats     near misses and plain wrong values per format (uuid, date,
//	            date-time, time, email, uri, hostname, ipv4, ipv6, byte), pattern
//	            near misses and mismatches, values outside an enum or const, enum
//	            values with another case or a trailing space
//	structure   required parameter or property left out, no body when it is
//	            required, extra property where additionalProperties is false,
//	            mass assignment (readOnly properties, "id", "isAdmin", "role"),
//	            duplicate keys, {} for objects with requirements, maxItems+1,
//	            minItems-1, 10000 items, duplicate items, 10000-deep nesting
//	encoding    NUL, control characters, CR LF, zero-width space, bidi override,
//	            BOM, non-BMP and combining characters, invalid and overlong UTF-8,
//	            a lone surrogate escape
//	injection   SQL, NoSQL, command, path traversal, template and XSS probes in
//	            unconstrained strings (no format, pattern or enum), SQL probes in
//	            integer parameters; Detector names the evidence to look for, XSS
//	            probes carry a stable token "barrage-xss-<8 hex>"
//
// Expect is decided, not assumed. A replacement value is Reject4xx exactly
// when kin-openapi's validator (with the formats valuegen asserts, and
// const) rejects it for its node's schema; under a oneOf/anyOf the whole
// mutated body is validated over 8 seeds instead, and the case is
// Reject4xx only if every one is invalid. Structural edits are Reject4xx by
// rule when the violation is certain (required left out, undeclared
// property with additionalProperties: false, maxItems+1, minItems-1,
// invalid UTF-8 in a JSON body). Everything else is NoServerError. The
// place of a parameter can make a rejection undecidable: an empty or
// slash-bearing path segment (routing, path cleaning), an empty header or
// one with surrounding spaces (trimmed): those are NoServerError. Header
// values with control characters and cookie values outside RFC 6265
// cookie-octets are not produced at all (the request builder's "headers"
// family owns framing attacks). Format-only violations are flagged with
// FormatOnly.
//
// For the request builder:
//
//   - ParamValue is raw text: escape it for its place (url.PathEscape for a
//     path segment, query escaping for a query value; header values are sent
//     as is; cookie values are cookie-safe already). Other parameters get
//     valid values from their own generators (valuegen.Compile of the
//     parameter schema, AppendText).
//   - Omit leaves the parameter out; for a path parameter substitute "" (an
//     empty segment).
//   - Edit: generate the body with Target.Gen.AppendJSON(dst, r, Edit). An
//     Omit edit on node 0 yields no bytes: send no body (Content-Length: 0).
//     Bodies are JSON: Content-Type: application/json; the bytes may be
//     invalid JSON or invalid UTF-8 on purpose, send them unchanged.
//     Target.Gen is compiled with Options.Request set; valuegen.Compile is
//     deterministic, so a Gen the builder compiles from the same schema and
//     Options has the same node IDs.
//   - Raw and ParamValue may be shared between cases (the 64 KiB string,
//     the deep nestings): treat them as read-only.
//
// Usage:
//
//	cases, err := mutate.Cases(params, bodySchema, bodyRequired, nil, valuegen.Options{})
//	if err != nil {
//		return err // the schemas cannot be generated from: fuzz without them
//	}
//	cs := cases[i%len(cases)]
//	body = cs.Target.Gen.AppendJSON(body[:0], r, cs.Edit) // when cs.Edit != nil
//
// Concurrency: Cases is a pure function of its arguments and safe to call
// concurrently. The returned cases are immutable; their Gens are safe for
// concurrent use.
package mutate
