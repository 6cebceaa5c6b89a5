package finding

import (
	"bytes"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxArgBody is the largest body Curl passes as a command-line argument;
// larger bodies (and bodies with NUL bytes, which no argument can hold) are
// piped in from printf, a shell builtin not bound by the kernel's argument
// limits.
const maxArgBody = 64 << 10

// rawRequest is an HTTP/1.1 request split into its parts; every slice
// points into the original bytes.
type rawRequest struct {
	method, target, version []byte
	headers                 []rawHeader
	body                    []byte
}

type rawHeader struct {
	name  []byte // as sent
	line  []byte // the whole line without CRLF
	value []byte // after the colon, optional white space trimmed
}

// parseCurlable splits req and reports whether curl can send exactly these
// bytes: CRLF-delimited head without NUL, bare CR or LF; a request line of
// method SP target SP HTTP/1.1; token header names; Host, if present, first
// and once (curl always sends Host first); no Transfer-Encoding; a body
// exactly as long as the only Content-Length says (or empty without one);
// no header whose value is white space only (curl treats "Name: " as "do
// not send Name").
func parseCurlable(req []byte) (rawRequest, bool) {
	var r rawRequest
	end := bytes.Index(req, []byte("\r\n\r\n"))
	if end < 0 {
		return r, false
	}
	head := req[:end]
	r.body = req[end+4:]
	if bytes.IndexByte(head, 0) >= 0 {
		return r, false
	}
	lines := bytes.Split(head, []byte("\r\n"))
	for _, l := range lines {
		if bytes.IndexByte(l, '\r') >= 0 || bytes.IndexByte(l, '\n') >= 0 {
			return r, false
		}
	}
	rl := lines[0]
	sp1, sp2 := bytes.IndexByte(rl, ' '), bytes.LastIndexByte(rl, ' ')
	if sp1 <= 0 || sp2 <= sp1+1 {
		return r, false
	}
	r.method, r.target, r.version = rl[:sp1], rl[sp1+1:sp2], rl[sp2+1:]
	if !isToken(r.method) || string(r.version) != "HTTP/1.1" {
		return r, false
	}
	contentLength := -1
	for k, l := range lines[1:] {
		colon := bytes.IndexByte(l, ':')
		if colon <= 0 || !isToken(l[:colon]) {
			return r, false
		}
		h := rawHeader{name: l[:colon], line: l, value: bytes.Trim(l[colon+1:], " \t")}
		if len(h.value) == 0 && colon+1 != len(l) {
			return r, false
		}
		switch {
		case bytes.EqualFold(h.name, []byte("Host")):
			if k != 0 {
				return r, false
			}
		case bytes.EqualFold(h.name, []byte("Transfer-Encoding")):
			return r, false
		case bytes.EqualFold(h.name, []byte("Content-Length")):
			n, err := strconv.Atoi(string(h.value))
			if contentLength >= 0 || err != nil || n < 0 || !allDigits(h.value) {
				return r, false
			}
			contentLength = n
		}
		r.headers = append(r.headers, h)
	}
	if contentLength < 0 && len(r.body) > 0 || contentLength >= 0 && contentLength != len(r.body) {
		return r, false
	}
	return r, true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// isToken reports whether b is an RFC 9110 token.
func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isWord(c) && !strings.ContainsRune("!#$%&'*+-.^`|~", rune(c)) {
			return false
		}
	}
	return true
}

func (r *rawRequest) header(name string) (rawHeader, bool) {
	for _, h := range r.headers {
		if bytes.EqualFold(h.name, []byte(name)) {
			return h, true
		}
	}
	return rawHeader{}, false
}

