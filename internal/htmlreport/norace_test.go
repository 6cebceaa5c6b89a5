//go:build !race

package htmlreport

const raceEnabled = false
