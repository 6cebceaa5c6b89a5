package oracle

import (
	"bytes"
	"strconv"
)

// Injection detectors: the kind of probe that was sent.
const (
	DetectSQL           = "sql"
	DetectNoSQL         = "nosql"
	DetectPathTraversal = "path-traversal"
	DetectCommand       = "command"
	DetectTemplate      = "template"
	DetectXSS           = "xss"
)

// Detectors lists the detectors Injection knows.
var Detectors = []string{DetectSQL, DetectNoSQL, DetectPathTraversal, DetectCommand, DetectTemplate, DetectXSS}

// Injection reports whether body (the response to a request that carried
// probe) shows that the probe was interpreted, and returns the evidence
// (at most [MaxEvidence] bytes). detector says what the probe was:
//
//   - "sql": a database syntax error — the kind a parameterised query
//     cannot produce from a value: MySQL "error in your SQL syntax",
//     PostgreSQL "syntax error at or near" / "unterminated quoted string",
//     SQLite `near "x": syntax error` / "unrecognized token", SQL Server
//     "Unclosed quotation mark" / "Incorrect syntax near", Oracle
//     ORA-00933, ORA-01756 and other parse errors, SQLSTATE class 42. Type
//     errors ("invalid input syntax for type integer") are not evidence:
//     they are what a safe query answers to a string in a number field.
//   - "nosql": MongoDB rejecting an operator it was not meant to see
//     ("unknown operator: $…", "unknown top level operator") or a failed
//     $where evaluation.
//   - "path-traversal": /etc/passwd ("root:x:0:0:") or win.ini
//     ("; for 16-bit app support") contents.
//   - "command": output of id ("uid=0(root) gid=0(root)"), or the value
//     of an arithmetic expansion in the probe ($((7*191)) → 1337).
//   - "template": the value of the probe's arithmetic ({{7*191}},
//     ${7*191}, <%= 7*191 %>, #{7*191}, @(7*191)) with the marker around
//     it (the letters, digits, '_' and '-' next to the expression in the
//     probe, up to 16 bytes on each side).
//     Probes should wrap the expression in a unique marker
//     ("zq{{7*191}}zq"); without one the bare product must appear as a
//     whole number of 4 or more digits.
//   - "xss": the probe's markup (from its first '<' to its last '>')
//     echoed unescaped in a response whose Content-Type is HTML (text/html,
//     application/xhtml+xml, image/svg+xml).
//
// Evidence that is only the probe echoed back does not count. An unknown
// detector reports false. Injection does not allocate unless it finds
// evidence.
func Injection(detector string, probe []byte, contentType string, body []byte) (evidence string, ok bool) {
	switch detector {
	case DetectSQL:
		m, ok := scan(body, sqlInjectGroups, func(string) int { return 1 }, 1)
		if !ok || echoed(probe, body, m.lo, m.hi) {
			return "", false
		}
		return snippet(body, m.lo, m.hi), true
	case DetectNoSQL:
		for _, sig := range []string{"unknown operator: $", "unknown top level operator: $", "JavaScript execution failed"} {
			if i := bytes.Index(body, []byte(sig)); i >= 0 && !echoed(probe, body, i, i+len(sig)) {
				return snippet(body, i, i+len(sig)), true
			}
		}
		// a $where clause that failed to evaluate: a JavaScript error next to it
		if bytes.Contains(body, []byte("$where")) {
			for _, sig := range []string{"SyntaxError", "ReferenceError"} {
				if i := bytes.Index(body, []byte(sig)); i >= 0 && !echoed(probe, body, i, i+len(sig)) {
					return snippet(body, i, i+len(sig)), true
				}
			}
		}
	case DetectPathTraversal:
		for _, s := range []string{"root:x:0:0:", "root:*:0:0:", "root::0:0:", "; for 16-bit app support", "[boot loader]"} {
			if i := bytes.Index(body, []byte(s)); i >= 0 && !echoed(probe, body, i, i+len(s)) {
				return snippet(body, i, i+len(s)), true
			}
		}
	case DetectCommand:
		if lo, hi, ok := idOutput(body); ok && !echoed(probe, body, lo, hi) {
			return snippet(body, lo, hi), true
		}
		if lo, hi, ok := arithmetic(probe, body); ok {
			return snippet(body, lo, hi), true
		}
	case DetectTemplate:
		if lo, hi, ok := arithmetic(probe, body); ok {
			return snippet(body, lo, hi), true
		}
	case DetectXSS:
		if !htmlType(contentType) {
			return "", false
		}
		open, close := bytes.IndexByte(probe, '<'), bytes.LastIndexByte(probe, '>')
		if open < 0 || close <= open+1 || !isLetter(probe[open+1]) && probe[open+1] != '/' && probe[open+1] != '!' {
			return "", false
		}
		markup := probe[open : close+1]
		if len(markup) < minMarkup {
			return "", false
		}
		if i := bytes.Index(body, markup); i >= 0 {
			return snippet(body, i, i+len(markup)), true
		}
	}
	return "", false
}

