package template

import (
	"errors"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func mustParse(t testing.TB, src string) *Template {
	t.Helper()
	tp, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return tp
}

func TestRender(t *testing.T) {
	const uuidRE = `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
	tests := []struct {
		name   string
		src    string
		seq    uint64
		want   string // exact output, when pattern is empty
		re     string // output must match ^re$
		static bool
	}{
		{name: "empty", src: "", want: "", static: true},
		{name: "plain text", src: "/products?limit=10", want: "/products?limit=10", static: true},
		{name: "lone braces", src: "a{b}c}}d{", want: "a{b}c}}d{", static: true},
		{name: "escaped open", src: `x{{"{{"}}y`, want: "x{{y", static: true},
		{name: "quoted literal with escapes", src: `{{"a\"b\\c\n\u00e9\x41"}}`, want: "a\"b\\c\néA", static: true},
		{name: "quoted literal with close braces", src: `{{"}}"}}`, want: "}}", static: true},
		{name: "seq", src: "id={{seq}}", seq: 42, want: "id=42"},
		{name: "seq zero", src: "{{seq}}", seq: 0, want: "0"},
		{name: "seq max", src: "{{seq}}", seq: math.MaxUint64, want: "18446744073709551615"},
		{name: "seq with spaces", src: "{{ seq }}", seq: 7, want: "7"},
		{name: "seq with tabs and newlines", src: "{{\tseq\n}}", seq: 7, want: "7"},
		{name: "int single value", src: "{{int 5 5}}", want: "5"},
		{name: "int negative single value", src: "{{int -3 -3}}", want: "-3"},
		{name: "int plus sign", src: "{{int +4 +4}}", want: "4"},
		{name: "int range", src: "/p/{{int 1 1000}}", re: `/p/([1-9][0-9]{0,2}|1000)`},
		{name: "int negative range", src: "{{ int -5 -1 }}", re: `-[1-5]`},
		{name: "int full range", src: "{{int -9223372036854775808 9223372036854775807}}", re: `-?[0-9]{1,19}`},
		{name: "uuid", src: "{{uuid}}", re: uuidRE},
		{name: "pick one", src: "{{pick only}}", want: "only"},
		{name: "pick quoted one", src: `{{pick "a b"}}`, want: "a b"},
		{name: "pick", src: `{{pick fast slow "very slow"}}`, re: `fast|slow|very slow`},
		{name: "pick empty option", src: `[{{pick ""}}]`, want: "[]"},
		{name: "pick option with brace", src: `{{pick a}b}}`, want: "a}b"},
		{name: "adjacent generators", src: "{{seq}}{{seq}}", seq: 3, want: "33"},
		{name: "mixed", src: `{"id":{{seq}},"u":"{{uuid}}"}`, seq: 9, re: `\{"id":9,"u":"` + uuidRE + `"\}`},
		{name: "utf8 text", src: "héllo {{seq}} wörld", seq: 1, want: "héllo 1 wörld"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustParse(t, tt.src)
			if got := tp.Static(); got != tt.static {
				t.Errorf("Static() = %v, want %v", got, tt.static)
			}
			if tp.String() != tt.src {
				t.Errorf("String() = %q, want %q", tp.String(), tt.src)
			}
			r := NewRand(1)
			for i := 0; i < 20; i++ {
				got := string(tp.Append(nil, r, tt.seq))
				if tt.re == "" {
					if got != tt.want {
						t.Fatalf("render = %q, want %q", got, tt.want)
					}
				} else if !regexp.MustCompile(`^(` + tt.re + `)$`).MatchString(got) {
					t.Fatalf("render = %q, want match of %q", got, tt.re)
				}
				if len(got) > tp.MaxLen() {
					t.Fatalf("render length %d > MaxLen() %d", len(got), tp.MaxLen())
				}
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		offset int
		msg    string
	}{
		{"unclosed", "/a/{{int 1 5", 3, "unclosed {{: missing }}"},
		{"unclosed single brace", "{{int 1 5}", 0, "unclosed {{: missing }}"},
		{"unclosed empty", "ab{{", 2, "unclosed {{: missing }}"},
		{"empty", "x{{}}", 1, `empty {{ }}; want a generator such as {{int 1 10}} (write {{"{{"}} for a literal "{{")`},
		{"empty with spaces", "{{  }}", 0, `empty {{ }}; want a generator such as {{int 1 10}} (write {{"{{"}} for a literal "{{")`},
		{"unknown generator", "a{{ rand 1 2}}", 4, `unknown generator "rand"; want int, uuid, pick or seq`},
		{"upper-case generator", "{{UUID}}", 2, `unknown generator "UUID"; want int, uuid, pick or seq`},
		{"int no args", "{{int}}", 2, "int takes 2 arguments, got 0: {{int MIN MAX}}"},
		{"int one arg", "{{int 5}}", 2, "int takes 2 arguments, got 1: {{int MIN MAX}}"},
		{"int three args", "{{int 1 2 3}}", 10, "int takes 2 arguments, got 3: {{int MIN MAX}}"},
		{"int not a number", "{{int 1 x}}", 8, `int: "x" is not an integer`},
		{"int float", "{{int 1.5 3}}", 6, `int: "1.5" is not an integer`},
		{"int overflow", "{{int 1 9223372036854775808}}", 8, `int: "9223372036854775808" is out of the int64 range`},
		{"int reversed", "{{int 9 3}}", 6, "int: min 9 is greater than max 3"},
		{"uuid args", "{{uuid 4}}", 7, "uuid takes no arguments"},
		{"seq args", "{{seq x y}}", 6, "seq takes no arguments"},
		{"pick no options", "{{pick }}", 2, `pick needs at least one option: {{pick a b "c d"}}`},
		{"unterminated quote", `{{pick "abc}}`, 7, "unterminated quoted string"},
		{"bad escape", `{{pick "a\qb"}}`, 9, "invalid escape in quoted string"},
		{"text after quote", `{{pick "a"b}}`, 10, "want a space or }} after a quoted string"},
		{"quoted then more", `{{"a" b}}`, 6, "a quoted string must be alone inside {{ }}"},
		{"nested open", "{{int 1 {{int 2 3}}", 8, "unexpected {{ inside {{ }} (missing }}?)"},
		{"error after valid", "{{seq}}/{{nope}}", 10, `unknown generator "nope"; want int, uuid, pick or seq`},
		{"utf8 before error", "é{{x}}", 4, `unknown generator "x"; want int, uuid, pick or seq`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", tt.src, tp.String())
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Offset != tt.offset || se.Msg != tt.msg {
				t.Errorf("got offset %d msg %q\nwant offset %d msg %q", se.Offset, se.Msg, tt.offset, tt.msg)
			}
			if want := "template: offset " + strconv.Itoa(tt.offset) + ": " + tt.msg; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err.Error(), want)
			}
		})
	}
}

