package usbfake

import (
	"encoding/binary"

	"github.com/inferpi/inferpi/driver/usb"
)

// Endpoints of the mass-storage model.
const (
	MSCBulkIn  uint8 = 0x81
	MSCBulkOut uint8 = 0x02
)

// Fault is a misbehaviour the mass-storage model shows on one command.
type Fault int

const (
	FaultNone         Fault = iota
	FaultStallData          // stall the data-IN stage and report the command failed
	FaultPhaseError         // CSW status 2 (phase error)
	FaultBadTag             // CSW echoes the wrong tag
	FaultBadSignature       // CSW signature is not "USBS"
	FaultHang               // never answer the data stage (until a reset)
	FaultUnplug             // send half the data, then disappear
	FaultShortCSW           // the CSW is 12 bytes long
)

// Command is one SCSI command the model received.
type Command struct {
	Tag    uint32
	Op     byte
	LBA    uint64
	Blocks uint32
	Length uint32 // dCBWDataTransferLength
	Fault  Fault
}

// MassStorage is a bulk-only-transport SCSI disk.
type MassStorage struct {
	Base
	Image     []byte // disk contents; sectors past its end read as zeros
	BlockSize int
	Blocks    uint64 // capacity in sectors (default len(Image)/BlockSize)

	// MaxTransfer is the largest READ in bytes the device accepts; larger ones fail
	// with ILLEGAL REQUEST and a stalled data stage. 0 means no limit.
	MaxTransfer int
	// NotReady is how many TEST UNIT READY commands report NOT READY (becoming
	// ready) before the medium is ready.
	NotReady int
	// UnitAttention makes the first TEST UNIT READY report UNIT ATTENTION
	// (power on / reset occurred), as real sticks do.
	UnitAttention bool
	// StallGetMaxLUN makes GET MAX LUN stall, as many sticks do.
	StallGetMaxLUN bool
	// Inject, when set, picks a fault for each command (called once per CBW).
	Inject func(c Command) Fault

	Commands []Command // every command received, in order
	Resets   int       // Bulk-Only Mass Storage Resets received

	state   botState
	cbw     cbwInfo
	data    []byte // data-IN stage still to send
	sent    int
	status  byte
	residue uint32
	fault   Fault
	sense   [3]byte // key, ASC, ASCQ
}

type botState int

const (
	botIdle       botState = iota // waiting for a CBW
	botDataIn                     // sending data
	botStatus                     // CSW next
	botNeedsReset                 // invalid CBW seen: stall until reset recovery
	botHung
)

type cbwInfo struct {
	tag    uint32
	length uint32
	in     bool
}

// NewMassStorage returns a disk model with the given contents at a speed.
func NewMassStorage(speed usb.Speed, image []byte, blockSize int) *MassStorage {
	m := &MassStorage{Image: image, BlockSize: blockSize}
	m.speed = speed
	m.devDesc = deviceDescriptor(speed, 0, 0, 0x46f4, 0x0001, 64)
	mps := bulkPacket(speed)
	cfg := []byte{9, usb.DescConfiguration, 0, 0, 1, 1, 0, 0x80, 50,
		9, usb.DescInterface, 0, 0, 2, usb.ClassMassStorage, 0x06, 0x50, 0,
		7, usb.DescEndpoint, MSCBulkIn, 2, byte(mps), byte(mps >> 8), 0}
	if speed >= usb.SpeedSuper {
		cfg = append(cfg, 6, usb.DescSuperSpeedEPCompanion, 15, 0, 0, 0)
	}
	cfg = append(cfg, 7, usb.DescEndpoint, MSCBulkOut, 2, byte(mps), byte(mps>>8), 0)
	if speed >= usb.SpeedSuper {
		cfg = append(cfg, 6, usb.DescSuperSpeedEPCompanion, 15, 0, 0, 0)
	}
	binary.LittleEndian.PutUint16(cfg[2:], uint16(len(cfg)))
	m.cfgDesc = cfg
	m.strs = []string{"QEMU", "QEMU USB HARDDRIVE", "1-0000:00:02.0-5"}
	return m
}

func (m *MassStorage) capacity() uint64 {
	if m.Blocks != 0 {
		return m.Blocks
	}
	return uint64(len(m.Image) / m.BlockSize)
}

