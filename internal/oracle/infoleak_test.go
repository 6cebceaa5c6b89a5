package oracle

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// leakSamples maps each file in testdata/leak to the kind InfoLeak must
// report and a piece of text the evidence must contain.
var leakSamples = map[string]struct{ kind, evidence string }{
	"java_plain.txt":          {StackJava, "OrderService.java:87"},
	"java_spring_json.json":   {StackJava, "OrderController.java:42"},
	"java_native.txt":         {StackJava, "(Native Method)"},
	"kotlin.txt":              {StackJava, "OrderRoutes.kt:31"},
	"python_traceback.txt":    {StackPython, "Traceback (most recent call last)"},
	"python_frames_json.json": {StackPython, `orders.py\", line 88`},
	"go_panic.txt":            {StackGo, "main.go:118 +0x2a5"},
	"dotnet.txt":              {StackDotNet, "OrdersController.cs:line 57"},
	"dotnet_framework.txt":    {StackDotNet, "System.Linq.ThrowHelper.ThrowNoElementsException"},
	"dotnet_json.json":        {StackDotNet, "at System.Number.ThrowOverflowOrFormatException("},
	"node.txt":                {StackNode, "orders.js:27:31"},
	"node_anonymous.json":     {StackNode, "Array.forEach (<anonymous>)"},
	"node_ts.txt":             {StackNode, "order.service.ts:44:13"},
	"express_html.html":       {DebugExpress, "node_modules/express/lib/router/layer.js:95:5"},
	"php_fatal_html.html":     {StackPHP, "orders.php"},
	"php_warning.html":        {StackPHP, "orders.php</b> on line <b>12"},
	"php_notice.txt":          {StackPHP, "get.php on line 7"},
	"ruby.txt":                {StackRuby, "orders_controller.rb:14:in `"},
	"ruby34.txt":              {StackRuby, "order.rb:9:in '"},
	"mysql.json":              {SQLMySQL, "error in your SQL syntax"},
	"mysql_php_call.html":     {SQLMySQL, "mysqli_fetch_assoc("},
	"postgres_pq.json":        {SQLPostgreSQL, "pq: syntax error at or near"},
	"postgres_pgx.txt":        {SQLPostgreSQL, "syntax error at or near"},
	"postgres_type.json":      {SQLPostgreSQL, "invalid input syntax for type integer"},
	"postgres_jdbc.txt":       {SQLPostgreSQL, "PSQLException"},
	"oracle.txt":              {SQLOracle, "ORA-01756"},
	"oracle_table.json":       {SQLOracle, "ORA-00942: table or view does not exist"},
	"sqlite_near.json":        {SQLSQLite, `near \"abc\": syntax error`},
	"sqlite_python.txt":       {SQLSQLite, "unrecognized token"},
	"sqlite_node.json":        {SQLSQLite, "SQLITE_ERROR"},
	"mssql.txt":               {SQLMSSQL, "Incorrect syntax near 'abc'"},
	"mssql_dotnet.json":       {SQLMSSQL, "SqlClient.SqlException"},
	"generic_pdo.json":        {SQLGeneric, "SQLSTATE[HY000]"},
	"generic_hibernate.txt":   {SQLGeneric, "SQLGrammarException"},
	"django_debug.html":       {DebugDjango, "DEBUG = True"},
	"rails_debug.html":        {DebugRails, "Action Controller: Exception caught"},
	"laravel_json.json":       {DebugLaravel, `Illuminate\`},
	"whoops.html":             {DebugLaravel, `Whoops\Exception`},
	"symfony.txt":             {DebugSymfony, `Symfony\Component\HttpKernel`},
	"spring_whitelabel.html":  {DebugSpring, "Whitelabel Error Page"},
	"werkzeug.html":           {DebugWerkzeug, "Werkzeug Debugger"},
	"aspnet_ysod.html":        {DebugASPNET, "Server Error in '/' Application"},
	"aspnet_core_dev.html":    {DebugASPNET, "An unhandled exception occurred"},
	"source_path_go.json":     {SourcePath, "/srv/shop/internal/store/db.go:88"},
	"source_path_js.json":     {SourcePath, "/home/deploy/app/lib/util.js:12"},
}

func readDir(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestInfoLeakSamples(t *testing.T) {
	files := readDir(t, "testdata/leak")
	for name := range leakSamples {
		if _, ok := files[name]; !ok {
			t.Errorf("sample %s is listed but missing from testdata/leak", name)
		}
	}
	seen := map[string]bool{}
	for name, body := range files {
		t.Run(name, func(t *testing.T) {
			want, ok := leakSamples[name]
			if !ok {
				t.Fatalf("testdata/leak/%s has no expectation in leakSamples", name)
			}
			kind, ev, ok := InfoLeak(body)
			if !ok {
				t.Fatalf("InfoLeak found nothing, want %s", want.kind)
			}
			seen[kind] = true
			if kind != want.kind {
				t.Errorf("kind = %s, want %s (evidence %q)", kind, want.kind, ev)
			}
			if !strings.Contains(ev, want.evidence) {
				t.Errorf("evidence %q does not contain %q", ev, want.evidence)
			}
			checkEvidence(t, ev)
		})
	}
	for _, k := range LeakKinds {
		if !seen[k] {
			t.Errorf("no sample exercises kind %s", k)
		}
	}
}

func checkEvidence(t *testing.T, ev string) {
	t.Helper()
	if len(ev) == 0 || len(ev) > MaxEvidence {
		t.Errorf("evidence length %d, want 1..%d", len(ev), MaxEvidence)
	}
	if !utf8.ValidString(ev) {
		t.Errorf("evidence %q is not valid UTF-8", ev)
	}
	for _, r := range ev {
		if r < ' ' || r == 0x7f {
			t.Errorf("evidence %q holds control character %U", ev, r)
		}
	}
}

func TestInfoLeakClean(t *testing.T) {
	for name, body := range readDir(t, "testdata/clean") {
		t.Run(name, func(t *testing.T) {
			if kind, ev, ok := InfoLeak(body); ok {
				t.Errorf("innocent body matched %s: %q", kind, ev)
			}
		})
	}
}

func TestInfoLeakInline(t *testing.T) {
	tests := []struct {
		name, body, kind string // kind "" means no match
	}{
		{"empty", "", ""},
		{"lone paren", "(", ""},
		{"paren at end", "see (", ""},
		{"java frame without at", "call Foo.bar(Foo.java:12)", ""},
		{"java frame", "  at a.B.c(B.java:1)", StackJava},
		{"java frame needs line", "  at a.B.c(B.java:)", ""},
		{"go frame needs .go", "x.py:12 +0x1f", ""},
		{"go frame", "x/y.go:12 +0x1f", StackGo},
		{"plus hex alone", "offset +0x10", ""},
		{"python file not py", `File "a.txt", line 3`, ""},
		{"python file", `File "/a/b.py", line 3, in f`, StackPython},
		{"ruby needs .rb", "foo.txt:3:in `x'", ""},
		{"php warning without file", "Warning: low stock", ""},
		{"php warning", "Warning: oops in /var/www/a.php on line 3", StackPHP},
		{"ora needs five digits", "ORA-123: x", ""},
		{"ora word", "FLORA-12345: x", ""},
		{"sqlstate needs code", "SQLSTATE[x]", ""},
		{"pq inside word", "mypq: x", ""},
		{"pg needs class", "PG::", ""},
		{"sqlite near needs near", `x": syntax error`, ""},
		{"django needs settings", "DEBUG = True", ""},
		{"aspnet needs application", "Server Error in 'x", ""},
		{"node frame needs at", "(app/x.js:1:2)", ""},
		{"path without frame", "(/app/x.js:1:2)", SourcePath},
		{"node frame", "    at f (/app/x.js:1:2)", StackNode},
		{"node internal", "    at process (node:internal/process/task_queues:95:5)", StackNode},
		{"dotnet system frame mid-line", "call at System.Foo(x) today", ""},
		{"relative path", "(src/a.go:12)", ""},
		{"absolute path one dir", "(/a.go:12)", ""},
		{"windows path", `failed (C:\src\app\main.go:12)`, SourcePath},
		{"mysql function", "mysql_query(", SQLMySQL},
		{"mysql function word", "callmysql_query(", ""},
		{"higher rank wins", "You have an error in your SQL syntax\n  at a.B.c(B.java:1)", StackJava},
		{"debug page beats trace", "Traceback (most recent call last):\nWerkzeug Debugger", DebugWerkzeug},
		{"invalid utf8 around", "\xff\xfe at a.B.c(B.java:1) \xff", StackJava},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, ev, ok := InfoLeak([]byte(tt.body))
			if ok != (tt.kind != "") || kind != tt.kind {
				t.Fatalf("InfoLeak(%q) = %q, %q, %v; want kind %q", tt.body, kind, ev, ok, tt.kind)
			}
			if ok {
				checkEvidence(t, ev)
			}
		})
	}
}

