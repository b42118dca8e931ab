package mailbox

import (
	"fmt"
	"strings"
)

// Property tags (vcmailbox(7); Linux include/soc/bcm2835/raspberrypi-firmware.h,
// enum rpi_firmware_property_tag, for those vcmailbox(7) lacks).
const (
	TagFirmwareRevision = 0x00000001
	TagBoardRevision    = 0x00010002
	TagPowerState       = 0x00020001
	TagSetPowerState    = 0x00028001
	TagClockRate        = 0x00030002
	TagMaxClockRate     = 0x00030004
	TagTemperature      = 0x00030006
	TagMinClockRate     = 0x00030007
	TagMaxTemperature   = 0x0003000A
	TagThrottled        = 0x00030046
	TagClockMeasured    = 0x00030047
	TagNotifyXHCIReset  = 0x00030058
	TagSetClockRate     = 0x00038002
	TagSetGPIOState     = 0x00038041 // a GPIO of the firmware's expander (Linux RPI_FIRMWARE_SET_GPIO_STATE)
)

var tagNames = map[uint32]string{
	TagFirmwareRevision: "firmware revision",
	TagBoardRevision:    "board revision",
	TagPowerState:       "power state",
	TagSetPowerState:    "set power state",
	TagClockRate:        "clock rate",
	TagMaxClockRate:     "max clock rate",
	TagTemperature:      "temperature",
	TagMinClockRate:     "min clock rate",
	TagMaxTemperature:   "max temperature",
	TagThrottled:        "throttled",
	TagClockMeasured:    "measured clock rate",
	TagNotifyXHCIReset:  "notify xHCI reset",
	TagSetClockRate:     "set clock rate",
	TagSetGPIOState:     "set GPIO state",
}

// TagName names a tag for messages.
func TagName(id uint32) string {
	if n, ok := tagNames[id]; ok {
		return n
	}
	return "unknown tag"
}

// Clock is a firmware clock id (vcmailbox(7), "Unique clock IDs").
type Clock uint32

const (
	ClockEMMC     Clock = 1 // the Arasan SDHCI at 0xFE300000 (QEMU raspi4b's SD card)
	ClockUART     Clock = 2
	ClockARM      Clock = 3
	ClockCore     Clock = 4
	ClockV3D      Clock = 5
	ClockH264     Clock = 6
	ClockISP      Clock = 7
	ClockSDRAM    Clock = 8
	ClockPixel    Clock = 9
	ClockPWM      Clock = 10
	ClockHEVC     Clock = 11
	ClockEMMC2    Clock = 12 // EMMC2 at 0xFE340000, the Pi 4's SD slot
	ClockM2MC     Clock = 13
	ClockPixelBVB Clock = 14
)

var clockNames = [...]string{"", "EMMC", "UART", "ARM", "CORE", "V3D", "H264", "ISP", "SDRAM", "PIXEL", "PWM", "HEVC", "EMMC2", "M2MC", "PIXEL_BVB"}

func (c Clock) String() string {
	if int(c) < len(clockNames) && clockNames[c] != "" {
		return clockNames[c]
	}
	return fmt.Sprintf("clock %d", uint32(c))
}

// Device is a power domain id for the power-state tags (vcmailbox(7)).
type Device uint32

const (
	DeviceSDCard Device = 0
	DeviceUART0  Device = 1
	DeviceUART1  Device = 2
	DeviceUSBHCD Device = 3
	DeviceI2C0   Device = 4
	DeviceI2C1   Device = 5
	DeviceI2C2   Device = 6
	DeviceSPI    Device = 7
	DeviceCCP2TX Device = 8
)

var deviceNames = [...]string{"SD card", "UART0", "UART1", "USB HCD", "I2C0", "I2C1", "I2C2", "SPI", "CCP2TX"}

func (d Device) String() string {
	if int(d) < len(deviceNames) {
		return deviceNames[d]
	}
	return fmt.Sprintf("device %d", uint32(d))
}

// Power state bits (vcmailbox(7)): request bit 0 on, bit 1 wait for the
// supply to settle; reply bit 0 on, bit 1 the device does not exist.
const (
	powerOn       = 1 << 0
	powerWait     = 1 << 1
	powerNoDevice = 1 << 1
)

// Throttle is the firmware's throttling report (the Raspberry Pi documentation's
// vcgencmd get_throttled table): bits 0-3 now, bits 16-19 the same since boot.
type Throttle uint32

const (
	UnderVoltage  Throttle = 1 << 0
	FreqCapped    Throttle = 1 << 1
	Throttled     Throttle = 1 << 2
	SoftTempLimit Throttle = 1 << 3

	sinceBootShift = 16
)

// Now reports whether condition c (one of the low bits) holds now.
func (t Throttle) Now(c Throttle) bool { return t&c != 0 }

// SinceBoot reports whether condition c happened since boot (or since the
// sticky bits were last cleared).
func (t Throttle) SinceBoot(c Throttle) bool { return t&(c<<sinceBootShift) != 0 }

var throttleNames = []struct {
	bit  Throttle
	name string
}{{UnderVoltage, "under-voltage"}, {FreqCapped, "ARM frequency capped"}, {Throttled, "throttled"}, {SoftTempLimit, "soft temperature limit"}}

func (t Throttle) String() string {
	var now, past []string
	for _, n := range throttleNames {
		if t.Now(n.bit) {
			now = append(now, n.name)
		} else if t.SinceBoot(n.bit) {
			past = append(past, n.name)
		}
	}
	switch {
	case len(now) == 0 && len(past) == 0:
		return "not throttled"
	case len(past) == 0:
		return "now: " + strings.Join(now, ", ")
	case len(now) == 0:
		return "earlier: " + strings.Join(past, ", ")
	}
	return "now: " + strings.Join(now, ", ") + "; earlier: " + strings.Join(past, ", ")
}

// PCIAddress is how the xHCI-reset tag names a PCI function: bus<<20 |
// slot<<15 | function<<12 (Linux reset-raspberrypi.c: rpi_reset_reset, U-Boot
// msg.c: bcm2711_notify_vl805_reset).
func PCIAddress(bus, slot, function uint32) uint32 {
	return bus<<20 | slot<<15 | function<<12
}

// VL805 is the Pi 4's USB 3 controller: bus 1, slot 0, function 0.
var VL805 = PCIAddress(1, 0, 0)
