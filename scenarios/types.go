package scenarios

import "time"

// Scenario is a parsed, validated scenario file. Field comments give the YAML
// key, the unit and the zero value's meaning.
type Scenario struct {
	// File is the file name the scenario was read from (for messages).
	File string
	// Name (`name`, required): a short name shown in reports.
	Name string
	// Description (`description`): free text.
	Description string
	// Target (`target`, required): the system under test.
	Target Target
	// Load (`load`, required): the load profile.
	Load Load
	// Agents (`agents`): number of agents to shard over; 0 means all live
	// agents (local mode: the --agents flag).
	Agents int
	// Seed (`seed`): run seed; nil means "pick one at submit time".
	Seed *uint64
	// Window (`window`): result window length; 0 means 1s. 100ms..1m.
	Window time.Duration
	// Requests (`requests`): the request templates; at least one unless
	// OpenAPI is given.
	Requests []Request
	// OpenAPI (`openapi`): operations generated from an API description.
	OpenAPI *OpenAPI
	// Auth (`auth`): secrets for the description's security schemes.
	Auth *Auth
	// Faults (`faults`): malformed-input mixing; nil means none.
	Faults *Faults
}

// Target is the system under test.
type Target struct {
	// BaseURL (`base_url`, required): http:// or https:// URL, with an
	// optional path prefix; no query or fragment.
	BaseURL string
	// Headers (`headers`): sent with every request, in file order; values
	// are templates.
	Headers []Header
	// Protocol (`protocol`): "http1" (default), "http2" (TLS only) or "h2c".
	Protocol string
	// Timeout (`timeout`): per-request timeout; 0 means 10s.
	Timeout time.Duration
	// InsecureSkipVerify (`tls.insecure_skip_verify`): skip certificate checks.
	InsecureSkipVerify bool
	// ServerName (`tls.server_name`): TLS server name; empty means the host.
	ServerName string
}

// Header is one header; Value is a template.
type Header struct {
	Name  string
	Value string
}

// Load is the load profile of the whole run.
type Load struct {
	// Model (`model`): "open" (default) or "closed".
	Model string
	// Stages (`stages`, at least one).
	Stages []Stage
	// MaxInflight (`max_inflight`): open model only; 0 means the default.
	MaxInflight int64
}

// Stage is one segment of the load profile.
type Stage struct {
	// Duration (`duration`, required, > 0).
	Duration time.Duration
	// FromRate and ToRate are the open-model arrival rates (requests per
	// second) at the start and end of the stage. In the file, `rate: R` is a
	// constant stage (From = To = R); `to: R` ramps linearly from the previous
	// stage's end rate (0 for the first stage) unless `from:` is given.
	FromRate, ToRate float64
	// Concurrency (`concurrency`): closed model workers during the stage.
	Concurrency int64
}

// Request is one request template ("endpoint" in reports).
type Request struct {
	// Name (`name`): unique; default "METHOD path" of the template source.
	Name string
	// Weight (`weight`): relative share, >= 1; default 1.
	Weight int
	// Method (`method`): HTTP method, default GET.
	Method string
	// Path (`path`, required): "/..." with query; a template.
	Path string
	// Headers (`headers`): extra headers, in file order; values are templates.
	Headers []Header
	// Body is the compiled body template: from `body` (a raw template string)
	// or `json` (any YAML value, sent as JSON; its strings are templates).
	Body string
	// JSON reports whether the body came from `json` (Content-Type
	// application/json is added unless set in Headers).
	JSON bool
}

// OpenAPI (`openapi`) generates requests from an API description.
type OpenAPI struct {
	// Spec (`spec`, required): the description's path, relative to the
	// scenario file.
	Spec string
	// Include and Exclude (`include`, `exclude`): operation patterns (an
	// operationId, "METHOD /path" with * globs, a path glob, or "tag:NAME").
	Include, Exclude []string
	// Operations (`operations`): per-operation settings, keyed by
	// operationId (or "METHOD /path"), in file order.
	Operations []OperationSetting
	// LatencyBudget (`latency_budget`): a response of any operation slower
	// than this (service time) is a latency-outlier finding; 0: none.
	LatencyBudget time.Duration

	specAt pos
}

// OperationSetting tunes one operation.
type OperationSetting struct {
	// ID is the operationId (or "METHOD /path").
	ID string
	// Weight (`weight`): relative share; 0 skips the operation; default 1.
	Weight int
	// Params (`params`): fixed values (templates) by parameter name.
	Params map[string]string
	// LatencyBudget (`latency_budget`): overrides OpenAPI.LatencyBudget.
	LatencyBudget time.Duration

	at pos
}

// Auth (`auth`) holds secrets for the description's security schemes,
// keyed by scheme name: a bearer token, an API key, or "user:password" for
// HTTP basic.
type Auth struct {
	// Primary (`primary`): the identity that sends the load.
	Primary map[string]string
	// Secondary (`secondary`): a second user, for cross-user checks.
	Secondary map[string]string
}

// Faults (`faults`) mixes malformed inputs into the load.
type Faults struct {
	// Ratio (`ratio`, required): share of requests mutated, 0..1.
	Ratio float64
	// Families (`families`): enabled mutation families; default all.
	Families []string
	// Seed (`seed`): seed of the mutation choice; nil means the run seed.
	Seed *uint64
}

// FaultFamilies lists the mutation families, in report order: value and
// structure families applied to generated values (internal/mutate), then
// wire-level ones applied to the request (internal/apireq).
var FaultFamilies = []string{"types", "boundaries", "strings", "formats", "structure", "encoding", "injection", "body", "methods", "headers", "auth"}
