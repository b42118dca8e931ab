package kernel

import (
	std "syscall"
	"testing"
	"unsafe"
)

// TestSyscallNumbersAreLinuxArm64s checks the table's numbers and names (sysnum.go)
// against the standard library's for linux/arm64, generated from Linux's headers.
// It runs on arm64 only (make test-arm64 runs it under qemu-user): elsewhere
// syscall.SYS_* are another machine's numbers.
func TestSyscallNumbersAreLinuxArm64s(t *testing.T) {
	calls := []struct {
		nr, std int
		name    string
	}{
		{SYS_GETCWD, std.SYS_GETCWD, "getcwd"},
		{SYS_EVENTFD2, std.SYS_EVENTFD2, "eventfd2"},
		{SYS_EPOLL_CREATE1, std.SYS_EPOLL_CREATE1, "epoll_create1"},
		{SYS_EPOLL_CTL, std.SYS_EPOLL_CTL, "epoll_ctl"},
		{SYS_EPOLL_PWAIT, std.SYS_EPOLL_PWAIT, "epoll_pwait"},
		{SYS_DUP, std.SYS_DUP, "dup"},
		{SYS_FCNTL, std.SYS_FCNTL, "fcntl"},
		{SYS_IOCTL, std.SYS_IOCTL, "ioctl"},
		{SYS_FACCESSAT, std.SYS_FACCESSAT, "faccessat"},
		{SYS_OPENAT, std.SYS_OPENAT, "openat"},
		{SYS_CLOSE, std.SYS_CLOSE, "close"},
		{SYS_LSEEK, std.SYS_LSEEK, "lseek"},
		{SYS_READ, std.SYS_READ, "read"},
		{SYS_WRITE, std.SYS_WRITE, "write"},
		{SYS_PREAD64, std.SYS_PREAD64, "pread64"},
		{SYS_READLINKAT, std.SYS_READLINKAT, "readlinkat"},
		{SYS_FSTATAT, std.SYS_FSTATAT, "newfstatat"},
		{SYS_FSTAT, std.SYS_FSTAT, "fstat"},
		{SYS_FSYNC, std.SYS_FSYNC, "fsync"},
		{SYS_FDATASYNC, std.SYS_FDATASYNC, "fdatasync"},
		{SYS_EXIT, std.SYS_EXIT, "exit"},
		{SYS_EXIT_GROUP, std.SYS_EXIT_GROUP, "exit_group"},
		{SYS_SET_TID_ADDRESS, std.SYS_SET_TID_ADDRESS, "set_tid_address"},
		{SYS_FUTEX, std.SYS_FUTEX, "futex"},
		{SYS_SET_ROBUST_LIST, std.SYS_SET_ROBUST_LIST, "set_robust_list"},
		{SYS_NANOSLEEP, std.SYS_NANOSLEEP, "nanosleep"},
		{SYS_CLOCK_GETTIME, std.SYS_CLOCK_GETTIME, "clock_gettime"},
		{SYS_CLOCK_GETRES, std.SYS_CLOCK_GETRES, "clock_getres"},
		{SYS_CLOCK_NANOSLEEP, std.SYS_CLOCK_NANOSLEEP, "clock_nanosleep"},
		{SYS_SCHED_GETAFFINITY, std.SYS_SCHED_GETAFFINITY, "sched_getaffinity"},
		{SYS_SCHED_YIELD, std.SYS_SCHED_YIELD, "sched_yield"},
		{SYS_KILL, std.SYS_KILL, "kill"},
		{SYS_TKILL, std.SYS_TKILL, "tkill"},
		{SYS_TGKILL, std.SYS_TGKILL, "tgkill"},
		{SYS_SIGALTSTACK, std.SYS_SIGALTSTACK, "sigaltstack"},
		{SYS_RT_SIGACTION, std.SYS_RT_SIGACTION, "rt_sigaction"},
		{SYS_RT_SIGPROCMASK, std.SYS_RT_SIGPROCMASK, "rt_sigprocmask"},
		{SYS_RT_SIGRETURN, std.SYS_RT_SIGRETURN, "rt_sigreturn"},
		{SYS_UNAME, std.SYS_UNAME, "uname"},
		{SYS_GETRLIMIT, std.SYS_GETRLIMIT, "getrlimit"},
		{SYS_PRCTL, std.SYS_PRCTL, "prctl"},
		{SYS_GETPID, std.SYS_GETPID, "getpid"},
		{SYS_GETPPID, std.SYS_GETPPID, "getppid"},
		{SYS_GETUID, std.SYS_GETUID, "getuid"},
		{SYS_GETEUID, std.SYS_GETEUID, "geteuid"},
		{SYS_GETGID, std.SYS_GETGID, "getgid"},
		{SYS_GETEGID, std.SYS_GETEGID, "getegid"},
		{SYS_GETTID, std.SYS_GETTID, "gettid"},
		{SYS_SYSINFO, std.SYS_SYSINFO, "sysinfo"},
		{SYS_MUNMAP, std.SYS_MUNMAP, "munmap"},
		{SYS_CLONE, std.SYS_CLONE, "clone"},
		{SYS_MMAP, std.SYS_MMAP, "mmap"},
		{SYS_MPROTECT, std.SYS_MPROTECT, "mprotect"},
		{SYS_MADVISE, std.SYS_MADVISE, "madvise"},
		{SYS_PRLIMIT64, std.SYS_PRLIMIT64, "prlimit64"},
		{SYS_GETRANDOM, std.SYS_GETRANDOM, "getrandom"},
		// rseq (293) is newer than the standard library's list: the header's number
		// stands alone (include/uapi/asm-generic/unistd.h, __NR_rseq).
		{SYS_RSEQ, 293, "rseq"},
	}
	listed := map[int]bool{}
	for _, s := range calls {
		listed[s.nr] = true
		if s.nr != s.std {
			t.Errorf("SYS_ for %s is %d, Linux's is %d", s.name, s.nr, s.std)
		}
		if got := syscalls[s.std].name; got != s.name {
			t.Errorf("the table's call %d is %q, Linux's is %s", s.std, got, s.name)
		}
	}
	for nr, e := range syscalls {
		if e.name != "" && !listed[nr] {
			t.Errorf("the table's %s (%d) is not checked here", e.name, nr)
		}
	}
}

// TestLinuxSysinfoIsTheStandardLibrarys checks struct sysinfo against the standard
// library's Sysinfo_t for linux/arm64.
func TestLinuxSysinfoIsTheStandardLibrarys(t *testing.T) {
	var s linuxSysinfo
	var lib std.Sysinfo_t
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"uptime", unsafe.Offsetof(s.uptime), unsafe.Offsetof(lib.Uptime)},
		{"totalram", unsafe.Offsetof(s.totalram), unsafe.Offsetof(lib.Totalram)},
		{"freeram", unsafe.Offsetof(s.freeram), unsafe.Offsetof(lib.Freeram)},
		{"procs", unsafe.Offsetof(s.procs), unsafe.Offsetof(lib.Procs)},
		{"totalhigh", unsafe.Offsetof(s.totalhigh), unsafe.Offsetof(lib.Totalhigh)},
		{"mem_unit", unsafe.Offsetof(s.memUnit), unsafe.Offsetof(lib.Unit)},
		{"size", unsafe.Sizeof(s), unsafe.Sizeof(lib)},
	} {
		if f.got != f.want {
			t.Errorf("struct sysinfo's %s at %d, the standard library's at %d", f.name, f.got, f.want)
		}
	}
}
