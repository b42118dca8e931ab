package kernel

import (
	"unsafe"

	"github.com/inferpi/inferpi/metal/abi"
	"github.com/inferpi/inferpi/metal/mm"
)

// The system-call table: number, name, handler. Numbers are Linux's for arm64
// (sysnum.go). A call the Go runtime makes that needs no real work here is a stub:
// a fixed result and the reason it suffices, as gVisor's table notes each call it
// does not implement (pkg/sentry/syscalls/linux/linux64.go). A call implemented
// only in part says what is left out. Anything not listed returns ENOSYS and is
// reported once on the console. The strace line of a stub or partial call shows
// its note.

// A handler gets the calling thread (args in t.ctx.x[0..5]) and returns x0.
// It returns keep when it has already arranged x0 (a blocked call completed later
// by its waker, or rt_sigreturn restoring the whole context).
type sysHandler func(c *percore, t *thread) uint64

// privateBase: InferPi's own calls (metal/abi) come after every Linux number.
const privateBase = abi.PrivateBase

const keep = ^uint64(0) - 4096 // never a valid result: errno range is -4095..-1

// sysEntry is one call of the table. The table is written as literals, not
// through constructors: a call in a package variable's initialiser would need
// the package's init, which runs long after the kernel needs its table.
type sysEntry struct {
	name  string
	fn    sysHandler // nil for a stub
	errno int        // a stub's result is -errno, or 0 when errno is 0
	why   string     // a stub's reason, or what a partial implementation leaves out
}

// Reasons shared by several stubs.
const (
	noFiles     = "no file system: the runtime's /proc and /sys probes find nothing, as where those are not mounted"
	oneUser     = "one user, root, as for the first process of a system"
	fixedLimits = "every limit reads 1024 soft, 4096 hard; new limits are ignored: nothing here enforces one"
)

const nsyscalls = 300

