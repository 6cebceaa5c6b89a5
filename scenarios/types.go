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
	// Requests (`requests`, at least one): the request templates.
	Requests []Request
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
