package oracle

import (
	"bytes"
	"strings"
)

// Leak kinds returned by InfoLeak.
const (
	StackJava   = "stack-trace/java" // JVM: Java, Kotlin, Scala, Groovy frames
	StackPython = "stack-trace/python"
	StackGo     = "stack-trace/go" // goroutine frames ("/src/main.go:42 +0x1d")
	StackDotNet = "stack-trace/dotnet"
	StackNode   = "stack-trace/node"
	StackPHP    = "stack-trace/php" // PHP stack frames, or an error message naming a .php file and line
	StackRuby   = "stack-trace/ruby"
	SourcePath  = "source-path" // an absolute source file path with a line number, outside a trace

	SQLMySQL      = "sql-error/mysql"
	SQLPostgreSQL = "sql-error/postgresql"
	SQLOracle     = "sql-error/oracle"
	SQLSQLite     = "sql-error/sqlite"
	SQLMSSQL      = "sql-error/mssql"
	SQLGeneric    = "sql-error/generic" // a driver or ORM error that does not name the database

	DebugDjango   = "debug-page/django"
	DebugRails    = "debug-page/rails"
	DebugLaravel  = "debug-page/laravel" // Laravel/Ignition and Whoops
	DebugSymfony  = "debug-page/symfony"
	DebugWerkzeug = "debug-page/werkzeug"
	DebugASPNET   = "debug-page/aspnet"
	DebugSpring   = "debug-page/spring"  // the Whitelabel error page
	DebugExpress  = "debug-page/express" // a Node.js trace through Express in an HTML page (its development error handler)
)

// LeakKinds lists every kind InfoLeak can return.
var LeakKinds = []string{
	StackJava, StackPython, StackGo, StackDotNet, StackNode, StackPHP, StackRuby, SourcePath,
	SQLMySQL, SQLPostgreSQL, SQLOracle, SQLSQLite, SQLMSSQL, SQLGeneric,
	DebugDjango, DebugRails, DebugLaravel, DebugSymfony, DebugWerkzeug, DebugASPNET, DebugSpring, DebugExpress,
}

// leakRank orders kinds when a body shows several: a debug page says the
// most, then stack traces, then SQL errors, then the Whitelabel page, then a
// bare source path.
func leakRank(kind string) int {
	switch {
	case kind == DebugSpring:
		return 20
	case kind == DebugExpress:
		return 40
	case strings.HasPrefix(kind, "debug-page/"):
		return 50
	case strings.HasPrefix(kind, "stack-trace/"):
		return 40
	case strings.HasPrefix(kind, "sql-error/"):
		return 30
	case kind == SourcePath:
		return 10
	}
	return 0
}

// InfoLeak reports whether body exposes internals: a stack trace (Java and
// the JVM languages, Python, Go, .NET, Node.js, PHP, Ruby), an SQL error
// message (MySQL/MariaDB, PostgreSQL, Oracle, SQLite, SQL Server, or a
// database driver's exception), a framework debug page (Django DEBUG,
// Rails, Laravel/Whoops, Symfony, Werkzeug, ASP.NET, Spring Whitelabel,
// Express) or an absolute source path with a line number. Traces embedded in
// JSON strings (with \n and \t escapes) count. kind is one of [LeakKinds];
// evidence is the matching line, at most [MaxEvidence] bytes, printable.
// When a body shows several, the most telling kind wins (debug page, then
// trace, then SQL error).
//
// It looks only for specific signatures (a frame "at pkg.Class.method(File.java:42)",
// not the word "Exception"; "You have an error in your SQL syntax", not
// "SQL"), so prose that talks about errors does not match. A body without
// any of the signatures' rare pivot bytes is rejected without allocating.
func InfoLeak(body []byte) (kind, evidence string, ok bool) {
	m, ok := scan(body, leakGroups, leakRank, 50)
	if !ok {
		return "", "", false
	}
	kind = m.kind
	if kind == SQLGeneric {
		kind = refineSQL(body)
	}
	if kind == StackNode && bytes.Contains(body, []byte("node_modules/express/")) && bytes.Contains(body, []byte("<pre>")) {
		kind = DebugExpress
	}
	return kind, snippet(body, m.lo, m.hi), true
}

var leakGroups []group