// Curl returns a curl command (for bash or zsh) that sends exactly req, an
// HTTP/1.1 request, to baseURL (scheme://host[:port]; a path in it is
// ignored: the request's target is sent as is). The second result is false
// when curl cannot send these exact bytes — CR, LF or NUL inside the head,
// a request line curl would not produce, Transfer-Encoding, a
// Content-Length that does not match the body, Host not first — or when
// baseURL is not an http or https URL; use Netcat then.
//
// The command names every header with -H in the original order and blanks
// the ones curl would add on its own (Host, User-Agent, Accept,
// Content-Type, Expect); the target goes in the URL with --path-as-is and
// -g when needed, or through --request-target when it holds bytes curl
// would encode or cut (space, #, non-ASCII); the body goes with
// --data-binary (--data-raw when it starts with @), or is piped from printf
// when it holds NUL bytes or is larger than 64 KiB. -i shows the response
// headers. https URLs get --http1.1 so that curl does not switch to
// HTTP/2.
func Curl(req []byte, baseURL string) (string, bool) {
	r, ok := parseCurlable(req)
	if !ok {
		return "", false
	}
	origin, scheme, ok := originOf(baseURL, &r)
	if !ok {
		return "", false
	}
	var cmd strings.Builder
	hasBody := len(r.body) > 0
	pipe := hasBody && (bytes.IndexByte(r.body, 0) >= 0 || len(r.body) > maxArgBody)
	if pipe {
		cmd.WriteString("printf ")
		cmd.WriteString(printfQuote(r.body))
		cmd.WriteString(" | ")
	}
	cmd.WriteString("curl")
	method := string(r.method)
	switch {
	case hasBody && method == "POST", !hasBody && method == "GET":
		cmd.WriteString(" -i")
	case !hasBody && method == "HEAD":
		cmd.WriteString(" --head")
	default:
		cmd.WriteString(" -i -X ")
		cmd.WriteString(shellQuote(r.method))
	}
	if scheme == "https" {
		cmd.WriteString(" --http1.1")
	}
	plain := r.target[0] == '/'
	for _, c := range r.target {
		if c <= ' ' || c >= 0x7f || c == '#' {
			plain = false
		}
	}
	glob := strings.ContainsAny(origin, "[]{}")
	if plain {
		t := string(r.target)
		if strings.Contains(t, "/./") || strings.Contains(t, "/../") || strings.HasSuffix(t, "/.") || strings.HasSuffix(t, "/..") ||
			strings.Contains(t, "/.?") || strings.Contains(t, "/..?") {
			cmd.WriteString(" --path-as-is")
		}
		glob = glob || strings.ContainsAny(t, "[]{}")
	}
	if glob {
		cmd.WriteString(" -g")
	}
	if plain {
		cmd.WriteString(" " + shellQuote([]byte(origin+string(r.target))))
	} else {
		cmd.WriteString(" --request-target " + shellQuote(r.target) + " " + shellQuote([]byte(origin)))
	}
	for _, h := range r.headers {
		cmd.WriteString(" -H ")
		if len(h.value) == 0 {
			cmd.WriteString(shellQuote(append(append([]byte(nil), h.name...), ';')))
		} else {
			cmd.WriteString(shellQuote(h.line))
		}
	}
	blank := func(name string) {
		if _, ok := r.header(name); !ok {
			cmd.WriteString(" -H " + shellQuote([]byte(name+":")))
		}
	}
	blank("Host")
	blank("User-Agent")
	blank("Accept")
	if hasBody {
		blank("Content-Type")
		if len(r.body) > 1024 {
			blank("Expect") // older curls ask for 100-continue above 1 KiB
		}
		switch {
		case pipe:
			cmd.WriteString(" --data-binary @-")
		case r.body[0] == '@':
			cmd.WriteString(" --data-raw " + shellQuote(r.body))
		default:
			cmd.WriteString(" --data-binary " + shellQuote(r.body))
		}
	}
	return cmd.String(), true
}

// originOf returns scheme://host[:port] of baseURL, or of the request's Host
// header when baseURL is "" (as http).
func originOf(baseURL string, r *rawRequest) (origin, scheme string, ok bool) {
	if baseURL == "" {
		h, found := r.header("Host")
		if !found || len(h.value) == 0 {
			return "", "", false
		}
		baseURL = "http://" + string(h.value)
	}
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return "", "", false
	}
	for _, c := range []byte(u.Host) {
		if c <= ' ' || c >= 0x7f || c == '/' || c == '#' || c == '?' || c == '@' {
			return "", "", false
		}
	}
	return u.Scheme + "://" + u.Host, u.Scheme, true
}

// Netcat returns a command that sends exactly req to host:port with nc and
// prints the answer: printf 'BYTES' | nc HOST PORT, where BYTES is req in a
// printf format (\r, \n, \t, %%, \\ and three-digit octal escapes), so it
// holds any byte, NUL included, and works in any POSIX shell. It speaks
// plain TCP: for an https target, see [Finding.Reproducer].
func Netcat(req []byte, host, port string) string {
	return "printf " + printfQuote(req) + " | nc " + shellQuote([]byte(host)) + " " + shellQuote([]byte(port))
}

// opensslClient is Netcat over TLS.
func opensslClient(req []byte, host, port string) string {
	return "printf " + printfQuote(req) + " | openssl s_client -quiet -connect " +
		shellQuote([]byte(net.JoinHostPort(host, port))) + " -servername " + shellQuote([]byte(host))
}

// Reproducer returns a shell command that sends f.Request again to
// f.BaseURL (or, when that is empty, over http to the request's Host
// header): a curl command when curl can send the exact bytes, else printf
// piped into nc (or into openssl s_client for https).
func (f Finding) Reproducer() string {
	if len(f.Request) == 0 {
		return ""
	}
	if cmd, ok := Curl(f.Request, f.BaseURL); ok {
		return cmd
	}
	scheme, hostport := "http", f.BaseURL
	if f.BaseURL != "" {
		if u, err := url.Parse(f.BaseURL); err == nil && u.Host != "" {
			scheme, hostport = u.Scheme, u.Host
		}
	} else {
		hostport = requestHost(f.Request)
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "80"
		if scheme == "https" {
			port = "443"
		}
	}
	if host == "" {
		host = "localhost"
	}
	if scheme == "https" {
		return opensslClient(f.Request, host, port)
	}
	return Netcat(f.Request, host, port)
}

