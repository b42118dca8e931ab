package kernels

import "encoding/binary"

// StreamRead reads every byte of p once, sequentially, as fast as this machine can
// (wide vector loads where available), and returns the OR of its 8-byte words so the
// reads cannot be optimised away. Timing it over a buffer much larger than the
// caches gives the machine's read bandwidth, the ceiling for a memory-bound MatVec.
func StreamRead(p []byte) uint64 {
	bulk := len(p) &^ 127
	var acc uint64
	if kern != &reference && bulk > 0 {
		acc = readStreamSIMD(p[:bulk])
	} else {
		bulk = 0
	}
	for ; bulk+8 <= len(p); bulk += 8 {
		acc |= binary.LittleEndian.Uint64(p[bulk:])
	}
	for ; bulk < len(p); bulk++ {
		acc |= uint64(p[bulk])
	}
	return acc
}

// StreamRead reads p on all the pool's cores, each core a contiguous share
// (see the package-level StreamRead).
func (p *Pool) StreamRead(buf []byte) uint64 {
	chunk := max(1<<20, (len(buf)+p.workers-1)/p.workers)
	n := (len(buf) + chunk - 1) / chunk
	var parts [64]uint64
	if n > len(parts) {
		chunk = (len(buf) + len(parts) - 1) / len(parts)
		n = (len(buf) + chunk - 1) / chunk
	}
	p.Parallel(n, func(i int) {
		parts[i] = StreamRead(buf[i*chunk : min((i+1)*chunk, len(buf))])
	})
	var acc uint64
	for _, v := range parts[:n] {
		acc |= v
	}
	return acc
}
