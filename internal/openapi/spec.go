package openapi

import (
	"github.com/getkin/kin-openapi/openapi3"
)

// Spec is a loaded API description, reduced to what a load generator
// needs: its operations with their parameters, bodies, responses and
// security. Doc keeps the whole document for anything else.
type Spec struct {
	// File is the file name given to Load.
	File string
	// Title and Version are the document's info.title and info.version.
	Title, Version string
	// OpenAPIVersion is the version the document declares: "2.0" for
	// Swagger, else the openapi field, e.g. "3.0.3" or "3.1.0".
	OpenAPIVersion string
	// Doc is the document, converted to OpenAPI 3 when it was Swagger 2.0,
	// with every $ref resolved (SchemaRef.Value and the like are set).
	Doc *openapi3.T
	// Operations are every operation under paths, sorted by path, then
	// method.
	Operations []*Operation
	// Schemes are the supported security schemes the document defines,
	// sorted by name (Scopes empty).
	Schemes []*Scheme
	// Warnings name the constructs that were skipped or approximated, each
	// as "file:line:col: pointer: message", sorted.
	Warnings []string
	// Servers are the document's server URLs in document order, with
	// server variables replaced by their defaults. They may be relative
	// ("/api").
	Servers []string

	byID map[string]*Operation
}

// Operation is one method on one path.
type Operation struct {
	// ID is the operationId, or "METHOD /path" when there is none. IDs are
	// unique within a Spec: a repeated operationId gets a "_2", "_3", …
	// suffix (with a warning).
	ID string
	// Method is the upper-case HTTP method, e.g. "GET".
	Method string
	// Path is the path template as written, e.g. "/orders/{orderId}".
	Path string
	// Summary is the operation's summary (or, when it has none, the first
	// line of its description).
	Summary string
	// Tags are the operation's tags as written.
	Tags []string
	// Deprecated is the operation's deprecated flag.
	Deprecated bool
	// Params are the path, query, header and cookie parameters: the path
	// item's merged with the operation's (the operation's win), path item
	// first, in document order. Every {name} of Path has a path parameter.
	Params []*Param
	// Body is the request body; nil when the operation takes none.
	Body *Body
	// Responses are the documented statuses ("200", "4XX", "default") in
	// document order.
	Responses []*Response
	// Security are the effective security requirements (the operation's,
	// else the document's): alternatives, any one of which is enough.
	// Empty means no authentication; an empty Requirement among them means
	// anonymous access is allowed.
	Security []Requirement
	// Op is the operation in Spec.Doc.
	Op *openapi3.Operation
	// Pointer is the JSON pointer of the operation in the root file, e.g.
	// "/paths/~1orders/post".
	Pointer string
}

// Param is one parameter of an operation.
type Param struct {
	// Name is the parameter's name; In is "path", "query", "header" or
	// "cookie".
	Name, In string
	// Required is true for path parameters and required ones.
	Required bool
	// Schema is the value's schema; nil means any value.
	Schema *openapi3.Schema
	// MediaType is set when the parameter is described with content rather
	// than a schema: the value is serialized in that media type (e.g. JSON
	// in a query string), and Schema is that media type's schema.
	MediaType string
	// Style and Explode say how the value is serialized, with the
	// specification's defaults filled in: "form" and true for query and
	// cookie, "simple" and false for path and header.
	Style   string
	Explode bool
	// Example is the parameter's example (or its first named example, by
	// name); nil when there is none.
	Example any
}

// Body is an operation's request body.
type Body struct {
	// Required is the body's required flag.
	Required bool
	// MediaType is the chosen media type: JSON first (application/json,
	// then any +json type, then a wildcard such as */* which is sent as
	// application/json), then application/x-www-form-urlencoded, then
	// multipart/form-data, then text, then the first other one by name.
	MediaType string
	// Schema is the chosen media type's schema; nil means any value.
	Schema *openapi3.Schema
	// MediaTypes are every media type the body accepts, as written, sorted.
	MediaTypes []string
}

// Response is one documented response of an operation.
type Response struct {
	// Status is the key as written: "200", "4XX" or "default".
	Status string
	// MediaTypes maps each media type of the response to its schema; a nil
	// schema means any value. Empty when the response has no body.
	MediaTypes map[string]*openapi3.Schema
	// Headers are the names of the documented response headers, sorted.
	Headers []string
	// Links are the response's links, sorted by name.
	Links []Link
}

// Link says how a value of a response feeds another operation.
type Link struct {
	// Name is the link's name.
	Name string
	// OperationID is the target operation's ID (its operationRef resolved,
	// when the link names it that way).
	OperationID string
	// Parameters maps the target's parameter names to runtime expressions
	// as written, e.g. "$response.body#/id"; constants are JSON-encoded.
	Parameters map[string]string
}

// Requirement is one way to authenticate: every scheme must be satisfied.
type Requirement struct {
	// Schemes are the schemes of the requirement, sorted by name.
	Schemes []Scheme
}

// Scheme kinds.
const (
	KindBearer = "bearer" // Authorization: Bearer <token>
	KindBasic  = "basic"  // Authorization: Basic base64(user:password)
	KindAPIKey = "apikey" // a key in a header, query parameter or cookie
)

// Scheme is a security scheme, as used by a requirement.
type Scheme struct {
	// Name is the scheme's name in the document.
	Name string
	// Kind is KindBearer, KindBasic or KindAPIKey. OAuth 2 and OpenID
	// Connect schemes are KindBearer (an access token is sent as a bearer
	// token).
	Kind string
	// In and ParamName place an API key: In is "header", "query" or
	// "cookie", ParamName the header, parameter or cookie name. Empty for
	// other kinds.
	In, ParamName string
	// Scopes are the scopes the requirement asks for, as written.
	Scopes []string
	// Type is the scheme's type as written ("http", "apiKey", "oauth2",
	// "openIdConnect").
	Type string
}

// Operation returns the operation with the given ID, or nil.
func (s *Spec) Operation(id string) *Operation {
	return s.byID[id]
}
