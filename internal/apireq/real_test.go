package apireq

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/barrage-dev/barrage/internal/openapi"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// TestRealDescriptions compiles every operation of the public descriptions
// shipped with internal/openapi and builds valid and mutated requests for
// each: nothing panics, every request has a request line and a Host, and
// what cannot be generated is a warning, not an error.
func TestRealDescriptions(t *testing.T) {
	dir := filepath.Join("..", "openapi", "testdata", "real")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".json")) {
			continue
		}
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			spec, err := openapi.Load(context.Background(), name, data, func(rel string) ([]byte, error) {
				return os.ReadFile(filepath.Join(dir, rel))
			})
			if err != nil {
				t.Skipf("does not load: %v", err)
			}
			plan := &pb.Plan{Target: &pb.Target{BaseUrl: "http://127.0.0.1:1/api"}, Seed: 1,
				Openapi: &pb.OpenAPI{File: name, Spec: data},
				Auth:    &pb.Auth{Primary: map[string]string{}},
				Faults:  &pb.Faults{Ratio: 0.5, Families: []string{"types", "boundaries", "strings", "formats", "structure", "encoding", "injection", "body", "methods", "headers", "auth"}}}
			for _, sc := range spec.Schemes {
				plan.Auth.Primary[sc.Name] = "secret"
			}
			for _, op := range spec.Operations {
				plan.Openapi.Operations = append(plan.Openapi.Operations, &pb.Operation{Id: op.ID, Weight: 1})
			}
			c, err := Compile(context.Background(), plan, Options{Shards: 1})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			s := c.NewSender(1, 0, 1)
			var buf []byte
			for i := range c.Ops() {
				for g := range uint64(40) {
					buf, _ = s.Build(buf[:0], i, g)
					line, rest, _ := strings.Cut(string(buf), "\r\n")
					if !strings.HasPrefix(line, c.Ops()[i].method+" /api") && !strings.Contains(line, " /api") || !strings.HasPrefix(rest, "Host: 127.0.0.1:1\r\n") {
						t.Fatalf("%s: bad request:\n%.300s", c.Ops()[i].O.ID, buf)
					}
				}
			}
			n += len(c.Ops())
		})
	}
	if n == 0 {
		t.Fatal("no operation compiled")
	}
}
