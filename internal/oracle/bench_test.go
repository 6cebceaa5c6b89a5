package oracle

import (
	"bytes"
	"os"
	"testing"
)

func loadClean(b testing.TB) []byte {
	body, err := os.ReadFile("testdata/clean/products_4k.json")
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkInfoLeakClean4K(b *testing.B) {
	body := loadClean(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := InfoLeak(body); ok {
			b.Fatal("clean body matched")
		}
	}
}

func BenchmarkInjectionSQLClean4K(b *testing.B) {
	body := loadClean(b)
	probe := []byte("' OR '1'='1")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Injection(DetectSQL, probe, "application/json", body); ok {
			b.Fatal("clean body matched")
		}
	}
}

func BenchmarkInjectionTemplateClean4K(b *testing.B) {
	body := loadClean(b)
	probe := []byte("zq{{7*191}}zq")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Injection(DetectTemplate, probe, "application/json", body); ok {
			b.Fatal("clean body matched")
		}
	}
}

// BenchmarkIndexByteMiss4K is the reference: one vectorised scan of the
// same body for a byte it does not hold.
func BenchmarkIndexByteMiss4K(b *testing.B) {
	body := loadClean(b)
	for b.Loop() {
		if bytes.IndexByte(body, '(') >= 0 {
			b.Fatal()
		}
	}
}

func BenchmarkInfoLeakJavaTrace(b *testing.B) {
	body, err := os.ReadFile("testdata/leak/java_spring_json.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, ok := InfoLeak(body); !ok {
			b.Fatal("no match")
		}
	}
}
