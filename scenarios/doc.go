// Package scenarios holds the scenario file format: a YAML file that names
// a target, a load profile and request templates. Parse reads and validates
// one file, reporting every problem with its file:line:col; Plan compiles a
// valid scenario into the wire plan (barragev1.Plan) that agents run.
//
// The format is documented in docs/scenarios.md; scenarios/examples holds
// annotated examples. Values such as paths, header values and bodies are
// templates (package internal/template); ${NAME} references are expanded
// from the environment map given to Parse.
//
// Usage:
//
//	src, _ := os.ReadFile(path)
//	env := map[string]string{}
//	for _, name := range scenarios.EnvRefs(src) {
//		if v, ok := os.LookupEnv(name); ok {
//			env[name] = v
//		}
//	}
//	s, err := scenarios.Parse(path, src, env) // err is an ErrorList
//	if err != nil {
//		return err
//	}
//	plan := s.Plan(seed) // seed is used when the file sets none
//
// Concurrency: Parse, EnvRefs and Plan are safe for concurrent use. A
// *Scenario is a plain value: do not modify it while another goroutine reads
// it.
package scenarios