func TestDeterminism(t *testing.T) {
	tp := mustParse(t, `/x/{{int -1000 1000}}/{{uuid}}?p={{pick a b c d e}}&s={{seq}}`)
	render := func(seed uint64) []string {
		r := NewRand(seed)
		var out []string
		for i := uint64(0); i < 50; i++ {
			out = append(out, string(tp.Append(nil, r, i)))
		}
		return out
	}
	a, b := render(42), render(42)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different output (-first +second):\n%s", diff)
	}
	if cmp.Equal(a, render(43)) {
		t.Errorf("seeds 42 and 43 rendered the same 50 requests")
	}
	// Seed resets to the NewRand state.
	r := NewRand(42)
	first := string(tp.Append(nil, r, 0))
	r.Seed(42)
	if again := string(tp.Append(nil, r, 0)); again != first {
		t.Errorf("after Seed(42): %q, want %q", again, first)
	}
}

func TestIntHitsEveryValue(t *testing.T) {
	tp := mustParse(t, "{{int 1 3}}")
	r := NewRand(7)
	counts := map[string]int{}
	const n = 3000
	for i := 0; i < n; i++ {
		counts[string(tp.Append(nil, r, 0))]++
	}
	if len(counts) != 3 {
		t.Fatalf("int 1 3 rendered %v, want exactly 1, 2 and 3", counts)
	}
	for _, v := range []string{"1", "2", "3"} {
		// Expected 1000 each; 800 is > 8 standard deviations away.
		if counts[v] < 800 {
			t.Errorf("value %s rendered %d times of %d: %v", v, counts[v], n, counts)
		}
	}
}

func TestPickHitsEveryOption(t *testing.T) {
	tp := mustParse(t, `{{pick a b "c d"}}`)
	r := NewRand(3)
	counts := map[string]int{}
	for i := 0; i < 3000; i++ {
		counts[string(tp.Append(nil, r, 0))]++
	}
	if diff := cmp.Diff([]string{"a", "b", "c d"}, keys(counts)); diff != "" {
		t.Fatalf("options rendered (-want +got):\n%s", diff)
	}
	for k, c := range counts {
		if c < 800 {
			t.Errorf("option %q rendered %d times of 3000", k, c)
		}
	}
}

