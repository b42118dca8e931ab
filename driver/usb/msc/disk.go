package msc

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/inferpi/inferpi/driver/usb"
	"github.com/inferpi/inferpi/storage/block"
)

// Interface class of a bulk-only SCSI mass-storage device.
const (
	SubclassSCSI = 0x06
	ProtocolBOT  = 0x50
)

// Options tune the driver. The zero value is what real sticks need.
type Options struct {
	Log io.Writer
	// MaxTransfer is the size of the first READ commands (default 1 MiB, Linux's
	// choice for SuperSpeed; scsiglue.c). Reads fall back to smaller commands when a
	// device fails large ones.
	MaxTransfer int
	// ReadyTimeout bounds the wait for a slow stick to report ready (default 10 s).
	ReadyTimeout time.Duration
	// CommandTimeout bounds CBW, CSW and small data stages (default 10 s).
	CommandTimeout time.Duration
	// ReadTimeout bounds the data stage of one READ (default 20 s).
	ReadTimeout time.Duration
	// Sleep replaces time.Sleep (tests make it instant).
	Sleep func(time.Duration)
}

func (o *Options) maxTransfer() int {
	if o.MaxTransfer > 0 {
		return o.MaxTransfer
	}
	return 1 << 20
}

func (o *Options) readyTimeout() time.Duration {
	if o.ReadyTimeout > 0 {
		return o.ReadyTimeout
	}
	return 10 * time.Second
}

func (o *Options) commandTimeout() time.Duration {
	if o.CommandTimeout > 0 {
		return o.CommandTimeout
	}
	return 10 * time.Second
}

func (o *Options) readTimeout() time.Duration {
	if o.ReadTimeout > 0 {
		return o.ReadTimeout
	}
	return 20 * time.Second
}

// resetDelay is waited after a Bulk-Only Mass Storage Reset (Circle waits 100 ms,
// U-Boot 150 ms).
func (o *Options) resetDelay() time.Duration { return 100 * time.Millisecond }