// echoed reports whether body[lo:hi] is only the probe reflected: the
// probe holds that text, or the match lies inside a copy of the probe.
func echoed(probe, body []byte, lo, hi int) bool {
	if len(probe) == 0 {
		return false
	}
	if bytes.Contains(probe, body[lo:hi]) {
		return true
	}
	for off := 0; off < len(body); {
		i := bytes.Index(body[off:], probe)
		if i < 0 {
			return false
		}
		i += off
		if i <= lo && hi <= i+len(probe) {
			return true
		}
		off = i + 1
	}
	return false
}

// idOutput finds `uid=N(name) gid=N(`.
func idOutput(body []byte) (int, int, bool) {
	for off := 0; off < len(body); {
		i := bytes.Index(body[off:], []byte("uid="))
		if i < 0 {
			return 0, 0, false
		}
		i += off
		off = i + 1
		k := i + 4
		d := digitsAt(body, k)
		if d == 0 || byteAt(body, k+d) != '(' {
			continue
		}
		k += d + 1
		c := bytes.IndexByte(body[k:min(len(body), k+64)], ')')
		if c < 0 {
			continue
		}
		k += c + 1
		if hasAt(body, k, " gid=") && digitsAt(body, k+5) > 0 && byteAt(body, k+5+digitsAt(body, k+5)) == '(' {
			return i, k + 5 + digitsAt(body, k+5), true
		}
	}
	return 0, 0, false
}

