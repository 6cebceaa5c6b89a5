package openapi

import (
	"context"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

func TestYAMLString(t *testing.T) {
	tests := []struct {
		in    string
		plain bool
	}{
		{"listProducts", true},
		{"list-data-sets", true},
		{"specs/shop.yaml", true},
		{"http://127.0.0.1:8080/api", true},
		{"GET /pets/{id}", false},
		{"find pet by id", false},
		{"${TOKEN}", false},
		{"", false},
		{"true", false},
		{"No", false},
		{"null", false},
		{"~", false},
		{"123", false},
		{"1e3", false},
		{"0x1F", false},
		{"1_000", false},
		{".inf", false},
		{"2024-01-02", false},
		{"-dash", false},
		{"a: b", false},
		{"trailing:", false},
		{"key:value", false},
		{"#comment", false},
		{"a #b", false},
		{" padded", false},
		{"quote\"s", false},
		{"back\\slash", false},
		{"new\nline", false},
		{"tab\there", false},
		{"nul\x00", false},
		{"bad utf8 \xff", false},
		{"ünïcode", false},
		{"line\u2028sep", false},
		{"&anchor", false},
		{"*alias", false},
		{"!tag", false},
		{"[flow]", false},
		{"{flow}", false},
		{"a,b", false},
		{"@at", false},
		{"`tick", false},
		{"%pct", false},
		{"|pipe", false},
		{">gt", false},
		{"<<", false},
	}
	for _, tt := range tests {
		got := yamlString(tt.in)
		if plain := got == tt.in; plain != tt.plain {
			t.Errorf("yamlString(%q) = %s, want plain = %v", tt.in, got, tt.plain)
		}
		want := strings.ToValidUTF8(tt.in, "\uFFFD")
		for _, doc := range []string{"k: " + got + "\n", "m: {k: " + got + "}\n", got + ": v\n"} {
			var v map[string]any
			if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
				t.Errorf("yamlString(%q) = %s does not parse in %q: %v", tt.in, got, doc, err)
				continue
			}
			var back any
			switch {
			case strings.HasPrefix(doc, "k: "):
				back = v["k"]
			case strings.HasPrefix(doc, "m: "):
				back = v["m"].(map[string]any)["k"]
			default:
				_, ok := v[want]
				if !ok {
					t.Errorf("yamlString(%q) = %s as a key reads back as %v", tt.in, got, v)
				}
				continue
			}
			if back != want {
				t.Errorf("yamlString(%q) = %s reads back as %#v in %q", tt.in, got, back, doc)
			}
		}
	}
}

// FuzzYAMLString checks that every string survives yamlString, as a value
// and as a key, in block and flow context.
func FuzzYAMLString(f *testing.F) {
	for _, s := range []string{"listProducts", "GET /x", "a: b", "true", "1.5", "${X}", "\x00", "\xff", "- x", "? x", "'", "\"", "\\", "é", "\u0085"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToValidUTF8(s, "\uFFFD")
		got := yamlString(s)
		var v map[string]any
		if err := yaml.Unmarshal([]byte("k: "+got+"\nm: {k: "+got+"}\n"), &v); err != nil {
			t.Fatalf("yamlString(%q) = %s does not parse: %v", s, got, err)
		}
		if v["k"] != want || v["m"].(map[string]any)["k"] != want {
			t.Fatalf("yamlString(%q) = %s reads back as %#v / %#v", s, got, v["k"], v["m"])
		}
		for _, doc := range []string{got + ": key\n", "{" + got + ": key}\n"} {
			var k map[string]any
			if err := yaml.Unmarshal([]byte(doc), &k); err != nil {
				t.Fatalf("yamlString(%q) = %s does not parse as a key in %q: %v", s, got, doc, err)
			}
			if k[want] != "key" {
				t.Fatalf("yamlString(%q) = %s as a key in %q reads back as %v", s, got, doc, k)
			}
		}
	})
}

func TestUpperSnake(t *testing.T) {
	tests := map[string]string{
		"bearerAuth":    "BEARER_AUTH",
		"api_key":       "API_KEY",
		"APIKey":        "API_KEY",
		"petstore_auth": "PETSTORE_AUTH",
		"OAuth2":        "O_AUTH2",
		"basic":         "BASIC",
		"x-api-key":     "X_API_KEY",
		"HTTPBearer":    "HTTP_BEARER",
		"key2Auth":      "KEY2_AUTH",
		"2fa":           "AUTH_2FA",
		"ключ":          "AUTH",
		"":              "AUTH",
	}
	for in, want := range tests {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%q) = %q, want %q", in, got, want)
		}
	}
	got := envNames([]*Scheme{{Name: "apiKey"}, {Name: "api_key"}, {Name: "API-KEY"}})
	if want := []string{"API_KEY", "API_KEY_2", "API_KEY_3"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("envNames = %q, want %q", got, want)
	}
}

