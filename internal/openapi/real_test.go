package openapi

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v4"
)

// realSpecs are the public descriptions in testdata/real, each with what
// it must load to.
var realSpecs = []struct {
	file    string
	version string
	ops     int
	check   func(t *testing.T, s *Spec)
}{
	{file: "petstore.yaml", version: "3.0.0", ops: 3, check: func(t *testing.T, s *Spec) {
		o := s.Operation("listPets")
		if o == nil || len(o.Params) != 1 || o.Params[0].Schema.Max == nil || *o.Params[0].Schema.Max != 100 {
			t.Errorf("listPets limit parameter = %+v", o)
		}
		if r := o.Responses[0]; r.Status != "200" || !slices.Equal(r.Headers, []string{"x-next"}) {
			t.Errorf("listPets first response = %+v", r)
		}
	}},
	{file: "petstore-expanded.yaml", version: "3.0.0", ops: 4, check: func(t *testing.T, s *Spec) {
		pet := s.Operation("find pet by id").Responses[0].MediaTypes["application/json"]
		if pet == nil || len(pet.AllOf) != 2 {
			t.Errorf("Pet = %+v, want allOf of two", pet)
		}
		if b := s.Operation("addPet").Body; b == nil || !b.Required || b.Schema.Properties["name"] == nil {
			t.Errorf("addPet body = %+v", b)
		}
	}},
	{file: "uspto.yaml", version: "3.0.1", ops: 3, check: func(t *testing.T, s *Spec) {
		if !slices.Equal(s.Servers, []string{"https://developer.uspto.gov/ds-api"}) {
			t.Errorf("servers = %q, want the variable set to its default", s.Servers)
		}
		b := s.Operation("perform-search").Body
		if b == nil || b.MediaType != "application/x-www-form-urlencoded" || !slices.Equal(b.Schema.Required, []string{"criteria"}) {
			t.Errorf("perform-search body = %+v", b)
		}
		if p := s.Operation("list-searchable-fields").Params; len(p) != 2 || p[0].Example != "oa_citations" {
			t.Errorf("list-searchable-fields params = %+v", p)
		}
	}},
	{file: "link-example.yaml", version: "3.0.0", ops: 6, check: func(t *testing.T, s *Spec) {
		links := 0
		for _, o := range s.Operations {
			for _, r := range o.Responses {
				for _, l := range r.Links {
					links++
					if s.Operation(l.OperationID) == nil {
						t.Errorf("link %s names no operation: %q", l.Name, l.OperationID)
					}
				}
			}
		}
		if links != 4 {
			t.Errorf("%d links, want 4", links)
		}
		l := s.Operation("getPullRequestsById").Responses[0].Links[0]
		if diff := cmp.Diff(Link{Name: "pullRequestMerge", OperationID: "mergePullRequest", Parameters: map[string]string{
			"username": "$response.body#/author/username", "slug": "$response.body#/repository/slug", "pid": "$response.body#/id",
		}}, l); diff != "" {
			t.Errorf("link (-want +got):\n%s", diff)
		}
	}},
	{file: "webhook-example.yaml", version: "3.1.0", ops: 1, check: func(t *testing.T, s *Spec) {
		if !hasWarning(s, "/webhooks/newPet") {
			t.Errorf("no webhook warning: %q", s.Warnings)
		}
	}},
	{file: "non-oauth-scopes.json", version: "3.1.0", ops: 1, check: func(t *testing.T, s *Spec) {
		if got := securityView(s.Operations[0].Security); !slices.Equal(got, []string{"bearerAuth:bearer[read:users,public]"}) {
			t.Errorf("security = %q", got)
		}
	}},
	{file: "petstore-swagger2.json", version: "2.0", ops: 20, check: func(t *testing.T, s *Spec) {
		if got := securityView(s.Operation("getPetById").Security); !slices.Equal(got, []string{"api_key:apikey:header:api_key"}) {
			t.Errorf("getPetById security = %q", got)
		}
		if got := securityView(s.Operation("placeOrder").Security); got != nil {
			t.Errorf("placeOrder security = %q, want none", got)
		}
		if b := s.Operation("updatePetWithForm").Body; b == nil || b.MediaType != "application/x-www-form-urlencoded" || len(b.Schema.Properties) != 2 {
			t.Errorf("updatePetWithForm body = %+v", b)
		}
		if b := s.Operation("addPet").Body; b == nil || b.MediaType != "application/json" || !slices.Equal(b.MediaTypes, []string{"application/json", "application/xml"}) {
			t.Errorf("addPet body = %+v", b)
		}
	}},
	{file: "docker-engine.yaml", version: "2.0", ops: 108, check: func(t *testing.T, s *Spec) {
		if s.Servers[0] != "/v1.56" {
			t.Errorf("servers = %q", s.Servers)
		}
		o := s.Operation("ContainerCreate")
		if o == nil || o.Body == nil || o.Body.MediaType != "application/json" || o.Body.Schema == nil || len(o.Body.Schema.AllOf) == 0 {
			t.Fatalf("ContainerCreate body = %+v", o.Body)
		}
		if !hasWarning(s, "/paths/~1build/post", "application/octet-stream") {
			t.Errorf("no warning about the build context body: %q", s.Warnings)
		}
	}},
	{file: "lxkns.yaml", version: "3.0.2", ops: 3, check: func(t *testing.T, s *Spec) {
		if got := securityView(s.Operations[0].Security); !slices.Equal(got, []string{"{}"}) {
			t.Errorf("security = %q, want anonymous", got)
		}
	}},
}

