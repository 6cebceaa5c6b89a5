package scenarios

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"examples", filepath.Join("testdata", "errors")} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
			}
		}
	}
	f.Add([]byte(head + "requests: [{path: /, json: {a: [1, {b: \"{{int 1 2}}\"}]}}]\n"))
	f.Add([]byte(head + "requests: [{path: &a /x, name: *a, json: &j [*j]}]\n"))
	env := map[string]string{"TOKEN": "t{{", "RATE": "5", "EMPTY": ""}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.yaml", src, env)
		EnvRefs(src)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not a non-empty ErrorList", err, err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %q", e.Error())
				}
			}
			return
		}
		checkPlanTemplates(t, s)
	})
}

// TestHostileInputs checks that inputs built to exhaust the parser are
// rejected with an error rather than expanded.
func TestHostileInputs(t *testing.T) {
	// Each json holds 8^12 copies of its leaf once aliases are expanded.
	laughs := func(leaf string) string {
		src := head + "requests:\n- path: /\n  json: [&l0 " + leaf
		for i := 1; i <= 12; i++ {
			src += fmt.Sprintf(", &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]", i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
		}
		return src + "]\n"
	}
	tests := []struct {
		name, src, want string
	}{
		{"billion laughs", laughs("1"), "file too large once aliases are expanded"},
		{"billion laughs, long leaf", laughs(`"` + strings.Repeat("lol ", 100) + `"`), "compiled body is larger than 1048576 bytes"},
		{"deep flow nesting", "a: " + strings.Repeat("[", MaxFlowNesting+1) + strings.Repeat("]", MaxFlowNesting+1), "1:1004: nested more than 1000 levels deep"},
		{"deep json", head + "requests: [{path: /, json: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "}]", "nested more than 64 levels deep"},
		{"self alias", head + "requests: [{path: /, json: &s {a: *s}}]", "alias refers to a value that contains it"},
		{"huge file", head + "description: \"" + strings.Repeat("x", MaxFileSize) + "\"", "1:1: file is larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("h.yaml", []byte(tt.src), nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