// requestHost returns the value of the first Host header of a raw request,
// however the request is framed.
func requestHost(req []byte) string {
	for _, line := range bytes.Split(req, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(bytes.TrimSpace(name), []byte("Host")) {
			return string(bytes.TrimSpace(value))
		}
	}
	return ""
}

// ReplayCommand returns the barrage command that replays the finding's
// request from its seed: barrage replay --seed S --shard K --case C.
func (f Finding) ReplayCommand() string {
	return "barrage replay --seed " + strconv.FormatUint(f.Seed, 10) +
		" --shard " + strconv.FormatInt(int64(f.Shard), 10) +
		" --case " + strconv.FormatInt(f.Case, 10)
}

// shellQuote quotes b as one shell word: bare when it holds only
// [A-Za-z0-9_@%+=:,./-]; in single quotes when it is printable text; else
// in $'…' with \n \r \t \\ and \xHH escapes ('!' and "'" are escaped as
// \x21 and \x27, so that no interactive shell's history expansion sees
// them). b must not hold NUL.
func shellQuote(b []byte) string {
	if len(b) == 0 {
		return "''"
	}
	bare, printable := true, true
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if !isWord(c) && !strings.ContainsRune("@%+=:,./-", rune(c)) {
				bare = false
			}
			if c < ' ' || c == 0x7f {
				printable = false
			}
			i++
			continue
		}
		bare = false
		r, n := utf8.DecodeRune(b[i:])
		if !printableRune(r, n) {
			printable = false
		}
		i += n
	}
	if bare {
		return string(b)
	}
	var s strings.Builder
	if printable {
		s.WriteByte('\'')
		for _, c := range b {
			if c == '\'' {
				s.WriteString(`'\''`)
			} else {
				s.WriteByte(c)
			}
		}
		s.WriteByte('\'')
		return s.String()
	}
	s.WriteString("$'")
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(b[i:])
			if printableRune(r, n) {
				s.Write(b[i : i+n])
			} else {
				for _, x := range b[i : i+n] {
					writeHexEscape(&s, x)
				}
			}
			i += n
			continue
		}
		switch c {
		case '\n':
			s.WriteString(`\n`)
		case '\r':
			s.WriteString(`\r`)
		case '\t':
			s.WriteString(`\t`)
		case '\\':
			s.WriteString(`\\`)
		case '\'', '!':
			writeHexEscape(&s, c)
		default:
			if c < ' ' || c == 0x7f {
				writeHexEscape(&s, c)
			} else {
				s.WriteByte(c)
			}
		}
		i++
	}
	s.WriteByte('\'')
	return s.String()
}

// printableRune reports whether a decoded rune can be pasted into a terminal
// as is: valid, printable, not a format character (bidi controls,
// zero-width characters).
func printableRune(r rune, size int) bool {
	if r == utf8.RuneError && size <= 1 {
		return false
	}
	return unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r)
}

const hexDigits = "0123456789abcdef"

func writeHexEscape(s *strings.Builder, c byte) {
	s.WriteString(`\x`)
	s.WriteByte(hexDigits[c>>4])
	s.WriteByte(hexDigits[c&15])
}

// printfQuote returns b as a single-quoted printf format that prints
// exactly b.
func printfQuote(b []byte) string {
	var s strings.Builder
	s.WriteByte('\'')
	for i := 0; i < len(b); {
		c := b[i]
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(b[i:])
			if printableRune(r, n) {
				s.Write(b[i : i+n])
			} else {
				for _, x := range b[i : i+n] {
					writeOctalEscape(&s, x)
				}
			}
			i += n
			continue
		}
		switch {
		case c == '\n':
			s.WriteString(`\n`)
		case c == '\r':
			s.WriteString(`\r`)
		case c == '\t':
			s.WriteString(`\t`)
		case c == '\\':
			s.WriteString(`\\`)
		case c == '%':
			s.WriteString("%%")
		case c == '\'', c < ' ', c == 0x7f, i == 0 && c == '-':
			writeOctalEscape(&s, c) // a leading '-' would read as an option
		default:
			s.WriteByte(c)
		}
		i++
	}
	s.WriteByte('\'')
	return s.String()
}

func writeOctalEscape(s *strings.Builder, c byte) {
	s.WriteByte('\\')
	s.WriteByte('0' + c>>6)
	s.WriteByte('0' + (c>>3)&7)
	s.WriteByte('0' + c&7)
}
