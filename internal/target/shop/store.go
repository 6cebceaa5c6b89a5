package shop

import (
	"sync"
)

// orderJSON is an order as the API shows it (the Order schema).
type orderJSON struct {
	ID        string  `json:"id"`
	ProductID int64   `json:"product_id"`
	Quantity  int64   `json:"quantity"`
	Note      *string `json:"note,omitempty"`
	Coupon    *string `json:"coupon,omitempty"`
	Owner     string  `json:"owner"`
	Status    string  `json:"status"`
}

// storedOrder is an order in two intrusive doubly linked lists: every order,
// oldest first (for eviction), and its owner's orders, oldest first (for
// listing). Every operation is O(1) except list, which is O(limit).
type storedOrder struct {
	orderJSON
	prev, next   *storedOrder // all orders
	uprev, unext *storedOrder // the owner's orders
}

type orderList struct{ head, tail *storedOrder }

// store holds at most max orders; adding one more evicts the oldest.
type store struct {
	mu     sync.Mutex
	max    int
	byID   map[string]*storedOrder
	all    orderList
	byUser map[string]*orderList
}

func newStore(max int) *store {
	return &store{max: max, byID: map[string]*storedOrder{}, byUser: map[string]*orderList{}}
}

// add stores o, evicting the oldest orders beyond the cap.
func (s *store) add(o orderJSON) {
	n := &storedOrder{orderJSON: o}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.byID) >= s.max && s.all.head != nil {
		s.removeLocked(s.all.head)
	}
	s.byID[o.ID] = n
	n.prev = s.all.tail
	if s.all.tail != nil {
		s.all.tail.next = n
	} else {
		s.all.head = n
	}
	s.all.tail = n
	ul := s.byUser[o.Owner]
	if ul == nil {
		ul = &orderList{}
		s.byUser[o.Owner] = ul
	}
	n.uprev = ul.tail
	if ul.tail != nil {
		ul.tail.unext = n
	} else {
		ul.head = n
	}
	ul.tail = n
}

func (s *store) removeLocked(n *storedOrder) {
	delete(s.byID, n.ID)
	if n.prev != nil {
		n.prev.next = n.next
	} else {
		s.all.head = n.next
	}
	if n.next != nil {
		n.next.prev = n.prev
	} else {
		s.all.tail = n.prev
	}
	ul := s.byUser[n.Owner]
	if n.uprev != nil {
		n.uprev.unext = n.unext
	} else {
		ul.head = n.unext
	}
	if n.unext != nil {
		n.unext.uprev = n.uprev
	} else {
		ul.tail = n.uprev
	}
	if ul.head == nil {
		delete(s.byUser, n.Owner)
	}
	n.prev, n.next, n.uprev, n.unext = nil, nil, nil, nil
}

// get returns a copy of the order with id.
func (s *store) get(id string) (orderJSON, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.byID[id]
	if !ok {
		return orderJSON{}, false
	}
	return n.orderJSON, true
}

// remove deletes the order with id if owner owns it, or whoever owns it
// when owner is "". It reports whether an order was deleted.
func (s *store) remove(id, owner string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.byID[id]
	if !ok || (owner != "" && n.Owner != owner) {
		return false
	}
	s.removeLocked(n)
	return true
}

// list returns owner's newest orders, newest first, at most limit.
func (s *store) list(owner string, limit int) []orderJSON {
	out := make([]orderJSON, 0, min(limit, 16))
	s.mu.Lock()
	defer s.mu.Unlock()
	ul := s.byUser[owner]
	if ul == nil {
		return out
	}
	for n := ul.tail; n != nil && len(out) < limit; n = n.uprev {
		out = append(out, n.orderJSON)
	}
	return out
}

// len is the number of stored orders.
func (s *store) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}
