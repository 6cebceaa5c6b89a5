// Package openapi loads API descriptions — Swagger 2.0, OpenAPI 3.0 and
// 3.1, in YAML or JSON — and reduces them to what a load generator needs:
// the operations, each with its merged parameters, chosen request body
// media type, documented responses and links, and effective security
// requirements. Parsing, $ref resolution, Swagger 2.0 conversion and
// validation are github.com/getkin/kin-openapi's; this package adds
// located errors (file, JSON pointer, line:col), a safe reading policy for
// multi-file descriptions, operation selection and the scenario that
// `barrage generate` writes.
//
// Usage:
//
//	spec, err := openapi.Load(ctx, "shop.yaml", data, func(rel string) ([]byte, error) {
//		return bundle.Read(rel) // only files next to shop.yaml; never "..", absolute or URLs
//	})
//	if err != nil { ... } // an ErrorList: "shop.yaml:12:7: /paths/~1orders/post: ..."
//	ops, err := spec.Select([]string{"tag:orders", "GET /products/*"}, []string{"deleteOrder"})
//	yaml, err := openapi.GenerateScenario(spec, openapi.GenerateOptions{SpecPath: "shop.yaml"})
//
// What is supported, and what only warns (Spec.Warnings):
//
//   - Parameters in path, query, header and cookie, path item's and
//     operation's merged; style and explode with their defaults; parameters
//     described with content. Header parameters named Accept, Content-Type
//     or Authorization are ignored, as the specification says (warning).
//     Path template variables without a declared parameter get a string
//     one, declared path parameters missing from the template are dropped
//     (warnings).
//   - Request bodies: JSON preferred, then form, multipart, text; other
//     media types are used with a warning.
//   - Security: http bearer and basic, apiKey in header, query or cookie.
//     oauth2 and openIdConnect are used as bearer tokens (warning). Other
//     HTTP schemes, mutualTLS and unknown types are skipped, and so are the
//     requirements that need them (warnings).
//   - Links, by operationId or by a local operationRef; others are skipped
//     (warning). Callbacks and webhooks are not exercised (warnings).
//   - Repeated operationIds are made unique with a suffix (warning).
//   - Unknown fields are ignored (warning).
//
// Limits: Load reads at most MaxBytes in at most MaxFiles files; kin-openapi
// resolves recursive schemas through their $refs without looping.
//
// Concurrency: a Spec and its operations are read-only once Load returns
// and safe for concurrent use; nothing in this package keeps global state.
package openapi
