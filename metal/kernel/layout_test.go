package kernel

import (
	"testing"
	"unsafe"
)

// The assembly takes its offsets from go_asm.h, so they follow the structs. What
// it still assumes about the layout is checked here, on the host and (make
// test-arm64) on arm64.

// TestContextLayoutForTheVectors checks what the exception vectors assume of a
// context beyond its offsets: the registers they move in pairs are neighbours,
// fpsr follows the vector registers they store with post-increment, and the
// pairs' offsets fit LDP/STP's immediate (a multiple of 8 up to 504), which the
// restore of x28 and x29 encodes by hand.
func TestContextLayoutForTheVectors(t *testing.T) {
	var c context
	off := func(p unsafe.Pointer) uintptr { return uintptr(p) - uintptr(unsafe.Pointer(&c)) }
	x, sp, pc := off(unsafe.Pointer(&c.x)), off(unsafe.Pointer(&c.sp)), off(unsafe.Pointer(&c.pc))
	v, fpsr, fpcr := off(unsafe.Pointer(&c.v)), off(unsafe.Pointer(&c.fpsr)), off(unsafe.Pointer(&c.fpcr))
	if pc != sp+8 {
		t.Errorf("pc at %d, sp at %d: the vectors store them as a pair", pc, sp)
	}
	if fpcr != fpsr+8 {
		t.Errorf("fpcr at %d, fpsr at %d: the vectors store them as a pair", fpcr, fpsr)
	}
	if fpsr != v+unsafe.Sizeof(c.v) {
		t.Errorf("fpsr at %d, v ends at %d: the vectors store fpsr where the v stores end", fpsr, v+unsafe.Sizeof(c.v))
	}
	if unsafe.Sizeof(c.v) != 32*16 {
		t.Errorf("v is %d bytes, the 32 q registers are 512", unsafe.Sizeof(c.v))
	}
	for _, o := range []uintptr{x + 28*8, sp} {
		if o%8 != 0 || o > 504 {
			t.Errorf("a pair at offset %d: LDP/STP's immediate takes multiples of 8 up to 504", o)
		}
	}
}

// TestFakeGHasTheRuntimesStackBounds checks that the fake g's stack bounds are
// where the compiler's stack checks read a g's (runtime/runtime2.go: stack.lo,
// stack.hi, stackguard0, stackguard1 first, in pointer-sized words).
func TestFakeGHasTheRuntimesStackBounds(t *testing.T) {
	var g fakeG
	for _, f := range []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"stack.lo", unsafe.Offsetof(g.stackLo), 0},
		{"stack.hi", unsafe.Offsetof(g.stackHi), 8},
		{"stackguard0", unsafe.Offsetof(g.stackguard0), 16},
		{"stackguard1", unsafe.Offsetof(g.stackguard1), 24},
	} {
		if f.got != f.want {
			t.Errorf("fake g's %s at %d, the runtime's at %d", f.name, f.got, f.want)
		}
	}
}

// TestLinuxSysinfoLayout checks struct sysinfo against include/uapi/linux/sysinfo.h
// on a 64-bit machine: eight longs, two u16, two longs and a u32, 112 bytes.
func TestLinuxSysinfoLayout(t *testing.T) {
	var s linuxSysinfo
	for _, f := range []struct {
		name      string
		got, want uintptr
	}{
		{"uptime", unsafe.Offsetof(s.uptime), 0},
		{"totalram", unsafe.Offsetof(s.totalram), 32},
		{"freeram", unsafe.Offsetof(s.freeram), 40},
		{"procs", unsafe.Offsetof(s.procs), 80},
		{"totalhigh", unsafe.Offsetof(s.totalhigh), 88},
		{"mem_unit", unsafe.Offsetof(s.memUnit), 104},
		{"size", unsafe.Sizeof(s), 112},
	} {
		if f.got != f.want {
			t.Errorf("struct sysinfo's %s at %d, Linux's at %d", f.name, f.got, f.want)
		}
	}
}
