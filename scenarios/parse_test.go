package scenarios

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"

	barragev1 "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// head is a valid file header that tests extend with requests.
const head = `name: t
target: {base_url: "http://127.0.0.1:8080"}
load: {stages: [{duration: 1s, rate: 10}]}
`

func u64(v uint64) *uint64 { return &v }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want *Scenario
	}{
		{
			name: "minimal gets defaults",
			src: `name: min
target: {base_url: "http://127.0.0.1:8080"}
load: {stages: [{duration: 1s, rate: 10}]}
requests: [{path: /}]
`,
			want: &Scenario{
				File:   "test.yaml",
				Name:   "min",
				Target: Target{BaseURL: "http://127.0.0.1:8080", Protocol: "http1", Timeout: 10 * time.Second},
				Load: Load{Model: "open", Stages: []Stage{
					{Duration: time.Second, FromRate: 10, ToRate: 10},
				}},
				Window:   time.Second,
				Requests: []Request{{Name: "GET /", Weight: 1, Method: "GET", Path: "/"}},
			},
		},
		{
			name: "null values count as absent",
			src: `name: nulls
description:
target:
  base_url: http://127.0.0.1:8080
  headers: {X-Null: null, X-Empty: ""}
  timeout:
load: {model: null, stages: [{duration: 1s, rate: 1}]}
seed: ~
requests: [{path: /, json: null, weight: }]
`,
			want: &Scenario{
				File:     "test.yaml",
				Name:     "nulls",
				Target:   Target{BaseURL: "http://127.0.0.1:8080", Headers: []Header{{"X-Empty", ""}}, Protocol: "http1", Timeout: 10 * time.Second},
				Load:     Load{Model: "open", Stages: []Stage{{Duration: time.Second, FromRate: 1, ToRate: 1}}},
				Window:   time.Second,
				Requests: []Request{{Name: "GET /", Weight: 1, Method: "GET", Path: "/"}},
			},
		},
		{
			name: "every field",
			src: `name: full
description: all of it
target:
  base_url: https://example.test:8443/api/
  headers:
    User-Agent: barrage
    X-Trace: "{{uuid}}"
  protocol: http2
  timeout: 1m30s
  tls: {insecure_skip_verify: true, server_name: example.test}
load:
  model: open
  max_inflight: 300
  stages:
    - {duration: 2s, to: 100}
    - {duration: 1h, rate: 100}
agents: 3
seed: 18446744073709551615
window: 250ms
requests:
  - name: list
    weight: 1000000
    method: get
    path: "/p?l={{int 1 9}}"
    headers: {Accept: application/json}
  - name: put
    method: PUT
    path: /x
    body: "raw {{seq}}"
`,
			want: &Scenario{
				File:        "test.yaml",
				Name:        "full",
				Description: "all of it",
				Target: Target{
					BaseURL:            "https://example.test:8443/api",
					Headers:            []Header{{"User-Agent", "barrage"}, {"X-Trace", "{{uuid}}"}},
					Protocol:           "http2",
					Timeout:            90 * time.Second,
					InsecureSkipVerify: true,
					ServerName:         "example.test",
				},
				Load: Load{Model: "open", MaxInflight: 300, Stages: []Stage{
					{Duration: 2 * time.Second, FromRate: 0, ToRate: 100},
					{Duration: time.Hour, FromRate: 100, ToRate: 100},
				}},
				Agents: 3,
				Seed:   u64(18446744073709551615),
				Window: 250 * time.Millisecond,
				Requests: []Request{
					{Name: "list", Weight: 1000000, Method: "GET", Path: "/p?l={{int 1 9}}", Headers: []Header{{"Accept", "application/json"}}},
					{Name: "put", Weight: 1, Method: "PUT", Path: "/x", Body: "raw {{seq}}"},
				},
			},
		},
		{
			name: "ramps continue from the previous end rate",
			src: `name: ramps
target: {base_url: "http://127.0.0.1:8080"}
load:
  stages:
    - {duration: 1s, to: 100}
    - {duration: 1s, rate: 50}
    - {duration: 1s, to: 10}
    - {duration: 1s, from: 5, to: 20.5}
    - {duration: 1s, to: 0}
requests: [{path: /}]
`,
			want: &Scenario{
				File:   "test.yaml",
				Name:   "ramps",
				Target: Target{BaseURL: "http://127.0.0.1:8080", Protocol: "http1", Timeout: 10 * time.Second},
				Load: Load{Model: "open", Stages: []Stage{
					{Duration: time.Second, FromRate: 0, ToRate: 100},
					{Duration: time.Second, FromRate: 50, ToRate: 50},
					{Duration: time.Second, FromRate: 50, ToRate: 10},
					{Duration: time.Second, FromRate: 5, ToRate: 20.5},
					{Duration: time.Second, FromRate: 20.5, ToRate: 0},
				}},
				Window:   time.Second,
				Requests: []Request{{Name: "GET /", Weight: 1, Method: "GET", Path: "/"}},
			},
		},
		{
			name: "closed model h2c",
			src: `name: closed
target: {base_url: "http://127.0.0.1:8080", protocol: h2c}
load:
  model: closed
  stages: [{duration: 5s, concurrency: 8}, {duration: 5s, concurrency: 100000}]
agents: 0
requests: [{path: /}]
`,
			want: &Scenario{
				File:   "test.yaml",
				Name:   "closed",
				Target: Target{BaseURL: "http://127.0.0.1:8080", Protocol: "h2c", Timeout: 10 * time.Second},
				Load: Load{Model: "closed", Stages: []Stage{
					{Duration: 5 * time.Second, Concurrency: 8},
					{Duration: 5 * time.Second, Concurrency: 100000},
				}},
				Window:   time.Second,
				Requests: []Request{{Name: "GET /", Weight: 1, Method: "GET", Path: "/"}},
			},
		},
		{
			name: "environment",
			src: `name: "${NAME:-env} run"
description: "$$HOME ${EMPTY:-was empty} ${EMPTY}|${SET:-unused} costs $5"
target:
  base_url: http://${HOST}:${PORT:-8080}
  headers:
    Authorization: Bearer ${TOKEN}
    X-Braces: "${BRACES}{{seq}}"
  tls: {insecure_skip_verify: "${INSECURE}"}
load:
  stages: [{duration: "${DUR}", rate: "${RATE}"}]
agents: ${AGENTS}
seed: ${SEED}
requests:
  - path: /${ID}
    weight: "${W:-2}"
`,
			env: map[string]string{
				"HOST": "127.0.0.1", "TOKEN": "s3cr3t $x", "BRACES": "{{uuid}}", "EMPTY": "", "SET": "yes",
				"INSECURE": "true", "DUR": "3s", "RATE": "12.5", "AGENTS": "2", "SEED": "99", "ID": "items",
			},
			want: &Scenario{
				File:        "test.yaml",
				Name:        "env run",
				Description: "$HOME was empty |yes costs $5",
				Target: Target{
					BaseURL:            "http://127.0.0.1:8080",
					Headers:            []Header{{"Authorization", "Bearer s3cr3t $x"}, {"X-Braces", `{{"{{"}}uuid}}{{seq}}`}},
					Protocol:           "http1",
					Timeout:            10 * time.Second,
					InsecureSkipVerify: true,
				},
				Load:     Load{Model: "open", Stages: []Stage{{Duration: 3 * time.Second, FromRate: 12.5, ToRate: 12.5}}},
				Agents:   2,
				Seed:     u64(99),
				Window:   time.Second,
				Requests: []Request{{Name: "GET /items", Weight: 2, Method: "GET", Path: "/items"}},
			},
		},
		{
			name: "anchors, aliases and !!str",
			src: `name: !!str 123
target:
  base_url: http://127.0.0.1:8080
  headers: &common {X-A: a, X-B: b}
load:
  stages:
    - &stage {duration: 1s, rate: 5}
    - *stage
requests:
  - path: &p /same
    name: one
    headers: *common
  - path: *p
    name: two
`,
			want: &Scenario{
				File:   "test.yaml",
				Name:   "123",
				Target: Target{BaseURL: "http://127.0.0.1:8080", Headers: []Header{{"X-A", "a"}, {"X-B", "b"}}, Protocol: "http1", Timeout: 10 * time.Second},
				Load: Load{Model: "open", Stages: []Stage{
					{Duration: time.Second, FromRate: 5, ToRate: 5},
					{Duration: time.Second, FromRate: 5, ToRate: 5},
				}},
				Window: time.Second,
				Requests: []Request{
					{Name: "one", Weight: 1, Method: "GET", Path: "/same", Headers: []Header{{"X-A", "a"}, {"X-B", "b"}}},
					{Name: "two", Weight: 1, Method: "GET", Path: "/same"},
				},
			},
		},
		{
			name: "json and literal bodies",
			src: head + `requests:
  - name: j
    method: POST
    path: /o
    json:
      id: "{{int -5 5}}"
      n: "{{ seq }}"
      s: "id-{{int 1 2}}"
      u: "{{uuid}}"
      q: 'say "hi"\n'
      p: '{{pick a "b\"c" "d e"}}'
      lit: '{{"{{"}}x'
      num: 1.5
      big: 18446744073709551615
      neg: -3
      yes: true
      none: null
      list: [1, "two", {three: 3}]
      empty: {}
      "quoted \"key\"": 0
  - name: raw
    method: POST
    path: /r
    body: |
      line {{seq}}
      end
  - name: top-level array
    method: POST
    path: /a
    json: ["{{seq}}"]
`,
			want: &Scenario{
				File:   "test.yaml",
				Name:   "t",
				Target: Target{BaseURL: "http://127.0.0.1:8080", Protocol: "http1", Timeout: 10 * time.Second},
				Load:   Load{Model: "open", Stages: []Stage{{Duration: time.Second, FromRate: 10, ToRate: 10}}},
				Window: time.Second,
				Requests: []Request{
					{Name: "j", Weight: 1, Method: "POST", Path: "/o", JSON: true,
						Body: `{"id":{{int -5 5}},"n":{{seq}},"s":"id-{{int 1 2}}","u":"{{uuid}}","q":"say \"hi\"\\n",` +
							`"p":"{{pick a "b\\\"c" "d e"}}","lit":"{{"{{"}}x","num":1.5,"big":18446744073709551615,"neg":-3,` +
							`"yes":true,"none":null,"list":[1,"two",{"three":3}],"empty":{},"quoted \"key\"":0}`},
					{Name: "raw", Weight: 1, Method: "POST", Path: "/r", Body: "line {{seq}}\nend\n"},
					{Name: "top-level array", Weight: 1, Method: "POST", Path: "/a", JSON: true, Body: `[{{seq}}]`},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("test.yaml", []byte(tt.src), tt.env)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	const src = `name: plan
target:
  base_url: https://127.0.0.1:8443
  headers: {X-Run: "r-{{seq}}"}
  protocol: http2
  tls: {insecure_skip_verify: true, server_name: localhost}
load:
  max_inflight: 50
  stages: [{duration: 2s, to: 10}, {duration: 500ms, rate: 10}]
window: 2s
requests:
  - {name: a, weight: 3, path: /a, headers: {X-1: one, X-2: two}}
  - {name: b, method: POST, path: /b, json: {k: "{{int 1 3}}"}}
  - {name: c, method: POST, path: /c, json: [], headers: {content-type: application/vnd.api+json}}
  - {name: d, method: PATCH, path: /d, body: "{{seq}}"}
`
	s, err := Parse("plan.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &barragev1.Plan{
		Name: "plan",
		Target: &barragev1.Target{
			BaseUrl:            "https://127.0.0.1:8443",
			Headers:            []*barragev1.Header{{Name: "X-Run", Value: "r-{{seq}}"}},
			Protocol:           barragev1.Protocol_PROTOCOL_HTTP2,
			Timeout:            durationpb.New(10 * time.Second),
			InsecureSkipVerify: true,
			ServerName:         "localhost",
		},
		Load: &barragev1.Load{
			Model: barragev1.LoadModel_LOAD_MODEL_OPEN,
			Stages: []*barragev1.Stage{
				{Duration: durationpb.New(2 * time.Second), FromRate: 0, ToRate: 10},
				{Duration: durationpb.New(500 * time.Millisecond), FromRate: 10, ToRate: 10},
			},
			MaxInflight: 50,
		},
		Requests: []*barragev1.RequestTemplate{
			{Name: "a", Weight: 3, Method: "GET", Path: "/a", Headers: []*barragev1.Header{{Name: "X-1", Value: "one"}, {Name: "X-2", Value: "two"}}},
			{Name: "b", Weight: 1, Method: "POST", Path: "/b", Body: `{"k":{{int 1 3}}}`,
				Headers: []*barragev1.Header{{Name: "Content-Type", Value: "application/json"}}},
			{Name: "c", Weight: 1, Method: "POST", Path: "/c", Body: `[]`,
				Headers: []*barragev1.Header{{Name: "content-type", Value: "application/vnd.api+json"}}},
			{Name: "d", Weight: 1, Method: "PATCH", Path: "/d", Body: "{{seq}}"},
		},
		Seed:   77,
		Window: durationpb.New(2 * time.Second),
	}
	if diff := cmp.Diff(want, s.Plan(77), protocmp.Transform()); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}

	// The file's seed wins over the argument.
	s.Seed = u64(5)
	if got := s.Plan(77).GetSeed(); got != 5 {
		t.Errorf("with seed: 5 in the file, Plan(77).Seed = %d", got)
	}
}

func TestPlanClosedAndTargetContentType(t *testing.T) {
	src := `name: c
target: {base_url: "http://127.0.0.1:8080", protocol: h2c, headers: {Content-Type: text/plain}}
load: {model: closed, stages: [{duration: 1s, concurrency: 3}]}
seed: 9
requests: [{path: /, method: POST, json: {a: 1}}]
`
	s, err := Parse("c.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &barragev1.Plan{
		Name: "c",
		Target: &barragev1.Target{
			BaseUrl:  "http://127.0.0.1:8080",
			Headers:  []*barragev1.Header{{Name: "Content-Type", Value: "text/plain"}},
			Protocol: barragev1.Protocol_PROTOCOL_H2C,
			Timeout:  durationpb.New(10 * time.Second),
		},
		Load: &barragev1.Load{
			Model:  barragev1.LoadModel_LOAD_MODEL_CLOSED,
			Stages: []*barragev1.Stage{{Duration: durationpb.New(time.Second), Concurrency: 3}},
		},
		Requests: []*barragev1.RequestTemplate{{Name: "POST /", Weight: 1, Method: "POST", Path: "/", Body: `{"a":1}`}},
		Seed:     9,
		Window:   durationpb.New(time.Second),
	}
	if diff := cmp.Diff(want, s.Plan(1), protocmp.Transform()); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}
}

func TestPlanZeroScenarioDefaults(t *testing.T) {
	s := &Scenario{Name: "hand-built", Requests: []Request{{Path: "/x"}}}
	want := &barragev1.Plan{
		Name:     "hand-built",
		Target:   &barragev1.Target{Protocol: barragev1.Protocol_PROTOCOL_HTTP1, Timeout: durationpb.New(DefaultTimeout)},
		Load:     &barragev1.Load{Model: barragev1.LoadModel_LOAD_MODEL_OPEN},
		Requests: []*barragev1.RequestTemplate{{Name: "GET /x", Weight: 1, Method: "GET", Path: "/x"}},
		Seed:     3,
		Window:   durationpb.New(DefaultWindow),
	}
	if diff := cmp.Diff(want, s.Plan(3), protocmp.Transform()); diff != "" {
		t.Errorf("Plan (-want +got):\n%s", diff)
	}
}

// TestErrorPositions checks that errors inside a value point at the exact
// character for plain, quoted and literal scalars.
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name      string
		line      string // the request's path line, indented by 4
		wantLine  int
		wantCol   int
		wantInMsg string
	}{
		{"plain", `path: /a/{{bad}}`, 6, 16, `unknown generator "bad"`},
		{"double quoted", `path: "/a/{{bad}}"`, 6, 17, `unknown generator "bad"`},
		{"single quoted", `path: '/a/{{bad}}'`, 6, 17, `unknown generator "bad"`},
		{"non-ascii before", `path: "/é/{{bad}}"`, 6, 17, `unknown generator "bad"`},
		{"after a variable", `path: "/${ID}/{{bad}}"`, 6, 21, `unknown generator "bad"`},
		{"unset variable", `path: "/x/${NOPE}"`, 6, 15, `environment variable NOPE is not set`},
		{"escape falls back to the scalar", `path: "/\u00e9/{{bad}}"`, 6, 11, `(at byte 6 of the value)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := head + "requests:\n  - name: x\n    " + tt.line + "\n"
			_, err := Parse("f.yaml", []byte(src), map[string]string{"ID": "{{long}}"})
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 {
				t.Fatalf("want one error, got %v", err)
			}
			e := list[0]
			if e.Line != tt.wantLine || e.Col != tt.wantCol || !strings.Contains(e.Msg, tt.wantInMsg) {
				t.Errorf("got %d:%d %q, want %d:%d and a message containing %q", e.Line, e.Col, e.Msg, tt.wantLine, tt.wantCol, tt.wantInMsg)
			}
		})
	}
}

func TestErrorList(t *testing.T) {
	var empty ErrorList
	if empty.Err() != nil {
		t.Errorf("empty ErrorList.Err() = %v, want nil", empty.Err())
	}
	l := ErrorList{
		{File: "a.yaml", Line: 2, Col: 3, Msg: "first"},
		{Line: 4, Col: 1, Msg: "no file"},
	}
	if got, want := l.Error(), "a.yaml:2:3: first\n4:1: no file"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var e *Error
	if !errors.As(l.Err(), &e) || e.Msg != "first" {
		t.Errorf("errors.As(list, *Error) = %v", e)
	}
}

func TestErrorsAreSortedAndComplete(t *testing.T) {
	// Two independent errors in reverse order of discovery are both
	// reported, in file order.
	src := `requests: [{path: nope}]
name: 5
target: {base_url: "http://127.0.0.1:8080"}
load: {stages: [{duration: 1s, rate: 1}]}
`
	_, err := Parse("s.yaml", []byte(src), nil)
	want := "s.yaml:1:19: requests[0].path: must start with \"/\", got \"nope\"\ns.yaml:2:7: name: expected a string, got integer 5"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func TestEnvRefs(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"none", "name: x\n", []string{}},
		{"values", "a: ${B}\nc: \"${A:-x} ${B}\"\nd: [${C_1}]\n", []string{"A", "B", "C_1"}},
		{"escaped and malformed", "a: $${NOT} ${1X} ${ OK} $X ${Y:-d}\n", []string{"Y"}},
		{"keys are not expanded", "${KEY}: ${VAL}\n", []string{"VAL"}},
		{"literal block", "a: |\n  ${L}\n", []string{"L"}},
		{"comments are ignored", "a: 1 # ${COMMENT}\n", []string{}},
		{"invalid yaml falls back to text", "a: [${X}\n", []string{"X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, EnvRefs([]byte(tt.src))); diff != "" {
				t.Errorf("EnvRefs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "E": "", "B": "{{x"}
	tests := []struct {
		in, want string
		quote    bool
		errs     []string
	}{
		{in: "plain", want: "plain"},
		{in: "$A ${A}", want: "$A alpha"},
		{in: "$$ $${A} $$$", want: "$ ${A} $$"},
		{in: "${E:-d} ${E} ${Z:-zz} ${A:-d}", want: "d  zz alpha"},
		{in: "${B}", want: "{{x"},
		{in: "${B}", want: `{{"{{"}}x`, quote: true},
		{in: "x${Z}y", want: "x${Z}y", errs: []string{"1: environment variable Z is not set"}},
		{in: "${", want: "${", errs: []string{"0: invalid variable reference"}},
		{in: "a${A:-b", want: "a${A:-b", errs: []string{"1: invalid variable reference"}},
		{in: "${A-b}", want: "${A-b}", errs: []string{"0: invalid variable reference"}},
	}
	for _, tt := range tests {
		var quote func(string) string
		if tt.quote {
			quote = func(s string) string { return strings.ReplaceAll(s, "{{", `{{"{{"}}`) }
		}
		got, _, errs := expand(tt.in, env, quote)
		if got != tt.want {
			t.Errorf("expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
		var gotErrs []string
		for _, e := range errs {
			gotErrs = append(gotErrs, strconv.Itoa(e.off)+": "+e.msg)
		}
		if len(gotErrs) != len(tt.errs) {
			t.Errorf("expand(%q) errors = %q, want %q", tt.in, gotErrs, tt.errs)
			continue
		}
		for i := range gotErrs {
			if !strings.HasPrefix(gotErrs[i], tt.errs[i]) {
				t.Errorf("expand(%q) error %d = %q, want prefix %q", tt.in, i, gotErrs[i], tt.errs[i])
			}
		}
	}
}

func TestExpansionOffsets(t *testing.T) {
	// raw:  "ab${A}cd$$e"   expanded: "ab" + "alpha" + "cd" + "$" + "e"
	out, exp, errs := expand("ab${A}cd$$e", map[string]string{"A": "alpha"}, nil)
	if len(errs) != 0 || out != "abalphacd$e" {
		t.Fatalf("expand = %q, %v", out, errs)
	}
	for _, c := range []struct{ out, raw int }{
		{0, 0}, {1, 1}, {2, 2}, {5, 2}, {7, 6}, {8, 7}, {9, 8}, {10, 10},
	} {
		if got := exp.rawOffset(c.out); got != c.raw {
			t.Errorf("rawOffset(%d) = %d, want %d", c.out, got, c.raw)
		}
	}
}
