package oracle

import (
	"bytes"
	"unicode/utf8"
)

// An anchor is a literal whose presence makes a leak possible. Scanning
// looks for the anchor's pivot byte (its rarest byte in ordinary API
// traffic) with bytes.IndexByte, compares the literal around each hit, and
// only then runs the anchor's check, so a body without any pivot byte costs
// one vectorised pass per pivot and no allocation.
type anchor struct {
	lit   string
	pivot int // index of the pivot byte in lit
	// check confirms a hit of lit at body[at:]. It returns the kind (""
	// means the anchor's kind) and the span of the evidence, or ok false.
	check func(body []byte, at int) (kind string, lo, hi int, ok bool)
	kind  string
}

// group is the anchors that share one pivot byte. prev and next are the
// bytes any of its anchors allows just before and after the pivot (a set
// bit per byte value), so that most pivot hits are rejected with two
// lookups.
type group struct {
	pivot      byte
	anchors    []anchor
	prev, next byteSet
}

type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) addAll()         { s[0], s[1], s[2], s[3] = ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }

// newGroups groups anchors by the byte at their pivot; a literal's pivot
// is given by the marker character, which is the first occurrence of p in
// lit.
func newGroups(specs []anchorSpec) []group {
	var gs []group
	for _, s := range specs {
		idx := bytes.IndexByte([]byte(s.lit), s.pivot)
		if idx < 0 {
			panic("oracle: pivot " + string(s.pivot) + " not in anchor " + s.lit) // a bug in the tables, caught by tests
		}
		a := anchor{lit: s.lit, pivot: idx, check: s.check, kind: s.kind}
		found := false
		for i := range gs {
			if gs[i].pivot == s.pivot {
				gs[i].anchors = append(gs[i].anchors, a)
				found = true
				break
			}
		}
		if !found {
			gs = append(gs, group{pivot: s.pivot, anchors: []anchor{a}})
		}
	}
	for i := range gs {
		g := &gs[i]
		for _, a := range g.anchors {
			if a.pivot == 0 {
				g.prev.addAll()
			} else {
				g.prev.add(a.lit[a.pivot-1])
			}
			if a.pivot == len(a.lit)-1 {
				g.next.addAll()
			} else {
				g.next.add(a.lit[a.pivot+1])
			}
		}
	}
	return gs
}

type anchorSpec struct {
	lit   string
	pivot byte
	kind  string
	check func(body []byte, at int) (kind string, lo, hi int, ok bool)
}

// match is a confirmed hit.
type match struct {
	kind   string
	lo, hi int
}

// scan runs every group over body and returns the confirmed hit with the
// highest rank(kind), stopping early at a hit of rank >= stop.
func scan(body []byte, gs []group, rank func(string) int, stop int) (match, bool) {
	var best match
	bestRank := -1
	for gi := range gs {
		g := &gs[gi]
		for i := 0; i < len(body); {
			j := bytes.IndexByte(body[i:], g.pivot)
			if j < 0 {
				break
			}
			pos := i + j
			i = pos + 1
			if pos > 0 && !g.prev.has(body[pos-1]) || pos+1 < len(body) && !g.next.has(body[pos+1]) {
				continue
			}
			for ai := range g.anchors {
				a := &g.anchors[ai]
				at := pos - a.pivot
				end := at + len(a.lit)
				if at < 0 || end > len(body) || body[at] != a.lit[0] || body[end-1] != a.lit[len(a.lit)-1] ||
					string(body[at:end]) != a.lit {
					continue
				}
				kind, lo, hi := a.kind, at, end
				if a.check != nil {
					k, l, h, ok := a.check(body, at)
					if !ok {
						continue
					}
					if k != "" {
						kind = k
					}
					lo, hi = l, h
				}
				if r := rank(kind); r > bestRank {
					best, bestRank = match{kind, lo, hi}, r
					if r >= stop {
						return best, true
					}
				}
			}
		}
	}
	return best, bestRank >= 0
}

// hasAt reports whether body holds s at offset at.
func hasAt(body []byte, at int, s string) bool {
	return at >= 0 && at+len(s) <= len(body) && string(body[at:at+len(s)]) == s
}

// hasBefore reports whether body holds s just before offset at.
func hasBefore(body []byte, at int, s string) bool { return hasAt(body, at-len(s), s) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func isWord(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// digitsAt returns the number of digits at body[at:].
func digitsAt(body []byte, at int) int {
	n := 0
	for at+n < len(body) && isDigit(body[at+n]) {
		n++
	}
	return n
}

// lineStart returns the start of the line holding offset at: just after
// the previous LF, or after a JSON-escaped "\n", at most max bytes back.
func lineStart(body []byte, at, max int) int {
	lim := at - max
	if lim < 0 {
		lim = 0
	}
	for i := at - 1; i >= lim; i-- {
		if body[i] == '\n' || body[i] == '\r' {
			return i + 1
		}
		if body[i] == 'n' && i > 0 && body[i-1] == '\\' {
			return i + 1
		}
	}
	return lim
}

// lineEnd returns the end of the line holding offset at (the next LF, CR
// or JSON-escaped "\n"), at most max bytes on.
func lineEnd(body []byte, at, max int) int {
	lim := at + max
	if lim > len(body) {
		lim = len(body)
	}
	for i := at; i < lim; i++ {
		if body[i] == '\n' || body[i] == '\r' || (body[i] == '\\' && i+1 < len(body) && (body[i+1] == 'n' || body[i+1] == 'r')) {
			return i
		}
	}
	return lim
}

// MaxEvidence is the most bytes of evidence InfoLeak and Injection return.
const MaxEvidence = 200

// snippet returns the evidence for a match at body[lo:hi]: its line,
// trimmed to MaxEvidence bytes around the match, with control bytes as
// spaces and invalid UTF-8 as '?'.
func snippet(body []byte, lo, hi int) string {
	ls, le := lineStart(body, lo, MaxEvidence), lineEnd(body, hi, MaxEvidence)
	if le-ls > MaxEvidence {
		// keep the match (its start, if it is longer than the evidence),
		// with up to 60 bytes of context before it
		start := lo - 60
		if hi-start > MaxEvidence {
			start = hi - MaxEvidence
		}
		if start > lo {
			start = lo
		}
		if start < ls {
			start = ls
		}
		end := start + MaxEvidence
		if end > le {
			end = le
			start = end - MaxEvidence
		}
		ls, le = start, end
	}
	for ls < le && !utf8.RuneStart(body[ls]) {
		ls++
	}
	s := body[ls:le]
	// drop a rune cut at the end
	if k := len(s); k > 0 {
		back := 0
		for back < 3 && back < k && !utf8.RuneStart(s[k-1-back]) {
			back++
		}
		if back < k && !utf8.FullRune(s[k-1-back:]) {
			s = s[:k-1-back]
		}
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < ' ' || c == 0x7f {
				c = ' '
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			out = append(out, '?')
			i++
			continue
		}
		out = append(out, s[i:i+n]...)
		i += n
	}
	return string(bytes.TrimSpace(out))
}
