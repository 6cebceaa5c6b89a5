package valuegen

import (
	"encoding/base64"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/barrage-dev/barrage/internal/template"
)

// formatSpec generates strings of one format. gen writes exactly n ASCII
// characters that need no JSON escaping, for any n that lengthOK accepts
// within [lo, hi].
type formatSpec struct {
	lo, hi   int // lengths the generator can produce
	nlo, nhi int // natural lengths, preferred when the schema allows them
	lengthOK func(n int) bool
	gen      func(dst []byte, r *template.Rand, n int) []byte
}

func anyLength(int) bool { return true }

// formatSpecs holds the string formats Gen honours. Formats not listed
// (binary, and unknown ones) are generated as plain strings; "password"
// is a plain string with symbols.
var formatSpecs = map[string]*formatSpec{
	"uuid":          {lo: 36, hi: 36, nlo: 36, nhi: 36, lengthOK: anyLength, gen: genUUID},
	"date":          {lo: 10, hi: 10, nlo: 10, nhi: 10, lengthOK: anyLength, gen: genDate},
	"date-time":     {lo: 20, hi: 29, nlo: 20, nhi: 24, lengthOK: func(n int) bool { return n != 21 }, gen: genDateTime},
	"time":          {lo: 9, hi: 18, nlo: 9, nhi: 12, lengthOK: func(n int) bool { return n != 10 }, gen: genTime},
	"email":         {lo: 6, hi: 76, nlo: 13, nhi: 24, lengthOK: anyLength, gen: genEmail},
	"idn-email":     {lo: 6, hi: 76, nlo: 13, nhi: 24, lengthOK: anyLength, gen: genEmail},
	"hostname":      {lo: 1, hi: 253, nlo: 8, nhi: 20, lengthOK: anyLength, gen: genHostname},
	"idn-hostname":  {lo: 1, hi: 253, nlo: 8, nhi: 20, lengthOK: anyLength, gen: genHostname},
	"ipv4":          {lo: 7, hi: 15, nlo: 7, nhi: 15, lengthOK: anyLength, gen: genIPv4},
	"ipv6":          {lo: 15, hi: 39, nlo: 15, nhi: 39, lengthOK: anyLength, gen: genIPv6},
	"uri":           {lo: 11, hi: 2048, nlo: 20, nhi: 40, lengthOK: anyLength, gen: genURI},
	"url":           {lo: 11, hi: 2048, nlo: 20, nhi: 40, lengthOK: anyLength, gen: genURI},
	"iri":           {lo: 11, hi: 2048, nlo: 20, nhi: 40, lengthOK: anyLength, gen: genURI},
	"uri-reference": {lo: 11, hi: 2048, nlo: 20, nhi: 40, lengthOK: anyLength, gen: genURI},
	"iri-reference": {lo: 11, hi: 2048, nlo: 20, nhi: 40, lengthOK: anyLength, gen: genURI},
	"byte":          {lo: 0, hi: 1 << 20, nlo: 4, nhi: 24, lengthOK: func(n int) bool { return n%4 == 0 }, gen: genBase64},
}

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	lowerAlpha = "abcdefghijklmnopqrstuvwxyz"
	b64Chars   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func pick(r *template.Rand, set string) byte { return set[r.IntN(uint64(len(set)))] }

func appendDigits(dst []byte, v uint64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for w := 0; w < width || v > 0; w++ {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if i == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

func genUUID(dst []byte, r *template.Rand, _ int) []byte {
	a, b := r.Uint64(), r.Uint64()
	a = a&^(0xf<<12) | 4<<12 // version 4
	b = b&^(0x3<<62) | 0x2<<62
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			dst = append(dst, '-')
		}
		var nib uint64
		if i < 16 {
			nib = a >> (60 - 4*i) & 0xf
		} else {
			nib = b >> (60 - 4*(i-16)) & 0xf
		}
		dst = append(dst, hexDigits[nib])
	}
	return dst
}

func genDate(dst []byte, r *template.Rand, _ int) []byte {
	dst = appendDigits(dst, 1970+r.IntN(60), 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, 1+r.IntN(12), 2)
	dst = append(dst, '-')
	return appendDigits(dst, 1+r.IntN(28), 2)
}

func genClock(dst []byte, r *template.Rand) []byte {
	dst = appendDigits(dst, r.IntN(24), 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, r.IntN(60), 2)
	dst = append(dst, ':')
	return appendDigits(dst, r.IntN(60), 2)
}

// genClockSuffix writes a time offset so that the clock part plus the suffix
// has exactly rest more characters: "Z" (1), ".f…Z" (3+) or "+hh:mm" (6).
func genClockSuffix(dst []byte, r *template.Rand, rest int) []byte {
	if rest == 6 && r.IntN(2) == 0 {
		if r.IntN(2) == 0 {
			dst = append(dst, '+')
		} else {
			dst = append(dst, '-')
		}
		dst = appendDigits(dst, r.IntN(14), 2)
		dst = append(dst, ':')
		return appendDigits(dst, 15*r.IntN(4), 2)
	}
	if rest >= 3 {
		dst = append(dst, '.')
		for i := 0; i < rest-2; i++ {
			dst = append(dst, byte('0'+r.IntN(10)))
		}
	}
	return append(dst, 'Z')
}

