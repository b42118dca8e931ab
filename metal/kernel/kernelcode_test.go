//go:build !(linux && arm64)

package kernel

import (
	"debug/elf"
	"encoding/binary"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/inferpi/inferpi/internal/fwbuild"
)

// Packages whose code runs in kernel context: no goroutine, interrupts masked, a
// fake g. Their compiled code must never allocate, use write barriers, block in
// the scheduler, or need a package initialiser (initialisers run only after the
// runtime has started, long after the kernel needs its data).
var kernelPackages = []string{
	"github.com/inferpi/inferpi/metal/kernel.",
	"github.com/inferpi/inferpi/metal/mm.",
	"github.com/inferpi/inferpi/metal/fdt.",
	"github.com/inferpi/inferpi/metal/arm64.",
	"github.com/inferpi/inferpi/driver/pl011.",
	"github.com/inferpi/inferpi/driver/gic.",
	"github.com/inferpi/inferpi/driver/reg.",
	"github.com/inferpi/inferpi/soc/bcm2711.",
}

var forbiddenCalls = []string{
	"runtime.newobject", "runtime.mallocgc", "runtime.makeslice", "runtime.growslice",
	"runtime.gcWriteBarrier", "runtime.wbZero", "runtime.wbMove", "runtime.typedmemmove",
	"runtime.convT", "runtime.concatstring", "runtime.slicebytetostring", "runtime.stringtoslicebyte",
	"runtime.makemap", "runtime.mapassign", "runtime.chansend", "runtime.chanrecv", "runtime.selectgo",
	"runtime.deferproc", "runtime.gopanic", "runtime.newproc", "runtime.gopark",
	"sync.(*Mutex)", "sync.(*RWMutex)", "time.",
}

func TestKernelCodeIsRuntimeFree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two firmware images")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	for _, board := range []string{"rpi4", "virt"} {
		t.Run(board, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "fw.elf")
			err := fwbuild.Build(fwbuild.Options{Board: fwbuild.Boards[board], Package: "./cmd/selftest", OutELF: out, Dir: "../.."})
			if err != nil {
				t.Fatal(err)
			}
			checkELF(t, out)
		})
	}
}

func checkELF(t *testing.T, path string) {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	var funcs []elf.Symbol
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC || s.Section < elf.SHN_LORESERVE && f.Sections[s.Section].Name == ".text" {
			funcs = append(funcs, s)
		}
	}
	sort.Slice(funcs, func(i, j int) bool { return funcs[i].Value < funcs[j].Value })
	nameAt := func(pc uint64) string {
		i := sort.Search(len(funcs), func(i int) bool { return funcs[i].Value > pc }) - 1
		if i < 0 {
			return "?"
		}
		return funcs[i].Name
	}
	text := f.Section(".text")
	code, err := text.Data()
	if err != nil {
		t.Fatal(err)
	}
	inKernel := func(name string) bool {
		for _, p := range kernelPackages {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
		return false
	}
	checked := 0
	for _, s := range funcs {
		if !inKernel(s.Name) {
			continue
		}
		for _, p := range kernelPackages {
			if s.Name == p+"init" {
				t.Errorf("%s exists: a package variable needs dynamic initialisation, which never runs before the kernel uses it", s.Name)
			}
		}
		if s.Size == 0 || s.Value < text.Addr || s.Value+s.Size > text.Addr+uint64(len(code)) {
			continue
		}
		checked++
		body := code[s.Value-text.Addr : s.Value-text.Addr+s.Size]
		for off := 0; off+4 <= len(body); off += 4 {
			ins := binary.LittleEndian.Uint32(body[off:])
			if ins&0x7c000000 != 0x14000000 { // B or BL imm26
				continue
			}
			imm := int64(ins&0x03ffffff) << 38 >> 36 // sign-extend, times 4
			pc := s.Value + uint64(off)
			target := nameAt(uint64(int64(pc) + imm))
			for _, bad := range forbiddenCalls {
				if strings.HasPrefix(target, bad) {
					t.Errorf("%s+%#x calls %s, which needs a goroutine", s.Name, off, target)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d kernel functions found: the symbol scan is broken", checked)
	}
}
