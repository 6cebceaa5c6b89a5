package template

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind says what a Segment renders.
type Kind uint8

// Segment kinds.
const (
	// KindText renders Segment.Text as is.
	KindText Kind = iota + 1
	// KindInt renders a uniform random integer in [Segment.Min, Segment.Max].
	KindInt
	// KindUUID renders a random version-4 UUID.
	KindUUID
	// KindPick renders one of Segment.Options, uniformly.
	KindPick
	// KindSeq renders the sequence number passed to Append.
	KindSeq
)

// String returns the generator name ("text" for KindText).
func (k Kind) String() string {
	switch k {
	case KindText:
		return "text"
	case KindInt:
		return "int"
	case KindUUID:
		return "uuid"
	case KindPick:
		return "pick"
	case KindSeq:
		return "seq"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Segment is one piece of a parsed template: literal text or one generator.
type Segment struct {
	Kind Kind
	// Text is the literal text of a KindText segment, unescaped.
	Text string
	// Min and Max bound a KindInt segment (inclusive, Min <= Max).
	Min, Max int64
	// Options are the choices of a KindPick segment (at least one).
	Options []string
}

// String returns template source that parses back to s alone: quoted text
// for KindText (see Quote), or the generator in canonical form, such as
// {{int 1 5}} or {{pick a "b c"}}.
func (s Segment) String() string {
	switch s.Kind {
	case KindText:
		return Quote(s.Text)
	case KindInt:
		return "{{int " + strconv.FormatInt(s.Min, 10) + " " + strconv.FormatInt(s.Max, 10) + "}}"
	case KindUUID:
		return "{{uuid}}"
	case KindSeq:
		return "{{seq}}"
	case KindPick:
		var b strings.Builder
		b.WriteString("{{pick")
		for _, o := range s.Options {
			b.WriteByte(' ')
			b.WriteString(quoteOption(o))
		}
		b.WriteString("}}")
		return b.String()
	}
	return ""
}

// quoteOption writes a pick option bare when that parses back to the same
// option, and as a Go-quoted string otherwise.
func quoteOption(o string) string {
	if o == "" {
		return strconv.Quote(o)
	}
	for i := 0; i < len(o); i++ {
		c := o[i]
		if c <= ' ' || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '{' || c == '}' || c == 0x7f {
			return strconv.Quote(o)
		}
	}
	return o
}

// Quote returns template source that renders text literally: every "{{"
// becomes {{"{{"}}, and a trailing "{" becomes {{"{"}} so that the result
// can be followed by a generator. Quoted pieces may be concatenated with
// each other and with generator source.
func Quote(text string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		switch {
		case strings.HasPrefix(text[i:], "{{"):
			b.WriteString(`{{"{{"}}`)
			i++
		case text[i] == '{' && i == len(text)-1:
			b.WriteString(`{{"{"}}`)
		default:
			b.WriteByte(text[i])
		}
	}
	return b.String()
}

// segment is a Segment plus what rendering needs precomputed.
type segment struct {
	Segment
	// span is Max-Min for KindInt, as an unsigned distance.
	span uint64
}

// Template is a parsed value template. The zero value renders nothing.
type Template struct {
	src  string
	segs []segment
	// static is the whole output when no segment is a generator.
	static   string
	isStatic bool
}

// String returns the source the template was parsed from.
func (t *Template) String() string { return t.src }

// Static reports whether t has no generators, so every rendering is the
// same.
func (t *Template) Static() bool { return t.isStatic || len(t.segs) == 0 }

// Number reports whether t is exactly one {{int A B}} or {{seq}} generator
// and nothing else, so that every rendering is a decimal integer.
func (t *Template) Number() bool {
	return len(t.segs) == 1 && (t.segs[0].Kind == KindInt || t.segs[0].Kind == KindSeq)
}

// Segments returns the pieces of t in order. Adjacent text is merged into
// one KindText segment. The result is a copy.
func (t *Template) Segments() []Segment {
	out := make([]Segment, len(t.segs))
	for i, s := range t.segs {
		out[i] = s.Segment
		if s.Options != nil {
			out[i].Options = append([]string(nil), s.Options...)
		}
	}
	return out
}

// MaxLen returns an upper bound, in bytes, of the length of any rendering
// of t. Use it to size the buffer passed to Append.
func (t *Template) MaxLen() int {
	n := 0
	for _, s := range t.segs {
		switch s.Kind {
		case KindText:
			n += len(s.Text)
		case KindInt:
			n += 20 // len("-9223372036854775808")
		case KindUUID:
			n += 36
		case KindSeq:
			n += 20 // len("18446744073709551615")
		case KindPick:
			m := 0
			for _, o := range s.Options {
				m = max(m, len(o))
			}
			n += m
		}
	}
	return n
}

// Append renders t and appends the result to dst. It draws random numbers
// from r (which may be nil only when t is Static) and renders {{seq}} as seq.
// The output is a function of r's state and seq alone. Append does not
// allocate unless dst has too little capacity.
func (t *Template) Append(dst []byte, r *Rand, seq uint64) []byte {
	if t == nil {
		return dst
	}
	if t.isStatic {
		return append(dst, t.static...)
	}
	for i := range t.segs {
		s := &t.segs[i]
		switch s.Kind {
		case KindText:
			dst = append(dst, s.Text...)
		case KindInt:
			var v uint64
			if s.span == math.MaxUint64 {
				v = r.Uint64()
			} else {
				v = r.IntN(s.span + 1)
			}
			dst = strconv.AppendInt(dst, int64(uint64(s.Min)+v), 10)
		case KindUUID:
			dst = appendUUID(dst, r.Uint64(), r.Uint64())
		case KindPick:
			dst = append(dst, s.Options[r.IntN(uint64(len(s.Options)))]...)
		case KindSeq:
			dst = strconv.AppendUint(dst, seq, 10)
		}
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendUUID appends the version-4, RFC 9562 variant UUID made of the 128
// bits hi:lo in canonical form (8-4-4-4-12 lower-case hex digits).
func appendUUID(dst []byte, hi, lo uint64) []byte {
	hi = hi&^(0xf<<12) | 0x4<<12 // version 4: bits 48..51 of the UUID
	lo = lo&^(0x3<<62) | 0x2<<62 // variant 10x: bits 64..65
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		var b byte
		if i < 8 {
			b = byte(hi >> (56 - 8*i))
		} else {
			b = byte(lo >> (56 - 8*(i-8)))
		}
		dst = append(dst, hexDigits[b>>4], hexDigits[b&0xf])
	}
	return dst
}

// SyntaxError is a template syntax error.
type SyntaxError struct {
	// Offset is the byte offset in the template source where the problem is.
	Offset int
	// Msg describes the problem.
	Msg string
}

// Error returns "template: offset N: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("template: offset %d: %s", e.Offset, e.Msg)
}

func errAt(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// word is one argument inside {{ }}.
type word struct {
	text   string
	off    int  // byte offset of the word in the source
	quoted bool // written as a double-quoted string
}

// Parse parses a template. Errors are *SyntaxError.
func Parse(src string) (*Template, error) {
	t := &Template{src: src}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			t.segs = append(t.segs, segment{Segment: Segment{Kind: KindText, Text: text.String()}})
			text.Reset()
		}
	}
	for i := 0; i < len(src); {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			text.WriteString(src[i:])
			break
		}
		text.WriteString(src[i : i+j])
		start := i + j
		words, end, err := scanAction(src, start)
		if err != nil {
			return nil, err
		}
		i = end
		if len(words) == 0 {
			return nil, errAt(start, "empty {{ }}; want a generator such as {{int 1 10}} (write {{\"{{\"}} for a literal \"{{\")")
		}
		if words[0].quoted {
			if len(words) > 1 {
				return nil, errAt(words[1].off, "a quoted string must be alone inside {{ }}")
			}
			text.WriteString(words[0].text)
			continue
		}
		seg, err := generator(words)
		if err != nil {
			return nil, err
		}
		flush()
		t.segs = append(t.segs, seg)
	}
	flush()
	t.isStatic = true
	for _, s := range t.segs {
		if s.Kind != KindText {
			t.isStatic = false
		}
	}
	if t.isStatic && len(t.segs) == 1 {
		t.static = t.segs[0].Text
	}
	return t, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// scanAction splits the action starting with "{{" at src[start:] into words
