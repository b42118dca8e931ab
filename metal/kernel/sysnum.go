package kernel

// System call numbers of Linux on arm64, the generic table of
// include/uapi/asm-generic/unistd.h, named as the standard library's syscall
// package names them for linux/arm64. They are constants here, not syscall.SYS_*,
// because the unit tests run this table on hosts whose numbers differ;
// sysnum_linux_arm64_test.go checks them against the standard library.
const (
	SYS_GETCWD            = 17
	SYS_EVENTFD2          = 19
	SYS_EPOLL_CREATE1     = 20
	SYS_EPOLL_CTL         = 21
	SYS_EPOLL_PWAIT       = 22
	SYS_DUP               = 23
	SYS_FCNTL             = 25
	SYS_IOCTL             = 29
	SYS_FACCESSAT         = 48
	SYS_OPENAT            = 56
	SYS_CLOSE             = 57
	SYS_LSEEK             = 62
	SYS_READ              = 63
	SYS_WRITE             = 64
	SYS_PREAD64           = 67
	SYS_READLINKAT        = 78
	SYS_FSTATAT           = 79 // newfstatat
	SYS_FSTAT             = 80
	SYS_FSYNC             = 82
	SYS_FDATASYNC         = 83
	SYS_EXIT              = 93
	SYS_EXIT_GROUP        = 94
	SYS_SET_TID_ADDRESS   = 96
	SYS_FUTEX             = 98
	SYS_SET_ROBUST_LIST   = 99
	SYS_NANOSLEEP         = 101
	SYS_CLOCK_GETTIME     = 113
	SYS_CLOCK_GETRES      = 114
	SYS_CLOCK_NANOSLEEP   = 115
	SYS_SCHED_GETAFFINITY = 123
	SYS_SCHED_YIELD       = 124
	SYS_KILL              = 129
	SYS_TKILL             = 130
	SYS_TGKILL            = 131
	SYS_SIGALTSTACK       = 132
	SYS_RT_SIGACTION      = 134
	SYS_RT_SIGPROCMASK    = 135
	SYS_RT_SIGRETURN      = 139
	SYS_UNAME             = 160
	SYS_GETRLIMIT         = 163
	SYS_PRCTL             = 167
	SYS_GETPID            = 172
	SYS_GETPPID           = 173
	SYS_GETUID            = 174
	SYS_GETEUID           = 175
	SYS_GETGID            = 176
	SYS_GETEGID           = 177
	SYS_GETTID            = 178
	SYS_SYSINFO           = 179
	SYS_MUNMAP            = 215
	SYS_CLONE             = 220
	SYS_MMAP              = 222
	SYS_MPROTECT          = 226
	SYS_MADVISE           = 233
	SYS_PRLIMIT64         = 261
	SYS_GETRANDOM         = 278
	SYS_RSEQ              = 293 // after the standard library's list, which ends at 281
)
