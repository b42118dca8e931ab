package quantize

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/inferpi/inferpi/engine/gguf"
)

// File writes to w the GGUF file llama-quantize makes of src for target (no
// importance matrix): src's metadata with general.quantization_version 2 and
// general.file_type appended (llama.cpp's gguf_set_val_u32 moves a key it sets
// to the end), then the tensors in llama-quantize's order (Order), each in the
// type the rules give it (Types). data holds src's file from byte 0. Tensors
// must be F32, F16 or BF16: a file already quantized would add a second rounding
// to the first, which llama-quantize also refuses without --allow-requantize.
// Memory is bounded by one tensor.
func File(w io.Writer, src *gguf.File, data []byte, target FileType, opt Options) error {
	m, err := ModelOf(src)
	if err != nil {
		return err
	}
	tensors := make([]Tensor, len(src.Tensors))
	for i, t := range src.Tensors {
		switch t.Type {
		case gguf.F32, gguf.F16, gguf.BF16:
		default:
			return fmt.Errorf("%s: tensor %s is %v: only F32, F16 and BF16 tensors are quantized (quantizing again would add its rounding to the first)", src.Name, t.Name, t.Type)
		}
		tensors[i] = Tensor{Name: t.Name, Type: t.Type, Dims: t.Dims}
	}
	types, err := Types(target, m, tensors, opt)
	if err != nil {
		return err
	}
	out := gguf.NewWriter(w)
	for _, kv := range src.KVs {
		if kv.Key == gguf.FileTypeKey || kv.Key == "general.quantization_version" {
			continue
		}
		if err := out.AddKV(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	if err := out.AddKV("general.quantization_version", uint32(2)); err != nil {
		return err
	}
	if err := out.AddKV(gguf.FileTypeKey, uint32(target)); err != nil {
		return err
	}
	order := Order(tensors)
	for _, i := range order {
		if err := out.AddTensor(tensors[i].Name, types[i], tensors[i].Dims); err != nil {
			return err
		}
	}
	if err := out.WriteHeader(); err != nil {
		return err
	}
	var x []float32
	var q []byte
	for _, i := range order {
		t := &src.Tensors[i]
		raw, err := src.Data(data, t)
		if err != nil {
			return err
		}
		x = floats(x, t.Type, raw)
		n := int(t.Dims[0])
		rb, err := RowBytes(types[i], n)
		if err != nil {
			return fmt.Errorf("%s: tensor %s: %w", src.Name, t.Name, err)
		}
		rows := len(x) / n
		if cap(q) < rows*rb {
			q = make([]byte, rows*rb)
		}
		q = q[:rows*rb]
		for r := range rows {
			if err := Row(types[i], q[r*rb:(r+1)*rb], x[r*n:(r+1)*n]); err != nil {
				return fmt.Errorf("%s: tensor %s row %d: %w", src.Name, t.Name, r, err)
			}
		}
		if err := out.WriteTensorData(q); err != nil {
			return err
		}
	}
	return out.Close()
}

// floats widens an F32, F16 or BF16 tensor's bytes to float32, in buf's storage
// when it is big enough.
func floats(buf []float32, t gguf.Type, raw []byte) []float32 {
	size := 4
	if t != gguf.F32 {
		size = 2
	}
	n := len(raw) / size
	if cap(buf) < n {
		buf = make([]float32, n)
	}
	buf = buf[:n]
	for j := range buf {
		switch t {
		case gguf.F32:
			buf[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		case gguf.F16:
			buf[j] = fp16ToF32(binary.LittleEndian.Uint16(raw[2*j:]))
		case gguf.BF16:
			buf[j] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(raw[2*j:])) << 16)
		}
	}
	return buf
}
