package usbfake

import (
	"encoding/binary"

	"github.com/inferpi/inferpi/driver/usb"
)

// Hub is a USB 2.0 hub (USB 2.0 chapter 11): full-speed like QEMU's usb-hub, or
// high-speed with a single transaction translator like the VL805's internal hub.
type Hub struct {
	Base
	ports []hubPort
}

type hubPort struct {
	dev     Device
	powered bool
	enabled bool
	change  uint16
}

// NewHub returns a hub with n ports running at speed (full or high).
func NewHub(speed usb.Speed, n int) *Hub {
	h := &Hub{ports: make([]hubPort, n)}
	h.speed = speed
	protocol, mps0 := uint8(0), uint8(8)
	if speed == usb.SpeedHigh {
		protocol, mps0 = 1, 64 // single TT
	}
	h.devDesc = deviceDescriptor(speed, usb.ClassHub, protocol, 0x2109, 0x3431, mps0)
	h.cfgDesc = []byte{9, usb.DescConfiguration, 25, 0, 1, 1, 0, 0xE0, 0,
		9, usb.DescInterface, 0, 0, 1, usb.ClassHub, 0, 0, 0,
		7, usb.DescEndpoint, 0x81, 3, 1, 0, 12}
	h.strs = []string{"QEMU", "QEMU USB Hub", "314159"}
	return h
}

// Plug attaches d to port (from 1); the hub reports a connection change.
func (h *Hub) Plug(port int, d Device) {
	p := &h.ports[port-1]
	p.dev = d
	p.enabled = false
	p.change |= usb.PortChangeConnection
}

// Unplug detaches the device on port.
func (h *Hub) Unplug(port int) {
	p := &h.ports[port-1]
	if b, ok := p.dev.(interface{ Unplug() }); ok {
		b.Unplug()
	}
	p.dev = nil
	p.enabled = false
	p.change |= usb.PortChangeConnection
}

// Child is the device on an enabled port, for routing transfers to it.
func (h *Hub) Child(port int) Device {
	if port < 1 || port > len(h.ports) {
		return nil
	}
	p := &h.ports[port-1]
	if !p.enabled || !p.powered {
		return nil
	}
	return p.dev
}

func (h *Hub) status(port int) (uint16, uint16) {
	p := &h.ports[port-1]
	var st uint16
	if p.powered {
		st |= usb.PortPower
		if p.dev != nil {
			st |= usb.PortConnection
			switch p.dev.Speed() {
			case usb.SpeedLow:
				st |= usb.PortLowSpeed
			case usb.SpeedHigh:
				st |= usb.PortHighSpeed
			}
		}
		if p.enabled {
			st |= usb.PortEnable
		}
	}
	return st, p.change
}

// Control answers standard requests and the hub class requests of §11.24.2.
func (h *Hub) Control(s usb.Setup, out []byte) ([]byte, error) {
	if h.gone {
		return nil, ErrGone
	}
	if s.RequestType&(3<<5) != usb.TypeClass {
		in, _, err := h.standard(s, out)
		return in, err
	}
	h.Requests = append(h.Requests, s)
	port := int(s.Index)
	portOK := port >= 1 && port <= len(h.ports)
	switch {
	case s.RequestType == 0xA0 && s.Request == usb.ReqGetDescriptor && s.Value>>8 == usb.DescHub:
		n := len(h.ports)
		bitmap := (n + 1 + 7) / 8
		d := []byte{byte(7 + 2*bitmap), usb.DescHub, byte(n), 0x09, 0x00, 50, 100}
		d = append(d, make([]byte, bitmap)...) // DeviceRemovable: all removable
		for i := 0; i < bitmap; i++ {
			d = append(d, 0xFF) // PortPwrCtrlMask (USB 1.0 compatibility)
		}
		return clip(d, s.Length), nil
	case s.RequestType == 0xA0 && s.Request == usb.ReqGetStatus:
		return clip([]byte{0, 0, 0, 0}, s.Length), nil
	case s.RequestType == 0xA3 && s.Request == usb.ReqGetStatus && portOK:
		st, ch := h.status(port)
		b := make([]byte, 4)
		binary.LittleEndian.PutUint16(b, st)
		binary.LittleEndian.PutUint16(b[2:], ch)
		return clip(b, s.Length), nil
	case s.RequestType == 0x23 && s.Request == usb.ReqSetFeature && portOK:
		p := &h.ports[port-1]
		switch s.Value {
		case 8: // PORT_POWER
			p.powered = true
		case 4: // PORT_RESET: completes at once, enabling the port
			if p.powered && p.dev != nil {
				p.enabled = true
				p.change |= usb.PortChangeReset
			}
		default:
			return nil, usb.ErrStall
		}
		return nil, nil
	case s.RequestType == 0x23 && s.Request == usb.ReqClearFeature && portOK:
		p := &h.ports[port-1]
		switch s.Value {
		case 1: // PORT_ENABLE
			p.enabled = false
		case 8:
			p.powered, p.enabled = false, false
		case 16:
			p.change &^= usb.PortChangeConnection
		case 17:
			p.change &^= usb.PortChangeEnable
		case 19:
			p.change &^= usb.PortChangeOverCurrent
		case 20:
			p.change &^= usb.PortChangeReset
		default:
			return nil, usb.ErrStall
		}
		return nil, nil
	}
	return nil, usb.ErrStall
}

func (h *Hub) BulkOut(ep uint8, data []byte) error      { return usb.ErrStall }
func (h *Hub) BulkIn(ep uint8, max int) ([]byte, error) { return nil, usb.ErrStall }
