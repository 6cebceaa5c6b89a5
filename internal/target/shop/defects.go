package shop

import (
	"fmt"
	"math/bits"
	"strings"
)

// Defects is a set of planted defects, one bit each; the zero value is the
// defect-free shop. Each defect is triggered only by the input named in its
// comment, so valid traffic never meets one except where the defect is about
// valid traffic (LatencyOutlier, Degradation, CrossUser, AuthNotEnforced).
type Defects uint32

// The planted defects, one per oracle.
const (
	// ServerError: POST /orders with an integer quantity above 100 panics
	// (an out-of-range index into the bulk-discount table) and is answered
	// 500 instead of 400.
	ServerError Defects = 1 << iota
	// ConnectionReset: GET /products with an integer limit of 0 or less
	// hijacks the connection and closes it with a TCP RST, no response.
	ConnectionReset
	// InvalidAccepted: POST /orders accepts a note longer than 100
	// characters (201, the note silently truncated to 100) instead of 400.
	InvalidAccepted
	// SpecViolation: GET /products/{productId} with an integer id outside
	// 1..1000 answers 404 with a body that does not match the Error schema
	// ({"message": …, "code": 404}) instead of a 400 Error.
	SpecViolation
	// UndocumentedStatus: GET /products with a limit that is not an integer
	// ("abc", "1.5", "") answers 422, a status the document does not list,
	// instead of 400.
	UndocumentedStatus
	// WrongContentType: GET /orders/{orderId} with an orderId that is not a
	// UUID answers its 400 as text/plain (net/http's http.Error), a media
	// type the document does not list, instead of an application/json Error.
	WrongContentType
	// InfoLeak: POST /orders with a body that is not well-formed JSON answers
	// 400 whose error message carries a Go stack trace with source paths.
	InfoLeak
	// AuthNotEnforced: DELETE /orders/{orderId} without a bearer token, or
	// with an unknown one, deletes any order (204, or 404 when there is no
	// such order) instead of answering 401.
	AuthNotEnforced
	// CrossUser: GET /orders/{orderId} returns another user's order (200)
	// instead of 404.
	CrossUser
	// LatencyOutlier: GET /products with a q longer than 40 characters (still
	// valid, the maximum is 50) is answered after Config.OutlierDelay.
	LatencyOutlier
	// Degradation: GET /orders is delayed by 1 ms per Config.DegradeEvery
	// stored orders (all users), up to Config.DegradeMax, so its latency
	// trends up as the store grows.
	Degradation
	// InjectionEcho: GET /products with a q containing '<' or '>', from a
	// client that accepts text/html (an Accept header naming text/html,
	// text/* or */*, or no Accept header), answers a text/html page that
	// reflects q unescaped: 200 with the results, or 400 (an error page)
	// when q is longer than 50 characters. The document lists text/html for
	// both, so only the reflection is wrong.
	InjectionEcho

	numDefects = iota
)

// NoDefects is the defect-free shop.
const NoDefects Defects = 0

// AllDefects is every planted defect.
const AllDefects Defects = 1<<numDefects - 1

// defectNames are the names ParseDefects accepts and String prints, in bit order.
var defectNames = [numDefects]string{
	"server-error",
	"connection-reset",
	"invalid-accepted",
	"spec-violation",
	"undocumented-status",
	"wrong-content-type",
	"info-leak",
	"auth-not-enforced",
	"cross-user",
	"latency-outlier",
	"degradation",
	"injection-echo",
}

// DefectNames lists every defect's name, in a fixed order.
func DefectNames() []string { return append([]string(nil), defectNames[:]...) }

// Has reports whether every defect in x is in d.
func (d Defects) Has(x Defects) bool { return d&x == x }

// String is the comma-separated list of d's names, "none" for the empty set,
// "all" for AllDefects. ParseDefects reads it back.
func (d Defects) String() string {
	switch d {
	case NoDefects:
		return "none"
	case AllDefects:
		return "all"
	}
	names := make([]string, 0, bits.OnesCount32(uint32(d)))
	for i, n := range defectNames {
		if d&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := d &^ AllDefects; rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(rest)))
	}
	return strings.Join(names, ",")
}

// ParseDefects reads "all", "none", "" (none) or a comma-separated list of
// names (DefectNames; case, '-' and '_' are ignored, so "ServerError" and
// "server_error" name the same defect).
func ParseDefects(s string) (Defects, error) {
	var d Defects
	for _, part := range strings.Split(s, ",") {
		key := normalizeName(part)
		switch key {
		case "", "none":
			continue
		case "all":
			d |= AllDefects
			continue
		}
		found := false
		for i, n := range defectNames {
			if normalizeName(n) == key {
				d |= 1 << i
				found = true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown defect %q (known: all, none, %s)", strings.TrimSpace(part), strings.Join(defectNames[:], ", "))
		}
	}
	return d, nil
}

func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)
}
