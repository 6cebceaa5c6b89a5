package oracle

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInjection(t *testing.T) {
	const html, jsonCT = "text/html; charset=utf-8", "application/json"
	tests := []struct {
		name, detector, probe, ct, body string
		want                            string // a piece of the evidence; "" means no evidence
	}{
		// sql
		{"mysql syntax", DetectSQL, "'", jsonCT, `{"error":"Error 1064 (42000): You have an error in your SQL syntax; check the manual"}`, "error in your SQL syntax"},
		{"postgres syntax", DetectSQL, "'", jsonCT, `{"error":"pq: syntax error at or near \"'\""}`, "syntax error at or near"},
		{"postgres unterminated", DetectSQL, "'", "", `ERROR: unterminated quoted string at or near "'abc"`, "unterminated quoted string"},
		{"pgx sqlstate 42601", DetectSQL, "'", "", `ERROR: something odd (SQLSTATE 42601)`, "SQLSTATE 42601"},
		{"pgx sqlstate 22P02 is a type error", DetectSQL, "'", "", `ERROR: invalid input syntax for type integer: "x" (SQLSTATE 22P02)`, ""},
		{"postgres type error is not injection", DetectSQL, "abc", jsonCT, `{"error":"pq: invalid input syntax for type integer: \"abc\""}`, ""},
		{"pdo 42000", DetectSQL, "'", "", `SQLSTATE[42000]: Syntax error or access violation`, "SQLSTATE[42000]"},
		{"pdo HY000 is not syntax", DetectSQL, "'", "", `SQLSTATE[HY000]: General error: 5 database is locked`, ""},
		{"oracle unterminated", DetectSQL, "'", "", "ORA-01756: quoted string not properly terminated", "ORA-01756"},
		{"oracle missing table is not syntax", DetectSQL, "'", "", "ORA-00942: table or view does not exist", ""},
		{"oracle 00933", DetectSQL, "'", "", "ORA-00933: command not ended", "ORA-00933"},
		{"sqlite near", DetectSQL, "'", "", `near "'": syntax error`, "syntax error"},
		{"sqlite token", DetectSQL, "'", "", `unrecognized token: "'"`, "unrecognized token"},
		{"mssql quote", DetectSQL, "'", "", "Unclosed quotation mark after the character string ''.", "Unclosed quotation mark"},
		{"mssql syntax", DetectSQL, "'", "", "Incorrect syntax near 'x'.", "Incorrect syntax near"},
		{"clean", DetectSQL, "'", jsonCT, `{"id":1,"name":"O'Brien"}`, ""},
		{"echoed probe", DetectSQL, "x' -- You have an error in your SQL syntax", jsonCT, `{"error":"no product named x' -- You have an error in your SQL syntax"}`, ""},
		{"echo inside probe copy", DetectSQL, "') syntax error at or near 'x", "", "unknown: ') syntax error at or near 'x", ""},
		// nosql
		{"mongo operator", DetectNoSQL, `{"$foo":1}`, jsonCT, `{"error":"MongoServerError: unknown operator: $foo"}`, "unknown operator: $"},
		{"mongo top level", DetectNoSQL, `{"$bar":1}`, jsonCT, `{"error":"unknown top level operator: $bar"}`, "unknown top level operator"},
		{"mongo where", DetectNoSQL, `{"$where":"sleep("}`, jsonCT, `{"error":"$where: SyntaxError: missing ) after argument list"}`, "SyntaxError"},
		{"mongo where echoed only", DetectNoSQL, `$where`, jsonCT, `{"error":"field $where is not allowed"}`, ""},
		{"mongo clean", DetectNoSQL, `{"$gt":""}`, jsonCT, `[]`, ""},
		// path traversal
		{"passwd", DetectPathTraversal, "../../../../etc/passwd", "text/plain", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n", "root:x:0:0:"},
		{"passwd bsd", DetectPathTraversal, "../../etc/passwd", "text/plain", "root:*:0:0:System Administrator:/var/root:/bin/sh", "root:*:0:0:"},
		{"win.ini", DetectPathTraversal, `..\..\windows\win.ini`, "text/plain", "; for 16-bit app support\n[fonts]\n[extensions]\n", "16-bit app support"},
		{"not found", DetectPathTraversal, "../../etc/passwd", jsonCT, `{"error":"file ../../etc/passwd not found"}`, ""},
		{"echoed passwd line", DetectPathTraversal, "root:x:0:0:", jsonCT, `{"error":"bad name root:x:0:0:"}`, ""},
		// command
		{"id output", DetectCommand, ";id", "text/plain", "uid=33(www-data) gid=33(www-data) groups=33(www-data)\n", "uid=33(www-data) gid=33"},
		{"id echoed", DetectCommand, ";echo uid=0(root) gid=0(root)", jsonCT, `{"error":"bad name ;echo uid=0(root) gid=0(root)"}`, ""},
		{"uid word", DetectCommand, ";id", jsonCT, `{"uid=":"x","guid=5(":1}`, ""},
		{"shell arithmetic", DetectCommand, "$(echo zq$((7*191))zq)", "text/plain", "result: zq1337zq", "zq1337zq"},
		{"shell arithmetic echoed", DetectCommand, "$(echo zq$((7*191))zq)", "text/plain", "bad: $(echo zq$((7*191))zq)", ""},
		// template
		{"jinja", DetectTemplate, "zq{{7*191}}zq", "text/html", "<p>Hello zq1337zq</p>", "zq1337zq"},
		{"jinja spaces", DetectTemplate, "zq{{ 7 * 191 }}zq", "text/html", "<p>Hello zq1337zq</p>", "zq1337zq"},
		{"dollar", DetectTemplate, "ab-${7*191}-cd", jsonCT, `{"name":"ab-1337-cd"}`, "ab-1337-cd"},
		{"erb", DetectTemplate, "zq<%= 7*191 %>zq", "text/html", "zq1337zq", "zq1337zq"},
		{"ruby interpolation", DetectTemplate, "zq#{7*191}zq", jsonCT, `"zq1337zq"`, "zq1337zq"},
		{"razor", DetectTemplate, "zq@(7*191)zq", "text/html", "zq1337zq", "zq1337zq"},
		{"reflected unevaluated", DetectTemplate, "zq{{7*191}}zq", "text/html", "<p>Hello zq{{7*191}}zq</p>", ""},
		{"product without marker", DetectTemplate, "zq{{7*191}}zq", jsonCT, `{"id":1337}`, ""},
		{"bare probe", DetectTemplate, "{{7*191}}", jsonCT, `{"total":1337}`, "1337"},
		{"bare probe digits around", DetectTemplate, "{{7*191}}", jsonCT, `{"total":21337,"id":13370}`, ""},
		{"bare small product", DetectTemplate, "{{7*7}}", jsonCT, `{"total":49}`, ""},
		{"no delimiters", DetectTemplate, "zq7*191zq", jsonCT, "zq1337zq", ""},
		{"probe carries product", DetectTemplate, "zq1337zq{{7*191}}", jsonCT, "zq1337zq", ""},
		{"second expression", DetectTemplate, "a{{x}}b zq{{3*5}}zq", jsonCT, "zq15zq", "zq15zq"},
		// xss
		{"script reflected", DetectXSS, "<script>alert(1337)</script>", html, "<p>Results for <script>alert(1337)</script></p>", "<script>alert(1337)</script>"},
		{"attribute breakout", DetectXSS, `"><svg/onload=alert(1337)>`, "TEXT/HTML", `<input value=""><svg/onload=alert(1337)>">`, "<svg/onload=alert(1337)>"},
		{"escaped", DetectXSS, "<script>alert(1337)</script>", html, "<p>Results for &lt;script&gt;alert(1337)&lt;/script&gt;</p>", ""},
		{"json is not html", DetectXSS, "<script>alert(1337)</script>", jsonCT, `{"q":"<script>alert(1337)</script>"}`, ""},
		{"no content type", DetectXSS, "<script>alert(1337)</script>", "", "<script>alert(1337)</script>", ""},
		{"short tag", DetectXSS, "<b>", html, "<b>bold</b>", ""},
		{"no markup", DetectXSS, "alert(1)", html, "alert(1)", ""},
		// unknown detector
		{"unknown", "ldap", "*", "", "root:x:0:0:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := Injection(tt.detector, []byte(tt.probe), tt.ct, []byte(tt.body))
			if ok != (tt.want != "") {
				t.Fatalf("Injection(%s, %q, %q, %q) = %q, %v; want evidence containing %q", tt.detector, tt.probe, tt.ct, tt.body, ev, ok, tt.want)
			}
			if !ok {
				if ev != "" {
					t.Errorf("no evidence but %q", ev)
				}
				return
			}
			if !strings.Contains(ev, tt.want) {
				t.Errorf("evidence %q does not contain %q", ev, tt.want)
			}
			checkEvidence(t, ev)
		})
	}
}

