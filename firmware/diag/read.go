package diag

import (
	"fmt"
	"time"

	"github.com/inferpi/inferpi/firmware/loader"
	"github.com/inferpi/inferpi/storage/block"
)

// ReadResult is a timed sequential read from a device.
type ReadResult struct {
	Bytes int64
	Time  time.Duration
}

// String gives size, time and rate in the loader's units (MB = 2^20 bytes).
func (r ReadResult) String() string {
	return fmt.Sprintf("%s read in %d ms (%s)", loader.Size(r.Bytes), r.Time.Milliseconds(), loader.Rate(r.Bytes, r.Time))
}

// ReadSpeed reads the first limit bytes of dev (all of it if smaller) into
// buf, len(buf) at a time (a multiple of the block size), as the model loader
// reads a file, and times it.
func ReadSpeed(dev block.Device, buf []byte, limit int64) (ReadResult, error) {
	bs := int64(dev.BlockSize())
	total := min(limit, int64(dev.Blocks())*bs) / bs * bs
	step := int64(len(buf)) / bs * bs
	if step == 0 {
		return ReadResult{}, fmt.Errorf("a read buffer of %d bytes holds no %d-byte block", len(buf), bs)
	}
	start := time.Now()
	var done int64
	for done < total {
		n := min(step, total-done)
		if err := dev.ReadBlocks(uint64(done/bs), buf[:n]); err != nil {
			return ReadResult{Bytes: done, Time: time.Since(start)}, fmt.Errorf("reading block %d: %w", done/bs, err)
		}
		done += n
	}
	return ReadResult{Bytes: done, Time: time.Since(start)}, nil
}