var syscalls = [nsyscalls]sysEntry{
	SYS_GETCWD:            {name: "getcwd", errno: ENOENT, why: "no file system: there is no working directory"},
	SYS_EVENTFD2:          {name: "eventfd2", fn: sysEventfd2},
	SYS_EPOLL_CREATE1:     {name: "epoll_create1", fn: sysEpollCreate1},
	SYS_EPOLL_CTL:         {name: "epoll_ctl", fn: sysEpollCtl},
	SYS_EPOLL_PWAIT:       {name: "epoll_pwait", fn: sysEpollPwait},
	SYS_DUP:               {name: "dup", errno: EBADF, why: "descriptors are fixed: the console's three and the kernel's eventfd and epoll objects; none is duplicated"},
	SYS_FCNTL:             {name: "fcntl", fn: sysFcntl, why: "F_GETFD, F_GETFL, F_SETFD and F_SETFL; the flags set are accepted and ignored"},
	SYS_IOCTL:             {name: "ioctl", fn: sysIoctl, why: "ENOTTY for every descriptor: the console takes no terminal settings (its line discipline is the firmware's)"},
	SYS_FACCESSAT:         {name: "faccessat", errno: ENOENT, why: noFiles},
	SYS_OPENAT:            {name: "openat", errno: ENOENT, why: noFiles},
	SYS_CLOSE:             {name: "close", fn: sysClose},
	SYS_LSEEK:             {name: "lseek", fn: sysLseek},
	SYS_READ:              {name: "read", fn: sysRead},
	SYS_WRITE:             {name: "write", fn: sysWrite},
	SYS_PREAD64:           {name: "pread64", fn: sysLseek, why: "ESPIPE: every descriptor is a stream, as a pipe is"},
	SYS_READLINKAT:        {name: "readlinkat", errno: ENOENT, why: noFiles},
	SYS_FSTATAT:           {name: "newfstatat", errno: ENOENT, why: noFiles},
	SYS_FSTAT:             {name: "fstat", fn: sysFstat},
	SYS_FSYNC:             {name: "fsync", fn: sysFsync},
	SYS_FDATASYNC:         {name: "fdatasync", fn: sysFsync},
	SYS_EXIT:              {name: "exit", fn: sysExit},
	SYS_EXIT_GROUP:        {name: "exit_group", fn: sysExitGroup},
	SYS_SET_TID_ADDRESS:   {name: "set_tid_address", fn: sysGettid, why: "the address is not kept: no thread here waits for another's exit through it"},
	SYS_FUTEX:             {name: "futex", fn: sysFutex, why: "FUTEX_WAIT and FUTEX_WAKE only (private or shared alike): all the runtime uses"},
	SYS_SET_ROBUST_LIST:   {name: "set_robust_list", why: "robust futexes belong to pthread mutexes, which nothing here holds"},
	SYS_NANOSLEEP:         {name: "nanosleep", fn: sysNanosleep},
	SYS_CLOCK_GETTIME:     {name: "clock_gettime", fn: sysClockGettime},
	SYS_CLOCK_GETRES:      {name: "clock_getres", fn: sysClockGetres},
	SYS_CLOCK_NANOSLEEP:   {name: "clock_nanosleep", fn: sysClockNanosleep},
	SYS_SCHED_GETAFFINITY: {name: "sched_getaffinity", fn: sysSchedGetaffinity},
	SYS_SCHED_YIELD:       {name: "sched_yield", fn: sysSchedYield},
	SYS_KILL:              {name: "kill", fn: sysKill, why: "any pid is this process: the calling thread takes the signal"},
	SYS_TKILL:             {name: "tkill", fn: sysTkill},
	SYS_TGKILL:            {name: "tgkill", fn: sysTgkill},
	SYS_SIGALTSTACK:       {name: "sigaltstack", fn: sysSigaltstack},
	SYS_RT_SIGACTION:      {name: "rt_sigaction", fn: sysRtSigaction},
	SYS_RT_SIGPROCMASK:    {name: "rt_sigprocmask", fn: sysRtSigprocmask},
	SYS_RT_SIGRETURN:      {name: "rt_sigreturn", fn: sysRtSigreturn},
	SYS_UNAME:             {name: "uname", fn: sysUname},
	SYS_GETRLIMIT:         {name: "getrlimit", fn: sysPrlimit, why: fixedLimits},
	SYS_PRCTL:             {name: "prctl", errno: EINVAL, why: "naming mappings (PR_SET_VMA) is not supported: EINVAL makes the runtime stop trying"},
	SYS_GETPID:            {name: "getpid", fn: sysGetpid},
	SYS_GETPPID:           {name: "getppid", why: "no parent: the firmware is the only process"},
	SYS_GETUID:            {name: "getuid", why: oneUser},
	SYS_GETEUID:           {name: "geteuid", why: oneUser},
	SYS_GETGID:            {name: "getgid", why: oneUser},
	SYS_GETEGID:           {name: "getegid", why: oneUser},
	SYS_GETTID:            {name: "gettid", fn: sysGettid},
	SYS_SYSINFO:           {name: "sysinfo", fn: sysSysinfo, why: "uptime and RAM only: no load averages, swap or process count"},
	SYS_MUNMAP:            {name: "munmap", fn: sysMunmap},
	SYS_CLONE:             {name: "clone", fn: sysClone, why: "a thread sharing everything, whatever the flags: the runtime's newosproc is the only caller"},
	SYS_MMAP:              {name: "mmap", fn: sysMmap, why: "anonymous memory only (ENODEV otherwise): there are no files"},
	SYS_MPROTECT:          {name: "mprotect", fn: sysMprotect, why: "pages are either mapped for every access or not at all (PROT_NONE)"},
	SYS_MADVISE:           {name: "madvise", fn: sysMadvise, why: "MADV_DONTNEED releases the pages; other advice is accepted and ignored"},
	SYS_PRLIMIT64:         {name: "prlimit64", fn: sysPrlimit, why: fixedLimits},
	SYS_GETRANDOM:         {name: "getrandom", fn: sysGetrandom},
	SYS_RSEQ:              {name: "rseq", errno: ENOSYS, why: "restartable sequences are an optimisation a caller does without on ENOSYS; listed so that no report is printed"},
}

var reportedENOSYS [nsyscalls/64 + 1]uint64

