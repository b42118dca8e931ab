package safetensors

import "github.com/inferpi/inferpi/engine/kernels"

// DType is a safetensors element type.
type DType uint8

// The element types of the safetensors format (safetensors' Dtype enum). Only
// BF16, F16 and F32 can be read as floats; the others are known so that a
// file holding them opens and the refusal can name the type.
const (
	BOOL DType = iota + 1
	U8
	I8
	F8_E5M2
	F8_E4M3
	I16
	U16
	F16
	BF16
	I32
	U32
	F32
	F64
	I64
	U64
)

var dtypes = [...]struct {
	name string
	size int
}{
	BOOL: {"BOOL", 1}, U8: {"U8", 1}, I8: {"I8", 1},
	F8_E5M2: {"F8_E5M2", 1}, F8_E4M3: {"F8_E4M3", 1},
	I16: {"I16", 2}, U16: {"U16", 2}, F16: {"F16", 2}, BF16: {"BF16", 2},
	I32: {"I32", 4}, U32: {"U32", 4}, F32: {"F32", 4},
	F64: {"F64", 8}, I64: {"I64", 8}, U64: {"U64", 8},
}

func (d DType) String() string {
	if d > 0 && int(d) < len(dtypes) {
		return dtypes[d].name
	}
	return "dtype(?)"
}

// Size is the element size in bytes.
func (d DType) Size() int { return dtypes[d].size }

// Readable reports whether ReadFloat32s converts the type: BF16 and F16 widen
// exactly, F32 is taken as it is.
func (d DType) Readable() bool { return d == BF16 || d == F16 || d == F32 }

func parseDType(s string) (DType, bool) {
	for d := range dtypes {
		if d > 0 && dtypes[d].name == s {
			return DType(d), true
		}
	}
	return 0, false
}

// encoding is the kernels' encoding of a readable type, whose DecodeRow widens
// its little-endian elements.
func (d DType) encoding() kernels.Encoding {
	switch d {
	case F32:
		return kernels.F32
	case F16:
		return kernels.F16
	case BF16:
		return kernels.BF16
	}
	panic("safetensors: no float encoding for " + d.String())
}
