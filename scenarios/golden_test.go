package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the .golden files in testdata/errors")

// goldenEnv is the environment the error files are parsed with.
var goldenEnv = map[string]string{
	"TOKEN":    "secret",
	"EMPTY":    "",
	"RATE":     "50",
	"BAD_RATE": "fast",
	"HOST":     "127.0.0.1",
}

// TestErrorsGolden parses every testdata/errors/*.yaml file and compares the
// complete error output with the file's .golden twin. Run
// `go test ./scenarios -update` to rewrite the golden files after a
// deliberate change, and review the diff.
func TestErrorsGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "errors", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("found %d error files, want the full set", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(filepath.ToSlash(file), src, goldenEnv)
			if err == nil {
				t.Fatalf("Parse succeeded, want errors; got %+v", s)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %T is not an ErrorList", err)
			}
			for i := 1; i < len(list); i++ {
				a, b := list[i-1], list[i]
				if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
					t.Errorf("errors not sorted: %v before %v", a, b)
				}
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./scenarios -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("errors differ from %s (-want +got):\n%s", golden, diff)
			}
		})
	}
}
