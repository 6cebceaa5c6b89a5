package apireq

// Identity says which user sends a request.
type Identity uint8

const (
	// Primary is the identity that sends the load.
	Primary Identity = iota
	// Secondary is the second user, for cross-user checks.
	Secondary
)

// poolSize is how many ids a pool keeps per resource; older ones are
// overwritten.
const poolSize = 256

type entry struct {
	id    string
	owner Identity
}

type ring struct {
	items []entry
	next  int
	// counts of entries per owner, for "is there one of theirs"
	owned [2]int
}

// Pool keeps ids of resources that create operations returned, per
// resource name, so that later requests use real ids instead of random
// ones that would only ever get 404. Not safe for concurrent use: each
// loop has its own.
type Pool struct {
	m map[string]*ring
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{m: map[string]*ring{}} }

// Put remembers id as a resource of the given owner.
func (p *Pool) Put(resource, id string, owner Identity) {
	if resource == "" || id == "" || len(id) > 256 {
		return
	}
	r := p.m[resource]
	if r == nil {
		r = &ring{}
		p.m[resource] = r
	}
	if len(r.items) < poolSize {
		r.items = append(r.items, entry{id, owner})
		r.owned[owner]++
		return
	}
	old := r.items[r.next]
	r.owned[old.owner]--
	r.items[r.next] = entry{id, owner}
	r.owned[owner]++
	r.next = (r.next + 1) % poolSize
}

// Get returns an id of the resource owned by owner, chosen with u (a
// uniform random number); ok is false when there is none.
func (p *Pool) Get(resource string, owner Identity, u uint64) (string, bool) {
	r := p.m[resource]
	if r == nil || r.owned[owner] == 0 {
		return "", false
	}
	// Walk from a random start to the next entry of that owner.
	n := len(r.items)
	start := int(u % uint64(n))
	for i := range n {
		e := r.items[(start+i)%n]
		if e.owner == owner {
			return e.id, true
		}
	}
	return "", false
}

// Len is the number of ids kept for a resource.
func (p *Pool) Len(resource string) int {
	if r := p.m[resource]; r != nil {
		return len(r.items)
	}
	return 0
}

// Remove forgets an id (deleted, or gone).
func (p *Pool) Remove(resource, id string) {
	r := p.m[resource]
	if r == nil {
		return
	}
	for i, e := range r.items {
		if e.id == id {
			r.owned[e.owner]--
			last := len(r.items) - 1
			r.items[i] = r.items[last]
			r.items = r.items[:last]
			if r.next > len(r.items) {
				r.next = 0
			}
			if len(r.items) < poolSize {
				r.next = 0
			}
			return
		}
	}
}