// leakSpecs are the signatures. Pivots are bytes that are rare in JSON and
// HTML bodies: parenthesis, plus, backquote, apostrophe, backslash,
// upper-case letters and q x z j.
var leakSpecs = []anchorSpec{
	// frames "at a.B.c(File.java:1)", "at f (/x.js:1:2)", "#0 /x.php(3): ",
	// "at N.C.M() in /x.cs:line 4", "Traceback (most recent call last)"
	{lit: "(", pivot: '(', check: checkParen},
	// Go: "/src/main.go:42 +0x1d"
	{lit: "+0x", pivot: '+', check: checkGoFrame},
	// Python: File "/app/x.py", line 3, in f
	{lit: `File "`, pivot: 'F', check: checkPythonFile},
	{lit: `File \"`, pivot: 'F', check: checkPythonFile},
	// Ruby: /app/x.rb:3:in `m' (3.4: in 'C#m')
	{lit: ":in `", pivot: '`', check: checkRubyFrame},
	{lit: ":in '", pivot: '\'', check: checkRubyFrame},
	// PHP messages: "Fatal error: … in /x.php on line 3", "<b>Warning</b>: … in <b>/x.php</b> on line <b>3</b>"
	{lit: "Fatal error", pivot: 'F', check: checkPHPMessage},
	{lit: "Warning", pivot: 'W', check: checkPHPMessage},
	{lit: "Notice", pivot: 'N', check: checkPHPMessage},
	// Node.js frames without parentheses ("at /app/x.js:5:9") and bare source paths
	{lit: ".js:", pivot: 'j', check: checkSourceExt},
	{lit: ".mjs:", pivot: 'j', check: checkSourceExt},
	{lit: ".cjs:", pivot: 'j', check: checkSourceExt},
	{lit: ".jsx:", pivot: 'j', check: checkSourceExt},
	{lit: ".java:", pivot: 'j', check: checkSourceExt},

	// debug pages
	{lit: "DEBUG = True", pivot: 'G', check: checkDjango},
	{lit: "Action Controller: Exception caught", pivot: 'x', kind: DebugRails},
	{lit: `Illuminate\`, pivot: '\\', kind: DebugLaravel},
	{lit: `Whoops\`, pivot: '\\', kind: DebugLaravel},
	{lit: `Symfony\Component\`, pivot: '\\', kind: DebugSymfony},
	{lit: `Symfony\\Component\\`, pivot: '\\', kind: DebugSymfony},
	{lit: "Werkzeug Debugger", pivot: 'W', kind: DebugWerkzeug},
	{lit: "Server Error in '", pivot: '\'', check: checkASPNETYellow},
	{lit: "An unhandled exception occurred while processing the request", pivot: 'x', kind: DebugASPNET},
	{lit: "Whitelabel Error Page", pivot: 'W', kind: DebugSpring},
}

func init() {
	leakGroups = newGroups(append(append([]anchorSpec(nil), leakSpecs...), sqlSpecs...))
}

// sqlSpecs are database error signatures; inject marks those that show a
// query was broken by its input (syntax errors, unterminated quotes), which
// Injection accepts as evidence after an SQL probe.
var sqlSpecs = []anchorSpec{
	// MySQL / MariaDB
	{lit: "error in your SQL syntax", pivot: 'Q', kind: SQLMySQL},
	{lit: "your MySQL server version", pivot: 'Q', kind: SQLMySQL},
	{lit: "right syntax to use near", pivot: 'x', kind: SQLMySQL},
	{lit: "MySQLSyntaxErrorException", pivot: 'Q', kind: SQLMySQL},
	{lit: "MySqlException", pivot: 'q', kind: SQLMySQL},
	{lit: "com.mysql.", pivot: 'q', kind: SQLMySQL},
	{lit: "pymysql.err", pivot: 'q', kind: SQLMySQL},
	{lit: "mysql_", pivot: 'q', check: checkPHPCall},
	{lit: "mysqli_", pivot: 'q', check: checkPHPCall},
	// PostgreSQL
	{lit: "syntax error at or near", pivot: 'x', kind: SQLPostgreSQL},
	{lit: "syntax error at end of input", pivot: 'x', kind: SQLPostgreSQL},
	{lit: "unterminated quoted string at or near", pivot: 'q', kind: SQLPostgreSQL},
	{lit: "invalid input syntax for ", pivot: 'x', kind: SQLPostgreSQL},
	{lit: "PSQLException", pivot: 'Q', kind: SQLPostgreSQL},
	{lit: "org.postgresql.", pivot: 'q', kind: SQLPostgreSQL},
	{lit: "PG::", pivot: 'G', check: checkPGError},
	{lit: "pq: ", pivot: 'q', check: checkPQ},
	{lit: "(SQLSTATE ", pivot: 'Q', check: checkSQLState(')')},
	// Oracle
	{lit: "ORA-", pivot: 'O', check: checkORA},
	{lit: "quoted string not properly terminated", pivot: 'q', kind: SQLOracle},
	{lit: "SQL command not properly ended", pivot: 'Q', kind: SQLOracle},
	// SQLite
	{lit: `": syntax error`, pivot: 'x', check: checkSQLiteNear},
	{lit: "unrecognized token: ", pivot: 'z', kind: SQLSQLite},
	{lit: "SQLITE_", pivot: 'Q', check: checkUpperWord(SQLSQLite)},
	{lit: "SQLiteException", pivot: 'Q', kind: SQLSQLite},
	{lit: "SqliteException", pivot: 'q', kind: SQLSQLite},
	{lit: "SQLite3::", pivot: 'Q', kind: SQLSQLite},
	{lit: "sqlite3.", pivot: 'q', check: checkDottedName(SQLSQLite)},
	// SQL Server
	{lit: "Unclosed quotation mark after the character string", pivot: 'q', kind: SQLMSSQL},
	{lit: "Incorrect syntax near", pivot: 'x', kind: SQLMSSQL},
	{lit: "SqlException", pivot: 'q', check: checkSqlException},
	{lit: "SqlClient.", pivot: 'q', kind: SQLMSSQL},
	{lit: "OLE DB Provider for SQL Server", pivot: 'Q', kind: SQLMSSQL},
	{lit: "[SQL Server]", pivot: 'Q', kind: SQLMSSQL},
	{lit: "[Microsoft][ODBC", pivot: 'O', kind: SQLMSSQL},
	// drivers and ORMs
	{lit: "SQLSTATE[", pivot: 'Q', check: checkSQLState(']')},
	{lit: "SQLException", pivot: 'Q', kind: SQLGeneric},
	{lit: "SQLSyntaxErrorException", pivot: 'Q', kind: SQLGeneric},
	{lit: "SQLGrammarException", pivot: 'Q', kind: SQLGeneric},
	{lit: "QueryFailedError", pivot: 'Q', kind: SQLGeneric},
	{lit: "SequelizeDatabaseError", pivot: 'q', kind: SQLGeneric},
	{lit: "sqlalchemy.exc.", pivot: 'q', kind: SQLGeneric},
}

// refineSQL names the database of a generic SQL error from other markers in
// the body, or returns SQLGeneric.
func refineSQL(body []byte) string {
	for _, m := range []struct{ marker, kind string }{
		{"MySQL", SQLMySQL}, {"mysql", SQLMySQL}, {"MariaDB", SQLMySQL},
		{"PostgreSQL", SQLPostgreSQL}, {"postgres", SQLPostgreSQL}, {"PSQL", SQLPostgreSQL}, {"at or near", SQLPostgreSQL},
		{"ORA-", SQLOracle}, {"Oracle", SQLOracle}, {"oracle", SQLOracle},
		{"SQLite", SQLSQLite}, {"sqlite", SQLSQLite}, {"SQLITE", SQLSQLite},
		{"SQL Server", SQLMSSQL}, {"SqlClient", SQLMSSQL}, {"Incorrect syntax near", SQLMSSQL},
	} {
		if bytes.Contains(body, []byte(m.marker)) {
			return m.kind
		}
	}
	return SQLGeneric
}

// frameNameStart returns where the qualified name ending at end (exclusive)
// begins, if it is preceded by "at " at a word boundary (or after a JSON
// "\t" / "\n" escape) and holds only JVM/.NET name characters.
func frameNameStart(body []byte, end int) (int, bool) {
	i := end
	for i > 0 && end-i < 300 {
		c := body[i-1]
		if isWord(c) || strings.IndexByte("$<>.`/[],+|-", c) >= 0 {
			i--
			continue
		}
		break
	}
	if i == end {
		return 0, false
	}
	return i, atBefore(body, i)
}

// atBefore reports whether "at " or "at\t" ends just before offset i, with
// a non-word byte (or a JSON \t, \n escape, or the start) before it.
func atBefore(body []byte, i int) bool {
	if !hasBefore(body, i, "at ") && !hasBefore(body, i, "at\t") {
		return false
	}
	k := i - 3
	if k == 0 || !isWord(body[k-1]) {
		return true
	}
	return hasBefore(body, k, `\t`) || hasBefore(body, k, `\n`)
}

// nodeFrameBefore reports whether the '(' at offset p closes the function
// part of a Node.js frame: "at " within 200 bytes before it on the line,
// with no parenthesis in between ("at Layer.handle [as handle_request] (").
func nodeFrameBefore(body []byte, p int) (int, bool) {
	ls := lineStart(body, p, 200)
	for i := p - 1; i >= ls+2; i-- {
		c := body[i]
		if c == '(' || c == ')' {
			return 0, false
		}
		if c == ' ' && body[i-1] == 't' && body[i-2] == 'a' && atBefore(body, i+1) {
			return i - 2, true
		}
	}
	return 0, false
}

var jvmExts = []string{".java:", ".kt:", ".scala:", ".groovy:"}

var nodeExts = []string{".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx"}

var sourceExts = []string{".java", ".kt", ".scala", ".groovy", ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx",
	".py", ".rb", ".php", ".go", ".cs", ".vb", ".fs", ".rs", ".c", ".cc", ".cpp", ".h", ".ex", ".exs", ".erl", ".pl", ".pm", ".lua", ".swift"}

// isPathByte reports whether c can be part of a file path in a trace.
func isPathByte(c byte) bool {
	return isWord(c) || strings.IndexByte("/\\.-@~+%$", c) >= 0
}

func checkParen(body []byte, p int) (string, int, int, bool) {
	ls, le := lineStart(body, p, 300), lineEnd(body, p, 300)
	// Python: Traceback (most recent call last)
	if hasBefore(body, p, "Traceback ") && hasAt(body, p, "(most recent call last)") {
		return StackPython, p - len("Traceback "), p + len("(most recent call last)"), true
	}
	after := p + 1
	// JVM: (Native Method), (Unknown Source), (File.java:42)
	if hasAt(body, after, "Native Method)") || hasAt(body, after, "Unknown Source)") {
		if s, ok := frameNameStart(body, p); ok && bytes.IndexByte(body[s:p], '.') >= 0 {
			return StackJava, s, p, true
		}
	}
	i := after
	for i < le && (isWord(body[i]) || body[i] == '$' || body[i] == '-') {
		i++
	}
	if i > after {
		for _, ext := range jvmExts {
			if hasAt(body, i, ext) {
				d := digitsAt(body, i+len(ext))
				if d > 0 && hasAt(body, i+len(ext)+d, ")") {
					if s, ok := frameNameStart(body, p); ok {
						return StackJava, s, i + len(ext) + d + 1, true
					}
				}
			}
		}
	}
	// PHP: #0 /var/www/x.php(12): f()
	if hasBefore(body, p, ".php") {
		d := digitsAt(body, after)
		if d > 0 && hasAt(body, after+d, "):") {
			s := p
			for s > ls && isPathByte(body[s-1]) {
				s--
			}
			if s > ls+1 && body[s-1] == ' ' && isDigit(body[s-2]) {
				k := s - 2
				for k > ls && isDigit(body[k-1]) {
					k--
				}
				if k > ls && body[k-1] == '#' {
					return StackPHP, k - 1, after + d + 2, true
				}
			}
		}
	}
	// Node.js: (/app/x.js:1:2), (file:///x.mjs:1:2), (node:internal/x:1:2), (<anonymous>)
	j := after
	if hasAt(body, j, "file://") {
		j += len("file://")
	}
	k := j
	for k < le && isPathByte(body[k]) && body[k] != ':' {
		k++
	}
	if k > j && hasAt(body, k, ":") {
		path := body[j:k]
		isNode := false
		for _, ext := range nodeExts {
			if bytes.HasSuffix(path, []byte(ext)) {
				isNode = true
			}
		}
		if hasAt(body, after, "node:internal/") {
			// node:internal/modules/cjs/loader:1105:14
			k = after + len("node:internal/")
			for k < le && isPathByte(body[k]) && body[k] != ':' {
				k++
			}
			isNode = true
		}
		if isNode {
			d1 := digitsAt(body, k+1)
			if d1 > 0 && hasAt(body, k+1+d1, ":") {
				d2 := digitsAt(body, k+2+d1)
				if d2 > 0 && hasAt(body, k+2+d1+d2, ")") {
					if s, ok := nodeFrameBefore(body, p); ok {
						return StackNode, s, k + 3 + d1 + d2, true
					}
				}
			}
		}
	}
	if hasAt(body, after, "<anonymous>)") {
		if s, ok := nodeFrameBefore(body, p); ok {
			return StackNode, s, after + len("<anonymous>)"), true
		}
	}
	// .NET: at N.C.M(A a) in /x.cs:line 42; framework frames without files
	if s, ok := frameNameStart(body, p); ok && bytes.IndexByte(body[s:p], '.') >= 0 {
		close := bytes.IndexByte(body[after:le], ')')
		if close >= 0 {
			c := after + close + 1
			if hasAt(body, c, " in ") {
				if l := bytes.Index(body[c:le], []byte(":line ")); l >= 0 && digitsAt(body, c+l+6) > 0 {
					return StackDotNet, s, c + l + 6 + digitsAt(body, c+l+6), true
				}
			}
			name := body[s:p]
			if (bytes.HasPrefix(name, []byte("System.")) || bytes.HasPrefix(name, []byte("Microsoft."))) &&
				(c == le || hasAt(body, c, "\r") || hasAt(body, c, `\r`)) {
				return StackDotNet, s, c, true
			}
		}
	}
	// a bare absolute source path with a line: (/app/x.go:42)
	if lo, hi, ok := absSourcePath(body, after, le); ok {
		return SourcePath, lo, hi, true
	}
	return "", 0, 0, false
}

// absSourcePath matches an absolute path (/a/b.ext or C:\a\b.ext) with a
// source extension and ":N" (or ":line N") right after, starting at from.
func absSourcePath(body []byte, from, le int) (int, int, bool) {
	i := from
	switch {
	case hasAt(body, i, "/"):
	case i+2 < le && isLetter(body[i]) && body[i+1] == ':' && body[i+2] == '\\':
		i += 2
	default:
		return 0, 0, false
	}
	seps := 0
	k := i
	for k < le && isPathByte(body[k]) {
		if body[k] == '/' || body[k] == '\\' {
			seps++
		}
		k++
	}
	if seps < 2 || !hasAt(body, k, ":") {
		return 0, 0, false
	}
	path := body[from:k]
	for _, ext := range sourceExts {
		if bytes.HasSuffix(path, []byte(ext)) {
			n := k + 1
			if hasAt(body, n, "line ") {
				n += 5
			}
			if d := digitsAt(body, n); d > 0 {
				return from, n + d, true
			}
		}
	}
	return 0, 0, false
}

// checkSourceExt handles ".js:" and friends: a Node.js frame without
// parentheses ("at /app/x.js:5:9") or a bare absolute path with a line.
func checkSourceExt(body []byte, at int) (string, int, int, bool) {
	colon := bytes.IndexByte(body[at+1:], ':') + at + 1
	d := digitsAt(body, colon+1)
	if d == 0 {
		return "", 0, 0, false
	}
	s := at
	ls := lineStart(body, at, 300)
	for s > ls && isPathByte(body[s-1]) && body[s-1] != ':' {
		s--
	}
	if hasBefore(body, s, "file:") {
		s -= len("file:")
	}
	if !hasAt(body, at, ".java:") && hasAt(body, colon+1+d, ":") && digitsAt(body, colon+2+d) > 0 && atBefore(body, s) {
		return StackNode, s - 3, colon + 2 + d + digitsAt(body, colon+2+d), true
	}
	p := s
	if hasAt(body, p, "file://") {
		p += len("file://")
	}
	if lo, hi, ok := absSourcePath(body, p, lineEnd(body, at, 300)); ok {
		return SourcePath, lo, hi, true
	}
	return "", 0, 0, false
}

// checkGoFrame: "/src/main.go:42 +0x1d".
func checkGoFrame(body []byte, at int) (string, int, int, bool) {
	if !isHex(byteAt(body, at+3)) || byteAt(body, at-1) != ' ' {
		return "", 0, 0, false
	}
	k := at - 1
	d := 0
	for k > 0 && isDigit(body[k-1]) {
		k--
		d++
	}
	if d == 0 || !hasBefore(body, k, ".go:") {
		return "", 0, 0, false
	}
	hi := at + 3
	for hi < len(body) && isHex(body[hi]) {
		hi++
	}
	return StackGo, lineStart(body, at, 150), hi, true
}

func byteAt(body []byte, i int) byte {
	if i < 0 || i >= len(body) {
		return 0
	}
	return body[i]
}

// checkPythonFile: File "/app/x.py", line 3 (also with \" escapes).
func checkPythonFile(body []byte, at int) (string, int, int, bool) {
	start := at + len(`File "`)
	if hasAt(body, at, `File \"`) {
		start = at + len(`File \"`)
	}
	le := lineEnd(body, start, 300)
	q := bytes.IndexByte(body[start:le], '"')
	if q < 0 {
		return "", 0, 0, false
	}
	end := start + q // at the closing quote
	pathEnd := end
	if byteAt(body, end-1) == '\\' {
		pathEnd--
	}
	if !bytes.HasSuffix(body[start:pathEnd], []byte(".py")) || !hasAt(body, end+1, ", line ") {
		return "", 0, 0, false
	}
	d := digitsAt(body, end+1+len(", line "))
	if d == 0 {
		return "", 0, 0, false
	}
	return StackPython, at, end + 1 + len(", line ") + d, true
}

// checkRubyFrame: /app/x.rb:3:in `m'.
func checkRubyFrame(body []byte, at int) (string, int, int, bool) {
	k := at
	d := 0
	for k > 0 && isDigit(body[k-1]) {
		k--
		d++
	}
	if d == 0 || !(hasBefore(body, k, ".rb:") || hasBefore(body, k, ".rake:") || hasBefore(body, k, ".erb:")) {
		return "", 0, 0, false
	}
	s := k
	for s > 0 && isPathByte(body[s-1]) {
		s--
	}
	return StackRuby, s, at + len(":in `"), true
}

// checkPHPMessage: "Fatal error: … in /x.php on line 3" or "….php:3", with
// optional HTML bold tags.
func checkPHPMessage(body []byte, at int) (string, int, int, bool) {
	i := at
	for i < len(body) && (isLetter(body[i]) || body[i] == ' ' && isLetter(byteAt(body, i+1))) {
		i++
	}
	if hasAt(body, i, "</b>") {
		i += 4
	}
	if !hasAt(body, i, ":") {
		return "", 0, 0, false
	}
	le := lineEnd(body, i, 600)
	for off := i; off < le; {
		x := bytes.Index(body[off:le], []byte(".php"))
		if x < 0 {
			break
		}
		e := off + x + 4
		n := e
		if hasAt(body, n, "</b>") {
			n += 4
		}
		switch {
		case hasAt(body, n, " on line "):
			n += len(" on line ")
			if hasAt(body, n, "<b>") {
				n += 3
			}
			if digitsAt(body, n) > 0 {
				return StackPHP, at, n + digitsAt(body, n), true
			}
		case hasAt(body, n, ":") && digitsAt(body, n+1) > 0:
			return StackPHP, at, n + 1 + digitsAt(body, n+1), true
		}
		off = e
	}
	return "", 0, 0, false
}

// checkPHPCall: mysql_query( — a PHP database function named in a warning.
func checkPHPCall(body []byte, at int) (string, int, int, bool) {
	if at > 0 && isWord(body[at-1]) {
		return "", 0, 0, false
	}
	i := at
	for i < len(body) && isWord(body[i]) {
		i++
	}
	if i-at < len("mysql_")+3 || !hasAt(body, i, "(") {
		return "", 0, 0, false
	}
	return SQLMySQL, at, i + 1, true
}

// checkDottedName: psycopg2.errors.SyntaxError, sqlite3.OperationalError —
// the module followed by a name.
func checkDottedName(kind string) func([]byte, int) (string, int, int, bool) {
	return func(body []byte, at int) (string, int, int, bool) {
		if at > 0 && isWord(body[at-1]) {
			return "", 0, 0, false
		}
		i := bytes.IndexByte(body[at:], '.') + at + 1
		j := i
		for j < len(body) && (isWord(body[j]) || body[j] == '.') {
			j++
		}
		if !bytes.Contains(body[i:j], []byte("Error")) {
			return "", 0, 0, false
		}
		return kind, at, j, true
	}
}

// checkPGError: PG::SyntaxError, PG::UndefinedTable (Ruby pg).
func checkPGError(body []byte, at int) (string, int, int, bool) {
	i := at + 4
	if i >= len(body) || body[i] < 'A' || body[i] > 'Z' || (at > 0 && isWord(body[at-1])) {
		return "", 0, 0, false
	}
	j := i
	for j < len(body) && isWord(body[j]) {
		j++
	}
	return SQLPostgreSQL, at, j, true
}

// checkPQ: "pq: " (Go lib/pq) at the start of a message.
func checkPQ(body []byte, at int) (string, int, int, bool) {
	if at > 0 && (isWord(body[at-1]) || body[at-1] == '.') {
		return "", 0, 0, false
	}
	if !isLetter(byteAt(body, at+4)) {
		return "", 0, 0, false
	}
	return SQLPostgreSQL, at, lineEnd(body, at, 120), true
}

// checkSQLState: SQLSTATE[42000] (PDO), (SQLSTATE 42601) (pgx).
func checkSQLState(closing byte) func([]byte, int) (string, int, int, bool) {
	return func(body []byte, at int) (string, int, int, bool) {
		i := bytes.IndexAny(body[at:], "[ ") + at + 1
		for k := 0; k < 5; k++ {
			c := byteAt(body, i+k)
			if !isDigit(c) && (c < 'A' || c > 'Z') {
				return "", 0, 0, false
			}
		}
		if byteAt(body, i+5) != closing {
			return "", 0, 0, false
		}
		kind := SQLGeneric
		if closing == ')' {
			kind = SQLPostgreSQL
		}
		return kind, at, lineEnd(body, i, 150), true
	}
}

// checkORA: ORA-01756: (five digits and a colon).
func checkORA(body []byte, at int) (string, int, int, bool) {
	if at > 0 && isWord(body[at-1]) || digitsAt(body, at+4) != 5 || byteAt(body, at+9) != ':' {
		return "", 0, 0, false
	}
	return SQLOracle, at, lineEnd(body, at, 150), true
}

// checkSQLiteNear: near "x": syntax error.
func checkSQLiteNear(body []byte, at int) (string, int, int, bool) {
	ls := lineStart(body, at, 150)
	w := body[ls:at]
	if !bytes.Contains(w, []byte(`near "`)) && !bytes.Contains(w, []byte(`near \"`)) {
		return "", 0, 0, false
	}
	lo := ls + bytes.LastIndex(w, []byte("near "))
	return SQLSQLite, lo, at + len(`": syntax error`), true
}

// checkUpperWord: SQLITE_ERROR, SQLITE_CONSTRAINT.
func checkUpperWord(kind string) func([]byte, int) (string, int, int, bool) {
	return func(body []byte, at int) (string, int, int, bool) {
		i := at + len("SQLITE_")
		j := i
		for j < len(body) && (body[j] >= 'A' && body[j] <= 'Z' || body[j] == '_') {
			j++
		}
		if j-i < 4 || (at > 0 && isWord(body[at-1])) {
			return "", 0, 0, false
		}
		return kind, at, j, true
	}
}

// checkSqlException: SqlException is SQL Server's, MySqlException MySQL's.
func checkSqlException(body []byte, at int) (string, int, int, bool) {
	if hasBefore(body, at, "My") {
		return SQLMySQL, at - 2, at + len("SqlException"), true
	}
	if hasBefore(body, at, "Npg") {
		return SQLPostgreSQL, at - 3, at + len("SqlException"), true
	}
	if at > 0 && isLetter(body[at-1]) {
		return "", 0, 0, false
	}
	return SQLMSSQL, at, at + len("SqlException"), true
}

// checkASPNETYellow: Server Error in '/' Application.
func checkASPNETYellow(body []byte, at int) (string, int, int, bool) {
	i := at + len("Server Error in '")
	le := lineEnd(body, i, 200)
	if x := bytes.Index(body[i:le], []byte("' Application")); x >= 0 {
		return DebugASPNET, at, i + x + len("' Application"), true
	}
	return "", 0, 0, false
}

// checkDjango: "DEBUG = True</code> in your Django settings file".
func checkDjango(body []byte, at int) (string, int, int, bool) {
	end := min(len(body), at+80)
	if i := bytes.Index(body[at:end], []byte("Django settings")); i >= 0 {
		return DebugDjango, at, at + i + len("Django settings"), true
	}
	return "", 0, 0, false
}
