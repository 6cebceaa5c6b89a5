package valuegen

import (
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendRune appends r, JSON-escaped when js is set (without quotes) and raw
// UTF-8 otherwise. Surrogates and invalid runes become U+FFFD.
func appendRune(dst []byte, r rune, js bool) []byte {
	if !js {
		return utf8.AppendRune(dst, r)
	}
	switch {
	case r == '"':
		return append(dst, '\\', '"')
	case r == '\\':
		return append(dst, '\\', '\\')
	case r == '\n':
		return append(dst, '\\', 'n')
	case r == '\r':
		return append(dst, '\\', 'r')
	case r == '\t':
		return append(dst, '\\', 't')
	case r < 0x20:
		return append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
	case r < utf8.RuneSelf:
		return append(dst, byte(r))
	}
	return utf8.AppendRune(dst, r)
}

// appendJSONString appends s as a quoted JSON string. Invalid UTF-8 becomes
// U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends s JSON-escaped, without quotes.
func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = appendRune(dst, r, true)
		i += size
	}
	return dst
}

// appendTextOrJSON appends s raw (text) or escaped and quoted (JSON).
func appendStr(dst []byte, s string, js bool) []byte {
	if js {
		return appendJSONString(dst, s)
	}
	return append(dst, s...)
}
