package shop

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// A strict JSON reader for request bodies. encoding/json is lenient where a
// strict server must not be: it matches object keys case-insensitively,
// keeps the last of duplicate keys, replaces invalid UTF-8 and lone
// surrogates with U+FFFD, and decodes 5.0 into an int. This reader accepts
// RFC 8259 JSON only, rejects duplicate keys at any depth, lone surrogates
// and invalid UTF-8, and keeps number literals as text so the caller decides
// what an integer is.

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// jsonValue is a decoded value. Only scalars and the members of the top-level
// object are kept; nested containers are checked and dropped.
type jsonValue struct {
	kind jsonKind
	// text is a string's decoded value, or a number's literal.
	text string
	// integer: a number literal without a fraction or an exponent.
	integer bool
}

// jsonMember is one member of an object, in document order.
type jsonMember struct {
	key string
	val jsonValue
}

// jsonErrKind says what made a body unreadable.
type jsonErrKind uint8

const (
	jsonErrSyntax    jsonErrKind = iota // not well-formed JSON
	jsonErrEncoding                     // invalid UTF-8 or a lone surrogate
	jsonErrDuplicate                    // a key twice in one object
	jsonErrDepth                        // nested deeper than maxJSONDepth
)

// jsonError is a body the reader rejected.
type jsonError struct {
	kind   jsonErrKind
	offset int // byte offset of the problem
	msg    string
}

func (e *jsonError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// maxJSONDepth bounds nesting so a hostile body cannot exhaust the stack.
const maxJSONDepth = 32

// parseJSON reads one JSON document. When the document is an object its
// members are returned; any other top-level value is returned in top.
func parseJSON(b []byte) (top jsonValue, members []jsonMember, err error) {
	p := jsonParser{b: b}
	p.ws()
	top, members, err = p.value(0, true)
	if err != nil {
		return jsonValue{}, nil, err
	}
	p.ws()
	if p.i != len(p.b) {
		return jsonValue{}, nil, p.fail(jsonErrSyntax, "data after the JSON value")
	}
	return top, members, nil
}

type jsonParser struct {
	b []byte
	i int
}

func (p *jsonParser) fail(k jsonErrKind, msg string) *jsonError {
	return &jsonError{kind: k, offset: p.i, msg: msg}
}

func (p *jsonParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value reads a value at p.i (whitespace already skipped). keep asks for the
// members of an object.
func (p *jsonParser) value(depth int, keep bool) (jsonValue, []jsonMember, error) {
	if p.i >= len(p.b) {
		return jsonValue{}, nil, p.fail(jsonErrSyntax, "unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		m, err := p.object(depth+1, keep)
		return jsonValue{kind: jsonObject}, m, err
	case c == '[':
		return jsonValue{kind: jsonArray}, nil, p.array(depth + 1)
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, text: s}, nil, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return jsonValue{kind: jsonBool, text: "true"}, nil, p.literal("true")
	case c == 'f':
		return jsonValue{kind: jsonBool, text: "false"}, nil, p.literal("false")
	case c == 'n':
		return jsonValue{kind: jsonNull}, nil, p.literal("null")
	default:
		return jsonValue{}, nil, p.fail(jsonErrSyntax, "unexpected character")
	}
}

func (p *jsonParser) literal(want string) error {
	if !strings.HasPrefix(string(p.b[p.i:min(len(p.b), p.i+len(want))]), want) {
		return p.fail(jsonErrSyntax, "invalid literal")
	}
	p.i += len(want)
	return nil
}

func (p *jsonParser) object(depth int, keep bool) ([]jsonMember, error) {
	if depth > maxJSONDepth {
		return nil, p.fail(jsonErrDepth, "nested too deeply")
	}
	p.i++ // '{'
	var members []jsonMember
	seen := map[string]struct{}{}
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return members, nil
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail(jsonErrSyntax, "expected a string key")
		}
		at := p.i
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := seen[key]; dup {
			return nil, &jsonError{kind: jsonErrDuplicate, offset: at, msg: "duplicate key"}
		}
		seen[key] = struct{}{}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail(jsonErrSyntax, "expected ':' after a key")
		}
		p.i++
		p.ws()
		v, _, err := p.value(depth, false)
		if err != nil {
			return nil, err
		}
		if keep {
			members = append(members, jsonMember{key: key, val: v})
		}
		p.ws()
		if p.i >= len(p.b) {
			return nil, p.fail(jsonErrSyntax, "unexpected end of input")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return members, nil
		default:
			return nil, p.fail(jsonErrSyntax, "expected ',' or '}'")
		}
	}
}

