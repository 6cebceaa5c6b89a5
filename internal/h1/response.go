package h1

import (
	"bytes"
	"fmt"
	"io"
	"strconv"

	"github.com/barrage-dev/barrage/internal/outcome"
)

// header holds what the framing of a response depends on, and where the
// parse of its header section is.
type header struct {
	contentLength int64 // valid when hasLength
	hasLength     bool
	te            bool // a Transfer-Encoding field was present
	chunked       bool // the last transfer coding seen is chunked
	sawChunked    bool // chunked was seen at all
	close         bool // Connection: close
	keepAlive     bool // Connection: keep-alive
	fields        bool // a header field line was seen
	last          field
}

// field identifies the header fields the client interprets.
type field uint8

const (
	fieldOther field = iota
	fieldContentLength
	fieldTransferEncoding
	fieldConnection
)

// bodyKind is how a response's body is framed.
type bodyKind uint8

const (
	bodyNone    bodyKind = iota // no body: HEAD, 101, 204, 304
	bodyLength                  // Content-Length bytes
	bodyChunked                 // chunked, then a trailer section
	bodyClose                   // everything up to the connection closing
)

// The rules below are shared by the blocking reader (Client.readResponse)
// and the push Parser; each gets whole lines, LF included, and decides
// exactly the same way.

// statusLine parses a status line.
func statusLine(line []byte) (status, minor int, err error) {
	status, minor, ok := parseStatusLine(trimEOL(line))
	if !ok {
		return 0, 0, protoErr("bad status line %s", quote(line))
	}
	return status, minor, nil
}

// interim reports whether status is an interim response that a final one
// follows.
func interim(status int) bool { return status < 200 && status != 101 }

// headerLine applies one header line, EOL removed and not empty.
func (h *header) headerLine(line []byte) error {
	if line[0] == ' ' || line[0] == '\t' {
		// obs-fold: a continuation of the previous field (RFC 9112 §5.2).
		if !h.fields || h.last == fieldContentLength || h.last == fieldTransferEncoding {
			return protoErr("unexpected continuation line %s", quote(line))
		}
		if h.last == fieldConnection {
			h.connection(line)
		}
		return nil
	}
	h.fields = true
	i := bytes.IndexByte(line, ':')
	if i <= 0 {
		return protoErr("malformed header line %s", quote(line))
	}
	name, value := line[:i], trimOWS(line[i+1:])
	if isOWS(name[len(name)-1]) {
		return protoErr("whitespace before colon in header line %s", quote(line))
	}
	h.last = fieldOf(name)
	switch h.last {
	case fieldContentLength:
		return h.length(value)
	case fieldTransferEncoding:
		return h.transferEncoding(value)
	case fieldConnection:
		h.connection(value)
	}
	return nil
}

// framing decides, once the header section of a final response is read,
// how its body is framed and whether the connection must close after it.
func (h *header) framing(status, minor int, head bool) (body bodyKind, mustClose bool, err error) {
	noBody := head || status == 101 || status == 204 || status == 304
	mustClose = h.close || (minor == 0 && !h.keepAlive) || status == 101
	te := h.te
	if te && minor == 0 {
		// HTTP/1.0 has no Transfer-Encoding; ignore it, as net/http does.
		te = false
	}
	switch {
	case te && h.hasLength:
		return bodyNone, mustClose, protoErr("both Transfer-Encoding and Content-Length")
	case noBody:
		return bodyNone, mustClose, nil
	case te && h.chunked:
		return bodyChunked, mustClose, nil
	case h.hasLength:
		return bodyLength, mustClose, nil
	default:
		// Delimited by the connection closing (RFC 9112 §6.3), which is also
		// the rule for a final coding other than chunked.
		return bodyClose, true, nil
	}
}

// chunkSizeLine parses a chunk-size line.
func chunkSizeLine(line []byte) (int64, error) {
	line, ok := trimCRLF(line)
	if !ok {
		return 0, protoErr("chunk size line %s does not end in CRLF", quote(line))
	}
	size, ok := parseChunkSize(line)
	if !ok {
		return 0, protoErr("bad chunk size line %s", quote(line))
	}
	return size, nil
}

// chunkEndLimit is the longest line that can end chunk data: CRLF.
const chunkEndLimit = 2

var errChunkEnd = protoErr("chunk data not followed by CRLF")

// chunkEnd checks the line that follows chunk data (read with limit
// chunkEndLimit); err is the error of reading it.
func chunkEnd(line []byte, err error) error {
	if err == errLineTooLong || (err == nil && string(line) != "\r\n") {
		return errChunkEnd
	}
	return err
}

// trailerLine checks one trailer line and reports whether it is the blank
// line that ends the trailer section. Trailer fields are not interpreted.
func trailerLine(line []byte) (end bool, err error) {
	line, ok := trimCRLF(line)
	if !ok {
		return false, protoErr("trailer line %s does not end in CRLF", quote(line))
	}
	if len(line) == 0 {
		return true, nil
	}
	if bytes.IndexByte(line, ':') <= 0 && !isOWS(line[0]) {
		return false, protoErr("malformed trailer line %s", quote(line))
	}
	return false, nil
}

