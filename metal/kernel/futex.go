package kernel

// futex: the runtime uses only FUTEX_WAIT_PRIVATE (with an optional relative
// timeout) and FUTEX_WAKE_PRIVATE. The kernel lock makes "compare and sleep"
// atomic against a wake on another core.
func sysFutex(c *percore, t *thread) uint64 {
	addr, op, val, timeout := uintptr(t.ctx.x[0]), t.ctx.x[1], t.ctx.x[2], uintptr(t.ctx.x[3])
	if addr%4 != 0 || !userOK(addr, 4) {
		return errno(EFAULT)
	}
	switch op &^ (FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_RT) {
	case FUTEX_WAIT:
		if *u32At(addr) != uint32(val) {
			return errno(EAGAIN)
		}
		deadline := uint64(0)
		if timeout != 0 {
			ns, ok := readTimespec(timeout)
			if !ok {
				return errno(EINVAL)
			}
			if ns == 0 {
				return errno(ETIMEDOUT)
			}
			deadline = ticksAfter(ns)
		}
		t.waitAddr = addr
		t.ctx.x[0] = 0
		block(c, waitFutex, deadline)
		return keep
	case FUTEX_WAKE:
		n := uint64(0)
		for i := range threads {
			w := &threads[i]
			if n >= val {
				break
			}
			if w.state == tsBlocked && w.wait == waitFutex && w.waitAddr == addr {
				makeRunnable(int32(i), 0)
				n++
			}
		}
		return n
	}
	return errno(ENOSYS)
}
