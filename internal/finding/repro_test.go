package finding

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recorder is a raw TCP (or TLS) listener on loopback that records the
// bytes of one connection: it reads until it has want bytes (or the peer
// closes, or a safety deadline passes), answers a minimal HTTP response and
// closes.
type recorder struct {
	ln  net.Listener
	got chan []byte
}

func newRecorder(t *testing.T, want int, tlsConf *tls.Config) *recorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	r := &recorder{ln: ln, got: make(chan []byte, 1)}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			r.got <- nil
			return
		}
		defer c.Close()
		// a safety net against a hung client, not a timing assertion
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var buf bytes.Buffer
		chunk := make([]byte, 64<<10)
		for buf.Len() < want {
			n, err := c.Read(chunk)
			buf.Write(chunk[:n])
			if err != nil {
				break
			}
		}
		_, _ = io.WriteString(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
		r.got <- buf.Bytes()
	}()
	t.Cleanup(func() { ln.Close() })
	return r
}

func (r *recorder) addr() string { return r.ln.Addr().String() }

// result returns what the connection sent, once the command that made it
// has exited: closing the listener ends a wait for a connection that never
// came.
func (r *recorder) result() []byte {
	r.ln.Close()
	select {
	case b := <-r.got:
		return b
	case <-time.After(30 * time.Second):
		return nil
	}
}

// runShell runs cmd with bash and returns its combined output.
func runShell(t *testing.T, shell, cmd string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// a script file, not -c: a long command would exceed the kernel's
	// limit on one argument
	script := filepath.Join(t.TempDir(), "cmd.sh")
	if err := os.WriteFile(script, []byte(cmd+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := exec.CommandContext(ctx, shell, script)
	c.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C"} // no proxies
	out, err := c.CombinedOutput()
	if err != nil {
		t.Logf("%s: %v\n%s", shell, err, abbrev(out))
	}
	return out
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; this test runs the generated command with the real tool (Debian: apt-get install %s)", tool, map[string]string{"nc": "netcat-openbsd"}[tool]+map[string]string{"curl": "curl", "bash": "bash", "openssl": "openssl"}[tool])
		}
	}
}

const crlf = "\r\n"

