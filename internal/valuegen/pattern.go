package valuegen

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"

	"github.com/barrage-dev/barrage/internal/template"
)

// A pattern is compiled into a small program of reNodes that generates
// strings from the regular expression's language: literals, classes,
// repetitions (unbounded ones capped), alternations and groups. Anchors and
// word boundaries generate nothing; whether that still matches is checked by
// sampling at Compile time.

type reOp uint8

const (
	reEmpty reOp = iota
	reLit
	reClass
	reConcat
	reAlt
	reRepeat
)

type reNode struct {
	op       reOp
	lit      []rune
	cls      *runeClass
	subs     []int32
	min, max int
}

// runeSet is a set of runes as inclusive [lo, hi] pairs, with its size.
type runeSet struct {
	ranges []rune
	total  uint64
}

func (s *runeSet) add(lo, hi rune) {
	if lo > hi {
		return
	}
	s.ranges = append(s.ranges, lo, hi)
	s.total += uint64(hi-lo) + 1
}

func (s *runeSet) pick(r *template.Rand) rune {
	k := r.IntN(s.total)
	for i := 0; i+1 < len(s.ranges); i += 2 {
		n := uint64(s.ranges[i+1]-s.ranges[i]) + 1
		if k < n {
			return s.ranges[i] + rune(k)
		}
		k -= n
	}
	return s.ranges[0]
}

// runeClass picks printable ASCII when the class has some, mostly; then
// other BMP runes; astral runes only when there is nothing else.
// Surrogates are never picked.
type runeClass struct {
	ascii, bmp, all runeSet
}

func newRuneClass(pairs []rune) *runeClass {
	c := &runeClass{}
	clip := func(dst *runeSet, lo, hi, clo, chi rune) {
		dst.add(max(lo, clo), min(hi, chi))
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		lo, hi := pairs[i], pairs[i+1]
		clip(&c.ascii, lo, hi, 0x20, 0x7e)
		clip(&c.bmp, lo, hi, 0, 0xd7ff)
		clip(&c.bmp, lo, hi, 0xe000, 0xfffd)
		clip(&c.all, lo, hi, 0, 0xd7ff)
		clip(&c.all, lo, hi, 0xe000, utf8.MaxRune)
	}
	return c
}

func (c *runeClass) pick(r *template.Rand) rune {
	if c.ascii.total > 0 && (c.ascii.total == c.bmp.total || r.IntN(10) != 0) {
		return c.ascii.pick(r)
	}
	if c.bmp.total > 0 {
		return c.bmp.pick(r)
	}
	return c.all.pick(r)
}

var printableClass = newRuneClass([]rune{0x20, 0x7e})

type reProg struct {
	nodes []reNode
	extra int // added to the minimum of an unbounded repetition, at most
}

const maxPatternNodes = 4096

// compilePattern parses a JSON Schema pattern (ECMA-262 syntax as far as Go's
// RE2 syntax agrees; \uXXXX escapes are accepted) into a generator program.
// extra caps unbounded repetitions at min+extra.
func compilePattern(pattern string, extra int) (*reProg, *regexp.Regexp, error) {
	goPat := goRegexp(pattern)
	re, err := regexp.Compile(goPat)
	if err != nil {
		return nil, nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	tree, err := syntax.Parse(goPat, syntax.Perl)
	if err != nil {
		return nil, nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	p := &reProg{extra: extra}
	if _, err := p.add(tree); err != nil {
		return nil, nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return p, re, nil
}

// goRegexp rewrites ECMA-262 \uXXXX escapes into Go's \x{XXXX}.
func goRegexp(p string) string {
	out := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' && i+5 < len(p) && isHex4(p[i+2:i+6]) {
				out = append(out, `\x{`...)
				out = append(out, p[i+2:i+6]...)
				out = append(out, '}')
				i += 5
				continue
			}
			out = append(out, p[i], p[i+1])
			i++
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (p *reProg) push(n reNode) (int32, error) {
	if len(p.nodes) >= maxPatternNodes {
		return 0, fmt.Errorf("more than %d regexp nodes", maxPatternNodes)
	}
	p.nodes = append(p.nodes, n)
	return int32(len(p.nodes) - 1), nil
}

func (p *reProg) add(re *syntax.Regexp) (int32, error) {
	switch re.Op {
	case syntax.OpNoMatch:
		return 0, fmt.Errorf("matches nothing")
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return p.push(reNode{op: reEmpty})
	case syntax.OpLiteral:
		return p.push(reNode{op: reLit, lit: re.Rune})
	case syntax.OpCharClass:
		c := newRuneClass(re.Rune)
		if c.all.total == 0 {
			return 0, fmt.Errorf("empty character class")
		}
		return p.push(reNode{op: reClass, cls: c})
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return p.push(reNode{op: reClass, cls: printableClass})
	case syntax.OpCapture:
		return p.add(re.Sub[0])
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		case syntax.OpQuest:
			lo, hi = 0, 1
		}
		if hi < 0 {
			hi = lo + p.extra
		}
		sub, err := p.add(re.Sub[0])
		if err != nil {
			return 0, err
		}
		return p.push(reNode{op: reRepeat, subs: []int32{sub}, min: lo, max: hi})
	case syntax.OpConcat, syntax.OpAlternate:
		subs := make([]int32, 0, len(re.Sub))
		for _, s := range re.Sub {
			i, err := p.add(s)
			if err != nil {
				return 0, err
			}
			subs = append(subs, i)
		}
		op := reConcat
		if re.Op == syntax.OpAlternate {
			op = reAlt
		}
		return p.push(reNode{op: op, subs: subs})
	}
	return 0, fmt.Errorf("unsupported regexp operator %v", re.Op)
}

// gen appends a string from node i's language and returns it with the number
// of runes written.
func (p *reProg) gen(dst []byte, r *template.Rand, i int32, js bool) ([]byte, int) {
	n := &p.nodes[i]
	switch n.op {
	case reLit:
		for _, c := range n.lit {
			dst = appendRune(dst, c, js)
		}
		return dst, len(n.lit)
	case reClass:
		return appendRune(dst, n.cls.pick(r), js), 1
	case reConcat:
		total := 0
		for _, s := range n.subs {
			var k int
			dst, k = p.gen(dst, r, s, js)
			total += k
		}
		return dst, total
	case reAlt:
		return p.gen(dst, r, n.subs[r.IntN(uint64(len(n.subs)))], js)
	case reRepeat:
		count := n.min + int(r.IntN(uint64(n.max-n.min+1)))
		total := 0
		for j := 0; j < count; j++ {
			var k int
			dst, k = p.gen(dst, r, n.subs[0], js)
			total += k
		}
		return dst, total
	}
	return dst, 0
}

func (p *reProg) root() int32 { return int32(len(p.nodes) - 1) }
