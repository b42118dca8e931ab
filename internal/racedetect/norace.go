//go:build !race

// Package racedetect tells tests whether the race detector is on: under it,
// sync.Pool drops some of what it is given, so tests that count allocations skip.
package racedetect

// Enabled reports whether the program was built with the race detector.
const Enabled = false