func TestSlug(t *testing.T) {
	tests := map[string]string{
		"Swagger Petstore":           "swagger-petstore",
		"USPTO Data Set API":         "uspto-data-set-api",
		"  Shop — API (v2)!  ":       "shop-api-v2",
		"":                           "api",
		"—":                          "api",
		strings.Repeat("abcdef", 20): strings.Repeat("abcdef", 10),
	}
	for in, want := range tests {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultBase(t *testing.T) {
	tests := []struct {
		servers  []string
		want     string
		withNote bool
	}{
		{servers: nil, want: DefaultBaseURL, withNote: true},
		{servers: []string{"http://127.0.0.1:9000/api/"}, want: "http://127.0.0.1:9000/api"},
		{servers: []string{"https://localhost"}, want: "https://localhost"},
		{servers: []string{"http://[::1]:8080"}, want: "http://[::1]:8080"},
		{servers: []string{"https://api.example.com/v2", "http://127.0.0.1:9000"}, want: DefaultBaseURL + "/v2", withNote: true},
		{servers: []string{"/api"}, want: DefaultBaseURL + "/api", withNote: true},
		{servers: []string{"ftp://127.0.0.1/x"}, want: DefaultBaseURL + "/x", withNote: true},
		{servers: []string{"http://user:pw@127.0.0.1/"}, want: DefaultBaseURL, withNote: true},
		{servers: []string{"http://[bad"}, want: DefaultBaseURL, withNote: true},
	}
	for _, tt := range tests {
		got, note := defaultBase(tt.servers)
		if got != tt.want || (note != "") != tt.withNote {
			t.Errorf("defaultBase(%q) = %q, %q; want %q, note %v", tt.servers, got, note, tt.want, tt.withNote)
		}
	}
}

func TestGenerateScenario(t *testing.T) {
	s := load(t, "odd.yaml", `
openapi: 3.0.3
info: {title: "Odd: names\nand lines", version: "1"}
servers: [{url: "https://odd.example/base"}]
components:
  securitySchemes:
    key.one: {type: apiKey, in: query, name: k}
    basic: {type: http, scheme: basic}
paths:
  /a:
    get:
      operationId: "true"
      summary: "first line\nsecond line # not a comment"
      deprecated: true
      responses: {"200": {description: ok}}
  /b/{id}:
    post:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {"200": {description: ok}}
`, nil)
	out, err := GenerateScenario(s, GenerateOptions{SpecPath: "dir with space/odd.yaml", BaseURL: "http://127.0.0.1:1234"})
	if err != nil {
		t.Fatal(err)
	}
	checkScenario(t, s, out)
	text := string(out)
	for _, want := range []string{
		"# Generated by `barrage generate` from Odd: names and lines 1 (dir with space/odd.yaml).",
		"name: odd-names-and-lines\n",
		"base_url: http://127.0.0.1:1234\n",
		`spec: "dir with space/odd.yaml"`,
		`"true": {weight: 1}`,
		"# GET /a — first line second line # not a comment (deprecated)\n",
		`"POST /b/{id}": {weight: 1}`,
		`key.one: "${KEY_ONE}"`,
		"# apiKey in query k",
		`basic: "${BASIC}"`,
		`# http basic; "user:password"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scenario lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "#  target") || strings.Contains(text, "odd.example") {
		t.Errorf("an explicit base URL needs no note about the servers:\n%s", text)
	}

	for name, tt := range map[string]struct {
		s *Spec
		o GenerateOptions
	}{
		"no spec":       {nil, GenerateOptions{SpecPath: "x.yaml"}},
		"no path":       {s, GenerateOptions{}},
		"no operations": {load(t, "empty.yaml", "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n", nil), GenerateOptions{SpecPath: "empty.yaml"}},
	} {
		if _, err := GenerateScenario(tt.s, tt.o); err == nil {
			t.Errorf("%s: GenerateScenario succeeded, want an error", name)
		}
	}
}

func TestGenerateWithoutAuth(t *testing.T) {
	s, err := Load(context.Background(), "p.yaml", []byte("openapi: 3.0.3\ninfo: {title: P, version: '1'}\npaths: {/p: {get: {responses: {'200': {description: ok}}}}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := GenerateScenario(s, GenerateOptions{SpecPath: "p.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	checkScenario(t, s, out)
	if strings.Contains(string(out), "auth:") {
		t.Errorf("auth section without security schemes:\n%s", out)
	}
	if !strings.Contains(string(out), "# the description names no server") || !strings.Contains(string(out), "base_url: "+DefaultBaseURL+"\n") {
		t.Errorf("want the default base URL with a note:\n%s", out)
	}
}
