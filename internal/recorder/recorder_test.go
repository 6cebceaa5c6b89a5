package recorder

import (
	"sync"
	"testing"
	"time"

	"github.com/barrage-dev/barrage/internal/latency"
	pb "github.com/barrage-dev/barrage/proto/barrage/v1"
)

func histCount(t *testing.T, b []byte) int64 {
	t.Helper()
	h, err := latency.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return h.Count()
}

func TestRecordAndFlush(t *testing.T) {
	s := New(2, 3)
	s.Record(0, 0, 200, "", time.Millisecond, time.Millisecond, 100, 10)
	s.Record(1, 0, 200, "", 2*time.Millisecond, time.Millisecond, 100, 10)
	s.Record(2, 0, 503, "", time.Second, time.Second, 50, 10)
	s.Record(0, 1, 0, "timeout", 5*time.Second, 5*time.Second, 0, 10)
	s.Record(0, 1, 0, "weird-kind", time.Millisecond, time.Millisecond, 0, 10)
	s.Record(1, 1, 42, "", time.Millisecond, time.Millisecond, 3, 10) // not a valid status
	s.Dropped(2, 1, 7)
	eps, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 2 {
		t.Fatalf("got %d endpoints, want 2", len(eps))
	}
	e0, e1 := eps[0], eps[1]
	if e0.Requests != 3 || e0.Status[200] != 2 || e0.Status[503] != 1 || e0.BytesIn != 250 || e0.BytesOut != 30 {
		t.Errorf("endpoint 0 = %v", e0)
	}
	if e1.Requests != 3 || e1.Dropped != 7 || e1.Errors["timeout"] != 1 || e1.Errors["other"] != 1 || e1.Errors["protocol"] != 1 {
		t.Errorf("endpoint 1 = %v", e1)
	}
	classes := map[pb.OutcomeClass]int64{}
	for _, e := range eps {
		for _, h := range e.Histograms {
			classes[h.Class] += histCount(t, h.Latency)
			if histCount(t, h.ServiceTime) != histCount(t, h.Latency) {
				t.Errorf("class %v: service and latency counts differ", h.Class)
			}
		}
	}
	want := map[pb.OutcomeClass]int64{pb.OutcomeClass_OUTCOME_CLASS_2XX: 2, pb.OutcomeClass_OUTCOME_CLASS_5XX: 1, pb.OutcomeClass_OUTCOME_CLASS_ERROR: 3}
	for c, n := range want {
		if classes[c] != n {
			t.Errorf("class %v holds %d, want %d", c, classes[c], n)
		}
	}
	// The next window starts empty.
	eps, err = s.Flush()
	if err != nil || len(eps) != 0 {
		t.Fatalf("second flush = %v, %v; want nothing", eps, err)
	}
}

// TestConcurrentRecordFlushLosesNothing records from many goroutines while
// windows are flushed; every record must land in exactly one window.
func TestConcurrentRecordFlushLosesNothing(t *testing.T) {
	s := New(3, 4)
	const workers, each = 8, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var total, hist int64
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
			}
			eps, err := s.Flush()
			if err != nil {
				t.Error(err)
				return
			}
			for _, e := range eps {
				total += e.Requests
				for _, h := range e.Histograms {
					hist += histCount(t, h.Latency)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				s.Record(w, i%3, 200+(i%2)*300, "", time.Duration(i)*time.Microsecond, time.Microsecond, 1, 1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-flushed
	eps, err := s.Flush()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range eps {
		total += e.Requests
		for _, h := range e.Histograms {
			hist += histCount(t, h.Latency)
		}
	}
	if total != workers*each || hist != workers*each {
		t.Fatalf("counted %d requests and %d histogram values, want %d", total, hist, workers*each)
	}
}

func BenchmarkRecord(b *testing.B) {
	s := New(4, 1)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Record(0, i&3, 200, "", time.Millisecond, time.Millisecond, 100, 50)
	}
}