func TestInjectionCleanCorpus(t *testing.T) {
	probes := map[string]string{
		DetectSQL: "' OR '1'='1", DetectNoSQL: `{"$gt":""}`, DetectPathTraversal: "../../../etc/passwd",
		DetectCommand: ";id", DetectTemplate: "zq{{7*191}}zq", DetectXSS: "<script>alert(1337)</script>",
	}
	for name, body := range readDir(t, "testdata/clean") {
		for _, d := range Detectors {
			if ev, ok := Injection(d, []byte(probes[d]), "text/html", body); ok {
				t.Errorf("%s: detector %s matched innocent body: %q", name, d, ev)
			}
		}
	}
}

func FuzzInjection(f *testing.F) {
	f.Add("sql", []byte("'"), "text/html", []byte("You have an error in your SQL syntax"))
	f.Add("template", []byte("zq{{7*191}}zq"), "", []byte("zq1337zq"))
	f.Add("template", []byte("{{999999999*999999999}}"), "", []byte("999999998000000001"))
	f.Add("command", []byte("$((1*2))"), "", []byte("uid=1(a) gid=2("))
	f.Add("xss", []byte("<a href=x>y</a>"), "text/html", []byte("<a href=x>y</a>"))
	f.Add("nosql", []byte("$where"), "", []byte("$where SyntaxError"))
	f.Add("path-traversal", []byte(".."), "", []byte("root:x:0:0:"))
	f.Fuzz(func(t *testing.T, detector string, probe []byte, ct string, body []byte) {
		ev, ok := Injection(detector, probe, ct, body)
		if !ok && ev != "" {
			t.Fatalf("no match but evidence %q", ev)
		}
		if ok && (len(ev) > MaxEvidence || !utf8.ValidString(ev)) {
			t.Fatalf("bad evidence %q", ev)
		}
	})
}
