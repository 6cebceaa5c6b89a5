// Package outcome classifies what happened to one request: the HTTP status
// class of a response, or the kind of transport error when there was none.
//
// Both the lean HTTP/1.1 client (internal/h1) and Go's net/http client (used
// for HTTP/2) feed their errors through [Kind], so a report counts a refused
// connection as "refused" whichever client saw it.
//
// Usage:
//
//	resp, err := client.Do(ctx, req, false)
//	if err != nil {
//		errs[outcome.Kind(err)]++ // "timeout", "refused", ...
//		record(barragev1.OutcomeClass_OUTCOME_CLASS_ERROR, latency)
//	} else {
//		record(outcome.Class(resp.Status), latency)
//	}
//
// Concurrency: everything here is a pure function of its arguments (or a
// read-only variable) and safe for concurrent use. Neither function allocates
// on the success path; [Kind] may allocate while it inspects error messages,
// which happens only for failed requests.
package outcome
