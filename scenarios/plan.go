package scenarios

import (
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"

	barragev1 "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// Plan compiles s into the wire plan that agents run. seed is the run seed
// when s.Seed is nil; s.Seed wins otherwise. s should come from Parse;
// zero values of a hand-built Scenario get the documented defaults.
//
// Requests with a json body get a "Content-Type: application/json" header
// after their own headers, unless the target's or the request's headers
// set Content-Type already.
func (s *Scenario) Plan(seed uint64) *barragev1.Plan {
	if s.Seed != nil {
		seed = *s.Seed
	}
	p := &barragev1.Plan{
		Name: s.Name,
		Target: &barragev1.Target{
			BaseUrl:            s.Target.BaseURL,
			Headers:            planHeaders(s.Target.Headers),
			Protocol:           protocol(s.Target.Protocol),
			Timeout:            durationpb.New(orDefault(s.Target.Timeout, DefaultTimeout)),
			InsecureSkipVerify: s.Target.InsecureSkipVerify,
			ServerName:         s.Target.ServerName,
		},
		Load: &barragev1.Load{
			Model:       barragev1.LoadModel_LOAD_MODEL_OPEN,
			MaxInflight: s.Load.MaxInflight,
		},
		Seed:   seed,
		Window: durationpb.New(orDefault(s.Window, DefaultWindow)),
	}
	if s.Load.Model == "closed" {
		p.Load.Model = barragev1.LoadModel_LOAD_MODEL_CLOSED
	}
	for _, st := range s.Load.Stages {
		p.Load.Stages = append(p.Load.Stages, &barragev1.Stage{
			Duration:    durationpb.New(st.Duration),
			FromRate:    st.FromRate,
			ToRate:      st.ToRate,
			Concurrency: st.Concurrency,
		})
	}
	for _, r := range s.Requests {
		rt := &barragev1.RequestTemplate{
			Name:    r.Name,
			Weight:  uint32(max(r.Weight, 1)),
			Method:  strings.ToUpper(r.Method),
			Path:    r.Path,
			Headers: planHeaders(r.Headers),
			Body:    r.Body,
		}
		if rt.Method == "" {
			rt.Method = "GET"
		}
		if rt.Name == "" {
			rt.Name = rt.Method + " " + rt.Path
		}
		if r.JSON && !hasHeader(s.Target.Headers, "Content-Type") && !hasHeader(r.Headers, "Content-Type") {
			rt.Headers = append(rt.Headers, &barragev1.Header{Name: "Content-Type", Value: "application/json"})
		}
		p.Requests = append(p.Requests, rt)
	}
	if s.Faults != nil {
		p.Faults = &barragev1.Faults{Ratio: s.Faults.Ratio, Families: s.Faults.Families}
		if s.Faults.Seed != nil {
			p.Faults.Seed = *s.Faults.Seed
		}
	}
	if s.Auth != nil {
		p.Auth = &barragev1.Auth{Primary: s.Auth.Primary, Secondary: s.Auth.Secondary}
	}
	return p
}

func planHeaders(hs []Header) []*barragev1.Header {
	var out []*barragev1.Header
	for _, h := range hs {
		out = append(out, &barragev1.Header{Name: h.Name, Value: h.Value})
	}
	return out
}

func hasHeader(hs []Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

func protocol(p string) barragev1.Protocol {
	switch p {
	case "http2":
		return barragev1.Protocol_PROTOCOL_HTTP2
	case "h2c":
		return barragev1.Protocol_PROTOCOL_H2C
	}
	return barragev1.Protocol_PROTOCOL_HTTP1
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
