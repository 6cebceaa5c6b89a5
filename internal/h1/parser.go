package h1

import (
	"bytes"
	"io"
)

// Parser parses one HTTP/1.1 response at a time from bytes pushed into it,
// for an event loop that reads non-blocking connections: it frames a
// response exactly as [Client] does (same rules, same errors, same byte
// accounting), but the bytes may arrive in pieces of any size and it never
// reads by itself. The body is counted and skipped, never copied.
//
// A header, chunk-size or trailer line split across Feed calls is kept in
// an internal buffer (that buffer is the only thing a Parser allocates: it
// grows to the longest split line seen, at most MaxHeaderBytes, and is kept
// across Reset, so parsing allocates nothing in steady state). Lines that
// arrive whole in one Feed are parsed in place.
//
// The zero value is ready to parse the response to a request other than
// HEAD; Reset starts the next one. A Parser is not safe for concurrent use.
type Parser struct {
	state     parseState
	head      bool   // the request was HEAD
	h         header // header of the response being read
	status    int    // from its status line
	minor     int    // HTTP minor version
	remain    int64  // body or chunk bytes still to come
	start     int64  // bytesIn at the start of the header or trailer section being read
	line      []byte // the start of a line that a later Feed completes
	bytesIn   int64
	started   bool
	mustClose bool
	err       error // the error that stopped the parse, in stateFailed

	// Capture (see Capture): the final response's header section and up to
	// limit bytes of its (de-chunked) body, appended to caller buffers.
	capture   bool
	limit     int
	capHead   []byte // the header section captured so far
	capBody   []byte // the body captured so far
	truncated bool
	headBuf   []byte // storage kept across Reset
	bodyBuf   []byte
}

// parseState is what a Parser expects next.
type parseState uint8

const (
	stateStatus    parseState = iota // a status line
	stateHeader                      // a header line or the blank line
	stateBody                        // Content-Length body bytes (remain)
	stateChunkSize                   // a chunk-size line
	stateChunkData                   // chunk data bytes (remain)
	stateChunkEnd                    // the CRLF after chunk data
	stateTrailer                     // a trailer line or the blank line
	stateToEOF                       // body bytes up to the connection closing
	stateDone                        // the response is complete
	stateFailed                      // err stopped the parse
)

// Reset starts parsing a new response; head says the request was HEAD, so
// the response has no body. Capture is off until Capture is called.
func (p *Parser) Reset(head bool) {
	*p = Parser{head: head, line: p.line[:0], headBuf: p.headBuf[:0], bodyBuf: p.bodyBuf[:0]}
}

// Capture makes this response's header section (status line and header
// lines of the final response, CRLFs included) and up to limit bytes of its
// body (de-chunked) available through Captured. The buffers are kept across
// Reset and reused, so capturing allocates only while they grow. Call it
// after Reset, before Feed.
func (p *Parser) Capture(limit int) {
	p.capture, p.limit = true, limit
	p.capHead, p.capBody = p.headBuf[:0], p.bodyBuf[:0]
}

// Captured returns the captured header section and body (valid until the
// next Reset), and whether the body was longer than the limit.
func (p *Parser) Captured() (head, body []byte, truncated bool) {
	return p.capHead, p.capBody, p.truncated
}

func (p *Parser) captureBody(b []byte) {
	if !p.capture || len(b) == 0 {
		return
	}
	room := p.limit - len(p.capBody)
	if len(b) > room {
		b, p.truncated = b[:max(room, 0)], true
	}
	p.capBody = append(p.capBody, b...)
	p.bodyBuf = p.capBody
}

func (p *Parser) captureHead(line []byte) {
	if !p.capture {
		return
	}
	p.capHead = append(p.capHead, line...)
	p.headBuf = p.capHead
}

