// Package usb is the USB core: the seam between a host-controller driver (xHCI) and
// class drivers (hubs, mass storage). It knows descriptors, standard requests and
// enumeration; it knows nothing about TRBs or registers.
//
// A host-controller driver implements Host (root ports, device slots) and
// HostDevice (transfers to one addressed device). Enumerate walks the root ports,
// addresses every device it finds, drives the hub class driver for hubs, and
// returns ready-to-use Devices. Bind hands their interfaces to ClassDrivers
// (package msc's Driver), which talk to the Device; the host-controller driver
// knows none of them.
//
// References (facts only): USB 2.0 specification chapters 9 and 11; Linux
// drivers/usb/core/hub.c; U-Boot common/usb.c and common/usb_hub.c; Circle lib/usb.
package usb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Speed is a device's bus speed.
type Speed uint8

const (
	SpeedUnknown   Speed = iota
	SpeedLow             // 1.5 Mb/s
	SpeedFull            // 12 Mb/s
	SpeedHigh            // 480 Mb/s
	SpeedSuper           // 5 Gb/s
	SpeedSuperPlus       // 10 Gb/s
)

func (s Speed) String() string {
	switch s {
	case SpeedLow:
		return "low-speed (1.5 Mb/s)"
	case SpeedFull:
		return "full-speed (12 Mb/s)"
	case SpeedHigh:
		return "high-speed (480 Mb/s)"
	case SpeedSuper:
		return "SuperSpeed (5 Gb/s)"
	case SpeedSuperPlus:
		return "SuperSpeedPlus (10 Gb/s)"
	}
	return fmt.Sprintf("unknown speed %d", uint8(s))
}

// DefaultMaxPacket0 is the control endpoint's packet size to assume before the
// device descriptor has been read (USB 2.0 §5.5.3; USB 3.x §9.6.1: 512 at SuperSpeed).
func (s Speed) DefaultMaxPacket0() int {
	switch s {
	case SpeedLow:
		return 8
	case SpeedFull:
		return 8 // 8, 16, 32 or 64: corrected after the first 8 bytes of the descriptor
	case SpeedHigh:
		return 64
	default:
		return 512
	}
}

// Request-type bits of a setup packet (USB 2.0 table 9-2).
const (
	DirOut uint8 = 0x00
	DirIn  uint8 = 0x80

	TypeStandard uint8 = 0 << 5
	TypeClass    uint8 = 1 << 5
	TypeVendor   uint8 = 2 << 5

	RecipDevice    uint8 = 0
	RecipInterface uint8 = 1
	RecipEndpoint  uint8 = 2
	RecipOther     uint8 = 3
)

// Standard requests (USB 2.0 table 9-4).
const (
	ReqGetStatus        uint8 = 0
	ReqClearFeature     uint8 = 1
	ReqSetFeature       uint8 = 3
	ReqSetAddress       uint8 = 5
	ReqGetDescriptor    uint8 = 6
	ReqGetConfiguration uint8 = 8
	ReqSetConfiguration uint8 = 9
)

// FeatureEndpointHalt is the ENDPOINT_HALT feature selector (USB 2.0 table 9-6).
const FeatureEndpointHalt uint16 = 0

// Setup is the 8-byte SETUP packet of a control transfer (USB 2.0 §9.3).
type Setup struct {
	RequestType uint8
	Request     uint8
	Value       uint16
	Index       uint16
	Length      uint16
}

// In reports whether the data stage (if any) moves data to the host.
func (s Setup) In() bool { return s.RequestType&DirIn != 0 }

// Bytes is the packet as sent on the wire (little-endian fields).
func (s Setup) Bytes() [8]byte {
	var b [8]byte
	b[0] = s.RequestType
	b[1] = s.Request
	binary.LittleEndian.PutUint16(b[2:], s.Value)
	binary.LittleEndian.PutUint16(b[4:], s.Index)
	binary.LittleEndian.PutUint16(b[6:], s.Length)
	return b
}

// ParseSetup decodes a SETUP packet.
func ParseSetup(b []byte) (Setup, error) {
	if len(b) != 8 {
		return Setup{}, fmt.Errorf("usb: setup packet is %d bytes, want 8", len(b))
	}
	return Setup{
		RequestType: b[0],
		Request:     b[1],
		Value:       binary.LittleEndian.Uint16(b[2:]),
		Index:       binary.LittleEndian.Uint16(b[4:]),
		Length:      binary.LittleEndian.Uint16(b[6:]),
	}, nil
}

