package fat32

import (
	"fmt"
)

// readChunk bounds a single device read, so that progress is reported every few
// megabytes. It is large enough that per-read overhead is negligible.
const readChunk = 8 << 20

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// readRuns fills dst from the cluster runs in order (the last run may be longer
// than what remains of dst). report, if not nil, gets the bytes of each piece read.
func (f *FS) readRuns(dst []byte, runs []run, report func(int)) error {
	cs := uint64(f.clusterSize)
	for _, r := range runs {
		if len(dst) == 0 {
			break
		}
		n := min(uint64(r.count)*cs, uint64(len(dst)))
		if err := f.readAt(dst[:n], f.clusterOffset(r.first), report); err != nil {
			return err
		}
		dst = dst[n:]
	}
	if len(dst) != 0 {
		return fmt.Errorf("%w: clusters hold %d bytes fewer than needed", ErrCorrupt, len(dst))
	}
	return nil
}

// readAt reads len(dst) bytes at byte offset pos of the volume. Whole device
// blocks are read straight into dst; only a partial first or last block goes
// through a one-block scratch buffer. Nothing outside the volume is ever read.
func (f *FS) readAt(dst []byte, pos uint64, report func(int)) error {
	volBytes := uint64(f.bpb.TotalSectors) * uint64(f.bpb.BytesPerSector)
	if pos > volBytes || uint64(len(dst)) > volBytes-pos {
		return fmt.Errorf("%w: read of %d bytes at %d leaves the %d-byte volume", ErrCorrupt, len(dst), pos, volBytes)
	}
	bs := uint64(f.devBlock)
	var scratch []byte
	partial := func(d []byte) (int, error) {
		if scratch == nil {
			scratch = make([]byte, bs)
		}
		if err := f.dev.ReadBlocks(pos/bs, scratch); err != nil {
			return 0, fmt.Errorf("reading sector %d: %w", pos/bs, err)
		}
		n := copy(d, scratch[pos%bs:])
		pos += uint64(n)
		if report != nil {
			report(n)
		}
		return n, nil
	}
	if pos%bs != 0 {
		n, err := partial(dst)
		if err != nil {
			return err
		}
		dst = dst[n:]
	}
	for uint64(len(dst)) >= bs {
		n := min(uint64(len(dst))/bs, readChunk/bs) * bs
		if err := f.dev.ReadBlocks(pos/bs, dst[:n]); err != nil {
			return fmt.Errorf("reading sectors %d+%d: %w", pos/bs, n/bs, err)
		}
		pos += n
		dst = dst[n:]
		if report != nil {
			report(int(n))
		}
	}
	if len(dst) > 0 {
		if _, err := partial(dst); err != nil {
			return err
		}
	}
	return nil
}
