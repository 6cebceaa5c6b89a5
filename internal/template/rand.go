package template

import "math/bits"

// Rand is a small, fast pseudo-random generator (xoshiro256**, seeded
// through splitmix64). It is not cryptographically secure and not safe for
// concurrent use. The zero value is not usable: build one with NewRand.
type Rand struct {
	s0, s1, s2, s3 uint64
}

// NewRand returns a generator whose whole output is determined by seed.
func NewRand(seed uint64) *Rand {
	r := new(Rand)
	r.Seed(seed)
	return r
}

// Seed resets r to the state NewRand(seed) starts from.
func (r *Rand) Seed(seed uint64) {
	r.s0 = splitmix64(&seed)
	r.s1 = splitmix64(&seed)
	r.s2 = splitmix64(&seed)
	r.s3 = splitmix64(&seed)
}

// splitmix64 advances *x and returns the next splitmix64 output. Its outputs
// for consecutive states are distinct, so four of them are never all zero
// (xoshiro's one forbidden state).
func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64 returns 64 uniformly distributed random bits.
func (r *Rand) Uint64() uint64 {
	out := bits.RotateLeft64(r.s1*5, 7) * 9
	t := r.s1 << 17
	r.s2 ^= r.s0
	r.s3 ^= r.s1
	r.s1 ^= r.s2
	r.s0 ^= r.s3
	r.s2 ^= t
	r.s3 = bits.RotateLeft64(r.s3, 45)
	return out
}

// IntN returns a uniformly distributed integer in [0, n), without modulo
// bias (Lemire's multiply-and-reject method). IntN(0) returns 0.
func (r *Rand) IntN(n uint64) uint64 {
	if n == 0 {
		return 0
	}
	hi, lo := bits.Mul64(r.Uint64(), n)
	if lo < n {
		thresh := -n % n // 2^64 mod n
		for lo < thresh {
			hi, lo = bits.Mul64(r.Uint64(), n)
		}
	}
	return hi
}
