// Package valuegen compiles an OpenAPI schema (kin-openapi's
// openapi3.Schema, 3.0 or 3.1) into a generator of valid values: JSON for
// request bodies, text for path, query, header and cookie parameters. It is
// the "valid" half of fuzzing at load; package mutate builds the invalid
// half on top of its node tree and edits.
//
// What a generated value honours: type (3.0 strings and 3.1 type arrays,
// null included), nullable, enum and const, format (uuid, date, date-time,
// time, email, idn-email, uri, url, iri, uri-reference, hostname, ipv4,
// ipv6, byte as base64, binary, password, int32, int64, float, double;
// other formats give plain strings), minimum/maximum with both forms of
// exclusive bounds, multipleOf, minLength/maxLength (counted in code
// points; generated strings stay in the BMP so UTF-16 counts agree),
// pattern (compiled with regexp/syntax into a string generator; unbounded
// repetitions are capped; anchors and word boundaries generate nothing, and
// 64 samples must match the real regexp at Compile time), items,
// prefixItems, minItems/maxItems, uniqueItems (best effort, exact for small
// finite item domains), properties/required, additionalProperties (none
// added unless minProperties needs them), minProperties/maxProperties,
// dependentRequired, readOnly (left out when Options.Request), allOf
// (merged into one schema), oneOf/anyOf (one branch per value, picked from
// the Rand; discriminator values are set; branches whose samples
// kin-openapi finds matching several oneOf branches are pruned at Compile
// time), and recursive schemas (from Options.MaxDepth on, only required
// properties and minItems items are generated; a nullable recursion ends in
// null; a required recursion that cannot end is a Compile error).
//
// Choices made: integers and numbers are drawn from a window of about 1000
// values near 1 inside the allowed range (and within ±2^53); numbers are
// rounded to cents when that stays valid; plain strings are mostly
// alphanumeric, 1 to 13 characters unless the schema says otherwise, with
// an occasional "é" in JSON (never in text, which stays ASCII for headers
// and cookies). One value in 8 of a nullable node is null. One scalar
// in 8 is taken from the schema's default/example/examples, when those are
// valid for it (checked with kin-openapi's validator and CheckFormat).
//
// Compile fails, naming the place, when it cannot honour the schema: a
// pattern it cannot generate for (lookarounds, backreferences, or one whose
// samples do not match), contradictory constraints, not/if/contains/
// dependentSchemas, more than 10000 nodes. Optional properties and union
// branches that fail are left out instead.
//
// Usage:
//
//	g, err := valuegen.Compile(schema, valuegen.Options{Request: true})
//	if err != nil {
//		return err // fall back: the operation cannot be fuzzed from its schema
//	}
//	r := template.NewRand(seed)
//	body = g.AppendJSON(body[:0], r, nil)                                   // a valid body
//	body = g.AppendJSON(body[:0], r, &valuegen.Edit{Node: 3, Op: valuegen.Omit}) // one property left out
//
// Concurrency: a *Gen is immutable after Compile and safe for concurrent
// use; all per-value state lives in the *template.Rand (one per goroutine)
// and dst. AppendJSON, AppendText and AppendNode do not allocate once dst
// has room for the value.
package valuegen
