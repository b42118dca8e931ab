package gpt

import (
	"bytes"
	"fmt"

	"github.com/inferpi/inferpi/engine/kernels"
)

// Reencode returns the model.bin src with its matrices and embeddings stored in
// enc (`inferpi convert model --dtype`): every tensor is widened to float32 and
// encoded again with WriteModel, so the narrow-width rule and the fp32 lambdas
// hold as in a fresh export. Re-encoding cannot restore precision: from fp16 or
// a quantized file the result carries that file's rounding too.
func Reencode(src []byte, enc kernels.Encoding) ([]byte, error) {
	h, err := ParseHeader(src)
	if err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	specs, size, err := h.Layout()
	if err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	if int64(len(src)) != size {
		return nil, fmt.Errorf("model.bin: file is %d bytes, the header's layout needs exactly %d", len(src), size)
	}
	code, err := EncodingOf(enc)
	if err != nil {
		return nil, err
	}
	out := *h
	out.MatrixEnc, out.EmbedEnc = code, code
	next := 0
	values := func(s TensorSpec) ([]float32, error) {
		from := specs[next]
		next++
		if from.Name != s.Name || from.Rows != s.Rows || from.Cols != s.Cols {
			return nil, fmt.Errorf("internal error: tensor %s of the new layout meets %s", s.Name, from.Name)
		}
		return decodeTensor(src, from)
	}
	var b bytes.Buffer
	b.Grow(int(size))
	if _, err := WriteModel(&b, &out, values); err != nil {
		return nil, fmt.Errorf("model.bin: %w", err)
	}
	return b.Bytes(), nil
}

// decodeTensor widens one stored tensor of data to float32, row-major.
func decodeTensor(data []byte, s TensorSpec) ([]float32, error) {
	enc, err := s.Enc.kernel()
	if err != nil {
		return nil, err
	}
	// The file's bytes are decoded as they are: a Matrix would rearrange them.
	need, err := enc.MatrixBytes(s.Rows, s.Cols)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.Name, err)
	}
	if int64(need) != s.Size {
		return nil, fmt.Errorf("%s: %dx%d %v tensor needs %d bytes, has %d", s.Name, s.Rows, s.Cols, enc, need, s.Size)
	}
	v := make([]float32, s.Rows*s.Cols)
	kernels.DecodeRow(enc, data[s.Offset:s.Offset+s.Size], v) // its rows, back to back
	return v, nil
}
