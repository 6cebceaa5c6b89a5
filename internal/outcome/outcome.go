package outcome

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"

	barragev1 "github.com/barrage-dev/barrage/proto/barrage/v1"
)

// ErrProtocol marks a response that is not valid HTTP: a bad status line,
// bad or conflicting framing headers, a bad chunk size, oversized headers.
// Clients wrap it (fmt.Errorf("%w: ...", ErrProtocol)); [Kind] reports it
// as "protocol".
var ErrProtocol = errors.New("malformed HTTP response")

// The error kinds [Kind] returns.
const (
	// KindTimeout: the request (dial, TLS handshake, write or read) ran out of
	// time, including a context deadline.
	KindTimeout = "timeout"
	// KindRefused: the TCP connection was refused (nothing listening).
	KindRefused = "refused"
	// KindReset: the peer reset the connection (ECONNRESET, EPIPE,
	// ECONNABORTED) or an HTTP/2 stream was reset.
	KindReset = "reset"
	// KindTLS: the TLS handshake failed (untrusted or invalid certificate,
	// alert from the peer, non-TLS server answering a TLS client).
	KindTLS = "tls"
	// KindDNS: the host name could not be resolved.
	KindDNS = "dns"
	// KindClosed: the server closed the connection without a (complete)
	// response: io.EOF, io.ErrUnexpectedEOF, HTTP/2 GOAWAY or lost connection.
	KindClosed = "closed"
	// KindProtocol: the response was not valid HTTP (see [ErrProtocol]).
	KindProtocol = "protocol"
	// KindCanceled: the request was cancelled by the caller (context
	// cancelled, client aborted) before its outcome was known; it says
	// nothing about the target, and a run's report may leave it out.
	KindCanceled = "canceled"
	// KindOther: anything else.
	KindOther = "other"
)

// Kinds lists every value [Kind] returns for a non-nil error, in the fixed
// order reports use.
var Kinds = []string{
	KindTimeout, KindRefused, KindReset, KindTLS, KindDNS,
	KindClosed, KindProtocol, KindCanceled, KindOther,
}

// Kind classifies a request error; it returns "" for a nil error and one of
// [Kinds] otherwise. It understands errors from internal/h1 and from Go's
// net/http client (url.Error, HTTP/2 errors, crypto/tls and x509 errors,
// *net.DNSError, syscall errnos, deadline and context errors, io.EOF).
//
// When an error carries several signs (a DNS lookup that timed out), the
// first kind in this order wins: dns, timeout, canceled, refused, tls,
// reset, closed, protocol, other.
func Kind(err error) string {
	if err == nil {
		return ""
	}
	var s signs
	s.walk(err, 0)
	switch {
	case s.dns:
		return KindDNS
	case s.timeout:
		return KindTimeout
	case s.canceled:
		return KindCanceled
	case s.refused:
		return KindRefused
	case s.tls:
		return KindTLS
	case s.reset:
		return KindReset
	case s.closed:
		return KindClosed
	case s.protocol:
		return KindProtocol
	}
	return KindOther
}

// signs collects what the nodes of an error tree say.
type signs struct {
	dns, timeout, canceled, refused, tls, reset, closed, protocol bool
}

// maxDepth bounds the walk of an error tree (a defence against cycles).
const maxDepth = 64

func (s *signs) walk(err error, depth int) {
	if err == nil || depth > maxDepth {
		return
	}
	s.node(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		s.walk(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			s.walk(e, depth+1)
		}
	default:
		s.leaf(err.Error())
	}
}

// node looks at one error of the tree by identity and type.
func (s *signs) node(err error) {
	switch err {
	case context.Canceled:
		s.canceled = true
	case context.DeadlineExceeded, os.ErrDeadlineExceeded:
		s.timeout = true
	case io.EOF, io.ErrUnexpectedEOF:
		s.closed = true
	case ErrProtocol:
		s.protocol = true
	}
	if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
		s.timeout = true
	}
	switch e := err.(type) {
	case *net.DNSError:
		s.dns = true
	case syscall.Errno:
		switch e {
		case syscall.ECONNREFUSED:
			s.refused = true
		case syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE:
			s.reset = true
		case syscall.ETIMEDOUT:
			s.timeout = true
		}
	case tls.RecordHeaderError, tls.AlertError, *tls.CertificateVerificationError,
		*tls.ECHRejectionError, x509.UnknownAuthorityError, x509.HostnameError,
		x509.CertificateInvalidError, x509.ConstraintViolationError,
		x509.UnhandledCriticalExtension, x509.InsecureAlgorithmError, x509.SystemRootsError:
		s.tls = true
	case textproto.ProtocolError:
		s.protocol = true
	}
}