func TestInfoLeakEvidenceLongLine(t *testing.T) {
	body := strings.Repeat("é", 400) + " at a.B.c(B.java:1) " + strings.Repeat("ü", 400)
	kind, ev, ok := InfoLeak([]byte(body))
	if !ok || kind != StackJava {
		t.Fatalf("got %q %v", kind, ok)
	}
	checkEvidence(t, ev)
	if !strings.Contains(ev, "a.B.c(B.java:1)") {
		t.Errorf("evidence %q lost the match", ev)
	}
}

func TestLeakTables(t *testing.T) {
	// every literal's pivot is in it, every kind is known
	for _, specs := range [][]anchorSpec{leakSpecs, sqlSpecs, sqlInjectSpecs} {
		for _, s := range specs {
			if !strings.ContainsRune(s.lit, rune(s.pivot)) {
				t.Errorf("anchor %q: pivot %q not in literal", s.lit, s.pivot)
			}
			if s.kind != "" && !slices.Contains(LeakKinds, s.kind) {
				t.Errorf("anchor %q: unknown kind %q", s.lit, s.kind)
			}
			if s.kind == "" && s.check == nil {
				t.Errorf("anchor %q: neither kind nor check", s.lit)
			}
		}
	}
}

func FuzzInfoLeak(f *testing.F) {
	for _, dir := range []string{"testdata/leak", "testdata/clean"} {
		for _, b := range readDir(f, dir) {
			f.Add(b)
		}
	}
	f.Add([]byte("(\\n at"))
	f.Fuzz(func(t *testing.T, body []byte) {
		kind, ev, ok := InfoLeak(body)
		if !ok {
			if kind != "" || ev != "" {
				t.Fatalf("no match but kind %q evidence %q", kind, ev)
			}
			return
		}
		if !slices.Contains(LeakKinds, kind) {
			t.Fatalf("unknown kind %q", kind)
		}
		if len(ev) > MaxEvidence || !utf8.ValidString(ev) {
			t.Fatalf("bad evidence %q", ev)
		}
	})
}
