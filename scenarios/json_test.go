package scenarios

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/barrage-dev/barrage/internal/template"
)

// renderBody parses a compiled body and renders it n times.
func renderBody(t testing.TB, body string, n int) [][]byte {
	t.Helper()
	tp, err := template.Parse(body)
	if err != nil {
		t.Fatalf("compiled body %q does not parse: %v", body, err)
	}
	r := template.NewRand(1)
	var out [][]byte
	for i := 0; i < n; i++ {
		out = append(out, tp.Append(nil, r, uint64(i)))
	}
	return out
}

func TestJSONBodyRendersValidJSON(t *testing.T) {
	src := head + `requests:
  - method: POST
    path: /o
    json:
      id: "{{int -5 5}}"
      seq: "{{seq}}"
      padded: " {{int 1 2}}"
      text: "quote \" backslash \\ newline \n tab \t bell \a nul \0 é ☃ {{seq}}"
      braces: '{{"{{"}} and }} and {'
      pick: '{{pick plain "with \"quote\"" "back\\slash" "new\nline" "{" "}}" ""}}'
      env: "${SECRET}"
      uuid: "id-{{uuid}}"
      "key with \"quotes\" and {{braces}}": [1, -2.5e3, true, null, "{{int 7 7}}"]
`
	s, err := Parse("j.yaml", []byte(src), map[string]string{"SECRET": `s"e\c{{r}}et` + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	picks := map[string]bool{}
	for _, body := range renderBody(t, s.Requests[0].Body, 300) {
		if !json.Valid(body) {
			t.Fatalf("invalid JSON: %s", body)
		}
		var v map[string]any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		id, ok := v["id"].(float64)
		if !ok || id < -5 || id > 5 || id != float64(int(id)) {
			t.Fatalf("id = %#v, want a JSON integer in [-5, 5]", v["id"])
		}
		if _, ok := v["seq"].(float64); !ok {
			t.Fatalf("seq = %#v, want a JSON number", v["seq"])
		}
		if p, ok := v["padded"].(string); !ok || (p != " 1" && p != " 2") {
			t.Fatalf("padded = %#v, want the string \" 1\" or \" 2\"", v["padded"])
		}
		if want := "quote \" backslash \\ newline \n tab \t bell \a nul \x00 é ☃ "; !strings.HasPrefix(v["text"].(string), want) {
			t.Fatalf("text = %q, want prefix %q", v["text"], want)
		}
		if got, want := v["braces"], "{{ and }} and {"; got != want {
			t.Fatalf("braces = %q, want %q", got, want)
		}
		if got, want := v["env"], "s\"e\\c{{r}}et\n"; got != want {
			t.Fatalf("env = %q, want %q (variables are literal)", got, want)
		}
		if u := v["uuid"].(string); len(u) != len("id-")+36 {
			t.Fatalf("uuid = %q", u)
		}
		if diff := cmp.Diff([]any{1.0, -2500.0, true, nil, 7.0}, v[`key with "quotes" and {{braces}}`]); diff != "" {
			t.Fatalf("list (-want +got):\n%s", diff)
		}
		picks[v["pick"].(string)] = true
	}
	want := map[string]bool{"plain": true, `with "quote"`: true, `back\slash`: true, "new\nline": true, "{": true, "}}": true, "": true}
	if diff := cmp.Diff(want, picks); diff != "" {
		t.Errorf("pick options seen (-want +got):\n%s", diff)
	}
}

func TestJSONBodyNumberRule(t *testing.T) {
	tests := []struct {
		value string
		want  string // compiled body
	}{
		{`"{{int 1 5}}"`, `{{int 1 5}}`},
		{`"{{ int -1 1 }}"`, `{{int -1 1}}`},
		{`"{{seq}}"`, `{{seq}}`},
		{`"{{uuid}}"`, `"{{uuid}}"`},
		{`"{{pick 1 2}}"`, `"{{pick 1 2}}"`},
		{`"{{int 1 5}}{{int 1 5}}"`, `"{{int 1 5}}{{int 1 5}}"`},
		{`"x{{int 1 5}}"`, `"x{{int 1 5}}"`},
		{`"{{int 1 5}} "`, `"{{int 1 5}} "`},
		{`"5"`, `"5"`},
		{`5`, `5`},
	}
	for _, tt := range tests {
		src := head + "requests: [{path: /, json: " + tt.value + "}]\n"
		s, err := Parse("n.yaml", []byte(src), nil)
		if err != nil {
			t.Errorf("json: %s: %v", tt.value, err)
			continue
		}
		if got := s.Requests[0].Body; got != tt.want {
			t.Errorf("json: %s compiled to %s, want %s", tt.value, got, tt.want)
		}
		for _, b := range renderBody(t, s.Requests[0].Body, 5) {
			if !json.Valid(b) {
				t.Errorf("json: %s rendered invalid JSON %s", tt.value, b)
			}
		}
	}
}

func TestJSONEscapeControlAndInvalidUTF8(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 0x80; c++ {
		all.WriteByte(byte(c))
	}
	all.WriteString("\xff\xfe é \u2028")
	got := appendJSONString(nil, all.String())
	if !json.Valid([]byte(got)) {
		t.Fatalf("invalid JSON string %q", got)
	}
	var back string
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	want := strings.ToValidUTF8(all.String(), "\ufffd")
	// ToValidUTF8 merges a run of invalid bytes into one replacement.
	want = strings.Replace(want, "\ufffd", "\ufffd\ufffd", 1)
	if back != want {
		t.Errorf("round trip = %q, want %q", back, want)
	}
}

func FuzzJSONBody(f *testing.F) {
	f.Add("plain", "{{int 1 5}}", "x")
	f.Add(`q"uote`, `{{pick a "b c" "\""}}`, `back\slash`)
	f.Add("{{", "{{seq}}", "}}")
	f.Add("k", "{{uuid}}-{{seq}}", "\u00e9\t")
	f.Fuzz(func(t *testing.T, key, val, other string) {
		// Single-quoted YAML holds any text but line breaks; '' is a quote.
		q := func(s string) string {
			s = strings.NewReplacer("'", "''", "\n", " ", "\r", " ").Replace(s)
			return "'" + s + "'"
		}
		src := fmt.Sprintf("%srequests:\n  - path: /\n    json: {%s: %s, list: [%s, 1, %s]}\n", head, q(key), q(val), q(other), q(val))
		s, err := Parse("f.yaml", []byte(src), nil)
		if err != nil {
			return // e.g. a template syntax error in val, or a YAML quirk
		}
		for _, b := range renderBody(t, s.Requests[0].Body, 3) {
			if !json.Valid(b) {
				t.Fatalf("body %q rendered invalid JSON %q", s.Requests[0].Body, b)
			}
		}
	})
}