// and returns the offset just past its closing "}}".
func scanAction(src string, start int) ([]word, int, error) {
	var words []word
	p := start + 2
	for {
		for p < len(src) && isSpace(src[p]) {
			p++
		}
		if p >= len(src) {
			return nil, 0, errAt(start, "unclosed {{: missing }}")
		}
		if strings.HasPrefix(src[p:], "}}") {
			return words, p + 2, nil
		}
		if src[p] == '"' {
			w, end, err := scanQuoted(src, p)
			if err != nil {
				return nil, 0, err
			}
			if end < len(src) && !isSpace(src[end]) && !strings.HasPrefix(src[end:], "}}") {
				return nil, 0, errAt(end, "want a space or }} after a quoted string")
			}
			words = append(words, w)
			p = end
			continue
		}
		q := p
		for q < len(src) && !isSpace(src[q]) && !strings.HasPrefix(src[q:], "}}") {
			if strings.HasPrefix(src[q:], "{{") {
				return nil, 0, errAt(q, "unexpected {{ inside {{ }} (missing }}?)")
			}
			q++
		}
		words = append(words, word{text: src[p:q], off: p})
		p = q
	}
}

// scanQuoted reads the double-quoted string starting at src[p] and returns
// it unescaped and the offset just past its closing quote.
func scanQuoted(src string, p int) (word, int, error) {
	var b []byte
	i := p + 1
	for {
		if i >= len(src) {
			return word{}, 0, errAt(p, "unterminated quoted string")
		}
		switch c := src[i]; c {
		case '"':
			return word{text: string(b), off: p, quoted: true}, i + 1, nil
		case '\\':
			v, multibyte, tail, err := strconv.UnquoteChar(src[i:], '"')
			if err != nil {
				return word{}, 0, errAt(i, "invalid escape in quoted string")
			}
			if v < utf8.RuneSelf || !multibyte {
				b = append(b, byte(v))
			} else {
				b = utf8.AppendRune(b, v)
			}
			i = len(src) - len(tail)
		default:
			b = append(b, c)
			i++
		}
	}
}

