package shop

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []jsonMember // for an object
		top     jsonKind
		wantErr jsonErrKind
		ok      bool
	}{
		{name: "object", in: `{"a": 1, "b": "x", "c": null, "d": true, "e": [1, {"f": 2}], "g": {}}`, top: jsonObject, ok: true, want: []jsonMember{
			{"a", jsonValue{kind: jsonNumber, text: "1", integer: true}},
			{"b", jsonValue{kind: jsonString, text: "x"}},
			{"c", jsonValue{kind: jsonNull}},
			{"d", jsonValue{kind: jsonBool, text: "true"}},
			{"e", jsonValue{kind: jsonArray}},
			{"g", jsonValue{kind: jsonObject}},
		}},
		{name: "numbers", in: `{"a": -0, "b": 1.5, "c": 2e3, "d": 2.0, "e": -12}`, top: jsonObject, ok: true, want: []jsonMember{
			{"a", jsonValue{kind: jsonNumber, text: "-0", integer: true}},
			{"b", jsonValue{kind: jsonNumber, text: "1.5"}},
			{"c", jsonValue{kind: jsonNumber, text: "2e3"}},
			{"d", jsonValue{kind: jsonNumber, text: "2.0"}},
			{"e", jsonValue{kind: jsonNumber, text: "-12", integer: true}},
		}},
		{name: "escapes", in: `{"a\n": "\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t"}`, top: jsonObject, ok: true, want: []jsonMember{
			{"a\n", jsonValue{kind: jsonString, text: "é😀\"\\/\b\f\n\r\t"}},
		}},
		{name: "top-level array", in: ` [1,2] `, top: jsonArray, ok: true},
		{name: "top-level string", in: `"x"`, top: jsonString, ok: true},
		{name: "empty", in: ``, wantErr: jsonErrSyntax},
		{name: "white space only", in: "  \n", wantErr: jsonErrSyntax},
		{name: "unterminated object", in: `{"a": 1`, wantErr: jsonErrSyntax},
		{name: "trailing comma", in: `{"a": 1,}`, wantErr: jsonErrSyntax},
		{name: "trailing data", in: `{} {}`, wantErr: jsonErrSyntax},
		{name: "single quotes", in: `{'a': 1}`, wantErr: jsonErrSyntax},
		{name: "bare key", in: `{a: 1}`, wantErr: jsonErrSyntax},
		{name: "leading zero", in: `{"a": 01}`, wantErr: jsonErrSyntax},
		{name: "plus", in: `{"a": +1}`, wantErr: jsonErrSyntax},
		{name: "bare dot", in: `{"a": 1.}`, wantErr: jsonErrSyntax},
		{name: "bare exponent", in: `{"a": 1e}`, wantErr: jsonErrSyntax},
		{name: "NaN", in: `{"a": NaN}`, wantErr: jsonErrSyntax},
		{name: "bad literal", in: `{"a": tru}`, wantErr: jsonErrSyntax},
		{name: "raw control character", in: "{\"a\": \"x\ty\"}", wantErr: jsonErrSyntax},
		{name: "bad escape", in: `{"a": "\x"}`, wantErr: jsonErrSyntax},
		{name: "short unicode escape", in: `{"a": "\u12"}`, wantErr: jsonErrSyntax},
		{name: "byte order mark", in: "\ufeff{}", wantErr: jsonErrSyntax},
		{name: "comment", in: `{} // x`, wantErr: jsonErrSyntax},
		{name: "duplicate key", in: `{"a": 1, "a": 2}`, wantErr: jsonErrDuplicate},
		{name: "duplicate key, nested", in: `{"a": [{"b": 1, "b": 1}]}`, wantErr: jsonErrDuplicate},
		{name: "escaped duplicate key", in: `{"a": 1, "\u0061": 2}`, wantErr: jsonErrDuplicate},
		{name: "lone high surrogate", in: `{"a": "\ud800"}`, wantErr: jsonErrEncoding},
		{name: "lone low surrogate", in: `{"a": "\udc00"}`, wantErr: jsonErrEncoding},
		{name: "high then not low", in: `{"a": "\ud800\u0041"}`, wantErr: jsonErrEncoding},
		{name: "invalid UTF-8", in: "{\"a\": \"\xff\"}", wantErr: jsonErrEncoding},
		{name: "invalid UTF-8 after an escape", in: "{\"a\": \"\\n\xc3\"}", wantErr: jsonErrEncoding},
		{name: "deep", in: strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), wantErr: jsonErrDepth},
		{name: "deep enough", in: strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), top: jsonArray, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, members, err := parseJSON([]byte(tt.in))
			if tt.ok {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if top.kind != tt.top {
					t.Errorf("top kind %v, want %v", top.kind, tt.top)
				}
				if diff := cmp.Diff(tt.want, members, cmp.AllowUnexported(jsonMember{}, jsonValue{})); diff != "" {
					t.Errorf("members (-want +got):\n%s", diff)
				}
				return
			}
			var je *jsonError
			if !errors.As(err, &je) || je.kind != tt.wantErr {
				t.Errorf("error %v, want kind %d", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseJSON: the strict reader never accepts what encoding/json
// rejects, and agrees with it on what it accepts.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"product_id": 1, "quantity": 2, "note": "x"}`, `{"a": [1, {"b": null}], "c": 1.5e-3}`, `{"a": 1, "a": 2}`,
		`"\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", `[[[]]]`, `{"a": -0.0E+1}`, `{`, ``, `01`, `{"\u0000": "\u001f"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		top, members, err := parseJSON(b)
		if err != nil {
			var je *jsonError
			if !errors.As(err, &je) || je.offset < 0 || je.offset > len(b) {
				t.Fatalf("error %v (%T)", err, err)
			}
			return
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("accepted %q, which encoding/json rejects or is not UTF-8", b)
		}
		if top.kind != jsonObject {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		if len(m) != len(members) {
			t.Fatalf("%d members, encoding/json has %d", len(members), len(m))
		}
		for _, mem := range members {
			v, ok := m[mem.key]
			if !ok {
				t.Fatalf("key %q not in encoding/json's object", mem.key)
			}
			switch mem.val.kind {
			case jsonString:
				if v != mem.val.text {
					t.Fatalf("%q: %q, encoding/json %q", mem.key, mem.val.text, v)
				}
			case jsonNumber:
				if n, ok := v.(json.Number); !ok || string(n) != mem.val.text {
					t.Fatalf("%q: %s, encoding/json %v", mem.key, mem.val.text, v)
				}
			case jsonNull:
				if v != nil {
					t.Fatalf("%q: null, encoding/json %v", mem.key, v)
				}
			}
		}
	})
}
