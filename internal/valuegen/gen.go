package valuegen

import (
	"math"
	"strconv"

	"github.com/barrage-dev/barrage/internal/template"
)

// maxUniqueTracked is how many items of one array are checked for
// uniqueness (uniqueItems is best effort beyond it).
const maxUniqueTracked = 32

// uniqueTries is how often an item equal to an earlier one is regenerated.
const uniqueTries = 8

// AppendJSON appends a JSON value that is valid for the schema, with e
// applied (e may be nil). It does not allocate once dst has room for the
// value. The result is determined by r's state.
func (g *Gen) AppendJSON(dst []byte, r *template.Rand, e *Edit) []byte {
	if e != nil && (e.Op == EditNone || e.Node < 0 || e.Node >= len(g.nodes)) {
		e = nil
	}
	if e != nil && e.Node == 0 && e.Op == Omit {
		return dst
	}
	return g.gen(dst, r, 0, e)
}

// AppendNode appends a valid JSON value for one node (its subtree), as it
// would appear inside a full value. It is meant for building mutations.
func (g *Gen) AppendNode(dst []byte, r *template.Rand, node int) []byte {
	if node < 0 || node >= len(g.nodes) {
		return dst
	}
	return g.gen(dst, r, int32(node), nil)
}

// AppendText appends the text form of a valid value, for path, query,
// header and cookie parameters: strings raw (not quoted or escaped),
// numbers and booleans as in JSON. It never emits null. An array gives its
// items' text joined by commas and an object its keys and values joined by
// commas (the non-exploded "simple"/"form" styles); exploded styles are the
// request builder's business. It does not allocate once dst has room.
func (g *Gen) AppendText(dst []byte, r *template.Rand) []byte {
	return g.text(dst, r, 0)
}

func (g *Gen) gen(dst []byte, r *template.Rand, id int32, e *Edit) []byte {
	n := &g.nodes[id]
	if e != nil {
		if int(id) == e.Node {
			switch e.Op {
			case Replace:
				return append(dst, e.Raw...)
			case Extra:
				if n.kind != Object {
					e = nil
				}
			case Repeat:
				if n.kind != Array {
					e = nil
				}
			default:
				e = nil
			}
		} else if e.Node < int(id) || e.Node >= int(n.end) {
			e = nil
		}
	}
	// From here e is nil or lands in this subtree (Extra/Repeat here, or
	// anything below).
	if e == nil {
		if n.nullable && r.IntN(nullOdds) == 0 {
			return append(dst, "null"...)
		}
		if len(n.examples) > 0 && r.IntN(exampleOdds) == 0 {
			return append(dst, n.examples[r.IntN(uint64(len(n.examples)))].json...)
		}
	}
	if len(n.choices) > 0 {
		return append(dst, n.choices[r.IntN(uint64(len(n.choices)))].json...)
	}
	if len(n.alts) > 0 {
		return g.gen(dst, r, g.pickAlt(n, r, e), e)
	}
	switch n.kind {
	case String:
		return n.str.gen(dst, r, true)
	case Integer:
		return g.appendInt(dst, n, r)
	case Number:
		return g.appendNumber(dst, n, r)
	case Boolean:
		return appendBool(dst, r)
	case Null:
		return append(dst, "null"...)
	case Array:
		return g.genArray(dst, r, id, n, e, true)
	case Object:
		return g.genObject(dst, r, id, n, e)
	}
	return g.genAny(dst, r, true)
}

func (g *Gen) pickAlt(n *gnode, r *template.Rand, e *Edit) int32 {
	if e != nil {
		for _, a := range n.alts {
			if e.Node >= int(a) && e.Node < int(g.nodes[a].end) {
				return a
			}
		}
	}
	return n.alts[r.IntN(uint64(len(n.alts)))]
}

func appendBool(dst []byte, r *template.Rand) []byte {
	if r.IntN(2) == 0 {
		return append(dst, "false"...)
	}
	return append(dst, "true"...)
}

func (g *Gen) appendInt(dst []byte, n *gnode, r *template.Rand) []byte {
	k := n.kmin + int64(r.IntN(uint64(n.kmax-n.kmin)+1))
	return strconv.AppendInt(dst, k*n.step, 10)
}