// abbrev shortens b for a test message.
func abbrev[T string | []byte](b T) string {
	if len(b) > 400 {
		return fmt.Sprintf("%q… (%d bytes)", b[:400], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func req(lines ...string) []byte { return []byte(strings.Join(lines, crlf)) }

// curlable lists requests curl can send exactly.
var curlable = []struct {
	name string
	req  []byte
}{
	{"get", req("GET /products?limit=10&sort=price HTTP/1.1", "Host: shop.example", "User-Agent: barrage/1.0", "Accept: application/json", "", "")},
	{"get no host", req("GET / HTTP/1.1", "X-Test: 1", "", "")},
	{"get host only", req("GET /a HTTP/1.1", "Host: 127.0.0.1:8080", "", "")},
	{"post json", req("POST /orders HTTP/1.1", "Host: shop.example", "Content-Type: application/json", "Content-Length: 33", "", `{"product_id":7,"quantity":10001}`)},
	{"put odd body", req("PUT /notes/1 HTTP/1.1", "Host: h", "Content-Type: text/plain", "Content-Length: 44", "", "it's \"quoted\"\n\ttab \\ back $HOME `x` !x é\x01\x7f\xff")},
	{"body with nul", req("POST /upload HTTP/1.1", "Host: h", "Content-Length: 9", "", "a\x00b\x00%s%%\\")},
	{"body starting with at", req("POST /x HTTP/1.1", "Host: h", "Content-Length: 10", "", "@/etc/host")},
	{"body starting with dash", req("POST /x HTTP/1.1", "Host: h", "Content-Length: 5", "", "-n -e")},
	{"large body", append(req("POST /big HTTP/1.1", "Host: h", "Content-Length: 70000", "", ""), bytes.Repeat([]byte("ab'\n"), 17500)...)},
	{"body over 1 KiB", append(req("POST /big HTTP/1.1", "Host: h", "Content-Length: 2000", "", ""), bytes.Repeat([]byte("x"), 2000)...)},
	{"get with body", req("GET /search HTTP/1.1", "Host: h", "Content-Length: 3", "", "abc")},
	{"dot segments", req("GET /a/../b/./c/.. HTTP/1.1", "Host: h", "", "")},
	{"brackets and braces", req("GET /q?a[0]=1&b={x}&c=%zz HTTP/1.1", "Host: h", "", "")},
	{"space in target", req("GET /a b?c d HTTP/1.1", "Host: h", "", "")},
	{"hash in target", req("GET /a#frag HTTP/1.1", "Host: h", "", "")},
	{"non-ascii target", req("GET /caf\xc3\xa9/\xff HTTP/1.1", "Host: h", "", "")},
	{"asterisk form", req("OPTIONS * HTTP/1.1", "Host: h", "", "")},
	{"absolute form", req("GET http://other.example/x HTTP/1.1", "Host: other.example", "", "")},
	{"head", req("HEAD /x HTTP/1.1", "Host: h", "", "")},
	{"delete", req("DELETE /orders/7 HTTP/1.1", "Host: h", "Authorization: Bearer abc.def", "", "")},
	{"post without body", req("POST /x HTTP/1.1", "Host: h", "", "")},
	{"post content-length zero", req("POST /x HTTP/1.1", "Host: h", "Content-Length: 0", "", "")},
	{"lower-case method", req("get /x HTTP/1.1", "Host: h", "", "")},
	{"custom method", req("PROPFIND /x HTTP/1.1", "Host: h", "", "")},
	{"empty header value", req("GET /x HTTP/1.1", "Host: h", "X-Empty:", "", "")},
	{"header spacing", req("GET /x HTTP/1.1", "Host:h", "X-A:b", "X-B:  two spaces", "X-C: trailing ", "X-D:\ttab", "", "")},
	{"duplicate headers", req("GET /x HTTP/1.1", "Host: h", "X-A: 1", "Cookie: a=1", "X-A: 2", "Cookie: b=2", "", "")},
	{"odd header bytes", req("GET /x HTTP/1.1", "Host: h", "X-Ctl: a\x01b", "X-Utf8: caf\xc3\xa9", "X-Bin: \xff\xfe", "X-Quote: it's", "", "")},
	{"user agent and accept late", req("GET /x HTTP/1.1", "Host: h", "X-First: 1", "Accept: */*", "User-Agent: curl/0", "", "")},
	{"content-type without body", req("DELETE /x HTTP/1.1", "Host: h", "Content-Type: application/json", "", "")},
	{"content-length late", req("PATCH /x HTTP/1.1", "Host: h", "X-A: 1", "Content-Length: 2", "X-B: 2", "", "{}")},
}

// notCurlable lists requests curl cannot send exactly.
var notCurlable = []struct {
	name string
	req  []byte
}{
	{"no end of head", []byte("GET / HTTP/1.1\r\nHost: h\r\n")},
	{"bare lf", []byte("GET / HTTP/1.1\nHost: h\n\n")},
	{"bare lf in header", req("GET / HTTP/1.1", "Host: h", "X-A: a\nb", "", "")},
	{"bare cr in header", req("GET / HTTP/1.1", "Host: h", "X-A: a\rb", "", "")},
	{"nul in header", req("GET / HTTP/1.1", "Host: h", "X-A: a\x00b", "", "")},
	{"http/1.0", req("GET / HTTP/1.0", "Host: h", "", "")},
	{"no version", req("GET /", "Host: h", "", "")},
	{"empty target", req("GET  HTTP/1.1", "Host: h", "", "")},
	{"bad method", req("G(T / HTTP/1.1", "Host: h", "", "")},
	{"host not first", req("GET / HTTP/1.1", "X-A: 1", "Host: h", "", "")},
	{"two hosts", req("GET / HTTP/1.1", "Host: h", "Host: i", "", "")},
	{"chunked", req("POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked", "", "3\r\nabc\r\n0\r\n\r\n")},
	{"short content-length", req("POST / HTTP/1.1", "Host: h", "Content-Length: 2", "", "abc")},
	{"long content-length", req("POST / HTTP/1.1", "Host: h", "Content-Length: 9", "", "abc")},
	{"two content-lengths", req("POST / HTTP/1.1", "Host: h", "Content-Length: 3", "Content-Length: 3", "", "abc")},
	{"signed content-length", req("POST / HTTP/1.1", "Host: h", "Content-Length: +3", "", "abc")},
	{"body without length", req("POST / HTTP/1.1", "Host: h", "", "abc")},
	{"header without colon", req("GET / HTTP/1.1", "Host: h", "garbage", "", "")},
	{"header name with space", req("GET / HTTP/1.1", "Host: h", "X A: 1", "", "")},
	{"obs-fold", req("GET / HTTP/1.1", "Host: h", "X-A: 1", " continued", "", "")},
	{"white space value", req("GET / HTTP/1.1", "Host: h", "X-A: ", "", "")},
}

func TestCurlRoundTrip(t *testing.T) {
	need(t, "bash", "curl")
	for _, tt := range curlable {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, len(tt.req), nil)
			cmd, ok := Curl(tt.req, "http://"+rec.addr()+"/ignored/base/path")
			if !ok {
				t.Fatalf("Curl returned false for %s", abbrev(tt.req))
			}
			out := runShell(t, "bash", cmd)
			got := rec.result()
			if !bytes.Equal(got, tt.req) {
				t.Errorf("curl sent\n%s\nwant\n%s\ncommand: %s\noutput: %s", abbrev(got), abbrev(tt.req), abbrev(cmd), abbrev(out))
			}
		})
	}
}

