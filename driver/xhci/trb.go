package xhci

import (
	"encoding/binary"
	"fmt"
)

// TRB is a transfer request block (§4.11, §6.4): a 64-bit parameter, a status
// word and a control word whose bit 0 is the cycle bit.
type TRB struct {
	Param   uint64
	Status  uint32
	Control uint32
}

// TRB types (§6.4.6, table 6-91).
const (
	trbNormal         = 1
	trbSetup          = 2
	trbData           = 3
	trbStatus         = 4
	trbLink           = 6
	trbNoop           = 8
	trbEnableSlot     = 9
	trbDisableSlot    = 10
	trbAddressDevice  = 11
	trbConfigureEP    = 12
	trbEvaluateCtx    = 13
	trbResetEP        = 14
	trbStopEP         = 15
	trbSetTRDequeue   = 16
	trbResetDevice    = 17
	trbNoopCmd        = 23
	trbTransferEvent  = 32
	trbCommandEvent   = 33
	trbPortStatusEv   = 34
	trbHostCtrlEvent  = 37
	trbTypeShift      = 10
	trbCycle          = 1 << 0
	trbToggleCycle    = 1 << 1 // Link TRB: TC
	trbISP            = 1 << 2 // interrupt on short packet
	trbChain          = 1 << 4
	trbIOC            = 1 << 5
	trbIDT            = 1 << 6 // immediate data
	trbBSR            = 1 << 9 // Address Device: block SET_ADDRESS
	trbDeconfigure    = 1 << 9 // Configure Endpoint: DC
	trbDirIn          = 1 << 16
	trbTRTShift       = 16 // Setup TRB transfer type 17:16
	trtNoData         = 0
	trtOut            = 2
	trtIn             = 3
	trbTDSizeShift    = 17
	trbMaxTDSize      = 31
	trbMaxLength      = 1 << 16 // bytes a TRB may carry, and the boundary it may not cross
	trbSlotShift      = 24
	trbEndpointShift  = 16
	trbLengthMask     = 0x1FFFF
	eventLengthMask   = 0xFFFFFF
	completionShift   = 24
	trbSize           = 16
	trbControlOffset  = 12
	trbTypeMask       = 0x3F
	trbCompletionMask = 0xFF
)

// Completion codes (§6.4.5, table 6-90).
const (
	ccSuccess         = 1
	ccDataBuffer      = 2
	ccBabble          = 3
	ccTransaction     = 4
	ccTRB             = 5
	ccStall           = 6
	ccResource        = 7
	ccBandwidth       = 8
	ccNoSlots         = 9
	ccSlotNotEnabled  = 11
	ccEPNotEnabled    = 12
	ccShortPacket     = 13
	ccParameter       = 17
	ccContextState    = 19
	ccCmdRingStopped  = 24
	ccCmdAborted      = 25
	ccStopped         = 26
	ccStoppedLenInval = 27
	ccSplit           = 36
)

var completionNames = map[uint8]string{
	ccSuccess: "success", ccDataBuffer: "data buffer error", ccBabble: "babble detected",
	ccTransaction: "USB transaction error", ccTRB: "TRB error", ccStall: "stall",
	ccResource: "resource error", ccBandwidth: "bandwidth error", ccNoSlots: "no slots available",
	ccSlotNotEnabled: "slot not enabled", ccEPNotEnabled: "endpoint not enabled",
	ccShortPacket: "short packet", ccParameter: "parameter error", ccContextState: "context state error",
	ccCmdRingStopped: "command ring stopped", ccCmdAborted: "command aborted", ccStopped: "stopped",
	ccStoppedLenInval: "stopped, length invalid", ccSplit: "split transaction error",
}

func completionName(cc uint8) string {
	if n, ok := completionNames[cc]; ok {
		return fmt.Sprintf("%s (%d)", n, cc)
	}
	return fmt.Sprintf("completion code %d", cc)
}

// Type is the TRB type field.
func (t TRB) Type() int { return int(t.Control>>trbTypeShift) & trbTypeMask }

// Completion is an event's completion code.
func (t TRB) Completion() uint8 { return uint8(t.Status >> completionShift) }

// Residual is a transfer event's count of bytes not transferred.
func (t TRB) Residual() int { return int(t.Status & eventLengthMask) }

// Slot is the slot ID of an event or command.
func (t TRB) Slot() int { return int(t.Control >> trbSlotShift) }

// Endpoint is the endpoint ID (DCI) of a transfer event or endpoint command.
func (t TRB) Endpoint() int { return int(t.Control>>trbEndpointShift) & 0x1F }

// Port is the port ID of a port status change event.
func (t TRB) Port() int { return int(t.Param>>24) & 0xFF }

func (t TRB) String() string {
	return fmt.Sprintf("TRB type %d param %#x status %#08x control %#08x", t.Type(), t.Param, t.Status, t.Control)
}

