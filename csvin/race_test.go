//go:build race

package csvin

// raceEnabled trims the slowest tests, which check no concurrency, under the race detector.
const raceEnabled = true
