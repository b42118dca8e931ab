package engine

import "time"

// SetClock makes Generate read the time from f until restore is called (for
// the tests of package engine_test, which run the engines).
func SetClock(f func() time.Time) (restore func()) {
	old := now
	now = f
	return func() { now = old }
}
