package finding

import (
	"fmt"
	"strings"
	"testing"
)

// jsonBody4K is a 4 KiB JSON list page of the kind APIs return.
func jsonBody4K() []byte {
	var b strings.Builder
	b.WriteString(`{"data":[`)
	for i := 0; b.Len() < 4200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"6513270e-269e-4d37-b2a7-%012x","sku":"SKU-%05d","name":"Chair %d","price":%d.99,"created_at":"2024-10-19T12:03:%02dZ","seller":{"email":"s%d@shop.example"},"tags":["office","oak"]}`, i, 10000+i, i, 100+i, i%60, i)
	}
	b.WriteString(`],"page":1}`)
	return []byte(b.String()[:4096])
}

func BenchmarkNormalizeJSON4K(b *testing.B) {
	body := jsonBody4K()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Normalize(body)
	}
}

func BenchmarkNormalizeText4K(b *testing.B) {
	line := "panic: runtime error: index out of range [5] with length 3\ngoroutine 34 [running]:\nmain.handle(0xc0000a6000)\n\t/src/main.go:118 +0x2a5\n"
	body := []byte(strings.Repeat(line, 4096/len(line)+1)[:4096])
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		Normalize(body)
	}
}

func BenchmarkFingerprint4K(b *testing.B) {
	body := jsonBody4K()
	b.ReportAllocs()
	for b.Loop() {
		Fingerprint("listProducts", string(ServerError), "boundaries/max+1", 500, body)
	}
}
