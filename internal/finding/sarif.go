package finding

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// SARIFSchema is the schema URI written in every SARIF log.
const SARIFSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// oracleDoc is the help text of one oracle, for SARIF rules.
type oracleDoc struct {
	name  string // PascalCase rule name
	short string
	full  string
	help  string // how to fix
}

var oracleDocs = map[Oracle]oracleDoc{
	ServerError: {"ServerError", "The API answered with a 5xx status.",
		"A request (valid, or mutated to be invalid) made the server fail with a 5xx status instead of answering it or rejecting it with a 4xx.",
		"Validate input before using it and map validation failures to 4xx responses; make sure unexpected errors are caught and logged, and find the failing code path with the reproducer."},
	ConnectionFailure: {"ConnectionFailure", "The connection was reset, closed or timed out without a response.",
		"The server closed or reset the connection, or did not answer within the timeout, instead of sending an HTTP response. After a mutated request this usually means a crash or a hang in input handling; on valid traffic, lack of capacity.",
		"Check the server's logs and process restarts at the time of the finding; replay the request alone to tell a crash on input from overload."},
	InvalidAccepted: {"InvalidInputAccepted", "A request that violates the API's schema was accepted with a 2xx status.",
		"The mutation made the request invalid against the OpenAPI description (a value out of range, a wrong type, a missing required field, an unknown property), yet the API answered 2xx. Invalid data may have been stored or acted on.",
		"Validate requests against the schema (types, bounds, formats, required and additional properties) and answer 400 or 422 when they do not conform; or correct the OpenAPI description if it is stricter than intended."},
	InjectionEvidence: {"InjectionEvidence", "The response shows that an injection probe was interpreted.",
		"A probe for SQL, NoSQL, OS command, path traversal, template or script injection produced the interpreter's own evidence in the response: a database syntax error, the contents of /etc/passwd, the output of id, the evaluated template arithmetic, or the probe's markup unescaped in an HTML page.",
		"Never build queries, commands, paths or templates by concatenating input: use parameterised queries, argument vectors, allow-listed paths and sandboxed templates; encode output for its context."},
	InfoLeak: {"InformationLeak", "The response exposes internal details: a stack trace, an SQL error, a debug page or a source path.",
		"The response body contains information meant for developers: stack traces, database error messages, framework debug pages or file paths with line numbers. They tell an attacker the technology, the code layout and often the query being run.",
		"Turn off debug modes in production, return generic error bodies (for example RFC 9457 problem details) and log the details on the server instead."},
	AuthNotEnforced: {"AuthNotEnforced", "An operation that requires authentication answered without valid credentials.",
		"A request to a secured operation, sent with no, expired or malformed credentials, was answered with a 2xx status.",
		"Enforce authentication on every secured route (for example in middleware applied by default) and answer 401 when credentials are missing or invalid."},
	CrossUser: {"CrossUserAccess", "One user's credentials gave access to another user's object.",
		"A request authenticated as one user read or changed an object owned by another user (broken object level authorization).",
		"Check on every object access that the authenticated principal may access that object; do not rely on ids being hard to guess."},
	SpecStatus: {"UndocumentedStatus", "The API answered with a status code its OpenAPI description does not document.",
		"The response's status code is not among the operation's documented responses (and there is no default response). Clients generated from the description will not handle it.",
		"Document the status in the OpenAPI description, or change the implementation to answer with a documented one."},
	SpecBody: {"ResponseSchemaViolation", "The response body does not match the documented schema.",
		"The response body violates the schema documented for its status and media type: a missing required property, a wrong type, a value outside its enum or format.",
		"Fix the implementation or the OpenAPI description so that they agree."},
	SpecContentType: {"UnexpectedContentType", "The response's media type is not documented for its status.",
		"The Content-Type of the response is not among the media types the operation documents for that status.",
		"Send a documented media type (set Content-Type explicitly), or document the one sent."},
	LatencyOutlier: {"LatencyOutlier", "A response was far slower than the operation's usual latency.",
		"One response took far longer than the operation's typical latency at the same load, which points at an input that triggers expensive work (a pathological regular expression, an unbounded query, a large allocation).",
		"Replay the request alone and profile it; bound the work an input can cause (limits on sizes, pagination, timeouts)."},
	Degradation: {"Degradation", "The operation's latency or error rate worsened under load.",
		"As the request rate rose (or after a burst), the operation's latency or error rate got markedly worse than at low load.",
		"Find the saturated resource (connection pools, locks, CPU, a downstream service) and add capacity, limits or back-pressure (429 with Retry-After)."},
}

