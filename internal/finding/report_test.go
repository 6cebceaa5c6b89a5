package finding

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sampleFindings covers every branch the reports have: curl, nc and
// openssl reproducers, no response, binary bytes, an oracle without help
// text, zero values.
func sampleFindings() []Finding {
	first := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	mk := func(f Finding) Finding {
		body := []byte(nil)
		if i := bytes.Index(f.ResponseExcerpt, []byte("\r\n\r\n")); i >= 0 {
			body = f.ResponseExcerpt[i+4:]
		}
		f.Fingerprint = Fingerprint(f.Operation, string(f.Oracle), f.Mutation, f.Status, body)
		f.ID = ShortID(f.Fingerprint)
		f.Severity, f.CWE, f.OWASP = Classify(f.Oracle, f.Mutation)
		return f
	}
	return []Finding{
		mk(Finding{
			Oracle: ServerError, Operation: "createOrder", Method: "POST", Path: "/orders",
			Mutation: "boundaries/max+1", Detail: "body /quantity: 101 (maximum 100)",
			Evidence: `HTTP 500; body contains "goroutine 1 [running]"`, Count: 42, FirstSeen: first, LoadRPS: 950.4,
			BaseURL: "http://127.0.0.1:18080",
			Request: req("POST /orders HTTP/1.1", "Host: 127.0.0.1:18080", "Content-Type: application/json", "Content-Length: 31", "", `{"product_id":7,"quantity":101}`),
			Status:  500, ResponseExcerpt: req("HTTP/1.1 500 Internal Server Error", "Content-Type: text/plain", "", "panic: runtime error: index out of range [101] with length 100\n\ngoroutine 1 [running]:\nmain.order()\n\t/src/main.go:42 +0x1d\n"),
			Seed: 42, Shard: 1, Case: 12345,
		}),
		mk(Finding{
			Oracle: InjectionEvidence, Operation: "listProducts", Method: "GET", Path: "/products",
			Mutation: "injection/sql", Detail: "query sort: ' OR '1'='1",
			Evidence: `HTTP 500; "You have an error in your SQL syntax"`, Count: 3, FirstSeen: first.Add(time.Minute),
			BaseURL: "https://shop.example",
			Request: req("GET /products?sort=%27%20OR%20%271%27%3D%271 HTTP/1.1", "Host: shop.example", "Accept: application/json", "", ""),
			Status:  500, ResponseExcerpt: req("HTTP/1.1 500 Internal Server Error", "Content-Type: application/json", "", `{"error":"Error 1064 (42000): You have an error in your SQL syntax"}`),
			Seed: 42, Shard: 0, Case: 7,
		}),
		mk(Finding{
			Oracle: AuthNotEnforced, Operation: "getOrder", Method: "GET", Path: "/orders/{id}", Mutation: "auth/none",
			Detail: "no Authorization header", Evidence: "HTTP 200 without credentials", Count: 1,
			Request: req("GET /orders/1 HTTP/1.1", "Host: 127.0.0.1:18080", "", ""),
			Status:  200, ResponseExcerpt: req("HTTP/1.1 200 OK", "Content-Type: application/json", "", `{"id":1}`),
		}),
		mk(Finding{
			Oracle: ConnectionFailure, Operation: "uploadFile", Method: "POST", Path: "/files", Mutation: "framing/chunked-garbage",
			Detail: "chunk size \"zz\"", Evidence: "connection reset by peer", Count: 5, BaseURL: "http://127.0.0.1:18080",
			Request: req("POST /files HTTP/1.1", "Host: 127.0.0.1:18080", "Transfer-Encoding: chunked", "", "zz\r\nabc\r\n0\r\n\r\n"),
			Seed:    7, Shard: 2, Case: 99,
		}),
		mk(Finding{
			Oracle: InfoLeak, Operation: "getAvatar", Method: "GET", Path: "/users/{id}/avatar",
			Evidence: "stack-trace/java: at com.shop.Avatar.load(Avatar.java:12)", Count: 2,
			BaseURL: "http://127.0.0.1:18080",
			Request: req("GET /users/1/avatar HTTP/1.1", "Host: 127.0.0.1:18080", "", ""),
			Status:  500, ResponseExcerpt: append(req("HTTP/1.1 500 Oops", "Content-Type: application/octet-stream", "", "\x00\x01\xff\xfe "), []byte("\tat com.shop.Avatar.load(Avatar.java:12)\x1b[0m")...),
		}),
		mk(Finding{
			Oracle: Oracle("custom-check"), Operation: "", Method: "DELETE", Path: "/cart", Count: 0,
		}),
	}
}