// Feed consumes bytes from b. It returns how many bytes it consumed,
// whether the response is complete, and an error.
//
// When the response is not complete, Feed consumed all of b (n == len(b))
// and wants more bytes, or EOF if the server closed the connection. When it
// is complete, b[n:] are bytes after the response: the server sent more
// than was asked, so, as Client does, the caller should close the
// connection. Once the response is complete, Feed consumes nothing and
// keeps returning done until Reset.
//
// An error wraps outcome.ErrProtocol: the response is malformed and the
// connection must be closed; n is then the number of bytes accepted before
// the offending line or byte. Once Feed has failed it keeps returning the
// same error until Reset.
func (p *Parser) Feed(b []byte) (n int, done bool, err error) {
	switch p.state {
	case stateDone:
		return 0, true, nil
	case stateFailed:
		return 0, false, p.err
	}
	if len(b) > 0 {
		p.started = true
	}
	for n < len(b) {
		switch p.state {
		case stateBody, stateChunkData:
			k := min(int64(len(b)-n), p.remain)
			p.captureBody(b[n : n+int(k)])
			n += int(k)
			p.remain -= k
			p.bytesIn += k
			if p.remain > 0 {
				break
			}
			if p.state == stateBody {
				p.state = stateDone
				return n, true, nil
			}
			p.state = stateChunkEnd
		case stateToEOF:
			p.captureBody(b[n:])
			p.bytesIn += int64(len(b) - n)
			n = len(b)
		default:
			line, k, err := p.nextLine(b[n:])
			if err == nil && line != nil {
				err = p.onLine(line)
			}
			if err != nil {
				if p.state == stateChunkEnd {
					err = chunkEnd(nil, err)
				}
				return n, false, p.fail(err)
			}
			n += k
			if p.state == stateDone {
				return n, true, nil
			}
		}
	}
	return n, false, nil
}

// EOF tells the parser that the server closed the connection: no more
// bytes will come. It returns done for a response whose body is delimited
// by the close, and otherwise the error Client gives in that situation:
// io.EOF when no byte of the response arrived (what a stale kept-alive
// connection gives), io.ErrUnexpectedEOF when the response is incomplete
// (an interim response alone included). After a complete response it
// returns done, after a failure the error that stopped the parse.
func (p *Parser) EOF() (done bool, err error) {
	switch p.state {
	case stateDone:
		return true, nil
	case stateFailed:
		return false, p.err
	case stateToEOF:
		p.state = stateDone
		return true, nil
	case stateStatus:
		if len(p.line) == 0 && p.bytesIn == 0 {
			return false, p.fail(io.EOF)
		}
	}
	return false, p.fail(io.ErrUnexpectedEOF)
}

// Status is the status code of the final response, 100..599 (interim 1xx
// responses are skipped; a 101 is final), once the response is complete;
// zero before that and after an error.
func (p *Parser) Status() int {
	if p.state != stateDone {
		return 0
	}
	return p.status
}

// BytesIn is the number of bytes of this response parsed so far: interim
// responses, status line, headers, body and trailers, framing included,
// counted as Response.BytesIn is. A line counts once it is complete, so
// after an error the bytes of an incomplete line are not included.
func (p *Parser) BytesIn() int64 { return p.bytesIn }

// MustClose reports, once the response is complete, that the connection
// cannot carry another request: Connection: close, HTTP/1.0 without
// keep-alive, a 101, or a body delimited by the close. It is also true
// after an error (the connection cannot be trusted any more) and false
// before the final response's header section is read.
func (p *Parser) MustClose() bool { return p.mustClose || p.state == stateFailed }

// Started reports whether at least one byte of this response arrived.
// A request whose response fails before any byte arrived on a reused
// connection may be retried on a fresh one (see the package comment).
func (p *Parser) Started() bool { return p.started }

func (p *Parser) fail(err error) error {
	p.state, p.err = stateFailed, err
	return err
}