func TestCurlRejects(t *testing.T) {
	for _, tt := range notCurlable {
		t.Run(tt.name, func(t *testing.T) {
			if cmd, ok := Curl(tt.req, "http://127.0.0.1:1"); ok {
				t.Errorf("Curl accepted %q: %s", tt.req, cmd)
			}
		})
	}
	good := curlable[0].req
	for _, base := range []string{"ftp://h/", "http://", "http://user:pw@h/", "::bad", "http://h h/"} {
		if cmd, ok := Curl(good, base); ok {
			t.Errorf("Curl accepted base %q: %s", base, cmd)
		}
	}
	if _, ok := Curl(req("GET / HTTP/1.1", "X: 1", "", ""), ""); ok {
		t.Error("Curl without base URL or Host header accepted")
	}
}

func TestCurlCommandShape(t *testing.T) {
	tests := []struct {
		name        string
		req         []byte
		base        string
		has, hasNot []string
	}{
		{"plain get", curlable[0].req, "http://127.0.0.1:8080", []string{"curl -i 'http://127.0.0.1:8080/products?limit=10&sort=price'", "-H 'Host: shop.example'"}, []string{"-X", "--request-target", "-g", "--path-as-is", "-H 'Host:'"}},
		{"https", curlable[0].req, "https://shop.example", []string{"--http1.1", "https://shop.example/products"}, nil},
		{"base from host header", curlable[2].req, "", []string{"curl -i http://127.0.0.1:8080/a -H 'Host: 127.0.0.1:8080' -H User-Agent: -H Accept:"}, nil},
		{"post json", curlable[3].req, "http://h", []string{"--data-binary '{\"product_id\":7,\"quantity\":10001}'", "-H 'Content-Length: 33'"}, []string{"-X POST", "-H Content-Type:"}},
		{"nul body piped", curlable[5].req, "http://h", []string{"printf 'a\\000b\\000%%s%%%%\\\\' | curl", "--data-binary @-", "-H Content-Type:"}, nil},
		{"at body", curlable[6].req, "http://h", []string{"--data-raw @/etc/host"}, nil},
		{"space target", curlable[13].req, "http://h", []string{"--request-target '/a b?c d' http://h"}, nil},
		{"head", curlable[18].req, "http://h", []string{"curl --head"}, []string{"-X"}},
		{"empty header", curlable[24].req, "http://h", []string{"-H 'X-Empty;'"}, nil},
		{"control bytes", curlable[27].req, "http://h", []string{`-H $'X-Ctl: a\x01b'`, "-H 'X-Utf8: café'", `-H $'X-Bin: \xff\xfe'`, `-H 'X-Quote: it'\''s'`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd, ok := Curl(tt.req, tt.base)
			if !ok {
				t.Fatal("Curl returned false")
			}
			for _, s := range tt.has {
				if !strings.Contains(cmd, s) {
					t.Errorf("command lacks %q:\n%s", s, cmd)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(cmd, s) {
					t.Errorf("command has %q:\n%s", s, cmd)
				}
			}
		})
	}
}

func TestNetcatRoundTrip(t *testing.T) {
	need(t, "bash", "nc")
	cases := append([]struct {
		name string
		req  []byte
	}{}, notCurlable...)
	cases = append(cases, curlable[4], curlable[5], curlable[8])
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, len(tt.req), nil)
			host, port, _ := net.SplitHostPort(rec.addr())
			cmd := Netcat(tt.req, host, port)
			out := runShell(t, "bash", cmd)
			got := rec.result()
			if !bytes.Equal(got, tt.req) {
				t.Errorf("nc sent\n%s\nwant\n%s\ncommand: %s\noutput: %s", abbrev(got), abbrev(tt.req), abbrev(cmd), abbrev(out))
			}
		})
	}
}

