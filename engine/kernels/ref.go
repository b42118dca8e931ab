package kernels

import (
	"encoding/binary"
	"math"
)

// The pure-Go reference kernels. They define the results that every faster
// kernel is tested against.

func matVecRows(out []float32, m Matrix, x []float32, lo, hi int) {
	rb := m.Enc.RowBytes(m.Cols)
	for i := lo; i < hi; i++ {
		out[i] = dotRow(m.Enc, m.Data[i*rb:(i+1)*rb], x)
	}
}

func dotRow(enc Encoding, row []byte, x []float32) float32 {
	var s float32
	switch enc {
	case F32:
		for j := range x {
			s += math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:])) * x[j]
		}
	case F16:
		for j := range x {
			s += F16ToF32(binary.LittleEndian.Uint16(row[2*j:])) * x[j]
		}
	default:
		panic("kernels: unknown encoding " + enc.String())
	}
	return s
}

func decodeRow(enc Encoding, row []byte, dst []float32) {
	switch enc {
	case F32:
		for j := range dst {
			dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:]))
		}
	case F16:
		for j := range dst {
			dst[j] = F16ToF32(binary.LittleEndian.Uint16(row[2*j:]))
		}
	default:
		panic("kernels: unknown encoding " + enc.String())
	}
}
