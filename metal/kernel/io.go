package kernel

// File descriptors: 0, 1 and 2 are the console; eventfd and epoll objects (which
// the runtime's timers need: netpollinit) get small numbers above them. There are
// no files: the firmware reads storage through its own drivers.

const maxFiles = 16

const (
	fdFree = iota
	fdEventfd
	fdEpoll
)

type file struct {
	kind    int32
	counter uint64 // eventfd
	watchFD int32  // epoll: the one eventfd registered (the runtime registers exactly one)
	watch   uint64 // epoll: the registered event's data
}

var files [maxFiles]file

func newFile(kind int32) uint64 {
	for i := 3; i < maxFiles; i++ {
		if files[i].kind == fdFree {
			files[i] = file{kind: kind, watchFD: -1}
			return uint64(i)
		}
	}
	return errno(24) // EMFILE
}

func getFile(fd uint64, kind int32) *file {
	if fd >= 3 && fd < maxFiles && files[fd].kind == kind {
		return &files[fd]
	}
	return nil
}

func sysClose(c *percore, t *thread) uint64 {
	fd := t.ctx.x[0]
	switch {
	case fd <= 2:
		return 0
	case fd < maxFiles && files[fd].kind != fdFree:
		files[fd].kind = fdFree
		return 0
	}
	return errno(EBADF)
}

func validFD(fd uint64) bool { return fd <= 2 || fd < maxFiles && files[fd].kind != fdFree }

// sysFcntl: F_GETFD must succeed for 0..2 (else "cannot open standard fds"), and
// F_GETFL must not report O_NONBLOCK (else os wants epoll semantics on the console).
func sysFcntl(c *percore, t *thread) uint64 {
	fd, cmd := t.ctx.x[0], t.ctx.x[1]
	if !validFD(fd) {
		return errno(EBADF)
	}
	switch cmd {
	case 1: // F_GETFD
		return 0
	case 3: // F_GETFL
		if fd <= 2 {
			return 2 // O_RDWR
		}
		return 2 | 0x800
	case 2, 4: // F_SETFD, F_SETFL
		return 0
	}
	return errno(EINVAL)
}

func sysIoctl(c *percore, t *thread) uint64 {
	if !validFD(t.ctx.x[0]) {
		return errno(EBADF)
	}
	return errno(ENOTTY)
}

func sysLseek(c *percore, t *thread) uint64 {
	if !validFD(t.ctx.x[0]) {
		return errno(EBADF)
	}
	return errno(ESPIPE)
}

func sysFstat(c *percore, t *thread) uint64 {
	fd, buf := t.ctx.x[0], uintptr(t.ctx.x[1])
	if !validFD(fd) {
		return errno(EBADF)
	}
	const statSize = 128
	if !userOK(buf, statSize) {
		return errno(EFAULT)
	}
	clear(bytesAt(buf, statSize))
	mode := uint32(0o010600) // FIFO-ish for eventfd/epoll
	if fd <= 2 {
		mode = 0o020620 // character device, like a tty
	}
	*u32At(buf + 16) = mode // st_mode
	*u32At(buf + 20) = 1    // st_nlink
	return 0
}

func sysRead(c *percore, t *thread) uint64 {
	fd, buf, n := t.ctx.x[0], uintptr(t.ctx.x[1]), uintptr(t.ctx.x[2])
	if n == 0 {
		return 0
	}
	if !userOK(buf, n) {
		return errno(EFAULT)
	}
	if f := getFile(fd, fdEventfd); f != nil {
		if n < 8 {
			return errno(EINVAL)
		}
		if f.counter == 0 {
			return errno(EAGAIN)
		}
		*u64At(buf) = f.counter
		f.counter = 0
		return 8
	}
	if fd != 0 {
		return errno(EBADF)
	}
	consoleRxPoll()
	if got := consoleRead(bytesAt(buf, n)); got > 0 {
		return uint64(got)
	}
	t.waitAddr, t.waitLen = buf, n
	block(c, waitRead, 0)
	return keep
}

// wakeConsoleReaders completes blocked console reads when input arrived.
func wakeConsoleReaders() {
	for i := range threads {
		if !consoleHasInput() {
			return
		}
		w := &threads[i]
		if w.state == tsBlocked && w.wait == waitRead {
			got := consoleRead(bytesAt(w.waitAddr, w.waitLen))
			makeRunnable(int32(i), uint64(got))
		}
	}
}

