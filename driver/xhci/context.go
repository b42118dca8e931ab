package xhci

import (
	"encoding/binary"

	"github.com/inferpi/inferpi/driver/usb"
)

func putLE32(b []byte, v uint32) { binary.LittleEndian.PutUint32(b, v) }
func putLE64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }
func le32(b []byte) uint32       { return binary.LittleEndian.Uint32(b) }

// Device contexts (§6.2). A device context is a slot context followed by 31
// endpoint contexts, each 32 or 64 bytes (HCCPARAMS1.CSZ; the VL805 and QEMU use
// 32). An input context has an input control context in front.

// dci is the device context index of an endpoint address: 2×number + 1 for IN,
// 1 for endpoint 0 (§4.5.1).
func dci(ep uint8) int {
	n := int(ep & 0x0F)
	if n == 0 {
		return 1
	}
	if ep&usb.DirIn != 0 {
		return 2*n + 1
	}
	return 2 * n
}

// Slot context fields (§6.2.2).
const (
	slotRouteMask     = 0xFFFFF
	slotSpeedShift    = 20
	slotMTT           = 1 << 25
	slotHub           = 1 << 26
	slotEntriesShift  = 27
	slotRootPortShift = 16 // dword 1
	slotNumPortsShift = 24 // dword 1
	slotTTPortShift   = 8  // dword 2: TT hub slot 7:0, TT port 15:8, TTT 17:16
	slotTTTShift      = 16
	slotStateShift    = 27 // dword 3
)

// Endpoint context fields (§6.2.3).
const (
	epStateMask     = 7
	epStateDisabled = 0
	epStateRunning  = 1
	epStateHalted   = 2
	epStateStopped  = 3
	epStateError    = 4
	epIntervalShift = 16 // dword 0
	epCErrShift     = 1  // dword 1
	epTypeShift     = 3
	epBurstShift    = 8
	epMPSShift      = 16
)

// Endpoint types (§6.2.3, table 6-9).
const (
	epTypeIsochOut = 1
	epTypeBulkOut  = 2
	epTypeIntOut   = 3
	epTypeControl  = 4
	epTypeIsochIn  = 5
	epTypeBulkIn   = 6
	epTypeIntIn    = 7
)

// ctxView addresses the contexts inside an input or output context buffer.
type ctxView struct {
	b     []byte
	size  int  // bytes per context
	input bool // an input control context comes first
}

func (v ctxView) at(i int) []byte {
	if v.input {
		i++
	}
	return v.b[i*v.size : (i+1)*v.size]
}

func (v ctxView) control() []byte         { return v.b[:v.size] }
func (v ctxView) slot() []byte            { return v.at(0) }
func (v ctxView) endpoint(dci int) []byte { return v.at(dci) }

// speedID is the Protocol Speed ID that slot contexts and PORTSC use by default
// (§7.2.2.1.1: 1 full, 2 low, 3 high, 4 SuperSpeed, 5 SuperSpeedPlus).
func speedID(s usb.Speed) uint32 {
	switch s {
	case usb.SpeedFull:
		return 1
	case usb.SpeedLow:
		return 2
	case usb.SpeedHigh:
		return 3
	case usb.SpeedSuper:
		return 4
	case usb.SpeedSuperPlus:
		return 5
	}
	return 0
}

func speedFromID(id uint32) usb.Speed {
	switch id {
	case 1:
		return usb.SpeedFull
	case 2:
		return usb.SpeedLow
	case 3:
		return usb.SpeedHigh
	case 4:
		return usb.SpeedSuper
	case 5:
		return usb.SpeedSuperPlus
	}
	return usb.SpeedUnknown
}

// epType is the endpoint context type for an endpoint.
func epType(c usb.EndpointConfig) uint32 {
	in := c.Address&usb.DirIn != 0
	switch c.Type {
	case usb.Bulk:
		if in {
			return epTypeBulkIn
		}
		return epTypeBulkOut
	case usb.Interrupt:
		if in {
			return epTypeIntIn
		}
		return epTypeIntOut
	case usb.Isochronous:
		if in {
			return epTypeIsochIn
		}
		return epTypeIsochOut
	}
	return epTypeControl
}

// epInterval converts bInterval to the context's Interval (period 2^Interval ×
// 125 µs, §6.2.3.6): high- and SuperSpeed interrupt/isochronous endpoints already
// use that exponent (plus one); full/low-speed interrupt ones count frames (1 ms).
func epInterval(c usb.EndpointConfig, speed usb.Speed) uint32 {
	switch c.Type {
	case usb.Bulk, usb.Control:
		return 0
	}
	if speed >= usb.SpeedHigh || c.Type == usb.Isochronous {
		v := uint32(c.Interval)
		if v < 1 {
			v = 1
		}
		if v > 16 {
			v = 16
		}
		if speed < usb.SpeedHigh {
			return v + 2 // full-speed isochronous: 2^(v-1) frames
		}
		return v - 1
	}
	// Frames to microframes: the largest power of two not above 8×bInterval.
	frames := uint32(c.Interval)
	if frames < 1 {
		frames = 1
	}
	e := uint32(3)
	for (uint32(1)<<(e+1)) <= frames*8 && e < 10 {
		e++
	}
	return e
}

// writeEndpoint fills an endpoint context for a transfer ring at deq.
func writeEndpoint(b []byte, c usb.EndpointConfig, speed usb.Speed, deq uint64, dcs uint32) {
	clear(b[:20])
	cerr := uint32(3) // three retries before the endpoint halts (§4.10.2.7)
	if c.Type == usb.Isochronous {
		cerr = 0
	}
	burst := uint32(c.MaxBurst)
	if speed < usb.SpeedSuper {
		burst = 0
	}
	putLE32(b[0:], epInterval(c, speed)<<epIntervalShift)
	putLE32(b[4:], cerr<<epCErrShift|epType(c)<<epTypeShift|burst<<epBurstShift|uint32(c.MaxPacket)<<epMPSShift)
	putLE64(b[8:], deq|uint64(dcs&1))
	// Average TRB length: 8 for control, 3 KiB for bulk (§4.14.1.1).
	avg := uint32(3072)
	if c.Type == usb.Control {
		avg = 8
	} else if c.Type == usb.Interrupt {
		avg = uint32(c.MaxPacket)
	}
	maxESIT := uint32(0)
	if c.Type == usb.Interrupt || c.Type == usb.Isochronous {
		maxESIT = uint32(c.MaxPacket * (c.MaxBurst + 1))
	}
	putLE32(b[16:], avg|maxESIT<<16)
}
