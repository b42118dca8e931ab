// Package mailbox is the firmware's Go-side client of the VideoCore's mailbox
// property interface: clock rates, power domains, temperature, throttling and
// the xHCI reset notification the Pi 4's VL805 needs.
//
// One Client owns one message buffer and a lock, so any number of goroutines
// may share it. The exchange itself is a Transport: on the Pi (and QEMU
// raspi4b) the VideoCore mailbox on a DMA buffer (Firmware); in tests a
// model of the firmware. The tags, ids and message layout are soc/bcm2711's
// (the one home of the property interface); this package adds the lock, the
// errors and a method per request.
//
// The kernel talks to the mailbox only during boot (metal/kernel
// platform_rpi4_arm64.go), before Go code runs, so the Client's lock is all the
// serialisation the hardware needs afterwards.
package mailbox

import (
	"errors"
	"fmt"
	"sync"

	"github.com/inferpi/inferpi/soc/bcm2711"
)

// Transport exchanges one property message with the firmware.
type Transport interface {
	// Exchange sends the message in msg (bcm2711.Encode's layout, whole
	// 64-byte lines) and waits for the reply, which overwrites msg.
	Exchange(msg []uint32) error
}

// Client sends property requests through a Transport. It is safe for
// concurrent use.
type Client struct {
	mu  sync.Mutex
	t   Transport
	buf []uint32
}

// New returns a client that builds its messages in buf, which must be memory the
// transport can hand to the firmware (on the Pi: 64-byte aligned, whole cache
// lines, in the first GiB). 64 words hold any request this package makes.
func New(t Transport, buf []uint32) *Client {
	return &Client{t: t, buf: buf}
}

// Do sends tags in one message and fills in their responses. A tag the
// firmware does not answer fails the call with ErrUnsupported.
func (c *Client) Do(tags ...*bcm2711.Tag) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := encode(c.buf, tags)
	if err != nil {
		return err
	}
	msg := c.buf[:n]
	if err := c.t.Exchange(msg); err != nil {
		return fmt.Errorf("mailbox: %w: %v", ErrReply, err)
	}
	return decode(msg, tags)
}

// query sends one tag and returns its response words.
func (c *Client) query(id uint32, req []uint32, respWords int) ([]uint32, error) {
	t := &bcm2711.Tag{ID: id, Request: req, Response: make([]uint32, respWords)}
	if err := c.Do(t); err != nil {
		return nil, err
	}
	return t.Response, nil
}