func sysWrite(c *percore, t *thread) uint64 {
	fd, buf, n := t.ctx.x[0], uintptr(t.ctx.x[1]), uintptr(t.ctx.x[2])
	if n == 0 {
		return 0
	}
	if !userOK(buf, n) {
		return errno(EFAULT)
	}
	if f := getFile(fd, fdEventfd); f != nil {
		if n < 8 {
			return errno(EINVAL)
		}
		f.counter += *u64At(buf)
		wakeEpollWaiters()
		return 8
	}
	if fd != 1 && fd != 2 {
		return errno(EBADF)
	}
	done := uintptr(consoleWrite(bytesAt(buf, n)))
	if done == n {
		return uint64(n)
	}
	// The transmit ring is full: wait for the UART to drain it.
	t.waitAddr, t.waitLen, t.waitDone = buf, n, done
	block(c, waitWrite, 0)
	return keep
}

// wakeConsoleWriters continues blocked writes as the ring drains.
func wakeConsoleWriters() {
	for i := range threads {
		w := &threads[i]
		if w.state != tsBlocked || w.wait != waitWrite {
			continue
		}
		w.waitDone += uintptr(consoleWrite(bytesAt(w.waitAddr+w.waitDone, w.waitLen-w.waitDone)))
		if w.waitDone == w.waitLen {
			makeRunnable(int32(i), uint64(w.waitLen))
		} else {
			return // ring full again
		}
	}
}

func sysEventfd2(c *percore, t *thread) uint64 {
	fd := newFile(fdEventfd)
	if int64(fd) >= 0 {
		files[fd].counter = t.ctx.x[0]
	}
	return fd
}

func sysEpollCreate1(c *percore, t *thread) uint64 { return newFile(fdEpoll) }

func sysEpollCtl(c *percore, t *thread) uint64 {
	ep, op, fd, ev := t.ctx.x[0], t.ctx.x[1], t.ctx.x[2], uintptr(t.ctx.x[3])
	e := getFile(ep, fdEpoll)
	if e == nil || !validFD(fd) {
		return errno(EBADF)
	}
	switch op {
	case 1, 3: // EPOLL_CTL_ADD, EPOLL_CTL_MOD
		if getFile(fd, fdEventfd) == nil {
			return errno(EPERM) // only eventfds can be waited for here
		}
		if !userOK(ev, 16) {
			return errno(EFAULT)
		}
		e.watchFD = int32(fd)
		e.watch = *u64At(ev + 8) // arm64 epoll_event: u32 events, pad, u64 data
		return 0
	case 2: // EPOLL_CTL_DEL
		if e.watchFD == int32(fd) {
			e.watchFD = -1
		}
		return 0
	}
	return errno(EINVAL)
}

// epollReady fills one event if the watched eventfd is readable.
func epollReady(e *file, events uintptr) bool {
	if e.watchFD < 0 || files[e.watchFD].kind != fdEventfd || files[e.watchFD].counter == 0 {
		return false
	}
	*u32At(events) = 1 // EPOLLIN
	*u64At(events + 8) = e.watch
	return true
}

func sysEpollPwait(c *percore, t *thread) uint64 {
	ep, events, maxev, timeout := t.ctx.x[0], uintptr(t.ctx.x[1]), int64(t.ctx.x[2]), int32(t.ctx.x[3])
	e := getFile(ep, fdEpoll)
	if e == nil {
		return errno(EBADF)
	}
	if maxev <= 0 {
		return errno(EINVAL)
	}
	if !userOK(events, 16) {
		return errno(EFAULT)
	}
	if epollReady(e, events) {
		return 1
	}
	if timeout == 0 {
		return 0
	}
	deadline := uint64(0)
	if timeout > 0 {
		deadline = ticksAfter(uint64(timeout) * 1e6)
	}
	t.waitAddr, t.waitLen = events, uintptr(ep)
	t.ctx.x[0] = 0
	block(c, waitEpoll, deadline)
	return keep
}

func wakeEpollWaiters() {
	for i := range threads {
		w := &threads[i]
		if w.state == tsBlocked && w.wait == waitEpoll {
			if e := getFile(uint64(w.waitLen), fdEpoll); e != nil && epollReady(e, w.waitAddr) {
				makeRunnable(int32(i), 1)
			}
		}
	}
}
