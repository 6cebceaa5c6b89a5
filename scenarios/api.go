package scenarios

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/barrage-dev/barrage/internal/openapi"
	barragev1 "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// API is a scenario's loaded API description.
type API struct {
	// Spec is the loaded description.
	Spec *openapi.Spec
	// Ops are the selected operations with their settings, in spec order.
	Ops []SelectedOp
	// Files are the description and every file it refers to, by path
	// relative to the scenario file (what a client sends along).
	Files map[string][]byte
	// SpecPath is the description's path relative to the scenario file,
	// and SpecData its contents.
	SpecPath string
	SpecData []byte
	// LatencyBudget is the scenario's openapi.latency_budget.
	LatencyBudget time.Duration
}

// SelectedOp is an operation the run exercises.
type SelectedOp struct {
	Op     *openapi.Operation
	Weight int
	Params map[string]string
	// LatencyBudget is the operation's own budget, 0 for the scenario's.
	LatencyBudget time.Duration
}

// LoadAPI reads the scenario's API description through read (paths
// relative to the scenario file) and selects its operations: include and
// exclude patterns, then the operations settings (weight 0 skips one). A
// scenario without `openapi` returns nil. Problems in the scenario's own
// openapi section come back as an ErrorList with positions; problems in
// the description as openapi's ErrorList (file, JSON pointer, line:col).
func (s *Scenario) LoadAPI(ctx context.Context, read func(rel string) ([]byte, error)) (*API, error) {
	o := s.OpenAPI
	if o == nil {
		return nil, nil
	}
	fileErr := func(format string, args ...any) error {
		return ErrorList{{File: s.File, Line: o.specAt.line, Col: o.specAt.col, Msg: "openapi.spec: " + fmt.Sprintf(format, args...)}}
	}
	specPath := path.Clean(o.Spec)
	data, err := read(specPath)
	if err != nil {
		return nil, fileErr("cannot read %s: %v", o.Spec, err)
	}
	api := &API{Files: map[string][]byte{specPath: data}, SpecPath: specPath, SpecData: data, LatencyBudget: o.LatencyBudget}
	dir := path.Dir(specPath)
	spec, err := openapi.Load(ctx, specPath, data, func(rel string) ([]byte, error) {
		p := path.Join(dir, rel)
		b, err := read(p)
		if err == nil {
			api.Files[p] = b
		}
		return b, err
	})
	if err != nil {
		var el openapi.ErrorList
		if errors.As(err, &el) {
			return nil, err
		}
		return nil, fileErr("%v", err)
	}
	api.Spec = spec
	selected, err := spec.Select(o.Include, o.Exclude)
	if err != nil {
		return nil, fileErr("%v", err)
	}
	var errs ErrorList
	settings := map[string]OperationSetting{}
	for _, st := range o.Operations {
		op := spec.Operation(st.ID)
		if op == nil {
			ids := make([]string, 0, len(spec.Operations))
			for _, so := range spec.Operations {
				ids = append(ids, so.ID)
			}
			errs = append(errs, &Error{File: s.File, Line: st.at.line, Col: st.at.col,
				Msg: fmt.Sprintf("openapi.operations: %q is not an operation of %s%s", st.ID, o.Spec, suggest(st.ID, ids))})
			continue
		}
		for name := range st.Params {
			if !slices.ContainsFunc(op.Params, func(p *openapi.Param) bool { return p.Name == name }) {
				errs = append(errs, &Error{File: s.File, Line: st.at.line, Col: st.at.col,
					Msg: fmt.Sprintf("openapi.operations.%s.params: operation has no parameter %q", st.ID, name)})
			}
		}
		settings[op.ID] = st
	}
	if len(errs) > 0 {
		return nil, errs.sorted()
	}
	for _, op := range selected {
		sel := SelectedOp{Op: op, Weight: 1}
		if st, ok := settings[op.ID]; ok {
			sel.Weight, sel.Params, sel.LatencyBudget = st.Weight, st.Params, st.LatencyBudget
		}
		if sel.Weight == 0 {
			continue
		}
		api.Ops = append(api.Ops, sel)
	}
	if len(api.Ops) == 0 && len(s.Requests) == 0 {
		return nil, fileErr("no operation selected from %s (include/exclude/weights leave none)", o.Spec)
	}
	return api, nil
}

// AttachAPI adds the API description and its selected operations to a
// plan compiled with Plan.
func (a *API) AttachAPI(p *barragev1.Plan) {
	if a == nil {
		return
	}
	specPath := a.SpecPath
	p.Openapi = &barragev1.OpenAPI{File: specPath, Spec: a.SpecData, Files: map[string][]byte{}}
	dir := path.Dir(specPath)
	keys := make([]string, 0, len(a.Files))
	for k := range a.Files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == specPath {
			continue
		}
		rel := k
		if dir != "." {
			if r, ok := cutDir(k, dir); ok {
				rel = r
			}
		}
		p.Openapi.Files[rel] = a.Files[k]
	}
	if a.LatencyBudget > 0 {
		p.Openapi.LatencyBudget = durationpb.New(a.LatencyBudget)
	}
	for _, op := range a.Ops {
		o := &barragev1.Operation{Id: op.Op.ID, Weight: uint32(op.Weight),
			Params: op.Params, Method: op.Op.Method, Path: op.Op.Path}
		if op.LatencyBudget > 0 {
			o.LatencyBudget = durationpb.New(op.LatencyBudget)
		}
		p.Openapi.Operations = append(p.Openapi.Operations, o)
	}
}

func cutDir(p, dir string) (string, bool) {
	if len(p) > len(dir)+1 && p[:len(dir)] == dir && p[len(dir)] == '/' {
		return p[len(dir)+1:], true
	}
	return "", false
}
