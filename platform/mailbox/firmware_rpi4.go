//go:build linux && arm64 && !virt

package mailbox

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/inferpi/inferpi/metal/sys"
	"github.com/inferpi/inferpi/soc/bcm2711"
)

// bufferWords is the shared message buffer: 1 KiB, far more than any request
// here (the largest, set clock rate, is 8 words plus the header).
const bufferWords = 256

var firmware struct {
	once   sync.Once
	client *Client
	err    error
}

// Firmware returns the process-wide client of the VideoCore mailbox, created
// on first use. Its buffer comes from the kernel's DMA pool: non-cacheable,
// identity-mapped in the first GiB, as the VideoCore needs, and whole cache
// lines (soc/bcm2711.Call). Outside the firmware (hosted Linux) it fails.
func Firmware() (*Client, error) {
	firmware.once.Do(func() {
		mem, err := (&sys.DMA{}).AllocCoherent(4*bufferWords, 64)
		if err != nil {
			firmware.err = fmt.Errorf("mailbox: message buffer: %w", err)
			return
		}
		va := uint64(uintptr(unsafe.Pointer(&mem.Mem[0])))
		if va != mem.Bus || va+4*bufferWords > 1<<30 {
			firmware.err = fmt.Errorf("mailbox: message buffer at %#x (bus %#x) is not identity-mapped in the first GiB", va, mem.Bus)
			return
		}
		buf := unsafe.Slice((*uint32)(unsafe.Pointer(&mem.Mem[0])), bufferWords)
		firmware.client = New(videoCore{}, buf)
	})
	return firmware.client, firmware.err
}

// videoCore is the property channel of the BCM2711 mailbox.
type videoCore struct{}

func (videoCore) Exchange(msg []uint32) error {
	if bcm2711.Call(msg) {
		return nil
	}
	if msg[1] == bcm2711.CodeParseError {
		return nil // decode reports it
	}
	return errors.New("the VideoCore did not answer (mailbox timeout or error code)")
}
