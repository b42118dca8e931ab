package usb

import (
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// Descriptor types (USB 2.0 table 9-5, USB 3.2 table 9-6, hub class §11.23).
const (
	DescDevice                = 1
	DescConfiguration         = 2
	DescString                = 3
	DescInterface             = 4
	DescEndpoint              = 5
	DescHub                   = 0x29
	DescSuperSpeedHub         = 0x2A
	DescSuperSpeedEPCompanion = 0x30
)

// Class codes used here.
const (
	ClassPerInterface = 0x00
	ClassMassStorage  = 0x08
	ClassHub          = 0x09
)

// DeviceDescriptor is the 18-byte device descriptor (USB 2.0 §9.6.1).
type DeviceDescriptor struct {
	USBVersion        uint16 // bcdUSB
	Class             uint8
	SubClass          uint8
	Protocol          uint8
	MaxPacket0        int // bytes (decoded from the exponent for USB 3 devices)
	Vendor            uint16
	Product           uint16
	DeviceVersion     uint16
	ManufacturerIndex uint8
	ProductIndex      uint8
	SerialIndex       uint8
	Configurations    uint8
}

// ParseMaxPacket0 reads bMaxPacketSize0 from the first 8 bytes of a device
// descriptor. For USB 3 devices (bcdUSB >= 0x0300) at SuperSpeed the field is an
// exponent (USB 3.2 §9.6.1: 09h means 512).
func ParseMaxPacket0(b []byte, speed Speed) (int, error) {
	if len(b) < 8 {
		return 0, fmt.Errorf("usb: device descriptor head is %d bytes, need 8", len(b))
	}
	if b[1] != DescDevice {
		return 0, fmt.Errorf("usb: descriptor type %#x where a device descriptor (1) was expected", b[1])
	}
	v := b[7]
	if speed >= SpeedSuper {
		if v > 15 {
			return 0, fmt.Errorf("usb: SuperSpeed bMaxPacketSize0 exponent %d is out of range", v)
		}
		return 1 << v, nil
	}
	switch v {
	case 8, 16, 32, 64:
		return int(v), nil
	}
	return 0, fmt.Errorf("usb: bMaxPacketSize0 %d is not 8, 16, 32 or 64", v)
}

// ParseDeviceDescriptor decodes a device descriptor.
func ParseDeviceDescriptor(b []byte, speed Speed) (DeviceDescriptor, error) {
	if len(b) < 18 {
		return DeviceDescriptor{}, fmt.Errorf("usb: device descriptor is %d bytes, need 18", len(b))
	}
	if b[0] < 18 {
		return DeviceDescriptor{}, fmt.Errorf("usb: device descriptor says bLength %d, need 18", b[0])
	}
	mps, err := ParseMaxPacket0(b, speed)
	if err != nil {
		return DeviceDescriptor{}, err
	}
	return DeviceDescriptor{
		USBVersion:        binary.LittleEndian.Uint16(b[2:]),
		Class:             b[4],
		SubClass:          b[5],
		Protocol:          b[6],
		MaxPacket0:        mps,
		Vendor:            binary.LittleEndian.Uint16(b[8:]),
		Product:           binary.LittleEndian.Uint16(b[10:]),
		DeviceVersion:     binary.LittleEndian.Uint16(b[12:]),
		ManufacturerIndex: b[14],
		ProductIndex:      b[15],
		SerialIndex:       b[16],
		Configurations:    b[17],
	}, nil
}

// Configuration is a parsed configuration descriptor with its interfaces.
type Configuration struct {
	Value      uint8 // bConfigurationValue, the argument of SET_CONFIGURATION
	Attributes uint8
	MaxPower   uint8 // in units of 2 mA (8 mA at SuperSpeed)
	Interfaces []Interface
}

// Interface is one alternate setting of an interface.
type Interface struct {
	Number    uint8
	Alternate uint8
	Class     uint8
	SubClass  uint8
	Protocol  uint8
	Endpoints []Endpoint
	StringIdx uint8
}

// Endpoint is an endpoint descriptor with its SuperSpeed companion, if any.
type Endpoint struct {
	Address    uint8 // number | DirIn
	Attributes uint8
	MaxPacket  int // bits 10:0 of wMaxPacketSize
	Mult       int // high-bandwidth transactions per microframe minus one (bits 12:11)
	Interval   uint8
	MaxBurst   int // from the SuperSpeed companion (0 when absent)
}

// Type is the endpoint's transfer type.
func (e Endpoint) Type() TransferType { return TransferType(e.Attributes & 3) }

// In reports whether the endpoint moves data to the host.
func (e Endpoint) In() bool { return e.Address&DirIn != 0 }

// Config is what a host controller needs to set the endpoint up.
func (e Endpoint) Config() EndpointConfig {
	return EndpointConfig{Address: e.Address, Type: e.Type(), MaxPacket: e.MaxPacket, Interval: e.Interval, MaxBurst: e.MaxBurst}
}

// ParseConfiguration decodes a full configuration descriptor (wTotalLength
// bytes): the configuration header followed by interface, endpoint and other
// descriptors. Unknown descriptors are skipped.
func ParseConfiguration(b []byte) (*Configuration, error) {
	if len(b) < 9 {
		return nil, fmt.Errorf("usb: configuration descriptor is %d bytes, need 9", len(b))
	}
	if b[1] != DescConfiguration {
		return nil, fmt.Errorf("usb: descriptor type %#x where a configuration descriptor (2) was expected", b[1])
	}
	if b[0] < 9 {
		return nil, fmt.Errorf("usb: configuration descriptor says bLength %d, need 9", b[0])
	}
	total := int(binary.LittleEndian.Uint16(b[2:]))
	if total > len(b) {
		return nil, fmt.Errorf("usb: configuration says wTotalLength %d, only %d bytes read", total, len(b))
	}
	if total < int(b[0]) {
		return nil, fmt.Errorf("usb: configuration wTotalLength %d is shorter than its header", total)
	}
	c := &Configuration{Value: b[5], Attributes: b[7], MaxPower: b[8]}
	var cur *Interface
	var last *Endpoint
	for off := int(b[0]); off < total; {
		l := int(b[off])
		if l < 2 || off+l > total {
			return nil, fmt.Errorf("usb: configuration: descriptor at offset %d has bad length %d (total %d)", off, l, total)
		}
		d := b[off : off+l]
		switch d[1] {
		case DescInterface:
			if l < 9 {
				return nil, fmt.Errorf("usb: interface descriptor at offset %d is %d bytes, need 9", off, l)
			}
			c.Interfaces = append(c.Interfaces, Interface{
				Number: d[2], Alternate: d[3], Class: d[5], SubClass: d[6], Protocol: d[7], StringIdx: d[8],
			})
			cur = &c.Interfaces[len(c.Interfaces)-1]
			last = nil
		case DescEndpoint:
			if l < 7 {
				return nil, fmt.Errorf("usb: endpoint descriptor at offset %d is %d bytes, need 7", off, l)
			}
			if cur == nil {
				return nil, fmt.Errorf("usb: endpoint descriptor at offset %d comes before any interface", off)
			}
			if d[2]&0x0F == 0 {
				return nil, fmt.Errorf("usb: endpoint descriptor at offset %d names endpoint 0", off)
			}
			mps := binary.LittleEndian.Uint16(d[4:])
			cur.Endpoints = append(cur.Endpoints, Endpoint{
				Address: d[2] & 0x8F, Attributes: d[3], MaxPacket: int(mps & 0x7FF), Mult: int(mps>>11) & 3, Interval: d[6],
			})
			last = &cur.Endpoints[len(cur.Endpoints)-1]
		case DescSuperSpeedEPCompanion:
			if l >= 3 && last != nil {
				last.MaxBurst = int(d[2] & 0x0F)
			}
		}
		off += l
	}
	return c, nil
}

// Interface returns the interface with the given number and alternate setting.
func (c *Configuration) Interface(number, alt uint8) *Interface {
	for i := range c.Interfaces {
		if c.Interfaces[i].Number == number && c.Interfaces[i].Alternate == alt {
			return &c.Interfaces[i]
		}
	}
	return nil
}

// ParseString decodes a string descriptor (UTF-16LE).
func ParseString(b []byte) (string, error) {
	if len(b) < 2 {
		return "", fmt.Errorf("usb: string descriptor is %d bytes", len(b))
	}
	if b[1] != DescString {
		return "", fmt.Errorf("usb: descriptor type %#x where a string descriptor (3) was expected", b[1])
	}
	l := int(b[0])
	if l > len(b) {
		l = len(b)
	}
	if l < 2 {
		return "", fmt.Errorf("usb: string descriptor says bLength %d", b[0])
	}
	u := make([]uint16, 0, (l-2)/2)
	for i := 2; i+1 < l; i += 2 {
		u = append(u, binary.LittleEndian.Uint16(b[i:]))
	}
	return string(utf16.Decode(u)), nil
}
