package finding

import (
	"strings"
	"time"
)

// Oracle names the check that produced a finding. Its string form is the
// stable identifier used in fingerprints, reports, JUnit classnames and
// SARIF rule ids.
type Oracle string

// The oracles.
const (
	// ServerError: the target answered 5xx.
	ServerError Oracle = "server-error"
	// ConnectionFailure: the connection was reset or closed without a
	// response, or the request timed out.
	ConnectionFailure Oracle = "connection-failure"
	// InvalidAccepted: the target answered 2xx to a request the mutation
	// made invalid (a 4xx was expected).
	InvalidAccepted Oracle = "invalid-input-accepted"
	// SpecStatus: a status code the OpenAPI operation does not document.
	SpecStatus Oracle = "undocumented-status"
	// SpecBody: a response body that violates the documented schema.
	SpecBody Oracle = "response-schema-violation"
	// SpecContentType: a media type the operation does not document for
	// that status.
	SpecContentType Oracle = "unexpected-content-type"
	// InfoLeak: the response shows a stack trace, an SQL error, a debug page
	// or a source path (see internal/oracle.InfoLeak).
	InfoLeak Oracle = "information-leak"
	// AuthNotEnforced: a request without (or with broken) credentials to a
	// secured operation was answered 2xx.
	AuthNotEnforced Oracle = "auth-not-enforced"
	// CrossUser: one user's credentials read or changed another user's
	// object.
	CrossUser Oracle = "cross-user-access"
	// LatencyOutlier: a single response far slower than its operation's
	// usual latency at the same load.
	LatencyOutlier Oracle = "latency-outlier"
	// Degradation: the operation's latency or error rate worsened as load
	// rose (or stayed worse after a burst).
	Degradation Oracle = "degradation"
	// InjectionEvidence: the response shows that an injection probe was
	// interpreted (see internal/oracle.Injection).
	InjectionEvidence Oracle = "injection-evidence"
)

// Oracles lists every oracle in report order.
var Oracles = []Oracle{
	ServerError, ConnectionFailure, InvalidAccepted, InjectionEvidence,
	InfoLeak, AuthNotEnforced, CrossUser, SpecStatus, SpecBody,
	SpecContentType, LatencyOutlier, Degradation,
}

// Severity grades a finding. The zero value ("") sorts below Info.
type Severity string

// The severities, highest first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Rank orders severities: Critical 5, High 4, Medium 3, Low 2, Info 1,
// anything else 0.
func (s Severity) Rank() int {
	switch s {
	case Critical:
		return 5
	case High:
		return 4
	case Medium:
		return 3
	case Low:
		return 2
	case Info:
		return 1
	}
	return 0
}

// MaxExcerpt is the most bytes of a response kept in
// [Finding.ResponseExcerpt]: 4 KiB.
const MaxExcerpt = 4 << 10

// Finding is one defect, deduplicated across a run by its Fingerprint.
type Finding struct {
	// ID is the first 10 hex digits of Fingerprint: short, stable across
	// runs of the same defect, and typable (see [ShortID]).
	ID string
	// Fingerprint identifies the defect (see [Fingerprint]); 32 hex digits.
	Fingerprint string
	Oracle      Oracle
	Severity    Severity
	// Operation is the OpenAPI operationId (or the scenario request name);
	// Method and Path are the method and the path template (/orders/{id}).
	Operation, Method, Path string
	// Mutation is "" for valid traffic, else the mutation's name, family
	// first: "boundaries/max+1".
	Mutation string
	// Detail says what was sent wrong: `body /quantity: 101 (maximum 100)`.
	Detail string
	// Evidence says what was seen: `HTTP 500; body contains "goroutine 1 [running]"`.
	Evidence string
	// CWE ("CWE-20") and OWASP ("API8:2023 Security Misconfiguration") are
	// "" where none applies; see [Classify].
	CWE, OWASP string
	// Count is how many times the defect was seen in the run (>= 1).
	Count int64
	// FirstSeen is when it was first seen (zero: unknown).
	FirstSeen time.Time
	// LoadRPS is the achieved request rate, in requests per second, of the
	// run when the finding was first seen (0: unknown).
	LoadRPS float64
	// BaseURL is where Request was sent: scheme://host[:port], no path
	// (the path is in Request). "" means http:// and the Host header.
	BaseURL string
	// Request is the exact request (HTTP/1.1 wire bytes) that triggered it.
	Request []byte
	// Status is the response status code (0: no response).
	Status int
	// ResponseExcerpt is the first MaxExcerpt bytes of the response:
	// status line, headers and body.
	ResponseExcerpt []byte
	// Seed, Shard and Case replay the request: barrage replay --seed
	// --shard --case.
	Seed  uint64
	Shard int32
	Case  int64
}

// Family returns the mutation family: the part of Mutation before the first
// "/" ("boundaries" for "boundaries/max+1"), "" for valid traffic.
func (f Finding) Family() string {
	fam, _, _ := strings.Cut(f.Mutation, "/")
	return fam
}

// ShortID returns the short ID for a fingerprint: its first 10 characters.
func ShortID(fingerprint string) string {
	if len(fingerprint) > 10 {
		return fingerprint[:10]
	}
	return fingerprint
}