var sampleChecks = []Check{
	{Name: "p99 < 250ms", Passed: true, Message: "p99 = 180ms"},
	{Name: "error_rate < 1%", Passed: false, Message: "error_rate = 2.5%\n(over the whole run)"},
	{Name: "findings == 0", Passed: false},
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", name, diff)
	}
}

type parsedJUnit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	findings := sampleFindings()
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "barrage.shop", findings, sampleChecks); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.junit.xml", buf.Bytes())

	// well-formed: every token decodes
	dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
	for {
		if _, err := dec.Token(); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed XML: %v", err)
			}
			break
		}
	}
	var p parsedJUnit
	if err := xml.Unmarshal(buf.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	wantTests, wantFailures := len(findings)+len(sampleChecks), len(findings)+2
	if p.Tests != wantTests || p.Failures != wantFailures || len(p.Suites) != 1 {
		t.Fatalf("testsuites tests=%d failures=%d suites=%d; want %d %d 1", p.Tests, p.Failures, len(p.Suites), wantTests, wantFailures)
	}
	s := p.Suites[0]
	if s.Name != "barrage.shop" || s.Tests != wantTests || s.Failures != wantFailures || len(s.Cases) != wantTests {
		t.Fatalf("testsuite %q tests=%d failures=%d cases=%d", s.Name, s.Tests, s.Failures, len(s.Cases))
	}
	if c := s.Cases[0]; c.Failure != nil || c.SystemOut != "p99 = 180ms" || c.Classname != "barrage.shop.checks" {
		t.Errorf("passed check: %+v", c)
	}
	if c := s.Cases[1]; c.Failure == nil || c.Failure.Type != "check" || strings.Contains(c.Failure.Message, "\n") {
		t.Errorf("failed check: %+v", c)
	}
	sorted := Sorted(findings)
	for i, f := range sorted {
		c := s.Cases[len(sampleChecks)+i]
		if c.Failure == nil || c.Failure.Type != string(f.Oracle) || !strings.Contains(c.Name, f.ID) {
			t.Errorf("finding %d: case %+v", i, c)
			continue
		}
		if f.Reproducer() != "" && !strings.Contains(c.Failure.Text, f.Reproducer()) {
			t.Errorf("finding %s: failure text lacks the reproducer", f.ID)
		}
		if !strings.Contains(c.Failure.Text, f.ReplayCommand()) {
			t.Errorf("finding %s: failure text lacks the replay command", f.ID)
		}
	}
	if sorted[0].Severity != Critical || sorted[len(sorted)-1].Severity != Info {
		t.Errorf("not sorted by severity: %s … %s", sorted[0].Severity, sorted[len(sorted)-1].Severity)
	}
}

func TestWriteJUnitEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "empty", nil, nil); err != nil {
		t.Fatal(err)
	}
	var p parsedJUnit
	if err := xml.Unmarshal(buf.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.Tests != 0 || len(p.Suites) != 1 {
		t.Errorf("empty report: %+v", p)
	}
}

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SARIFSchema, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(SARIFSchema)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func TestWriteSARIF(t *testing.T) {
	findings := sampleFindings()
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, "barrage", "1.2.3", findings); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.sarif.json", buf.Bytes())

	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(inst); err != nil {
		t.Fatalf("not valid against the SARIF 2.1.0 schema: %v", err)
	}

	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name, Version string
					Rules         []struct {
						ID         string         `json:"id"`
						Help       map[string]any `json:"help"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					LogicalLocations []struct {
						Name, FullyQualifiedName, Kind string
					} `json:"logicalLocations"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				WebResponse         *struct {
					NoResponseReceived bool `json:"noResponseReceived"`
				} `json:"webResponse"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || log.Schema != SARIFSchema || len(log.Runs) != 1 {
		t.Fatalf("header: %q %q runs=%d", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "barrage" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver %q %q", run.Tool.Driver.Name, run.Tool.Driver.Version)
	}
	rules := run.Tool.Driver.Rules
	if len(rules) != len(Oracles)+1 { // every oracle, and custom-check
		t.Errorf("%d rules, want %d", len(rules), len(Oracles)+1)
	}
	for _, r := range rules {
		if r.Help["text"] == "" || r.Properties["security-severity"] == nil || r.Properties["tags"] == nil {
			t.Errorf("rule %s lacks help or properties", r.ID)
		}
	}
	if len(run.Results) != len(findings) {
		t.Fatalf("%d results, want %d", len(run.Results), len(findings))
	}
	levels := map[Severity]string{Critical: "error", High: "error", Medium: "warning", Low: "note", Info: "note"}
	for i, f := range Sorted(findings) {
		r := run.Results[i]
		if rules[r.RuleIndex].ID != r.RuleID || r.RuleID != string(f.Oracle) {
			t.Errorf("result %d: ruleId %s, rules[%d] = %s", i, r.RuleID, r.RuleIndex, rules[r.RuleIndex].ID)
		}
		if r.Level != levels[f.Severity] {
			t.Errorf("result %d: level %s for %s", i, r.Level, f.Severity)
		}
		if len(r.Locations) != 1 || len(r.Locations[0].LogicalLocations) != 1 || r.Locations[0].LogicalLocations[0].FullyQualifiedName != strings.TrimSpace(f.Method+" "+f.Path) {
			t.Errorf("result %d: locations %+v", i, r.Locations)
		}
		if r.PartialFingerprints["barrage/v1"] != f.Fingerprint || r.Message.Text == "" {
			t.Errorf("result %d: fingerprint or message missing", i)
		}
		if f.Reproducer() != "" && r.Properties["reproducer"] != f.Reproducer() {
			t.Errorf("result %d: reproducer %v", i, r.Properties["reproducer"])
		}
		if r.Properties["replay"] != f.ReplayCommand() {
			t.Errorf("result %d: replay %v", i, r.Properties["replay"])
		}
		if f.Oracle == ConnectionFailure && (r.WebResponse == nil || !r.WebResponse.NoResponseReceived) {
			t.Errorf("connection failure without noResponseReceived")
		}
	}
}

func TestWriteSARIFEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, "barrage", "", nil); err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(inst); err != nil {
		t.Fatalf("empty log not valid: %v", err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"results": []`)) {
		t.Errorf("an empty run must still have results: []")
	}
}

// TestSARIFSchemaRejects makes sure the validation can fail: a log without
// its version is not valid.
func TestSARIFSchemaRejects(t *testing.T) {
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"fatal","message":{"text":"m"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := sarifSchema(t).Validate(inst); err == nil {
		t.Error("schema accepted an invalid log")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	if err := WriteJUnit(failWriter{}, "s", sampleFindings(), sampleChecks); err == nil {
		t.Error("WriteJUnit: no error from a failing writer")
	}
	if err := WriteSARIF(failWriter{}, "barrage", "1", sampleFindings()); err == nil {
		t.Error("WriteSARIF: no error from a failing writer")
	}
}

func TestJUnitEscaping(t *testing.T) {
	checks := []Check{{Name: "a <b> & \"c\"", Passed: false, Message: "x ]]> y \x00 z \x1b \xff end"}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "s", nil, checks); err != nil {
		t.Fatal(err)
	}
	var p parsedJUnit
	if err := xml.Unmarshal(buf.Bytes(), &p); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, buf.Bytes())
	}
	c := p.Suites[0].Cases[0]
	if c.Name != checks[0].Name {
		t.Errorf("name %q", c.Name)
	}
	want := "a <b> & \"c\": x ]]> y \uFFFD z \uFFFD \uFFFD end"
	if c.Failure == nil || c.Failure.Text != want {
		t.Errorf("failure text %q, want %q", c.Failure.Text, want)
	}
}