// securitySeverity maps severities to the numeric score GitHub code
// scanning reads from rule properties.
var securitySeverity = map[Severity]string{
	Critical: "9.5", High: "8.0", Medium: "5.5", Low: "3.0", Info: "0.0",
}

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s Severity) string {
	switch s {
	case Critical, High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown,omitempty"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	FullDescription      sarifText      `json:"fullDescription"`
	Help                 sarifText      `json:"help"`
	DefaultConfiguration sarifRuleConf  `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifRuleConf struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	OccurrenceCount     int64             `json:"occurrenceCount,omitempty"`
	WebRequest          *sarifWebRequest  `json:"webRequest,omitempty"`
	WebResponse         *sarifWebResponse `json:"webResponse,omitempty"`
	Properties          map[string]any    `json:"properties"`
}

// sarifContent is an artifactContent: text when the bytes are UTF-8, else
// base64.
type sarifContent struct {
	Text   *string `json:"text,omitempty"`
	Binary string  `json:"binary,omitempty"`
}

type sarifWebRequest struct {
	Protocol string            `json:"protocol,omitempty"`
	Version  string            `json:"version,omitempty"`
	Target   string            `json:"target,omitempty"`
	Method   string            `json:"method,omitempty"`
	Headers  map[string]string `json:"headers,omitempty"`
	Body     *sarifContent     `json:"body,omitempty"`
}

type sarifWebResponse struct {
	Protocol           string            `json:"protocol,omitempty"`
	Version            string            `json:"version,omitempty"`
	StatusCode         int               `json:"statusCode,omitempty"`
	ReasonPhrase       string            `json:"reasonPhrase,omitempty"`
	Headers            map[string]string `json:"headers,omitempty"`
	Body               *sarifContent     `json:"body,omitempty"`
	NoResponseReceived bool              `json:"noResponseReceived,omitempty"`
}

type sarifLocation struct {
	LogicalLocations []sarifLogical `json:"logicalLocations"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes findings as a SARIF 2.1.0 log with one run of tool
// (name and version). The driver has one rule per oracle (every known
// oracle in [Oracles] order, then any other oracle the findings use), with
// a description, help text, a default level and properties: tags
// ("security", the CWEs of its findings, "external/cwe/cwe-N") and
// "security-severity" (the score of its most severe finding, or of its
// default classification). Each finding is one result: level from its
// severity (critical and high: error, medium: warning, low and info:
// note), a message, the operation as a logical location (name: the
// operationId or METHOD path; fully qualified: METHOD path; kind
// "function"), the fingerprint as partialFingerprints["barrage/v1"], the
// count as occurrenceCount, the request and the response excerpt as
// webRequest and webResponse, and properties holding the classification,
// detail, evidence, status, load, the reproducer ("reproducer"), the replay
// command ("replay") and the exact request text ("request").
func WriteSARIF(w io.Writer, tool, version string, findings []Finding) error {
	sorted := Sorted(findings)
	oracles := slices.Clone(Oracles)
	for _, f := range sorted {
		if !slices.Contains(oracles, f.Oracle) {
			oracles = append(oracles, f.Oracle)
		}
	}
	ruleIndex := map[Oracle]int{}
	rules := make([]sarifRule, 0, len(oracles))
	for i, o := range oracles {
		ruleIndex[o] = i
		rules = append(rules, sarifRuleFor(o, sorted))
	}
	results := make([]sarifResult, 0, len(sorted))
	for _, f := range sorted {
		results = append(results, sarifResultFor(f, ruleIndex[f.Oracle]))
	}
	log := sarifLog{
		Schema:  SARIFSchema,
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool:    sarifTool{Driver: sarifDriver{Name: tool, Version: version, Rules: rules}},
			Results: results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif: %w", err)
	}
	return nil
}

func sarifRuleFor(o Oracle, findings []Finding) sarifRule {
	doc, ok := oracleDocs[o]
	if !ok {
		doc = oracleDoc{name: string(o), short: "Findings of the " + string(o) + " oracle.",
			full: "Findings of the " + string(o) + " oracle.", help: "See the finding's evidence."}
	}
	sev, cwe, owasp := Classify(o, "")
	cwes := []string{}
	owasps := []string{}
	add := func(list []string, s string) []string {
		if s != "" && !slices.Contains(list, s) {
			list = append(list, s)
		}
		return list
	}
	top := Severity("")
	for _, f := range findings {
		if f.Oracle != o {
			continue
		}
		cwes = add(cwes, f.CWE)
		owasps = add(owasps, f.OWASP)
		if f.Severity.Rank() > top.Rank() {
			top = f.Severity
		}
	}
	if top == "" {
		top = sev
		cwes = add(cwes, cwe)
		owasps = add(owasps, owasp)
	}
	slices.Sort(cwes)
	slices.Sort(owasps)
	tags := []string{"security", "api"}
	var helpMD strings.Builder
	helpMD.WriteString(doc.full + "\n\n**Fix:** " + doc.help)
	for _, c := range cwes {
		tags = append(tags, c, "external/cwe/"+strings.ToLower(c))
		if t := CWETitle(c); t != "" {
			fmt.Fprintf(&helpMD, "\n\n- [%s: %s](https://cwe.mitre.org/data/definitions/%s.html)", c, t, strings.TrimPrefix(c, "CWE-"))
		}
	}
	for _, s := range owasps {
		tags = append(tags, "owasp-api-2023:"+strings.SplitN(s, " ", 2)[0])
		fmt.Fprintf(&helpMD, "\n- OWASP %s", s)
	}
	props := map[string]any{
		"tags":              tags,
		"security-severity": securitySeverity[top],
		"precision":         "high",
	}
	if len(cwes) > 0 {
		props["cwe"] = cwes
	}
	if len(owasps) > 0 {
		props["owasp"] = owasps
	}
	return sarifRule{
		ID:                   string(o),
		Name:                 doc.name,
		ShortDescription:     sarifText{Text: doc.short},
		FullDescription:      sarifText{Text: doc.full},
		Help:                 sarifText{Text: doc.full + "\n\nFix: " + doc.help, Markdown: helpMD.String()},
		DefaultConfiguration: sarifRuleConf{Level: sarifLevel(sev)},
		Properties:           props,
	}
}

func sarifResultFor(f Finding, ruleIndex int) sarifResult {
	where := strings.TrimSpace(f.Method + " " + f.Path)
	name := f.Operation
	if name == "" {
		name = where
	}
	var msg strings.Builder
	if doc, ok := oracleDocs[f.Oracle]; ok {
		msg.WriteString(strings.TrimSuffix(doc.short, "."))
	} else {
		msg.WriteString(string(f.Oracle))
	}
	msg.WriteString(" on " + where)
	if f.Operation != "" {
		msg.WriteString(" (" + f.Operation + ")")
	}
	if f.Mutation != "" {
		msg.WriteString(" with mutation " + f.Mutation)
	}
	msg.WriteString(".")
	if f.Detail != "" {
		msg.WriteString(" Sent: " + f.Detail + ".")
	}
	if f.Evidence != "" {
		msg.WriteString(" Seen: " + f.Evidence + ".")
	}
	if f.Count > 1 {
		msg.WriteString(" " + strconv.FormatInt(f.Count, 10) + " occurrences.")
	}
	props := map[string]any{
		"id":       f.ID,
		"severity": string(f.Severity),
		"oracle":   string(f.Oracle),
		"replay":   f.ReplayCommand(),
		"seed":     strconv.FormatUint(f.Seed, 10), // a string: JSON numbers lose uint64 precision
		"shard":    f.Shard,
		"case":     f.Case,
	}
	set := func(k, v string) {
		if v != "" {
			props[k] = v
		}
	}
	set("cwe", f.CWE)
	set("owasp", f.OWASP)
	set("mutation", f.Mutation)
	set("detail", f.Detail)
	set("evidence", f.Evidence)
	set("reproducer", f.Reproducer())
	set("request", strings.ToValidUTF8(string(f.Request), "\uFFFD"))
	set("baseUrl", f.BaseURL)
	if f.Status != 0 {
		props["status"] = f.Status
	}
	if f.LoadRPS > 0 {
		props["loadRps"] = f.LoadRPS
	}
	if !f.FirstSeen.IsZero() {
		props["firstSeen"] = f.FirstSeen.UTC().Format(time.RFC3339Nano)
	}
	return sarifResult{
		RuleID:    string(f.Oracle),
		RuleIndex: ruleIndex,
		Level:     sarifLevel(f.Severity),
		Message:   sarifText{Text: msg.String()},
		Locations: []sarifLocation{{LogicalLocations: []sarifLogical{{
			Name: name, FullyQualifiedName: where, Kind: "function",
		}}}},
		PartialFingerprints: map[string]string{"barrage/v1": f.Fingerprint},
		OccurrenceCount:     max(f.Count, 0),
		WebRequest:          webRequest(f.Request),
		WebResponse:         webResponse(f.Status, f.ResponseExcerpt),
		Properties:          props,
	}
}

// splitMessage splits an HTTP/1.x message into its start line, header
// fields (joined with ", " when repeated, names as first seen) and body.
// Line ends may be CRLF or LF. ok is false when there is no start line.
func splitMessage(msg []byte) (start string, headers map[string]string, body []byte, ok bool) {
	head, body, found := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !found {
		head, body, found = bytes.Cut(msg, []byte("\n\n"))
	}
	if !found {
		head, body = msg, nil
	}
	lines := strings.Split(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n")
	if len(lines) == 0 || lines[0] == "" {
		return "", nil, nil, false
	}
	headers = map[string]string{}
	names := map[string]string{} // lower-case → as first seen
	for _, l := range lines[1:] {
		name, value, ok := strings.Cut(l, ":")
		if !ok || name == "" {
			continue
		}
		key := strings.ToLower(name)
		if first, seen := names[key]; seen {
			headers[first] += ", " + strings.TrimSpace(value)
			continue
		}
		names[key] = name
		headers[name] = strings.TrimSpace(value)
	}
	for k, v := range headers {
		headers[k] = strings.ToValidUTF8(v, "\uFFFD")
	}
	return strings.ToValidUTF8(lines[0], "\uFFFD"), headers, body, true
}

func content(b []byte) *sarifContent {
	if len(b) == 0 {
		return nil
	}
	if utf8.Valid(b) {
		s := string(b)
		return &sarifContent{Text: &s}
	}
	return &sarifContent{Binary: base64.StdEncoding.EncodeToString(b)}
}

// webRequest describes a raw request for SARIF, or returns nil when its
// request line cannot be read.
func webRequest(req []byte) *sarifWebRequest {
	start, headers, body, ok := splitMessage(req)
	if !ok {
		return nil
	}
	method, rest, ok1 := strings.Cut(start, " ")
	sp := strings.LastIndexByte(rest, ' ')
	if !ok1 || sp < 0 {
		return nil
	}
	w := &sarifWebRequest{Protocol: "http", Method: method, Target: rest[:sp], Headers: headers, Body: content(body)}
	if v, ok := strings.CutPrefix(rest[sp+1:], "HTTP/"); ok {
		w.Version = v
	}
	return w
}

// webResponse describes a response excerpt for SARIF; with no excerpt and
// no status it records that no response was received.
func webResponse(status int, excerpt []byte) *sarifWebResponse {
	if len(excerpt) == 0 {
		if status == 0 {
			return &sarifWebResponse{NoResponseReceived: true}
		}
		return &sarifWebResponse{StatusCode: status}
	}
	start, headers, body, ok := splitMessage(excerpt)
	w := &sarifWebResponse{StatusCode: status}
	if !ok {
		return w
	}
	proto, rest, _ := strings.Cut(start, " ")
	code, reason, _ := strings.Cut(rest, " ")
	if v, ok := strings.CutPrefix(proto, "HTTP/"); ok {
		w.Protocol, w.Version = "http", v
	}
	if n, err := strconv.Atoi(code); err == nil && w.StatusCode == 0 {
		w.StatusCode = n
	}
	w.ReasonPhrase, w.Headers, w.Body = reason, headers, content(body)
	return w
}
