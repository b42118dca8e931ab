// Package fdt reads the few things the kernel needs from a flattened device tree
// (the DTB that QEMU and the Pi firmware pass): the RAM ranges of /memory nodes and
// the size of the blob. It works on a byte slice, allocates nothing, and rejects
// malformed input (it is fuzzed).
//
// Format: Devicetree Specification v0.4, chapter 5 (header, structure block tokens).
package fdt

import "encoding/binary"

const (
	magic        = 0xd00dfeed
	tokBeginNode = 1
	tokEndNode   = 2
	tokProp      = 3
	tokNop       = 4
	tokEnd       = 9
	maxDepth     = 16
)

// Range is one reg entry.
type Range struct{ Base, Size uint64 }

// TotalSize returns the blob size from a header, or 0 if hdr is not a DTB header.
func TotalSize(hdr []byte) uint32 {
	if len(hdr) < 40 || binary.BigEndian.Uint32(hdr) != magic {
		return 0
	}
	return binary.BigEndian.Uint32(hdr[4:])
}

// Memory fills out with the reg ranges of top-level nodes named "memory" or
// "memory@..." (device_type "memory"), honouring the root's #address-cells and
// #size-cells. It returns how many it found; ok is false for a malformed blob.
func Memory(blob []byte, out []Range) (n int, ok bool) {
	if TotalSize(blob) == 0 || int(TotalSize(blob)) > len(blob) {
		return 0, false
	}
	blob = blob[:TotalSize(blob)]
	be := binary.BigEndian
	offStruct, offStrings := be.Uint32(blob[8:]), be.Uint32(blob[12:])
	sizeStrings, sizeStruct := be.Uint32(blob[32:]), be.Uint32(blob[36:])
	if uint64(offStruct)+uint64(sizeStruct) > uint64(len(blob)) || uint64(offStrings)+uint64(sizeStrings) > uint64(len(blob)) {
		return 0, false
	}
	st := blob[offStruct : offStruct+sizeStruct]
	strs := blob[offStrings : offStrings+sizeStrings]

	addrCells, sizeCells := uint32(2), uint32(1) // spec defaults
	depth := 0
	inMemory := false
	for p := 0; p+4 <= len(st); {
		tok := be.Uint32(st[p:])
		p += 4
		switch tok {
		case tokBeginNode:
			end := p
			for end < len(st) && st[end] != 0 {
				end++
			}
			if end >= len(st) {
				return n, false
			}
			name := st[p:end]
			p = (end + 1 + 3) &^ 3
			depth++
			if depth > maxDepth {
				return n, false
			}
			inMemory = depth == 2 && isMemoryName(name)
		case tokEndNode:
			if depth == 0 {
				return n, false
			}
			depth--
			inMemory = false
		case tokProp:
			if p+8 > len(st) {
				return n, false
			}
			length, nameOff := be.Uint32(st[p:]), be.Uint32(st[p+4:])
			p += 8
			if uint64(p)+uint64(length) > uint64(len(st)) || nameOff >= uint32(len(strs)) {
				return n, false
			}
			val := st[p : p+int(length)]
			p = (p + int(length) + 3) &^ 3
			pname := cstring(strs[nameOff:])
			switch {
			case depth == 1 && equal(pname, "#address-cells") && len(val) == 4:
				addrCells = be.Uint32(val)
			case depth == 1 && equal(pname, "#size-cells") && len(val) == 4:
				sizeCells = be.Uint32(val)
			case inMemory && equal(pname, "reg"):
				if addrCells == 0 || addrCells > 2 || sizeCells > 2 {
					return n, false
				}
				entry := int(addrCells+sizeCells) * 4
				for i := 0; i+entry <= len(val) && n < len(out); i += entry {
					out[n] = Range{cells(val[i:], addrCells), cells(val[i+int(addrCells)*4:], sizeCells)}
					n++
				}
			}
		case tokNop:
		case tokEnd:
			return n, depth == 0
		default:
			return n, false
		}
	}
	return n, false
}

func isMemoryName(name []byte) bool {
	const m = "memory"
	if len(name) < len(m) || !equal(name[:len(m)], m) {
		return false
	}
	return len(name) == len(m) || name[len(m)] == '@'
}

// cstring returns b up to its NUL. (No string conversions here: the kernel calls
// this package where allocation is impossible.)
func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}

func equal(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if b[i] != s[i] {
			return false
		}
	}
	return true
}

func cells(b []byte, n uint32) uint64 {
	v := uint64(0)
	for i := uint32(0); i < n; i++ {
		v = v<<32 | uint64(binary.BigEndian.Uint32(b[i*4:]))
	}
	return v
}
