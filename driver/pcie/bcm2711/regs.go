package bcm2711

// Root-complex registers, as offsets from the block at ARM physical 0xFD50_0000
// (Linux pcie-brcmstb.c's defines, U-Boot pcie_brcmstb.c and
// Circle bcmpciehostbridge.cpp). Names follow the Linux driver.
const (
	// The root port's own configuration space (type-1 header and capabilities).
	capRegs            = 0x00AC // PCI Express capability
	capLinkCap         = capRegs + 0x0C
	capLinkControl     = capRegs + 0x10 // LNKCTL 15:0, LNKSTA 31:16
	capLinkControl2    = capRegs + 0x30
	vendorSpecificReg1 = 0x0188 // ENDIAN_MODE_BAR2 bits 3:2
	priv1IDVal3        = 0x043C // CLASS_CODE bits 23:0
	priv1LinkCap       = 0x04DC // ASPM_SUPPORT bits 11:10

	miscCtrl            = 0x4008
	miscWin0Lo          = 0x400C
	miscWin0Hi          = 0x4010
	miscRCBar1Lo        = 0x402C
	miscRCBar2Lo        = 0x4034
	miscRCBar2Hi        = 0x4038
	miscRCBar3Lo        = 0x403C
	miscPCIeStatus      = 0x4068
	miscRevision        = 0x406C
	miscWin0BaseLimit   = 0x4070
	miscWin0BaseHi      = 0x4080
	miscWin0LimitHi     = 0x4084
	miscHardDebug       = 0x4204
	msiIntr2Clear       = 0x4508
	msiIntr2MaskSet     = 0x4510
	extCfgData          = 0x8000 // 4 KiB window onto the function EXT_CFG_INDEX selects
	extCfgIndex         = 0x9000
	rgr1SWInit1         = 0x9210
	rgr1SWInit1Perst    = 1 << 0 // PERST# asserted
	rgr1SWInit1Init     = 1 << 1 // bridge held in reset
	hardDebugSerdesIDDQ = 1 << 27

	ctrlSCBAccessEn   = 1 << 12
	ctrlCfgReadURMode = 1 << 13 // absent functions read as all-ones instead of faulting
	ctrlMaxBurstMask  = 3 << 20 // 0 = 128 bytes, the only value the BCM2711 takes
	ctrlSCB0SizeShift = 27
	ctrlSCB0SizeMask  = 0x1F << ctrlSCB0SizeShift

	statusPhyLinkUp = 1 << 4
	statusDLActive  = 1 << 5
	statusRCMode    = 1 << 7

	endianModeBar2Mask = 3 << 2
	aspmSupportMask    = 3 << 10
	classPCIBridge     = 0x060400
)

// VL805 facts: its PCI ids (Linux xhci-pci.c PCI_DEVICE_ID_VIA_VL805) and the
// firmware version register (rpi_firmware_init_vl805's
// VL805_PCI_CONFIG_VERSION_OFFSET).
const (
	vl805Vendor          = 0x1106
	vl805Device          = 0x3483
	vl805FirmwareVersion = 0x50 // config register holding the running firmware's version; 0 = none
	classXHCI            = 0x0C0330
)
