package latency

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// MaxEncodedSize is the largest payload Decode accepts, in bytes of base64
// text. The largest valid encoding of the package geometry (every bucket
// populated with a count needing the widest varint, stored uncompressed) is
// about 283 KiB.
const MaxEncodedSize = 384 << 10

// Layout of the V2 compressed encoding (big-endian throughout):
//
//	base64( cookie:int32 | compressedLen:int32 | zlib( header | payload ) )
//	header = cookie:int32 | payloadLen:int32 | normalizingIndexOffset:int32 |
//	         significantDigits:int32 | lowest:int64 | highest:int64 |
//	         integerToDoubleConversionRatio:float64
const (
	compressedCookie = 0x1c849304 // V2 compressed cookie, low nibble of byte 3 masked
	payloadCookie    = 0x1c849303 // V2 uncompressed cookie, idem
	cookieMask       = 0xf0
	outerHeaderLen   = 8
	innerHeaderLen   = 40

	// countsLen is the number of counters of the package geometry:
	// (bucketCount+1) * 1024 with 22 power-of-two buckets, as 2048<<21 = 2^32
	// is the first power of two above HighestMicros.
	countsLen = 23 * 1024
	// maxPayloadLen bounds the inflated payload: at most one zig-zag LEB128
	// varint (at most 9 bytes) per counter.
	maxPayloadLen = countsLen * 9
)

// ErrCorrupt is wrapped by every error Decode returns for a payload that is
// not a valid histogram of the package geometry.
var ErrCorrupt = errors.New("corrupt histogram")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Decode parses a histogram in the HdrHistogram V2 compressed encoding, as
// produced by Encode or by other HdrHistogram tools with the same geometry.
// The input is treated as hostile: Decode rejects payloads larger than
// MaxEncodedSize, a geometry other than the package's (naming the field and
// its value), a conversion ratio other than 1, truncated, corrupt or trailing
// data, and bucket counts whose sum overflows int64. Whatever the payload
// claims, it allocates at most a few MiB. Bytes after the end of the zlib
// stream (inside the declared compressed length) are ignored, as by other
// HdrHistogram readers. Every error wraps ErrCorrupt.
func Decode(b []byte) (*Histogram, error) {
	if len(b) == 0 {
		return nil, corrupt("empty payload")
	}
	if len(b) > MaxEncodedSize {
		return nil, corrupt("payload of %d bytes exceeds the limit of %d", len(b), MaxEncodedSize)
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(b)))
	n, err := base64.StdEncoding.Decode(raw, b)
	if err != nil {
		return nil, corrupt("base64: %v", err)
	}
	raw = raw[:n]
	if len(raw) < outerHeaderLen {
		return nil, corrupt("truncated: %d bytes, need at least %d", len(raw), outerHeaderLen)
	}
	if c := binary.BigEndian.Uint32(raw) &^ cookieMask; c != compressedCookie {
		return nil, corrupt("cookie %#x is not the V2 compressed encoding", c)
	}
	clen := int64(binary.BigEndian.Uint32(raw[4:]))
	if rest := int64(len(raw) - outerHeaderLen); clen != rest {
		return nil, corrupt("compressed length field is %d but %d bytes follow", clen, rest)
	}
	if err := checkHeader(raw[outerHeaderLen:]); err != nil {
		return nil, err
	}
	// The header now names our geometry, which bounds everything
	// hdrhistogram-go allocates: the inflated payload (it reads at most
	// payloadLen+1 bytes and rejects payloadLen above 9 bytes per counter)
	// and the sparse counts (at most countsLen buckets).
	p, err := hdr.DecodePacked(b)
	if err != nil {
		return nil, corrupt("%v", err)
	}
	// DecodePacked keeps buckets whose counts sum past MaxInt64 and saturates
	// the total; such a histogram cannot be merged or queried exactly.
	var total int64
	overflow := false
	p.ForEachBucket(func(_, c int64) bool {
		if c > math.MaxInt64-total {
			overflow = true
			return false
		}
		total += c
		return true
	})
	if overflow || total != p.TotalCount() {
		return nil, corrupt("bucket counts sum past the int64 range")
	}
	return &Histogram{p: p}, nil
}

// checkHeader inflates only the fixed inner header of the zlib stream and
// checks that it describes a V2 histogram of the package geometry, before
// anything is sized from it.
func checkHeader(compressed []byte) error {
	z, err := zlib.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return corrupt("zlib: %v", err)
	}
	defer z.Close()
	var hd [innerHeaderLen]byte
	if _, err := io.ReadFull(z, hd[:]); err != nil {
		return corrupt("reading the inner header: %v", err)
	}
	if c := binary.BigEndian.Uint32(hd[0:]) &^ cookieMask; c != payloadCookie {
		return corrupt("inner cookie %#x is not the V2 encoding", c)
	}
	payloadLen := int32(binary.BigEndian.Uint32(hd[4:]))
	digits := int32(binary.BigEndian.Uint32(hd[12:]))
	lowest := int64(binary.BigEndian.Uint64(hd[16:]))
	highest := int64(binary.BigEndian.Uint64(hd[24:]))
	ratio := math.Float64frombits(binary.BigEndian.Uint64(hd[32:]))
	switch {
	case digits != Digits:
		return corrupt("geometry mismatch: significant digits %d, want %d", digits, Digits)
	case lowest != LowestMicros:
		return corrupt("geometry mismatch: lowest discernible value %d, want %d", lowest, LowestMicros)
	case highest != HighestMicros:
		return corrupt("geometry mismatch: highest trackable value %d, want %d", highest, HighestMicros)
	case ratio != 1 && ratio != 0: // 0 is written by some tools for the default 1
		return corrupt("unit mismatch: integer-to-double conversion ratio %v, want 1", ratio)
	case payloadLen < 0 || payloadLen > maxPayloadLen:
		return corrupt("payload length %d outside [0, %d]", payloadLen, maxPayloadLen)
	}
	return nil
}