func genDateTime(dst []byte, r *template.Rand, n int) []byte {
	dst = genDate(dst, r, 10)
	dst = append(dst, 'T')
	dst = genClock(dst, r)
	return genClockSuffix(dst, r, n-19)
}

func genTime(dst []byte, r *template.Rand, n int) []byte {
	dst = genClock(dst, r)
	return genClockSuffix(dst, r, n-8)
}

func genLabel(dst []byte, r *template.Rand, n int) []byte {
	for i := 0; i < n; i++ {
		if i == 0 {
			dst = append(dst, pick(r, lowerAlpha))
		} else {
			dst = append(dst, pick(r, lowerAlnum))
		}
	}
	return dst
}

func genEmail(dst []byte, r *template.Rand, n int) []byte {
	if n >= 13 {
		dst = genLabel(dst, r, n-12)
		return append(dst, "@example.com"...)
	}
	dst = genLabel(dst, r, n-5)
	return append(dst, "@b.co"...)
}

func genHostname(dst []byte, r *template.Rand, n int) []byte {
	for rem := n; rem > 0; {
		l := min(rem, 1+int(r.IntN(10)), 63)
		if rem-l == 1 { // a dot needs at least one character after it
			if l < 63 {
				l++
			} else {
				l--
			}
		}
		dst = genLabel(dst, r, l)
		rem -= l
		if rem > 0 {
			dst = append(dst, '.')
			rem--
		}
	}
	return dst
}

func genIPv4(dst []byte, r *template.Rand, n int) []byte {
	var d [4]int
	extra := n - 7
	for i := range d {
		d[i] = 1
	}
	for extra > 0 {
		i := r.IntN(4)
		if d[i] < 3 {
			d[i]++
			extra--
		}
	}
	for i, w := range d {
		if i > 0 {
			dst = append(dst, '.')
		}
		switch w {
		case 1:
			dst = appendDigits(dst, r.IntN(10), 1)
		case 2:
			dst = appendDigits(dst, 10+r.IntN(90), 2)
		default:
			dst = appendDigits(dst, 100+r.IntN(156), 3)
		}
	}
	return dst
}

func genIPv6(dst []byte, r *template.Rand, n int) []byte {
	var d [8]int
	for i := range d {
		d[i] = 1
	}
	for extra := n - 15; extra > 0; {
		i := r.IntN(8)
		if d[i] < 4 {
			d[i]++
			extra--
		}
	}
	for i, w := range d {
		if i > 0 {
			dst = append(dst, ':')
		}
		for j := 0; j < w; j++ {
			dst = append(dst, hexDigits[r.IntN(16)])
		}
	}
	return dst
}

func genURI(dst []byte, r *template.Rand, n int) []byte {
	base := "https://example.com"
	if n < len(base) {
		base = "http://x.io"
	}
	dst = append(dst, base...)
	rest := n - len(base)
	if rest > 0 {
		dst = append(dst, '/')
		prevSlash := true
		for i := 1; i < rest; i++ {
			if !prevSlash && i < rest-1 && r.IntN(8) == 0 {
				dst = append(dst, '/')
				prevSlash = true
				continue
			}
			dst = append(dst, pick(r, lowerAlnum))
			prevSlash = false
		}
	}
	return dst
}

func genBase64(dst []byte, r *template.Rand, n int) []byte {
	for i := 0; i < n; i += 4 {
		v := r.Uint64()
		for j := 0; j < 4; j++ {
			dst = append(dst, b64Chars[v>>(6*j)&63])
		}
	}
	return dst
}

var (
	reDate     = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$`)
	reDateTime = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	reTime     = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$`)
	reEmail    = regexp.MustCompile(`^[^@\s]+@[^@<>",\s]+$`)
	reScheme   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.\-]*$`)
)

// CheckFormat reports whether s is valid for the string format, and whether
// the format is one this package asserts (uuid, date, date-time, time,
// email, idn-email, hostname, idn-hostname, ipv4, ipv6, uri, url, iri,
// uri-reference, iri-reference, byte). For other formats known is false and
// valid is true. The checks are strict where real parsers are (dates must
// exist, IP addresses have no leading zeros, a uri has a scheme).
func CheckFormat(format, s string) (valid, known bool) {
	switch format {
	case "uuid":
		return checkUUID(s), true
	case "date":
		return reDate.MatchString(s) && validDay(s), true
	case "date-time":
		return reDateTime.MatchString(s) && validDay(s), true
	case "time":
		return reTime.MatchString(s), true
	case "email", "idn-email":
		return reEmail.MatchString(s), true
	case "hostname", "idn-hostname":
		return checkHostname(s), true
	case "ipv4":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is4(), true
	case "ipv6":
		a, err := netip.ParseAddr(s)
		return err == nil && a.Is6() && a.Zone() == "", true
	case "uri", "url", "iri":
		u, err := url.Parse(s)
		return err == nil && u.Scheme != "" && reScheme.MatchString(u.Scheme) && (u.Host != "" || u.Opaque != "" || u.Path != ""), true
	case "uri-reference", "iri-reference":
		_, err := url.Parse(s)
		return err == nil, true
	case "byte":
		return checkBase64(s), true
	}
	return true, false
}

func checkUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func validDay(s string) bool {
	_, err := time.Parse(time.DateOnly, s[:10])
	return err == nil
}

func checkHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

func checkBase64(s string) bool {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}
