package sdhci

import (
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	"github.com/inferpi/inferpi/storage/block"
)

var _ block.Device = (*Host)(nil)

// BlockSize is 512: SDHC/SDXC cards have fixed 512-byte blocks, and SDSC cards
// are set to 512 with CMD16.
func (h *Host) BlockSize() int { return blockSize }

// Blocks is the card's capacity in 512-byte blocks (0 before Init).
func (h *Host) Blocks() uint64 { return h.card.Blocks }

// ReadBlocks reads len(dst)/512 blocks from lba with multi-block reads (CMD18
// with auto CMD12) of up to 65535 blocks each. A failed read is retried once
// after the controller's lines are reset.
func (h *Host) ReadBlocks(lba uint64, dst []byte) error {
	if !h.ready {
		return h.errorf("no card initialised (call Init)")
	}
	if err := block.CheckRead(h, lba, len(dst)); err != nil {
		return h.errorf("%v", err)
	}
	for len(dst) > 0 {
		n := min(len(dst)/blockSize, h.maxBlocksPerRead)
		chunk := dst[:n*blockSize]
		if err := h.readBlocksOnce(lba, chunk); err != nil {
			if err2 := h.readBlocksOnce(lba, chunk); err2 != nil {
				return h.errorf("reading %d blocks at LBA %d failed twice: %v (first attempt: %v)", n, lba, err2, err)
			}
		}
		lba += uint64(n)
		dst = dst[n*blockSize:]
	}
	return nil
}

func (h *Host) readBlocksOnce(lba uint64, dst []byte) error {
	arg := lba // SDHC/SDXC address blocks
	if !h.card.HighCapacity {
		arg = lba * blockSize // SDSC addresses bytes
	}
	if arg > 0xFFFFFFFF {
		return fmt.Errorf("LBA %d cannot be addressed by a %d-block card", lba, h.card.Blocks)
	}
	if len(dst) == blockSize {
		return h.readData("CMD17", cmdReadSingle, uint32(arg), dst, blockSize, false)
	}
	return h.readData("CMD18", cmdReadMultiple, uint32(arg), dst, blockSize, false)
}

// readData runs a command that reads len(dst)/size blocks of size bytes, by PIO
// through the buffer data port (spec 3.7.2.1 "Not using DMA"): wait for buffer
// read ready, clear it, read the block as 32-bit words; at the end wait for
// transfer complete. Multi-block reads stop with auto CMD12; after an error
// CMD12 is sent by hand so the card leaves the data state.
func (h *Host) readData(name string, index int, arg uint32, dst []byte, size int, app bool) error {
	count := len(dst) / size
	mode := uint32(tmReadDirection)
	if count > 1 {
		mode |= tmMultiBlock | tmBlockCountEn | tmAutoCMD12
	}
	h.write(regBlockSizeCount, uint32(count)<<16|uint32(size))
	var resp [4]uint32
	var err error
	if app {
		resp, err = h.appCommand(name, index, arg, r1, mode, true)
	} else {
		resp, err = h.command(name, index, arg, r1, mode, true)
	}
	if err != nil {
		h.abort(count) // the card may have started sending
		return err
	}
	if s := resp[0] & r1ErrorBits; s != 0 {
		h.abort(count)
		return fmt.Errorf("%s: card status 0x%08X reports %s", name, resp[0], cardStatusErrors(s))
	}
	for b := 0; b < count; b++ {
		var st uint32
		if !h.waitFor(h.cfg.DataTimeout, func() bool {
			st = h.bank.Read32(regIntStatus)
			return st&(intBufReadReady|intError) != 0
		}) {
			h.abort(count)
			return fmt.Errorf("%s: block %d of %d not ready within %v; CMD and DAT lines reset", name, b+1, count, h.cfg.DataTimeout)
		}
		if st&intError != 0 {
			h.abort(count)
			return fmt.Errorf("%s: block %d of %d: %w; CMD and DAT lines reset", name, b+1, count, &cmdError{cmd: "data", status: st & 0xFFFF0000})
		}
		h.write(regIntStatus, intBufReadReady)
		blk := dst[b*size : (b+1)*size]
		for i := 0; i+4 <= size; i += 4 {
			binary.LittleEndian.PutUint32(blk[i:], h.bank.Read32(regBufferData))
		}
		if rest := size % 4; rest != 0 {
			var w [4]byte
			binary.LittleEndian.PutUint32(w[:], h.bank.Read32(regBufferData))
			copy(blk[size-rest:], w[:rest])
		}
	}
	timeout := h.cfg.DataTimeout + time.Duration(count)*time.Millisecond
	return h.waitTransfer(name, timeout)
}

// abort recovers from a failed read: reset the CMD and DAT lines and, for a
// multi-block read, stop the card's transmission (spec 3.10.2).
func (h *Host) abort(count int) {
	h.resetLines(srCmd | srDat)
	if count > 1 {
		h.command("CMD12", cmdStopTransmit, 0, r1b, 0, false)
	}
}

func cardStatusErrors(s uint32) string {
	names := map[int]string{31: "out of range", 30: "address error", 29: "block length error", 28: "erase sequence error",
		27: "erase parameter", 26: "write-protect violation", 24: "lock/unlock failed", 23: "command CRC error",
		22: "illegal command", 21: "card ECC failed", 20: "card controller error", 19: "general error",
		16: "CSD overwrite", 15: "write-protect erase skip", 3: "authentication sequence error"}
	var out []string
	for b := 31; b >= 0; b-- {
		if s&(1<<b) != 0 {
			out = append(out, names[b])
		}
	}
	return strings.Join(out, ", ")
}

// FindCard initialises each controller in turn and returns the first with a
// working card: the firmware passes EMMC2 and the 0xFE300000 controller and
// gets whichever holds the card (a real Pi 4 or QEMU). The error lists why each
// one failed.
func FindCard(hosts ...*Host) (*Host, error) {
	var why []string
	for _, h := range hosts {
		err := h.Init()
		if err == nil {
			return h, nil
		}
		why = append(why, err.Error())
	}
	return nil, fmt.Errorf("%w: %s", ErrNoCard, strings.Join(why, "; "))
}
