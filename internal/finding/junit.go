package finding

import (
	"cmp"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Check is a pass/fail criterion of a run ("p99 < 250ms"), reported as one
// JUnit test case.
type Check struct {
	Name    string
	Passed  bool
	Message string // why it failed (or the measured value); "" allowed
}

// Sorted returns a copy of findings in report order: severity (highest
// first), oracle, operation, method, path, mutation, ID.
func Sorted(findings []Finding) []Finding {
	s := slices.Clone(findings)
	slices.SortStableFunc(s, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
			cmp.Compare(oracleRank(a.Oracle), oracleRank(b.Oracle)),
			cmp.Compare(a.Oracle, b.Oracle),
			cmp.Compare(a.Operation, b.Operation),
			cmp.Compare(a.Method, b.Method),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Mutation, b.Mutation),
			cmp.Compare(a.ID, b.ID),
		)
	})
	return s
}

func oracleRank(o Oracle) int {
	if i := slices.Index(Oracles, o); i >= 0 {
		return i
	}
	return len(Oracles)
}

// Title is a one-line name for f: `[high] server-error: POST /orders
// (createOrder) mutation boundaries/max+1`.
func (f Finding) Title() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s %s", f.Severity, f.Oracle, f.Method, f.Path)
	if f.Operation != "" {
		fmt.Fprintf(&b, " (%s)", f.Operation)
	}
	if f.Mutation != "" {
		b.WriteString(" mutation " + f.Mutation)
	}
	return b.String()
}

// Describe returns the multi-line plain-text account of f used by the
// JUnit and terminal reports: what, where, what was sent and seen, how
// often, the reproducer and the replay command, and the response excerpt.
func (f Finding) Describe() string {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-10s %s\n", k+":", v)
		}
	}
	class := string(f.Severity)
	for _, s := range []string{f.CWE, f.OWASP} {
		if s != "" {
			class += ", " + s
		}
	}
	line("Finding", f.ID+" "+string(f.Oracle)+" ("+class+")")
	op := strings.TrimSpace(f.Method + " " + f.Path)
	if f.Operation != "" {
		op += " (" + f.Operation + ")"
	}
	line("Operation", op)
	mut := f.Mutation
	if mut == "" {
		mut = "none (valid request)"
	}
	line("Mutation", mut)
	line("Detail", f.Detail)
	line("Evidence", f.Evidence)
	seen := strconv.FormatInt(f.Count, 10) + " time(s)"
	if !f.FirstSeen.IsZero() {
		seen += ", first at " + f.FirstSeen.UTC().Format(time.RFC3339)
	}
	if f.LoadRPS > 0 {
		seen += ", at " + strconv.FormatFloat(f.LoadRPS, 'f', 0, 64) + " req/s"
	}
	line("Seen", seen)
	line("Replay", f.ReplayCommand())
	if r := f.Reproducer(); r != "" {
		b.WriteString("Reproduce:\n  " + r + "\n")
	}
	if len(f.ResponseExcerpt) > 0 {
		b.WriteString("Response (excerpt):\n")
		for _, l := range strings.Split(strings.ToValidUTF8(string(f.ResponseExcerpt), "\uFFFD"), "\n") {
			b.WriteString("  " + strings.TrimRight(l, "\r") + "\n")
		}
	}
	return b.String()
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"` // CDATA keeps the reproducer readable; see xmlText
}

// WriteJUnit writes a JUnit XML report (the flavour Jenkins and GitLab
// read: testsuites > testsuite > testcase, failure with message and type)
// with one test suite named suite: one test case per check (classname
// SUITE.checks; a failed check is a failure of type "check"), then one per
// finding in [Sorted] order (classname SUITE.findings.ORACLE, name
// [Finding.Title] and the ID; always a failure whose type is the oracle,
// whose message is the evidence and whose text, in CDATA, is
// [Finding.Describe]). Characters XML cannot carry are replaced with
// U+FFFD.
func WriteJUnit(w io.Writer, suite string, findings []Finding, checks []Check) error {
	s := junitSuite{Name: suite, Time: "0"}
	for _, c := range checks {
		tc := junitCase{Name: c.Name, Classname: suite + ".checks", Time: "0"}
		if !c.Passed {
			msg := c.Message
			if msg == "" {
				msg = "check failed"
			}
			tc.Failure = &junitFailure{Message: oneLine(msg), Type: "check", Text: xmlText(c.Name + ": " + msg)}
			s.Failures++
		} else if c.Message != "" {
			tc.SystemOut = c.Message
		}
		s.Cases = append(s.Cases, tc)
	}
	for _, f := range Sorted(findings) {
		msg := f.Evidence
		if msg == "" {
			msg = string(f.Oracle)
		}
		s.Cases = append(s.Cases, junitCase{
			Name:      f.Title() + " [" + f.ID + "]",
			Classname: suite + ".findings." + string(f.Oracle),
			Time:      "0",
			Failure:   &junitFailure{Message: oneLine(msg), Type: string(f.Oracle), Text: xmlText(f.Describe())},
		})
		s.Failures++
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Time: "0", Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("write junit: %w", err)
	}
	return nil
}

// xmlText makes s safe for CDATA: invalid UTF-8 and characters XML 1.0
// cannot carry (control characters other than tab, LF, CR) become U+FFFD.
// encoding/xml splits any "]]>" itself.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r < 0xE000:
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// oneLine collapses white space runs (newlines included) to one space and
// cuts the result at 300 bytes, for attributes.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
