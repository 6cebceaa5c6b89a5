package shop

import (
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ids(os []orderJSON) []string {
	out := []string{}
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

func TestStore(t *testing.T) {
	s := newStore(4)
	add := func(id, owner string) { s.add(orderJSON{ID: id, Owner: owner}) }
	add("a1", "alice")
	add("b1", "bob")
	add("a2", "alice")
	add("a3", "alice")
	if diff := cmp.Diff([]string{"a3", "a2", "a1"}, ids(s.list("alice", 10))); diff != "" {
		t.Errorf("alice's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a3", "a2"}, ids(s.list("alice", 2))); diff != "" {
		t.Errorf("alice's list, limit 2 (-want +got):\n%s", diff)
	}
	add("b2", "bob") // evicts a1, the oldest
	if _, ok := s.get("a1"); ok || s.len() != 4 {
		t.Errorf("a1 still stored, or len %d != 4", s.len())
	}
	if s.remove("a2", "bob") {
		t.Error("bob removed alice's order")
	}
	if !s.remove("a2", "alice") || s.remove("a2", "alice") {
		t.Error("alice could not remove a2 exactly once")
	}
	if !s.remove("b1", "") {
		t.Error("an ownerless remove failed")
	}
	if diff := cmp.Diff([]string{"a3"}, ids(s.list("alice", 10))); diff != "" {
		t.Errorf("alice's list (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b2"}, ids(s.list("bob", 10))); diff != "" {
		t.Errorf("bob's list (-want +got):\n%s", diff)
	}
	add("c1", "carol")
	add("c2", "carol")
	add("c3", "carol") // evicts a3, then alice has nothing
	if got := s.list("alice", 10); len(got) != 0 {
		t.Errorf("alice's list %v after eviction", ids(got))
	}
	if _, ok := s.byUser["alice"]; ok {
		t.Error("an empty user list is kept")
	}
	if s.len() != 4 {
		t.Errorf("len %d, want 4", s.len())
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := newStore(100)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			owner := fmt.Sprint("u", g%3)
			for i := range 500 {
				id := fmt.Sprint(g, "-", i)
				s.add(orderJSON{ID: id, Owner: owner})
				s.list(owner, 20)
				if i%3 == 0 {
					s.remove(id, owner)
				}
				s.get(id)
			}
		})
	}
	wg.Wait()
	if n := s.len(); n > 100 {
		t.Errorf("len %d beyond the cap", n)
	}
	total := 0
	for _, u := range []string{"u0", "u1", "u2"} {
		total += len(s.list(u, 1000))
	}
	if total != s.len() {
		t.Errorf("user lists hold %d orders, the store %d", total, s.len())
	}
}