// Control handles standard requests plus the two BOT class requests.
func (m *MassStorage) Control(s usb.Setup, out []byte) ([]byte, error) {
	if m.gone {
		return nil, ErrGone
	}
	if in, ok, err := m.standard(s, out); ok {
		return in, err
	}
	switch {
	case s.RequestType == 0x21 && s.Request == 0xFF: // Bulk-Only Mass Storage Reset (BOT §3.1)
		m.Resets++
		m.state = botIdle
		return nil, nil
	case s.RequestType == 0xA1 && s.Request == 0xFE: // Get Max LUN (BOT §3.2)
		if m.StallGetMaxLUN {
			return nil, usb.ErrStall
		}
		return clip([]byte{0}, s.Length), nil
	}
	return nil, usb.ErrStall
}

// BulkOut takes a CBW.
func (m *MassStorage) BulkOut(ep uint8, data []byte) error {
	if m.gone {
		return ErrGone
	}
	if ep != MSCBulkOut {
		return usb.ErrStall
	}
	if m.halted[ep] {
		return usb.ErrStall
	}
	if m.state == botHung {
		return ErrNoResponse
	}
	// A CBW is valid only when 31 bytes long with the signature and arrives when the
	// device waits for one (BOT §6.2.1); otherwise the device stalls both bulk
	// endpoints until a reset recovery (§6.6.1).
	if m.state != botIdle || len(data) != 31 || binary.LittleEndian.Uint32(data) != 0x43425355 {
		m.state = botNeedsReset
		m.Halt(MSCBulkIn)
		m.Halt(MSCBulkOut)
		return usb.ErrStall
	}
	m.cbw = cbwInfo{tag: binary.LittleEndian.Uint32(data[4:]), length: binary.LittleEndian.Uint32(data[8:]), in: data[12]&0x80 != 0}
	cdb := data[15 : 15+int(data[14]&0x1F)]
	cmd := Command{Tag: m.cbw.tag, Length: m.cbw.length}
	if len(cdb) > 0 {
		cmd.Op = cdb[0]
	}
	cmd.LBA, cmd.Blocks = readRange(cdb)
	if m.Inject != nil {
		cmd.Fault = m.Inject(cmd)
	}
	m.fault = cmd.Fault
	m.Commands = append(m.Commands, cmd)

	resp, ok := m.scsi(cdb)
	if m.fault == FaultStallData {
		ok, resp = false, nil
		m.sense = [3]byte{0x03, 0x11, 0x00} // MEDIUM ERROR, unrecovered read error
	}
	m.status = 0
	if !ok {
		m.status = 1
	}
	if m.fault == FaultPhaseError {
		m.status = 2
	}
	if !m.cbw.in || m.cbw.length == 0 {
		m.residue = m.cbw.length
		m.state = botStatus
		return nil
	}
	if m.fault == FaultHang {
		m.state = botHung
		return nil
	}
	if !ok {
		// The device has no data for the host: stall the IN endpoint; the host
		// clears it and reads the CSW (BOT §6.7.2, case Hi > Dn).
		m.residue = m.cbw.length
		m.Halt(MSCBulkIn)
		m.state = botStatus
		return nil
	}
	if uint32(len(resp)) > m.cbw.length {
		resp = resp[:m.cbw.length]
	}
	m.data, m.sent = resp, 0
	m.residue = m.cbw.length - uint32(len(resp))
	m.state = botDataIn
	return nil
}

// BulkIn sends data or the CSW.
func (m *MassStorage) BulkIn(ep uint8, max int) ([]byte, error) {
	if m.gone {
		return nil, ErrGone
	}
	if ep != MSCBulkIn {
		return nil, usb.ErrStall
	}
	if m.halted[ep] {
		return nil, usb.ErrStall
	}
	switch m.state {
	case botHung:
		return nil, ErrNoResponse
	case botDataIn:
		n := len(m.data) - m.sent
		if m.fault == FaultUnplug && m.sent+max > len(m.data)/2 {
			m.Unplug()
			return nil, ErrGone
		}
		if n > max {
			n = max
		}
		chunk := m.data[m.sent : m.sent+n]
		m.sent += n
		// The stage ends with the last byte the host asked for, or with a short
		// packet when the device has less than that.
		if m.sent == len(m.data) && (uint32(m.sent) == m.cbw.length || n < max) {
			m.state = botStatus
		} else if m.sent == len(m.data) && n == max {
			// The host wants more than there is, and this chunk ended on a full
			// transfer: the next IN gets a zero-length packet, which ends the stage.
			m.data = m.data[:m.sent]
			m.cbw.length = uint32(m.sent)
		}
		return append([]byte(nil), chunk...), nil
	case botStatus:
		csw := make([]byte, 13)
		binary.LittleEndian.PutUint32(csw, 0x53425355)
		tag := m.cbw.tag
		if m.fault == FaultBadTag {
			tag ^= 0xFFFF
		}
		if m.fault == FaultBadSignature {
			csw[0] = 'X'
		}
		binary.LittleEndian.PutUint32(csw[4:], tag)
		binary.LittleEndian.PutUint32(csw[8:], m.residue)
		csw[12] = m.status
		m.state = botIdle
		if m.fault == FaultShortCSW {
			csw = csw[:12]
		}
		if len(csw) > max {
			csw = csw[:max]
		}
		return csw, nil
	}
	// IN token with nothing to send at this point: the device stalls.
	m.Halt(MSCBulkIn)
	return nil, usb.ErrStall
}