func keys(m map[string]int) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestUUID(t *testing.T) {
	tp := mustParse(t, "{{uuid}}")
	r := NewRand(99)
	seen := map[string]bool{}
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	var orBits, andBits [16]byte
	for i := range andBits {
		andBits[i] = 0xff
	}
	for i := 0; i < 1000; i++ {
		u := string(tp.Append(nil, r, 0))
		if !re.MatchString(u) {
			t.Fatalf("uuid %q is not canonical lower-case hex", u)
		}
		if seen[u] {
			t.Fatalf("uuid %q repeated", u)
		}
		seen[u] = true
		raw := strings.ReplaceAll(u, "-", "")
		for k := 0; k < 16; k++ {
			b, err := strconv.ParseUint(raw[2*k:2*k+2], 16, 8)
			if err != nil {
				t.Fatal(err)
			}
			orBits[k] |= byte(b)
			andBits[k] &= byte(b)
		}
		if v := raw[12]; v != '4' {
			t.Fatalf("uuid %q: version nibble %c, want 4", u, v)
		}
		if v := raw[16]; !strings.ContainsRune("89ab", rune(v)) {
			t.Fatalf("uuid %q: variant nibble %c, want 8, 9, a or b", u, v)
		}
	}
	// Apart from the fixed version and variant bits, every bit varies.
	for k := 0; k < 16; k++ {
		fixed := byte(0)
		switch k {
		case 6:
			fixed = 0xf0
		case 8:
			fixed = 0xc0
		}
		if varying := orBits[k] &^ andBits[k]; varying|fixed != 0xff {
			t.Errorf("byte %d: varying bits %08b, want all but %08b", k, varying, fixed)
		}
	}
}

func TestRandVectors(t *testing.T) {
	// xoshiro256** from state {1, 2, 3, 4}, worked out by hand from the
	// algorithm: rotl(2*5, 7)*9 = 11520, then s1 becomes 0, then 262149.
	r := &Rand{s0: 1, s1: 2, s2: 3, s3: 4}
	for i, want := range []uint64{11520, 0, 1509978240} {
		if got := r.Uint64(); got != want {
			t.Errorf("output %d = %d, want %d", i, got, want)
		}
	}
}

func TestIntN(t *testing.T) {
	r := NewRand(5)
	if got := r.IntN(0); got != 0 {
		t.Errorf("IntN(0) = %d, want 0", got)
	}
	if got := r.IntN(1); got != 0 {
		t.Errorf("IntN(1) = %d, want 0", got)
	}
	// A bound just above 2^63 rejects almost half the draws: values must
	// still be in range, and both halves must be hit.
	n := uint64(1)<<63 + 1
	var low, high int
	for i := 0; i < 1000; i++ {
		v := r.IntN(n)
		if v >= n {
			t.Fatalf("IntN(%d) = %d", n, v)
		}
		if v < n/2 {
			low++
		} else {
			high++
		}
	}
	if low < 400 || high < 400 {
		t.Errorf("IntN(2^63+1): %d low, %d high of 1000", low, high)
	}
	counts := make([]int, 7)
	for i := 0; i < 7000; i++ {
		counts[r.IntN(7)]++
	}
	for v, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("IntN(7) hit %d %d times of 7000: %v", v, c, counts)
		}
	}
}

func TestNumber(t *testing.T) {
	for src, want := range map[string]bool{
		"{{int 1 5}}":    true,
		"{{ seq }}":      true,
		"{{uuid}}":       false,
		"{{pick 1 2}}":   false,
		" {{int 1 5}}":   false,
		"{{seq}}{{seq}}": false,
		"5":              false,
		"":               false,
	} {
		if got := mustParse(t, src).Number(); got != want {
			t.Errorf("Parse(%q).Number() = %v, want %v", src, got, want)
		}
	}
}

func TestSegments(t *testing.T) {
	tp := mustParse(t, `/a{{"{{"}}b/{{ int -2 7 }}{{uuid}}x{{pick a "b c"}}{{seq}}`)
	want := []Segment{
		{Kind: KindText, Text: "/a{{b/"},
		{Kind: KindInt, Min: -2, Max: 7},
		{Kind: KindUUID},
		{Kind: KindText, Text: "x"},
		{Kind: KindPick, Options: []string{"a", "b c"}},
		{Kind: KindSeq},
	}
	got := tp.Segments()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Segments() (-want +got):\n%s", diff)
	}
	got[4].Options[0] = "changed"
	if tp.Segments()[4].Options[0] != "a" {
		t.Errorf("Segments() shares the option slice with the template")
	}
	var src strings.Builder
	for _, s := range want {
		src.WriteString(s.String())
	}
	if diff := cmp.Diff(want, mustParse(t, src.String()).Segments()); diff != "" {
		t.Errorf("canonical source %q does not parse back (-want +got):\n%s", src.String(), diff)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a{b", "a{b"},
		{"{{", `{{"{{"}}`},
		{"x{", `x{{"{"}}`},
		{"{{{", `{{"{{"}}{{"{"}}`},
		{"{{uuid}}", `{{"{{"}}uuid}}`},
		{"}}", "}}"},
	}
	for _, tt := range tests {
		got := Quote(tt.text)
		if got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.text, got, tt.want)
		}
		// Quoted text renders as itself, also when a generator follows.
		tp := mustParse(t, got+"{{seq}}")
		if out := string(tp.Append(nil, nil, 5)); out != tt.text+"5" {
			t.Errorf("Quote(%q)+{{seq}} renders %q", tt.text, out)
		}
	}
}

