package kernel

// Implemented in assembly (boot_linux_arm64.s, vectors_linux_arm64.s).

// Boot is the firmware's entry point; the linker is told so with -E.
func Boot()

func psciCall(fn, a1, a2, a3 uint64) uint64

// probeRead32 reads a register that may not exist; faulted reports an abort.
func probeRead32(addr uintptr) (v uint32, faulted bool)

func vectors()
func resumeThread()
func sigreturnTrampoline()

// Addresses of assembly symbols.
func bootAddr() uintptr
func sigreturnTrampolineAddr() uintptr
func rt0Addr() uintptr // the Go runtime's Linux entry point, _rt0_arm64_linux
func textStart() uintptr
func textEnd() uintptr
func pclntabAddr() uintptr
func imageEnd() uintptr // runtime.end: end of BSS
