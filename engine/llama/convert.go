package llama

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// ConvertFP16 turns an fp32 llama2.c model.bin into InferPi's fp16 format: the
// same 28-byte header, then every float of the fp32 layout (freq_cis tables
// included) rounded to IEEE binary16, nearest-even, little-endian.
func ConvertFP16(src []byte) ([]byte, error) {
	cfg, err := ParseConfig(src)
	if err != nil {
		return nil, err
	}
	enc, err := EncodingOf(cfg, int64(len(src)))
	if err != nil {
		return nil, err
	}
	if enc != kernels.F32 {
		return nil, fmt.Errorf("model.bin: weights are already %v; conversion needs an fp32 file", enc)
	}
	n := int(cfg.Floats())
	dst := make([]byte, HeaderSize+2*n)
	copy(dst, src[:HeaderSize])
	for i := 0; i < n; i++ {
		f := math.Float32frombits(binary.LittleEndian.Uint32(src[HeaderSize+4*i:]))
		binary.LittleEndian.PutUint16(dst[HeaderSize+2*i:], kernels.F32ToF16(f))
	}
	return dst, nil
}
