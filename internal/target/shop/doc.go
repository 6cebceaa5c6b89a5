// Package shop is the described API of Barrage's bundled test target
// (`barrage target --api shop`): a public product catalogue and per-user
// orders behind bearer tokens, with an OpenAPI 3.0.3 document (Spec, also
// served at GET /openapi.yaml) and a set of planted defects, one per fuzzing
// oracle, each switched on by its own Defects bit.
//
// With no defects the shop conforms to its document exactly: every status it
// answers is documented for the operation, every body matches its schema and
// is sent as the documented content type, authentication (401) and ownership
// (another user's order is 404) are enforced, and every input is validated as
// the schema says — and strictly: duplicate JSON keys, invalid UTF-8, lone
// surrogates, 5.0 for an integer, unknown or repeated query parameters, a
// body on an operation that takes none are all 400. No answer echoes input or
// leaks internals, and none is slowed down on purpose.
//
// Operations (tokens default to alice-token and bob-token):
//
//	GET    /products?limit=1..100&q=≤50 chars   200 [Product] | 400
//	GET    /products/{productId 1..1000}        200 Product | 400 | 404
//	POST   /orders  (bearer; OrderInput)        201 Order + Location | 400 | 401 | 413 | 415
//	GET    /orders?limit=1..100 (bearer)        200 [Order], the caller's, newest first | 400 | 401
//	GET    /orders/{orderId uuid} (bearer)      200 Order | 400 | 401 | 404
//	DELETE /orders/{orderId uuid} (bearer)      204 | 400 | 401 | 404
//
// A request to another path is 404, another method 405 (with Allow; the
// document lists 405 on every operation so that every answer a path gives
// is documented); both are JSON Error bodies. GET /products lists text/html
// as a second media type for its 200 and 400, which only InjectionEcho
// uses. The order store holds at most Config.MaxOrders
// orders (all users), evicting the oldest.
//
// Usage:
//
//	d, err := shop.ParseDefects("cross-user,info-leak")   // or shop.AllDefects
//	s := shop.New(shop.Config{Defects: d})
//	srv := httptest.NewServer(s)                           // or wrap it in target.Config.Handler
//	doc := shop.Spec()                                     // the OpenAPI document
//
// Concurrency: a Shop is safe for concurrent use; Spec and ParseDefects are
// pure.
package shop
