package bootlog

import "sync/atomic"

// stepHook is told the name of each long step as it starts.
var stepHook atomic.Pointer[func(name string)]

// SetStepHook makes Step call f: the firmware passes sys.SetStep, so that a
// fault report, an SError or an unexpected exit names the step that was
// running (the boot log's last line may be far above it by then).
func SetStepHook(f func(name string)) { stepHook.Store(&f) }

// Step names the long step that starts now ("storage: USB", "loading
// llama-demo", "diag: ram"); without a hook (hosted, tests) it does nothing.
func Step(name string) {
	if f := stepHook.Load(); f != nil && *f != nil {
		(*f)(name)
	}
}
