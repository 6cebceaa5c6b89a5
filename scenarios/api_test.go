package scenarios

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/barrage-dev/barrage/internal/target/shop"
)

func shopFiles(extra map[string][]byte) func(string) ([]byte, error) {
	files := map[string][]byte{"api/shop.yaml": shop.Spec()}
	for k, v := range extra {
		files[k] = v
	}
	return func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return b, nil
		}
		return nil, fmt.Errorf("no file %s", p)
	}
}

const apiScenario = `name: api
target: {base_url: "http://127.0.0.1:8080"}
load: {stages: [{duration: 5s, rate: 10}]}
openapi:
  spec: api/shop.yaml
  exclude: [deleteOrder]
  operations:
    listProducts: {weight: 5, params: {limit: "{{int 1 5}}"}}
    getOrder: {weight: 0}
faults: {ratio: 0.1}
`

func TestLoadAPISelectsAndAttaches(t *testing.T) {
	s, err := Parse("s.yaml", []byte(apiScenario), nil)
	if err != nil {
		t.Fatal(err)
	}
	api, err := s.LoadAPI(context.Background(), shopFiles(nil))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, op := range api.Ops {
		ids = append(ids, fmt.Sprintf("%s:%d", op.Op.ID, op.Weight))
	}
	if got := strings.Join(ids, " "); got != "listOrders:1 createOrder:1 listProducts:5 getProduct:1" {
		t.Fatalf("selected %s", got)
	}
	p := s.Plan(1)
	api.AttachAPI(p)
	if p.GetOpenapi().GetFile() != "api/shop.yaml" || len(p.GetOpenapi().GetOperations()) != 4 ||
		p.GetOpenapi().GetOperations()[2].GetParams()["limit"] != "{{int 1 5}}" || p.GetFaults().GetRatio() != 0.1 {
		t.Fatalf("plan openapi = %v faults = %v", p.GetOpenapi().GetOperations(), p.GetFaults())
	}
}

func TestLoadAPIErrors(t *testing.T) {
	tests := []struct {
		name, scenario string
		read           func(string) ([]byte, error)
		want           string
	}{
		{"missing file", strings.Replace(apiScenario, "api/shop.yaml", "nope.yaml", 1), shopFiles(nil), "s.yaml:5:9: openapi.spec: cannot read nope.yaml"},
		{"unknown operation", strings.Replace(apiScenario, "getOrder: {weight: 0}", "getOrdr: {weight: 0}", 1), shopFiles(nil), `s.yaml:9:5: openapi.operations: "getOrdr" is not an operation of api/shop.yaml (did you mean "getOrder"?)`},
		{"unknown parameter", strings.Replace(apiScenario, "limit:", "limt:", 1), shopFiles(nil), `openapi.operations.listProducts.params: operation has no parameter "limt"`},
		{"bad spec", apiScenario, shopFiles(map[string][]byte{"api/shop.yaml": []byte("openapi: 9.9.9\n")}), "api/shop.yaml"},
		{"nothing selected", strings.Replace(apiScenario, "exclude: [deleteOrder]", "include: [getOrder]", 1), shopFiles(nil), "no operation selected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse("s.yaml", []byte(tt.scenario), nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.LoadAPI(context.Background(), tt.read)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			var el ErrorList
			if tt.name != "bad spec" && !errors.As(err, &el) {
				t.Fatalf("err %T is not an ErrorList", err)
			}
		})
	}
}