// lineLimit is the longest line, LF included, that the current state
// accepts.
func (p *Parser) lineLimit() int {
	switch p.state {
	case stateHeader, stateTrailer:
		return MaxHeaderBytes - int(p.bytesIn-p.start)
	case stateChunkEnd:
		return chunkEndLimit
	}
	return MaxHeaderBytes
}

// nextLine takes the next line, LF included, from b, which is not empty,
// and returns it with the number of bytes of b it consumed. A nil line
// means b ended mid-line (and was buffered). A line longer than the state's
// limit is errLineTooLong, as soon as its first limit bytes hold no LF,
// which is when Client's readLine says so too.
func (p *Parser) nextLine(b []byte) (line []byte, n int, err error) {
	limit := p.lineLimit()
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(p.line)+len(b) >= limit {
			return nil, 0, errLineTooLong
		}
		p.line = append(p.line, b...)
		return nil, len(b), nil
	}
	n = i + 1
	size := len(p.line) + n
	if size > limit {
		return nil, 0, errLineTooLong
	}
	p.bytesIn += int64(size)
	if len(p.line) == 0 {
		return b[:n], n, nil
	}
	// The line is used before the buffer is written again.
	line = append(p.line, b[:n]...)
	p.line = line[:0]
	return line, n, nil
}

// onLine applies one complete line (counted in bytesIn already).
func (p *Parser) onLine(line []byte) error {
	switch p.state {
	case stateStatus:
		status, minor, err := statusLine(line)
		if err != nil {
			return err
		}
		p.status, p.minor, p.h = status, minor, header{}
		p.start = p.bytesIn - int64(len(line))
		if p.capture {
			p.capHead = p.capHead[:0] // an interim response is replaced by the next
		}
		p.captureHead(line)
		p.state = stateHeader
		if p.lineLimit() <= 0 {
			return errHeaderTooBig
		}
	case stateHeader:
		p.captureHead(line)
		line = trimEOL(line)
		if len(line) == 0 {
			return p.endHeader()
		}
		if err := p.h.headerLine(line); err != nil {
			return err
		}
		if p.lineLimit() <= 0 {
			return errHeaderTooBig
		}
	case stateChunkSize:
		size, err := chunkSizeLine(line)
		if err != nil {
			return err
		}
		if size == 0 {
			p.state, p.start = stateTrailer, p.bytesIn
			return nil
		}
		p.state, p.remain = stateChunkData, size
	case stateChunkEnd:
		if err := chunkEnd(line, nil); err != nil {
			return err
		}
		p.state = stateChunkSize
	case stateTrailer:
		end, err := trailerLine(line)
		if err != nil {
			return err
		}
		if end {
			p.state = stateDone
			return nil
		}
		if p.lineLimit() <= 0 {
			return errTrailerTooBig
		}
	}
	return nil
}

// endHeader acts on the blank line that ends a header section.
func (p *Parser) endHeader() error {
	if interim(p.status) {
		p.state = stateStatus // its final response follows
		return nil
	}
	body, mustClose, err := p.h.framing(p.status, p.minor, p.head)
	p.mustClose = mustClose
	if err != nil {
		return err
	}
	switch body {
	case bodyNone:
		p.state = stateDone
	case bodyLength:
		p.state, p.remain = stateBody, p.h.contentLength
		if p.remain == 0 {
			p.state = stateDone
		}
	case bodyChunked:
		p.state = stateChunkSize
	case bodyClose:
		p.state = stateToEOF
	}
	return nil
}

// HeaderValue returns the value of the first header field called name
// (ASCII case-insensitive) in a captured header section, without
// surrounding whitespace; nil when there is none.
func HeaderValue(head []byte, name string) []byte {
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		line := head
		if i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		c := bytes.IndexByte(line, ':')
		if c > 0 && foldEqual(line[:c], name) {
			return trimOWS(line[c+1:])
		}
	}
	return nil
}

// foldEqual compares b and s ignoring ASCII case on both sides.
func foldEqual(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
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