func (s Setup) String() string {
	return fmt.Sprintf("setup %02x %02x value %#04x index %#04x length %d",
		s.RequestType, s.Request, s.Value, s.Index, s.Length)
}

// Transfer errors. Host-controller drivers wrap these (errors.Is works) with
// details such as the completion code.
var (
	// ErrStall: the device answered STALL (a halted endpoint or an unsupported request).
	ErrStall = errors.New("endpoint stalled")
	// ErrTimeout: the transfer did not complete in time; the host has cancelled it.
	ErrTimeout = errors.New("transfer timed out")
	// ErrDisconnected: the device is no longer attached.
	ErrDisconnected = errors.New("device disconnected")
	// ErrTransaction: the bus transaction failed (CRC, no handshake, babble, ...).
	ErrTransaction = errors.New("USB transaction error")
)

// TransferType is an endpoint's type (bmAttributes bits 1:0).
type TransferType uint8

const (
	Control     TransferType = 0
	Isochronous TransferType = 1
	Bulk        TransferType = 2
	Interrupt   TransferType = 3
)

func (t TransferType) String() string {
	return [...]string{"control", "isochronous", "bulk", "interrupt"}[t&3]
}

// EndpointConfig is what a host controller needs to set up one endpoint.
type EndpointConfig struct {
	Address   uint8 // endpoint number | DirIn for IN endpoints
	Type      TransferType
	MaxPacket int
	Interval  uint8 // bInterval as in the descriptor
	MaxBurst  int   // SuperSpeed companion bMaxBurst (0..15): packets per burst minus one
}

// HubConfig tells the host controller that a device is a hub (xHCI slot context
// Hub, Number of Ports, TT Think Time and MTT fields).
type HubConfig struct {
	Ports     int
	ThinkTime int // TT think time: 0..3 = 8, 16, 24, 32 FS bit times
	MultiTT   bool
}

// Location says where a device sits in the topology.
type Location struct {
	RootPort int    // root-hub port, from 1
	Route    uint32 // route string: the hub port at tier n in bits 4n-1:4n-4 (xHCI §8.9)
	Depth    int    // hubs between the root port and the device
	Speed    Speed
	// For a low- or full-speed device behind a high-speed hub: the hub whose
	// transaction translator serves it and the hub port the device hangs from.
	TTHub   HostDevice
	TTPort  int
	TTMulti bool
	Path    string // human-readable position, e.g. "2" or "1.3" (root port 1, hub port 3)
}

// Host is a USB host controller as the core sees it.
type Host interface {
	// Name is used in log lines, e.g. "xhci".
	Name() string
	// RootPorts is the number of root-hub ports, numbered from 1.
	RootPorts() int
	// ResetRootPort brings a root port with a device on it into the enabled state
	// and reports the device's speed. connected is false when nothing is attached.
	ResetRootPort(port int) (speed Speed, connected bool, err error)
	// RootPortConnected reports whether a device is still attached to the port.
	RootPortConnected(port int) bool
	// NewDevice gives the device at loc a bus address with its default control
	// endpoint working (xHCI: Enable Slot + Address Device).
	NewDevice(loc Location) (HostDevice, error)
}

// HostDevice is one addressed device as its host controller drives it.
type HostDevice interface {
	// Control runs a control transfer on endpoint 0; data is the data stage (len
	// must equal s.Length). It returns the number of bytes transferred.
	Control(s Setup, data []byte, timeout time.Duration) (int, error)
	// SetMaxPacket0 updates endpoint 0's max packet size after the device
	// descriptor is known.
	SetMaxPacket0(n int) error
	// Configure enables the given endpoints (before SET_CONFIGURATION) and, for a
	// hub, records its hub properties.
	Configure(eps []EndpointConfig, hub *HubConfig) error
	// Bulk moves len(buf) bytes on a bulk endpoint (ep carries the direction bit)
	// straight to or from buf. A short IN transfer is not an error: n says how much
	// arrived.
	Bulk(ep uint8, buf []byte, timeout time.Duration) (n int, err error)
	// ResetEndpoint brings the host side of an endpoint back to a clean state
	// (not halted, data toggle / sequence number 0), as CLEAR_FEATURE(ENDPOINT_HALT)
	// does on the device side.
	ResetEndpoint(ep uint8) error
	// Release frees the host's resources for the device (xHCI: Disable Slot).
	Release() error
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
