package finding

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unicode/utf8"
)

// Normalisation limits.
const (
	// NormalizeInput is how many leading bytes of a body Normalize reads.
	NormalizeInput = 4 << 10
	// NormalizeOutput is the most bytes Normalize returns.
	NormalizeOutput = 1 << 10
)

// bodyBlind lists the oracles whose fingerprint ignores the response body:
// the defect is how the operation behaved (accepted bad input, answered an
// undocumented status, skipped authentication, was slow), not what it said,
// and the body of such a response changes with the data.
var bodyBlind = map[Oracle]bool{
	InvalidAccepted: true,
	SpecStatus:      true,
	AuthNotEnforced: true,
	CrossUser:       true,
	LatencyOutlier:  true,
	Degradation:     true,
}

// Fingerprint identifies a defect so that the same defect hit again with
// other ids and values counts once, and different defects stay apart.
//
// It hashes (SHA-256, first 16 bytes as 32 lower-case hex digits) a version
// tag, op, oracle, mutation, the exact status code and Normalize(body).
// op is the operationId (or any stable name of the request); mutation is the
// full mutation name ("" for valid traffic) — include the target location
// in it ("boundaries/max+1 body/quantity") if the same mutation on two
// fields should count as two defects.
//
// body is the part of the response that tells defects apart: the response
// body for server-error, information-leak, injection-evidence and
// response-schema-violation (or the violation's path), the received media
// type for unexpected-content-type, the transport error kind for
// connection-failure. It is ignored for invalid-input-accepted,
// undocumented-status, auth-not-enforced, cross-user-access,
// latency-outlier and degradation.
func Fingerprint(op, oracle, mutation string, status int, body []byte) string {
	h := sha256.New()
	var num [20]byte
	h.Write([]byte("barrage-finding-v1\x00"))
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write([]byte(oracle))
	h.Write([]byte{0})
	h.Write([]byte(mutation))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(num[:0], int64(status), 10))
	h.Write([]byte{0})
	if !bodyBlind[Oracle(oracle)] {
		h.Write(Normalize(body))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// Normalize reduces a response body to its shape, so that two responses of
// the same defect that differ only in data normalise to the same bytes.
//
// It reads the first NormalizeInput bytes (a UTF-8 byte order mark and
// surrounding white space dropped) and returns at most NormalizeOutput
// bytes. A body whose first byte is '{' or '[' is read as JSON (it may be
// truncated or invalid; the scan never fails):
//
//   - kept: structure ({ } [ ] , :), object keys, true, false, null;
//   - string values become "" (their contents are data: ids, names, echoed
//     input, messages with values in them);
//   - numbers become 0;
//   - keys are normalised like text (below), so ids used as keys collapse;
//   - white space outside strings is dropped;
//   - a run of consecutive array elements with the same normalised shape
//     is kept once ([{"id":0},{"id":0}] becomes [{"id":0}]), so list
//     lengths do not matter;
//   - a body cut short (by NormalizeInput, or sent so) is closed: a cut
//     copy of the element before it is dropped and the open brackets are
//     closed, so a long list cut at 4 KiB normalises like a short one.
//
// Any other body is read as text:
//
//   - kept: words, punctuation, markup;
//   - runs of white space become one space;
//   - replaced, where a token starts (not inside a word): UUIDs by {uuid};
//     ISO dates and date-times (2024-05-01, 2024-05-01T10:00:00.5+02:00,
//     2024/05/01) and clock times (10:00:00) by {time}; IPv4 addresses and
//     IPv6 addresses with at least three groups by {ip}; e-mail addresses by
//     {email}; 0x-prefixed hex by {hex}; hex runs of 8 or more characters
//     with both a digit and a letter by {hex}; other digit runs (with a
//     fraction and exponent) by {n}; words of 16 or more letters and digits with a digit in them
//     (tokens, keys, base64) by {id};
//   - double-quoted text on one line, and single-quoted text that opens
//     and closes at a word boundary, is emptied to its two quote marks
//     (it is usually an echoed value), unless it looks like a source path
//     (a / or \ and a file extension, no space): that is kept, normalised;
//   - digits inside a word (v2, utf8, item2) are kept.
//
// Day and month names, and dates in other formats, are kept.
func Normalize(body []byte) []byte {
	if len(body) > NormalizeInput {
		body = body[:NormalizeInput]
	}
	if len(body) >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF {
		body = body[3:]
	}
	body = trimSpace(body)
	out := make([]byte, 0, min(len(body), NormalizeOutput)+16)
	if len(body) > 0 && (body[0] == '{' || body[0] == '[') {
		out = normalizeJSON(out, body)
	} else {
		out = normalizeText(out, body, true)
	}
	if len(out) > NormalizeOutput {
		cut := NormalizeOutput
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut]
	}
	return out
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// isWord reports whether c can be part of an identifier-like word.
func isWord(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// jsonFrame is an open JSON container while normalising.
type jsonFrame struct {
	array     bool
	elemStart int // offset in out where the current element starts
	prevStart int // offset of the previous kept element; -1: none
	prevEnd   int
}

const maxJSONDepth = 64

func normalizeJSON(out, b []byte) []byte {
	var stack [maxJSONDepth]jsonFrame
	depth := 0 // frames in use; deeper containers are copied without collapsing
	over := 0  // containers open beyond maxJSONDepth
	// endElem closes the current element of the innermost array: if it has
	// the same shape as the previous one, it is dropped with its comma.
	endElem := func() {
		if depth == 0 || over > 0 {
			return
		}
		f := &stack[depth-1]
		if !f.array || f.elemStart >= len(out) {
			return
		}
		cur := out[f.elemStart:]
		if f.prevStart >= 0 && string(out[f.prevStart:f.prevEnd]) == string(cur) {
			out = out[:f.elemStart-1] // drop the comma before it too
			return
		}
		f.prevStart, f.prevEnd = f.elemStart, len(out)
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case isSpace(c):
			i++
		case c == '{' || c == '[':
			out = append(out, c)
			i++
			if depth < maxJSONDepth && over == 0 {
				stack[depth] = jsonFrame{array: c == '[', elemStart: len(out), prevStart: -1}
				depth++
			} else {
				over++
			}
		case c == '}' || c == ']':
			if over > 0 {
				over--
			} else if depth > 0 {
				endElem()
				depth--
			}
			out = append(out, c)
			i++
		case c == ',':
			endElem()
			out = append(out, c)
			i++
			if depth > 0 && over == 0 {
				stack[depth-1].elemStart = len(out)
			}
		case c == '"':
			end := closingQuote(b, i+1)
			content := b[i+1 : min(end, len(b))]
			if end >= len(b) {
				// cut inside the string: keep what a prefix of the complete
				// output would hold (a key's start, a value's opening quote)
				inObject := depth > 0 && over == 0 && !stack[depth-1].array
				afterOpen := len(out) > 0 && (out[len(out)-1] == '{' || out[len(out)-1] == ',')
				out = append(out, '"')
				if inObject && afterOpen {
					out = normalizeText(out, content, false)
				}
				i = len(b)
				break
			}
			j := end + 1
			for j < len(b) && isSpace(b[j]) {
				j++
			}
			out = append(out, '"')
			if j < len(b) && b[j] == ':' {
				out = normalizeText(out, content, false)
			}
			out = append(out, '"')
			i = end + 1
		case c == '-' || isDigit(c):
			j := i + 1
			for j < len(b) && (isDigit(b[j]) || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
				j++
			}
			if c == '-' && j == i+1 {
				out = append(out, c)
			} else {
				out = append(out, '0')
			}
			i = j
		default:
			out = append(out, c)
			i++
		}
	}
	if depth > 0 && over == 0 {
		out = closeTruncated(out, stack[:depth])
	}
	return out
}

// closingQuote returns the offset of the unescaped '"' that closes a JSON
// string whose contents start at from, or len(b).
func closingQuote(b []byte, from int) int {
	for from < len(b) {
		q := bytes.IndexByte(b[from:], '"')
		if q < 0 {
			return len(b)
		}
		q += from
		bs := 0
		for k := q - 1; k >= from && b[k] == '\\'; k-- {
			bs++
		}
		if bs%2 == 0 {
			return q
		}
		from = q + 1
	}
	return len(b)
}

// closeTruncated ends the output of a truncated (or unterminated) body the
// way a complete one would end: the last element of the outermost open
// array whose shape is a prefix of the element before it (the cut copy of
// a repeated element) is dropped, and the open containers are closed. So a
// long list cut at NormalizeInput normalises like a short complete one.
func closeTruncated(out []byte, stack []jsonFrame) []byte {
	open := len(stack)
	for d, f := range stack {
		if f.array && f.prevStart >= 0 && f.elemStart <= len(out) && f.elemStart > f.prevEnd &&
			bytes.HasPrefix(out[f.prevStart:f.prevEnd], out[f.elemStart:]) {
			out = out[:f.elemStart-1]
			open = d + 1
			break
		}
	}
	for d := open - 1; d >= 0; d-- {
		if stack[d].array {
			out = append(out, ']')
		} else {
			out = append(out, '}')
		}
	}
	return out
}

// normalizeText appends the normalised form of b to out. quotes enables the
// replacement of quoted text (off inside JSON keys).
func normalizeText(out, b []byte, quotes bool) []byte {
	space := false
	for i := 0; i < len(b) && !(quotes && len(out) > NormalizeOutput); {
		c := b[i]
		if isSpace(c) {
			space = true
			i++
			continue
		}
		if space {
			if len(out) > 0 {
				out = append(out, ' ')
			}
			space = false
		}
		atStart := i == 0 || !isWord(b[i-1])
		if atStart && isWord(c) {
			if tok, n := matchToken(b[i:]); n > 0 {
				out = append(out, tok...)
				i += n
				continue
			}
		}
		if quotes && (c == '"' || c == '\'') {
			if n, keep := matchQuoted(b, i); n > 0 {
				if keep {
					out = append(out, c)
					out = normalizeText(out, b[i+1:i+n-1], false)
					out = append(out, c)
				} else {
					out = append(out, c, c)
				}
				i += n
				continue
			}
		}
		if isWord(c) {
			// copy the rest of the word: digits inside words are kept
			j := i
			for j < len(b) && isWord(b[j]) {
				j++
			}
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		out = append(out, c)
		i++
	}
	return out
}

// matchToken recognises a data token at the start of b (which starts a
// word) and returns its replacement and length, or 0. It measures the word
// once and tries only the shapes its first byte and the byte after it allow.
func matchToken(b []byte) (string, int) {
	n, hexOnly, digits, letters := 0, true, 0, 0
	for n < len(b) && isWord(b[n]) {
		c := b[n]
		if isDigit(c) {
			digits++
		} else {
			letters++
			if !isHex(c) {
				hexOnly = false
			}
		}
		n++
	}
	var next byte
	if n < len(b) {
		next = b[n]
	}
	if hexOnly && n == 8 && next == '-' {
		if m := matchUUID(b); m > 0 {
			return "{uuid}", m
		}
	}
	if next == '@' || next == '.' || next == '+' || next == '-' || next == '%' {
		if m := matchEmail(b); m > 0 {
			return "{email}", m
		}
	}
	if hexOnly && next == ':' {
		if digits == n {
			if m := matchClock(b); m > 0 {
				return "{time}", m
			}
		}
		if m := matchIPv6(b); m > 0 {
			return "{ip}", m
		}
	}
	if digits == n && n > 0 {
		switch next {
		case '-', '/':
			if m := matchDateTime(b); m > 0 {
				return "{time}", m
			}
		case '.':
			if m := matchIPv4(b); m > 0 {
				return "{ip}", m
			}
		}
	}
	switch {
	case len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') && isHex(b[2]):
		m := 2
		for m < len(b) && isHex(b[m]) {
			m++
		}
		return "{hex}", m
	case hexOnly && n >= 8 && digits > 0 && letters > 0:
		return "{hex}", n
	case isDigit(b[0]):
		return "{n}", matchNumber(b)
	case n >= 16 && digits > 0:
		return "{id}", n
	}
	return "", 0
}

// matchNumber returns the length of the digits, fraction and exponent at
// the start of b.
func matchNumber(b []byte) int {
	n := 0
	for n < len(b) && isDigit(b[n]) {
		n++
	}
	if n+1 < len(b) && b[n] == '.' && isDigit(b[n+1]) {
		n++
		for n < len(b) && isDigit(b[n]) {
			n++
		}
	}
	if n+1 < len(b) && (b[n] == 'e' || b[n] == 'E') {
		m := n + 1
		if m < len(b) && (b[m] == '+' || b[m] == '-') {
			m++
		}
		if m < len(b) && isDigit(b[m]) {
			for m < len(b) && isDigit(b[m]) {
				m++
			}
			n = m
		}
	}
	return n
}

// endsWord reports whether position n of b is past the end of a token.
func endsWord(b []byte, n int) bool { return n >= len(b) || !isWord(b[n]) }

func hexRun(b []byte, from, n int) bool {
	if from+n > len(b) {
		return false
	}
	for _, c := range b[from : from+n] {
		if !isHex(c) {
			return false
		}
	}
	return true
}

func digitRun(b []byte, from, n int) bool {
	if from+n > len(b) {
		return false
	}
	for _, c := range b[from : from+n] {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func matchUUID(b []byte) int {
	if len(b) < 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return 0
	}
	if !hexRun(b, 0, 8) || !hexRun(b, 9, 4) || !hexRun(b, 14, 4) || !hexRun(b, 19, 4) || !hexRun(b, 24, 12) {
		return 0
	}
	if !endsWord(b, 36) {
		return 0
	}
	return 36
}

// matchDateTime matches YYYY-MM-DD or YYYY/MM/DD, optionally followed by
// [T ]hh:mm[:ss[.frac]] and a zone (Z, +hh:mm, +hhmm).
func matchDateTime(b []byte) int {
	if len(b) < 10 || !digitRun(b, 0, 4) || !digitRun(b, 5, 2) || !digitRun(b, 8, 2) {
		return 0
	}
	if !((b[4] == '-' && b[7] == '-') || (b[4] == '/' && b[7] == '/')) {
		return 0
	}
	n := 10
	if n < len(b) && (b[n] == 'T' || b[n] == ' ') {
		if m := clockLen(b[n+1:]); m > 0 {
			n += 1 + m
			if n < len(b) && b[n] == 'Z' {
				n++
			} else if n < len(b) && (b[n] == '+' || b[n] == '-') && digitRun(b, n+1, 2) {
				switch {
				case n+3 < len(b) && b[n+3] == ':' && digitRun(b, n+4, 2):
					n += 6
				case digitRun(b, n+3, 2):
					n += 5
				default:
					n += 3
				}
			}
		}
	}
	if !endsWord(b, n) {
		return 0
	}
	return n
}

// matchClock matches a clock time (see clockLen) that ends a token.
func matchClock(b []byte) int {
	n := clockLen(b)
	if n == 0 || !endsWord(b, n) {
		return 0
	}
	return n
}

// clockLen returns the length of hh:mm or hh:mm:ss[.frac] (hours of 1 or 2
// digits) at the start of b, or 0.
func clockLen(b []byte) int {
	n := 0
	for n < len(b) && n < 2 && isDigit(b[n]) {
		n++
	}
	if n == 0 || n >= len(b) || b[n] != ':' || !digitRun(b, n+1, 2) {
		return 0
	}
	n += 3
	if n < len(b) && b[n] == ':' && digitRun(b, n+1, 2) {
		n += 3
		if n+1 < len(b) && (b[n] == '.' || b[n] == ',') && isDigit(b[n+1]) {
			n++
			for n < len(b) && isDigit(b[n]) {
				n++
			}
		}
	}
	return n
}

func matchIPv4(b []byte) int {
	n := 0
	for part := 0; part < 4; part++ {
		if part > 0 {
			if n >= len(b) || b[n] != '.' {
				return 0
			}
			n++
		}
		d := 0
		for n < len(b) && d < 3 && isDigit(b[n]) {
			n++
			d++
		}
		if d == 0 {
			return 0
		}
	}
	if !endsWord(b, n) || (n+1 < len(b) && b[n] == '.' && isDigit(b[n+1])) {
		return 0
	}
	return n
}

// matchIPv6 matches addresses of hex groups separated by ':' with either
// eight groups or a "::" and at least three groups.
func matchIPv6(b []byte) int {
	n, groups, colons, double := 0, 0, 0, false
	for n < len(b) {
		g := 0
		for n < len(b) && g < 5 && isHex(b[n]) {
			n++
			g++
		}
		if g > 4 {
			return 0
		}
		if g > 0 {
			groups++
		}
		if n < len(b) && b[n] == ':' {
			if n+1 < len(b) && b[n+1] == ':' {
				if double {
					return 0
				}
				double = true
				n += 2
				colons += 2
				continue
			}
			if g == 0 {
				return 0
			}
			if n+1 < len(b) && isHex(b[n+1]) {
				n++
				colons++
				continue
			}
		}
		break
	}
	if colons < 2 || !((groups == 8 && !double) || (double && groups >= 3)) {
		return 0
	}
	if !endsWord(b, n) {
		return 0
	}
	return n
}

func isEmailLocal(c byte) bool {
	return isWord(c) || c == '.' || c == '%' || c == '+' || c == '-'
}

func matchEmail(b []byte) int {
	n := 0
	for n < len(b) && n < 64 && isEmailLocal(b[n]) {
		n++
	}
	if n == 0 || n >= len(b) || b[n] != '@' {
		return 0
	}
	n++
	labels, lastLetters := 0, true
	for {
		start := n
		for n < len(b) && (isLetter(b[n]) || isDigit(b[n]) || b[n] == '-') {
			n++
		}
		if n == start {
			return 0
		}
		labels++
		lastLetters = true
		for _, c := range b[start:n] {
			if !isLetter(c) {
				lastLetters = false
			}
		}
		if n+1 < len(b) && b[n] == '.' && (isLetter(b[n+1]) || isDigit(b[n+1])) {
			n++
			continue
		}
		break
	}
	if labels < 2 || !lastLetters {
		return 0
	}
	return n
}

// matchQuoted matches quoted text starting at b[i] (a quote) and returns its
// length including both quotes, and whether to keep its contents (it looks
// like a source path). Quotes must close on the same line within 256 bytes;
// a single quote must open and close at word boundaries.
func matchQuoted(b []byte, i int) (n int, keep bool) {
	q := b[i]
	if q == '\'' && i > 0 && isWord(b[i-1]) {
		return 0, false
	}
	for j := i + 1; j < len(b) && j-i <= 256; j++ {
		switch b[j] {
		case '\n', '\r':
			return 0, false
		case '\\':
			j++
			continue
		case q:
			if q == '\'' && j+1 < len(b) && isWord(b[j+1]) {
				continue
			}
			content := b[i+1 : j]
			return j - i + 1, pathLike(content)
		}
	}
	return 0, false
}

// pathLike reports whether s looks like a source file path: no white
// space, a / or \, and an extension of 1 to 5 letters.
func pathLike(s []byte) bool {
	sep, dot := false, -1
	for k, c := range s {
		switch {
		case isSpace(c):
			return false
		case c == '/' || c == '\\':
			sep, dot = true, -1
		case c == '.':
			dot = k
		}
	}
	if !sep || dot < 0 {
		return false
	}
	ext := s[dot+1:]
	if len(ext) == 0 || len(ext) > 5 {
		return false
	}
	for _, c := range ext {
		if !isLetter(c) {
			return false
		}
	}
	return true
}
