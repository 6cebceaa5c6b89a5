package finding

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"empty", "", ""},
		{"spaces only", " \n\t ", ""},
		{"json values", `{"id":"3f1e2c4a-269e-4d37-b2a7-4de452e6b438","qty":12,"price":-3.5e2,"ok":true,"none":null}`,
			`{"id":"","qty":0,"price":0,"ok":true,"none":null}`},
		{"json white space", "{ \"a\" : [ 1 , 2 ] }\n", `{"a":[0]}`},
		{"json array collapse", `[{"id":1,"n":"a"},{"id":2,"n":"b"},{"id":3,"n":"c"}]`, `[{"id":0,"n":""}]`},
		{"json array keeps different shapes", `[1,"a",2,{"k":1}]`, `[0,"",0,{"k":0}]`},
		{"json array collapses runs only", `[1,2,"a","b",3]`, `[0,"",0]`},
		{"json nested collapse", `{"data":[{"tags":["x","y","z"]},{"tags":["q"]}],"total":240}`, `{"data":[{"tags":[""]}],"total":0}`},
		{"json empty containers", `{"a":[],"b":{}}`, `{"a":[],"b":{}}`},
		{"json id keys", `{"3f1e2c4a-269e-4d37-b2a7-4de452e6b438":{"n":1},"12345":{"n":2}}`, `{"{uuid}":{"n":0},"{n}":{"n":0}}`},
		{"json escaped quotes", `{"msg":"say \"hi\" to {{x}}","k":1}`, `{"msg":"","k":0}`},
		{"json truncated", `{"error":"boom","trace":"java.lang.NullPointer`, `{"error":"","trace":"}`},
		{"json cut repeated element", `{"data":[{"id":1,"name":"a"},{"id":2,"na`, `{"data":[{"id":0,"name":""}]}`},
		{"json cut different element", `[{"a":1},{"b":2,"c`, `[{"a":0},{"b":0,"c}]`},
		{"json bom", "\ufeff{\"a\":1}", `{"a":0}`},
		{"text go panic", "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 34 [running]:\nmain.handle(0xc0000a6000)\n\t/src/main.go:118 +0x2a5",
			"panic: runtime error: index out of range [{n}] with length {n} goroutine {n} [running]: main.handle({hex}) /src/main.go:{n} +{hex}"},
		{"text uuid", "order 6513270e-269e-4d37-b2a7-4de452e6b438 not found", "order {uuid} not found"},
		{"text timestamps", "at 2024-10-19T12:03:14Z and 2024-10-19 12:03:14.123+02:00, 2024/05/01, 10:00:00.5 and 9:30", "at {time} and {time}, {time}, {time} and {time}"},
		{"text email ip", "user ada.l+test@shop.example from 10.1.2.3:8080 via 2001:db8::1", "user {email} from {ip}:{n} via {ip}"},
		{"text hex ids", "req 5f2b9c0d1e3a4f56 0xDEADBEEF deadbeef cafe1234", "req {hex} {hex} deadbeef {hex}"},
		{"text numbers", "took 12.5ms, 3 retries, -4 credit, 1e9 ops", "took {n}ms, {n} retries, -{n} credit, {n} ops"},
		{"text words with digits kept", "v2 utf8 item2 HTTP/1.1 404NotFound", "v2 utf8 item2 HTTP/{n} {n}NotFound"},
		{"text long token", "token eyJhbGciOiJIUzI1NiJ9abc expired", "token {id} expired"},
		{"text quotes emptied", `invalid input syntax for type integer: "abc" near 'x y' don't`, `invalid input syntax for type integer: "" near '' don't`},
		{"text source path kept", `File "/app/shop/views.py", line 42, in create_order`, `File "/app/shop/views.py", line {n}, in create_order`},
		{"text quote across lines is not a quote", "say \"a\nb\" ok", "say \"a b\" ok"},
		{"html", "<p class=\"x\">Hello 42</p>", "<p class=\"\">Hello {n}</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Normalize([]byte(tt.body))); got != tt.want {
				t.Errorf("Normalize(%q)\n got %q\nwant %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestNormalizeLimits(t *testing.T) {
	// only the first NormalizeInput bytes count
	head := strings.Repeat("word ", NormalizeInput/5)
	a := Normalize([]byte(head + "tail one"))
	b := Normalize([]byte(head + "tail two, different"))
	if string(a) != string(b) {
		t.Errorf("bytes past NormalizeInput changed the result")
	}
	if len(a) > NormalizeOutput {
		t.Errorf("len = %d, want <= %d", len(a), NormalizeOutput)
	}
	// the output is cut on a rune boundary
	long := Normalize([]byte(strings.Repeat("é", NormalizeOutput)))
	if len(long) > NormalizeOutput || !utf8.Valid(long) {
		t.Errorf("cut output: len %d valid %v", len(long), utf8.Valid(long))
	}
}

func TestNormalizeLongList(t *testing.T) {
	elem := func(i int) string {
		return fmt.Sprintf(`{"id":%d,"description":"%s","tags":["a","b"],"price":%d.5}`, i, strings.Repeat("x", 1200+i), i)
	}
	list := func(n int) []byte {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = elem(i)
		}
		return []byte(`{"data":[` + strings.Join(parts, ",") + `],"total":` + fmt.Sprint(n) + `}`)
	}
	one, many := Normalize(list(1)), Normalize(list(10)) // list(10) is cut at NormalizeInput
	if len(list(10)) <= NormalizeInput {
		t.Fatal("test body not long enough")
	}
	// the cut body loses the fields after the list, the short one keeps them
	if want := `{"data":[{"id":0,"description":"","tags":[""],"price":0}]}`; string(many) != want {
		t.Errorf("cut list: %s, want %s", many, want)
	}
	if !strings.HasPrefix(string(one), `{"data":[{"id":0,"description":"","tags":[""],"price":0}]`) {
		t.Errorf("short list: %s", one)
	}
}