var (
	errHeaderTooBig  = protoErr("header section exceeds %d bytes", MaxHeaderBytes)
	errTrailerTooBig = protoErr("trailer section exceeds %d bytes", MaxHeaderBytes)
)

// readResponse reads one response (after any interim 1xx ones) from the
// connection, discarding the body, and sets resp.Status and resp.BytesIn
// and c.mustClose.
func (c *Client) readResponse(resp *Response, head bool) error {
	for {
		start := resp.BytesIn
		line, err := c.readLine(MaxHeaderBytes, resp)
		if err != nil {
			if err == io.EOF && resp.BytesIn > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		status, minor, err := statusLine(line)
		if err != nil {
			return err
		}
		var h header
		if err := c.readHeader(&h, start, resp); err != nil {
			return err
		}
		if interim(status) {
			continue // its final response follows
		}
		resp.Status = status
		return c.readBody(&h, status, minor, head, resp)
	}
}

// readHeader reads header fields up to the blank line; start is the value
// of resp.BytesIn at the start of the status line.
func (c *Client) readHeader(h *header, start int64, resp *Response) error {
	for {
		limit := MaxHeaderBytes - int(resp.BytesIn-start)
		if limit <= 0 {
			return errHeaderTooBig
		}
		line, err := c.readLine(limit, resp)
		if err != nil {
			return eofIsUnexpected(err)
		}
		line = trimEOL(line)
		if len(line) == 0 {
			return nil
		}
		if err := h.headerLine(line); err != nil {
			return err
		}
	}
}

// readBody reads and discards the body as the header frames it.
func (c *Client) readBody(h *header, status, minor int, head bool, resp *Response) error {
	body, mustClose, err := h.framing(status, minor, head)
	c.mustClose = mustClose
	if err != nil {
		return err
	}
	switch body {
	case bodyChunked:
		return c.discardChunked(resp)
	case bodyLength:
		return c.discard(h.contentLength, resp)
	case bodyClose:
		return c.discardToEOF(resp)
	}
	return nil
}

// discardChunked reads a chunked body and its trailer section.
func (c *Client) discardChunked(resp *Response) error {
	for {
		line, err := c.readLine(MaxHeaderBytes, resp)
		if err != nil {
			return eofIsUnexpected(err)
		}
		size, err := chunkSizeLine(line)
		if err != nil {
			return err
		}
		if size == 0 {
			break
		}
		if err := c.discard(size, resp); err != nil {
			return err
		}
		line, err = c.readLine(chunkEndLimit, resp)
		if err := chunkEnd(line, err); err != nil {
			return eofIsUnexpected(err)
		}
	}
	start := resp.BytesIn
	for {
		limit := MaxHeaderBytes - int(resp.BytesIn-start)
		if limit <= 0 {
			return errTrailerTooBig
		}
		line, err := c.readLine(limit, resp)
		if err != nil {
			return eofIsUnexpected(err)
		}
		end, err := trailerLine(line)
		if end || err != nil {
			return err
		}
	}
}

// discard consumes n body bytes.
func (c *Client) discard(n int64, resp *Response) error {
	for n > 0 {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				return eofIsUnexpected(err)
			}
		}
		k := min(int64(c.w-c.r), n)
		c.r += int(k)
		n -= k
		resp.BytesIn += k
	}
	return nil
}