func syscall(c *percore, t *thread) {
	nr := t.ctx.x[8]
	var r uint64
	switch {
	case nr < nsyscalls && syscalls[nr].fn != nil:
		r = syscalls[nr].fn(c, t)
	case nr < nsyscalls && syscalls[nr].name != "":
		r = errno(syscalls[nr].errno)
	case nr >= privateBase && privateCall(nr) != nil:
		r = privateCall(nr)(c, t)
	default:
		if nr < nsyscalls && reportedENOSYS[nr/64]&(1<<(nr%64)) == 0 {
			reportedENOSYS[nr/64] |= 1 << (nr % 64)
			var l kline
			l.stamp()
			l.s("kernel: unsupported system call ").d(nr).s(" (ENOSYS)").print()
		}
		r = errno(ENOSYS)
	}
	if r != keep {
		t.ctx.x[0] = r
	}
	if straceOn != 0 {
		var l kline
		l.stamp().s("strace: tid ").d(uint64(t.tid)).s(" ")
		if nr < nsyscalls && syscalls[nr].name != "" {
			l.s(syscalls[nr].name)
		} else {
			l.d(nr)
		}
		l.s("(").x(t.ctx.x[0]).s(", ").x(t.ctx.x[1]).s(", ").x(t.ctx.x[2]).s(") = ").x(r)
		if nr < nsyscalls && syscalls[nr].why != "" {
			l.s(" (").s(syscalls[nr].why).s(")")
		}
		l.print()
	}
}

// straceOn makes the kernel log every system call (set while debugging the kernel).
var straceOn uint32

// fastSyscall answers the calls that need no lock. It reports whether it did.
func fastSyscall(t *thread) bool {
	switch t.ctx.x[8] {
	case SYS_CLOCK_GETTIME: // the runtime's most frequent call by far
		if ts := t.ctx.x[1]; ts < mm.PageSize || !writableNow(ts, 16) {
			return false // a page to map back in (or an error): the locked path does that
		}
		t.ctx.x[0] = clockGettime(t.ctx.x[0], uintptr(t.ctx.x[1]))
		return true
	case SYS_GETTID:
		t.ctx.x[0] = uint64(t.tid)
		return true
	case SYS_GETPID:
		t.ctx.x[0] = 1
		return true
	}
	return false
}

// sysFsync on the console waits for nothing: the ring drains by itself.
func sysFsync(c *percore, t *thread) uint64 {
	if !validFD(t.ctx.x[0]) {
		return errno(EBADF)
	}
	return 0
}

func sysGetpid(c *percore, t *thread) uint64 { return 1 }
func sysGettid(c *percore, t *thread) uint64 { return uint64(t.tid) }

// sysSchedGetaffinity reports the cores that run (the runtime sets GOMAXPROCS from it).
func sysSchedGetaffinity(c *percore, t *thread) uint64 {
	size, buf := t.ctx.x[1], uintptr(t.ctx.x[2])
	if size < 8 {
		return errno(EINVAL)
	}
	if !userOK(buf, 8) {
		return errno(EFAULT)
	}
	*u64At(buf) = 1<<uint(maxCoresOnline()) - 1
	return 8
}

func sysSchedYield(c *percore, t *thread) uint64 {
	t.ctx.x[0] = 0
	if runq.n > 0 {
		runqPush(c.cur)
		c.cur = -1
	}
	return keep
}

func sysUname(c *percore, t *thread) uint64 {
	buf := uintptr(t.ctx.x[0])
	const field = 65
	if !userOK(buf, 6*field) {
		return errno(EFAULT)
	}
	b := bytesAt(buf, 6*field)
	clear(b)
	copy(b[0*field:], "Linux")
	copy(b[1*field:], "inferpi")
	copy(b[2*field:], "6.1.0-inferpi")
	copy(b[3*field:], "#1 SMP")
	copy(b[4*field:], "aarch64")
	return 0
}

// sysPrlimit answers prlimit64/getrlimit with generous fixed limits.
func sysPrlimit(c *percore, t *thread) uint64 {
	old := uintptr(t.ctx.x[3])
	if t.ctx.x[8] == SYS_GETRLIMIT {
		old = uintptr(t.ctx.x[1])
	}
	if old != 0 {
		if !userOK(old, 16) {
			return errno(EFAULT)
		}
		*u64At(old) = 1024
		*u64At(old + 8) = 4096
	}
	return 0
}

// linuxSysinfo is Linux's struct sysinfo on a 64-bit machine
// (include/uapi/linux/sysinfo.h; its _f padding has no bytes there).
type linuxSysinfo struct {
	uptime    int64 // seconds since boot
	loads     [3]uint64
	totalram  uint64 // in mem_unit bytes
	freeram   uint64
	sharedram uint64
	bufferram uint64
	totalswap uint64
	freeswap  uint64
	procs     uint16
	pad       uint16
	totalhigh uint64
	freehigh  uint64
	memUnit   uint32
}

