package coordinator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// intervalsBudget bounds the encoded histograms GetIntervals holds at once,
// in bytes. The store lists a run's windows shard by shard, so a window
// number is complete only once the last shard's windows are read: a run
// whose histograms exceed the budget is read in several passes, each
// gathering the window numbers that fit.
const intervalsBudget = 32 << 20

// partOverhead is what one held histogram costs beside its bytes.
const partOverhead = 48

// GetIntervals streams a run's windows, every shard's results of a window
// number merged per endpoint, in window order. A stored window is included
// exactly when the run's results counted it (results.Run.Seen on its
// identity, shard + epoch + seq), so a window stored under several epochs
// after a reassignment, or rejected when replayed, counts here as it counts
// in GetRunResult, and each endpoint's intervals add up to its merged
// histograms.
func (s *server) GetIntervals(req *pb.GetIntervalsRequest, stream grpc.ServerStreamingServer[pb.Intervals]) error {
	if _, err := s.currentLeader(); err != nil {
		return err
	}
	ctx := stream.Context()
	r, err := s.getRun(ctx, req.GetRunId())
	if err != nil {
		return notFound(req.GetRunId(), err)
	}
	err = s.intervals(ctx, r, intervalsBudget, func(m *pb.Intervals) error {
		if err := stream.Send(m); err != nil {
			return sendError{err}
		}
		return nil
	})
	var se sendError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se.err
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	case errors.Is(err, latency.ErrCorrupt):
		return status.Errorf(codes.DataLoss, "intervals of run %s: %v", req.GetRunId(), err)
	}
	return status.Errorf(codes.Unavailable, "intervals of run %s: %v", req.GetRunId(), err)
}

// sendError marks an error of the stream, returned as is.
type sendError struct{ err error }

func (e sendError) Error() string { return e.err.Error() }

// intervals reads r's stored windows and calls send once per window number,
// in order. It holds at most about budget bytes of encoded histograms (or
// one window number's, if more), reading the store once more for every
// batch of window numbers that fits.
func (s *server) intervals(ctx context.Context, r *run, budget int, send func(*pb.Intervals) error) error {
	r.mu.Lock()
	runID := r.spec.GetRunId()
	r.mu.Unlock()
	var empty []byte // encoding of an empty histogram, made once
	for lo := int64(0); ; {
		b := &intervalBatch{lo: lo, hi: math.MaxInt64, budget: budget, seqs: map[int64]*seqParts{}}
		err := s.store.Windows(ctx, runID, func(w *pb.ResultWindow) error {
			if w.GetSeq() < b.lo || w.GetSeq() >= b.hi {
				return nil
			}
			r.mu.Lock()
			counted := r.agg.Seen(w)
			r.mu.Unlock()
			if counted {
				b.add(w)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read windows: %w", err)
		}
		order := make([]int64, 0, len(b.seqs))
		for seq := range b.seqs {
			order = append(order, seq)
		}
		slices.Sort(order)
		for _, seq := range order {
			m, err := b.seqs[seq].merge(seq, &empty)
			if err != nil {
				return err
			}
			delete(b.seqs, seq) // let the parts go before the next send
			if err := send(m); err != nil {
				return err
			}
		}
		if b.hi == math.MaxInt64 {
			return nil
		}
		lo = b.hi
	}
}

// intervalBatch gathers the window numbers in [lo, hi) of one pass over the
// store; hi comes down whenever the held bytes exceed the budget.
type intervalBatch struct {
	lo, hi int64
	budget int
	size   int
	seqs   map[int64]*seqParts
}

// seqParts is one window number's histograms as stored, not yet decoded.
type seqParts struct {
	start, end time.Time
	shards     map[int32]bool
	endpoints  map[int32]*endpointParts
	size       int
}

// endpointParts lists one endpoint's encoded histograms of every response
// class (not OUTCOME_CLASS_ERROR) from every shard.
type endpointParts struct {
	lat, svc [][]byte
}

func (b *intervalBatch) add(w *pb.ResultWindow) {
	p := b.seqs[w.GetSeq()]
	if p == nil {
		p = &seqParts{start: w.GetStart().AsTime(), end: w.GetEnd().AsTime(), shards: map[int32]bool{}, endpoints: map[int32]*endpointParts{}}
		b.seqs[w.GetSeq()] = p
	}
	p.shards[w.GetShard()] = true
	if ws := w.GetStart().AsTime(); ws.Before(p.start) {
		p.start = ws
	}
	if we := w.GetEnd().AsTime(); we.After(p.end) {
		p.end = we
	}
	before := p.size
	for _, e := range w.GetEndpoints() {
		ep := p.endpoints[e.GetEndpoint()]
		if ep == nil {
			ep = &endpointParts{}
			p.endpoints[e.GetEndpoint()] = ep
			p.size += partOverhead
		}
		for _, h := range e.GetHistograms() {
			if h.GetClass() == pb.OutcomeClass_OUTCOME_CLASS_ERROR {
				continue // no response: not part of the response latency
			}
			ep.lat = append(ep.lat, h.GetLatency())
			ep.svc = append(ep.svc, h.GetServiceTime())
			p.size += len(h.GetLatency()) + len(h.GetServiceTime()) + 2*partOverhead
		}
	}
	b.size += p.size - before
	// Over budget: give up the highest window numbers (a later pass reads
	// them), but always keep one.
	for b.size > b.budget && len(b.seqs) > 1 {
		top := int64(math.MinInt64)
		for seq := range b.seqs {
			top = max(top, seq)
		}
		b.size -= b.seqs[top].size
		delete(b.seqs, top)
		b.hi = top
	}
}

// merge decodes and merges one window number's histograms per endpoint.
// *empty caches the encoding of an empty histogram.
func (p *seqParts) merge(seq int64, empty *[]byte) (*pb.Intervals, error) {
	m := &pb.Intervals{
		Seq:    seq,
		Start:  timestamppb.New(p.start),
		Length: durationpb.New(p.end.Sub(p.start)),
		Shards: int32(len(p.shards)),
	}
	eps := make([]int32, 0, len(p.endpoints))
	for i := range p.endpoints {
		eps = append(eps, i)
	}
	slices.Sort(eps)
	for _, i := range eps {
		ep := p.endpoints[i]
		lat, err := mergeEncoded(ep.lat, empty)
		if err != nil {
			return nil, fmt.Errorf("window %d endpoint %d latency: %w", seq, i, err)
		}
		svc, err := mergeEncoded(ep.svc, empty)
		if err != nil {
			return nil, fmt.Errorf("window %d endpoint %d service time: %w", seq, i, err)
		}
		m.Endpoints = append(m.Endpoints, &pb.EndpointInterval{Endpoint: i, Latency: lat, ServiceTime: svc})
	}
	return m, nil
}

// mergeEncoded returns the encoding of the sum of parts. A single part is
// passed on as it is (it was checked when its window was ingested).
func mergeEncoded(parts [][]byte, empty *[]byte) ([]byte, error) {
	switch len(parts) {
	case 0:
		if *empty == nil {
			b, err := latency.NewHistogram().Encode()
			if err != nil {
				return nil, err
			}
			*empty = b
		}
		return *empty, nil
	case 1:
		return parts[0], nil
	}
	h := latency.NewHistogram()
	for _, b := range parts {
		if err := h.MergeEncoded(b); err != nil {
			return nil, err
		}
	}
	return h.Encode()
}
