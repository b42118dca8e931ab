//go:build !race

package gpt_test

const raceEnabled = false