func TestPickOptionRoundTrip(t *testing.T) {
	for _, opt := range []string{"", " ", "a b", `"`, `\`, "}}", "{{", "a}", "{a", "é", "\x00", "\xff", "tab\there", "line\nbreak"} {
		s := Segment{Kind: KindPick, Options: []string{opt}}
		tp, err := Parse(s.String())
		if err != nil {
			t.Errorf("option %q: source %q: %v", opt, s.String(), err)
			continue
		}
		if got := string(tp.Append(nil, NewRand(1), 0)); got != opt {
			t.Errorf("option %q: source %q renders %q", opt, s.String(), got)
		}
	}
}

func TestAppendAllocs(t *testing.T) {
	tp := mustParse(t, `/products/{{int 1 1000}}?trace={{uuid}}&mode={{pick fast slow "very slow"}}&n={{seq}}&x={{int -9223372036854775808 9223372036854775807}}`)
	r := NewRand(1)
	buf := make([]byte, 0, tp.MaxLen())
	seq := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		buf = tp.Append(buf[:0], r, seq)
	})
	if allocs != 0 {
		t.Errorf("Append allocates %v times per call, want 0", allocs)
	}
	static := mustParse(t, "/health")
	allocs = testing.AllocsPerRun(1000, func() {
		buf = static.Append(buf[:0], nil, 0)
	})
	if allocs != 0 {
		t.Errorf("static Append allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkAppend(b *testing.B) {
	for _, bc := range []struct{ name, src string }{
		{"static", "/products?limit=10"},
		{"int", "/products?limit={{int 1 100}}"},
		{"uuid", "{{uuid}}"},
		{"mixed", `{"product_id":{{int 1 1000}},"note":"{{pick fast slow}}","id":"{{uuid}}","n":{{seq}}}`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tp := mustParse(b, bc.src)
			r := NewRand(1)
			buf := make([]byte, 0, tp.MaxLen())
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				buf = tp.Append(buf[:0], r, uint64(i))
			}
		})
	}
}

func BenchmarkRandUint64(b *testing.B) {
	r := NewRand(1)
	var sink uint64
	for b.Loop() {
		sink += r.Uint64()
	}
	_ = sink
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "/p?limit={{int 1 100}}", "{{uuid}}", `{{pick a b "c d"}}`, "{{seq}}", `{{"{{"}}`,
		"{{int -9223372036854775808 9223372036854775807}}", "{{", "}}", `{{pick "\u00e9\x00"}}`, "{{int 3 1}}",
	} {
		f.Add(s, uint64(1), uint64(0))
	}
	f.Fuzz(func(t *testing.T, src string, seed, seq uint64) {
		tp, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not a *SyntaxError", err)
			}
			if se.Offset < 0 || se.Offset > len(src) {
				t.Fatalf("offset %d outside source of length %d", se.Offset, len(src))
			}
			return
		}
		if tp.String() != src {
			t.Fatalf("String() = %q, want %q", tp.String(), src)
		}
		r := NewRand(seed)
		out := tp.Append(nil, r, seq)
		if len(out) > tp.MaxLen() {
			t.Fatalf("render length %d > MaxLen() %d", len(out), tp.MaxLen())
		}
		if tp.Static() && string(tp.Append(nil, NewRand(seed+1), seq+1)) != string(out) {
			t.Fatalf("static template rendered two different outputs")
		}
		// Canonical source of the segments renders the same output.
		var canon strings.Builder
		for _, s := range tp.Segments() {
			canon.WriteString(s.String())
		}
		tc, err := Parse(canon.String())
		if err != nil {
			t.Fatalf("canonical source %q: %v", canon.String(), err)
		}
		if again := tc.Append(nil, NewRand(seed), seq); string(again) != string(out) {
			t.Fatalf("canonical source %q renders %q, want %q", canon.String(), again, out)
		}
	})
}