func TestFingerprint(t *testing.T) {
	const op, mut = "createOrder", "boundaries/max+1"
	trace := func(goroutine, addr string) []byte {
		return []byte("panic: runtime error: invalid memory address or nil pointer dereference\ngoroutine " + goroutine +
			" [running]:\nmain.(*server).create(" + addr + ")\n\t/src/main.go:118 +0x2a5\n")
	}
	jsonErr := func(id, ts string) []byte {
		return []byte(`{"error":"order ` + id + ` failed","at":"` + ts + `","code":500}`)
	}
	base := Fingerprint(op, string(ServerError), mut, 500, trace("34", "0xc0000a6000"))
	if len(base) != 32 {
		t.Fatalf("fingerprint %q: want 32 hex digits", base)
	}
	if got := ShortID(base); got != base[:10] {
		t.Errorf("ShortID = %q", got)
	}
	same := []struct {
		name string
		a, b string
	}{
		{"go trace, other goroutine and addresses", base, Fingerprint(op, string(ServerError), mut, 500, trace("7", "0xc000123450"))},
		{"json error, other ids and times",
			Fingerprint(op, string(ServerError), mut, 500, jsonErr("6513270e-269e-4d37-b2a7-4de452e6b438", "2024-10-19T12:03:14Z")),
			Fingerprint(op, string(ServerError), mut, 500, jsonErr("2e44158b-ae97-4a94-90aa-123456789abc", "2025-01-01T00:00:00Z"))},
		{"list of different length",
			Fingerprint(op, string(SpecBody), "", 200, []byte(`[{"id":1,"price":"x"}]`)),
			Fingerprint(op, string(SpecBody), "", 200, []byte(`[{"id":5,"price":"y"},{"id":6,"price":"z"}]`))},
		{"body ignored for auth-not-enforced",
			Fingerprint(op, string(AuthNotEnforced), "auth/none", 200, []byte(`{"a":1}`)),
			Fingerprint(op, string(AuthNotEnforced), "auth/none", 200, []byte(`<html>other</html>`))},
		{"body ignored for latency",
			Fingerprint(op, string(LatencyOutlier), "", 200, []byte("x")),
			Fingerprint(op, string(LatencyOutlier), "", 200, nil)},
	}
	for _, s := range same {
		if s.a != s.b {
			t.Errorf("%s: fingerprints differ: %s %s", s.name, s.a, s.b)
		}
	}
	different := []struct {
		name string
		fp   string
	}{
		{"status", Fingerprint(op, string(ServerError), mut, 502, trace("34", "0xc0000a6000"))},
		{"oracle", Fingerprint(op, string(InfoLeak), mut, 500, trace("34", "0xc0000a6000"))},
		{"operation", Fingerprint("listOrders", string(ServerError), mut, 500, trace("34", "0xc0000a6000"))},
		{"mutation", Fingerprint(op, string(ServerError), "boundaries/min-1", 500, trace("34", "0xc0000a6000"))},
		{"valid traffic", Fingerprint(op, string(ServerError), "", 500, trace("34", "0xc0000a6000"))},
		{"other panic", Fingerprint(op, string(ServerError), mut, 500, []byte("panic: runtime error: index out of range [5] with length 3\ngoroutine 34 [running]:\n"))},
		{"other json shape", Fingerprint(op, string(ServerError), mut, 500, []byte(`{"message":"x","status":500}`))},
		{"empty body", Fingerprint(op, string(ServerError), mut, 500, nil)},
	}
	seen := map[string]string{base: "base"}
	for _, d := range different {
		if prev, dup := seen[d.fp]; dup {
			t.Errorf("%s: same fingerprint as %s", d.name, prev)
		}
		seen[d.fp] = d.name
	}
	// field boundaries are unambiguous
	if Fingerprint("ab", "c", "", 1, nil) == Fingerprint("a", "bc", "", 1, nil) {
		t.Error("op/oracle boundary is ambiguous")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, "goroutine 1 [running]:\n", `"unterminated`, `[[[[`, "'a' \"b\" 0x 1.e 2024-01-01T", "a@b.c 1.2.3.4 ::1 ff::1:2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n := Normalize(body)
		if len(n) > NormalizeOutput {
			t.Fatalf("len %d", len(n))
		}
		if utf8.Valid(body) && !utf8.Valid(n) {
			t.Fatalf("valid input, invalid output %q", n)
		}
		if string(Normalize(body)) != string(n) {
			t.Fatal("not deterministic")
		}
	})
}
