package llama

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"

	"github.com/inferpi/inferpi/engine/kernels"
)

// WriteModel writes a model.bin for cfg with weights in enc: llama2.c's legacy
// layout for fp32 and fp16 (run.c reads the fp32 one), InferPi's container for
// bf16 and the block encodings (format.go). values returns each tensor's Floats() weights,
// matrices [out][in] row-major, all Count of them one after the other; it is
// called once per tensor in llama2.c's order. For the freq_cis tables (legacy
// layout only) it may return nil: they are then computed as llama2.c's export
// writes them. The converter and synthetic models use it. It returns the bytes
// written.
func WriteModel(w io.Writer, cfg Config, enc kernels.Encoding, values func(Tensor) ([]float32, error)) (int64, error) {
	if !enc.Valid() {
		return 0, fmt.Errorf("llama: a model.bin cannot hold weights in %v", enc)
	}
	// The reader's checks, so nothing is written that would not load.
	if _, err := configFrom(cfg.AppendBinary(nil)); err != nil {
		return 0, err
	}
	return writeLayout(w, cfg, cfg.layoutFor(enc), values)
}

// writeLayout writes a model.bin laid out as l (WriteModel's work).
func writeLayout(w io.Writer, cfg Config, l Layout, values func(Tensor) ([]float32, error)) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var head []byte
	if l.Container {
		head = appendContainerHeader(nil, cfg, l)
	} else {
		head = cfg.AppendBinary(nil)
	}
	bw.Write(head)
	off := int64(len(head))
	for _, t := range l.Tensors {
		v, err := values(t.Tensor)
		if err != nil {
			return 0, err
		}
		if v == nil && t.isRopeTable() {
			v = ropeTable(cfg, t.Name == "freq_cis_imag")
		}
		if int64(len(v)) != t.Floats() {
			return 0, fmt.Errorf("%s: %d values for %d matrices of %dx%d", t.Name, len(v), t.Count, t.Rows, t.Cols)
		}
		bw.Write(make([]byte, t.Offset-off)) // container alignment padding
		row := make([]byte, t.Enc.RowBytes(t.Cols))
		for r := 0; r < t.Count*t.Rows; r++ {
			if err := kernels.EncodeRow(t.Enc, row, v[r*t.Cols:(r+1)*t.Cols]); err != nil {
				return 0, fmt.Errorf("%s row %d: %v", t.Name, r, err)
			}
			bw.Write(row)
		}
		off = t.Offset + t.Bytes
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if off != l.Size {
		return 0, fmt.Errorf("internal error: wrote %d bytes, the layout says %d", off, l.Size)
	}
	return l.Size, nil
}

// ropeTable is a freq_cis table as llama2.c's export writes it (model.py's
// precompute_freqs_cis with theta 10000): entry [pos][j] is cos (or sin) of
// pos * 10000^(-2j/head_size). run.c and InferPi never read it; it is there
// because the legacy layout has room for it.
func ropeTable(cfg Config, sin bool) []float32 {
	hs := cfg.HeadSize()
	out := make([]float32, 0, cfg.SeqLen*hs/2)
	for pos := 0; pos < cfg.SeqLen; pos++ {
		for j := 0; j < hs/2; j++ {
			freq := float32(1 / math.Pow(10000, float64(2*j)/float64(hs)))
			a := float64(float32(pos) * freq)
			if sin {
				out = append(out, float32(math.Sin(a)))
			} else {
				out = append(out, float32(math.Cos(a)))
			}
		}
	}
	return out
}

// Convert re-encodes a model.bin (legacy fp32 or fp16, or the container) in enc,
// laid out as WriteModel does for enc. Every tensor is widened to float32 first,
// so converting cannot restore precision: from fp16 or a quantized file the
// result carries that file's rounding too (callers warn about re-quantizing).
// A legacy file's freq_cis tables are carried over; from a container they are
// computed.
func Convert(src []byte, enc kernels.Encoding) ([]byte, error) {
	cfg, from, err := ParseModel(src)
	if err != nil {
		return nil, err
	}
	placed := map[string]Placed{}
	for _, t := range from.Tensors {
		placed[t.Name] = t
	}
	var b bytes.Buffer
	b.Grow(int(cfg.layoutFor(enc).Size))
	_, err = WriteModel(&b, cfg, enc, func(t Tensor) ([]float32, error) {
		p, ok := placed[t.Name]
		if !ok {
			return nil, nil // a freq_cis table a container does not hold
		}
		return decodeTensor(src, p), nil
	})
	if err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	return b.Bytes(), nil
}

// decodeTensor widens a placed tensor of a checked file to float32.
func decodeTensor(data []byte, p Placed) []float32 {
	v := make([]float32, p.Floats())
	kernels.DecodeRow(p.Enc, data[p.Offset:p.Offset+p.Bytes], v) // its rows, back to back
	return v
}

// ConvertFP16 turns an fp32 llama2.c model.bin into InferPi's fp16 format: the
// same 28-byte header, then every float of the fp32 layout (freq_cis tables
// included) rounded to IEEE binary16, nearest-even, little-endian.
func ConvertFP16(src []byte) ([]byte, error) {
	_, l, err := ParseModel(src)
	if err != nil {
		return nil, err
	}
	if l.Container || l.Enc != kernels.F32 {
		return nil, fmt.Errorf("model.bin: weights are already %v; conversion needs an fp32 file", l.Enc)
	}
	return Convert(src, kernels.F16)
}
