package recorder

import (
	"fmt"
	"sync"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
	"github.com/barrage-dev/barrage/internal/outcome"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

const (
	numClasses = int(pb.OutcomeClass_OUTCOME_CLASS_ERROR) + 1
	minStatus  = 100
	maxStatus  = 599
)

type epCounts struct {
	requests, dropped, bytesIn, bytesOut int64
	valid, valid2xx, mutated             int64
	status                               [maxStatus - minStatus + 1]int64
	errors                               []int64 // indexed like outcome.Kinds
	lat, svc                             [numClasses]*latency.Recorder
	touched                              bool
}

type counts struct {
	eps []epCounts
}

func newCounts(n int) *counts {
	c := &counts{eps: make([]epCounts, n)}
	for i := range c.eps {
		c.eps[i].errors = make([]int64, len(outcome.Kinds))
	}
	return c
}

func (c *counts) reset() {
	for i := range c.eps {
		e := &c.eps[i]
		if !e.touched {
			continue
		}
		e.requests, e.dropped, e.bytesIn, e.bytesOut = 0, 0, 0, 0
		e.valid, e.valid2xx, e.mutated = 0, 0, 0
		clear(e.status[:])
		clear(e.errors)
		for k := range e.lat {
			if e.lat[k] != nil {
				e.lat[k].Reset()
				e.svc[k].Reset()
			}
		}
		e.touched = false
	}
}

type group struct {
	mu    sync.Mutex
	cur   *counts
	spare *counts
	_     [64]byte // keep groups' mutexes on separate cache lines
}

// Set records outcomes for one shard.
type Set struct {
	groups []*group
	n      int
	kinds  map[string]int
}

// New returns a Set for n endpoints with the given number of groups (at
// least 1).
func New(n, groups int) *Set {
	if groups < 1 {
		groups = 1
	}
	s := &Set{n: n, kinds: map[string]int{}}
	for i, k := range outcome.Kinds {
		s.kinds[k] = i
	}
	for range groups {
		s.groups = append(s.groups, &group{cur: newCounts(n), spare: newCounts(n)})
	}
	return s
}

// Groups is the number of groups; pass a group index in [0, Groups()).
func (s *Set) Groups() int { return len(s.groups) }

// Record counts one finished request of endpoint ep in group g: status is
// the HTTP status (0 when errKind is set), errKind the transport error kind
// ("" for a response), lat the latency from the intended start, svc the
// service time from the actual start, and in/out the bytes moved.
func (s *Set) Record(g, ep, status int, errKind string, lat, svc time.Duration, in, out int64) {
	s.record(g, ep, status, errKind, lat, svc, in, out, 0)
}

// API kinds for RecordAPI.
const (
	apiNone = iota
	apiValid
	apiMutated
)

// RecordAPI is Record for a request of an API operation: it also counts it
// as mutated, or as valid (and reached when answered 2xx), in the same
// window as the request itself.
func (s *Set) RecordAPI(g, ep, status int, errKind string, lat, svc time.Duration, in, out int64, mutated bool) {
	kind := apiValid
	if mutated {
		kind = apiMutated
	}
	s.record(g, ep, status, errKind, lat, svc, in, out, kind)
}

func (s *Set) record(g, ep, status int, errKind string, lat, svc time.Duration, in, out int64, api int) {
	gr := s.groups[g%len(s.groups)]
	class := pb.OutcomeClass_OUTCOME_CLASS_ERROR
	if errKind == "" {
		if status < minStatus || status > maxStatus {
			errKind = "protocol" // no valid status line: not a response
		} else {
			class = outcome.Class(status)
		}
	}
	gr.mu.Lock()
	e := &gr.cur.eps[ep]
	e.touched = true
	e.requests++
	e.bytesIn += in
	e.bytesOut += out
	if class == pb.OutcomeClass_OUTCOME_CLASS_ERROR {
		k, ok := s.kinds[errKind]
		if !ok {
			k = s.kinds["other"]
		}
		e.errors[k]++
	} else {
		e.status[status-minStatus]++
	}
	if e.lat[class] == nil {
		// First outcome of this class in this set: allocate once; the set
		// keeps its recorders across windows.
		e.lat[class], e.svc[class] = latency.NewRecorder(), latency.NewRecorder()
	}
	e.lat[class].Record(lat)
	e.svc[class].Record(svc)
	switch api {
	case apiMutated:
		e.mutated++
	case apiValid:
		e.valid++
		if class == pb.OutcomeClass_OUTCOME_CLASS_2XX {
			e.valid2xx++
		}
	}
	gr.mu.Unlock()
}

// Dropped counts n arrivals of endpoint ep that were not started because the
// in-flight cap was reached.
func (s *Set) Dropped(g, ep int, n int64) {
	gr := s.groups[g%len(s.groups)]
	gr.mu.Lock()
	e := &gr.cur.eps[ep]
	e.touched = true
	e.dropped += n
	gr.mu.Unlock()
}

// Stats are an endpoint's service times in one window, over its responses
// (transport errors left out).
type Stats struct {
	Count    int64
	P50, P90 time.Duration
}

// Flush takes everything recorded since the previous Flush and returns it as
// one window's endpoint results (endpoints with nothing recorded are left
// out).
func (s *Set) Flush() ([]*pb.EndpointWindow, error) {
	eps, _, err := s.FlushStats()
	return eps, err
}

// FlushStats is Flush that also returns every endpoint's service-time
// statistics for the window (indexed by endpoint).
func (s *Set) FlushStats() ([]*pb.EndpointWindow, []Stats, error) {
	stats := make([]Stats, s.n)
	taken := make([]*counts, len(s.groups))
	for i, gr := range s.groups {
		gr.mu.Lock()
		taken[i] = gr.cur
		gr.cur, gr.spare = gr.spare, gr.cur
		gr.mu.Unlock()
	}
	// The taken sets become the spares: only Flush touches them until the
	// next Flush swaps them back in, so they are read and reset unlocked.
	defer func() {
		for _, c := range taken {
			c.reset()
		}
	}()
	var out []*pb.EndpointWindow
	for ep := 0; ep < s.n; ep++ {
		var ew *pb.EndpointWindow
		var lat, svc [numClasses]*latency.Histogram
		for _, c := range taken {
			e := &c.eps[ep]
			if !e.touched {
				continue
			}
			if ew == nil {
				ew = &pb.EndpointWindow{Endpoint: int32(ep)}
			}
			ew.Requests += e.requests
			ew.Dropped += e.dropped
			ew.Valid += e.valid
			ew.Valid_2Xx += e.valid2xx
			ew.Mutated += e.mutated
			ew.BytesIn += e.bytesIn
			ew.BytesOut += e.bytesOut
			for i, n := range e.status {
				if n != 0 {
					if ew.Status == nil {
						ew.Status = map[int32]int64{}
					}
					ew.Status[int32(i+minStatus)] += n
				}
			}
			for i, n := range e.errors {
				if n != 0 {
					if ew.Errors == nil {
						ew.Errors = map[string]int64{}
					}
					ew.Errors[outcome.Kinds[i]] += n
				}
			}
			for k := 1; k < numClasses; k++ {
				if e.lat[k] == nil || e.lat[k].Count() == 0 {
					continue
				}
				if lat[k] == nil {
					lat[k], svc[k] = latency.NewHistogram(), latency.NewHistogram()
				}
				lat[k].MergeRecorder(e.lat[k])
				svc[k].MergeRecorder(e.svc[k])
			}
		}
		if ew == nil {
			continue
		}
		resp := latency.NewHistogram()
		for k := 1; k < numClasses; k++ {
			if lat[k] == nil {
				continue
			}
			if k != int(pb.OutcomeClass_OUTCOME_CLASS_ERROR) {
				resp.Merge(svc[k])
			}
			lb, err := lat[k].Encode()
			if err != nil {
				return nil, nil, fmt.Errorf("encode latency of endpoint %d: %w", ep, err)
			}
			sb, err := svc[k].Encode()
			if err != nil {
				return nil, nil, fmt.Errorf("encode service time of endpoint %d: %w", ep, err)
			}
			ew.Histograms = append(ew.Histograms, &pb.ClassHistogram{Class: pb.OutcomeClass(k), Latency: lb, ServiceTime: sb})
		}
		stats[ep] = Stats{Count: resp.Count(), P50: resp.Quantile(0.5), P90: resp.Quantile(0.9)}
		out = append(out, ew)
	}
	return out, stats, nil
}