func (g *Gen) appendNumber(dst []byte, n *gnode, r *template.Rand) []byte {
	if n.fstep > 0 {
		k := n.kmin + int64(r.IntN(uint64(n.kmax-n.kmin)+1))
		v := float64(k) * n.fstep
		if n.fdec >= 0 {
			return strconv.AppendFloat(dst, v, 'f', n.fdec, 64)
		}
		return appendFloat(dst, v)
	}
	u := float64(r.Uint64()>>11) / (1 << 53)
	v := n.flo + u*(n.fhi-n.flo)
	if rv := math.Round(v*100) / 100; n.inBounds(rv) {
		return appendFloat(dst, rv)
	}
	if n.inBounds(v) {
		return appendFloat(dst, v)
	}
	if mid := n.flo + (n.fhi-n.flo)/2; n.inBounds(mid) {
		return appendFloat(dst, mid)
	}
	return appendFloat(dst, math.Nextafter(n.flo, n.fhi))
}

func (g *Gen) genAny(dst []byte, r *template.Rand, js bool) []byte {
	switch r.IntN(3) {
	case 0:
		return strconv.AppendInt(dst, int64(1+r.IntN(window)), 10)
	case 1:
		if js {
			return appendBool(dst, r)
		}
	}
	if js {
		dst = append(dst, '"')
	}
	for i, l := 0, 1+int(r.IntN(8)); i < l; i++ {
		dst = append(dst, pick(r, plainChars))
	}
	if js {
		dst = append(dst, '"')
	}
	return dst
}

func inSubtree(e *Edit, g *Gen, node int32) bool {
	return e != nil && node >= 0 && e.Node >= int(node) && e.Node < int(g.nodes[node].end)
}

// genArray appends an array: JSON (js) or the items' text joined by commas.
func (g *Gen) genArray(dst []byte, r *template.Rand, id int32, n *gnode, e *Edit, js bool) []byte {
	count, unique, repeat := n.minItems, n.unique, false
	if n.maxItems > n.minItems {
		count += int(r.IntN(uint64(n.maxItems - n.minItems + 1)))
	}
	edited := -1 // index of the item the edit lands in
	if e != nil {
		switch {
		case e.Node == int(id): // Repeat
			count, unique, repeat = max(e.N, 0), false, true
			e = nil
		case inSubtree(e, g, n.item):
			if e.Node == int(n.item) && e.Op == Omit {
				return append(dst, '[', ']')
			}
			edited = len(n.prefix)
		default:
			for i, p := range n.prefix {
				if inSubtree(e, g, p) {
					edited = i
				}
			}
		}
		if edited >= 0 {
			count = max(count, edited+1)
		}
	}
	if n.item < 0 && !repeat {
		count = min(count, len(n.prefix))
	}
	var starts, ends [maxUniqueTracked]int
	if js {
		dst = append(dst, '[')
	}
	for i := 0; i < count; i++ {
		if i > 0 {
			dst = append(dst, ',')
		}
		node := n.item
		if i < len(n.prefix) {
			node = n.prefix[i]
		}
		var ie *Edit
		if i == edited {
			ie = e
		}
		start := len(dst)
		if node < 0 { // Repeat past a tuple without items: anything goes
			dst = append(dst, "null"...)
			continue
		}
		dst = g.item(dst, r, node, ie, js)
		if unique && i < maxUniqueTracked {
			for try := 0; try < uniqueTries && ie == nil && seenBefore(dst, starts[:i], ends[:i], start); try++ {
				dst = g.item(dst[:start], r, node, nil, js)
			}
			if len(n.domain) > 0 && node == n.item && seenBefore(dst, starts[:i], ends[:i], start) {
				k := int(r.IntN(uint64(len(n.domain))))
				for j := 0; j < len(n.domain); j++ {
					d := &n.domain[(k+j)%len(n.domain)]
					if js {
						dst = append(dst[:start], d.json...)
					} else {
						dst = append(dst[:start], d.text...)
					}
					if !seenBefore(dst, starts[:i], ends[:i], start) {
						break
					}
				}
			}
			starts[i], ends[i] = start, len(dst)
		}
	}
	if js {
		dst = append(dst, ']')
	}
	return dst
}