func TestRealSpecs(t *testing.T) {
	for _, rs := range realSpecs {
		t.Run(rs.file, func(t *testing.T) {
			file := filepath.Join("testdata", "real", rs.file)
			if _, err := os.Stat(strings.TrimSuffix(file, filepath.Ext(file)) + ".LICENSE"); err != nil {
				t.Errorf("no licence next to %s: %v", file, err)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(context.Background(), filepath.ToSlash(file), data, dirReader(filepath.Dir(file)))
			if err != nil {
				t.Fatal(err)
			}
			checkConsistent(t, s)
			if s.OpenAPIVersion != rs.version {
				t.Errorf("OpenAPIVersion = %q, want %q", s.OpenAPIVersion, rs.version)
			}
			if len(s.Operations) != rs.ops {
				t.Errorf("%d operations, want %d", len(s.Operations), rs.ops)
			}
			if rs.check != nil {
				rs.check(t, s)
			}
			out, err := GenerateScenario(s, GenerateOptions{SpecPath: rs.file})
			if err != nil {
				t.Fatal(err)
			}
			checkScenario(t, s, out)
			again, _ := GenerateScenario(s, GenerateOptions{SpecPath: rs.file})
			if !bytes.Equal(out, again) {
				t.Error("GenerateScenario is not deterministic")
			}
		})
	}
}

// scenario is the shape of a generated scenario.
type scenario struct {
	Name   string `yaml:"name"`
	Target struct {
		BaseURL string `yaml:"base_url"`
		Timeout string `yaml:"timeout"`
	} `yaml:"target"`
	Load struct {
		Model  string           `yaml:"model"`
		Stages []map[string]any `yaml:"stages"`
	} `yaml:"load"`
	OpenAPI struct {
		Spec       string                    `yaml:"spec"`
		Operations map[string]map[string]int `yaml:"operations"`
	} `yaml:"openapi"`
	Auth *struct {
		Primary map[string]string `yaml:"primary"`
	} `yaml:"auth"`
	Faults struct {
		Ratio    float64  `yaml:"ratio"`
		Families []string `yaml:"families"`
	} `yaml:"faults"`
}

// checkScenario checks that out is valid YAML of the scenario shape that
// lists every operation of s once, in order, and a secret per scheme.
func checkScenario(t testing.TB, s *Spec, out []byte) {
	t.Helper()
	var sc scenario
	dec := yaml.NewDecoder(bytes.NewReader(out))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		t.Fatalf("generated scenario is not valid YAML of the scenario shape: %v\n%s", err, out)
	}
	if sc.Name == "" || sc.Target.BaseURL == "" || sc.Target.Timeout != "10s" || sc.Load.Model != "open" || len(sc.Load.Stages) != 1 {
		t.Errorf("scenario head = %+v", sc)
	}
	if sc.Faults.Ratio != 0.05 || len(sc.Faults.Families) != 11 {
		t.Errorf("faults = %+v", sc.Faults)
	}
	if len(sc.OpenAPI.Operations) != len(s.Operations) {
		t.Errorf("%d operations in the scenario, want %d", len(sc.OpenAPI.Operations), len(s.Operations))
	}
	for _, o := range s.Operations {
		if w := sc.OpenAPI.Operations[o.ID]; w["weight"] != 1 {
			t.Errorf("operation %q: %v, want {weight: 1}", o.ID, w)
		}
	}
	// Keys appear in spec order.
	var doc yaml.Node
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	ops := treeSource(doc.Content[0]).itemAt("/openapi/operations")
	var order []string
	for i := 0; ops != nil && i < len(ops.Content); i += 2 {
		order = append(order, ops.Content[i].Value)
	}
	if diff := cmp.Diff(ids(s.Operations), order); diff != "" {
		t.Errorf("operation order (-spec +scenario):\n%s", diff)
	}
	if len(s.Schemes) == 0 {
		if sc.Auth != nil {
			t.Errorf("auth section without security schemes: %+v", sc.Auth)
		}
		return
	}
	if sc.Auth == nil || len(sc.Auth.Primary) != len(s.Schemes) {
		t.Fatalf("auth = %+v, want one secret per scheme of %d", sc.Auth, len(s.Schemes))
	}
	for _, sch := range s.Schemes {
		v := sc.Auth.Primary[sch.Name]
		if !strings.HasPrefix(v, "${") || !strings.HasSuffix(v, "}") {
			t.Errorf("auth secret of %q = %q, want an environment reference", sch.Name, v)
		}
	}
}