// FirmwareRevision is the VideoCore firmware's build (a Unix time on real
// firmware).
func (c *Client) FirmwareRevision() (uint32, error) {
	r, err := c.query(bcm2711.TagFirmwareRevision, nil, 1)
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// BoardRevision is the board's revision code.
func (c *Client) BoardRevision() (uint32, error) {
	r, err := c.query(bcm2711.TagBoardRevision, nil, 1)
	if err != nil {
		return 0, err
	}
	return r[0], nil
}

// clock runs one of the clock-rate tags: request id, response id and rate in
// Hz. The firmware answers rate 0 for a clock that does not exist (vcmailbox(7)).
func (c *Client) clock(tag uint32, clk bcm2711.Clock, extra ...uint32) (uint32, error) {
	r, err := c.query(tag, append([]uint32{uint32(clk)}, extra...), 2)
	if err != nil {
		return 0, err
	}
	if r[0] != uint32(clk) {
		return 0, fmt.Errorf("mailbox: %w: %s for %s answered for clock %d", ErrReply, bcm2711.TagName(tag), clk, r[0])
	}
	if r[1] == 0 {
		return 0, fmt.Errorf("mailbox: %s of %s: rate 0: %w", bcm2711.TagName(tag), clk, ErrNoDevice)
	}
	return r[1], nil
}

// ClockRate is clk's rate in Hz as set (not necessarily as measured).
func (c *Client) ClockRate(clk bcm2711.Clock) (uint32, error) {
	return c.clock(bcm2711.TagClockRate, clk)
}

// MaxClockRate is the highest rate clk may be set to.
func (c *Client) MaxClockRate(clk bcm2711.Clock) (uint32, error) {
	return c.clock(bcm2711.TagMaxClockRate, clk)
}

// MinClockRate is the lowest rate clk may be set to.
func (c *Client) MinClockRate(clk bcm2711.Clock) (uint32, error) {
	return c.clock(bcm2711.TagMinClockRate, clk)
}

// MeasuredClockRate is clk's real rate: after SetClockRate the plain rate
// reports what was asked for, not what the firmware allowed
// (raspberrypi/firmware issue #1521).
func (c *Client) MeasuredClockRate(clk bcm2711.Clock) (uint32, error) {
	return c.clock(bcm2711.TagClockMeasured, clk)
}

// SetClockRate asks for hz on clk and returns the rate the firmware reports.
// skipTurbo keeps the firmware from raising other clocks with the ARM's.
func (c *Client) SetClockRate(clk bcm2711.Clock, hz uint32, skipTurbo bool) (uint32, error) {
	skip := uint32(0)
	if skipTurbo {
		skip = 1
	}
	return c.clock(bcm2711.TagSetClockRate, clk, hz, skip)
}

// Temperature is the SoC's temperature in thousandths of a degree Celsius.
func (c *Client) Temperature() (int, error) { return c.temperature(bcm2711.TagTemperature) }

// MaxTemperature is the temperature at which the firmware starts throttling.
func (c *Client) MaxTemperature() (int, error) { return c.temperature(bcm2711.TagMaxTemperature) }

func (c *Client) temperature(tag uint32) (int, error) {
	r, err := c.query(tag, []uint32{0}, 2) // sensor id 0, the only one
	if err != nil {
		return 0, err
	}
	return int(int32(r[1])), nil
}

// Throttled reports under-voltage and throttling, now and since boot. With
// clearSticky the firmware also clears the since-boot bits: Linux's
// raspberrypi-hwmon sends 0xFFFF with the comment "Request firmware to clear
// sticky bits"; sending 0 leaves them.
func (c *Client) Throttled(clearSticky bool) (Throttle, error) {
	req := uint32(0)
	if clearSticky {
		req = 0xFFFF
	}
	r, err := c.query(bcm2711.TagThrottled, []uint32{req}, 1)
	if err != nil {
		return 0, err
	}
	return Throttle(r[0]), nil
}

// PowerState reports whether dev is powered.
func (c *Client) PowerState(dev bcm2711.Device) (bool, error) {
	r, err := c.query(bcm2711.TagPowerState, []uint32{uint32(dev)}, 2)
	if err != nil {
		return false, err
	}
	return c.powerResult(bcm2711.TagPowerState, dev, r)
}

// SetPowerState switches dev on or off, waiting for its supply to settle, and
// returns the state the firmware reports afterwards.
func (c *Client) SetPowerState(dev bcm2711.Device, on bool) (bool, error) {
	state := uint32(bcm2711.PowerWait)
	if on {
		state |= bcm2711.PowerOn
	}
	r, err := c.query(bcm2711.TagSetPowerState, []uint32{uint32(dev), state}, 2)
	if err != nil {
		return false, err
	}
	isOn, err := c.powerResult(bcm2711.TagSetPowerState, dev, r)
	if err == nil && isOn != on {
		return isOn, fmt.Errorf("mailbox: %s: asked to switch %s, it stayed %s", dev, onOff(on), onOff(isOn))
	}
	return isOn, err
}

func (c *Client) powerResult(tag uint32, dev bcm2711.Device, r []uint32) (bool, error) {
	if r[0] != uint32(dev) {
		return false, fmt.Errorf("mailbox: %w: %s for %s answered for device %d", ErrReply, bcm2711.TagName(tag), dev, r[0])
	}
	if r[1]&bcm2711.PowerNoDevice != 0 {
		return false, fmt.Errorf("mailbox: power domain %s: %w", dev, ErrNoDevice)
	}
	return r[1]&bcm2711.PowerOn != 0, nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// ExpanderGPIOBase is the number of the firmware's GPIO expander's first pin
// in the GPIO tags (Linux gpio-raspberrypi-exp.c RPI_EXP_GPIO_BASE; Circle's
// EXP_GPIO_BASE).
const ExpanderGPIOBase = 128

// SetExpanderGPIO drives pin of the firmware's GPIO expander high (true) or
// low. The firmware answers 0 in the first word when it did (Linux's
// rpi_exp_gpio_set treats anything else as a failure); an answer without words
// (QEMU's) is taken as done.
func (c *Client) SetExpanderGPIO(pin int, high bool) error {
	state := uint32(0)
	if high {
		state = 1
	}
	t := &bcm2711.Tag{ID: bcm2711.TagSetGPIOState, Request: []uint32{uint32(ExpanderGPIOBase + pin), state}, Response: make([]uint32, 2), ShortOK: true}
	if err := c.Do(t); err != nil {
		return err
	}
	if t.Answered > 0 && t.Response[0] != 0 {
		return fmt.Errorf("mailbox: %s of expander GPIO %d: the firmware answered %#x", bcm2711.TagName(bcm2711.TagSetGPIOState), pin, t.Response[0])
	}
	return nil
}

// NotifyXHCIReset tells the firmware that the xHCI controller at PCI address
// pciAddr (PCIAddress; VL805 on a Pi 4) was reset, so that it reloads the
// controller's firmware from the EEPROM. Must follow the PCIe link coming up
// and precede any xHCI register access, as in Linux xhci-pci.c: xhci_pci_probe
// and U-Boot xhci-pci.c: xhci_pci_probe (the reset before the registers are read).
func (c *Client) NotifyXHCIReset(pciAddr uint32) error {
	_, err := c.query(bcm2711.TagNotifyXHCIReset, []uint32{pciAddr}, 0)
	return err
}

// PCIAddress is how the xHCI-reset tag names a PCI function: bus<<20 |
// slot<<15 | function<<12 (Linux reset-raspberrypi.c: rpi_reset_reset, U-Boot
// msg.c: bcm2711_notify_vl805_reset).
func PCIAddress(bus, slot, function uint32) uint32 {
	return bus<<20 | slot<<15 | function<<12
}

// VL805 is the Pi 4's USB 3 controller: bus 1, slot 0, function 0.
var VL805 = PCIAddress(1, 0, 0)

// IsUnsupported reports whether err says the firmware does not know a tag
// (QEMU's model of the firmware answers only some of them).
func IsUnsupported(err error) bool { return errors.Is(err, ErrUnsupported) }
