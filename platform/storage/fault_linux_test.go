//go:build linux

package storage

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"github.com/inferpi/inferpi/driver/reg"
)

// A register block that is not there faults on the first access (QEMU
// raspi4b has no PCIe root complex). guardFaults turns that into an error
// naming the block and the address, and leaves other panics alone. Here the
// block is a page mapped with no access at all.
func TestGuardFaults(t *testing.T) {
	page, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_NONE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer syscall.Munmap(page)
	base := uintptr(unsafe.Pointer(&page[0]))
	err = guardFaults("the PCIe root complex at 0xfd500000", 0xfd500000, func() error {
		reg.At(base).Read32(0x6C)
		return errors.New("the read returned")
	})
	var fe *faultError
	if !errors.As(err, &fe) || fe.addr != base+0x6C {
		t.Fatalf("guardFaults = %v, want a fault at %#x", err, base+0x6C)
	}
	if want := fmt.Sprintf("the PCIe root complex at 0xfd500000 does not answer: bus fault at %#x", base+0x6C); err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if err := guardFaults("x", 1, func() error { return nil }); err != nil {
		t.Errorf("no fault: %v", err)
	}
	defer func() {
		if r := recover(); r != "not a fault" {
			t.Errorf("recovered %v, want the panic passed through", r)
		}
	}()
	guardFaults("x", 1, func() error { panic("not a fault") })
}