func TestGenerateGolden(t *testing.T) {
	file := filepath.Join("testdata", "real", "petstore-swagger2.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(context.Background(), "petstore-swagger2.json", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := GenerateScenario(s, GenerateOptions{SpecPath: "specs/petstore-swagger2.json"})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "generate", "petstore-swagger2.golden.yaml")
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/openapi -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("scenario differs from %s (-want +got):\n%s", golden, diff)
	}
	checkScenario(t, s, got)
}

// ExampleGenerateScenario shows the start of a generated scenario.
func ExampleGenerateScenario() {
	s, err := Load(context.Background(), "shop.yaml", []byte(`
openapi: 3.0.3
info: {title: Shop API, version: "1.0"}
servers: [{url: "http://localhost:18080/api"}]
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
security: [{bearerAuth: []}]
paths:
  /products:
    get: {operationId: listProducts, summary: List products, responses: {"200": {description: ok}}}
  /orders:
    post: {operationId: createOrder, summary: Place an order, responses: {"201": {description: ok}}}
`), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := GenerateScenario(s, GenerateOptions{SpecPath: "shop.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out))
	// Output:
	// # Generated by `barrage generate` from Shop API 1.0 (shop.yaml). Edit freely:
	// # weights, deleting operations, auth values, the fault ratio.
	// name: shop-api
	// target:
	//   base_url: http://localhost:18080/api
	//   timeout: 10s
	// load:
	//   model: open
	//   stages:
	//     - {duration: 30s, rate: 20}
	// openapi:
	//   spec: shop.yaml
	//   # latency_budget: 1s        # a slower response is a finding (per operation too)
	//   operations:                 # one entry per operation; weight 0 = skip
	//     createOrder: {weight: 1}   # POST /orders — Place an order
	//     listProducts: {weight: 1}  # GET /products — List products
	// auth:                         # one secret per security scheme, from the environment
	//   primary:
	//     bearerAuth: "${BEARER_AUTH}"  # http bearer; the token
	//   # secondary: {bearerAuth: "${BEARER_AUTH_B}"}   # a second user, for cross-user checks
	// faults:
	//   ratio: 0.05
	//   families: [types, boundaries, strings, formats, structure, encoding, body, methods, headers, auth, injection]
}