// encode writes the TRB's first three words; the control word goes last through
// publish so the controller never sees a half-written TRB with a valid cycle bit.
func (t TRB) encode(b []byte) {
	binary.LittleEndian.PutUint64(b[0:], t.Param)
	binary.LittleEndian.PutUint32(b[8:], t.Status)
}

// decodeTRB reads a TRB (used for events, after the cycle bit was seen).
func decodeTRB(b []byte) TRB {
	return TRB{
		Param:   binary.LittleEndian.Uint64(b[0:]),
		Status:  binary.LittleEndian.Uint32(b[8:]),
		Control: binary.LittleEndian.Uint32(b[12:]),
	}
}

func typeBits(t int) uint32 { return uint32(t) << trbTypeShift }

// normalTRB is a Normal TRB (§6.4.1.1) for one piece of a bulk transfer.
func normalTRB(bus uint64, length, tdSize int, flags uint32) TRB {
	return TRB{Param: bus, Status: uint32(length) | uint32(tdSize)<<trbTDSizeShift, Control: typeBits(trbNormal) | flags}
}

// setupTRB is a Setup Stage TRB (§6.4.1.2.1) carrying the 8-byte packet as
// immediate data.
func setupTRB(setup [8]byte, dataLen int, in bool) TRB {
	trt := uint32(trtNoData)
	if dataLen > 0 {
		trt = trtOut
		if in {
			trt = trtIn
		}
	}
	return TRB{Param: binary.LittleEndian.Uint64(setup[:]), Status: 8,
		Control: typeBits(trbSetup) | trbIDT | trt<<trbTRTShift}
}

// dataTRB is a Data Stage TRB (§6.4.1.2.2).
func dataTRB(bus uint64, length int, in bool) TRB {
	c := typeBits(trbData)
	if in {
		c |= trbDirIn | trbISP
	}
	return TRB{Param: bus, Status: uint32(length), Control: c}
}

// statusTRB is a Status Stage TRB (§6.4.1.2.3): its direction is IN unless the
// data stage was IN (USB 2.0 §8.5.3).
func statusTRB(dataIn bool, hasData bool) TRB {
	c := typeBits(trbStatus) | trbIOC
	if !hasData || !dataIn {
		c |= trbDirIn
	}
	return TRB{Control: c}
}

// linkTRB points back to the start of the segment and toggles the cycle state.
func linkTRB(target uint64) TRB {
	return TRB{Param: target, Control: typeBits(trbLink) | trbToggleCycle}
}

func slotBits(slot int) uint32 { return uint32(slot) << trbSlotShift }
func epBits(dci int) uint32    { return uint32(dci) << trbEndpointShift }

func enableSlotTRB() TRB { return TRB{Control: typeBits(trbEnableSlot)} }
func disableSlotTRB(slot int) TRB {
	return TRB{Control: typeBits(trbDisableSlot) | slotBits(slot)}
}
func addressDeviceTRB(input uint64, slot int) TRB {
	return TRB{Param: input, Control: typeBits(trbAddressDevice) | slotBits(slot)}
}
func configureEndpointTRB(input uint64, slot int) TRB {
	return TRB{Param: input, Control: typeBits(trbConfigureEP) | slotBits(slot)}
}
func evaluateContextTRB(input uint64, slot int) TRB {
	return TRB{Param: input, Control: typeBits(trbEvaluateCtx) | slotBits(slot)}
}
func resetEndpointTRB(slot, dci int) TRB {
	return TRB{Control: typeBits(trbResetEP) | slotBits(slot) | epBits(dci)}
}
func stopEndpointTRB(slot, dci int) TRB {
	return TRB{Control: typeBits(trbStopEP) | slotBits(slot) | epBits(dci)}
}

// setTRDequeueTRB moves an endpoint's dequeue pointer; dcs is the cycle state
// the controller must expect there (bit 0 of the pointer field).
func setTRDequeueTRB(slot, dci int, ptr uint64, dcs uint32) TRB {
	return TRB{Param: ptr | uint64(dcs&1), Control: typeBits(trbSetTRDequeue) | slotBits(slot) | epBits(dci)}
}

// tdSize is the TD Size field of a TRB (§4.11.2.4): for xHCI 1.0 and later, the
// number of max-size packets still to come after this TRB, capped at 31, and 0 in
// the last TRB; for 0.96 controllers, the bytes still to come after this TRB in
// units of 1 KiB.
func tdSize(version uint16, total, doneInclThis, maxPacket int, last bool) int {
	if last {
		return 0
	}
	var n int
	if version >= 0x100 {
		packets := (total + maxPacket - 1) / maxPacket
		n = packets - doneInclThis/maxPacket
	} else {
		n = (total - doneInclThis) >> 10
	}
	if n > trbMaxTDSize {
		n = trbMaxTDSize
	}
	if n < 0 {
		n = 0
	}
	return n
}