func TestReproducer(t *testing.T) {
	need(t, "bash", "curl", "nc")
	t.Run("curl when exact", func(t *testing.T) {
		rec := newRecorder(t, len(curlable[3].req), nil)
		f := Finding{Request: curlable[3].req, BaseURL: "http://" + rec.addr()}
		cmd := f.Reproducer()
		if !strings.HasPrefix(cmd, "curl ") {
			t.Fatalf("reproducer %q: want curl", cmd)
		}
		runShell(t, "bash", cmd)
		if got := rec.result(); !bytes.Equal(got, f.Request) {
			t.Errorf("sent %q", got)
		}
	})
	t.Run("nc when curl cannot", func(t *testing.T) {
		r := notCurlable[11].req // chunked
		rec := newRecorder(t, len(r), nil)
		f := Finding{Request: r, BaseURL: "http://" + rec.addr()}
		cmd := f.Reproducer()
		if !strings.Contains(cmd, "| nc 127.0.0.1 ") {
			t.Fatalf("reproducer %q: want nc", cmd)
		}
		runShell(t, "bash", cmd)
		if got := rec.result(); !bytes.Equal(got, r) {
			t.Errorf("sent %q", got)
		}
	})
	t.Run("host header when no base", func(t *testing.T) {
		f := Finding{Request: req("GET / HTTP/1.1", "X: 1", "Host: shop.example:8081", "", "")}
		if cmd := f.Reproducer(); !strings.HasSuffix(cmd, "| nc shop.example 8081") {
			t.Errorf("reproducer %q", cmd)
		}
	})
	t.Run("default ports", func(t *testing.T) {
		f := Finding{Request: notCurlable[0].req, BaseURL: "http://shop.example"}
		if cmd := f.Reproducer(); !strings.HasSuffix(cmd, "| nc shop.example 80") {
			t.Errorf("reproducer %q", cmd)
		}
		f.BaseURL = "https://shop.example"
		if cmd := f.Reproducer(); !strings.Contains(cmd, "openssl s_client -quiet -connect shop.example:443 -servername shop.example") {
			t.Errorf("reproducer %q", cmd)
		}
	})
	t.Run("empty request", func(t *testing.T) {
		if cmd := (Finding{}).Reproducer(); cmd != "" {
			t.Errorf("reproducer %q", cmd)
		}
	})
}

func TestOpenSSLReproducer(t *testing.T) {
	need(t, "bash", "openssl")
	conf := selfSigned(t)
	r := notCurlable[11].req
	rec := newRecorder(t, len(r), conf)
	f := Finding{Request: r, BaseURL: "https://" + rec.addr()}
	cmd := f.Reproducer()
	if !strings.Contains(cmd, "openssl s_client") {
		t.Fatalf("reproducer %q", cmd)
	}
	runShell(t, "bash", cmd)
	if got := rec.result(); !bytes.Equal(got, r) {
		t.Errorf("sent %q, want %q", got, r)
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// TestShellQuoting checks the quoting alone: bash must turn each quoted
// word back into the exact bytes, and sh (any POSIX shell) each printf
// format.
func TestShellQuoting(t *testing.T) {
	need(t, "bash")
	inputs := []string{
		"plain", "with space", "it's", `"dq"`, "$HOME", "`id`", "!event", "back\\slash", "new\nline\r\ttab",
		"\x01\x1f\x7f", "caf\xc3\xa9", "\xff\xfe", "\u202eevil", "\u200bzero-width", "%s%d%%", "-n", "--", "@file", "~user", "a\\x41",
	}
	for _, in := range inputs {
		out := runShell(t, "bash", "printf '%s' "+shellQuote([]byte(in)))
		if string(out) != in {
			t.Errorf("shellQuote(%q) = %s; bash read back %q", in, shellQuote([]byte(in)), out)
		}
	}
	shells := []string{"bash"}
	if _, err := exec.LookPath("sh"); err == nil {
		shells = append(shells, "sh")
	}
	for _, sh := range shells {
		for _, in := range append(inputs, "nul\x00byte\x00", "\x00", "-leading dash", "0\x0012") {
			out := runShell(t, sh, "printf "+printfQuote([]byte(in)))
			if string(out) != in {
				t.Errorf("%s: printfQuote(%q) = %s; read back %q", sh, in, printfQuote([]byte(in)), out)
			}
		}
	}
}

func FuzzCurl(f *testing.F) {
	for _, c := range curlable {
		f.Add(c.req)
	}
	for _, c := range notCurlable {
		f.Add(c.req)
	}
	f.Fuzz(func(t *testing.T, r []byte) {
		cmd, ok := Curl(r, "http://127.0.0.1:8080")
		if !ok {
			if cmd != "" {
				t.Fatalf("not ok but command %q", cmd)
			}
			return
		}
		if !strings.HasPrefix(cmd, "curl ") && !strings.HasPrefix(cmd, "printf ") {
			t.Fatalf("command %q", cmd)
		}
		if strings.ContainsAny(cmd, "\x00\n\r") {
			t.Fatalf("command holds raw control bytes: %q", cmd)
		}
		_ = Netcat(r, "127.0.0.1", "8080")
	})
}
