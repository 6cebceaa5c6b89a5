package openapi

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// FuzzLoad loads arbitrary input, with a reader that serves the input
// again as "self.yaml" and a small schema as "schema.yaml". Load must not
// panic (nor hide a panic as an internal error), must not run without
// bound (the fuzzer's timeout catches that), and must return either
// located errors or a consistent Spec whose generated scenario is valid.
func FuzzLoad(f *testing.F) {
	const maxSeed = 128 << 10
	for _, dir := range []string{"testdata/real", "testdata/bad", "testdata/bad/files"} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".LICENSE") || strings.HasSuffix(e.Name(), ".golden") {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			// The Docker Engine description (470 KiB) takes the fuzzer
			// seconds per mutation; TestRealSpecs covers it, and its parts
			// are in the smaller seeds.
			if len(data) > maxSeed {
				continue
			}
			f.Add(data)
		}
	}
	for _, s := range []string{swagger2, openapi30, shop} {
		f.Add([]byte(s))
	}
	f.Add([]byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {/a: {$ref: 'self.yaml#/paths/~1a'}}\n"))
	f.Add([]byte("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {/a: {get: {responses: {'200': {description: ok, content: {a/b: {schema: {$ref: 'schema.yaml#/S'}}}}}}}}\n"))
	f.Add([]byte("openapi: 3.0.3\ninfo: {title: t, version: '1'}\ncomponents: {schemas: {A: {$ref: '#/components/schemas/B'}, B: {$ref: '#/components/schemas/A'}}}\npaths: {}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		read := func(rel string) ([]byte, error) {
			switch rel {
			case "self.yaml":
				return data, nil
			case "schema.yaml":
				return []byte("S: {type: object, properties: {s: {$ref: '#/S'}}}\n"), nil
			}
			return nil, fs.ErrNotExist
		}
		s, err := Load(context.Background(), "fuzz.yaml", data, read)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File == "" || e.Msg == "" || e.Line < 0 || e.Col < 0 {
					t.Fatalf("malformed error %#v", e)
				}
				if strings.Contains(e.Msg, "internal error") {
					t.Fatalf("Load panicked: %v", e)
				}
			}
			return
		}
		if err := consistent(s); err != nil {
			t.Fatal(err)
		}
		if len(s.Operations) == 0 {
			return
		}
		out, err := GenerateScenario(s, GenerateOptions{SpecPath: "fuzz.yaml"})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := yaml.Unmarshal(out, &v); err != nil {
			t.Fatalf("generated scenario is not YAML: %v\n%s", err, out)
		}
		ops, _ := v["openapi"].(map[string]any)["operations"].(map[string]any)
		if len(ops) != len(s.Operations) {
			t.Fatalf("scenario lists %d operations, want %d\n%s", len(ops), len(s.Operations), out)
		}
	})
}