func sysSysinfo(c *percore, t *thread) uint64 {
	buf := uintptr(t.ctx.x[0])
	if !userOK(buf, unsafe.Sizeof(linuxSysinfo{})) {
		return errno(EFAULT)
	}
	*(*linuxSysinfo)(ptrAt(buf)) = linuxSysinfo{
		uptime:   int64(nanotime() / 1e9),
		totalram: frames.Total() * mm.PageSize,
		freeram:  frames.Free() * mm.PageSize,
		memUnit:  1,
	}
	return 0
}

func sysExit(c *percore, t *thread) uint64 {
	// The runtime has already told the world this thread is gone (exitThread
	// stores to m.freeWait first); its stack must not be touched.
	t.state = tsFree
	c.cur = -1
	return keep
}

func sysExitGroup(c *percore, t *thread) uint64 {
	consoleDrain()
	var l kline
	l.stamp()
	l.s("kernel: program exited with status ").d(t.ctx.x[0])
	if t.ctx.x[0] != 0 {
		l.s(", ").stepName()
	}
	l.print()
	platformExit(int(t.ctx.x[0]))
	return keep
}

// sysClone creates a thread sharing everything (the runtime's newosproc): the
// child resumes after the SVC with x0 = 0 on the given stack.
func sysClone(c *percore, t *thread) uint64 {
	stack := t.ctx.x[1]
	for i := range threads {
		n := &threads[i]
		if n.state != tsFree {
			continue
		}
		*n = thread{}
		n.ctx = t.ctx
		n.ctx.x[0] = 0
		n.ctx.sp = stack
		n.tid = newTID()
		n.sigmask = t.sigmask
		runqPush(int32(i))
		return uint64(n.tid)
	}
	return errno(EAGAIN)
}

var lastTID int32

func newTID() int32 {
	lastTID++
	return lastTID + 100 // leave room so tids never look like small fds or pid 1
}

func clockGettime(clock uint64, ts uintptr) uint64 {
	var ns uint64
	switch clock {
	case CLOCK_REALTIME, CLOCK_REALTIME_COARSE:
		ns = nanotime() + realtimeOffset
	case CLOCK_MONOTONIC, CLOCK_MONO_RAW, CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME:
		ns = nanotime()
	default:
		return errno(EINVAL)
	}
	if !userOK(ts, 16) {
		return errno(EFAULT)
	}
	*u64At(ts) = ns / 1e9
	*u64At(ts + 8) = ns % 1e9
	return 0
}

// realtimeOffset: there is no battery clock; wall time starts at the Unix epoch
// plus this offset (set through the private API if the firmware learns the date).
var realtimeOffset uint64

func sysClockGettime(c *percore, t *thread) uint64 {
	return clockGettime(t.ctx.x[0], uintptr(t.ctx.x[1]))
}

func sysClockGetres(c *percore, t *thread) uint64 {
	ts := uintptr(t.ctx.x[1])
	if ts != 0 {
		if !userOK(ts, 16) {
			return errno(EFAULT)
		}
		*u64At(ts) = 0
		*u64At(ts + 8) = (1e9 + cntfrq - 1) / cntfrq
	}
	return 0
}

func readTimespec(p uintptr) (uint64, bool) {
	if !userOK(p, 16) {
		return 0, false
	}
	sec, nsec := int64(*u64At(p)), int64(*u64At(p + 8))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false
	}
	if sec > 1<<32 {
		sec = 1 << 32
	}
	return uint64(sec)*1e9 + uint64(nsec), true
}

func sysNanosleep(c *percore, t *thread) uint64 {
	ns, ok := readTimespec(uintptr(t.ctx.x[0]))
	if !ok {
		return errno(EINVAL)
	}
	return sleepFor(c, t, ns)
}

func sleepFor(c *percore, t *thread, ns uint64) uint64 {
	if ns == 0 {
		return 0
	}
	t.ctx.x[0] = 0
	block(c, waitSleep, ticksAfter(ns))
	return keep
}

func sysClockNanosleep(c *percore, t *thread) uint64 {
	clock, flags := t.ctx.x[0], t.ctx.x[1]
	ns, ok := readTimespec(uintptr(t.ctx.x[2]))
	if !ok {
		return errno(EINVAL)
	}
	if flags&1 != 0 { // TIMER_ABSTIME
		now := nanotime()
		if clock == CLOCK_REALTIME {
			now += realtimeOffset
		}
		if ns <= now {
			return 0
		}
		ns -= now
	}
	return sleepFor(c, t, ns)
}