func (o *Options) sleep(d time.Duration) {
	if o.Sleep != nil {
		o.Sleep(d)
		return
	}
	time.Sleep(d)
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

// fallbackSizes are the READ sizes tried after a failure, largest first: 512 KiB,
// then 120 KiB (U-Boot's and Linux's default of 240 sectors), then 32 KiB (the
// 64 sectors of Linux's MAX_SECTORS_64 quirk).
var fallbackSizes = []int{512 << 10, 120 << 10, 32 << 10}

// maxAttempts bounds the tries of one READ (Circle uses 8).
const maxAttempts = 8

// Disk is a mass-storage logical unit as a block device.
type Disk struct {
	Inquiry Inquiry

	name      string
	t         *transport
	opt       Options
	blockSize int
	blocks    uint64
	perRead   int // blocks per READ command
	mu        sync.Mutex
}

var _ block.Device = (*Disk)(nil)

// Driver is the mass-storage class driver for usb.Bind: it opens every
// bulk-only SCSI interface it is given as a Disk.
type Driver struct {
	Options Options
	Disks   []*Disk // the disks opened, in the order bound
}

var _ usb.ClassDriver = (*Driver)(nil)

// Match takes bulk-only SCSI mass-storage interfaces.
func (dr *Driver) Match(ifc *usb.Interface) bool {
	return ifc.Match(usb.ClassMassStorage, SubclassSCSI, ProtocolBOT)
}

// Bind opens ifc of d as a Disk (Open).
func (dr *Driver) Bind(d *usb.Device, ifc *usb.Interface) error {
	k, err := Open(d, ifc, dr.Options)
	if err != nil {
		return err
	}
	dr.Disks = append(dr.Disks, k)
	return nil
}

// Open brings up a mass-storage interface whose bulk endpoints are already
// configured: GET MAX LUN, INQUIRY, TEST UNIT READY (waiting for slow sticks),
// READ CAPACITY.
func Open(p Pipes, ifc *usb.Interface, opt Options) (*Disk, error) {
	var in, out uint8
	for _, ep := range ifc.Endpoints {
		if ep.Type() != usb.Bulk {
			continue
		}
		if ep.In() && in == 0 {
			in = ep.Address
		} else if !ep.In() && out == 0 {
			out = ep.Address
		}
	}
	if in == 0 || out == 0 {
		return nil, fmt.Errorf("%s: mass-storage interface %d lacks a bulk IN/OUT pair", p.Name(), ifc.Number)
	}
	k := &Disk{name: p.Name(), opt: opt}
	k.t = &transport{p: p, iface: ifc.Number, in: in, out: out, opt: &k.opt}
	if n := k.t.maxLUN(); n > 0 {
		logf(opt.Log, "%s: %d logical units; using LUN 0", k.name, n+1)
	}
	if err := k.inquire(); err != nil {
		return nil, err
	}
	if err := k.waitReady(); err != nil {
		return nil, err
	}
	if err := k.readCapacity(); err != nil {
		return nil, err
	}
	k.perRead = k.opt.maxTransfer() / k.blockSize
	if k.perRead < 1 {
		k.perRead = 1
	}
	logf(opt.Log, "%s: %s %s, %d sectors of %d bytes (%.1f GB), reads of up to %d KiB",
		k.name, k.Inquiry.Vendor, k.Inquiry.Product, k.blocks, k.blockSize,
		float64(k.blocks)*float64(k.blockSize)/1e9, k.perRead*k.blockSize>>10)
	return k, nil
}

func (k *Disk) BlockSize() int { return k.blockSize }
func (k *Disk) Blocks() uint64 { return k.blocks }

// Name says which device the disk is ("usb 5").
func (k *Disk) Name() string { return k.name }

func (k *Disk) String() string {
	return fmt.Sprintf("%s: %s %s (%d × %d bytes)", k.name, k.Inquiry.Vendor, k.Inquiry.Product, k.blocks, k.blockSize)
}

// small runs a command whose data (at most a few dozen bytes) comes back into a
// fresh buffer.
func (k *Disk) small(cdb []byte, n int) ([]byte, error) {
	b := make([]byte, n)
	got, err := k.t.command(cdb, b, true, k.opt.commandTimeout())
	return b[:got], err
}

func (k *Disk) requestSense() (Sense, error) {
	b, err := k.small(cdbRequestSense(), senseLen)
	if err != nil {
		return Sense{}, fmt.Errorf("REQUEST SENSE: %w", err)
	}
	return ParseSense(b)
}

// explain turns errFailed into the device's sense.
func (k *Disk) explain(err error) (Sense, error) {
	if !errors.Is(err, errFailed) {
		return Sense{}, err
	}
	s, serr := k.requestSense()
	if serr != nil {
		return Sense{}, serr
	}
	return s, nil
}

func (k *Disk) inquire() error {
	b, err := k.small(cdbInquiry(), inquiryLen)
	if err != nil {
		if s, err2 := k.explain(err); err2 == nil {
			return fmt.Errorf("%s: INQUIRY failed: %v", k.name, s)
		}
		return fmt.Errorf("%s: INQUIRY: %w", k.name, err)
	}
	if k.Inquiry, err = ParseInquiry(b); err != nil {
		return fmt.Errorf("%s: %w", k.name, err)
	}
	if k.Inquiry.DeviceType != 0 {
		return fmt.Errorf("%s: SCSI device type %#x is not a direct-access block device", k.name, k.Inquiry.DeviceType)
	}
	return nil
}

// waitReady issues TEST UNIT READY until the medium is ready, asking REQUEST
// SENSE after each failure, for up to ReadyTimeout: sticks report UNIT ATTENTION
// after a reset and NOT READY while they start up.
func (k *Disk) waitReady() error {
	deadline := time.Now().Add(k.opt.readyTimeout())
	var last Sense
	for try := 1; ; try++ {
		_, err := k.t.command(cdbTestUnitReady(), nil, false, k.opt.commandTimeout())
		if err == nil {
			if try > 1 {
				logf(k.opt.Log, "%s: ready after %d tries", k.name, try)
			}
			return nil
		}
		s, err := k.explain(err)
		if err != nil {
			return fmt.Errorf("%s: TEST UNIT READY: %w", k.name, err)
		}
		if s.Key == SenseNotReady && s.ASC == ascNoMedium {
			return fmt.Errorf("%s: no medium (card reader without a card?): %v", k.name, s)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not ready after %v (%d tries): %v", k.name, k.opt.readyTimeout(), try, s)
		}
		if try == 1 || s != last {
			logf(k.opt.Log, "%s: TEST UNIT READY: %v; waiting", k.name, s)
		}
		last = s
		if s.Key != SenseUnitAttention {
			k.opt.sleep(100 * time.Millisecond)
		}
	}
}

func (k *Disk) readCapacity() error {
	var c Capacity
	var err error
	for try := 0; try < 3; try++ {
		var b []byte
		b, err = k.small(cdbReadCapacity10(), capacity10Len)
		if err == nil {
			c, err = ParseCapacity10(b)
			break
		}
		var s Sense
		if s, err = k.explain(err); err != nil {
			break
		}
		err = fmt.Errorf("%v", s)
		if s.Key != SenseUnitAttention && s.Key != SenseNotReady {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("%s: READ CAPACITY(10): %w", k.name, err)
	}
	if c.LastLBA == 0xFFFFFFFF {
		// More than 2^32 blocks: only READ CAPACITY(16) can say how many.
		b, err := k.small(cdbReadCapacity16(), capacity16Len)
		if err != nil {
			if s, e := k.explain(err); e == nil {
				err = fmt.Errorf("%v", s)
			}
			return fmt.Errorf("%s: READ CAPACITY(16): %w", k.name, err)
		}
		if c, err = ParseCapacity16(b); err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
	}
	if err := c.check(); err != nil {
		return fmt.Errorf("%s: %w", k.name, err)
	}
	k.blockSize = int(c.BlockSize)
	k.blocks = c.LastLBA + 1
	return nil
}

// ReadBlocks reads len(dst)/BlockSize() sectors from lba straight into dst, in
// READ commands of up to the current transfer size. On a failure it recovers,
// shrinks the transfer size if the device seems to dislike large reads, and
// retries; a removed device ends the read at once with usb.ErrDisconnected.
func (k *Disk) ReadBlocks(lba uint64, dst []byte) error {
	if err := block.CheckRead(k, lba, len(dst)); err != nil {
		return fmt.Errorf("%s: %w", k.name, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for len(dst) > 0 {
		n := len(dst) / k.blockSize
		if n > k.perRead {
			n = k.perRead
		}
		if err := k.readChunk(lba, dst[:n*k.blockSize]); err != nil {
			return err
		}
		lba += uint64(n)
		dst = dst[n*k.blockSize:]
	}
	return nil
}

// readChunk reads one command's worth, with recovery and retries. When the
// transfer size shrinks, the rest of the chunk goes in smaller commands.
func (k *Disk) readChunk(lba uint64, dst []byte) error {
	var last error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		n := len(dst) / k.blockSize
		if n > k.perRead {
			// The size shrank after an earlier failure.
			if err := k.readChunk(lba, dst[:k.perRead*k.blockSize]); err != nil {
				return err
			}
			return k.readChunk(lba+uint64(k.perRead), dst[k.perRead*k.blockSize:])
		}
		err := k.read(lba, uint32(n), dst)
		if err == nil {
			return nil
		}
		what := fmt.Sprintf("%s: read of sectors %d-%d", k.name, lba, lba+uint64(n)-1)
		note := ""
		if errors.Is(err, usb.ErrDisconnected) {
			return fmt.Errorf("%s: the device was removed: %w", what, err)
		}
		if errors.Is(err, errUnrecoverable) {
			return fmt.Errorf("%s: %w", what, err)
		}
		if errors.Is(err, errFailed) {
			s, serr := k.requestSense()
			if serr != nil {
				err = serr
			} else {
				err = fmt.Errorf("%v", s)
				switch {
				case s.Key == SenseUnitAttention:
					// A reset or media change was reported; the read itself is fine to repeat.
				case s.Key == SenseNotReady:
					if rerr := k.waitReady(); rerr != nil {
						return fmt.Errorf("%s: %w", what, rerr)
					}
				case s.Key == SenseIllegalRequest && s.ASC == ascLBARange:
					return fmt.Errorf("%s: device says LBA out of range: %v", what, s)
				case s.Key == SenseIllegalRequest:
					// Most likely a transfer larger than the device takes.
					note = k.shrink()
				}
			}
		} else {
			// Transport failure (already reset): devices that choke on large reads
			// usually fail this way, so try smaller ones.
			note = k.shrink()
		}
		last = fmt.Errorf("%s: %w", what, err)
		logf(k.opt.Log, "%v (attempt %d of %d)%s", last, attempt, maxAttempts, note)
	}
	return fmt.Errorf("%w; giving up after %d attempts", last, maxAttempts)
}

// shrink lowers the transfer size to the next fallback size and says so.
func (k *Disk) shrink() string {
	for _, size := range fallbackSizes {
		if b := size / k.blockSize; b >= 1 && b < k.perRead {
			k.perRead = b
			return fmt.Sprintf("; using %d KiB per READ from now on", b*k.blockSize>>10)
		}
	}
	return ""
}

// read issues one READ(10) or READ(16).
func (k *Disk) read(lba uint64, n uint32, dst []byte) error {
	var cdb []byte
	if lba+uint64(n)-1 <= 0xFFFFFFFF && n <= 0xFFFF {
		cdb = cdbRead10(uint32(lba), uint16(n))
	} else {
		cdb = cdbRead16(lba, n)
	}
	got, err := k.t.command(cdb, dst, true, k.opt.readTimeout())
	if err != nil {
		return err
	}
	if got != len(dst) {
		return fmt.Errorf("device returned %d of %d bytes", got, len(dst))
	}
	return nil
}