// readRange extracts LBA and block count from READ(10)/(16) CDBs.
func readRange(cdb []byte) (uint64, uint32) {
	switch {
	case len(cdb) >= 10 && cdb[0] == 0x28:
		return uint64(binary.BigEndian.Uint32(cdb[2:])), uint32(binary.BigEndian.Uint16(cdb[7:]))
	case len(cdb) >= 16 && cdb[0] == 0x88:
		return binary.BigEndian.Uint64(cdb[2:]), binary.BigEndian.Uint32(cdb[10:])
	}
	return 0, 0
}

// scsi runs one command; ok false means CHECK CONDITION with m.sense set.
func (m *MassStorage) scsi(cdb []byte) ([]byte, bool) {
	fail := func(key, asc, ascq byte) ([]byte, bool) {
		m.sense = [3]byte{key, asc, ascq}
		return nil, false
	}
	if len(cdb) == 0 {
		return fail(0x05, 0x20, 0x00) // ILLEGAL REQUEST, invalid command operation code
	}
	switch cdb[0] {
	case 0x00: // TEST UNIT READY
		if m.UnitAttention {
			m.UnitAttention = false
			return fail(0x06, 0x29, 0x00) // UNIT ATTENTION, power on or reset occurred
		}
		if m.NotReady > 0 {
			m.NotReady--
			return fail(0x02, 0x04, 0x01) // NOT READY, becoming ready
		}
		return nil, true
	case 0x03: // REQUEST SENSE: fixed format (SPC-4 §4.5.3)
		s := make([]byte, 18)
		s[0] = 0x70
		s[2] = m.sense[0]
		s[7] = 10
		s[12], s[13] = m.sense[1], m.sense[2]
		m.sense = [3]byte{}
		return s, true
	case 0x12: // INQUIRY
		r := make([]byte, 36)
		r[0] = 0x00 // direct-access block device
		r[1] = 0x80 // removable
		r[2] = 0x05
		r[3] = 0x02
		r[4] = 31
		copy(r[8:16], "QEMU    ")
		copy(r[16:32], "QEMU HARDDISK   ")
		copy(r[32:36], "2.5+")
		return r, true
	case 0x25: // READ CAPACITY(10)
		r := make([]byte, 8)
		last := m.capacity() - 1
		if last > 0xFFFFFFFF {
			last = 0xFFFFFFFF
		}
		binary.BigEndian.PutUint32(r, uint32(last))
		binary.BigEndian.PutUint32(r[4:], uint32(m.BlockSize))
		return r, true
	case 0x9E: // SERVICE ACTION IN(16)
		if len(cdb) < 16 || cdb[1]&0x1F != 0x10 {
			return fail(0x05, 0x24, 0x00)
		}
		r := make([]byte, 32)
		binary.BigEndian.PutUint64(r, m.capacity()-1)
		binary.BigEndian.PutUint32(r[8:], uint32(m.BlockSize))
		return r, true
	case 0x28, 0x88: // READ(10), READ(16)
		lba, n := readRange(cdb)
		if n == 0 && cdb[0] == 0x28 && len(cdb) < 10 {
			return fail(0x05, 0x24, 0x00)
		}
		if lba > m.capacity() || uint64(n) > m.capacity()-lba {
			return fail(0x05, 0x21, 0x00) // LBA out of range
		}
		length := int(n) * m.BlockSize
		if m.MaxTransfer > 0 && length > m.MaxTransfer {
			return fail(0x05, 0x24, 0x00) // invalid field in CDB
		}
		if length > int(m.cbw.length) {
			// The command moves more than the host expects (BOT §6.7.2, case 7).
			m.fault = FaultPhaseError
		}
		out := make([]byte, length)
		start := lba * uint64(m.BlockSize)
		if start < uint64(len(m.Image)) {
			copy(out, m.Image[start:])
		}
		return out, true
	}
	return fail(0x05, 0x20, 0x00)
}
