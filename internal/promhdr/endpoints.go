package promhdr

import (
	"fmt"
	"slices"
	"strings"

	"github.com/barrage-dev/barrage/internal/outcome"
	"github.com/barrage-dev/barrage/internal/report"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// MaxEndpoints is the most endpoint label values of one run; a plan with
// more has its endpoints from index MaxEndpoints-1 on merged under
// OtherEndpoint.
const (
	MaxEndpoints  = 100
	OtherEndpoint = "other"
)

// ErrorKind5xx is the error kind of 5xx responses, beside the transport
// error kinds of internal/outcome.
const ErrorKind5xx = "5xx"

// EndpointLabels returns the endpoint label of each endpoint of plan, in
// the plan's order (request templates, then OpenAPI operations), named as
// reports name them (template name, operation id). Each endpoint gets its
// own value: an empty name becomes "endpoint-<i>", a repeated one
// "<name>#<i>" (or the next free number), invalid UTF-8 is replaced. With
// more than MaxEndpoints endpoints, those from index MaxEndpoints-1 on all
// get OtherEndpoint, which no single endpoint then uses.
func EndpointLabels(plan *pb.Plan) []string {
	names := report.EndpointNames(plan)
	merge := len(names) > MaxEndpoints
	used := map[string]bool{OtherEndpoint: merge}
	out := make([]string, len(names))
	for i, name := range names {
		if merge && i >= MaxEndpoints-1 {
			out[i] = OtherEndpoint
			continue
		}
		base := strings.ToValidUTF8(name, "\uFFFD")
		if base == "" {
			base = fmt.Sprintf("endpoint-%d", i)
		}
		name = base
		for k := i; used[name]; k++ {
			name = fmt.Sprintf("%s#%d", base, k)
		}
		used[name] = true
		out[i] = name
	}
	return out
}

// Counts are one endpoint's counters, summed over windows or endpoints.
// The zero value is ready to use.
type Counts struct {
	// Requests whose outcome is known (responses plus transport errors).
	Requests int64
	// Dropped arrivals (open model).
	Dropped int64
	// Responses by status class ("1xx".."5xx").
	Responses map[string]int64
	// Errors by kind: the transport error kinds of internal/outcome (an
	// unknown kind counts as "other") and ErrorKind5xx for 5xx responses.
	Errors map[string]int64
}

// Add adds an endpoint window's counters (histograms aside).
func (c *Counts) Add(e *pb.EndpointWindow) {
	if c.Responses == nil {
		c.Responses = map[string]int64{}
		c.Errors = map[string]int64{}
	}
	c.Requests += e.GetRequests()
	c.Dropped += e.GetDropped()
	for code, n := range e.GetStatus() {
		cl := outcome.Class(int(code))
		c.Responses[outcome.ClassName(cl)] += n
		if cl == pb.OutcomeClass_OUTCOME_CLASS_5XX {
			c.Errors[ErrorKind5xx] += n
		}
	}
	for kind, n := range e.GetErrors() {
		if !slices.Contains(outcome.Kinds, kind) {
			kind = outcome.KindOther
		}
		c.Errors[kind] += n
	}
}
