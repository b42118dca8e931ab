package kernel

// Linux arm64 ABI constants the kernel implements (include/uapi/asm-generic).

// errno values (returned negated in x0).
const (
	EPERM     = 1
	ENOENT    = 2
	EINTR     = 4
	EBADF     = 9
	EAGAIN    = 11
	ENOMEM    = 12
	EFAULT    = 14
	EINVAL    = 22
	ENOTTY    = 25
	ESPIPE    = 29
	ENOSYS    = 38
	ETIMEDOUT = 110
	ENODEV    = 19
	ESRCH     = 3
)

func errno(e int) uint64 { return uint64(-int64(e)) }

// Signals.
const (
	SIGILL  = 4
	SIGTRAP = 5
	SIGBUS  = 7
	SIGFPE  = 8
	SIGKILL = 9
	SIGSEGV = 11
	SIGURG  = 23
	nsig    = 64

	SA_SIGINFO = 0x4
	SA_ONSTACK = 0x08000000
	SA_NODEFER = 0x40000000

	SS_ONSTACK = 1
	SS_DISABLE = 2

	SI_TKILL    = -6
	SEGV_MAPERR = 1
	SEGV_ACCERR = 2
	BUS_ADRALN  = 1
	BUS_ADRERR  = 2
	ILL_ILLOPC  = 1
	TRAP_BRKPT  = 1

	SIG_DFL = 0
	SIG_IGN = 1
)

// mmap.
const (
	PROT_READ     = 1
	PROT_WRITE    = 2
	PROT_EXEC     = 4
	MAP_PRIVATE   = 0x02
	MAP_FIXED     = 0x10
	MAP_ANONYMOUS = 0x20

	MADV_DONTNEED = 4
	MADV_FREE     = 8
)

// futex.
const (
	FUTEX_WAIT         = 0
	FUTEX_WAKE         = 1
	FUTEX_PRIVATE_FLAG = 128
	FUTEX_CLOCK_RT     = 256
)

// Clocks.
const (
	CLOCK_REALTIME         = 0
	CLOCK_MONOTONIC        = 1
	CLOCK_MONO_RAW         = 4
	CLOCK_REALTIME_COARSE  = 5
	CLOCK_MONOTONIC_COARSE = 6
	CLOCK_BOOTTIME         = 7
)

// Signal frame layout (arch/arm64/include/uapi/asm/sigcontext.h, ucontext.h; the
// Go runtime's defs_linux_arm64.go mirrors it).
const (
	siginfoSize    = 128
	ucFlags        = 0
	ucLink         = 8
	ucStack        = 16 // stack_t: ss_sp, ss_flags (int32 + pad), ss_size
	ucSigmask      = 40
	ucMcontext     = 176 // struct sigcontext, 16-byte aligned
	scFaultAddress = 0
	scRegs         = 8
	scSP           = 256
	scPC           = 264
	scPstate       = 272
	scReserved     = 288 // __reserved[4096]: fpsimd_context record, then a null record
	fpsimdMagic    = 0x46508001
	fpsimdSize     = 528 // head (8) + fpsr (4) + fpcr (4) + 32 x 16 bytes
	ucontextSize   = ucMcontext + scReserved + 4096
	sigframeSize   = siginfoSize + ucontextSize
)