// generator builds the segment for the action words (words[0] is a bare
// generator name).
func generator(words []word) (segment, error) {
	name, args := words[0], words[1:]
	switch name.text {
	case "int":
		if len(args) != 2 {
			if len(args) > 2 {
				return segment{}, errAt(args[2].off, "int takes 2 arguments, got %d: {{int MIN MAX}}", len(args))
			}
			return segment{}, errAt(name.off, "int takes 2 arguments, got %d: {{int MIN MAX}}", len(args))
		}
		var v [2]int64
		for k, a := range args {
			n, err := strconv.ParseInt(a.text, 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
					return segment{}, errAt(a.off, "int: %s is out of the int64 range", strconv.Quote(a.text))
				}
				return segment{}, errAt(a.off, "int: %s is not an integer", strconv.Quote(a.text))
			}
			v[k] = n
		}
		if v[0] > v[1] {
			return segment{}, errAt(args[0].off, "int: min %d is greater than max %d", v[0], v[1])
		}
		return segment{
			Segment: Segment{Kind: KindInt, Min: v[0], Max: v[1]},
			span:    uint64(v[1]) - uint64(v[0]),
		}, nil
	case "uuid", "seq":
		if len(args) > 0 {
			return segment{}, errAt(args[0].off, "%s takes no arguments", name.text)
		}
		k := KindUUID
		if name.text == "seq" {
			k = KindSeq
		}
		return segment{Segment: Segment{Kind: k}}, nil
	case "pick":
		if len(args) == 0 {
			return segment{}, errAt(name.off, "pick needs at least one option: {{pick a b \"c d\"}}")
		}
		opts := make([]string, len(args))
		for k, a := range args {
			opts[k] = a.text
		}
		return segment{Segment: Segment{Kind: KindPick, Options: opts}}, nil
	}
	return segment{}, errAt(name.off, "unknown generator %s; want int, uuid, pick or seq", strconv.Quote(name.text))
}