// discardToEOF consumes everything up to the end of the connection.
func (c *Client) discardToEOF(resp *Response) error {
	for {
		resp.BytesIn += int64(c.w - c.r)
		c.r = c.w
		if err := c.fill(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

var errLineTooLong = protoErr("line too long")

// readLine returns the next line, LF included, from the buffer, reading more
// as needed; the slice is valid until the next read. A line longer than
// limit bytes is a protocol error. At the end of the connection it returns
// io.EOF when no partial line was buffered, io.ErrUnexpectedEOF otherwise.
func (c *Client) readLine(limit int, resp *Response) ([]byte, error) {
	scanned := 0 // bytes of buf[r:w] known to hold no LF
	for {
		if i := bytes.IndexByte(c.buf[c.r+scanned:c.w], '\n'); i >= 0 {
			n := scanned + i + 1
			if n > limit {
				return nil, errLineTooLong
			}
			line := c.buf[c.r : c.r+n]
			c.r += n
			resp.BytesIn += int64(n)
			return line, nil
		}
		scanned = c.w - c.r
		if scanned >= limit {
			return nil, errLineTooLong
		}
		if c.w == len(c.buf) {
			if c.r > 0 {
				copy(c.buf, c.buf[c.r:c.w])
				c.w -= c.r
				c.r = 0
			} else {
				// A line longer than the buffer but within limit (and so
				// within MaxHeaderBytes): grow the buffer for good.
				nb := make([]byte, min(max(2*len(c.buf), 4<<10), MaxHeaderBytes))
				copy(nb, c.buf[:c.w])
				c.buf = nb
			}
		}
		if err := c.fill(); err != nil {
			if err == io.EOF && c.w > c.r {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// maxEmptyReads bounds successive reads returning nothing and no error.
const maxEmptyReads = 100

// fill reads more bytes into the buffer, which must have room unless it is
// empty. It returns an error only when no byte arrived.
func (c *Client) fill() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	for range maxEmptyReads {
		n, err := c.conn.Read(c.buf[c.w:])
		if n > 0 {
			c.w += n
			c.got = true
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// parseStatusLine parses "HTTP/1.x NNN[ reason]" (EOL removed), returning
// the status (100..599) and the minor version.
func parseStatusLine(line []byte) (status, minor int, ok bool) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' {
		return 0, 0, false
	}
	if len(line) > 12 && line[12] != ' ' {
		return 0, 0, false
	}
	for _, b := range line[9:12] {
		if !isDigit(b) {
			return 0, 0, false
		}
		status = status*10 + int(b-'0')
	}
	if status < 100 || status > 599 {
		return 0, 0, false
	}
	return status, int(line[7] - '0'), true
}

// length applies a Content-Length value: a list of identical decimal
// numbers (RFC 9110 §8.6), equal to any earlier Content-Length.
func (h *header) length(value []byte) error {
	for {
		var item []byte
		i := bytes.IndexByte(value, ',')
		if i >= 0 {
			item, value = trimOWS(value[:i]), value[i+1:]
		} else {
			item = trimOWS(value)
		}
		n, ok := parseDecimal(item)
		if !ok {
			return protoErr("bad Content-Length %s", quote(item))
		}
		if h.hasLength && n != h.contentLength {
			return protoErr("conflicting Content-Length values %d and %d", h.contentLength, n)
		}
		h.contentLength, h.hasLength = n, true
		if i < 0 {
			return nil
		}
	}
}

// transferEncoding applies a Transfer-Encoding value: a list of codings of
// which only chunked matters, and only as the last one.
func (h *header) transferEncoding(value []byte) error {
	h.te = true
	for len(value) > 0 {
		var item []byte
		if i := bytes.IndexByte(value, ','); i >= 0 {
			item, value = value[:i], value[i+1:]
		} else {
			item, value = value, nil
		}
		if i := bytes.IndexByte(item, ';'); i >= 0 {
			item = item[:i] // coding parameters
		}
		item = trimOWS(item)
		if len(item) == 0 {
			continue
		}
		if !equalFold(item, "chunked") {
			h.chunked = false
			continue
		}
		if h.sawChunked {
			return protoErr("chunked applied more than once")
		}
		h.chunked, h.sawChunked = true, true
	}
	return nil
}

// connection applies a Connection value's close and keep-alive options.
func (h *header) connection(value []byte) {
	for len(value) > 0 {
		var item []byte
		if i := bytes.IndexByte(value, ','); i >= 0 {
			item, value = trimOWS(value[:i]), value[i+1:]
		} else {
			item, value = trimOWS(value), nil
		}
		switch {
		case equalFold(item, "close"):
			h.close = true
		case equalFold(item, "keep-alive"):
			h.keepAlive = true
		}
	}
}

func fieldOf(name []byte) field {
	switch {
	case equalFold(name, "content-length"):
		return fieldContentLength
	case equalFold(name, "transfer-encoding"):
		return fieldTransferEncoding
	case equalFold(name, "connection"):
		return fieldConnection
	}
	return fieldOther
}

// parseChunkSize parses a chunk-size line (CRLF removed): hex digits, then
// optional whitespace and chunk extensions, which are ignored.
func parseChunkSize(line []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(line); i++ {
		v, ok := hexValue(line[i])
		if !ok {
			break
		}
		if n > (1<<63-1)>>4 {
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	if i == 0 {
		return 0, false
	}
	rest := trimOWS(line[i:])
	if len(rest) > 0 && rest[0] != ';' {
		return 0, false
	}
	return n, true
}

// parseDecimal parses a non-empty run of decimal digits into an int64.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, d := range b {
		if !isDigit(d) || n > (1<<63-1-9)/10 {
			return 0, false
		}
		n = n*10 + int64(d-'0')
	}
	return n, true
}

func hexValue(b byte) (byte, bool) {
	switch {
	case '0' <= b && b <= '9':
		return b - '0', true
	case 'a' <= b && b <= 'f':
		return b - 'a' + 10, true
	case 'A' <= b && b <= 'F':
		return b - 'A' + 10, true
	}
	return 0, false
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
func isOWS(b byte) bool   { return b == ' ' || b == '\t' }

// equalFold reports whether b equals the lower-case ASCII string s, ignoring
// ASCII case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && isOWS(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isOWS(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// trimEOL removes a trailing LF or CRLF (header lines may end in a bare LF,
// RFC 9112 §2.2).
func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r"))
}

// trimCRLF removes a trailing CRLF and reports whether there was one. Chunk
// framing lines must end in CRLF: a bare LF there is a classic
// request-smuggling ambiguity, and net/http rejects it too.
func trimCRLF(line []byte) ([]byte, bool) {
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return line, false
	}
	return line[:len(line)-2], true
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{outcome.ErrProtocol}, args...)...)
}

// quote quotes at most the first 64 bytes of b for an error message.
func quote(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}