func (g *Gen) item(dst []byte, r *template.Rand, node int32, e *Edit, js bool) []byte {
	if js {
		return g.gen(dst, r, node, e)
	}
	return g.text(dst, r, node)
}

// seenBefore reports whether dst[start:] equals one of the earlier items
// dst[starts[j]:ends[j]].
func seenBefore(dst []byte, starts, ends []int, start int) bool {
	item := dst[start:]
	for j := range starts {
		if string(dst[starts[j]:ends[j]]) == string(item) {
			return true
		}
	}
	return false
}

func (g *Gen) genObject(dst []byte, r *template.Rand, id int32, n *gnode, e *Edit) []byte {
	var extra *Edit
	if e != nil && e.Node == int(id) { // Extra
		extra, e = e, nil
	}
	budget := n.maxOpt
	if e != nil && budget >= 0 {
		for _, p := range n.props {
			if !p.required && inSubtree(e, g, p.node) && !(e.Node == int(p.node) && e.Op == Omit) {
				budget-- // the edited optional property is emitted whatever the budget
			}
		}
	}
	need, left := n.minOpt, n.optCount
	first := true
	dst = append(dst, '{')
	for i := range n.props {
		p := &n.props[i]
		in := inSubtree(e, g, p.node)
		here := in && e.Node == int(p.node)
		include := p.required
		if !p.required {
			switch {
			case in:
				include = true
			case need >= left:
				include = true
			case budget != 0:
				include = g.optAlways || r.Uint64() < g.optThresh
			}
			left--
			if include && !in {
				budget--
			}
			if include {
				need--
			}
		}
		if here && e.Op == Omit {
			continue
		}
		if !include {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, p.keyJSON...)
		if here && e.Op == Duplicate {
			dst = append(dst, e.Raw...)
			dst = append(dst, ',')
			dst = append(dst, p.keyJSON...)
			dst = g.gen(dst, r, p.node, nil)
			continue
		}
		var pe *Edit
		if in {
			pe = e
		}
		dst = g.gen(dst, r, p.node, pe)
	}
	for i := range n.extras {
		p := &n.extras[i]
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, p.keyJSON...)
		dst = g.gen(dst, r, p.node, nil)
	}
	if extra != nil {
		if !first {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, extra.Key)
		dst = append(dst, ':')
		dst = append(dst, extra.Raw...)
	}
	return append(dst, '}')
}

func (g *Gen) text(dst []byte, r *template.Rand, id int32) []byte {
	n := &g.nodes[id]
	if len(n.examples) > 0 && r.IntN(exampleOdds) == 0 {
		return append(dst, n.examples[r.IntN(uint64(len(n.examples)))].text...)
	}
	if len(n.choices) > 0 {
		k := r.IntN(uint64(len(n.choices)))
		for i := 0; i < len(n.choices); i++ { // skip null: it has no text form
			if c := &n.choices[(int(k)+i)%len(n.choices)]; !c.null {
				return append(dst, c.text...)
			}
		}
		return dst
	}
	if len(n.alts) > 0 {
		return g.text(dst, r, g.pickAlt(n, r, nil))
	}
	switch n.kind {
	case String:
		return n.str.gen(dst, r, false)
	case Integer:
		return g.appendInt(dst, n, r)
	case Number:
		return g.appendNumber(dst, n, r)
	case Boolean:
		return appendBool(dst, r)
	case Null:
		return dst
	case Array:
		return g.genArray(dst, r, id, n, nil, false)
	case Object:
		first := true
		need, left, budget := n.minOpt, n.optCount, n.maxOpt
		for i := range n.props {
			p := &n.props[i]
			include := p.required
			if !p.required {
				include = need >= left || budget != 0 && (g.optAlways || r.Uint64() < g.optThresh)
				left--
				if include {
					need--
					budget--
				}
			}
			if !include {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, p.key...)
			dst = append(dst, ',')
			dst = g.text(dst, r, p.node)
		}
		return dst
	}
	return g.genAny(dst, r, false)
}