func htmlType(ct string) bool {
	for i := 0; i < len(ct); i++ {
		if ct[i] == ';' {
			ct = ct[:i]
			break
		}
	}
	for len(ct) > 0 && (ct[0] == ' ' || ct[0] == '\t') {
		ct = ct[1:]
	}
	for len(ct) > 0 && (ct[len(ct)-1] == ' ' || ct[len(ct)-1] == '\t') {
		ct = ct[:len(ct)-1]
	}
	return equalFold(ct, "text/html") || equalFold(ct, "application/xhtml+xml") || equalFold(ct, "image/svg+xml")
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// minMarkup is the shortest XSS probe markup Injection looks for: shorter
// tags (<b>, <p>) occur in pages by themselves.
const minMarkup = 12

// maxContext is the most marker bytes (letters, digits, '_', '-') on each
// side of an expression that arithmetic expects around the product.
const maxContext = 16

// exprDelims are template and shell expression delimiters, in
// matching order; longer first.
var exprDelims = []struct{ open, close string }{
	{"$((", "))"}, {"{{", "}}"}, {"${", "}"}, {"#{", "}"}, {"*{", "}"}, {"<%=", "%>"}, {"<%", "%>"}, {"@(", ")"}, {"[[", "]]"}, {"{", "}"},
}

// arithmetic looks in probe for expressions A*B inside template or shell
// delimiters and in body for their evaluated product with the probe's
// literal context around it. It returns the span of the rendered text.
func arithmetic(probe, body []byte) (int, int, bool) {
	for off := 0; off < len(probe); {
		star := bytes.IndexByte(probe[off:], '*')
		if star < 0 {
			return 0, 0, false
		}
		star += off
		off = star + 1
		// digits on both sides, white space allowed
		l := star
		for l > 0 && probe[l-1] == ' ' {
			l--
		}
		a0 := l
		for a0 > 0 && isDigit(probe[a0-1]) {
			a0--
		}
		r := star + 1
		for r < len(probe) && probe[r] == ' ' {
			r++
		}
		b1 := r + digitsAt(probe, r)
		if a0 == l || b1 == r || l-a0 > 9 || b1-r > 9 {
			continue
		}
		a, b := parseDigits(probe[a0:l]), parseDigits(probe[r:b1])
		// the delimiters around the expression
		e0, e1 := -1, -1
		for _, d := range exprDelims {
			s := a0
			for s > 0 && probe[s-1] == ' ' {
				s--
			}
			e := b1
			for e < len(probe) && probe[e] == ' ' {
				e++
			}
			if hasAt(probe, s-len(d.open), d.open) && hasAt(probe, e, d.close) {
				e0, e1 = s-len(d.open), e+len(d.close)
				break
			}
		}
		if e0 < 0 {
			continue
		}
		var buf [2*maxContext + 20]byte
		// the marker: letters, digits, '_' and '-' right before and after
		p0 := e0
		for p0 > 0 && e0-p0 < maxContext && isMarker(probe[p0-1]) {
			p0--
		}
		p1 := e1
		for p1 < len(probe) && p1-e1 < maxContext && isMarker(probe[p1]) {
			p1++
		}
		pre, post := probe[p0:e0], probe[e1:p1]
		n := copy(buf[:], pre)
		n += len(strconv.AppendInt(buf[n:n], a*b, 10))
		productEnd := n
		n += copy(buf[n:], post)
		want := buf[:n]
		product := buf[len(pre):productEnd]
		if len(pre)+len(post) == 0 && len(product) < 4 || bytes.Contains(probe, want) {
			continue // too short to be unambiguous, or the probe carries the rendered text itself
		}
		for boff := 0; boff < len(body); {
			i := bytes.Index(body[boff:], want)
			if i < 0 {
				break
			}
			i += boff
			boff = i + 1
			// the product must be a whole number
			if len(pre) == 0 && i > 0 && isDigit(body[i-1]) {
				continue
			}
			if len(post) == 0 && i+len(want) < len(body) && isDigit(body[i+len(want)]) {
				continue
			}
			return i, i + len(want), true
		}
	}
	return 0, 0, false
}

func isMarker(c byte) bool { return isWord(c) || c == '-' }

// parseDigits returns the value of at most 9 decimal digits.
func parseDigits(b []byte) int64 {
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v
}

var sqlInjectGroups []group

func init() {
	sqlInjectGroups = newGroups(sqlInjectSpecs)
}

// sqlInjectSpecs are the SQL errors that only broken query syntax produces.
var sqlInjectSpecs = []anchorSpec{
	{lit: "error in your SQL syntax", pivot: 'Q', kind: SQLMySQL},
	{lit: "right syntax to use near", pivot: 'x', kind: SQLMySQL},
	{lit: "MySQLSyntaxErrorException", pivot: 'Q', kind: SQLMySQL},
	{lit: "syntax error at or near", pivot: 'x', kind: SQLPostgreSQL},
	{lit: "syntax error at end of input", pivot: 'x', kind: SQLPostgreSQL},
	{lit: "unterminated quoted string at or near", pivot: 'q', kind: SQLPostgreSQL},
	{lit: "PG::SyntaxError", pivot: 'G', kind: SQLPostgreSQL},
	{lit: "quoted string not properly terminated", pivot: 'q', kind: SQLOracle},
	{lit: "SQL command not properly ended", pivot: 'Q', kind: SQLOracle},
	{lit: "ORA-", pivot: 'O', check: checkORASyntax},
	{lit: `": syntax error`, pivot: 'x', check: checkSQLiteNear},
	{lit: "unrecognized token: ", pivot: 'z', kind: SQLSQLite},
	{lit: "Unclosed quotation mark after the character string", pivot: 'q', kind: SQLMSSQL},
	{lit: "Incorrect syntax near", pivot: 'x', kind: SQLMSSQL},
	{lit: "SQLSyntaxErrorException", pivot: 'Q', kind: SQLGeneric},
	{lit: "SQLGrammarException", pivot: 'Q', kind: SQLGeneric},
	{lit: "SQLSTATE[", pivot: 'Q', check: checkSQLStateSyntax(']')},
	{lit: "(SQLSTATE ", pivot: 'Q', check: checkSQLStateSyntax(')')},
}

// oraSyntax are Oracle errors raised while parsing a statement.
var oraSyntax = []string{"00904", "00907", "00911", "00917", "00920", "00921", "00933", "00936", "01740", "01756", "01789"}

func checkORASyntax(body []byte, at int) (string, int, int, bool) {
	kind, lo, hi, ok := checkORA(body, at)
	if !ok {
		return "", 0, 0, false
	}
	for _, code := range oraSyntax {
		if hasAt(body, at+4, code) {
			return kind, lo, hi, true
		}
	}
	return "", 0, 0, false
}

// checkSQLStateSyntax accepts SQLSTATE class 42 (syntax error or access
// rule violation).
func checkSQLStateSyntax(closing byte) func([]byte, int) (string, int, int, bool) {
	inner := checkSQLState(closing)
	return func(body []byte, at int) (string, int, int, bool) {
		kind, lo, hi, ok := inner(body, at)
		if !ok {
			return "", 0, 0, false
		}
		i := bytes.IndexAny(body[at:], "[ ") + at + 1
		if !hasAt(body, i, "42") {
			return "", 0, 0, false
		}
		return kind, lo, hi, true
	}
}
