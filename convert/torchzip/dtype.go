package torchzip

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// DType is a tensor element type.
type DType uint8

const (
	Unknown DType = iota // an untyped storage before a tensor gives it a type
	Float32
	Float64
	Float16
	BFloat16
	Int64
	Int32
	Int16
	Int8
	Uint8
	Bool
)

var dtypeInfo = [...]struct {
	name    string
	size    int
	storage string // torch's legacy typed storage class
	torch   string // torch's dtype attribute (torch.float32)
}{
	Unknown:  {"unknown", 1, "UntypedStorage", ""},
	Float32:  {"float32", 4, "FloatStorage", "float32"},
	Float64:  {"float64", 8, "DoubleStorage", "float64"},
	Float16:  {"float16", 2, "HalfStorage", "float16"},
	BFloat16: {"bfloat16", 2, "BFloat16Storage", "bfloat16"},
	Int64:    {"int64", 8, "LongStorage", "int64"},
	Int32:    {"int32", 4, "IntStorage", "int32"},
	Int16:    {"int16", 2, "ShortStorage", "int16"},
	Int8:     {"int8", 1, "CharStorage", "int8"},
	Uint8:    {"uint8", 1, "ByteStorage", "uint8"},
	Bool:     {"bool", 1, "BoolStorage", "bool"},
}

func (d DType) String() string {
	if int(d) < len(dtypeInfo) {
		return dtypeInfo[d].name
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size is the element size in bytes.
func (d DType) Size() int { return dtypeInfo[d].size }

// IsFloat reports whether Float32s can convert the type.
func (d DType) IsFloat() bool {
	return d == Float32 || d == Float64 || d == Float16 || d == BFloat16
}

func storageDType(name string) (DType, bool) {
	for d, info := range dtypeInfo {
		if info.storage == name {
			return DType(d), true
		}
	}
	return 0, false
}

func torchDType(name string) (DType, bool) {
	for d, info := range dtypeInfo {
		if info.torch != "" && info.torch == name {
			return DType(d), true
		}
	}
	// torch also spells some types by their C names.
	switch name {
	case "float":
		return Float32, true
	case "double":
		return Float64, true
	case "half":
		return Float16, true
	case "long":
		return Int64, true
	case "int":
		return Int32, true
	case "short":
		return Int16, true
	}
	return 0, false
}

// decodeFloats widens little-endian elements of type d into dst.
func decodeFloats(d DType, src []byte, dst []float32) {
	switch d {
	case Float32:
		kernels.DecodeRow(kernels.F32, src, dst)
	case Float64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:])))
		}
	case Float16:
		kernels.DecodeRow(kernels.F16, src, dst)
	case BFloat16:
		kernels.DecodeRow(kernels.BF16, src, dst)
	default:
		panic("torchzip: decodeFloats on " + d.String())
	}
}