func (p *jsonParser) array(depth int) error {
	if depth > maxJSONDepth {
		return p.fail(jsonErrDepth, "nested too deeply")
	}
	p.i++ // '['
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.ws()
		if _, _, err := p.value(depth, false); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.b) {
			return p.fail(jsonErrSyntax, "unexpected end of input")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.fail(jsonErrSyntax, "expected ',' or ']'")
		}
	}
}

// str reads a string at p.i (on the opening quote) and returns its value.
func (p *jsonParser) str() (string, error) {
	p.i++ // '"'
	start := p.i
	// Fast path: no escapes.
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			s := string(p.b[start:p.i])
			p.i++
			return s, nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", p.fail(jsonErrSyntax, "control character in a string")
		}
		if c < utf8.RuneSelf {
			p.i++
			continue
		}
		r, n := utf8.DecodeRune(p.b[p.i:])
		if r == utf8.RuneError && n == 1 {
			return "", p.fail(jsonErrEncoding, "invalid UTF-8")
		}
		p.i += n
	}
	var sb strings.Builder
	sb.Write(p.b[start:p.i])
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return sb.String(), nil
		case c < 0x20:
			return "", p.fail(jsonErrSyntax, "control character in a string")
		case c == '\\':
			if err := p.escape(&sb); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
			p.i++
		default:
			r, n := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && n == 1 {
				return "", p.fail(jsonErrEncoding, "invalid UTF-8")
			}
			sb.Write(p.b[p.i : p.i+n])
			p.i += n
		}
	}
	return "", p.fail(jsonErrSyntax, "unterminated string")
}

// controlEscapes maps the letter of \b \f \n \r \t to its byte.
var controlEscapes = [256]byte{'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// escape reads one escape sequence at p.i (on the backslash).
func (p *jsonParser) escape(sb *strings.Builder) error {
	if p.i+1 >= len(p.b) {
		return p.fail(jsonErrSyntax, "unterminated string")
	}
	switch c := p.b[p.i+1]; c {
	case '"', '\\', '/':
		sb.WriteByte(c)
		p.i += 2
		return nil
	case 'b', 'f', 'n', 'r', 't':
		sb.WriteByte(controlEscapes[c])
		p.i += 2
		return nil
	case 'u':
	default:
		return p.fail(jsonErrSyntax, "invalid escape")
	}
	r1, ok := p.hex4(p.i + 2)
	if !ok {
		return p.fail(jsonErrSyntax, "invalid \\u escape")
	}
	switch {
	case utf16.IsSurrogate(r1) && r1 < 0xdc00: // high surrogate: a low one must follow
		r2, ok := rune(0), false
		if p.i+7 < len(p.b) && p.b[p.i+6] == '\\' && p.b[p.i+7] == 'u' {
			r2, ok = p.hex4(p.i + 8)
		}
		if !ok || r2 < 0xdc00 || r2 > 0xdfff {
			return p.fail(jsonErrEncoding, "lone surrogate")
		}
		sb.WriteRune(utf16.DecodeRune(r1, r2))
		p.i += 12
	case utf16.IsSurrogate(r1):
		return p.fail(jsonErrEncoding, "lone surrogate")
	default:
		sb.WriteRune(r1)
		p.i += 6
	}
	return nil
}

func (p *jsonParser) hex4(at int) (rune, bool) {
	if at+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[at : at+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() (jsonValue, []jsonMember, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.b[p.i] == '-' {
		p.i++
	}
	if p.i < len(p.b) && p.b[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return jsonValue{}, nil, p.fail(jsonErrSyntax, "invalid number")
	}
	integer := true
	if p.i < len(p.b) && p.b[p.i] == '.' {
		integer = false
		p.i++
		if digits() == 0 {
			return jsonValue{}, nil, p.fail(jsonErrSyntax, "invalid number")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return jsonValue{}, nil, p.fail(jsonErrSyntax, "invalid number")
		}
	}
	return jsonValue{kind: jsonNumber, text: string(p.b[start:p.i]), integer: integer}, nil, nil
}
