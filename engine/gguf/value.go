package gguf

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// valueType is a GGUF metadata value type (gguf.h enum gguf_type).
type valueType uint32

const (
	typeUint8   valueType = 0
	typeInt8    valueType = 1
	typeUint16  valueType = 2
	typeInt16   valueType = 3
	typeUint32  valueType = 4
	typeInt32   valueType = 5
	typeFloat32 valueType = 6
	typeBool    valueType = 7
	typeString  valueType = 8
	typeArray   valueType = 9
	typeUint64  valueType = 10
	typeInt64   valueType = 11
	typeFloat64 valueType = 12
)

// valueTypes holds each value type's name (as gguf.cpp's GGUF_TYPE_NAME) and its
// size in bytes; a string's size is its length prefix, the least it takes.
var valueTypes = [...]struct {
	name string
	size int
}{
	typeUint8:   {"u8", 1},
	typeInt8:    {"i8", 1},
	typeUint16:  {"u16", 2},
	typeInt16:   {"i16", 2},
	typeUint32:  {"u32", 4},
	typeInt32:   {"i32", 4},
	typeFloat32: {"f32", 4},
	typeBool:    {"bool", 1},
	typeString:  {"str", 8},
	typeArray:   {"arr", 0},
	typeUint64:  {"u64", 8},
	typeInt64:   {"i64", 8},
	typeFloat64: {"f64", 8},
}

func (v valueType) String() string {
	if int(v) < len(valueTypes) {
		return valueTypes[v].name
	}
	return "value type " + strconv.FormatUint(uint64(v), 10)
}

// size returns the bytes one value of v takes (at least, for a string); 0 for an
// array or an unknown type.
func (v valueType) size() int {
	if int(v) < len(valueTypes) {
		return valueTypes[v].size
	}
	return 0
}

// typeOf returns the GGUF value type of a KV.Value and whether it is an array.
func typeOf(value any) (t valueType, array bool, err error) {
	switch value.(type) {
	case uint8:
		return typeUint8, false, nil
	case int8:
		return typeInt8, false, nil
	case uint16:
		return typeUint16, false, nil
	case int16:
		return typeInt16, false, nil
	case uint32:
		return typeUint32, false, nil
	case int32:
		return typeInt32, false, nil
	case float32:
		return typeFloat32, false, nil
	case bool:
		return typeBool, false, nil
	case string:
		return typeString, false, nil
	case uint64:
		return typeUint64, false, nil
	case int64:
		return typeInt64, false, nil
	case float64:
		return typeFloat64, false, nil
	case []uint8:
		return typeUint8, true, nil
	case []int8:
		return typeInt8, true, nil
	case []uint16:
		return typeUint16, true, nil
	case []int16:
		return typeInt16, true, nil
	case []uint32:
		return typeUint32, true, nil
	case []int32:
		return typeInt32, true, nil
	case []float32:
		return typeFloat32, true, nil
	case []bool:
		return typeBool, true, nil
	case []string:
		return typeString, true, nil
	case []uint64:
		return typeUint64, true, nil
	case []int64:
		return typeInt64, true, nil
	case []float64:
		return typeFloat64, true, nil
	}
	return 0, false, fmt.Errorf("a GGUF value cannot be a %T", value)
}

// describe names a value's type for messages: "u32", "array of str".
func describe(value any) string {
	t, array, err := typeOf(value)
	switch {
	case err != nil:
		return fmt.Sprintf("%T", value)
	case array:
		return "array of " + t.String()
	}
	return t.String()
}

// scalar decodes one value of the fixed-size type t from b.
func scalar(t valueType, b []byte) any {
	le := binary.LittleEndian
	switch t {
	case typeUint8:
		return b[0]
	case typeInt8:
		return int8(b[0])
	case typeUint16:
		return le.Uint16(b)
	case typeInt16:
		return int16(le.Uint16(b))
	case typeUint32:
		return le.Uint32(b)
	case typeInt32:
		return int32(le.Uint32(b))
	case typeFloat32:
		return math.Float32frombits(le.Uint32(b))
	case typeBool:
		return b[0] != 0
	case typeUint64:
		return le.Uint64(b)
	case typeInt64:
		return int64(le.Uint64(b))
	case typeFloat64:
		return math.Float64frombits(le.Uint64(b))
	}
	panic("gguf: scalar of type " + t.String())
}