// leaf recognises errors that the standard library makes with errors.New
// (unexported sentinels, no type to match) by their fixed messages. Only
// leaves are matched, so a wrapper's text (a URL, say) cannot confuse it.
func (s *signs) leaf(msg string) {
	has := func(subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(msg, sub) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(msg, "net/http: request canceled"):
		s.canceled = true
	case strings.HasPrefix(msg, "tls: "), strings.HasPrefix(msg, "x509: "),
		has("server gave HTTP response to HTTPS client"):
		s.tls = true
	case strings.HasPrefix(msg, "stream error: "):
		// HTTP/2 RST_STREAM. A protocol-level code means the response was
		// malformed; anything else is the stream analogue of a reset.
		if has("PROTOCOL_ERROR", "FRAME_SIZE_ERROR", "COMPRESSION_ERROR") {
			s.protocol = true
		} else {
			s.reset = true
		}
	case strings.HasPrefix(msg, "connection error: "):
		// HTTP/2 connection error detected by the client.
		s.protocol = true
	case has("http: server closed idle connection", "http2: client connection lost",
		"http2: server sent GOAWAY", "http2: Transport received Server's graceful shutdown GOAWAY",
		"unexpected EOF reading trailer"):
		s.closed = true
	case has("malformed HTTP", "malformed MIME header", "Content-Length", "Transfer-Encoding",
		"transfer encodings", "chunked", "chunk length", "header line too long",
		"server response headers exceeded", "trailer key", "long trailer"):
		s.protocol = true
	}
}

// Class maps an HTTP status code to its outcome class: 100..199 is 1xx (a
// final 1xx, such as 101, is rare), ..., 500..599 is 5xx.
//
// A status outside 100..599 is not valid HTTP (RFC 9110 §15 defines codes
// 100 through 599 only). There is no class for it, so it is classed as
// OUTCOME_CLASS_ERROR, with the transport errors: internal/h1 rejects such a
// status as a protocol error, and this keeps net/http's responses (which it
// accepts) in the same bucket.
func Class(status int) barragev1.OutcomeClass {
	switch {
	case status >= 100 && status < 200:
		return barragev1.OutcomeClass_OUTCOME_CLASS_1XX
	case status >= 200 && status < 300:
		return barragev1.OutcomeClass_OUTCOME_CLASS_2XX
	case status >= 300 && status < 400:
		return barragev1.OutcomeClass_OUTCOME_CLASS_3XX
	case status >= 400 && status < 500:
		return barragev1.OutcomeClass_OUTCOME_CLASS_4XX
	case status >= 500 && status < 600:
		return barragev1.OutcomeClass_OUTCOME_CLASS_5XX
	}
	return barragev1.OutcomeClass_OUTCOME_CLASS_ERROR
}

// ClassName gives the short report name of a class: "1xx".."5xx", "error",
// and "unspecified" for OUTCOME_CLASS_UNSPECIFIED or an unknown value.
func ClassName(c barragev1.OutcomeClass) string {
	switch c {
	case barragev1.OutcomeClass_OUTCOME_CLASS_1XX:
		return "1xx"
	case barragev1.OutcomeClass_OUTCOME_CLASS_2XX:
		return "2xx"
	case barragev1.OutcomeClass_OUTCOME_CLASS_3XX:
		return "3xx"
	case barragev1.OutcomeClass_OUTCOME_CLASS_4XX:
		return "4xx"
	case barragev1.OutcomeClass_OUTCOME_CLASS_5XX:
		return "5xx"
	case barragev1.OutcomeClass_OUTCOME_CLASS_ERROR:
		return "error"
	}
	return "unspecified"
}
