//go:build race

package h1

// raceEnabled reports that the race detector is on (it changes allocation
// counts in the standard library).
const raceEnabled = true
