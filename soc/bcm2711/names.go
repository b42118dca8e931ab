package bcm2711

import "strconv"

// Names of the property interface's ids, for the Go side's messages (not for
// kernel context: a number without a name is formatted).

var clockNames = [...]string{"", "EMMC", "UART", "ARM", "CORE", "V3D", "H264", "ISP", "SDRAM", "PIXEL", "PWM", "HEVC", "EMMC2", "M2MC", "PIXEL_BVB"}

func (c Clock) String() string {
	if int(c) < len(clockNames) && clockNames[c] != "" {
		return clockNames[c]
	}
	return "clock " + strconv.FormatUint(uint64(c), 10)
}

var deviceNames = [...]string{"SD card", "UART0", "UART1", "USB HCD", "I2C0", "I2C1", "I2C2", "SPI", "CCP2TX"}

func (d Device) String() string {
	if int(d) < len(deviceNames) {
		return deviceNames[d]
	}
	return "device " + strconv.FormatUint(uint64(d), 10)
}

// TagName names a tag.
func TagName(id uint32) string {
	switch id {
	case TagFirmwareRevision:
		return "firmware revision"
	case TagBoardRevision:
		return "board revision"
	case TagARMMemory:
		return "ARM memory"
	case TagVCMemory:
		return "VideoCore memory"
	case TagPowerState:
		return "power state"
	case TagSetPowerState:
		return "set power state"
	case TagClockRate:
		return "clock rate"
	case TagMaxClockRate:
		return "max clock rate"
	case TagTemperature:
		return "temperature"
	case TagMinClockRate:
		return "min clock rate"
	case TagMaxTemperature:
		return "max temperature"
	case TagThrottled:
		return "throttled"
	case TagClockMeasured:
		return "measured clock rate"
	case TagNotifyXHCIReset:
		return "notify xHCI reset"
	case TagSetClockRate:
		return "set clock rate"
	case TagSetGPIOState:
		return "set GPIO state"
	}
	return "unknown tag"
}
